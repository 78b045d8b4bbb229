//! Signed-in sessions, remembered for a moment.
//!
//! Every API request resolves its bearer token; under intake load that
//! query was one database round trip per request on top of the request's
//! own work. A resolved session is kept here for at most [`MAX_AGE`].
//!
//! **Invariant: a revoked session is refused from the moment the revoking
//! commit returns**, in this process and, on PostgreSQL, in every other
//! one as soon as it hears `NOTIFY lianxin_sessions`. Everything that can
//! make a cached answer wrong (logout, a user's role, unit or active flag,
//! a unit's kind or place) commits through [`SessionCache::commit_change`],
//! which sends that notice with the commit and empties this cache after
//! it. [`MAX_AGE`] bounds what a missed notice (a dropped LISTEN
//! connection) can cost. Expiry is checked on every request against the
//! cached expiry time.
//!
//! A lookup that raced a change cannot re-insert the old answer: the
//! generation is read before the query, and an answer is kept only if no
//! change came in between.
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

use tokio::sync::broadcast;
use uuid::Uuid;

use super::Principal;
use crate::{db::WriteTxn, error::Result};

/// The PostgreSQL channel on which a process says that a session, a user
/// or a unit changed.
pub const NOTIFY_CHANNEL: &str = "lianxin_sessions";

/// The longest a resolved session is used without asking the database.
pub const MAX_AGE: Duration = Duration::from_secs(2);

/// More sessions than this and the cache starts over (one hotline has a
/// few hundred users; this only bounds memory against token spraying —
/// unknown tokens are never cached).
const MAX_ENTRIES: usize = 10_000;

struct Entry {
    loaded_at: Instant,
    principal: Principal,
}

/// What a change to sessions, users or units may have touched: open live
/// feeds of that user (or unit) check their session again. The payload of
/// `NOTIFY lianxin_sessions` carries it as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Anything may have changed (a lost notice, an unreadable payload).
    All,
    /// One user's sessions, role, unit, active flag or password.
    User(Uuid),
    /// One unit's kind, place or active flag (every member).
    Unit(Uuid),
}

impl Change {
    pub fn payload(self) -> String {
        match self {
            Change::All => String::new(),
            Change::User(id) => format!("user:{id}"),
            Change::Unit(id) => format!("unit:{id}"),
        }
    }

    /// Anything that is not a known form means [`Change::All`].
    pub fn parse(payload: &str) -> Change {
        let parsed = if let Some(id) = payload.strip_prefix("user:") {
            Uuid::parse_str(id).ok().map(Change::User)
        } else if let Some(id) = payload.strip_prefix("unit:") {
            Uuid::parse_str(id).ok().map(Change::Unit)
        } else {
            None
        };
        parsed.unwrap_or(Change::All)
    }

    /// Whether a session of `p` may be affected.
    pub fn concerns(self, p: &Principal) -> bool {
        match self {
            Change::All => true,
            Change::User(id) => p.user_id == id,
            Change::Unit(id) => p.unit_id() == Some(id),
        }
    }
}

pub struct SessionCache {
    generation: AtomicU64,
    entries: RwLock<HashMap<String, Entry>>,
    /// Every change, after this cache was emptied for it.
    changes: broadcast::Sender<Change>,
}

impl Default for SessionCache {
    fn default() -> Self {
        SessionCache {
            generation: AtomicU64::new(0),
            entries: RwLock::new(HashMap::new()),
            changes: broadcast::channel(256).0,
        }
    }
}

impl SessionCache {
    /// Changes from now on (a receiver that lags has missed some: treat
    /// that as [`Change::All`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Read before looking a session up; hand it back to [`Self::remember`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The session for `token_hash`, if it was resolved within [`MAX_AGE`].
    pub fn get(&self, token_hash: &str) -> Option<Principal> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(token_hash)
            .filter(|e| e.loaded_at.elapsed() < MAX_AGE)
            .map(|e| e.principal.clone())
    }

    /// Keep `principal`, looked up at `generation`, unless something
    /// changed since.
    pub fn remember(
        &self,
        generation: u64,
        loaded_at: Instant,
        token_hash: String,
        principal: Principal,
    ) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.loaded_at.elapsed() < MAX_AGE);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            token_hash,
            Entry {
                loaded_at,
                principal,
            },
        );
    }

    /// Forget every session: the next request of each asks the database.
    pub fn invalidate(&self) {
        self.invalidate_for(Change::All);
    }

    /// Forget every session, then tell open live feeds what changed.
    pub fn invalidate_for(&self, change: Change) {
        {
            let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.clear();
        }
        // No receiver (no open feed) is not an error.
        let _ = self.changes.send(change);
    }

    /// Commit `txn`, which changed a session, a user or a unit: other
    /// processes hear of it with the commit, and this one forgets what it
    /// cached once the commit has returned.
    pub async fn commit_change(&self, txn: WriteTxn, change: Change) -> Result<()> {
        crate::db::notify_with_commit(&*txn, NOTIFY_CHANNEL, &change.payload()).await?;
        txn.commit().await?;
        self.invalidate_for(change);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Role;

    fn someone() -> Principal {
        Principal {
            user_id: uuid::Uuid::new_v4(),
            username: "op".into(),
            display_name: "Operator".into(),
            role: Role::Operator,
            email: None,
            unit: None,
            session_expires_at: chrono::DateTime::UNIX_EPOCH,
            must_change_password: false,
        }
    }

    #[test]
    fn an_answer_looked_up_before_a_change_is_not_kept() {
        let cache = SessionCache::default();
        let before = cache.generation();
        cache.invalidate();
        cache.remember(before, Instant::now(), "t".into(), someone());
        assert!(cache.get("t").is_none());

        let now = cache.generation();
        cache.remember(now, Instant::now(), "t".into(), someone());
        assert!(cache.get("t").is_some());
        cache.invalidate();
        assert!(cache.get("t").is_none(), "a change forgets every session");
    }

    #[test]
    fn an_answer_older_than_max_age_is_not_used() {
        let cache = SessionCache::default();
        let Some(old) = Instant::now().checked_sub(MAX_AGE) else {
            return;
        };
        cache.remember(cache.generation(), old, "t".into(), someone());
        assert!(cache.get("t").is_none());
    }
}
