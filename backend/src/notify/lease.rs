//! The lease both outboxes (mail, texts) share: a sender claims the due
//! rows of a pass by pushing their `next_attempt_at` a lease into the
//! future — only where the row is still due and unsent, so of several
//! processes on one database exactly one wins each row — and gives back
//! the rows it claimed but did not reach. Each is one write transaction
//! for the whole pass (`Db::update_all`), not one per message. Between
//! the two, [`send_claimed`] delivers the claimed rows several at once.
use std::future::Future;

use chrono::{DateTime, Utc};
use futures_util::{stream::FuturesUnordered, StreamExt};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, UpdateMany,
};
use uuid::Uuid;

use crate::db::Db;

/// An outbox table's lease: its columns and how long a claim holds.
pub struct Lease<E: EntityTrait> {
    pub id: E::Column,
    /// The id of a row read from the table.
    pub id_of: fn(&E::Model) -> Uuid,
    pub next_attempt_at: E::Column,
    /// Neither sent nor given up.
    pub pending: fn() -> Condition,
    pub length: chrono::Duration,
    /// Claimed rows are started within this (half the lease, say), so
    /// none is sent after another process may have claimed it again.
    pub send_within: std::time::Duration,
    /// Messages in flight at once (texts: [`SENDING_AT_ONCE`]; mail:
    /// `smtp.connections`).
    pub at_once: usize,
    /// Who is sending, for the log.
    pub sender: &'static str,
}

impl<E: EntityTrait> Lease<E> {
    /// One sender's pass over `due` (read as due at `now`): claim them in
    /// one commit, deliver the ones won ([`send_claimed`]: `attempt` sends
    /// one, `save` commits outcomes), and give back at once the claims not
    /// started because `stop` said so or [`Lease::send_within`] ran out.
    /// A failed give-back ends nothing early: those rows stay claimed
    /// until their lease runs out.
    pub async fn pass<'r, T, F, S>(
        &self,
        db: &Db,
        due: Vec<&'r E::Model>,
        now: DateTime<Utc>,
        stop: impl Fn() -> bool,
        attempt: impl Fn(&'r E::Model) -> F,
        save: impl Fn(Vec<T>) -> S,
    ) -> Result<(), DbErr>
    where
        F: Future<Output = T>,
        S: Future<Output = ()>,
    {
        let claimed = self.claim(db, due, now).await?;
        let started = std::time::Instant::now();
        let give_up = || stop() || started.elapsed() > self.send_within;
        let unsent: Vec<Uuid> = send_claimed(claimed, self.at_once, give_up, attempt, save)
            .await
            .into_iter()
            .map(self.id_of)
            .collect();
        if let Err(e) = self.release(db, &unsent, now).await {
            tracing::error!(error = %e, sender = self.sender, "cannot give back unsent claims; their lease runs out");
        }
        Ok(())
    }

