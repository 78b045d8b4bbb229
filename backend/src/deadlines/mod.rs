//! The deadline store: rows with a due time, scheduled inside the caller's
//! transaction and claimed exactly once by whichever process fires them.
//! It knows nothing about cases or escalations; `scheduler/` decides what a
//! fired deadline means.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::db::entities::deadline;

pub use deadline::Model as Deadline;

pub async fn schedule(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    subject_kind: &str,
    subject_id: Uuid,
    kind: &str,
    due_at: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let ids = schedule_many(conn, now, &[(subject_kind, subject_id, kind, due_at)]).await?;
    ids.into_iter()
        .next()
        .ok_or_else(|| DbErr::Custom("no deadline scheduled".into()))
}

/// Schedule several deadlines, `(subject kind, subject id, kind, due at)`,
/// in a single statement (a batch of intakes writes two per case). Returns
/// their ids in order.
pub async fn schedule_many(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    due: &[(&str, Uuid, &str, DateTime<Utc>)],
) -> Result<Vec<Uuid>, DbErr> {
    insert_many(conn, now, due, None).await
}

/// Deadlines already due when they are written, recorded as fired by
/// `by` in the caller's transaction — for the callers whose firing means
/// nothing but "she is due now" (a ledger import's reviews past due: the
/// engine would otherwise claim tens of thousands one transaction each).
pub async fn record_fired_many(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    due: &[(&str, Uuid, &str, DateTime<Utc>)],
    by: &str,
) -> Result<Vec<Uuid>, DbErr> {
    insert_many(conn, now, due, Some(by)).await
}

async fn insert_many(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    due: &[(&str, Uuid, &str, DateTime<Utc>)],
    fired_by: Option<&str>,
) -> Result<Vec<Uuid>, DbErr> {
    let (ids, rows) = rows(now, due, fired_by);
    crate::db::bulk::insert_rows(conn, rows).await?;
    Ok(ids)
}

/// The rows of deadlines `due`, unwritten, and their ids (for
/// `Work::schedule_staged`, which writes them with the commit).
pub fn rows(
    now: DateTime<Utc>,
    due: &[(&str, Uuid, &str, DateTime<Utc>)],
    fired_by: Option<&str>,
) -> (Vec<Uuid>, Vec<deadline::ActiveModel>) {
    let ids: Vec<Uuid> = due.iter().map(|_| crate::db::new_id()).collect();
    let rows = due
        .iter()
        .zip(&ids)
        .map(
            |((subject_kind, subject_id, kind, due_at), id)| deadline::ActiveModel {
                id: Set(*id),
                subject_kind: Set(subject_kind.to_string()),
                subject_id: Set(*subject_id),
                kind: Set(kind.to_string()),
                due_at: Set(*due_at),
                fired_at: Set(fired_by.map(|_| now)),
                cancelled_at: Set(None),
                claimed_by: Set(fired_by.map(str::to_string)),
                created_at: Set(now),
            },
        )
        .collect();
    (ids, rows)
}

/// Cancel pending deadlines of `kinds` for a subject (e.g. the accept
/// deadline once the case is accepted).
pub async fn cancel(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    subject_id: Uuid,
    kinds: &[&str],
) -> Result<u64, DbErr> {
    Ok(deadline::Entity::update_many()
        .col_expr(deadline::Column::CancelledAt, Expr::value(now))
        .filter(deadline::Column::SubjectId.eq(subject_id))
        .filter(deadline::Column::Kind.is_in(kinds.iter().copied()))
        .filter(deadline::Column::FiredAt.is_null())
        .filter(deadline::Column::CancelledAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

/// The earliest pending due time.
///
/// Asked as the first row of the pending index in due order, not as
/// `MIN(due_at)`: on a table PostgreSQL has no statistics for yet (a new
/// or freshly loaded database), its cached plan for the aggregate read
/// every pending row, 14 ms with 18,000 of them, and the engine asks after
/// every commit that schedules a deadline.
pub async fn next_due(conn: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    deadline::Entity::find()
        .select_only()
        .column(deadline::Column::DueAt)
        .filter(deadline::Column::FiredAt.is_null())
        .filter(deadline::Column::CancelledAt.is_null())
        .order_by_asc(deadline::Column::DueAt)
        .limit(1)
        .into_tuple::<DateTime<Utc>>()
        .one(conn)
        .await
}

/// Candidates due at `now`, oldest first. Claim each with [`claim`].
pub async fn due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Deadline>, DbErr> {
    deadline::Entity::find()
        .filter(deadline::Column::FiredAt.is_null())
        .filter(deadline::Column::CancelledAt.is_null())
        .filter(deadline::Column::DueAt.lte(now))
        .order_by_asc(deadline::Column::DueAt)
        .limit(limit)
        .all(conn)
        .await
}

/// Mark one deadline fired if nobody else has: a conditional update, so with
/// several processes exactly one wins. Run it in the same transaction as
/// the effects of firing, so a crash between the two cannot lose either.
pub async fn claim(
    conn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
    node: &str,
) -> Result<bool, DbErr> {
    let res = deadline::Entity::update_many()
        .col_expr(deadline::Column::FiredAt, Expr::value(now))
        .col_expr(deadline::Column::ClaimedBy, Expr::value(node.to_string()))
        .filter(deadline::Column::Id.eq(id))
        .filter(deadline::Column::FiredAt.is_null())
        .filter(deadline::Column::CancelledAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}
