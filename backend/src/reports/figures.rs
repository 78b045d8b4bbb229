//! The summary's figures as aggregates in the database: the cases of the
//! period are counted by the database (an index-only scan of
//! `cases_report`), never loaded; escalations and deadlines are joined to
//! those cases instead of being looked up by lists of case ids (at
//! 116,000 cases the `subject_id IN (…) OR IN (…)` chunks took 2–3.5 s).
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement},
    Condition, ConnectionTrait, DatabaseConnection, QueryResult,
};
use uuid::Uuid;

use crate::{
    db::entities::{case, deadline, escalation},
    error::Result,
};

/// Case counts of the period, one row per (category, status, unit,
/// overdue).
pub struct CaseCount {
    pub category: String,
    pub status: String,
    pub unit: Option<Uuid>,
    pub overdue: bool,
    pub n: u64,
}

async fn rows(conn: &DatabaseConnection, stmt: &SelectStatement) -> Result<Vec<QueryResult>> {
    let backend = conn.get_database_backend();
    Ok(conn.query_all_raw(backend.build(stmt)).await?)
}

fn count(row: &QueryResult, col: &str) -> Result<u64> {
    let n: i64 = row.try_get("", col)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub async fn case_counts(conn: &DatabaseConnection, cond: &Condition) -> Result<Vec<CaseCount>> {
    let cols = [
        case::Column::Category,
        case::Column::Status,
        case::Column::AssignedUnitId,
        case::Column::Overdue,
    ];
    let mut q = Query::select();
    q.from(case::Entity).cond_where(cond.clone());
    for c in cols {
        q.column((case::Entity, c)).group_by_col((case::Entity, c));
    }
    q.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"));
    rows(conn, &q)
        .await?
        .iter()
        .map(|r| {
            Ok(CaseCount {
                category: r.try_get("", "category")?,
                status: r.try_get("", "status")?,
                unit: r.try_get("", "assigned_unit_id")?,
                overdue: r.try_get("", "overdue")?,
                n: count(r, "n")?,
            })
        })
        .collect()
}

/// (urgency, seconds to acknowledge or None) of every escalation of the
/// period's cases. An escalation comes after its case, so only those
/// opened since `from` are read (`escalations_created`), each joined to
/// its case by id; SQLite is told this order (CROSS JOIN), which it
/// otherwise did not choose: it walked every case of the period.
pub async fn escalation_times(
    conn: &DatabaseConnection,
    cond: &Condition,
    from: DateTime<Utc>,
) -> Result<Vec<(String, Option<i64>)>> {
    let join = match conn.get_database_backend() {
        sea_orm::DbBackend::Sqlite => JoinType::CrossJoin,
        _ => JoinType::InnerJoin,
    };
    let mut q = Query::select();
    q.from(escalation::Entity)
        .join(
            join,
            case::Entity,
            Expr::col((escalation::Entity, escalation::Column::CaseId))
                .equals((case::Entity, case::Column::Id)),
        )
        .and_where(Expr::col((escalation::Entity, escalation::Column::CreatedAt)).gte(from))
        .column((escalation::Entity, escalation::Column::Urgency))
        .column((escalation::Entity, escalation::Column::CreatedAt))
        .column((escalation::Entity, escalation::Column::AcknowledgedAt))
        .cond_where(cond.clone());
    rows(conn, &q)
        .await?
        .iter()
        .map(|r| {
            let urgency: String = r.try_get("", "urgency")?;
            let created: DateTime<Utc> = r.try_get("", "created_at")?;
            let acked: Option<DateTime<Utc>> = r.try_get("", "acknowledged_at")?;
            Ok((urgency, acked.map(|a| (a - created).num_seconds())))
        })
        .collect()
}

/// Met and missed per deadline kind, for the deadlines due by `now` of the
/// period's cases and of their escalations. Met: cancelled (its condition
/// satisfied) by its due time; missed: fired.
pub async fn deadline_counts(
    conn: &DatabaseConnection,
    cond: &Condition,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, (u64, u64)>> {
    let mut kinds: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for through_escalation in [false, true] {
        let mut q = Query::select();
        q.from(deadline::Entity);
        if through_escalation {
            q.inner_join(
                escalation::Entity,
                Expr::col((deadline::Entity, deadline::Column::SubjectId))
                    .equals((escalation::Entity, escalation::Column::Id)),
            )
            .inner_join(
                case::Entity,
                Expr::col((escalation::Entity, escalation::Column::CaseId))
                    .equals((case::Entity, case::Column::Id)),
            );
        } else {
            q.inner_join(
                case::Entity,
                Expr::col((deadline::Entity, deadline::Column::SubjectId))
                    .equals((case::Entity, case::Column::Id)),
            );
        }
        q.column((deadline::Entity, deadline::Column::Kind))
            .expr_as(
                Expr::cust("SUM(CASE WHEN deadlines.fired_at IS NOT NULL THEN 1 ELSE 0 END)"),
                Alias::new("missed"),
            )
            .expr_as(
                Expr::cust(
                    "SUM(CASE WHEN deadlines.fired_at IS NULL AND deadlines.cancelled_at IS NOT NULL \
                     AND deadlines.cancelled_at <= deadlines.due_at THEN 1 ELSE 0 END)",
                ),
                Alias::new("met"),
            )
            .cond_where(cond.clone())
            // Due by now, or met already (cancelled before its time): "on
            // time" counts a deadline as soon as it is met (issue 19).
            .cond_where(
                sea_orm::Condition::any()
                    .add(Expr::col((deadline::Entity, deadline::Column::DueAt)).lte(now))
                    .add(Expr::col((deadline::Entity, deadline::Column::CancelledAt)).is_not_null()),
            )
            .group_by_col((deadline::Entity, deadline::Column::Kind));
        for r in rows(conn, &q).await? {
            let kind: String = r.try_get("", "kind")?;
            if !crate::cases::clocks::counts_in_figures(&kind) {
                continue;
            }
            let entry = kinds.entry(kind).or_insert((0, 0));
            entry.0 += count(&r, "met")?;
            entry.1 += count(&r, "missed")?;
        }
    }
    Ok(kinds)
}
