//! Reports at a million cases (issue 20): the summary counts the cases of
//! a period by category, status, unit and overdue from this index alone
//! (created_at first for the period, region_code for a supervisor's
//! region), without reading a table row.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000020_report_indexes"
    }
}

const UP: &str = r#"
CREATE INDEX cases_report ON cases (created_at, region_code, category, status, assigned_unit_id, overdue)
"#;

const DOWN: &str = r#"
DROP INDEX cases_report
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}
