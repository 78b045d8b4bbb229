//! Is the database answering? A ping every [`PING_INTERVAL`] (500 ms),
//! bounded by [`PING_TIMEOUT`], keeps one flag that the server reads
//! without waiting:
//!
//! - while it is down, `/readyz` answers 503 (a load balancer moves the
//!   traffic) and every write transaction fails at once with 503
//!   `database_unavailable` ("nothing was saved, please retry") instead
//!   of each request waiting out the pool's acquire timeout (10 s) and
//!   piling up behind it;
//! - the pool drops the dead connections and opens new ones by itself
//!   (sqlx pings a connection idle for a second before handing it out,
//!   and every connection as it returns to the pool); the first ping that
//!   succeeds puts the flag back, so writes are accepted again within
//!   about half a second of the database's return.
//!
//! Gauge `lianxin_db_up` (1 or 0); a change is logged once.
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use sea_orm::{DbErr, RuntimeErr};

use super::Db;

pub const PING_INTERVAL: Duration = Duration::from_millis(500);
pub const PING_TIMEOUT: Duration = Duration::from_millis(1500);

/// The shared flag; starts up (the server only starts once it connected).
#[derive(Debug)]
pub struct Health {
    up: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            up: AtomicBool::new(true),
        }
    }
}

impl Health {
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Records a ping's result; true when it changed the state.
    pub fn record(&self, up: bool) -> bool {
        self.up.swap(up, Ordering::Relaxed) != up
    }
}

/// The error a write gets while the database is known to be down.
pub fn unavailable() -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(
        "the database is not answering (health check)".into(),
    ))
}

/// One ping on the health check's own connection (so a pool whose every
/// connection is busy is not taken for a database that is down), bounded
/// by [`PING_TIMEOUT`].
pub async fn ping_once(db: &Db) -> Result<(), DbErr> {
    match tokio::time::timeout(PING_TIMEOUT, db.pinger().ping()).await {
        Ok(result) => result,
        Err(_) => Err(DbErr::Conn(RuntimeErr::Internal("ping timed out".into()))),
    }
}

/// Pings every [`PING_INTERVAL`] until shutdown, keeping `health` current.
pub async fn run(db: Db, health: Arc<Health>, mut shutdown: crate::shutdown::Shutdown) {
    loop {
        let result = ping_once(&db).await;
        let up = result.is_ok();
        if health.record(up) {
            match &result {
                Ok(()) => tracing::warn!("database answers again; accepting writes"),
                Err(e) => {
                    tracing::error!(error = %e, "database not answering; refusing writes with 503")
                }
            }
        }
        metrics::gauge!("lianxin_db_up").set(if up { 1.0 } else { 0.0 });
        tokio::select! {
            _ = tokio::time::sleep(PING_INTERVAL) => {}
            _ = shutdown.wait() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_changes_only() {
        let h = Health::default();
        assert!(h.is_up());
        assert!(!h.record(true));
        assert!(h.record(false));
        assert!(!h.is_up());
        assert!(!h.record(false));
        assert!(h.record(true));
    }
}
