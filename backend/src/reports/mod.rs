//! Supervisor figures: cases by category, status and unit; the share of
//! deadlines met; the median time to acknowledge an escalation; and the
//! case export. Scoped like case lists: a supervisor sees her region.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::{
    auth::Principal,
    cases::scope,
    db::entities::{case, deadline, escalation, unit},
    error::{Error, Result},
    regions,
    state::AppState,
    vocab::Role,
};

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct ReportQuery {
    /// Start of the period (inclusive, RFC 3339); default 30 days ago.
    pub from: Option<DateTime<Utc>>,
    /// End of the period (exclusive); default now.
    pub to: Option<DateTime<Utc>>,
    /// Narrow to a region (must lie within the supervisor's own).
    pub region_code: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitCount {
    pub unit_id: Option<uuid::Uuid>,
    pub unit_name: String,
    pub count: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadlineShare {
    pub met: u64,
    pub missed: u64,
    /// met / (met + missed), or null when nothing fell due.
    pub share_met: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub region_code: Option<String>,
    pub total: u64,
    pub by_category: BTreeMap<String, u64>,
    pub by_status: BTreeMap<String, u64>,
    pub by_unit: Vec<UnitCount>,
    pub overdue: u64,
    pub escalations: u64,
    pub deadlines: DeadlineShare,
    pub deadlines_by_kind: BTreeMap<String, DeadlineShare>,
    /// Median seconds from escalation to acknowledgement, overall and by
    /// urgency.
    pub median_seconds_to_acknowledge: Option<i64>,
    pub median_seconds_to_acknowledge_by_urgency: BTreeMap<String, i64>,
}

struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    cond: Condition,
    region: Option<String>,
}

/// Report periods lie within these years…
const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2100;
/// …and span at most 5 years (with their leap days).
const MAX_DAYS: i64 = 5 * 365 + 2;

fn period(state: &AppState, p: &Principal, q: &ReportQuery) -> Result<Period> {
    p.require(&[Role::Supervisor, Role::Admin])?;
    let now = state.now();
    // Dates far outside any report (year -262143) overflowed the date
    // arithmetic below: a panic instead of an answer.
    for (field, value) in [("from", q.from), ("to", q.to)] {
        if let Some(v) = value {
            if !(MIN_YEAR..=MAX_YEAR).contains(&v.year()) {
                return Err(Error::validation(
                    field,
                    format!("must lie in the years {MIN_YEAR} to {MAX_YEAR}"),
                ));
            }
        }
    }
    let to = q.to.unwrap_or(now);
    let from = match q.from {
        Some(f) => f,
        None => to
            .checked_sub_signed(Duration::days(30))
            .ok_or_else(|| Error::validation("to", "is out of range"))?,
    };
    if from >= to {
        return Err(Error::validation("from", "must be before `to`"));
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(Error::validation("from", "a report covers at most 5 years"));
    }
    let mut cond = scope::list_condition(p)
        .add(case::Column::CreatedAt.gte(from))
        .add(case::Column::CreatedAt.lt(to));
    let region = match q.region_code.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => {
            let code = regions::parse_field("region_code", r)?;
            cond = cond.add(case::Column::RegionCode.starts_with(code.prefix()));
            Some(code.as_str().to_string())
        }
        None => None,
    };
    Ok(Period {
        from,
        to,
        cond,
        region,
    })
}

