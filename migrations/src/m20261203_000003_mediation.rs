//! Mediation as mediators do it (issue 16): the registration of a dispute
//! with its parties and consent, the sessions, the agreement with its
//! obligations and their performance, or the termination.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000003_mediation"
    }
}

const UP: &str = r#"
CREATE TABLE mediations (
    id {uuid} PRIMARY KEY,
    case_id {uuid} NOT NULL UNIQUE REFERENCES cases (id),
    unit_id {uuid} NOT NULL REFERENCES units (id),
    status VARCHAR(16) NOT NULL,
    dispute TEXT NOT NULL,
    parties {json} NOT NULL,
    consent_recorded BOOLEAN NOT NULL,
    override_reason TEXT NULL,
    registered_by {uuid} NOT NULL REFERENCES users (id),
    registered_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    first_session_due_at {ts} NOT NULL,
    first_session_at {ts} NULL,
    termination_reason VARCHAR(32) NULL,
    remedies_informed BOOLEAN NULL,
    termination_notes TEXT NULL,
    terminated_at {ts} NULL,
    agreement_form VARCHAR(16) NULL,
    agreement_number VARCHAR(64) NULL,
    agreement_facts TEXT NULL,
    agreement_terms TEXT NULL,
    effective_at {ts} NULL,
    agreed_at {ts} NULL,
    agreed_by {uuid} NULL,
    version INTEGER NOT NULL
);
CREATE INDEX mediations_registered ON mediations (registered_at);

CREATE TABLE mediation_sessions (
    id {uuid} PRIMARY KEY,
    mediation_id {uuid} NOT NULL REFERENCES mediations (id),
    n INTEGER NOT NULL,
    at {ts} NOT NULL,
    place VARCHAR(200) NOT NULL,
    mediators {json} NOT NULL,
    attendees TEXT NOT NULL,
    summary TEXT NOT NULL,
    recorded_by {uuid} NOT NULL,
    recorded_at {ts} NOT NULL,
    UNIQUE (mediation_id, n)
);

CREATE TABLE mediation_obligations (
    id {uuid} PRIMARY KEY,
    mediation_id {uuid} NOT NULL REFERENCES mediations (id),
    n INTEGER NOT NULL,
    text TEXT NOT NULL,
    party VARCHAR(128) NOT NULL,
    due_at {ts} NOT NULL,
    performed_at {ts} NULL,
    performed_notes TEXT NULL,
    performed_recorded_by {uuid} NULL,
    reminded_at {ts} NULL,
    UNIQUE (mediation_id, n)
)
"#;

const DOWN: &str = r#"
DROP TABLE mediation_obligations;
DROP TABLE mediation_sessions;
DROP TABLE mediations
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
