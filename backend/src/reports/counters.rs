//! The summary's whole days from the counters the database keeps
//! (`report_counts`: per Beijing day and region code of the case — its
//! village, as a rule — the marginal counts by category, status, unit,
//! overdue and deadline kind; migrations `m20261206_000021_region_counts`,
//! `m20261207_000022_village_counts`). SQLite's triggers update them in
//! the transaction of every case and deadline change; PostgreSQL's
//! triggers append `report_count_deltas`, which `fold` adds into the
//! counters (one folder at a time, under an advisory lock) and which a
//! reader adds to the counters in the same statement. A period's partial
//! days at its edges are counted from the cases themselves (`figures`),
//! so the answer is the same as a recount, at a cost that no longer grows
//! with the cases.
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};

use super::Tally;
use crate::{db::Db, error::Result, shutdown::Shutdown};
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

/// Region prefixes the counters can answer: any up to a whole village
/// code (12 digits), digits only (they are written into the statement).
pub fn countable(prefixes: &[String]) -> bool {
    prefixes
        .iter()
        .all(|p| p.len() <= 12 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn rows_of(table: &str, days: &Days, prefixes: &[String]) -> String {
    let mut sql = format!(
        "SELECT dim, value, n FROM {table} WHERE day >= '{}' AND day < '{}'",
        days.first, days.end
    );
    for p in prefixes.iter().filter(|p| !p.is_empty()) {
        sql.push_str(&format!(" AND region_code LIKE '{p}%'"));
    }
    sql
}

/// Adds the whole days of the cases whose region starts with every
/// prefix (`countable`) to `tally`: counters and pending deltas in one
/// statement.
pub async fn read(
    conn: &DatabaseConnection,
    days: &Days,
    prefixes: &[String],
    tally: &mut Tally,
) -> Result<()> {
    let sql = format!(
        "SELECT dim, value, CAST(SUM(n) AS BIGINT) AS n FROM ({} UNION ALL {}) x GROUP BY dim, value",
        rows_of("report_counts", days, prefixes),
        rows_of("report_count_deltas", days, prefixes)
    );
    let backend = conn.get_database_backend();
    for r in conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?
    {
        let n: i64 = r.try_get("", "n")?;
        let Ok(n) = u64::try_from(n) else { continue };
        let dim: String = r.try_get("", "dim")?;
        let value: String = r.try_get("", "value")?;
        tally.add_marginal(&dim, value, n);
    }
    Ok(())
}

/// The cluster-wide lock of the one folder ("LXRC").
const FOLD_LOCK: i64 = 0x4c58_5243;
const FOLD: &str =
    "WITH moved AS (DELETE FROM report_count_deltas RETURNING day, region_code, dim, value, n) \
    INSERT INTO report_counts (day, region_code, dim, value, n) \
    SELECT day, region_code, dim, value, SUM(n) FROM moved GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 \
    ON CONFLICT (day, region_code, dim, value) DO UPDATE SET n = report_counts.n + excluded.n";

/// PostgreSQL: adds the committed deltas into the counters, unless
/// another transaction is doing it (then nothing; false). Only this
/// statement updates counter rows, and only under the lock, so it cannot
/// deadlock with writers (they only insert deltas) or with another folder.
pub async fn fold(conn: &DatabaseConnection) -> Result<bool> {
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(false);
    }
    let backend = conn.get_database_backend();
    let txn = conn.begin().await?;
    let got = txn
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT pg_try_advisory_xact_lock({FOLD_LOCK}) AS got"),
        ))
        .await?
        .map(|r| r.try_get::<bool>("", "got"))
        .transpose()?
        .unwrap_or(false);
    if got {
        txn.execute_unprepared(FOLD).await?;
    }
    txn.commit().await?;
    Ok(got)
}

const FOLD_EVERY: Duration = Duration::from_secs(2);

/// A delta table larger than this on disk (emptied pages of a bulk load
/// or a migration's backfill, folded by any process or summary) is
/// vacuumed so that it gives its pages back.
const SHRINK_ABOVE_BYTES: i64 = 8 * 1024 * 1024;

/// PostgreSQL: folds the deltas every two seconds (every process runs
/// this; the advisory lock lets one at a time do it), then vacuums the
/// delta table: readers scan it whole, and the dead rows of the deltas
/// folded would otherwise stay until autovacuum came (measured: 500,000
/// folded deltas made every summary 250 ms slower). An ordinary vacuum
/// keeps the table's pages (`TRUNCATE false`: giving them back takes a
/// lock writers would wait on for a moment); when the table has grown
/// past [`SHRINK_ABOVE_BYTES`] it gives them back — the emptied pages of
/// 5,000,000 deltas (a million cases loaded at once) stayed in every
/// scan and made every summary ~250 ms slower for good (README, "Reports
/// at a million cases").
pub async fn run_folder(db: Db, mut shutdown: Shutdown) {
    if !db.is_postgres() {
        return;
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FOLD_EVERY) => {}
            _ = shutdown.wait() => return,
        }
        match fold(&db.conn).await {
            Ok(true) => {
                if let Err(e) = vacuum_deltas(&db.conn).await {
                    tracing::warn!(error = %e, "vacuuming report counter deltas");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "folding report counter deltas"),
        }
    }
}

async fn vacuum_deltas(conn: &DatabaseConnection) -> Result<()> {
    let backend = conn.get_database_backend();
    let bytes = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT pg_relation_size('report_count_deltas') AS bytes",
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "bytes"))
        .transpose()?
        .unwrap_or(0);
    let vacuum = if bytes > SHRINK_ABOVE_BYTES {
        "VACUUM report_count_deltas"
    } else {
        "VACUUM (TRUNCATE false) report_count_deltas"
    };
    conn.execute_unprepared(vacuum).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UTC instant from a literal; a bad literal is the Unix epoch,
    /// which no assertion below expects, so the test fails on it.
    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn counters_answer_every_level_down_to_a_village() {
        let p = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(countable(&p(&[])));
        assert!(countable(&p(&["45", "450321", "450321101"])));
        assert!(countable(&p(&["450321", "450321101201"])));
        assert!(!countable(&p(&["4503211012011"])));
        assert!(!countable(&p(&["450321' OR '1"])));
    }

    #[test]
    fn whole_beijing_days() -> Result<(), &'static str> {
        // Beijing midnight to Beijing midnight: all whole.
        let d = whole_days(at("2026-11-30T16:00:00Z"), at("2026-12-02T16:00:00Z"))
            .ok_or("two whole days")?;
        assert_eq!(
            (d.first.as_str(), d.end.as_str()),
            ("2026-12-01", "2026-12-03")
        );
        assert_eq!(d.start_at, at("2026-11-30T16:00:00Z"));
        assert_eq!(d.end_at, at("2026-12-02T16:00:00Z"));
        // Partial edges on both sides.
        let d = whole_days(at("2026-11-30T17:00:00Z"), at("2026-12-03T01:00:00Z"))
            .ok_or("one whole day")?;
        assert_eq!(
            (d.first.as_str(), d.end.as_str()),
            ("2026-12-02", "2026-12-03")
        );
        assert_eq!(d.start_at, at("2026-12-01T16:00:00Z"));
        // Less than a whole day.
        assert!(whole_days(at("2026-11-30T17:00:00Z"), at("2026-12-01T17:00:00Z")).is_none());
        Ok(())
    }
}
