//! The measures' tables: a measure on a case, its follow-up visits and
//! its recorded violations. Enumerations are typed (fail closed); the
//! lists of terms and of units served are JSON arrays read back strictly.
#![allow(clippy::derive_partial_eq_without_eq)]

pub mod measure {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "measures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub case_id: Uuid,
        pub kind: crate::vocab::MeasureKind,
        pub number: Option<String>,
        pub issuer_unit_id: Option<Uuid>,
        pub court_name: Option<String>,
        pub applied_at: Option<DateTimeUtc>,
        pub applicant: Option<crate::vocab::Applicant>,
        pub urgent: bool,
        pub decided_at: Option<DateTimeUtc>,
        pub outcome: crate::vocab::MeasureOutcome,
        pub terms: Json,
        pub effective_from: Option<DateTimeUtc>,
        pub expires_at: Option<DateTimeUtc>,
        pub served_to: Json,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod visit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "measure_visits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub measure_id: Uuid,
        pub party: crate::vocab::VisitParty,
        pub unit_id: Option<Uuid>,
        pub due_at: DateTimeUtc,
        pub done_at: Option<DateTimeUtc>,
        pub done_by: Option<Uuid>,
        #[sea_orm(column_type = "Text")]
        pub notes: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod violation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "measure_violations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub measure_id: Uuid,
        pub at: DateTimeUtc,
        #[sea_orm(column_type = "Text")]
        pub notes: String,
        pub recorded_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
