//! Report counters at a million cases on both engines (issue 20),
//! replacing `m20261205_000020_daily_counts` (its triggers and tables are
//! dropped here; `down` restores them).
//!
//! `report_counts (day, region_code, dim, value) → n`: per Beijing day of
//! a case's `created_at` and per **township** (the case's region cut to 9
//! digits + "000"), the summary's marginal counts — `category`, `status`,
//! `unit` (assigned unit as text, '' for none) and `overdue` (value '')
//! of the cases, and `met`, `missed`, `settled` (fired or cancelled) per
//! deadline kind of the cases' and their escalations' deadlines. The
//! summary needs only these marginals, so a day of a township is a few
//! dozen rows however many cases it has (the daily counters keyed by the
//! whole tuple and the village had nearly one row per case), and a
//! status change touches two rows, not the tuple's.
//!
//! Who writes the counter rows:
//! - **SQLite**: triggers upsert `report_counts` in the transaction of
//!   every case and deadline change. SQLite has one writer at a time, so
//!   these updates cannot deadlock.
//! - **PostgreSQL**: the triggers only INSERT delta rows into
//!   `report_count_deltas` (no key, no unique index, never updated), so a
//!   writer takes no lock another writer waits for. Deltas are folded
//!   into `report_counts` by one statement (DELETE … RETURNING, grouped,
//!   ordered by key, INSERT … ON CONFLICT add) in a transaction that first
//!   takes `pg_try_advisory_xact_lock` and skips when another holds it:
//!   only one transaction in the whole cluster ever updates counter rows
//!   or deletes deltas at a time, so no cycle of lock waits can form (the
//!   earlier triggers deadlocked because concurrent transactions updated
//!   shared counter rows in different orders). Readers add the pending
//!   deltas to the counters in one statement (one snapshot; the fold
//!   commits its DELETE and its UPDATEs together), so a reader never sees
//!   a delta twice or not at all.
//!
//! The migration backfills `report_counts` from the cases and deadlines.
//! A summary narrowed to a village counts from the cases: the index
//! `cases_region` (region_code) becomes `cases_region_report` (region_code,
//! created_at, then the counted columns), so that count reads only the
//! village's period from the index. `escalations_created` lets the
//! summary read only the escalations opened since the period began.
use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000021_region_counts"
    }
}

const TABLES: &str = r#"
CREATE TABLE report_counts (
    day VARCHAR(10) NOT NULL,
    region_code VARCHAR(12) NOT NULL,
    dim VARCHAR(16) NOT NULL,
    value VARCHAR(64) NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, region_code, dim, value)
);
CREATE TABLE report_count_deltas (
    day VARCHAR(10) NOT NULL,
    region_code VARCHAR(12) NOT NULL,
    dim VARCHAR(16) NOT NULL,
    value VARCHAR(64) NOT NULL,
    n BIGINT NOT NULL
);
DROP INDEX cases_region;
CREATE INDEX cases_region_report ON cases (region_code, created_at, category, status, assigned_unit_id, overdue);
CREATE INDEX escalations_created ON escalations (created_at)
"#;

const COLS: &str = "day, region_code, dim, value, n";

/// The Beijing day of `T.created_at`, per engine.
fn day(backend: DatabaseBackend, t: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => {
            format!(
                "to_char(({t}.created_at AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD')"
            )
        }
        _ => format!("strftime('%Y-%m-%d', {t}.created_at, '+8 hours')"),
    }
}

/// Which region a counter row is kept for, from a case alias: its
/// township here, the case's own code since
/// `m20261207_000022_village_counts`.
pub(crate) type RegionFn = fn(&str) -> String;

/// The township of `T.region_code`: 9 digits + "000".
pub(crate) fn township(t: &str) -> String {
    format!("substr({t}.region_code, 1, 9) || '000'")
}

fn unit_text(backend: DatabaseBackend, t: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("COALESCE({t}.assigned_unit_id::text, '')"),
        _ => format!("COALESCE(lower(hex({t}.assigned_unit_id)), '')"),
    }
}

const MET: &str = "CASE WHEN {r}.fired_at IS NULL AND {r}.cancelled_at IS NOT NULL AND {r}.cancelled_at <= {r}.due_at THEN 1 ELSE 0 END";
const MISSED: &str = "CASE WHEN {r}.fired_at IS NOT NULL THEN 1 ELSE 0 END";
const SETTLED: &str =
    "CASE WHEN {r}.fired_at IS NOT NULL OR {r}.cancelled_at IS NOT NULL THEN 1 ELSE 0 END";

