//! The intake queue: cases validated and routed, waiting for the next
//! batch (`intake` writes them), and the lock the batch's leader holds.
//! Types only, so the process state can hold the queue without importing
//! the use case that drains it.
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::{db::entities::case, error::Result, vocab::Urgency};

/// Most cases written in one transaction.
const MAX_BATCH: usize = 64;

/// A case validated and routed, waiting for its write.
pub struct Intake {
    pub now: DateTime<Utc>,
    pub actor: Uuid,
    /// Every column but `number`, which the batch assigns.
    pub case: case::ActiveModel,
    pub call_id: Option<Uuid>,
    /// Data of the `case.opened` and `case.assigned` events.
    pub opened: Value,
    pub assigned: Value,
    pub accept_due: Option<DateTime<Utc>>,
    /// Set when the case stays `new` at the hotline centre.
    pub dispatch_due: Option<DateTime<Utc>>,
    pub resolve_due: DateTime<Utc>,
    /// A high or imminent danger screen opens an escalation in the same
    /// transaction.
    pub escalate: Option<(Urgency, String)>,
}

pub(super) struct Job {
    pub intake: Intake,
    pub done: oneshot::Sender<Result<case::Model>>,
}

/// The queue of intakes waiting for a batch, and the lock its leader holds.
#[derive(Default)]
pub struct IntakeQueue {
    pending: Mutex<Vec<Job>>,
    pub(super) leader: Arc<tokio::sync::Mutex<()>>,
}

impl IntakeQueue {
    /// The pending list. A panic while it was held (there is nothing in
    /// push or drain that can panic but allocation) leaves it whole, so
    /// a poisoned lock is taken as it is rather than losing the cases in it.
    pub(super) fn pending(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn take_batch(&self) -> Vec<Job> {
        let mut pending = self.pending();
        let n = pending.len().min(MAX_BATCH);
        pending.drain(..n).collect()
    }
}
