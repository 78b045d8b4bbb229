//! Case timelines kept in memory, read again only when they grew.
//!
//! The event log is append-only (nothing updates or deletes a case event)
//! and seqs become visible in commit order (the feed-order invariant in
//! `events`). So a timeline read once, ending at seq N, is still the
//! beginning of that case's timeline at any later moment: the case's
//! highest seq, read in the same query as the case row
//! (`cases::scope::record`), says whether anything was added since,
//! and only the events after N are read then. The case page read the
//! whole timeline on every request — a second query, its rows decoded
//! again — and is read far more often than anything else (issue 20).
//!
//! Bounded by the number of events held ([`TimelineCache::new`]); the
//! timelines first put in are the first dropped. Each process has its own:
//! nothing here can be stale, whoever wrote the events.
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};

use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

use super::CaseEvent;

/// What a process keeps: some 30 MB at most (an event is a few hundred
/// bytes with its data), the timelines of several thousand cases.
pub const TIMELINE_CACHE_EVENTS: usize = 50_000;

/// One case's timeline as last read.
type Timeline = Arc<Vec<CaseEvent>>;

pub struct TimelineCache {
    max_events: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Uuid, Timeline>,
    /// Cases in the order they were first put in (eviction order).
    order: VecDeque<Uuid>,
    /// Events held over all timelines.
    events: usize,
}

impl TimelineCache {
    /// A cache holding at most `max_events` events (0: keeps nothing).
    pub fn new(max_events: usize) -> Self {
        TimelineCache {
            max_events,
            inner: Mutex::default(),
        }
    }

    /// The timeline of `case_id`, whose latest event has seq `last_seq`
    /// (`None`: it has none) — from memory when that is what is held,
    /// else the events after the held ones, else all of them.
    pub async fn timeline(
        &self,
        conn: &impl ConnectionTrait,
        case_id: Uuid,
        last_seq: Option<i64>,
    ) -> Result<Timeline, DbErr> {
        let Some(last) = last_seq else {
            return Ok(Arc::default());
        };
        let held = self.get(case_id);
        let held_last = held.as_ref().and_then(|t| t.last()).map(|e| e.seq);
        let timeline = match (held, held_last) {
            (Some(t), Some(seq)) if seq == last => return Ok(t),
            (Some(t), Some(seq)) if seq < last => {
                let mut all = Vec::clone(&t);
                all.extend(super::timeline_after(conn, case_id, seq).await?);
                all
            }
            _ => super::timeline(conn, case_id).await?,
        };
        let timeline = Arc::new(timeline);
        self.put(case_id, timeline.clone());
        Ok(timeline)
    }

    fn get(&self, case_id: Uuid) -> Option<Timeline> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.map.get(&case_id).cloned()
    }

    fn put(&self, case_id: Uuid, timeline: Timeline) {
        if timeline.len() > self.max_events {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let added = timeline.len();
        match inner.map.insert(case_id, timeline) {
            Some(old) => inner.events -= old.len(),
            None => inner.order.push_back(case_id),
        }
        inner.events += added;
        while inner.events > self.max_events {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(old) = inner.map.remove(&oldest) {
                inner.events -= old.len();
            }
        }
    }

    /// Cases and events held.
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        (inner.map.len(), inner.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(case_id: Uuid, seq: i64) -> CaseEvent {
        CaseEvent {
            seq,
            id: Uuid::new_v4(),
            case_id,
            case_number: "2026-000001".into(),
            event: "case.opened".into(),
            actor_id: None,
            unit_id: None,
            prev_unit_id: None,
            police_unit_id: None,
            region_code: "450321101201".into(),
            at: chrono::DateTime::UNIX_EPOCH,
            data: serde_json::Value::Null,
        }
    }

    fn timeline(case_id: Uuid, seqs: &[i64]) -> Timeline {
        Arc::new(seqs.iter().map(|&s| event(case_id, s)).collect())
    }

    #[test]
    fn drops_the_first_put_in_when_over_its_event_bound() {
        let cache = TimelineCache::new(5);
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        cache.put(a, timeline(a, &[1, 2]));
        cache.put(b, timeline(b, &[3, 4]));
        assert_eq!(cache.held(), (2, 4));
        cache.put(c, timeline(c, &[5, 6]));
        assert_eq!(cache.held(), (2, 4));
        assert!(cache.get(a).is_none());
        assert_eq!(cache.get(c).map(|t| t.len()), Some(2));
        // A timeline that grew replaces its older self.
        cache.put(b, timeline(b, &[3, 4, 7]));
        assert_eq!(cache.held(), (2, 5));
        // One larger than the whole bound is not kept at all.
        cache.put(a, timeline(a, &[8, 9, 10, 11, 12, 13]));
        assert!(cache.get(a).is_none());
        assert_eq!(cache.held(), (2, 5));
    }
}
