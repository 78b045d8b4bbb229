//! The summary's whole days from the counters the database keeps
//! (`case_daily_counts`, `deadline_daily_counts`: triggers update them in
//! the transaction of every case and deadline change; migration
//! `m20261205_000020_daily_counts`). A period's partial days at its edges
//! are counted from the cases themselves (`figures`), so the answer is
//! the same as a recount, at a cost that no longer grows with the cases.
use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use sea_orm::{
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement},
    ConnectionTrait, DatabaseConnection,
};

use super::figures::CaseCount;
use crate::error::Result;

/// The whole Beijing days (UTC+8 all year) of a period: `first` to the
/// day before `end`, and the UTC instants where they begin and end.
pub struct Days {
    first: String,
    end: String,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
}

fn beijing() -> Option<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
}

fn midnight(day: NaiveDate, off: FixedOffset) -> Option<DateTime<Utc>> {
    day.and_time(NaiveTime::MIN)
        .and_local_timezone(off)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// The whole days within `[from, to)`, or None when not one fits.
pub fn whole_days(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<Days> {
    let off = beijing()?;
    let local = from.with_timezone(&off);
    let mut first = local.date_naive();
    if local.time() != NaiveTime::MIN {
        first = first.succ_opt()?;
    }
    let end = to.with_timezone(&off).date_naive();
    if first >= end {
        return None;
    }
    Some(Days {
        first: first.format("%Y-%m-%d").to_string(),
        end: end.format("%Y-%m-%d").to_string(),
        start_at: midnight(first, off)?,
        end_at: midnight(end, off)?,
    })
}

fn select(table: &str, days: &Days, prefixes: &[String]) -> SelectStatement {
    let mut q = Query::select();
    q.from(Alias::new(table))
        .and_where(Expr::col(Alias::new("day")).gte(days.first.as_str()))
        .and_where(Expr::col(Alias::new("day")).lt(days.end.as_str()));
    for p in prefixes {
        q.and_where(Expr::col(Alias::new("region_code")).like(format!("{p}%")));
    }
    q
}

async fn rows(conn: &DatabaseConnection, q: &SelectStatement) -> Result<Vec<sea_orm::QueryResult>> {
    let backend = conn.get_database_backend();
    Ok(conn.query_all_raw(backend.build(q)).await?)
}

fn count(row: &sea_orm::QueryResult, col: &str) -> Result<u64> {
    let n: i64 = row.try_get("", col)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Cases of the whole days whose region starts with every prefix.
pub async fn case_counts(
    conn: &DatabaseConnection,
    days: &Days,
    prefixes: &[String],
) -> Result<Vec<CaseCount>> {
    let mut q = select("case_daily_counts", days, prefixes);
    for c in ["category", "status", "unit_id", "overdue"] {
        q.column(Alias::new(c)).group_by_col(Alias::new(c));
    }
    q.expr_as(Expr::cust("CAST(SUM(n) AS BIGINT)"), Alias::new("n"));
    let mut out = Vec::new();
    for r in rows(conn, &q).await? {
        let n = count(&r, "n")?;
        if n == 0 {
            continue;
        }
        let unit: uuid::Uuid = r.try_get("", "unit_id")?;
        out.push(CaseCount {
            category: r.try_get("", "category")?,
            status: r.try_get("", "status")?,
            unit: (!unit.is_nil()).then_some(unit),
            overdue: r.try_get("", "overdue")?,
            n,
        });
    }
    Ok(out)
}

/// Met and missed per deadline kind of the whole days' cases, added to
/// `kinds`.
pub async fn deadline_counts(
    conn: &DatabaseConnection,
    days: &Days,
    prefixes: &[String],
    kinds: &mut BTreeMap<String, (u64, u64)>,
) -> Result<()> {
    let mut q = select("deadline_daily_counts", days, prefixes);
    q.column(Alias::new("kind"))
        .expr_as(Expr::cust("CAST(SUM(met) AS BIGINT)"), Alias::new("met"))
        .expr_as(
            Expr::cust("CAST(SUM(missed) AS BIGINT)"),
            Alias::new("missed"),
        )
        .group_by_col(Alias::new("kind"));
    for r in rows(conn, &q).await? {
        let kind: String = r.try_get("", "kind")?;
        if !crate::cases::clocks::counts_in_figures(&kind) {
            continue;
        }
        let entry = kinds.entry(kind).or_insert((0, 0));
        entry.0 += count(&r, "met")?;
        entry.1 += count(&r, "missed")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    #[test]
    fn whole_beijing_days() {
        // Beijing midnight to Beijing midnight: all whole.
        let d = whole_days(at("2026-11-30T16:00:00Z"), at("2026-12-02T16:00:00Z")).unwrap();
        assert_eq!(
            (d.first.as_str(), d.end.as_str()),
            ("2026-12-01", "2026-12-03")
        );
        assert_eq!(d.start_at, at("2026-11-30T16:00:00Z"));
        assert_eq!(d.end_at, at("2026-12-02T16:00:00Z"));
        // Partial edges on both sides.
        let d = whole_days(at("2026-11-30T17:00:00Z"), at("2026-12-03T01:00:00Z")).unwrap();
        assert_eq!(
            (d.first.as_str(), d.end.as_str()),
            ("2026-12-02", "2026-12-03")
        );
        assert_eq!(d.start_at, at("2026-12-01T16:00:00Z"));
        // Less than a whole day.
        assert!(whole_days(at("2026-11-30T17:00:00Z"), at("2026-12-01T17:00:00Z")).is_none());
    }
}
