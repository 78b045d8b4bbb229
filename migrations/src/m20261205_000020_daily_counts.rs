//! Reports at a million cases (issue 20): counters kept by the database.
//!
//! `case_daily_counts` holds, per Beijing day of a case's `created_at`,
//! region, category, status, assigned unit (the nil UUID for none) and
//! overdue flag, how many cases there are; `deadline_daily_counts` holds,
//! per Beijing day and region of the case and deadline kind, how many of
//! the case's (and its escalations') deadlines were met and missed — the
//! summary's definitions (met: cancelled by its due time, never fired;
//! missed: fired). Triggers keep both in the transaction that changes a
//! case or a deadline, whichever code path (or bulk statement) does it,
//! so the counters are exact; the migration backfills them. The summary
//! reads whole days here and only the partial days at a period's edges
//! from the cases themselves.
//!
//! SQLite only (the tables exist on both engines, empty on PostgreSQL):
//! on PostgreSQL concurrent transactions would lock counter rows in
//! different orders (a deadline fired for one case while a case of the
//! same day, village and status is accepted) and deadlock, and the
//! measured summary there was no faster; PostgreSQL keeps the covering
//! index `cases_report`. The PostgreSQL trigger text is kept below for a
//! later change that orders or avoids those locks.
use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000020_daily_counts"
    }
}

const TABLES: &str = r#"
CREATE TABLE case_daily_counts (
    day VARCHAR(10) NOT NULL,
    region_code VARCHAR(12) NOT NULL,
    category VARCHAR(32) NOT NULL,
    status VARCHAR(16) NOT NULL,
    unit_id {uuid} NOT NULL,
    overdue BOOLEAN NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, region_code, category, status, unit_id, overdue)
);
CREATE TABLE deadline_daily_counts (
    day VARCHAR(10) NOT NULL,
    region_code VARCHAR(12) NOT NULL,
    kind VARCHAR(64) NOT NULL,
    met BIGINT NOT NULL,
    missed BIGINT NOT NULL,
    PRIMARY KEY (day, region_code, kind)
)
"#;

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

fn nil(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => "'00000000-0000-0000-0000-000000000000'::uuid",
        _ => "zeroblob(16)",
    }
}

const MET: &str = "CASE WHEN {r}.fired_at IS NULL AND {r}.cancelled_at IS NOT NULL AND {r}.cancelled_at <= {r}.due_at THEN 1 ELSE 0 END";
const MISSED: &str = "CASE WHEN {r}.fired_at IS NOT NULL THEN 1 ELSE 0 END";

/// The case (day, region) a deadline `r` counts for: its subject is the
/// case, or an escalation of the case.
fn subject_case(backend: DatabaseBackend, r: &str) -> String {
    let d1 = day(backend, "c");
    format!(
        "SELECT {d1} AS day, c.region_code AS region_code FROM cases c WHERE c.id = {r}.subject_id \
         UNION ALL SELECT {d1} AS day, c.region_code AS region_code FROM escalations e \
         JOIN cases c ON c.id = e.case_id WHERE e.id = {r}.subject_id"
    )
}

fn backfill(backend: DatabaseBackend) -> Vec<String> {
    let d = day(backend, "c");
    let nil = nil(backend);
    let met = MET.replace("{r}", "d");
    let missed = MISSED.replace("{r}", "d");
    let mut out = vec![format!(
        "INSERT INTO case_daily_counts (day, region_code, category, status, unit_id, overdue, n) \
         SELECT {d}, c.region_code, c.category, c.status, COALESCE(c.assigned_unit_id, {nil}), c.overdue, COUNT(*) \
         FROM cases c GROUP BY 1, 2, 3, 4, 5, 6"
    )];
    // Deadlines of cases, then of escalations (the summary's two joins).
    for join in [
        "JOIN cases c ON c.id = d.subject_id",
        "JOIN escalations e ON e.id = d.subject_id JOIN cases c ON c.id = e.case_id",
    ] {
        out.push(format!(
            "INSERT INTO deadline_daily_counts (day, region_code, kind, met, missed) \
             SELECT {d}, c.region_code, d.kind, SUM({met}), SUM({missed}) FROM deadlines d {join} \
             WHERE d.fired_at IS NOT NULL OR d.cancelled_at IS NOT NULL \
             GROUP BY 1, 2, 3 \
             ON CONFLICT (day, region_code, kind) DO UPDATE SET met = deadline_daily_counts.met + excluded.met, \
             missed = deadline_daily_counts.missed + excluded.missed"
        ));
    }
    out
}

fn case_key(backend: DatabaseBackend, r: &str) -> String {
    format!(
        "{}, {r}.region_code, {r}.category, {r}.status, COALESCE({r}.assigned_unit_id, {}), {r}.overdue",
        day(backend, r),
        nil(backend)
    )
}

const CASE_COLS: &str = "day, region_code, category, status, unit_id, overdue";
const CASE_CHANGED: &str = "OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.region_code IS DISTINCT FROM NEW.region_code \
    OR OLD.category IS DISTINCT FROM NEW.category OR OLD.status IS DISTINCT FROM NEW.status \
    OR OLD.assigned_unit_id IS DISTINCT FROM NEW.assigned_unit_id OR OLD.overdue IS DISTINCT FROM NEW.overdue";
const DEADLINE_CHANGED: &str = "OLD.fired_at IS DISTINCT FROM NEW.fired_at OR OLD.cancelled_at IS DISTINCT FROM NEW.cancelled_at \
    OR OLD.due_at IS DISTINCT FROM NEW.due_at OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.subject_id IS DISTINCT FROM NEW.subject_id";

