//! The SMS sender: drains the SMS outbox (`notify::sms`) into files under
//! `<data_dir>/sms/` (one `.txt` per message: the phone on the first line,
//! the text after), or to the HTTP gateway of `[sms]` (POST JSON `{to,
//! from, text, id}`; 2xx is delivered, 4xx other than 408/429 permanent,
//! anything else retried). Claim, lease, retry with backoff and give-up
//! work as for mail (`sender.rs`): a gateway outage delays a text, never
//! loses it; the `id` lets a gateway drop the rare duplicate.
use std::{path::PathBuf, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{
    lease::{saving, Attempted, Lease, OutboxColumns, SENDING_AT_ONCE},
    sender::backoff_s,
    sms::sms_message,
};
use crate::{
    error::Result,
    scheduler::{gather, sleep_until, MAX_NAP},
    shutdown::Shutdown,
    state::AppState,
};

const BATCH: u64 = 50;
const LEASE: chrono::Duration = chrono::Duration::minutes(2);
const TIMEOUT: Duration = Duration::from_secs(15);
/// Claimed rows are sent within half their lease.
const SEND_WITHIN: Duration = Duration::from_secs(60);

enum Outlet {
    Gateway(reqwest::Client, String),
    Files(PathBuf),
}

fn pending() -> Condition {
    Condition::all()
        .add(sms_message::Column::SentAt.is_null())
        .add(sms_message::Column::FailedAt.is_null())
}

/// Run until shutdown.
pub async fn run(state: AppState, mut shutdown: Shutdown) {
    let url = state.settings.sms.url.trim().to_string();
    let outlet = if url.is_empty() {
        Outlet::Files(state.settings.data_dir.join("sms"))
    } else {
        match reqwest::Client::builder().timeout(TIMEOUT).build() {
            Ok(c) => Outlet::Gateway(c, url),
            Err(e) => {
                tracing::error!(error = %e, "SMS sender not started; texts stay queued");
                shutdown.wait().await;
                return;
            }
        }
    };
    while !shutdown.is_triggered() {
        let (full, next) = match drain(&state, &outlet, &shutdown).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "SMS sender: reading the outbox failed");
                (false, None)
            }
        };
        if full {
            continue;
        }
        let wake = state.signals.sms.clone();
        sleep_until(&state.clock, next, MAX_NAP, Some(&wake), &mut shutdown).await;
        gather(&mut shutdown).await;
    }
}

/// One pass: send what is due; whether the batch was full, and when the
/// next pending row is due. Claims in one commit, outcomes
/// 16 to a commit, sends up to 16 at once (`lease::send_claimed`)
/// and gives back the claims not reached,
/// as the mail sender does.
async fn drain(
    state: &AppState,
    outlet: &Outlet,
    shutdown: &Shutdown,
) -> Result<(bool, Option<DateTime<Utc>>)> {
    let now = state.now();
    let rows = sms_message::Entity::find()
        .filter(pending())
        .order_by_asc(sms_message::Column::NextAttemptAt)
        .limit(BATCH)
        .all(&state.db.conn)
        .await?;
    let next = rows
        .iter()
        .map(|r| r.next_attempt_at)
        .filter(|at| *at > now)
        .min();
    let due: Vec<&sms_message::Model> = rows.iter().filter(|r| r.next_attempt_at <= now).collect();
    if shutdown.is_triggered() {
        return Ok((false, next));
    }
    SMS_LEASE
        .pass(
            &state.db,
            due,
            now,
            || shutdown.is_triggered(),
            |row| attempt(state, outlet, row),
            |records| flush(state, records),
        )
        .await?;
    Ok((rows.len() as u64 == BATCH && next.is_none(), next))
}

/// Saves delivery outcomes in one commit; a failure is logged, and those
/// texts are tried again when their lease runs out (a text may then go
/// twice, never not at all).
async fn flush(state: &AppState, records: Vec<Attempted<sms_message::Entity>>) {
    let updates = saving(records, &SENT, state.now());
    if let Err(e) = state.db.update_all(updates).await {
        tracing::error!(error = %e, "SMS sender: cannot record delivery attempts");
    }
}

