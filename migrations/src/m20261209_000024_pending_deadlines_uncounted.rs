//! A deadline written pending counts nowhere: the report-counter trigger
//! on its insert skips it (issue 20, realistic intake).
//!
//! A deadline counts as `met`, `missed` or `settled` only once it is
//! cancelled or fired; a pending one adds 0 to every counter. Yet the
//! insert trigger of `m20261206_000021_region_counts` looked up each new
//! deadline's case three times over (once per counted dimension, through
//! the case and through an escalation of the case), grouped the zeros and
//! wrote nothing: intake writes three to five pending deadlines per case,
//! inside the writer's turn. Now SQLite's row trigger runs only `WHEN` the
//! new row is fired or cancelled, and PostgreSQL's statement trigger
//! reads only such rows of its transition table. Every count is the same
//! (a deadline inserted already fired, as `deadlines::record_fired_many`
//! writes, still counts). `down` restores the triggers that looked.
use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

use crate::{
    m20261206_000021_region_counts::{apply, deadline_rows},
    m20261207_000022_village_counts::village,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_000024_pending_deadlines_uncounted"
    }
}

/// True of a deadline row `r` some counter counts: fired or cancelled.
fn settled(r: &str) -> String {
    format!("({r}.fired_at IS NOT NULL OR {r}.cancelled_at IS NOT NULL)")
}

/// The statements that (re)create the deadline insert trigger; with
/// `skip_pending`, one that ignores pending rows.
fn insert_trigger(backend: DatabaseBackend, skip_pending: bool) -> Vec<String> {
    match backend {
        DatabaseBackend::Postgres => {
            let only = if skip_pending {
                format!(" WHERE {}", settled("nw"))
            } else {
                String::new()
            };
            let rows = format!(
                "SELECT y.* FROM new_rows nw CROSS JOIN LATERAL ({}) y{only}",
                deadline_rows(backend, village, "nw", 1)
            );
            vec![format!(
                "CREATE OR REPLACE FUNCTION deadline_report_counts_insert() RETURNS trigger \
                 LANGUAGE plpgsql AS $body$ BEGIN {}; RETURN NULL; END $body$",
                apply(backend, &rows)
            )]
        }
        _ => {
            let when = if skip_pending {
                format!(" WHEN {}", settled("NEW"))
            } else {
                String::new()
            };
            // One execution, so that one connection drops and creates.
            vec![format!(
                "DROP TRIGGER IF EXISTS deadline_report_counts_insert; \
                 CREATE TRIGGER deadline_report_counts_insert AFTER INSERT ON deadlines{when} \
                 BEGIN {}; END",
                apply(backend, &deadline_rows(backend, village, "NEW", 1))
            )]
        }
    }
}

async fn run(manager: &SchemaManager<'_>, skip_pending: bool) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for stmt in insert_trigger(manager.get_database_backend(), skip_pending) {
        conn.execute_unprepared(&stmt).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, false).await
    }
}
