//! Database schema for Lianxin, as `sea-orm-migration` migrations.
//!
//! This crate never depends on the backend: it only knows tables. Each
//! migration writes plain SQL with the few type names that differ between
//! SQLite and PostgreSQL filled in by [`Dialect`], because the SQL is easier to
//! review than the builder form and the two engines agree on everything else.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_accounts;
mod m20261129_000002_create_cases;
mod m20261202_000001_safety_path;
mod m20261203_000001_referrals;
mod m20261203_000002_police_loop;
mod m20261203_000003_mediation;
mod m20261204_000001_ledger;
mod m20261204_000002_hotline_loop;
mod m20261204_000020_report_indexes;
mod m20261205_000001_case_search;
mod m20261205_000002_follow_up_callbacks;
mod m20261205_000002_place_note;
mod m20261205_000019_must_change_password;
mod m20261205_000020_daily_counts;
mod m20261206_000021_region_counts;
mod m20261207_000022_village_counts;
mod m20261208_000023_statement_counts;
mod m20261209_000024_pending_deadlines_uncounted;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_accounts::Migration),
            Box::new(m20261129_000002_create_cases::Migration),
            Box::new(m20261202_000001_safety_path::Migration),
            Box::new(m20261203_000001_referrals::Migration),
            Box::new(m20261203_000002_police_loop::Migration),
            Box::new(m20261203_000003_mediation::Migration),
            Box::new(m20261204_000001_ledger::Migration),
            Box::new(m20261204_000002_hotline_loop::Migration),
            Box::new(m20261204_000020_report_indexes::Migration),
            Box::new(m20261205_000001_case_search::Migration),
            Box::new(m20261205_000002_place_note::Migration),
            Box::new(m20261205_000002_follow_up_callbacks::Migration),
            Box::new(m20261205_000019_must_change_password::Migration),
            Box::new(m20261205_000020_daily_counts::Migration),
            Box::new(m20261206_000021_region_counts::Migration),
            Box::new(m20261207_000022_village_counts::Migration),
            Box::new(m20261208_000023_statement_counts::Migration),
            Box::new(m20261209_000024_pending_deadlines_uncounted::Migration),
        ]
    }
}

/// Column types that the two engines spell differently.
pub(crate) struct Dialect {
    pub uuid: &'static str,
    pub ts: &'static str,
    pub json: &'static str,
}

impl Dialect {
    pub(crate) fn of(manager: &SchemaManager) -> Self {
        match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => Dialect {
                uuid: "UUID",
                ts: "TIMESTAMPTZ",
                json: "JSONB",
            },
            _ => Dialect {
                // sqlx binds uuid::Uuid as a 16-byte blob and chrono times as
                // RFC 3339 text on SQLite; text times sort correctly because
                // every writer goes through the same encoder (UTC, fixed width).
                uuid: "BLOB",
                ts: "TEXT",
                json: "TEXT",
            },
        }
    }

    /// Replace `{uuid}`, `{ts}` and `{json}` in a schema script.
    pub(crate) fn render(&self, sql: &str) -> String {
        sql.replace("{uuid}", self.uuid)
            .replace("{ts}", self.ts)
            .replace("{json}", self.json)
    }
}

/// Run a script of `;`-separated statements.
pub(crate) async fn run_script(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    let sql = Dialect::of(manager).render(sql);
    let conn = manager.get_connection();
    for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        conn.execute_unprepared(stmt).await?;
    }
    Ok(())
}
