//! Whole cases kept in memory for the case page (`cases::scope::CaseRecord`:
//! the case row, the units that ever handled it, its latest escalation
//! with its actions, and the seq of its latest event — everything
//! `GET /cases/{id}` reads besides the timeline and the principal).
//!
//! **Freshness.** Every change to a case row, its handlers, its escalation
//! or their actions records an event of that case in the same transaction
//! (ARCHITECTURE.md, Invariants; checked by e2e `changes::`), and every
//! event is committed through `work::Work::commit`. So a held case is
//! dropped
//! - by the commit that changed it, before the use case answers (this
//!   process reads its own writes), and
//! - by the live-feed pump when it reads any process's event of the case,
//!   before the event reaches a WebSocket (a console that reloads a case
//!   on hearing its event reads the new state).
//!
//! A case changed by another process is therefore held here, stale, until
//! this process's pump reads the event (`NOTIFY`, milliseconds) — a read
//! through another process at that moment shows the case as it was an
//! instant earlier; a write reads the case in its own transaction, never
//! from here.
//!
//! **Filling without a race.** A reader that misses takes a lease (a
//! token in the slot) before it reads the database, and its record is put
//! in only if the slot still holds that token: a commit or pump that drops
//! the case in between also drops the lease, so a record read before a
//! change can never be put in after the change was told.
//!
//! Bounded by the number of cases held; the first put in are the first
//! dropped.
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};

use uuid::Uuid;

/// Cases a process holds: some 20 MB at most (a case row with its
/// escalation is one or two kilobytes).
pub const CASE_CACHE_CASES: usize = 10_000;

/// What is held of a case: the seq of its latest event when it was read.
pub trait Held: Send + Sync {
    fn last_seq(&self) -> Option<i64>;
}

/// What commits and the pump tell a case cache (`work::Signals`,
/// `realtime::Hub`).
pub trait Forget: Send + Sync {
    /// A commit changed the case: drop it and any lease on it.
    fn forget(&self, case_id: Uuid);
    /// The pump read event `seq` of the case: drop what was read before
    /// it (a held case already at or past `seq` stays).
    fn heard(&self, case_id: Uuid, seq: i64);
}

enum Slot<R> {
    /// A reader is reading the case; its token.
    Leased(u64),
    Held(Arc<R>),
}

/// What a lookup found.
pub enum Lookup<R> {
    Hit(Arc<R>),
    /// Not held: read it, then [`CaseCache::fill`] with this lease.
    Miss(Lease),
}

/// The right to put in what a reader is about to read.
pub struct Lease {
    case_id: Uuid,
    token: u64,
}

pub struct CaseCache<R> {
    max_cases: usize,
    inner: Mutex<Inner<R>>,
}

struct Inner<R> {
    map: HashMap<Uuid, Slot<R>>,
    /// Cases in the order their slots were made (eviction order; a case
    /// dropped and made again may appear twice).
    order: VecDeque<Uuid>,
    next_token: u64,
}

