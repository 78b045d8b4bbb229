//! The outbox as admins see it: mail by status, paged, and a failed
//! message queued again (`GET /api/v1/admin/outbox`, `POST …/retry`).
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    db::entities::mail,
    error::{Error, Result},
};

pub(super) fn pending() -> Condition {
    Condition::all()
        .add(mail::Column::SentAt.is_null())
        .add(mail::Column::FailedAt.is_null())
}

/// Filter for `GET /api/v1/admin/outbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Not yet sent and not given up (including retries waiting).
    Pending,
    Sent,
    /// Given up: a permanent error or too many attempts.
    Failed,
}

/// One outbox row as admins see it (the body is left out: it is for the
/// recipient).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxItem {
    pub id: Uuid,
    pub status: OutboxStatus,
    pub recipient: String,
    pub subject: String,
    pub message_id: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl From<mail::Model> for OutboxItem {
    fn from(m: mail::Model) -> Self {
        let status = if m.sent_at.is_some() {
            OutboxStatus::Sent
        } else if m.failed_at.is_some() {
            OutboxStatus::Failed
        } else {
            OutboxStatus::Pending
        };
        OutboxItem {
            id: m.id,
            status,
            recipient: m.recipient,
            subject: m.subject,
            message_id: m.message_id,
            attempts: m.attempts,
            created_at: m.created_at,
            next_attempt_at: (status == OutboxStatus::Pending).then_some(m.next_attempt_at),
            sent_at: m.sent_at,
            failed_at: m.failed_at,
            last_error: m.last_error,
        }
    }
}

/// A page of the outbox, newest first. The cursor is
/// `<created_at in µs>_<id>` of the last row of the previous page.
pub async fn list_outbox(
    conn: &impl ConnectionTrait,
    status: Option<OutboxStatus>,
    limit: u64,
    cursor: Option<&str>,
) -> Result<(Vec<OutboxItem>, Option<String>)> {
    let mut query = mail::Entity::find();
    query = match status {
        Some(OutboxStatus::Pending) => query.filter(pending()),
        Some(OutboxStatus::Sent) => query.filter(mail::Column::SentAt.is_not_null()),
        Some(OutboxStatus::Failed) => query
            .filter(mail::Column::SentAt.is_null())
            .filter(mail::Column::FailedAt.is_not_null()),
        None => query,
    };
    if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
        let (at, id) = parse_cursor(cursor)?;
        query = query.filter(
            Condition::any().add(mail::Column::CreatedAt.lt(at)).add(
                Condition::all()
                    .add(mail::Column::CreatedAt.eq(at))
                    .add(mail::Column::Id.lt(id)),
            ),
        );
    }
    let mut rows = query
        .order_by_desc(mail::Column::CreatedAt)
        .order_by_desc(mail::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        rows.last()
            .map(|m| format!("{}_{}", m.created_at.timestamp_micros(), m.id))
    } else {
        None
    };
    Ok((rows.into_iter().map(OutboxItem::from).collect(), next))
}

fn parse_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid)> {
    let bad = || Error::validation("cursor", "not a cursor from a previous page");
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((at, id))
}

/// Re-queue a failed message: attempts start again from zero, due now.
/// The caller wakes the sender after this returns.
pub async fn retry(
    db: &crate::db::Db,
    now: DateTime<Utc>,
    actor_id: Uuid,
    id: Uuid,
) -> Result<OutboxItem> {
    let txn = db.begin_write().await?;
    let row = mail::Entity::find_by_id(id)
        .one(&*txn)
        .await?
        .ok_or(Error::NotFound("message"))?;
    if row.sent_at.is_some() || row.failed_at.is_none() {
        return Err(Error::InvalidTransition(
            "only a failed message can be retried".into(),
        ));
    }
    mail::Entity::update_many()
        .col_expr(
            mail::Column::FailedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(mail::Column::Attempts, Expr::value(0))
        .col_expr(mail::Column::NextAttemptAt, Expr::value(now))
        .filter(mail::Column::Id.eq(id))
        .exec(&*txn)
        .await?;
    crate::audit::append(
        &*txn,
        now,
        Some(actor_id),
        "mail.retry",
        format!("mail_outbox/{id}"),
        serde_json::json!({"attempts": row.attempts, "last_error": row.last_error}),
    )
    .await?;
    let updated = mail::Entity::find_by_id(id)
        .one(&*txn)
        .await?
        .ok_or(Error::NotFound("message"))?;
    txn.commit().await?;
    Ok(updated.into())
}
