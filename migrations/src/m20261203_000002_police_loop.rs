//! The police loop (issue 15): protective measures on a case (written
//! warnings, protection orders, shelter, injury assessments) with their
//! follow-up visits and violations; the reporter of a mandatory report,
//! stored apart from the case; the 110 reference of an escalation; the
//! SMS outbox and the duty phones of units.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000002_police_loop"
    }
}

const UP: &str = r#"
CREATE TABLE measures (
    id {uuid} PRIMARY KEY,
    case_id {uuid} NOT NULL REFERENCES cases (id),
    kind VARCHAR(32) NOT NULL,
    number VARCHAR(128) NULL,
    issuer_unit_id {uuid} NULL REFERENCES units (id),
    court_name VARCHAR(256) NULL,
    applied_at {ts} NULL,
    applicant VARCHAR(32) NULL,
    urgent BOOLEAN NOT NULL,
    decided_at {ts} NULL,
    outcome VARCHAR(16) NOT NULL,
    terms {json} NOT NULL,
    effective_from {ts} NULL,
    expires_at {ts} NULL,
    served_to {json} NOT NULL,
    created_by {uuid} NOT NULL REFERENCES users (id),
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX measures_case ON measures (case_id);
CREATE INDEX measures_created ON measures (created_at, id);
CREATE TABLE measure_visits (
    id {uuid} PRIMARY KEY,
    measure_id {uuid} NOT NULL REFERENCES measures (id),
    party VARCHAR(32) NOT NULL,
    unit_id {uuid} NULL REFERENCES units (id),
    due_at {ts} NOT NULL,
    done_at {ts} NULL,
    done_by {uuid} NULL REFERENCES users (id),
    notes TEXT NULL
);
CREATE INDEX measure_visits_measure ON measure_visits (measure_id);
CREATE TABLE measure_violations (
    id {uuid} PRIMARY KEY,
    measure_id {uuid} NOT NULL REFERENCES measures (id),
    at {ts} NOT NULL,
    notes TEXT NOT NULL,
    recorded_by {uuid} NOT NULL REFERENCES users (id),
    created_at {ts} NOT NULL
);
CREATE INDEX measure_violations_measure ON measure_violations (measure_id);
CREATE TABLE mandatory_reporters (
    case_id {uuid} PRIMARY KEY REFERENCES cases (id),
    org_type VARCHAR(32) NOT NULL,
    org_name VARCHAR(256) NOT NULL,
    person VARCHAR(128) NULL,
    phone VARCHAR(32) NULL,
    reported_to_police_at {ts} NOT NULL,
    created_at {ts} NOT NULL
);
ALTER TABLE escalations ADD COLUMN external_ref VARCHAR(64) NULL;
CREATE TABLE unit_phones (
    unit_id {uuid} PRIMARY KEY REFERENCES units (id),
    duty_phone VARCHAR(32) NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE TABLE sms_outbox (
    id {uuid} PRIMARY KEY,
    recipient VARCHAR(32) NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at {ts} NOT NULL,
    created_at {ts} NOT NULL,
    sent_at {ts} NULL,
    failed_at {ts} NULL,
    last_error TEXT NULL
);
CREATE INDEX sms_outbox_due ON sms_outbox (sent_at, next_attempt_at)
"#;

const DOWN: &str = r#"
DROP TABLE sms_outbox;
DROP TABLE unit_phones;
ALTER TABLE escalations DROP COLUMN external_ref;
DROP TABLE mandatory_reporters;
DROP TABLE measure_violations;
DROP TABLE measure_visits;
DROP TABLE measures
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