/// (dim, value, count) of a case `t` (a row or a table alias).
fn case_dims(backend: DatabaseBackend, t: &str) -> [(&'static str, String, String); 4] {
    [
        ("category", format!("{t}.category"), "1".into()),
        ("status", format!("{t}.status"), "1".into()),
        ("unit", unit_text(backend, t), "1".into()),
        (
            "overdue",
            "''".into(),
            format!("CASE WHEN {t}.overdue THEN 1 ELSE 0 END"),
        ),
    ]
}

/// (dim, count) of a deadline `r`; its value is the kind.
fn deadline_dims(r: &str) -> [(&'static str, String); 3] {
    [
        ("met", MET.replace("{r}", r)),
        ("missed", MISSED.replace("{r}", r)),
        ("settled", SETTLED.replace("{r}", r)),
    ]
}

/// The delta rows of a case row `r` counted with `sign`.
fn case_rows(backend: DatabaseBackend, region: RegionFn, r: &str, sign: i32) -> String {
    let (d, t) = (day(backend, r), region(r));
    case_dims(backend, r)
        .iter()
        .map(|(dim, value, n)| {
            format!("SELECT {d} AS day, {t} AS region_code, '{dim}' AS dim, {value} AS value, {sign} * ({n}) AS n")
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The case (day, region) a deadline `r` counts for: its subject is the
/// case, or an escalation of the case.
fn subject_case(backend: DatabaseBackend, region: RegionFn, r: &str) -> String {
    let (d, t) = (day(backend, "c"), region("c"));
    format!(
        "SELECT {d} AS day, {t} AS region_code FROM cases c WHERE c.id = {r}.subject_id \
         UNION ALL SELECT {d} AS day, {t} AS region_code FROM escalations e \
         JOIN cases c ON c.id = e.case_id WHERE e.id = {r}.subject_id"
    )
}

/// The delta rows of a deadline row `r` counted with `sign`.
pub(crate) fn deadline_rows(
    backend: DatabaseBackend,
    region: RegionFn,
    r: &str,
    sign: i32,
) -> String {
    let s = subject_case(backend, region, r);
    deadline_dims(r)
        .iter()
        .map(|(dim, n)| {
            format!("SELECT s.day AS day, s.region_code AS region_code, '{dim}' AS dim, {r}.kind AS value, {sign} * ({n}) AS n FROM ({s}) s")
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The statement a trigger runs for `rows`: SQLite adds them to the
/// counters, PostgreSQL appends them as deltas.
pub(crate) fn apply(backend: DatabaseBackend, rows: &str) -> String {
    let grouped = format!(
        "SELECT day, region_code, dim, value, SUM(n) AS n FROM ({rows}) x WHERE 1 = 1 \
         GROUP BY day, region_code, dim, value HAVING SUM(n) <> 0"
    );
    match backend {
        DatabaseBackend::Postgres => {
            format!("INSERT INTO report_count_deltas ({COLS}) {grouped}")
        }
        _ => format!(
            "INSERT INTO report_counts ({COLS}) {grouped} \
             ON CONFLICT (day, region_code, dim, value) DO UPDATE SET n = report_counts.n + excluded.n"
        ),
    }
}

pub(crate) fn backfill(backend: DatabaseBackend, region: RegionFn) -> Vec<String> {
    let (d, t) = (day(backend, "c"), region("c"));
    let upsert =
        "ON CONFLICT (day, region_code, dim, value) DO UPDATE SET n = report_counts.n + excluded.n";
    let mut out = Vec::new();
    for (dim, value, n) in case_dims(backend, "c") {
        out.push(format!(
            "INSERT INTO report_counts ({COLS}) SELECT {d}, {t}, '{dim}', {value}, SUM({n}) \
             FROM cases c WHERE 1 = 1 GROUP BY 1, 2, 3, 4 HAVING SUM({n}) <> 0"
        ));
    }
    // Deadlines of cases, then of escalations (the summary's two joins).
    for join in [
        "JOIN cases c ON c.id = d.subject_id",
        "JOIN escalations e ON e.id = d.subject_id JOIN cases c ON c.id = e.case_id",
    ] {
        for (dim, n) in deadline_dims("d") {
            out.push(format!(
                "INSERT INTO report_counts ({COLS}) SELECT {d}, {t}, '{dim}', d.kind, SUM({n}) \
                 FROM deadlines d {join} WHERE 1 = 1 GROUP BY 1, 2, 3, 4 HAVING SUM({n}) <> 0 {upsert}"
            ));
        }
    }
    out
}

const CASE_CHANGED: &str = "OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.region_code IS DISTINCT FROM NEW.region_code \
    OR OLD.category IS DISTINCT FROM NEW.category OR OLD.status IS DISTINCT FROM NEW.status \
    OR OLD.assigned_unit_id IS DISTINCT FROM NEW.assigned_unit_id OR OLD.overdue IS DISTINCT FROM NEW.overdue";
const DEADLINE_CHANGED: &str = "OLD.fired_at IS DISTINCT FROM NEW.fired_at OR OLD.cancelled_at IS DISTINCT FROM NEW.cancelled_at \
    OR OLD.due_at IS DISTINCT FROM NEW.due_at OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.subject_id IS DISTINCT FROM NEW.subject_id";

pub(crate) type RowsFn = fn(DatabaseBackend, RegionFn, &str, i32) -> String;
pub(crate) const TABLES_WATCHED: [(&str, &str, RowsFn, &str); 2] = [
    ("cases", "case_report_counts", case_rows, CASE_CHANGED),
    (
        "deadlines",
        "deadline_report_counts",
        deadline_rows,
        DEADLINE_CHANGED,
    ),
];

pub(crate) fn triggers(backend: DatabaseBackend, region: RegionFn) -> Vec<String> {
    let mut out = Vec::new();
    for (table, name, rows, changed) in TABLES_WATCHED {
        let insert = apply(backend, &rows(backend, region, "NEW", 1));
        let delete = apply(backend, &rows(backend, region, "OLD", -1));
        let update = apply(
            backend,
            &format!(
                "{} UNION ALL {}",
                rows(backend, region, "OLD", -1),
                rows(backend, region, "NEW", 1)
            ),
        );
        if backend == DatabaseBackend::Postgres {
            out.push(format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN \
                 IF TG_OP = 'INSERT' THEN {insert}; \
                 ELSIF TG_OP = 'DELETE' THEN {delete}; \
                 ELSE {update}; END IF; \
                 RETURN NULL; END $body$"
            ));
            for op in ["INSERT", "DELETE"] {
                out.push(format!(
                    "CREATE TRIGGER {name}_{} AFTER {op} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
                    op.to_lowercase()
                ));
            }
            out.push(format!(
                "CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW WHEN ({changed}) \
                 EXECUTE FUNCTION {name}()"
            ));
        } else {
            out.push(format!(
                "CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {insert}; END"
            ));
            out.push(format!(
                "CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {delete}; END"
            ));
            out.push(format!(
                "CREATE TRIGGER {name}_update AFTER UPDATE ON {table} WHEN {} BEGIN {update}; END",
                changed.replace("IS DISTINCT FROM", "IS NOT")
            ));
        }
    }
    out
}

/// Drops the counter triggers (and PostgreSQL's trigger functions).
pub(crate) fn drop_triggers(backend: DatabaseBackend) -> Vec<String> {
    let mut out = Vec::new();
    for (table, name, _, _) in TABLES_WATCHED {
        for op in ["insert", "delete", "update"] {
            let on = match backend {
                DatabaseBackend::Postgres => format!(" ON {table}"),
                _ => String::new(),
            };
            out.push(format!("DROP TRIGGER IF EXISTS {name}_{op}{on}"));
        }
        if backend == DatabaseBackend::Postgres {
            out.push(format!("DROP FUNCTION IF EXISTS {name}()"));
        }
    }
    out
}

/// What `m20261205_000020_daily_counts` left (SQLite triggers; tables on
/// both engines).
fn drop_daily(backend: DatabaseBackend) -> Vec<String> {
    let mut out = Vec::new();
    for t in ["cases", "deadlines"] {
        for op in ["insert", "delete", "update"] {
            let on = match backend {
                DatabaseBackend::Postgres => format!(" ON {t}"),
                _ => String::new(),
            };
            out.push(format!("DROP TRIGGER IF EXISTS {t}_counts_{op}{on}"));
        }
    }
    out.push("DROP TABLE IF EXISTS deadline_daily_counts".into());
    out.push("DROP TABLE IF EXISTS case_daily_counts".into());
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let conn = manager.get_connection();
        for stmt in drop_daily(backend) {
            conn.execute_unprepared(&stmt).await?;
        }
        crate::run_script(manager, TABLES).await?;
        // Statements with `;` inside (trigger bodies): one at a time.
        for stmt in backfill(backend, township)
            .into_iter()
            .chain(triggers(backend, township))
        {
            conn.execute_unprepared(&stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let conn = manager.get_connection();
        for stmt in drop_triggers(backend) {
            conn.execute_unprepared(&stmt).await?;
        }
        crate::run_script(
            manager,
            "DROP TABLE report_count_deltas; DROP TABLE report_counts; DROP INDEX escalations_created; DROP INDEX cases_region_report; \
             CREATE INDEX cases_region ON cases (region_code)",
        )
        .await?;
        crate::m20261205_000020_daily_counts::Migration
            .up(manager)
            .await
    }
}
