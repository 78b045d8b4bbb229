//! The supervisors' daily digest: for each supervisor, the open, overdue
//! and escalated cases of their region by unit — case numbers and counts
//! only, never names or stories (DESIGN.md, privacy). Run by `jobs`.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset, Offset, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    db::entities::{case, escalation, unit, user},
    error::Result,
    notify::{self, Mail},
    regions::RegionCode,
    state::AppState,
    vocab::Role,
};

/// Statuses of a case that still needs work.
const CLOSED_STATUSES: [&str; 2] = ["resolved", "closed"];
/// Escalations still running.
const ACTIVE_ESCALATION: [&str; 2] = ["pending", "acknowledged"];
/// Case numbers listed per unit and kind before "and N more".
const LIST_MAX: usize = 20;

#[derive(Debug, Clone)]
struct CaseLine {
    number: String,
    unit_id: Option<Uuid>,
    region_code: String,
    open: bool,
    overdue: bool,
    escalated: bool,
}

#[derive(Default)]
struct UnitCounts {
    open: usize,
    overdue: Vec<String>,
    escalated: Vec<String>,
}

/// Mail each supervisor the figures of their unit's region and below:
/// open, overdue and escalated cases by unit. Case numbers and counts
/// only — never names or stories (DESIGN.md, privacy).
pub async fn digest(state: &AppState, now: DateTime<Utc>) -> Result<String> {
    let conn = &state.db.conn;
    let supervisors = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Supervisor.as_str()))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Email.is_not_null())
        .filter(user::Column::UnitId.is_not_null())
        .all(conn)
        .await?;
    if supervisors.is_empty() {
        return Ok("no supervisors with an email address".into());
    }
    let cases = digest_cases(conn).await?;
    let mut unit_ids: HashSet<Uuid> = cases.iter().filter_map(|c| c.unit_id).collect();
    unit_ids.extend(supervisors.iter().filter_map(|s| s.unit_id));
    let units = units_by_id(conn, unit_ids).await?;

    let local = now.with_timezone(&china_offset());
    let date = local.format("%Y-%m-%d").to_string();
    let mut mails = Vec::new();
    for sup in &supervisors {
        let (Some(email), Some(unit_id)) = (sup.email.as_deref(), sup.unit_id) else {
            continue;
        };
        let Some(home) = units.get(&unit_id) else {
            continue;
        };
        let Some(region) = RegionCode::parse(&home.region_code) else {
            continue;
        };
        let prefix = region.prefix();
        let mine: Vec<&CaseLine> = cases
            .iter()
            .filter(|c| c.region_code.starts_with(prefix))
            .collect();
        mails.push(digest_mail(state, email, &date, home, &mine, &units));
    }
    let n = mails.len();
    if n > 0 {
        let txn = state.db.begin_write().await?;
        notify::enqueue(&*txn, now, mails).await?;
        txn.commit().await?;
        state.mail_wake.notify_one();
    }
    Ok(format!("{n} digest mail(s) queued"))
}

