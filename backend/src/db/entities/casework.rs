//! Cases, their handlers, calls, the case event log, routing rules and counters.
#![allow(clippy::derive_partial_eq_without_eq)]

pub mod counter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "counters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub value: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod routing_rule {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "routing_rules")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub category: crate::vocab::Category,
        pub unit_kind: crate::vocab::UnitKind,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod case {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "cases")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub number: String,
        pub category: crate::vocab::Category,
        pub status: crate::vocab::CaseStatus,
        pub priority: crate::vocab::Priority,
        pub risk_level: crate::vocab::RiskLevel,
        pub region_code: String,
        #[sea_orm(column_type = "Text")]
        pub summary: String,
        #[sea_orm(column_type = "Text")]
        pub description: Option<String>,
        pub subject_name: Option<String>,
        pub subject_phone: Option<String>,
        pub subject_id_number: Option<String>,
        pub assigned_unit_id: Option<Uuid>,
        pub assignee_id: Option<Uuid>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub version: i32,
        pub accept_due_at: Option<DateTimeUtc>,
        pub resolve_due_at: Option<DateTimeUtc>,
        pub follow_up_due_at: Option<DateTimeUtc>,
        pub confirmation_due_at: Option<DateTimeUtc>,
        pub overdue: bool,
        pub outcome: Option<Json>,
        pub resolved_at: Option<DateTimeUtc>,
        pub closed_at: Option<DateTimeUtc>,
        /// The whole danger screen as the operator took it (answers,
        /// in progress, concern, notes, who, when). Never in mail or feed.
        pub danger_screen: Option<Json>,
        /// When a case left `new` at the hotline centre must be dispatched.
        pub dispatch_due_at: Option<DateTimeUtc>,
        /// The parties' judicial confirmation of a mediation agreement.
        pub confirmation: Option<Json>,
        /// Where to go: an address or landmark beside the place (free
        /// text, at most 200 characters). Never in events or mail.
        pub place_note: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// A case for unit tests: assigned, normal, no risk, at a village of
    /// 阳朔县; tests change what they look at with struct update syntax.
    #[cfg(test)]
    pub fn sample() -> Model {
        let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        Model {
            id: Uuid::nil(),
            number: "2026-000001".into(),
            category: crate::vocab::Category::DomesticViolence,
            status: crate::vocab::CaseStatus::Assigned,
            priority: crate::vocab::Priority::Normal,
            risk_level: crate::vocab::RiskLevel::None,
            region_code: "450321101201".into(),
            summary: "x".into(),
            description: None,
            subject_name: None,
            subject_phone: None,
            subject_id_number: None,
            assigned_unit_id: None,
            assignee_id: None,
            created_by: Uuid::nil(),
            created_at: at,
            updated_at: at,
            version: 1,
            accept_due_at: None,
            resolve_due_at: None,
            follow_up_due_at: None,
            confirmation_due_at: None,
            overdue: false,
            outcome: None,
            resolved_at: None,
            closed_at: None,
            danger_screen: None,
            dispatch_due_at: None,
            confirmation: None,
            place_note: None,
        }
    }
}

pub mod case_handler {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_handlers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod call {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "calls")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The caller's number normalised, when it is a mainland number.
        pub phone: Option<String>,
        pub channel: crate::vocab::Channel,
        pub received_at: DateTimeUtc,
        pub duration_s: Option<i32>,
        pub operator_id: Option<Uuid>,
        pub case_id: Option<Uuid>,
        pub cti_ref: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub summary: Option<String>,
        pub created_at: DateTimeUtc,
        /// The number as the operator or the exchange gave it.
        pub phone_raw: Option<String>,
        /// When an operator took it (CTI `answered` or `POST /calls`);
        /// null: never answered.
        pub answered_at: Option<DateTimeUtc>,
        /// The exchange's hangup cause (`noAnswer`, `cancel`, `busy`, …).
        pub hangup_cause: Option<String>,
        /// What the call came to (issue 18).
        pub disposition: Option<crate::vocab::Disposition>,
        /// `[CallTopic]` of a consultation.
        pub topics: Option<Json>,
        #[sea_orm(column_type = "Text")]
        pub disposition_notes: Option<String>,
        pub disposed_by: Option<Uuid>,
        pub disposed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod case_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "case_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub feed_seq: i64,
        pub case_id: Uuid,
        pub case_number: String,
        pub kind: String,
        pub actor_id: Option<Uuid>,
        pub unit_id: Option<Uuid>,
        pub prev_unit_id: Option<Uuid>,
        pub police_unit_id: Option<Uuid>,
        pub region_code: String,
        pub at: DateTimeUtc,
        pub data: Json,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