impl<R: Held> CaseCache<R> {
    /// A cache of at most `max_cases` cases (0: keeps nothing).
    pub fn new(max_cases: usize) -> Self {
        CaseCache {
            max_cases,
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
                next_token: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<R>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The held case, or a lease to read it.
    pub fn get(&self, case_id: Uuid) -> Lookup<R> {
        let mut inner = self.lock();
        if let Some(Slot::Held(r)) = inner.map.get(&case_id) {
            return Lookup::Hit(r.clone());
        }
        inner.next_token += 1;
        let token = inner.next_token;
        let lease = Lookup::Miss(Lease { case_id, token });
        if self.max_cases == 0 {
            return lease;
        }
        match inner.map.get_mut(&case_id) {
            Some(slot) => *slot = Slot::Leased(token),
            None => {
                inner.map.insert(case_id, Slot::Leased(token));
                inner.order.push_back(case_id);
                while inner.order.len() > self.max_cases {
                    if let Some(oldest) = inner.order.pop_front() {
                        inner.map.remove(&oldest);
                    }
                }
            }
        }
        lease
    }

    /// Put in what was read under `lease`, unless the case was dropped
    /// (or leased again) since.
    pub fn fill(&self, lease: Lease, record: Arc<R>) {
        let mut inner = self.lock();
        if let Some(slot) = inner.map.get_mut(&lease.case_id) {
            if matches!(slot, Slot::Leased(t) if *t == lease.token) {
                *slot = Slot::Held(record);
            }
        }
    }

    /// The reader found no case (or failed): free its slot.
    pub fn abandon(&self, lease: Lease) {
        let mut inner = self.lock();
        if matches!(inner.map.get(&lease.case_id), Some(Slot::Leased(t)) if *t == lease.token) {
            inner.map.remove(&lease.case_id);
        }
    }

    /// Cases held (not leased).
    #[cfg(test)]
    fn held(&self) -> usize {
        let inner = self.lock();
        inner
            .map
            .values()
            .filter(|s| matches!(s, Slot::Held(_)))
            .count()
    }
}

impl<R: Held> Forget for CaseCache<R> {
    fn forget(&self, case_id: Uuid) {
        self.lock().map.remove(&case_id);
    }

    fn heard(&self, case_id: Uuid, seq: i64) {
        let mut inner = self.lock();
        let fresh = matches!(
            inner.map.get(&case_id),
            Some(Slot::Held(r)) if r.last_seq().is_some_and(|last| last >= seq)
        );
        if !fresh {
            inner.map.remove(&case_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Read(i64);

    impl Held for Read {
        fn last_seq(&self) -> Option<i64> {
            Some(self.0)
        }
    }

    fn record(_: Uuid, last_seq: i64) -> Arc<Read> {
        Arc::new(Read(last_seq))
    }

    fn hit(cache: &CaseCache<Read>, id: Uuid) -> Option<i64> {
        match cache.get(id) {
            Lookup::Hit(r) => Some(r.0),
            Lookup::Miss(_) => None,
        }
    }

    fn lease(cache: &CaseCache<Read>, id: Uuid) -> Lease {
        match cache.get(id) {
            Lookup::Miss(l) => l,
            Lookup::Hit(_) => panic!("held"),
        }
    }

    #[test]
    fn a_read_is_held_until_its_case_changes() {
        let cache = CaseCache::<Read>::new(10);
        let id = Uuid::new_v4();
        let l = lease(&cache, id);
        cache.fill(l, record(id, 3));
        assert_eq!(hit(&cache, id), Some(3));
        cache.heard(id, 3);
        assert_eq!(hit(&cache, id), Some(3), "an event it already has");
        cache.heard(id, 4);
        assert_eq!(hit(&cache, id), None);
        let l = lease(&cache, id);
        cache.fill(l, record(id, 4));
        cache.forget(id);
        assert_eq!(hit(&cache, id), None);
    }

    #[test]
    fn a_read_overtaken_by_a_change_is_not_put_in() {
        let cache = CaseCache::<Read>::new(10);
        let id = Uuid::new_v4();
        let l = lease(&cache, id);
        // The reader read the case; a commit changed it and told it
        // before the reader put in what it read.
        cache.forget(id);
        cache.fill(l, record(id, 3));
        assert_eq!(hit(&cache, id), None);
        let l = lease(&cache, id);
        cache.heard(id, 4);
        cache.fill(l, record(id, 3));
        assert_eq!(hit(&cache, id), None);
        // Two readers: only the later lease fills.
        let first = lease(&cache, id);
        let second = lease(&cache, id);
        cache.fill(first, record(id, 4));
        assert_eq!(cache.held(), 0);
        cache.fill(second, record(id, 4));
        assert_eq!(hit(&cache, id), Some(4));
    }

    #[test]
    fn holds_at_most_its_bound_dropping_the_first_put_in() {
        let cache = CaseCache::<Read>::new(2);
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        for (n, id) in ids.iter().enumerate() {
            let l = lease(&cache, *id);
            cache.fill(l, record(*id, n as i64));
        }
        assert_eq!(cache.held(), 2);
        assert_eq!(hit(&cache, ids[0]), None);
        assert_eq!(hit(&cache, ids[2]), Some(2));
        let none = CaseCache::<Read>::new(0);
        let l = lease(&none, ids[0]);
        none.fill(l, record(ids[0], 1));
        assert_eq!(hit(&none, ids[0]), None);
    }
}
