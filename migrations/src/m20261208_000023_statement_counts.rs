//! PostgreSQL's report-counter triggers fire once per statement, not once
//! per row (issue 20, realistic intake).
//!
//! An intake batch inserts its cases, handlers and deadlines with one
//! multi-row statement per table; the row-level PL/pgSQL triggers of
//! `m20261206_000021_region_counts` then ran once per case and per
//! deadline, each appending its own delta rows. Measured by dropping them
//! from a benchmark database, they cost ~1.5 ms of a batch's 9 ms and a
//! fifth of the intake rate (README, Performance). Statement-level
//! triggers read the statement's rows from its transition tables
//! (`REFERENCING NEW TABLE` / `OLD TABLE`) and append the same deltas,
//! grouped, with one insert: the counts are the same (the deltas of an
//! update that changed no counted column cancel out, as the row-level
//! `WHEN` skipped them). SQLite keeps its row triggers (they cost nothing
//! measurable there). `down` restores the row-level triggers.
use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

use crate::{
    m20261206_000021_region_counts::{apply, drop_triggers, triggers, TABLES_WATCHED},
    m20261207_000022_village_counts::village,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000023_statement_counts"
    }
}

const PG: DatabaseBackend = DatabaseBackend::Postgres;

/// The statement-level functions and triggers.
fn statement_triggers() -> Vec<String> {
    let mut out = Vec::new();
    for (table, name, rows, changed) in TABLES_WATCHED {
        let changed = changed.replace("OLD.", "od.").replace("NEW.", "nw.");
        let bodies = [
            (
                "insert",
                "REFERENCING NEW TABLE AS new_rows",
                format!(
                    "SELECT y.* FROM new_rows nw CROSS JOIN LATERAL ({}) y",
                    rows(PG, village, "nw", 1)
                ),
            ),
            (
                "delete",
                "REFERENCING OLD TABLE AS old_rows",
                format!(
                    "SELECT y.* FROM old_rows od CROSS JOIN LATERAL ({}) y",
                    rows(PG, village, "od", -1)
                ),
            ),
            (
                "update",
                "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
                format!(
                    "SELECT y.* FROM old_rows od JOIN new_rows nw ON nw.id = od.id \
                     CROSS JOIN LATERAL ({} UNION ALL {}) y WHERE {changed}",
                    rows(PG, village, "od", -1),
                    rows(PG, village, "nw", 1)
                ),
            ),
        ];
        for (op, referencing, rows) in bodies {
            out.push(format!(
                "CREATE FUNCTION {name}_{op}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN \
                 {}; RETURN NULL; END $body$",
                apply(PG, &rows)
            ));
            out.push(format!(
                "CREATE TRIGGER {name}_{op} AFTER {} ON {table} {referencing} \
                 FOR EACH STATEMENT EXECUTE FUNCTION {name}_{op}()",
                op.to_uppercase()
            ));
        }
    }
    out
}

fn drop_statement_triggers() -> Vec<String> {
    let mut out = Vec::new();
    for (table, name, _, _) in TABLES_WATCHED {
        for op in ["insert", "delete", "update"] {
            out.push(format!("DROP TRIGGER IF EXISTS {name}_{op} ON {table}"));
            out.push(format!("DROP FUNCTION IF EXISTS {name}_{op}()"));
        }
    }
    out
}

async fn run(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    if manager.get_database_backend() != PG {
        return Ok(());
    }
    let conn = manager.get_connection();
    for stmt in statements {
        conn.execute_unprepared(&stmt).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut all = drop_triggers(PG);
        all.extend(statement_triggers());
        run(manager, all).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut all = drop_statement_triggers();
        all.extend(triggers(PG, village));
        run(manager, all).await
    }
}
