//! Follow-up callbacks scheduled from the case page (issue 18): what the
//! call is for (notes) and who scheduled it.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000002_follow_up_callbacks"
    }
}

const UP: &str = r#"
ALTER TABLE callbacks ADD COLUMN notes TEXT NULL;
ALTER TABLE callbacks ADD COLUMN scheduled_by {uuid} NULL
"#;

const DOWN: &str = r#"
ALTER TABLE callbacks DROP COLUMN scheduled_by;
ALTER TABLE callbacks DROP COLUMN notes
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
