//! Police escalations and the actions taken on them.
#![allow(clippy::derive_partial_eq_without_eq)]

pub mod escalation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "escalations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub case_id: Uuid,
        pub urgency: crate::vocab::Urgency,
        pub level: i16,
        pub status: crate::vocab::EscalationStatus,
        pub police_unit_id: Option<Uuid>,
        #[sea_orm(column_type = "Text")]
        pub reason: String,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub ack_due_at: DateTimeUtc,
        pub acknowledged_at: Option<DateTimeUtc>,
        pub acknowledged_by: Option<Uuid>,
        pub action_due_at: DateTimeUtc,
        pub first_action_at: Option<DateTimeUtc>,
        pub next_raise_at: Option<DateTimeUtc>,
        pub resolved_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text")]
        pub resolution: Option<String>,
        pub policy: Json,
        pub version: i32,
        /// The 110 incident or dispatch record number (issue 15).
        pub external_ref: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod escalation_action {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "escalation_actions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub escalation_id: Uuid,
        pub kind: crate::vocab::ActionKind,
        #[sea_orm(column_type = "Text")]
        pub notes: String,
        pub at: DateTimeUtc,
        pub by_user: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
