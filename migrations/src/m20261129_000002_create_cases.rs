//! Calls, cases, the case event log (timeline and live feed), escalations,
//! deadlines, the mail outbox, routing rules and scheduled job runs.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_create_cases"
    }
}

const UP: &str = r#"
CREATE TABLE routing_rules (
    category VARCHAR(32) PRIMARY KEY,
    unit_kind VARCHAR(32) NOT NULL,
    updated_at {ts} NOT NULL
);

CREATE TABLE cases (
    id {uuid} PRIMARY KEY,
    number VARCHAR(16) NOT NULL UNIQUE,
    category VARCHAR(32) NOT NULL,
    status VARCHAR(16) NOT NULL,
    priority VARCHAR(16) NOT NULL,
    risk_level VARCHAR(16) NOT NULL,
    region_code VARCHAR(12) NOT NULL REFERENCES regions (code),
    summary TEXT NOT NULL,
    description TEXT NULL,
    subject_name VARCHAR(128) NULL,
    subject_phone VARCHAR(32) NULL,
    subject_id_number VARCHAR(18) NULL,
    assigned_unit_id {uuid} NULL REFERENCES units (id),
    assignee_id {uuid} NULL REFERENCES users (id),
    created_by {uuid} NOT NULL REFERENCES users (id),
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version INTEGER NOT NULL,
    accept_due_at {ts} NULL,
    resolve_due_at {ts} NULL,
    follow_up_due_at {ts} NULL,
    confirmation_due_at {ts} NULL,
    overdue BOOLEAN NOT NULL,
    outcome {json} NULL,
    resolved_at {ts} NULL,
    closed_at {ts} NULL
);
CREATE INDEX cases_subject_phone ON cases (subject_phone);
CREATE INDEX cases_unit_created ON cases (assigned_unit_id, created_at);
CREATE INDEX cases_region ON cases (region_code);
CREATE INDEX cases_created ON cases (created_at, id);

CREATE TABLE case_handlers (
    case_id {uuid} NOT NULL REFERENCES cases (id),
    unit_id {uuid} NOT NULL REFERENCES units (id),
    PRIMARY KEY (case_id, unit_id)
);
CREATE INDEX case_handlers_unit ON case_handlers (unit_id);

CREATE TABLE calls (
    id {uuid} PRIMARY KEY,
    phone VARCHAR(32) NOT NULL,
    channel VARCHAR(16) NOT NULL,
    received_at {ts} NOT NULL,
    duration_s INTEGER NULL,
    operator_id {uuid} NULL REFERENCES users (id),
    case_id {uuid} NULL REFERENCES cases (id),
    cti_ref VARCHAR(128) NULL UNIQUE,
    summary TEXT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX calls_phone_received ON calls (phone, received_at);
CREATE INDEX calls_case ON calls (case_id);

CREATE TABLE case_events (
    id {uuid} PRIMARY KEY,
    feed_seq BIGINT NOT NULL UNIQUE,
    case_id {uuid} NOT NULL REFERENCES cases (id),
    case_number VARCHAR(16) NOT NULL,
    kind VARCHAR(40) NOT NULL,
    actor_id {uuid} NULL,
    unit_id {uuid} NULL,
    prev_unit_id {uuid} NULL,
    police_unit_id {uuid} NULL,
    region_code VARCHAR(12) NOT NULL,
    at {ts} NOT NULL,
    data {json} NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, feed_seq);

CREATE TABLE escalations (
    id {uuid} PRIMARY KEY,
    case_id {uuid} NOT NULL REFERENCES cases (id),
    urgency VARCHAR(16) NOT NULL,
    level SMALLINT NOT NULL,
    status VARCHAR(16) NOT NULL,
    police_unit_id {uuid} NULL REFERENCES units (id),
    reason TEXT NOT NULL,
    created_by {uuid} NULL,
    created_at {ts} NOT NULL,
    ack_due_at {ts} NOT NULL,
    acknowledged_at {ts} NULL,
    acknowledged_by {uuid} NULL,
    action_due_at {ts} NOT NULL,
    first_action_at {ts} NULL,
    next_raise_at {ts} NULL,
    resolved_at {ts} NULL,
    resolution TEXT NULL,
    policy {json} NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX escalations_case ON escalations (case_id);
CREATE INDEX escalations_police ON escalations (police_unit_id, status);

CREATE TABLE escalation_actions (
    id {uuid} PRIMARY KEY,
    escalation_id {uuid} NOT NULL REFERENCES escalations (id),
    kind VARCHAR(32) NOT NULL,
    notes TEXT NOT NULL,
    at {ts} NOT NULL,
    by_user {uuid} NOT NULL
);
CREATE INDEX escalation_actions_escalation ON escalation_actions (escalation_id, at);

CREATE TABLE deadlines (
    id {uuid} PRIMARY KEY,
    subject_kind VARCHAR(16) NOT NULL,
    subject_id {uuid} NOT NULL,
    kind VARCHAR(32) NOT NULL,
    due_at {ts} NOT NULL,
    fired_at {ts} NULL,
    cancelled_at {ts} NULL,
    claimed_by VARCHAR(64) NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX deadlines_pending ON deadlines (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX deadlines_subject ON deadlines (subject_id, kind);

CREATE TABLE mail_outbox (
    id {uuid} PRIMARY KEY,
    recipient VARCHAR(254) NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    message_id VARCHAR(200) NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at {ts} NOT NULL,
    created_at {ts} NOT NULL,
    sent_at {ts} NULL,
    failed_at {ts} NULL,
    last_error TEXT NULL
);
CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE job_runs (
    id {uuid} PRIMARY KEY,
    job VARCHAR(64) NOT NULL,
    started_at {ts} NOT NULL,
    finished_at {ts} NOT NULL,
    ok BOOLEAN NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX job_runs_job ON job_runs (job, started_at)
"#;

const DOWN: &str = r#"
DROP TABLE job_runs;
DROP TABLE mail_outbox;
DROP TABLE deadlines;
DROP TABLE escalation_actions;
DROP TABLE escalations;
DROP TABLE case_events;
DROP TABLE calls;
DROP TABLE case_handlers;
DROP TABLE cases;
DROP TABLE routing_rules
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
