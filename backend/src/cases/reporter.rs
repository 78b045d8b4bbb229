//! The reporter of a mandatory report (Anti-Domestic Violence Law art.
//! 14): a school, a hospital, a village committee… Stored apart from the
//! case and shown to the police and the hotline only — never to the
//! station, supervisors, in events, mail or reports — because the police
//! must keep the reporter's identity confidential.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{error::Result, vocab::ReporterOrg};

#[allow(clippy::derive_partial_eq_without_eq)]
pub mod mandatory_reporter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "mandatory_reporters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub case_id: Uuid,
        pub org_type: crate::vocab::ReporterOrg,
        pub org_name: String,
        pub person: Option<String>,
        pub phone: Option<String>,
        pub reported_to_police_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReporterInput {
    pub org_type: ReporterOrg,
    pub org_name: String,
    pub person: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReporterView {
    pub case_id: Uuid,
    pub org_type: ReporterOrg,
    pub org_name: String,
    pub person: Option<String>,
    pub phone: Option<String>,
    /// When the report reached the police (its escalation opened).
    pub reported_to_police_at: DateTime<Utc>,
}

/// Write the reporter in the intake's transaction.
pub async fn insert(
    conn: &impl ConnectionTrait,
    case_id: Uuid,
    r: &ReporterInput,
    now: DateTime<Utc>,
) -> Result<()> {
    mandatory_reporter::Entity::insert(mandatory_reporter::ActiveModel {
        case_id: Set(case_id),
        org_type: Set(r.org_type),
        org_name: Set(r.org_name.clone()),
        person: Set(r.person.clone()),
        phone: Set(r.phone.clone()),
        reported_to_police_at: Set(now),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &impl ConnectionTrait, case_id: Uuid) -> Result<Option<ReporterView>> {
    Ok(mandatory_reporter::Entity::find_by_id(case_id)
        .one(conn)
        .await?
        .map(|r| ReporterView {
            case_id: r.case_id,
            org_type: r.org_type,
            org_name: r.org_name,
            person: r.person,
            phone: r.phone,
            reported_to_police_at: r.reported_to_police_at,
        }))
}
