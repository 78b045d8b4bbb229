//! The weekly review mail (`jobs.ledger_reviews`, Mondays 09:00): every
//! rights station and civil-affairs unit with an address is told how many
//! persons of its region are due for their visit within the week, with a
//! link to its reminder list. Counts and a link, never names.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::entity::person;
use crate::{
    db::entities::unit, error::Result, notify::Mail, regions::RegionCode, state::AppState,
    vocab::UnitKind,
};

pub async fn weekly(state: &AppState, now: DateTime<Utc>) -> Result<String> {
    let conn = &state.db.conn;
    let until = now + Duration::days(7);
    let units = unit::Entity::find()
        .filter(unit::Column::Active.eq(true))
        .filter(unit::Column::Kind.is_in([UnitKind::RightsStation, UnitKind::CivilAffairs]))
        .all(conn)
        .await?;
    let mut mails = Vec::new();
    for u in units {
        let (Some(to), Some(region)) = (u.email, RegionCode::parse(&u.region_code)) else {
            continue;
        };
        if region.level() < 3 {
            continue;
        }
        let due = person::Entity::find()
            .filter(person::Column::VillageCode.starts_with(region.prefix()))
            .filter(person::Column::ReviewDueAt.lte(until))
            .count(conn)
            .await?;
        if due == 0 {
            continue;
        }
        let link = format!(
            "{}/#/ledger?review_due=true",
            state.settings.public_url.trim_end_matches('/')
        );
        mails.push(Mail {
            recipient: to,
            subject: format!(
                "【连心】本周台账回访提醒：{due} 人 · {due} ledger review(s) due this week"
            ),
            body: format!(
                "{}：本周（至 {}）有 {due} 位留守妇女到了回访时间，请安排走访并在系统中记录。\n\
                 {due} person(s) on the ledger of your region are due for their periodic visit \
                 this week; please visit and record it.\n\n{link}\n",
                u.name,
                crate::escalation::mail::beijing(until)
            ),
        });
    }
    let n = mails.len();
    let mut w = state.work_at(now).await?;
    w.mail(mails);
    w.commit().await?;
    Ok(format!("{n} review mail(s)"))
}
