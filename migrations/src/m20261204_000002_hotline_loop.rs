//! The hotline's own loop (issue 18): the working-day calendar, what a call
//! was about (its disposition) and whether it was answered, callbacks
//! (missed calls, follow-ups, satisfaction), a case subject's safe contact,
//! deadline extensions and links between cases.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000002_hotline_loop"
    }
}

const UP: &str = r#"
CREATE TABLE calendar_days (
    day VARCHAR(10) PRIMARY KEY,
    year INTEGER NOT NULL,
    working BOOLEAN NOT NULL,
    name VARCHAR(64) NOT NULL,
    provisional BOOLEAN NOT NULL,
    imported_at {ts} NOT NULL
);
CREATE INDEX calendar_days_year ON calendar_days (year);

ALTER TABLE calls ADD COLUMN answered_at {ts} NULL;
ALTER TABLE calls ADD COLUMN hangup_cause VARCHAR(32) NULL;
ALTER TABLE calls ADD COLUMN disposition VARCHAR(32) NULL;
ALTER TABLE calls ADD COLUMN topics {json} NULL;
ALTER TABLE calls ADD COLUMN disposition_notes TEXT NULL;
ALTER TABLE calls ADD COLUMN disposed_by {uuid} NULL;
ALTER TABLE calls ADD COLUMN disposed_at {ts} NULL;
CREATE INDEX calls_received ON calls (received_at);

CREATE TABLE callbacks (
    id {uuid} PRIMARY KEY,
    kind VARCHAR(16) NOT NULL,
    queue_rank INTEGER NOT NULL,
    case_id {uuid} NULL REFERENCES cases (id),
    call_id {uuid} NULL REFERENCES calls (id),
    phone VARCHAR(32) NULL,
    region_code VARCHAR(12) NULL,
    due_at {ts} NOT NULL,
    status VARCHAR(16) NOT NULL,
    attempts {json} NOT NULL,
    satisfaction VARCHAR(32) NULL,
    reason VARCHAR(16) NULL,
    result_notes TEXT NULL,
    created_at {ts} NOT NULL,
    closed_at {ts} NULL,
    closed_by {uuid} NULL,
    version INTEGER NOT NULL
);
CREATE INDEX callbacks_queue ON callbacks (status, queue_rank, due_at, id);
CREATE INDEX callbacks_phone ON callbacks (phone, status);
CREATE INDEX callbacks_case ON callbacks (case_id);
CREATE INDEX callbacks_created ON callbacks (created_at);

CREATE TABLE case_contact_safety (
    case_id {uuid} PRIMARY KEY REFERENCES cases (id),
    contact {json} NOT NULL,
    no_sms_phone VARCHAR(32) NULL,
    updated_by {uuid} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX case_contact_safety_no_sms ON case_contact_safety (no_sms_phone);

CREATE TABLE case_extensions (
    id {uuid} PRIMARY KEY,
    case_id {uuid} NOT NULL REFERENCES cases (id),
    unit_id {uuid} NULL,
    requested_by {uuid} NOT NULL,
    requested_at {ts} NOT NULL,
    previous_due_at {ts} NOT NULL,
    until_at {ts} NOT NULL,
    reason TEXT NOT NULL,
    status VARCHAR(16) NOT NULL,
    decided_by {uuid} NULL,
    decided_at {ts} NULL,
    decision_note TEXT NULL
);
CREATE INDEX case_extensions_case ON case_extensions (case_id);

CREATE TABLE case_links (
    case_id {uuid} NOT NULL REFERENCES cases (id),
    other_case_id {uuid} NOT NULL REFERENCES cases (id),
    kind VARCHAR(16) NOT NULL,
    created_by {uuid} NOT NULL,
    created_at {ts} NOT NULL,
    PRIMARY KEY (case_id, other_case_id)
);
CREATE INDEX case_links_other ON case_links (other_case_id)
"#;

const DOWN: &str = r#"
DROP TABLE case_links;
DROP TABLE case_extensions;
DROP TABLE case_contact_safety;
DROP TABLE callbacks;
DROP INDEX calls_received;
ALTER TABLE calls DROP COLUMN disposed_at;
ALTER TABLE calls DROP COLUMN disposed_by;
ALTER TABLE calls DROP COLUMN disposition_notes;
ALTER TABLE calls DROP COLUMN topics;
ALTER TABLE calls DROP COLUMN disposition;
ALTER TABLE calls DROP COLUMN hangup_cause;
ALTER TABLE calls DROP COLUMN answered_at;
DROP TABLE calendar_days
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
