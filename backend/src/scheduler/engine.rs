//! The deadline engine: one task per process that fires due rows of the
//! deadline store within about a second of their due time.
//!
//! Each deadline fires in its own write transaction: claim (a conditional
//! update, `deadlines::claim`), apply the effects (`fire::fire`), commit,
//! then wake whoever the effects concern. Because the claim and the effects
//! commit together, a crash in between loses neither and repeats neither,
//! and with several processes on PostgreSQL exactly one of them wins each
//! row. What fell due while no process ran is simply due at start.
//!
//! On PostgreSQL the row is first locked with `FOR UPDATE SKIP LOCKED`, so
//! two engines that read the same batch of due rows split it between them
//! instead of queueing behind each other's row locks.
//!
//! **The engine yields to users.** It locks the deadline row first and its
//! case (or other subject) after; a use case changes the case first and
//! cancels its deadlines after (an accept). Those two orders can deadlock
//! on PostgreSQL, and the database then aborts one of them after a second
//! — as likely the user's, who was told "nothing was saved, please
//! retry". So the engine's firing waits at most [`YIELD_AFTER`] for a
//! lock (`lock_timeout`, well under the deadlock timeout); when it gives
//! up it rolls back, the user's change goes through, and the deadline is
//! fired again [`YIELD_RETRY`] later (if it is still due: an accept
//! cancels it). The commit's own wait for the feed-order lock has no
//! bound (every writer takes that lock last: no cycle).
use std::{collections::HashMap, sync::atomic::Ordering};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

use super::{fire, sleep_until, MAX_NAP};
use crate::{
    deadlines::{self, Deadline},
    error::Result,
    shutdown::Shutdown,
    state::AppState,
};

/// Due rows read per pass; a full batch is followed at once by the next.
const BATCH: u64 = 500;

/// How long a deadline whose firing failed is left alone before it is
/// tried again, so one broken row cannot spin the loop.
const RETRY_AFTER: chrono::Duration = chrono::Duration::seconds(5);

/// The longest a firing waits for a row lock on PostgreSQL (see the module
/// documentation); the deadlock timeout is 1 s by default.
const YIELD_AFTER: &str = "SET LOCAL lock_timeout = '200ms'";

/// When a firing that yielded is tried again.
const YIELD_RETRY: chrono::Duration = chrono::Duration::seconds(1);

/// Run until shutdown. Errors are logged and the loop goes on.
pub async fn run(state: AppState, mut shutdown: Shutdown) {
    tracing::info!(node = %state.node_id, "deadline engine started");
    let mut engine = Engine::default();
    while !shutdown.is_triggered() {
        state.deadline_plan.store(i64::MIN, Ordering::Release);
        let full = match engine.fire_due(&state, &shutdown).await {
            Ok(pass) => pass.full,
            Err(e) => {
                tracing::error!(error = %e, "deadline engine: reading due deadlines failed");
                engine.trouble = true;
                false
            }
        };
        if full && !engine.trouble {
            tokio::task::yield_now().await;
            continue;
        }
        let next = if engine.trouble {
            // Something failed: look again in a second rather than at once.
            engine.trouble = false;
            Some(state.now() + chrono::Duration::seconds(1))
        } else {
            match deadlines::next_due(&state.db.conn).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "deadline engine: reading the next due time failed");
                    None
                }
            }
        };
        let latest = state.now() + chrono::Duration::from_std(MAX_NAP).unwrap_or_default();
        let plan = next.map_or(latest, |n| n.min(latest));
        state
            .deadline_plan
            .store(plan.timestamp_millis(), Ordering::Release);
        sleep_until(
            &state.clock,
            next,
            MAX_NAP,
            Some(&state.deadline_wake),
            &mut shutdown,
        )
        .await;
    }
    tracing::info!("deadline engine stopped");
}

#[derive(Default)]
struct Engine {
    /// Deadlines whose firing failed, and when to try them again.
    failed: HashMap<Uuid, DateTime<Utc>>,
    /// A pass had an error: sleep before the next one.
    trouble: bool,
}

struct Pass {
    /// The batch was full: more may be due right now.
    full: bool,
}

impl Engine {
    async fn fire_due(&mut self, state: &AppState, shutdown: &Shutdown) -> Result<Pass> {
        let now = state.now();
        let due = deadlines::due(&state.db.conn, now, BATCH).await?;
        let full = due.len() as u64 == BATCH;
        self.failed.retain(|_, retry_at| *retry_at > now);
        for deadline in &due {
            if shutdown.is_triggered() {
                break;
            }
            if self.failed.contains_key(&deadline.id) {
                continue;
            }
            let fired = fire_one(state, deadline).await;
            if fired.as_ref().is_err_and(lock_timed_out) {
                tracing::info!(
                    deadline = %deadline.id,
                    kind = %deadline.kind,
                    "deadline firing yielded to a user's change; trying again in a second"
                );
                metrics::counter!("lianxin_deadline_fire_yields_total").increment(1);
                self.failed.insert(deadline.id, state.now() + YIELD_RETRY);
            } else if let Err(e) = fired {
                tracing::error!(
                    deadline = %deadline.id,
                    kind = %deadline.kind,
                    subject = %deadline.subject_id,
                    error = %e,
                    "firing a deadline failed; it stays due and will be retried"
                );
                metrics::counter!("lianxin_deadline_fire_errors_total").increment(1);
                self.failed.insert(deadline.id, state.now() + RETRY_AFTER);
                self.trouble = true;
            }
        }
        Ok(Pass { full })
    }
}

/// Claim and fire one deadline in its own transaction. `Ok(false)`: another
/// process has it (or it was cancelled meanwhile).
async fn fire_one(state: &AppState, deadline: &Deadline) -> Result<bool> {
    let now = state.now();
    let cal = state.calendar().await?;
    let mut w = state.work_at(now).await?;
    let postgres = state.db.is_postgres();
    if postgres {
        w.execute_unprepared(YIELD_AFTER).await?;
        if !lock_unless_taken(&*w, deadline.id).await? {
            return Ok(false);
        }
    }
    if !deadlines::claim(&*w, deadline.id, now, &state.node_id).await? {
        return Ok(false);
    }
    // A no-op firing still commits its claim; it has nothing to wake.
    fire::fire(&mut w, &state.settings, &state.directory, &cal, deadline).await?;
    if postgres {
        w.execute_unprepared("SET LOCAL lock_timeout = 0").await?;
    }
    w.commit().await?;
    let lag = (now - deadline.due_at).num_milliseconds() as f64 / 1000.0;
    metrics::gauge!("lianxin_deadline_engine_lag_seconds").set(lag.max(0.0));
    metrics::counter!("lianxin_deadlines_fired_total").increment(1);
    tracing::debug!(deadline = %deadline.id, kind = %deadline.kind, lag_s = lag, "deadline fired");
    Ok(true)
}

/// PostgreSQL's "lock timeout" (SQLSTATE 55P03): the firing yielded.
fn lock_timed_out(e: &crate::error::Error) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let crate::error::Error::Db(
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)),
    ) = e
    else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "55P03")
}

/// PostgreSQL: lock the pending row unless another transaction holds it.
async fn lock_unless_taken(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            "SELECT id FROM deadlines WHERE id = $1 AND fired_at IS NULL \
             AND cancelled_at IS NULL FOR UPDATE SKIP LOCKED",
            [id.into()],
        ))
        .await?;
    Ok(row.is_some())
}
