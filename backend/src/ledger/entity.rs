//! The ledger's tables: persons, their phones (the screen pop's index),
//! visits, imported files and case links. Enumerations are typed (fail
//! closed); `safe_contact` is JSON read back strictly.
#![allow(clippy::derive_partial_eq_without_eq)]

pub mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_persons")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub id_number: Option<String>,
        pub birth_date: Option<Date>,
        pub village_code: String,
        pub husband_away_since: Option<Date>,
        pub in_village: bool,
        pub low_income: bool,
        pub registered_poor: bool,
        pub disabled: bool,
        pub seriously_ill: bool,
        pub rights_violated: bool,
        pub care_burden: bool,
        pub contact_person_user_id: Option<Uuid>,
        pub safe_contact: Option<Json>,
        pub source: crate::vocab::LedgerSource,
        pub screened_by: Option<String>,
        pub screened_at: Option<Date>,
        pub review_due_at: Option<DateTimeUtc>,
        pub last_visit_at: Option<DateTimeUtc>,
        pub import_hash: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod phone {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_phones")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub phone: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod visit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_visits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub person_id: Uuid,
        pub at: DateTimeUtc,
        pub kind: crate::vocab::VisitKind,
        #[sea_orm(column_type = "Text")]
        pub notes: Option<String>,
        pub unit_id: Option<Uuid>,
        pub recorded_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod import {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_imports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub sha256: String,
        pub county_code: String,
        pub imported_by: Option<Uuid>,
        pub imported_at: DateTimeUtc,
        pub created: i32,
        pub updated: i32,
        pub unchanged: i32,
        pub rejected: i32,
        pub report: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod case_link {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_case_links")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        pub person_id: Uuid,
        pub how: String,
        pub linked_by: Option<Uuid>,
        pub linked_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
