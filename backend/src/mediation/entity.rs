//! The mediation tables (sea-orm entities), kept inside the mediation
//! module: nothing outside it reads them. Enumerated columns carry the
//! `vocab` types, so a stored value no release wrote fails the read.
#![allow(clippy::derive_partial_eq_without_eq)]

pub mod mediation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "mediations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub case_id: Uuid,
        /// The committee (or station) that registered the dispute.
        pub unit_id: Uuid,
        pub status: crate::vocab::MediationStatus,
        #[sea_orm(column_type = "Text")]
        pub dispute: String,
        /// `[{role, name, phone, id_number, address}]`, numbers in full:
        /// masked on the way out (`mediation::view`).
        pub parties: Json,
        pub consent_recorded: bool,
        /// Why mediation went ahead on an unsafe case (audited).
        #[sea_orm(column_type = "Text")]
        pub override_reason: Option<String>,
        pub registered_by: Uuid,
        pub registered_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub first_session_due_at: DateTimeUtc,
        pub first_session_at: Option<DateTimeUtc>,
        pub termination_reason: Option<crate::vocab::TerminationReason>,
        pub remedies_informed: Option<bool>,
        #[sea_orm(column_type = "Text")]
        pub termination_notes: Option<String>,
        pub terminated_at: Option<DateTimeUtc>,
        pub agreement_form: Option<crate::vocab::AgreementForm>,
        pub agreement_number: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub agreement_facts: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub agreement_terms: Option<String>,
        /// The agreement's effective date (midnight UTC of it): the
        /// parties' 30-day confirmation window counts from here.
        pub effective_at: Option<DateTimeUtc>,
        pub agreed_at: Option<DateTimeUtc>,
        pub agreed_by: Option<Uuid>,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "mediation_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub mediation_id: Uuid,
        /// 1 for the first session, and so on.
        pub n: i32,
        pub at: DateTimeUtc,
        pub place: String,
        /// `[{id, name}]` of the mediators present.
        pub mediators: Json,
        #[sea_orm(column_type = "Text")]
        pub attendees: String,
        #[sea_orm(column_type = "Text")]
        pub summary: String,
        pub recorded_by: Uuid,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod obligation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "mediation_obligations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub mediation_id: Uuid,
        /// The obligation's number in the agreement, from 1.
        pub n: i32,
        #[sea_orm(column_type = "Text")]
        pub text: String,
        /// The party who owes it (a registered party's name).
        pub party: String,
        pub due_at: DateTimeUtc,
        pub performed_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text")]
        pub performed_notes: Option<String>,
        pub performed_recorded_by: Option<Uuid>,
        /// When the mediator was reminded that it fell due unperformed.
        pub reminded_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
