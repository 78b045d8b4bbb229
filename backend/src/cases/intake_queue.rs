//! The intake queue: cases validated and routed, waiting for the next
//! batch (`intake` writes them), and the lock the batch's leader holds.
//! Types only, so the process state can hold the queue without importing
//! the use case that drains it.
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

use futures_util::future::BoxFuture;

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
    /// A mandatory report's reporter, stored apart in the same transaction.
    pub reporter: Option<super::reporter::ReporterInput>,
}

/// An intake and where its committed case (or error) goes.
pub(super) type Job = (Intake, oneshot::Sender<Result<case::Model>>);

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

/// How a batch was answered: written whole, written case by case after
/// the whole failed (how many tried), or a lone case that failed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Answered {
    Batch(usize),
    OneByOne(usize),
    Failed,
}

/// Answer every job of `batch` through `write`: the whole batch in one
/// call; if that fails, nothing of it was written (one transaction), so
/// each job is written alone and one bad case fails by itself with its own
/// error. A batch of one gets its error at once.
pub(super) async fn answer_batch<T, R>(
    batch: Vec<(T, oneshot::Sender<Result<R>>)>,
    write: impl for<'a> Fn(&'a [&'a T]) -> BoxFuture<'a, Result<Vec<R>>>,
) -> Answered {
    let items: Vec<&T> = batch.iter().map(|(t, _)| t).collect();
    let first = write(&items).await;
    drop(items);
    match first {
        Ok(results) => {
            let n = batch.len();
            for ((_, done), r) in batch.into_iter().zip(results) {
                let _ = done.send(Ok(r));
            }
            Answered::Batch(n)
        }
        Err(e) if batch.len() == 1 => {
            if let Some((_, done)) = batch.into_iter().next() {
                let _ = done.send(Err(e));
            }
            Answered::Failed
        }
        Err(e) => {
            tracing::info!(error = %e, cases = batch.len(), "intake batch failed; writing its cases one by one");
            let tried = batch.len();
            for (t, done) in batch {
                let one = write(&[&t]).await.and_then(|mut v| {
                    v.pop()
                        .ok_or_else(|| crate::error::Error::Internal("empty intake result".into()))
                });
                let _ = done.send(one);
            }
            Answered::OneByOne(tried)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// A writer that fails any call containing a negative number and counts
    /// its calls; each item "writes" as its double.
    fn writer(
        calls: &std::sync::atomic::AtomicUsize,
    ) -> impl for<'a> Fn(&'a [&'a i32]) -> BoxFuture<'a, Result<Vec<i32>>> + '_ {
        move |items| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let out: Result<Vec<i32>> = if items.iter().any(|&&i| i < 0) {
                Err(Error::VersionConflict)
            } else {
                Ok(items.iter().map(|&&i| i * 2).collect())
            };
            Box::pin(async move { out })
        }
    }

    type Jobs = (
        Vec<(i32, oneshot::Sender<Result<i32>>)>,
        Vec<oneshot::Receiver<Result<i32>>>,
    );

    fn jobs(items: &[i32]) -> Jobs {
        items
            .iter()
            .map(|&i| {
                let (tx, rx) = oneshot::channel();
                ((i, tx), rx)
            })
            .unzip()
    }

    #[tokio::test]
    async fn a_good_batch_is_written_once_and_every_job_hears_its_case() -> Result<()> {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let (batch, answers) = jobs(&[1, 2, 3]);
        let written = answer_batch(batch, writer(&calls)).await;
        assert_eq!(written, Answered::Batch(3));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        let mut got = Vec::new();
        for rx in answers {
            got.push(rx.await.map_err(|_| Error::Internal("lost".into()))??);
        }
        assert_eq!(got, vec![2, 4, 6]);
        Ok(())
    }

    #[tokio::test]
    async fn one_bad_case_fails_alone_and_the_others_are_written_one_by_one() -> Result<()> {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let (batch, answers) = jobs(&[1, -1, 3]);
        let written = answer_batch(batch, writer(&calls)).await;
        assert_eq!(written, Answered::OneByOne(3));
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            4,
            "the batch, then each alone"
        );
        let mut got = Vec::new();
        for rx in answers {
            got.push(rx.await.map_err(|_| Error::Internal("lost".into()))?);
        }
        assert!(matches!(got[0], Ok(2)));
        assert!(matches!(got[1], Err(Error::VersionConflict)));
        assert!(matches!(got[2], Ok(6)));
        Ok(())
    }

    #[tokio::test]
    async fn a_lone_bad_case_gets_its_error_without_a_retry() -> Result<()> {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let (batch, answers) = jobs(&[-5]);
        assert_eq!(answer_batch(batch, writer(&calls)).await, Answered::Failed);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        for rx in answers {
            let r = rx.await.map_err(|_| Error::Internal("lost".into()))?;
            assert!(r.is_err());
        }
        Ok(())
    }
}
