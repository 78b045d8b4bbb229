//! Regions, units, users, sessions, login throttling, the audit log and the
//! shared counters.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_create_accounts"
    }
}

const UP: &str = r#"
CREATE TABLE regions (
    code VARCHAR(12) PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    parent_code VARCHAR(12) NULL,
    level SMALLINT NOT NULL
);
CREATE INDEX regions_parent ON regions (parent_code);

CREATE TABLE units (
    id {uuid} PRIMARY KEY,
    kind VARCHAR(32) NOT NULL,
    name VARCHAR(200) NOT NULL,
    region_code VARCHAR(12) NOT NULL REFERENCES regions (code),
    email VARCHAR(254) NULL,
    active BOOLEAN NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX units_kind_region ON units (kind, region_code);

CREATE TABLE users (
    id {uuid} PRIMARY KEY,
    username VARCHAR(64) NOT NULL UNIQUE,
    display_name VARCHAR(128) NOT NULL,
    role VARCHAR(32) NOT NULL,
    unit_id {uuid} NULL REFERENCES units (id),
    email VARCHAR(254) NULL,
    password_hash VARCHAR(256) NOT NULL,
    active BOOLEAN NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE sessions (
    token_hash VARCHAR(64) PRIMARY KEY,
    user_id {uuid} NOT NULL REFERENCES users (id),
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    revoked_at {ts} NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id {uuid} PRIMARY KEY,
    username VARCHAR(64) NOT NULL,
    at {ts} NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);

CREATE TABLE audit_log (
    id {uuid} PRIMARY KEY,
    at {ts} NOT NULL,
    actor_id {uuid} NULL,
    action VARCHAR(64) NOT NULL,
    target VARCHAR(128) NOT NULL,
    detail {json} NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target);

CREATE TABLE counters (
    name VARCHAR(64) PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('feed', 0)
"#;

const DOWN: &str = r#"
DROP TABLE counters;
DROP TABLE audit_log;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE units;
DROP TABLE regions
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
