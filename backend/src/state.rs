//! Shared state handed to every handler and background task.
use std::sync::Arc;

use tokio::sync::Notify;

use crate::{clock::SharedClock, config::Settings, db::Db, realtime::Hub, telemetry::Metrics};

/// Cloned by every middleware and extractor of every request: one
/// reference count to bump, not one per field (perf showed the field-wise
/// clone and drop of a flat struct at ~1.5 % of the server's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl From<Inner> for AppState {
    fn from(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }
}

/// What [`AppState`] shares; read through it (`state.db`, `state.settings`).
pub struct Inner {
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
    /// [`crate::work::Signals::deadline_scheduled`]).
    pub deadline_plan: Arc<std::sync::atomic::AtomicI64>,
    /// Wakes the mail sender when a message is queued.
    pub mail_wake: Arc<Notify>,
    /// Identifies this process in deadline claims and logs.
    pub node_id: Arc<str>,
    /// Fires once at shutdown; long-lived handlers (WebSockets) select on it.
    pub shutdown: crate::shutdown::Shutdown,
    /// New cases waiting to be written in the next batch.
    pub intake: Arc<crate::cases::intake_queue::IntakeQueue>,
    /// Routing rules, active units and known regions, for intake.
    pub directory: Arc<crate::cases::directory::Directory>,
    /// Sessions resolved a moment ago (`auth::cache`).
    pub sessions: Arc<crate::auth::SessionCache>,
    /// What a unit of work wakes at commit (the same notifiers as above).
    pub signals: crate::work::Signals,
    /// Bounds concurrent argon2id hashes (`auth.max_concurrent_hashes`).
    pub hash_gate: Arc<crate::auth::password::HashGate>,
    /// The working-day calendar, reloaded a minute after it was read.
    pub calendar: Arc<crate::calendar::store::Shared>,
    /// Case timelines read a moment ago, checked against the case's latest
    /// seq at every read (`events::TimelineCache`).
    pub timelines: crate::events::TimelineCache,
    /// Whole cases read a moment ago for the case page, dropped when they
    /// change (`events::CaseCache`; `signals.cases` is the same cache).
    pub cases: Arc<crate::events::CaseCache<crate::cases::scope::CaseRecord>>,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Begin a unit of work at `now` (a use case that read the time before
    /// it validated its input).
    pub async fn work_at(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::error::Result<crate::work::Work> {
        crate::work::Work::begin(&self.db, now, self.node_id.clone(), self.signals.clone()).await
    }

    /// The working-day calendar (a snapshot at most a minute old).
    pub async fn calendar(&self) -> crate::error::Result<Arc<crate::calendar::Calendar>> {
        self.calendar.get(&self.db.conn).await
    }
}
