//! Deadline rows, the mail outbox and cron job runs.
#![allow(clippy::derive_partial_eq_without_eq)]

pub mod deadline {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "deadlines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub subject_kind: String,
        pub subject_id: Uuid,
        pub kind: String,
        pub due_at: DateTimeUtc,
        pub fired_at: Option<DateTimeUtc>,
        pub cancelled_at: Option<DateTimeUtc>,
        pub claimed_by: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mail {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub recipient: String,
        #[sea_orm(column_type = "Text")]
        pub subject: String,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub message_id: String,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        pub failed_at: Option<DateTimeUtc>,
        #[sea_orm(column_type = "Text")]
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod job_run {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "job_runs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub job: String,
        pub started_at: DateTimeUtc,
        pub finished_at: DateTimeUtc,
        pub ok: bool,
        #[sea_orm(column_type = "Text")]
        pub result: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
