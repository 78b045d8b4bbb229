//! Referrals between agencies (issue 14): a referral beside the case, sent
//! by one unit to another, accepted or declined, answered, urged; and the
//! co-operating referral kinds of a routing category. New unit kinds need
//! no schema change (`units.kind` is text).
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_referrals"
    }
}

const UP: &str = r#"
CREATE TABLE referrals (
    id {uuid} PRIMARY KEY,
    number VARCHAR(24) NOT NULL UNIQUE,
    case_id {uuid} NOT NULL REFERENCES cases (id),
    region_code VARCHAR(12) NOT NULL,
    from_unit_id {uuid} NULL REFERENCES units (id),
    to_unit_id {uuid} NOT NULL REFERENCES units (id),
    to_region_code VARCHAR(12) NOT NULL,
    kind VARCHAR(40) NOT NULL,
    request TEXT NOT NULL,
    legal_basis VARCHAR(16) NOT NULL,
    consent {json} NULL,
    status VARCHAR(16) NOT NULL,
    created_by {uuid} NULL REFERENCES users (id),
    created_at {ts} NOT NULL,
    accept_due_at {ts} NOT NULL,
    accepted_at {ts} NULL,
    accepted_by {uuid} NULL REFERENCES users (id),
    reply_due_at {ts} NULL,
    reply {json} NULL,
    replied_at {ts} NULL,
    decline {json} NULL,
    withdrawal {json} NULL,
    urgings {json} NOT NULL,
    overdue BOOLEAN NOT NULL,
    updated_at {ts} NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX referrals_case ON referrals (case_id);
CREATE INDEX referrals_to_unit ON referrals (to_unit_id, created_at);
CREATE INDEX referrals_from_unit ON referrals (from_unit_id, created_at);
CREATE INDEX referrals_created ON referrals (created_at, id);

CREATE TABLE referral_co_handling (
    category VARCHAR(32) PRIMARY KEY,
    kinds {json} NOT NULL,
    updated_at {ts} NOT NULL
)
"#;

const DOWN: &str = r#"
DROP TABLE referral_co_handling;
DROP TABLE referrals
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
