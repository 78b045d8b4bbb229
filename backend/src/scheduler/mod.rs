//! The scheduler: the second driver beside `http/`. It calls domain
//! services from the clock instead of from requests — the deadline engine
//! ([`engine`]) fires due rows of the deadline store, [`fire`] says what a
//! fired deadline means, and [`jobs`] runs the cron jobs of the
//! configuration (digest, auditor, cleanup).
//!
//! **Invariant:** nothing here keeps authoritative state in memory. A
//! deadline or a job occurrence is claimed in the database (a conditional
//! update or an insert with a deterministic key) in the same transaction
//! as its effects, so a restart loses nothing and several processes on one
//! PostgreSQL database do each thing once.
pub mod digest;
pub mod engine;
pub mod fire;
pub mod jobs;

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::{sync::Notify, task::JoinHandle};

use crate::{clock::SharedClock, shutdown::Shutdown, state::AppState};

/// The longest a scheduler loop sleeps before it looks at the clock again.
/// Bounds how late anything fires when a wake-up is missed (another
/// process wrote the row, or the system clock was stepped).
pub const MAX_NAP: Duration = Duration::from_secs(1);

/// Start the deadline engine and one task per cron job.
pub fn start(state: &AppState, shutdown: &Shutdown) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![tokio::spawn(engine::run(state.clone(), shutdown.clone()))];
    tasks.extend(jobs::start(state, shutdown));
    tasks
}

/// Sleep until `until` by the app clock — at most `cap` of real time — or
/// until `wake` is notified, the clock jumps (the manual clock in tests),
/// or shutdown is requested. Returns at once when `until` has passed.
///
/// The clock's jump notification is registered before the time is read, so
/// a test that advances the clock between our read and our sleep still
/// wakes us.
pub async fn sleep_until(
    clock: &SharedClock,
    until: Option<DateTime<Utc>>,
    cap: Duration,
    wake: Option<&Notify>,
    shutdown: &mut Shutdown,
) {
    let jumped = clock.jumped();
    let jump = jumped.as_deref().map(Notify::notified);
    let mut jump = std::pin::pin!(jump);
    if let Some(notified) = jump.as_mut().as_pin_mut() {
        notified.enable();
    }
    let wait = match until {
        Some(at) => (at - clock.now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(cap),
        None => cap,
    };
    if wait.is_zero() || shutdown.is_triggered() {
        return;
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = async {
            match jump.as_mut().as_pin_mut() {
                Some(notified) => notified.await,
                None => std::future::pending().await,
            }
        } => {}
        _ = async {
            match wake {
                Some(w) => w.notified().await,
                None => std::future::pending().await,
            }
        } => {}
        _ = shutdown.wait() => {}
    }
}

/// What a sender waits after waking before it takes its next pass, so
/// that the messages of the next few commits go in the same pass: under
/// sustained intake the mail sender woke after nearly every intake batch,
/// and each pass took two write transactions (its claim, its records),
/// which on SQLite held the one writer the intake was waiting for (2.5 ms
/// of an 8 ms batch). A message waits at most this much longer.
pub const GATHER: Duration = Duration::from_millis(100);

/// [`GATHER`] of real time, or until shutdown.
pub async fn gather(shutdown: &mut Shutdown) {
    tokio::select! {
        _ = tokio::time::sleep(GATHER) => {}
        _ = shutdown.wait() => {}
    }
}
