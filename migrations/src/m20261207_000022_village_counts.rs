//! Report counters per village (issue 20): `report_counts` and
//! `report_count_deltas` are keyed by the case's own region code (a
//! village, or the township or county a case was filed under) instead of
//! its township (`m20261206_000021_region_counts`).
//!
//! Why: a summary narrowed to a village could not read township counters
//! and counted from the cases, joining each of them to its deadlines and
//! escalations — 2.2 s for a year of a village of 200,000 cases, growing
//! with the cases. Keyed by village, the counters answer every level: a
//! village reads its own rows, a township or county the rows of its
//! villages (`region_code LIKE prefix%`, as before). The triggers write
//! the same rows as before, one per dimension changed, under another key,
//! so a write costs what it did; a township's day holds a few dozen rows
//! per village with cases that day instead of per township.
//!
//! The triggers are recreated with the new key and the counters rebuilt
//! from the cases and deadlines (pending PostgreSQL deltas are dropped:
//! the backfill counts everything they held). `down` does the reverse.
use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

use crate::m20261206_000021_region_counts::{
    backfill, drop_triggers, township, triggers, RegionFn,
};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000022_village_counts"
    }
}

/// The case's own region code.
pub(crate) fn village(t: &str) -> String {
    format!("{t}.region_code")
}

async fn rekey(manager: &SchemaManager<'_>, region: RegionFn) -> Result<(), DbErr> {
    let backend: DatabaseBackend = manager.get_database_backend();
    let conn = manager.get_connection();
    let clear = [
        "DELETE FROM report_count_deltas".to_string(),
        "DELETE FROM report_counts".to_string(),
    ];
    for stmt in drop_triggers(backend)
        .into_iter()
        .chain(clear)
        .chain(backfill(backend, region))
        .chain(triggers(backend, region))
    {
        conn.execute_unprepared(&stmt).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, village).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, township).await
    }
}
