//! Shared state handed to every handler and background task.
use std::sync::Arc;

use tokio::sync::Notify;

use crate::{clock::SharedClock, config::Settings, db::Db, realtime::Hub, telemetry::Metrics};

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    /// All time comes from here (see `clock.rs`).
    pub clock: SharedClock,
    /// Fans committed case events out to this process's WebSocket clients.
    pub hub: Hub,
    pub metrics: Metrics,
    /// Wakes the deadline engine early when a nearer deadline is written.
    pub deadline_wake: Arc<Notify>,
    /// When the deadline engine will next read the store, in milliseconds
    /// by `clock`; `i64::MIN` while it is reading (see
    /// [`AppState::deadlines_scheduled`]).
    pub deadline_plan: Arc<std::sync::atomic::AtomicI64>,
    /// Wakes the mail sender when a message is queued.
    pub mail_wake: Arc<Notify>,
    /// Identifies this process in deadline claims and logs.
    pub node_id: Arc<str>,
    /// Fires once at shutdown; long-lived handlers (WebSockets) select on it.
    pub shutdown: crate::shutdown::Shutdown,
    /// New cases waiting to be written in the next batch.
    pub intake: Arc<crate::cases::intake::IntakeQueue>,
    /// Routing rules, active units and known regions, for intake.
    pub directory: Arc<crate::cases::directory::Directory>,
    /// Sessions resolved a moment ago (`auth::cache`).
    pub sessions: Arc<crate::auth::SessionCache>,
    /// Bounds concurrent argon2id hashes (`auth.max_concurrent_hashes`).
    pub hash_gate: Arc<crate::auth::password::HashGate>,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Call after a commit that appended case events, scheduled deadlines or
    /// queued mail: wakes the local hub, the engine and the sender. (Other
    /// processes heard of the events from the commit itself:
    /// `events::append` notifies on PostgreSQL.)
    pub fn after_commit(&self, effects: crate::events::Effects) {
        if effects.events {
            self.hub.wake();
        }
        if effects.deadlines {
            self.deadline_wake.notify_one();
        }
        if effects.mail {
            self.mail_wake.notify_one();
        }
    }

    /// Call after a commit that scheduled deadlines, the earliest of them
    /// due at `earliest`: wakes the engine only if it would otherwise read
    /// the store later than that. Intake schedules hours ahead, and waking
    /// the engine after every batch cost two queries each time. The engine
    /// sets its plan to `i64::MIN` before it reads, so a deadline committed
    /// while it reads always wakes it.
    pub fn deadlines_scheduled(&self, earliest: chrono::DateTime<chrono::Utc>) {
        let plan = self
            .deadline_plan
            .load(std::sync::atomic::Ordering::Acquire);
        if plan == i64::MIN || earliest.timestamp_millis() < plan {
            self.deadline_wake.notify_one();
        }
    }
}
