//! The hotline loop's tables (issue 18), kept beside the module:
//! `callbacks`, `case_contact_safety`, `case_extensions`, `case_links`.
//! Enumerated columns carry their `vocab` types (fail closed on read).
#![allow(clippy::derive_partial_eq_without_eq)]

pub mod callback {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "callbacks")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: crate::vocab::CallbackKind,
        /// The queue's order: missed calls (0) before the rest (1).
        pub queue_rank: i32,
        pub case_id: Option<Uuid>,
        pub call_id: Option<Uuid>,
        /// The number to call, normalised; never in an event or a list.
        pub phone: Option<String>,
        /// The case's place (supervisors' scope); null for a missed call.
        pub region_code: Option<String>,
        pub due_at: DateTimeUtc,
        pub status: crate::vocab::CallbackStatus,
        /// `[{at, by, reached, safe_to_talk, notes}]`.
        pub attempts: Json,
        pub satisfaction: Option<crate::vocab::Satisfaction>,
        pub reason: Option<crate::vocab::DissatisfactionReason>,
        #[sea_orm(column_type = "Text")]
        pub result_notes: Option<String>,
        pub created_at: DateTimeUtc,
        pub closed_at: Option<DateTimeUtc>,
        pub closed_by: Option<Uuid>,
        pub version: i32,
        /// What a follow-up call is for (who scheduled it wrote it).
        #[sea_orm(column_type = "Text")]
        pub notes: Option<String>,
        /// Who scheduled a follow-up; null for the system's callbacks.
        pub scheduled_by: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod contact_safety {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_contact_safety")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        /// `cases::contact_safety::SafeContact`.
        pub contact: Json,
        /// The subject's number while she must get no SMS: the SMS outbox
        /// drops any text to it.
        pub no_sms_phone: Option<String>,
        pub updated_by: Uuid,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod extension {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_extensions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub case_id: Uuid,
        pub unit_id: Option<Uuid>,
        pub requested_by: Uuid,
        pub requested_at: DateTimeUtc,
        pub previous_due_at: DateTimeUtc,
        pub until_at: DateTimeUtc,
        #[sea_orm(column_type = "Text")]
        pub reason: String,
        pub status: crate::vocab::ExtensionStatus,
        pub decided_by: Option<Uuid>,
        pub decided_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text")]
        pub decision_note: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod link {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_links")]
    pub struct Model {
        /// For a duplicate: the duplicate; `other_case_id` is the original.
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub other_case_id: Uuid,
        pub kind: crate::vocab::LinkKind,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