    /// Claim `rows` (read as due at `now`): the ones this process won. One
    /// statement for them all, which answers with the ids it changed: a
    /// row another process claimed first is no longer due, and is not
    /// among them.
    async fn claim<'r>(
        &self,
        db: &Db,
        rows: Vec<&'r E::Model>,
        now: DateTime<Utc>,
    ) -> Result<Vec<&'r E::Model>, DbErr> {
        if rows.is_empty() {
            return Ok(rows);
        }
        let update = E::update_many()
            .col_expr(self.next_attempt_at, Expr::value(now + self.length))
            .filter(self.id.is_in(rows.iter().map(|row| (self.id_of)(row))))
            .filter((self.pending)())
            .filter(self.next_attempt_at.lte(now));
        let won: std::collections::HashSet<Uuid> = db
            .update_returning_ids(update, self.id)
            .await?
            .into_iter()
            .collect();
        Ok(rows
            .into_iter()
            .filter(|row| won.contains(&(self.id_of)(row)))
            .collect())
    }

    /// Claimed rows not sent: due again at `now`.
    async fn release(&self, db: &Db, ids: &[Uuid], now: DateTime<Utc>) -> Result<(), DbErr> {
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

/// A delivery attempt to save ([`saving`]): a message sent, or another
/// outcome's changes to its row (`E::update_many()` with the columns it
/// sets, unfiltered: [`saving`] names the row and counts the attempt).
pub enum Attempted<E: EntityTrait> {
    Sent(Uuid),
    Other(Uuid, Box<UpdateMany<E>>),
}

/// The columns of an outbox that saving an attempt sets.
pub struct OutboxColumns<C> {
    pub id: C,
    pub attempts: C,
    pub sent_at: C,
    /// Cleared on sending, where the outbox does so.
    pub last_error: Option<C>,
}

/// The statements that save `attempts` made by `now`, each counting its
/// attempt (`attempts + 1`): one for every message sent (sent at `now`) —
/// a statement a message held the writer for a round trip each — then
/// each other outcome's own, on its row.
pub fn saving<E: EntityTrait>(
    attempts: Vec<Attempted<E>>,
    columns: &OutboxColumns<E::Column>,
    now: DateTime<Utc>,
) -> Vec<UpdateMany<E>> {
    let counted = |update: UpdateMany<E>| {
        update.col_expr(columns.attempts, Expr::col(columns.attempts).add(1))
    };
    let mut sent = Vec::new();
    let mut updates = Vec::new();
    for a in attempts {
        match a {
            Attempted::Sent(id) => sent.push(id),
            Attempted::Other(id, update) => {
                updates.push(counted(*update).filter(columns.id.eq(id)))
            }
        }
    }
    if !sent.is_empty() {
        let mut marked = counted(E::update_many())
            .col_expr(columns.sent_at, Expr::value(now))
            .filter(columns.id.is_in(sent));
        if let Some(last_error) = columns.last_error {
            marked = marked.col_expr(last_error, Expr::value(Option::<String>::None));
        }
        updates.insert(0, marked);
    }
    updates
}

/// Messages a pass has in flight at once by default (mail:
/// `smtp.connections`). One at a time, each SMTP
/// message waited ~40 ms on TCP's delayed ACK (lettre writes the body and
/// its closing dot apart; the relay answers only after the dot): ~23 a
/// second, so a surge of escalations left the police's mail queued for
/// minutes (`bench_intake --outlets network`); a slow gateway held up
/// texts the same way. Nor does one slow recipient hold up the others.
pub const SENDING_AT_ONCE: usize = 16;

/// Delivery outcomes saved per commit: under load a commit per message
/// (two, with its claim) took the writer more often than intake did. A
/// crash before a commit sends those messages again (same Message-ID or
/// text id).
pub const RECORD_EVERY: usize = 16;

/// Deliver the `claimed` rows of a pass, up to `at_once` at a
/// time; `attempt` sends one and gives the update that records its
/// outcome, and `save` commits those updates [`RECORD_EVERY`] at a time.
/// Returns the rows not started because `give_up` said so (shutdown, or
/// the pass near its lease's end): they are to be given back. `give_up`
/// is asked just before each row would start.
pub async fn send_claimed<'a, R, T, F, S>(
    claimed: Vec<&'a R>,
    at_once: usize,
    give_up: impl Fn() -> bool,
    attempt: impl Fn(&'a R) -> F,
    save: impl Fn(Vec<T>) -> S,
) -> Vec<&'a R>
where
    F: Future<Output = T>,
    S: Future<Output = ()>,
{
    let mut rows = claimed.into_iter();
    let mut in_flight = FuturesUnordered::new();
    let (mut records, mut unsent) = (Vec::new(), Vec::new());
    loop {
        while in_flight.len() < at_once.max(1) {
            let Some(row) = rows.next() else { break };
            if give_up() {
                unsent.push(row);
            } else {
                in_flight.push(attempt(row));
            }
        }
        let Some(record) = in_flight.next().await else {
            break;
        };
        records.push(record);
        if records.len() >= RECORD_EVERY {
            save(std::mem::take(&mut records)).await;
        }
    }
    if !records.is_empty() {
        save(records).await;
    }
    unsent
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_pass_sends_several_at_once_and_gives_back_what_it_did_not_start() {
        let rows: Vec<usize> = (0..40).collect();
        let (started, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let in_flight = AtomicUsize::new(0);
        let saved = std::sync::Mutex::new(Vec::new());
        let unsent = send_claimed(
            rows.iter().collect(),
            SENDING_AT_ONCE,
            || started.load(Ordering::SeqCst) >= 20,
            |row: &usize| {
                started.fetch_add(1, Ordering::SeqCst);
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let in_flight = &in_flight;
                async move {
                    tokio::task::yield_now().await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    *row * 2
                }
            },
            |records: Vec<usize>| {
                if let Ok(mut saved) = saved.lock() {
                    saved.push(records);
                }
                async {}
            },
        )
        .await;
        let saved = saved.into_inner().unwrap_or_default();
        assert_eq!(
            saved.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![16, 4],
            "outcomes saved 16 to a commit"
        );
        let mut doubled: Vec<usize> = saved.concat();
        doubled.sort_unstable();
        assert_eq!(doubled, (0..20).map(|r| r * 2).collect::<Vec<_>>());
        assert_eq!(
            unsent.into_iter().copied().collect::<Vec<_>>(),
            (20..40).collect::<Vec<_>>(),
            "none started after give_up said so; those are given back"
        );
        assert_eq!(
            most.load(Ordering::SeqCst),
            SENDING_AT_ONCE,
            "16 in flight at once"
        );
    }

    #[test]
    fn the_messages_sent_are_marked_by_one_statement_before_the_other_outcomes() {
        use crate::db::entities::mail;
        use sea_orm::{DbBackend, QueryTrait};
        let (a, b, c) = (Uuid::nil(), Uuid::max(), Uuid::from_u128(7));
        let failed =
            mail::Entity::update_many().col_expr(mail::Column::LastError, Expr::value("refused"));
        let columns = OutboxColumns {
            id: mail::Column::Id,
            attempts: mail::Column::Attempts,
            sent_at: mail::Column::SentAt,
            last_error: Some(mail::Column::LastError),
        };
        let attempts = vec![
            Attempted::Sent(a),
            Attempted::Other(c, Box::new(failed)),
            Attempted::Sent(b),
        ];
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let sql: Vec<String> = saving(attempts, &columns, now)
            .into_iter()
            .map(|u| u.build(DbBackend::Sqlite).to_string())
            .collect();
        assert_eq!(sql.len(), 2, "{sql:?}");
        assert!(
            sql[0].contains(r#""attempts" = "attempts" + 1"#)
                && sql[0].contains(r#""last_error" = NULL"#)
                && sql[0].contains(&a.to_string())
                && sql[0].contains(&b.to_string()),
            "{}",
            sql[0]
        );
        assert!(sql[1].contains("refused") && !sql[1].contains(&a.to_string()));
        assert!(
            sql[1].contains(r#""attempts" = "attempts" + 1"#) && sql[1].contains(&c.to_string()),
            "another outcome counts its attempt on its own row: {}",
            sql[1]
        );
        assert!(saving::<mail::Entity>(Vec::new(), &columns, now).is_empty());
    }
}
