//! The safety path (issue 11): calls from withheld, foreign or garbled
//! numbers (`calls.phone` nullable, the raw text in `phone_raw`); the whole
//! danger screen kept with its case; the dispatch deadline of a case left
//! at the hotline centre; the parties' judicial confirmation of a mediation
//! agreement.
use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000001_safety_path"
    }
}

const CASES: &str = r#"
ALTER TABLE cases ADD COLUMN danger_screen {json} NULL;
ALTER TABLE cases ADD COLUMN dispatch_due_at {ts} NULL;
ALTER TABLE cases ADD COLUMN confirmation {json} NULL
"#;

const CALLS_POSTGRES: &str = r#"
ALTER TABLE calls ALTER COLUMN phone DROP NOT NULL;
ALTER TABLE calls ADD COLUMN phone_raw VARCHAR(64) NULL
"#;

/// SQLite cannot drop a NOT NULL constraint: the table is rebuilt (nothing
/// refers to `calls`, so the copy needs no foreign-key dance).
const CALLS_SQLITE: &str = r#"
CREATE TABLE calls_new (
    id {uuid} PRIMARY KEY,
    phone VARCHAR(32) NULL,
    channel VARCHAR(16) NOT NULL,
    received_at {ts} NOT NULL,
    duration_s INTEGER NULL,
    operator_id {uuid} NULL REFERENCES users (id),
    case_id {uuid} NULL REFERENCES cases (id),
    cti_ref VARCHAR(128) NULL UNIQUE,
    summary TEXT NULL,
    created_at {ts} NOT NULL,
    phone_raw VARCHAR(64) NULL
);
INSERT INTO calls_new (id, phone, channel, received_at, duration_s, operator_id, case_id, cti_ref, summary, created_at, phone_raw)
    SELECT id, phone, channel, received_at, duration_s, operator_id, case_id, cti_ref, summary, created_at, phone FROM calls;
DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;
CREATE INDEX calls_phone_received ON calls (phone, received_at);
CREATE INDEX calls_case ON calls (case_id)
"#;

const DOWN: &str = r#"
ALTER TABLE cases DROP COLUMN confirmation;
ALTER TABLE cases DROP COLUMN dispatch_due_at;
ALTER TABLE cases DROP COLUMN danger_screen;
DELETE FROM calls WHERE phone IS NULL;
ALTER TABLE calls DROP COLUMN phone_raw
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, CASES).await?;
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => crate::run_script(manager, CALLS_POSTGRES).await,
            // One call, so every statement runs on one pooled connection: a
            // connection that did not see the DROP would refuse the RENAME.
            _ => {
                let sql = crate::Dialect::of(manager).render(CALLS_SQLITE);
                manager.get_connection().execute_unprepared(&sql).await?;
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}
