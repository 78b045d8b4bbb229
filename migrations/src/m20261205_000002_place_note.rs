//! Where to go (issue 19, item 17): an address or landmark beside the
//! case's place, taken at intake and shown on the case and the police
//! card. Free text, at most 200 characters, optional.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000002_place_note"
    }
}

const UP: &str = "ALTER TABLE cases ADD COLUMN place_note VARCHAR(200) NULL";
const DOWN: &str = "ALTER TABLE cases DROP COLUMN place_note";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}
