//! The one source of time. Services take `now` from a [`Clock`] in the app
//! state, never from the system directly (clippy.toml bans `Utc::now`
//! elsewhere), so deadline tests can run hours in milliseconds.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use tokio::sync::Notify;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
    /// Woken when time jumps (only the manual clock jumps), so sleepers that
    /// wait for a due time can re-check.
    fn jumped(&self) -> Option<Arc<Notify>> {
        None
    }
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Microseconds, what both databases store: a time handed to a client
    /// straight from memory (a new case) equals the one read back later.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that only moves when told to; for tests and benchmarks.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
    jumped: Arc<Notify>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            now: Mutex::new(start),
            jumped: Arc::new(Notify::new()),
        }
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
        self.jumped.notify_waiters();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        match self.now.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    fn jumped(&self) -> Option<Arc<Notify>> {
        Some(self.jumped.clone())
    }
}
