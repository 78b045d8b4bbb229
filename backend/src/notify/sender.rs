//! The mail sender: a task that drains the outbox over SMTP (lettre), or
//! into `.eml` files under `<data_dir>/mail/` when no SMTP URL is set, and
//! what admins see of its work (`GET /api/v1/admin/outbox`, retry).
//!
//! Delivery is at least once, never lost:
//! - A row is *claimed* by a conditional update that pushes its
//!   `next_attempt_at` a lease into the future, only if it is still due and
//!   unsent. Of several processes on one database exactly one wins; if the
//!   winner dies mid-send the lease runs out and another sends it again.
//!   (We do not hold a transaction or row lock across the SMTP dialogue:
//!   on SQLite that would block every writer for the length of a send.)
//! - Once the SMTP server accepts, the row is marked sent, with the
//!   other outcomes of its pass (up to 16 to a commit); a pass claims its
//!   rows in one commit, sends up to 16 at once over lettre's pool, and
//!   gives back those it did not reach.
//! - A temporary failure (connection refused, timeout, 4xx) is retried
//!   with exponential backoff; a permanent one (5xx, an address that does
//!   not parse) or running out of attempts marks the row failed: it stays
//!   visible to admins, who may re-queue it.
//! - The stable Message-ID lets a receiver recognise the rare duplicate
//!   (a crash between the server's "250 OK" and our update).
use std::{path::PathBuf, time::Duration};

