//! Supervisor figures: cases by category, status and unit; the share of
//! deadlines met; the median time to acknowledge an escalation; and the
//! case export. Scoped like case lists: a supervisor sees her region.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait};
use serde::{Deserialize, Serialize};

mod counters;

pub use counters::run_folder;
mod csv;
mod figures;
mod tally;

use tally::Tally;

use crate::{
    auth::Principal,
    cases::scope,
    db::entities::{case, unit},
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
    /// The whole days read from the counters, with the region prefixes
    /// the reader is limited to, and the partial days at the edges
    /// (conditions on the cases). None: every case from the cases.
    counted: Option<(counters::Days, Vec<String>, Vec<Condition>)>,
}

/// The region prefixes a summary is limited to: none for an admin, her
/// region's for a supervisor (as `scope::list_condition`); None when the
/// reader sees nothing.
fn scope_prefixes(p: &Principal) -> Option<Vec<String>> {
    match p.role {
        Role::Admin => Some(Vec::new()),
        Role::Supervisor => p
            .unit
            .as_ref()
            .and_then(|u| regions::RegionCode::parse(&u.region_code))
            .map(|r| vec![r.prefix().to_string()]),
        _ => None,
    }
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
    let mut base = scope::list_condition(p);
    let mut prefixes = scope_prefixes(p);
    let region = match q.region_code.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => {
            let code = regions::parse_field("region_code", r)?;
            // A village is a whole code: equality, over `cases_region_report`
            // (the period's partial days at the edges).
            base = base.add(if code.prefix().len() == code.as_str().len() {
                case::Column::RegionCode.eq(code.as_str())
            } else {
                case::Column::RegionCode.starts_with(code.prefix())
            });
            if let Some(v) = prefixes.as_mut() {
                v.push(code.prefix().to_string());
            }
            Some(code.as_str().to_string())
        }
        None => None,
    };
    let between = |a: DateTime<Utc>, b: DateTime<Utc>| {
        base.clone()
            .add(case::Column::CreatedAt.gte(a))
            .add(case::Column::CreatedAt.lt(b))
    };
    // The counters are kept per village: every level reads them.
    let prefixes = prefixes.filter(|p| counters::countable(p));
    let counted = match (counters::whole_days(from, to), prefixes) {
        (Some(days), Some(prefixes)) => {
            let mut edges = Vec::new();
            if from < days.start_at {
                edges.push(between(from, days.start_at));
            }
            if days.end_at < to {
                edges.push(between(days.end_at, to));
            }
            Some((days, prefixes, edges))
        }
        _ => None,
    };
    Ok(Period {
        from,
        to,
        cond: between(from, to),
        region,
        counted,
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
    let mut tally = Tally::default();
    match &per.counted {
        Some((days, prefixes, edges)) => {
            if let Err(e) = counters::fold(conn).await {
                tracing::warn!(error = %e, "folding report counter deltas");
            }
            counters::read(conn, days, prefixes, &mut tally).await?;
            for edge in edges {
                tally.add_cases(&figures::case_counts(conn, edge).await?);
                tally.add_kinds(figures::deadline_counts(conn, edge, now).await?);
            }
        }
        None => {
            tally.add_cases(&figures::case_counts(conn, &per.cond).await?);
            tally.add_kinds(figures::deadline_counts(conn, &per.cond, now).await?);
        }
    }
    let units: BTreeMap<uuid::Uuid, String> = unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let escalations = figures::escalation_times(conn, &per.cond, per.from).await?;
    let Tally {
        by_category,
        by_status,
        by_unit,
        total,
        overdue,
        kinds,
    } = tally;
    let (met, missed) = kinds.values().fold((0, 0), |(a, b), (m, x)| (a + m, b + x));
    let (ack_all, ack_by) = times_to_acknowledge(&escalations);
    Ok(Summary {
        from: per.from,
        to: per.to,
        region_code: per.region,
        total,
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
        overdue,
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

/// Seconds from opening to acknowledgement, all and by urgency.
fn times_to_acknowledge(
    escalations: &[(String, Option<i64>)],
) -> (Vec<i64>, BTreeMap<String, Vec<i64>>) {
    let mut all = Vec::new();
    let mut by: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (urgency, secs) in escalations {
        if let Some(s) = *secs {
            all.push(s);
            by.entry(urgency.clone()).or_default().push(s);
        }
    }
    (all, by)
}

/// The cases of the period as a streamed CSV in Chinese (`csv`).
pub async fn cases_csv(
    state: &AppState,
    p: &Principal,
    q: ReportQuery,
) -> Result<impl futures_util::Stream<Item = std::io::Result<String>> + Send + 'static> {
    let per = period(state, p, &q)?;
    csv::stream(&state.db.conn, per.cond).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
    }
}
