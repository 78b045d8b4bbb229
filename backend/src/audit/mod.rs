//! The append-only audit log: who did what, to which record, when. Always
//! written inside the caller's transaction, so an audited change and its
//! audit row commit or vanish together. Nothing here updates or deletes.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::db::entities::audit_entry;

pub async fn append(
    txn: &impl ConnectionTrait,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    action: &str,
    target: String,
    detail: Value,
) -> Result<(), DbErr> {
    audit_entry::Entity::insert(audit_entry::ActiveModel {
        id: Set(crate::db::new_id()),
        at: Set(at),
        actor_id: Set(actor_id),
        action: Set(action.to_string()),
        target: Set(target),
        detail: Set(detail),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