use chrono::{DateTime, Utc};
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::PoolConfig,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use sea_orm::{
    sea_query::Expr, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{
    lease::{saving, Attempted, Lease, OutboxColumns},
    outbox::pending,
};
use crate::{
    db::entities::mail,
    error::{Error, Result},
    scheduler::{gather, sleep_until, MAX_NAP},
    shutdown::Shutdown,
    state::AppState,
};

/// Rows read per pass; a full batch is followed at once by the next.
const BATCH: u64 = 50;
/// How long a claimed row is reserved for the claimer: longer than one
/// SMTP dialogue can take ([`SMTP_TIMEOUT`] per command).
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// A pass sends its claimed rows within half their lease, so none is sent
/// after another process may have claimed it again.
const SEND_WITHIN: Duration = Duration::from_secs(150);
/// The longest pause between two attempts, however many have failed.
const MAX_BACKOFF_S: u64 = 3600;

/// Where messages go. Over SMTP lettre keeps a pool of connections (an
/// idle one is checked with NOOP before it is used again): a burst of
/// escalations' mail goes over open connections, not a new connection,
/// greeting and TLS handshake per message.
enum Outlet {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl Outlet {
    fn from_settings(state: &AppState) -> Result<Outlet> {
        let url = state.settings.smtp.url.trim();
        if url.is_empty() {
            return Ok(Outlet::Files(state.settings.data_dir.join("mail")));
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| Error::validation("smtp.url", format!("invalid SMTP URL: {e}")))?
            .timeout(Some(SMTP_TIMEOUT))
            .pool_config(PoolConfig::new().max_size(state.settings.smtp.connections))
            .build();
        Ok(Outlet::Smtp(transport))
    }
}

/// Why an attempt did not deliver.
enum Failure {
    /// Worth trying again later.
    Temporary(String),
    /// Will never work as it is.
    Permanent(String),
}

/// Run until shutdown. Errors are logged and the loop goes on.
pub async fn run(state: AppState, mut shutdown: Shutdown) {
    let outlet = match Outlet::from_settings(&state) {
        Ok(outlet) => outlet,
        Err(e) => {
            tracing::error!(error = %e, "mail sender not started; mail stays queued");
            shutdown.wait().await;
            return;
        }
    };
    match &outlet {
        Outlet::Smtp(_) => tracing::info!("mail sender started (SMTP)"),
        Outlet::Files(dir) => {
            tracing::info!(dir = %dir.display(), "mail sender started (no SMTP: writing .eml files)")
        }
    }
    while !shutdown.is_triggered() {
        let full = match drain(&state, &outlet, &shutdown).await {
            Ok(n) => n as u64 == BATCH,
            Err(e) => {
                tracing::error!(error = %e, "mail sender: reading the outbox failed");
                false
            }
        };
        let next = match backlog(&state).await {
            Ok((n, next)) => {
                metrics::gauge!("lianxin_mail_outbox_backlog").set(n as f64);
                next
            }
            Err(e) => {
                tracing::error!(error = %e, "mail sender: counting the backlog failed");
                None
            }
        };
        if full {
            continue;
        }
        sleep_until(
            &state.clock,
            next,
            MAX_NAP,
            Some(&state.mail_wake),
            &mut shutdown,
        )
        .await;
        gather(&mut shutdown).await;
    }
    tracing::info!("mail sender stopped");
}

/// Pending rows and the earliest next attempt.
async fn backlog(state: &AppState) -> Result<(u64, Option<DateTime<Utc>>)> {
    let conn = &state.db.conn;
    let n = mail::Entity::find().filter(pending()).count(conn).await?;
    let next = mail::Entity::find()
        .select_only()
        .column_as(mail::Column::NextAttemptAt.min(), "next")
        .filter(pending())
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(conn)
        .await?
        .flatten();
    Ok((n, next))
}

/// One pass over the due rows, oldest first. Returns how many were read.
///
/// The pass claims its rows in one transaction and records their outcomes
/// `lease::RECORD_EVERY` to a transaction: under load a commit per message (two,
/// with its claim) took the writer more often than intake did. A crash
/// before a record's commit sends those messages again, with the same
/// Message-ID. Rows claimed but not reached before [`SEND_WITHIN`] (or
/// shutdown) are given back at once rather than waiting out their lease.
async fn drain(state: &AppState, outlet: &Outlet, shutdown: &Shutdown) -> Result<usize> {
    let now = state.now();
    let due = mail::Entity::find()
        .filter(pending())
        .filter(mail::Column::NextAttemptAt.lte(now))
        .order_by_asc(mail::Column::NextAttemptAt)
        .order_by_asc(mail::Column::CreatedAt)
        .limit(BATCH)
        .all(&state.db.conn)
        .await?;
    if shutdown.is_triggered() {
        return Ok(0);
    }
    // As many in flight as the pool has connections.
    mail_lease(state.settings.smtp.connections as usize)
        .pass(
            &state.db,
            due.iter().collect(),
            now,
            || shutdown.is_triggered(),
            |row| attempt(state, outlet, row),
            |records| flush(state, records),
        )
        .await?;
    Ok(due.len())
}

/// What a mail sent sets.
const SENT: OutboxColumns<mail::Column> = OutboxColumns {
    id: mail::Column::Id,
    attempts: mail::Column::Attempts,
    sent_at: mail::Column::SentAt,
    last_error: Some(mail::Column::LastError),
};

/// The mail outbox's lease, sending `at_once` (`smtp.connections`).
fn mail_lease(at_once: usize) -> Lease<mail::Entity> {
    Lease {
        id: mail::Column::Id,
        id_of: |row| row.id,
        next_attempt_at: mail::Column::NextAttemptAt,
        pending,
        length: LEASE,
        send_within: SEND_WITHIN,
        at_once,
        sender: "mail",
    }
}

fn build_message(state: &AppState, row: &mail::Model) -> std::result::Result<Message, Failure> {
    let from: Mailbox = state
        .settings
        .smtp
        .from
        .parse()
        .map_err(|e| Failure::Permanent(format!("invalid sender address (smtp.from): {e}")))?;
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|e| Failure::Permanent(format!("invalid recipient address: {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()))
        .date(std::time::SystemTime::from(state.now()))
        .header(ContentType::TEXT_PLAIN)
        .body(row.body.clone())
        .map_err(|e| Failure::Permanent(format!("cannot build the message: {e}")))
}

/// Send `row`; the update that records how it went.
async fn attempt(state: &AppState, outlet: &Outlet, row: &mail::Model) -> Record {
    record(state, row, deliver(state, outlet, row).await)
}

async fn deliver(
    state: &AppState,
    outlet: &Outlet,
    row: &mail::Model,
) -> std::result::Result<(), Failure> {
    let message = build_message(state, row)?;
    match outlet {
        Outlet::Smtp(transport) => match transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(Failure::Permanent(e.to_string())),
            Err(e) => Err(Failure::Temporary(e.to_string())),
        },
        Outlet::Files(dir) => write_eml(dir, row.id, &message.formatted())
            .await
            .map_err(|e| Failure::Temporary(format!("cannot write {}: {e}", dir.display()))),
    }
}

/// Write atomically (temporary file, then rename), so a reader never sees
/// half a message.
async fn write_eml(dir: &std::path::Path, id: Uuid, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{id}.eml.tmp"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(format!("{id}.eml"))).await
}

/// Seconds to wait before attempt `attempts + 1`, having made `attempts`.
pub fn backoff_s(retry_base_s: u64, attempts: i32) -> u64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    retry_base_s
        .saturating_mul(1u64 << doublings)
        .min(MAX_BACKOFF_S)
}

/// What one attempt changes in its row, and whether it was given up (to
/// count once that is saved).
struct Record {
    update: Attempted<mail::Entity>,
    failed: bool,
}

fn record(
    state: &AppState,
    row: &mail::Model,
    outcome: std::result::Result<(), Failure>,
) -> Record {
    let now = state.now();
    let attempts = row.attempts.saturating_add(1);
    let max = state.settings.smtp.max_attempts.max(1);
    let other = |update, failed| Record {
        update: Attempted::Other(row.id, Box::new(update)),
        failed,
    };
    let error = match outcome {
        Ok(()) => {
            tracing::debug!(mail = %row.id, attempts, "mail sent");
            return Record {
                update: Attempted::Sent(row.id),
                failed: false,
            };
        }
        Err(Failure::Temporary(error)) if attempts < max => {
            let wait = backoff_s(state.settings.smtp.retry_base_s, attempts);
            let wait = chrono::Duration::seconds(i64::try_from(wait).unwrap_or(3600));
            tracing::warn!(mail = %row.id, attempts, retry_in_s = wait.num_seconds(), error = %error,
                "mail not delivered; will retry");
            let retry = mail::Entity::update_many()
                .col_expr(mail::Column::NextAttemptAt, Expr::value(now + wait))
                .col_expr(mail::Column::LastError, Expr::value(error));
            return other(retry, false);
        }
        Err(Failure::Temporary(error)) => format!("gave up after {attempts} attempts: {error}"),
        Err(Failure::Permanent(error)) => error,
    };
    // The recipient's domain only: addresses are personal data.
    let domain = row.recipient.rsplit('@').next().unwrap_or("");
    tracing::error!(mail = %row.id, recipient_domain = %domain, attempts,
        error = %error, "mail given up; an admin can retry it");
    let given_up = mail::Entity::update_many()
        .col_expr(mail::Column::FailedAt, Expr::value(now))
        .col_expr(mail::Column::LastError, Expr::value(error));
    other(given_up, true)
}

/// Save `records` in one transaction. On failure the lease runs out and
/// the messages are tried again: at worst a duplicate with the same
/// Message-ID, never a loss.
async fn flush(state: &AppState, records: Vec<Record>) {
    let (sent, failed) = records.iter().fold((0, 0), |(s, f), r| {
        let sent = matches!(r.update, Attempted::Sent(_));
        (s + u64::from(sent), f + u64::from(r.failed))
    });
    let attempts = records.into_iter().map(|r| r.update).collect();
    let updates = saving(attempts, &SENT, state.now());
    match state.db.update_all(updates).await {
        Ok(_) => {
            metrics::counter!("lianxin_mail_sent_total").increment(sent);
            metrics::counter!("lianxin_mail_failed_total").increment(failed);
        }
        Err(e) => tracing::error!(error = %e, "cannot record delivery attempts"),
    }
}
