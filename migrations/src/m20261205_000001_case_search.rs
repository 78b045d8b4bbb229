//! Finding a case (issue 19, item 11): a search on the beginning of a case
//! number is a range on the unique index of `cases.number`. On PostgreSQL
//! the column is collated "C" so that the range is bytewise whatever the
//! database's collation (under `en_US` the `-` would be ignored and a range
//! such as [`2026-`, `2026.`) would miss numbers). SQLite compares text
//! bytewise already. The subject's phone is stored normalised and indexed
//! (`cases_subject_phone`) since the first schema.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000001_case_search"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            crate::run_script(
                manager,
                r#"ALTER TABLE cases ALTER COLUMN number TYPE VARCHAR(16) COLLATE "C""#,
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            crate::run_script(
                manager,
                r#"ALTER TABLE cases ALTER COLUMN number TYPE VARCHAR(16) COLLATE "default""#,
            )
            .await?;
        }
        Ok(())
    }
}