/// What a text sent sets.
const SENT: OutboxColumns<sms_message::Column> = OutboxColumns {
    id: sms_message::Column::Id,
    attempts: sms_message::Column::Attempts,
    sent_at: sms_message::Column::SentAt,
    last_error: None,
};

/// The SMS outbox's lease.
const SMS_LEASE: Lease<sms_message::Entity> = Lease {
    id: sms_message::Column::Id,
    id_of: |row| row.id,
    next_attempt_at: sms_message::Column::NextAttemptAt,
    pending,
    length: LEASE,
    send_within: SEND_WITHIN,
    at_once: SENDING_AT_ONCE,
    sender: "SMS",
};

/// Send `row`; the update that records how it went.
async fn attempt(
    state: &AppState,
    outlet: &Outlet,
    row: &sms_message::Model,
) -> Attempted<sms_message::Entity> {
    record(state, row, deliver(state, outlet, row).await)
}

/// `Err((permanent, why))` when not delivered.
async fn deliver(
    state: &AppState,
    outlet: &Outlet,
    row: &sms_message::Model,
) -> std::result::Result<(), (bool, String)> {
    match outlet {
        Outlet::Files(dir) => {
            let text = format!("{}\n{}\n", row.recipient, row.body);
            write_file(dir, row.id, text.as_bytes())
                .await
                .map_err(|e| (false, format!("cannot write {}: {e}", dir.display())))
        }
        Outlet::Gateway(client, url) => {
            let s = &state.settings.sms;
            let mut req = client.post(url).json(&serde_json::json!({
                "id": row.id, "to": row.recipient, "from": s.sender, "text": row.body,
            }));
            if !s.token.is_empty() {
                req = req.bearer_auth(&s.token);
            } else if !s.username.is_empty() {
                req = req.basic_auth(&s.username, Some(&s.password));
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => {
                    let code = r.status().as_u16();
                    let permanent = (400..500).contains(&code) && code != 408 && code != 429;
                    Err((permanent, format!("gateway answered {code}")))
                }
                Err(e) => Err((false, format!("gateway unreachable: {e}"))),
            }
        }
    }
}

async fn write_file(dir: &std::path::Path, id: Uuid, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{id}.txt.tmp"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(format!("{id}.txt"))).await
}

/// What one attempt changes in its row.
fn record(
    state: &AppState,
    row: &sms_message::Model,
    outcome: std::result::Result<(), (bool, String)>,
) -> Attempted<sms_message::Entity> {
    let now = state.now();
    let attempts = row.attempts.saturating_add(1);
    let max = state.settings.sms.max_attempts.max(1);
    let update = sms_message::Entity::update_many;
    match outcome {
        Ok(()) => {
            metrics::counter!("lianxin_sms_sent_total").increment(1);
            Attempted::Sent(row.id)
        }
        Err((false, error)) if attempts < max => {
            let wait = backoff_s(state.settings.sms.retry_base_s, attempts);
            let wait = chrono::Duration::seconds(i64::try_from(wait).unwrap_or(3600));
            tracing::warn!(sms = %row.id, attempts, error = %error, "SMS not delivered; will retry");
            Attempted::Other(
                row.id,
                Box::new(
                    update()
                        .col_expr(sms_message::Column::NextAttemptAt, Expr::value(now + wait))
                        .col_expr(sms_message::Column::LastError, Expr::value(error)),
                ),
            )
        }
        Err((_, error)) => {
            tracing::error!(sms = %row.id, attempts, error = %error, "SMS given up");
            metrics::counter!("lianxin_sms_failed_total").increment(1);
            Attempted::Other(
                row.id,
                Box::new(
                    update()
                        .col_expr(sms_message::Column::FailedAt, Expr::value(now))
                        .col_expr(sms_message::Column::LastError, Expr::value(error)),
                ),
            )
        }
    }
}
