//! Text messages to duty phones: the SMS outbox (rows written in the
//! transaction of the change that causes them, drained by `sms_sender`
//! with retry, as mail is) and the duty phone of each unit. A message
//! carries the case number and a link only — never a name, an address or
//! a story.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};
use uuid::Uuid;

/// A text to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Sms {
    pub recipient: String,
    pub body: String,
}

#[allow(clippy::derive_partial_eq_without_eq)]
pub mod sms_message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "sms_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub recipient: String,
        #[sea_orm(column_type = "Text")]
        pub body: String,
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

#[allow(clippy::derive_partial_eq_without_eq)]
pub mod unit_phone {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "unit_phones")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub unit_id: Uuid,
        pub duty_phone: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The recipients among `messages` who must never get a text: a case
/// subject whose safe contact says `no_sms` (issue 18), in any form of
/// her number.
async fn silenced(
    conn: &impl ConnectionTrait,
    messages: &[Sms],
) -> Result<std::collections::HashSet<String>, DbErr> {
    use crate::hotline::entity::contact_safety;
    let norm = |r: &str| {
        crate::cases::model::PhoneNumber::parse(r)
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|_| r.trim().to_string())
    };
    let numbers: Vec<String> = messages.iter().map(|m| norm(&m.recipient)).collect();
    if numbers.is_empty() {
        return Ok(Default::default());
    }
    let blocked: std::collections::HashSet<String> = contact_safety::Entity::find()
        .filter(contact_safety::Column::NoSmsPhone.is_in(numbers))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|r| r.no_sms_phone)
        .collect();
    Ok(messages
        .iter()
        .map(|m| m.recipient.clone())
        .filter(|r| blocked.contains(&norm(r)))
        .collect())
}

/// The outbox rows of `messages`, unwritten (the unit of work writes them
/// with its commit): the same text to the same phone once; never to a
/// number marked `no_sms`, as the caller's transaction reads it.
pub async fn outbox_rows(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    messages: Vec<Sms>,
) -> Result<Vec<sms_message::ActiveModel>, DbErr> {
    let silenced = silenced(conn, &messages).await?;
    if !silenced.is_empty() {
        tracing::info!(
            dropped = silenced.len(),
            "texts to numbers marked no_sms were not queued"
        );
    }
    let mut seen = std::collections::HashSet::new();
    Ok(messages
        .into_iter()
        .filter(|m| !silenced.contains(&m.recipient))
        .filter(|m| seen.insert((m.recipient.clone(), m.body.clone())))
        .map(|m| sms_message::ActiveModel {
            id: Set(crate::db::new_id()),
            recipient: Set(m.recipient),
            body: Set(m.body),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            sent_at: Set(None),
            failed_at: Set(None),
            last_error: Set(None),
        })
        .collect())
}

/// The unit's duty phone, if it has one.
pub async fn duty_phone(conn: &impl ConnectionTrait, unit: Uuid) -> Result<Option<String>, DbErr> {
    Ok(unit_phone::Entity::find_by_id(unit)
        .one(conn)
        .await?
        .map(|p| p.duty_phone))
}

/// The duty phones of several units.
pub async fn duty_phones(
    conn: &impl ConnectionTrait,
    units: &[Uuid],
) -> Result<Vec<(Uuid, String)>, DbErr> {
    if units.is_empty() {
        return Ok(Vec::new());
    }
    Ok(unit_phone::Entity::find()
        .filter(unit_phone::Column::UnitId.is_in(units.to_vec()))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.unit_id, p.duty_phone))
        .collect())
}

/// Set or clear (`None`) a unit's duty phone.
pub async fn set_duty_phone(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    unit: Uuid,
    phone: Option<&str>,
) -> Result<(), DbErr> {
    match phone {
        None => {
            unit_phone::Entity::delete_by_id(unit).exec(conn).await?;
        }
        Some(p) => {
            unit_phone::Entity::insert(unit_phone::ActiveModel {
                unit_id: Set(unit),
                duty_phone: Set(p.to_string()),
                updated_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(unit_phone::Column::UnitId)
                    .update_columns([unit_phone::Column::DutyPhone, unit_phone::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        }
    }
    Ok(())
}
