//! The county ledger of left-behind women (issue 17; seed 一(五), 二(三)):
//! persons screened by villages and townships, their phones (one row per
//! normalised number, the screen pop's one indexed lookup), their visits,
//! the files imported (keyed by SHA-256) and the cases linked to them.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000001_ledger"
    }
}

const UP: &str = r#"
CREATE TABLE ledger_persons (
    id {uuid} PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    id_number VARCHAR(18) NULL,
    birth_date DATE NULL,
    village_code VARCHAR(12) NOT NULL,
    husband_away_since DATE NULL,
    in_village BOOLEAN NOT NULL,
    low_income BOOLEAN NOT NULL,
    registered_poor BOOLEAN NOT NULL,
    disabled BOOLEAN NOT NULL,
    seriously_ill BOOLEAN NOT NULL,
    rights_violated BOOLEAN NOT NULL,
    care_burden BOOLEAN NOT NULL,
    contact_person_user_id {uuid} NULL REFERENCES users (id),
    safe_contact {json} NULL,
    source VARCHAR(16) NOT NULL,
    screened_by VARCHAR(64) NULL,
    screened_at DATE NULL,
    review_due_at {ts} NULL,
    last_visit_at {ts} NULL,
    import_hash VARCHAR(64) NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    version INTEGER NOT NULL
);
CREATE UNIQUE INDEX ledger_persons_id_number ON ledger_persons (id_number);
CREATE INDEX ledger_persons_village ON ledger_persons (village_code, name);
CREATE INDEX ledger_persons_review ON ledger_persons (review_due_at);

CREATE TABLE ledger_phones (
    phone VARCHAR(16) NOT NULL,
    person_id {uuid} NOT NULL REFERENCES ledger_persons (id),
    PRIMARY KEY (phone, person_id)
);
CREATE INDEX ledger_phones_person ON ledger_phones (person_id);

CREATE TABLE ledger_visits (
    id {uuid} PRIMARY KEY,
    person_id {uuid} NOT NULL REFERENCES ledger_persons (id),
    at {ts} NOT NULL,
    kind VARCHAR(16) NOT NULL,
    notes TEXT NULL,
    unit_id {uuid} NULL,
    recorded_by {uuid} NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX ledger_visits_person ON ledger_visits (person_id, at);
CREATE INDEX ledger_visits_at ON ledger_visits (at);

CREATE TABLE ledger_imports (
    id {uuid} PRIMARY KEY,
    sha256 VARCHAR(64) NOT NULL UNIQUE,
    county_code VARCHAR(12) NOT NULL,
    imported_by {uuid} NULL,
    imported_at {ts} NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    report {json} NOT NULL
);

CREATE TABLE ledger_case_links (
    case_id {uuid} PRIMARY KEY REFERENCES cases (id),
    person_id {uuid} NOT NULL REFERENCES ledger_persons (id),
    how VARCHAR(16) NOT NULL,
    linked_by {uuid} NULL,
    linked_at {ts} NOT NULL
);
CREATE INDEX ledger_case_links_person ON ledger_case_links (person_id)
"#;

const DOWN: &str = r#"
DROP TABLE ledger_case_links;
DROP TABLE ledger_imports;
DROP TABLE ledger_visits;
DROP TABLE ledger_phones;
DROP TABLE ledger_persons
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
