//! The lease both outboxes (mail, texts) share: a sender claims the due
//! rows of a pass by pushing their `next_attempt_at` a lease into the
//! future — only where the row is still due and unsent, so of several
//! processes on one database exactly one wins each row — and gives back
//! the rows it claimed but did not reach. Each is one write transaction
//! for the whole pass (`Db::update_all`), not one per message.
use chrono::{DateTime, Utc};
use sea_orm::{sea_query::Expr, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::Db;

/// An outbox table's lease: its columns and how long a claim holds.
pub struct Lease<E: EntityTrait> {
    pub id: E::Column,
    pub next_attempt_at: E::Column,
    /// Neither sent nor given up.
    pub pending: fn() -> Condition,
    pub length: chrono::Duration,
}

impl<E: EntityTrait> Lease<E> {
    /// Claim `rows` (read as due at `now`): the ones this process won.
    pub async fn claim<'r, R>(
        &self,
        db: &Db,
        rows: Vec<&'r R>,
        id: impl Fn(&R) -> Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<&'r R>, DbErr> {
        let updates = rows
            .iter()
            .map(|row| {
                E::update_many()
                    .col_expr(self.next_attempt_at, Expr::value(now + self.length))
                    .filter(self.id.eq(id(row)))
                    .filter((self.pending)())
                    .filter(self.next_attempt_at.lte(now))
            })
            .collect();
        let won = db.update_all(updates).await?;
        Ok(rows
            .into_iter()
            .zip(won)
            .filter(|(_, n)| *n == 1)
            .map(|(row, _)| row)
            .collect())
    }

    /// Claimed rows not sent: due again at `now`.
    pub async fn release(&self, db: &Db, ids: &[Uuid], now: DateTime<Utc>) -> Result<(), DbErr> {
        if ids.is_empty() {
            return Ok(());
        }
        let update = E::update_many()
            .col_expr(self.next_attempt_at, Expr::value(now))
            .filter(self.id.is_in(ids.iter().copied()))
            .filter((self.pending)());
        db.update_all(vec![update]).await?;
        Ok(())
    }
}