fn case_add(backend: DatabaseBackend, r: &str) -> String {
    format!(
        "INSERT INTO case_daily_counts ({CASE_COLS}, n) VALUES ({}, 1) \
         ON CONFLICT ({CASE_COLS}) DO UPDATE SET n = case_daily_counts.n + 1",
        case_key(backend, r)
    )
}

fn case_remove(backend: DatabaseBackend, r: &str) -> String {
    format!(
        "UPDATE case_daily_counts SET n = n - 1 WHERE ({CASE_COLS}) = ({})",
        case_key(backend, r)
    )
}

fn deadline_add(backend: DatabaseBackend, r: &str) -> String {
    let met = MET.replace("{r}", r);
    let missed = MISSED.replace("{r}", r);
    format!(
        "INSERT INTO deadline_daily_counts (day, region_code, kind, met, missed) \
         SELECT s.day, s.region_code, {r}.kind, {met}, {missed} FROM ({}) s WHERE ({met}) + ({missed}) > 0 \
         ON CONFLICT (day, region_code, kind) DO UPDATE SET met = deadline_daily_counts.met + excluded.met, \
         missed = deadline_daily_counts.missed + excluded.missed",
        subject_case(backend, r)
    )
}

fn deadline_remove(backend: DatabaseBackend, r: &str) -> String {
    let met = MET.replace("{r}", r);
    let missed = MISSED.replace("{r}", r);
    format!(
        "UPDATE deadline_daily_counts SET met = met - ({met}), missed = missed - ({missed}) \
         WHERE kind = {r}.kind AND (day, region_code) IN (SELECT s.day, s.region_code FROM ({}) s) \
         AND ({met}) + ({missed}) > 0",
        subject_case(backend, r)
    )
}

fn triggers(backend: DatabaseBackend) -> Vec<String> {
    match backend {
        DatabaseBackend::Postgres => postgres_triggers(),
        _ => vec![
            format!("CREATE TRIGGER cases_counts_insert AFTER INSERT ON cases BEGIN {}; END", case_add(backend, "NEW")),
            format!("CREATE TRIGGER cases_counts_delete AFTER DELETE ON cases BEGIN {}; END", case_remove(backend, "OLD")),
            format!(
                "CREATE TRIGGER cases_counts_update AFTER UPDATE ON cases WHEN {} BEGIN {}; {}; END",
                CASE_CHANGED.replace("IS DISTINCT FROM", "IS NOT"),
                case_remove(backend, "OLD"),
                case_add(backend, "NEW")
            ),
            format!("CREATE TRIGGER deadlines_counts_insert AFTER INSERT ON deadlines BEGIN {}; END", deadline_add(backend, "NEW")),
            format!("CREATE TRIGGER deadlines_counts_delete AFTER DELETE ON deadlines BEGIN {}; END", deadline_remove(backend, "OLD")),
            format!(
                "CREATE TRIGGER deadlines_counts_update AFTER UPDATE ON deadlines WHEN {} BEGIN {}; {}; END",
                DEADLINE_CHANGED.replace("IS DISTINCT FROM", "IS NOT"),
                deadline_remove(backend, "OLD"),
                deadline_add(backend, "NEW")
            ),
        ],
    }
}

fn postgres_triggers() -> Vec<String> {
    let pg = DatabaseBackend::Postgres;
    let mut out = Vec::new();
    for (table, name, add, remove, changed) in [
        (
            "cases",
            "case_counts",
            case_add(pg, "NEW"),
            case_remove(pg, "OLD"),
            CASE_CHANGED,
        ),
        (
            "deadlines",
            "deadline_counts",
            deadline_add(pg, "NEW"),
            deadline_remove(pg, "OLD"),
            DEADLINE_CHANGED,
        ),
    ] {
        out.push(format!(
            "CREATE FUNCTION {name}_apply() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN \
             IF TG_OP IN ('UPDATE', 'DELETE') THEN {remove}; END IF; \
             IF TG_OP IN ('UPDATE', 'INSERT') THEN {add}; END IF; \
             RETURN NULL; END $body$"
        ));
        out.push(format!(
            "CREATE TRIGGER {table}_counts_insert AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_apply()"
        ));
        out.push(format!(
            "CREATE TRIGGER {table}_counts_delete AFTER DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_apply()"
        ));
        out.push(format!(
            "CREATE TRIGGER {table}_counts_update AFTER UPDATE ON {table} FOR EACH ROW WHEN ({changed}) \
             EXECUTE FUNCTION {name}_apply()"
        ));
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        crate::run_script(manager, TABLES).await?;
        if backend == DatabaseBackend::Postgres {
            return Ok(());
        }
        let conn = manager.get_connection();
        // Statements with `;` inside (trigger bodies): one at a time.
        for stmt in backfill(backend).into_iter().chain(triggers(backend)) {
            conn.execute_unprepared(&stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for t in ["cases", "deadlines"] {
            for op in ["insert", "delete", "update"] {
                let on = match manager.get_database_backend() {
                    DatabaseBackend::Postgres => format!(" ON {t}"),
                    _ => String::new(),
                };
                conn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}_counts_{op}{on}"))
                    .await?;
            }
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared("DROP FUNCTION IF EXISTS case_counts_apply(); DROP FUNCTION IF EXISTS deadline_counts_apply()")
                .await?;
        }
        crate::run_script(
            manager,
            "DROP TABLE deadline_daily_counts; DROP TABLE case_daily_counts",
        )
        .await
    }
}
