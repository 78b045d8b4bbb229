//! Referral figures for supervisors: by kind and by receiving unit, how
//! many were sent, answered (replied or declined) and answered in time
//! (declined before the accept deadline, or accepted before it and replied
//! before the reply deadline), and the share answered in time.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::{entity::referral, scope};
use crate::{
    auth::Principal,
    db::entities::unit,
    error::{Error, Result},
    state::AppState,
    vocab::{ReferralStatus, Role},
};

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct ReferralReportQuery {
    /// Start (inclusive); default 30 days ago.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive); default now.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ReferralFigures {
    pub sent: u64,
    pub open: u64,
    pub answered: u64,
    pub answered_in_time: u64,
    pub overdue: u64,
    pub declined: u64,
    pub withdrawn: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KindFigures {
    pub kind: String,
    #[serde(flatten)]
    pub figures: ReferralFigures,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitFigures {
    pub unit_id: uuid::Uuid,
    pub unit_name: String,
    #[serde(flatten)]
    pub figures: ReferralFigures,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub total: ReferralFigures,
    pub by_kind: Vec<KindFigures>,
    pub by_unit: Vec<UnitFigures>,
    /// answered_in_time / answered (null when nothing was answered).
    pub answered_in_time_share: Option<f64>,
}

impl ReferralFigures {
    fn add(&mut self, r: &referral::Model, status: ReferralStatus) {
        self.sent += 1;
        self.open += u64::from(status.is_open());
        self.overdue += u64::from(r.overdue);
        self.withdrawn += u64::from(status == ReferralStatus::Withdrawn);
        let declined = status == ReferralStatus::Declined;
        self.declined += u64::from(declined);
        let decided_at = match &r.decline {
            Some(d) if declined => d
                .get("at")
                .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok()),
            _ => None,
        };
        let in_time = match (r.replied_at, decided_at) {
            (Some(at), _) => {
                r.accepted_at.is_some_and(|a| a <= r.accept_due_at)
                    && r.reply_due_at.is_some_and(|due| at <= due)
            }
            (None, Some(at)) => at <= r.accept_due_at,
            (None, None) => return,
        };
        self.answered += 1;
        self.answered_in_time += u64::from(in_time);
    }
}

pub async fn referrals(
    state: &AppState,
    p: &Principal,
    q: ReferralReportQuery,
) -> Result<ReferralReport> {
    p.require(&[Role::Supervisor, Role::Admin])?;
    let now = state.now();
    // Far-off dates would overflow the arithmetic below.
    for (field, value) in [("from", q.from), ("to", q.to)] {
        if value.is_some_and(|v| !(2000..=2100).contains(&v.year())) {
            return Err(Error::validation(
                field,
                "must lie in the years 2000 to 2100",
            ));
        }
    }
    let to = q.to.unwrap_or(now);
    let from = q.from.unwrap_or(to - Duration::days(30));
    if from >= to || to - from > Duration::days(5 * 366) {
        return Err(Error::validation(
            "from",
            "must lie before `to`, at most five years earlier",
        ));
    }
    let conn = &state.db.conn;
    let rows = referral::Entity::find()
        .filter(scope::list_condition(p))
        .filter(referral::Column::CreatedAt.gte(from))
        .filter(referral::Column::CreatedAt.lt(to))
        .all(conn)
        .await?;
    let names: BTreeMap<uuid::Uuid, String> = unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut total = ReferralFigures::default();
    let mut by_kind: BTreeMap<String, ReferralFigures> = BTreeMap::new();
    let mut by_unit: BTreeMap<uuid::Uuid, ReferralFigures> = BTreeMap::new();
    for r in &rows {
        let status = r.status;
        total.add(r, status);
        by_kind.entry(r.kind.clone()).or_default().add(r, status);
        by_unit.entry(r.to_unit_id).or_default().add(r, status);
    }
    let share = (total.answered > 0).then(|| total.answered_in_time as f64 / total.answered as f64);
    Ok(ReferralReport {
        from,
        to,
        answered_in_time_share: share,
        total,
        by_kind: by_kind
            .into_iter()
            .map(|(kind, figures)| KindFigures { kind, figures })
            .collect(),
        by_unit: by_unit
            .into_iter()
            .map(|(unit_id, figures)| UnitFigures {
                unit_id,
                unit_name: names.get(&unit_id).cloned().unwrap_or_default(),
                figures,
            })
            .collect(),
    })
}