fn china_offset() -> FixedOffset {
    // UTC+8 is always in range; UTC is the fallback that cannot fail.
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

/// Open cases, plus any case with a running escalation.
async fn digest_cases(conn: &impl ConnectionTrait) -> Result<Vec<CaseLine>> {
    type Row = (Uuid, String, Option<Uuid>, String, bool, String);
    let columns = [
        case::Column::Id,
        case::Column::Number,
        case::Column::AssignedUnitId,
        case::Column::RegionCode,
        case::Column::Overdue,
        case::Column::Status,
    ];
    let escalated: HashSet<Uuid> = escalation::Entity::find()
        .select_only()
        .column(escalation::Column::CaseId)
        .filter(escalation::Column::Status.is_in(ACTIVE_ESCALATION))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut rows: Vec<Row> = case::Entity::find()
        .select_only()
        .columns(columns)
        .filter(case::Column::Status.is_not_in(CLOSED_STATUSES))
        .into_tuple::<Row>()
        .all(conn)
        .await?;
    let seen: HashSet<Uuid> = rows.iter().map(|r| r.0).collect();
    let missing: Vec<Uuid> = escalated
        .iter()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    for chunk in missing.chunks(500) {
        rows.extend(
            case::Entity::find()
                .select_only()
                .columns(columns)
                .filter(case::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple::<Row>()
                .all(conn)
                .await?,
        );
    }
    let mut lines: Vec<CaseLine> = rows
        .into_iter()
        .map(|(id, number, unit_id, region_code, overdue, status)| {
            let open = !CLOSED_STATUSES.contains(&status.as_str());
            CaseLine {
                number,
                unit_id,
                region_code,
                open,
                overdue: open && overdue,
                escalated: escalated.contains(&id),
            }
        })
        .collect();
    lines.sort_by(|a, b| a.number.cmp(&b.number));
    Ok(lines)
}

async fn units_by_id(
    conn: &impl ConnectionTrait,
    ids: HashSet<Uuid>,
) -> Result<HashMap<Uuid, unit::Model>> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for u in unit::Entity::find()
            .filter(unit::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            out.insert(u.id, u);
        }
    }
    Ok(out)
}

fn digest_mail(
    state: &AppState,
    email: &str,
    date: &str,
    home: &unit::Model,
    cases: &[&CaseLine],
    units: &HashMap<Uuid, unit::Model>,
) -> Mail {
    let mut by_unit: BTreeMap<String, UnitCounts> = BTreeMap::new();
    let (mut open, mut overdue, mut escalated) = (0, 0, 0);
    for c in cases {
        let label = match c.unit_id.and_then(|id| units.get(&id)) {
            Some(u) => u.name.clone(),
            None => "未分派（热线中心待派）".to_string(),
        };
        let counts = by_unit.entry(label).or_default();
        if c.open {
            counts.open += 1;
            open += 1;
        }
        if c.overdue {
            counts.overdue.push(c.number.clone());
            overdue += 1;
        }
        if c.escalated {
            counts.escalated.push(c.number.clone());
            escalated += 1;
        }
    }
    let base = state.settings.public_url.trim_end_matches('/');
    let mut body = format!(
        "连心 12338 每日汇总（{date}）\n辖区：{}（{}）\n\n\
         合计：在办 {open} 件，逾期 {overdue} 件，升级处置中 {escalated} 件。\n",
        home.name, home.region_code
    );
    if by_unit.is_empty() {
        body.push_str("\n辖区内暂无在办案件。\n");
    } else {
        body.push_str("\n按单位：\n");
        for (label, c) in &by_unit {
            body.push_str(&format!(
                "- {label}：在办 {}，逾期 {}，升级 {}\n",
                c.open,
                c.overdue.len(),
                c.escalated.len()
            ));
            if !c.overdue.is_empty() {
                body.push_str(&format!("  逾期案件：{}\n", number_list(&c.overdue)));
            }
            if !c.escalated.is_empty() {
                body.push_str(&format!("  升级案件：{}\n", number_list(&c.escalated)));
            }
        }
    }
    body.push_str(&format!(
        "\n逾期案件：{base}/#/cases?overdue=true\n\
         本邮件只含案件编号与数量；详情请登录连心系统查看。\n"
    ));
    Mail {
        recipient: email.to_string(),
        subject: format!(
            "连心 12338 每日汇总 {date}：在办 {open}，逾期 {overdue}，升级 {escalated}"
        ),
        body,
    }
}

fn number_list(numbers: &[String]) -> String {
    let shown = numbers
        .iter()
        .take(LIST_MAX)
        .cloned()
        .collect::<Vec<_>>()
        .join("、");
    if numbers.len() > LIST_MAX {
        format!("{shown} 等 {} 件", numbers.len())
    } else {
        shown
    }
}
