//! The referral tables' sea-orm entities: `referrals` (one row per
//! referral, with its consent, reply, decline, withdrawal and urgings as
//! JSON) and `referral_co_handling` (the co-operating referral kinds a
//! routing category opens with every case). Kept beside the module.
//! Enumerated columns carry their `vocab` types (fail closed on read).
pub mod referral {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "referrals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub number: String,
        pub case_id: Uuid,
        /// The case's place, for supervisors' scope.
        pub region_code: String,
        pub from_unit_id: Option<Uuid>,
        pub to_unit_id: Uuid,
        /// The receiving unit's place: its supervisors are told of misses.
        pub to_region_code: String,
        pub kind: String,
        #[sea_orm(column_type = "Text")]
        pub request: String,
        pub legal_basis: crate::vocab::LegalBasis,
        pub consent: Option<Json>,
        pub status: crate::vocab::ReferralStatus,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub accept_due_at: DateTimeUtc,
        pub accepted_at: Option<DateTimeUtc>,
        pub accepted_by: Option<Uuid>,
        pub reply_due_at: Option<DateTimeUtc>,
        pub reply: Option<Json>,
        pub replied_at: Option<DateTimeUtc>,
        pub decline: Option<Json>,
        pub withdrawal: Option<Json>,
        pub urgings: Json,
        pub overdue: bool,
        pub updated_at: DateTimeUtc,
        pub version: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod co_handling {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "referral_co_handling")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub category: crate::vocab::Category,
        /// Referral kinds, a JSON array of names.
        pub kinds: Json,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