fn share(met: u64, missed: u64) -> DeadlineShare {
    DeadlineShare {
        met,
        missed,
        share_met: (met + missed > 0).then(|| met as f64 / (met + missed) as f64),
    }
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

pub async fn summary(state: &AppState, p: &Principal, q: ReportQuery) -> Result<Summary> {
    let per = period(state, p, &q)?;
    let conn = &state.db.conn;
    let now = state.now();
    let cases = case::Entity::find()
        .filter(per.cond.clone())
        .all(conn)
        .await?;
    let units: BTreeMap<uuid::Uuid, String> = unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut by_category = BTreeMap::new();
    let mut by_status = BTreeMap::new();
    let mut by_unit: BTreeMap<Option<uuid::Uuid>, u64> = BTreeMap::new();
    for c in &cases {
        *by_category
            .entry(c.category.as_str().to_string())
            .or_insert(0) += 1;
        *by_status.entry(c.status.as_str().to_string()).or_insert(0) += 1;
        *by_unit.entry(c.assigned_unit_id).or_insert(0) += 1;
    }
    let ids: Vec<uuid::Uuid> = cases.iter().map(|c| c.id).collect();
    let (escalations, deadlines) = escalations_and_deadlines(conn, &ids, now).await?;
    let kinds = deadline_figures(&deadlines);
    let (met, missed) = kinds.values().fold((0, 0), |(a, b), (m, x)| (a + m, b + x));
    let (ack_all, ack_by) = times_to_acknowledge(&escalations);
    Ok(Summary {
        from: per.from,
        to: per.to,
        region_code: per.region,
        total: cases.len() as u64,
        by_category,
        by_status,
        by_unit: by_unit
            .into_iter()
            .map(|(id, count)| UnitCount {
                unit_id: id,
                unit_name: id
                    .and_then(|i| units.get(&i).cloned())
                    .unwrap_or_else(|| "—".into()),
                count,
            })
            .collect(),
        overdue: cases.iter().filter(|c| c.overdue).count() as u64,
        escalations: escalations.len() as u64,
        deadlines: share(met, missed),
        deadlines_by_kind: kinds
            .into_iter()
            .map(|(k, (m, x))| (k, share(m, x)))
            .collect(),
        median_seconds_to_acknowledge: median(ack_all),
        median_seconds_to_acknowledge_by_urgency: ack_by
            .into_iter()
            .filter_map(|(k, v)| median(v).map(|m| (k, m)))
            .collect(),
    })
}

/// The escalations of `ids` and the deadlines (of the cases and their
/// escalations) due by `now` or met before it, read in chunks of 500.
async fn escalations_and_deadlines(
    conn: &sea_orm::DatabaseConnection,
    ids: &[uuid::Uuid],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<escalation::Model>, Vec<deadline::Model>)> {
    let mut escalations = Vec::new();
    let mut deadlines = Vec::new();
    for chunk in ids.chunks(500) {
        let esc = escalation::Entity::find()
            .filter(escalation::Column::CaseId.is_in(chunk.to_vec()))
            .all(conn)
            .await?;
        let mut subjects: Vec<uuid::Uuid> = chunk.to_vec();
        subjects.extend(esc.iter().map(|e| e.id));
        for sub in subjects.chunks(500) {
            deadlines.extend(
                // Due by now, or met already (cancelled before its time):
                // "on time" counts a deadline as soon as it is met.
                deadline::Entity::find()
                    .filter(deadline::Column::SubjectId.is_in(sub.to_vec()))
                    .filter(
                        sea_orm::Condition::any()
                            .add(deadline::Column::DueAt.lte(now))
                            .add(deadline::Column::CancelledAt.is_not_null()),
                    )
                    .all(conn)
                    .await?,
            );
        }
        escalations.extend(esc);
    }
    Ok((escalations, deadlines))
}

/// Met and missed per deadline kind. A deadline is met when its condition
/// was satisfied (the row was cancelled) by its due time; missed when it
/// fired. Reminders after a miss and the parties' confirmation window are
/// not counted.
fn deadline_figures(deadlines: &[deadline::Model]) -> BTreeMap<String, (u64, u64)> {
    let mut kinds: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for d in deadlines
        .iter()
        .filter(|d| crate::cases::clocks::counts_in_figures(&d.kind))
    {
        let entry = kinds.entry(d.kind.clone()).or_insert((0, 0));
        if d.fired_at.is_some() {
            entry.1 += 1;
        } else if d.cancelled_at.is_some_and(|c| c <= d.due_at) {
            entry.0 += 1;
        }
    }
    kinds
}

/// Seconds from opening to acknowledgement, all and by urgency.
fn times_to_acknowledge(
    escalations: &[escalation::Model],
) -> (Vec<i64>, BTreeMap<String, Vec<i64>>) {
    let mut all = Vec::new();
    let mut by: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for e in escalations {
        if let Some(at) = e.acknowledged_at {
            let s = (at - e.created_at).num_seconds();
            all.push(s);
            by.entry(e.urgency.as_str().to_string())
                .or_default()
                .push(s);
        }
    }
    (all, by)
}

fn csv_field(s: &str) -> String {
    // Quote everything and neutralise spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The cases of the period as CSV: numbers, categories, places, units,
/// status and dates — no names, phone or ID numbers, no stories.
pub async fn cases_csv(state: &AppState, p: &Principal, q: ReportQuery) -> Result<String> {
    let per = period(state, p, &q)?;
    let conn = &state.db.conn;
    let units: BTreeMap<uuid::Uuid, String> = unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let cases = case::Entity::find()
        .filter(per.cond)
        .order_by_asc(case::Column::CreatedAt)
        .all(conn)
        .await?;
    let mut out = String::from("\u{feff}number,created_at,category,status,priority,risk_level,region_code,unit,overdue,resolved_at,closed_at\r\n");
    for c in cases {
        let fields = [
            c.number.clone(),
            c.created_at.to_rfc3339(),
            c.category.as_str().to_string(),
            c.status.as_str().to_string(),
            c.priority.as_str().to_string(),
            c.risk_level.as_str().to_string(),
            c.region_code.clone(),
            c.assigned_unit_id
                .and_then(|u| units.get(&u).cloned())
                .unwrap_or_default(),
            c.overdue.to_string(),
            c.resolved_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            c.closed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_csv_quoting() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=cmd"), "\"'=cmd\"");
    }
}
