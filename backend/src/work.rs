//! The unit of work: one write transaction, the moment it happens at, and
//! the effects it will have. A use case opens one, its domain cores write
//! rows and record events, mail and deadlines on it, and `commit` queues
//! the mail, appends the events last (they take the feed-order lock, see
//! `events`), commits, and wakes whoever in this process must hear of it:
//! the case cache (it drops the cases changed), the live-feed hub, the
//! deadline engine (only for a deadline earlier than
//! it planned to read), the mail sender. Other processes hear of the events
//! from the commit itself (`NOTIFY` on PostgreSQL). Dropping a `Work`
//! without committing rolls everything back, effects included.
use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{
    db::{bulk::Staged, Db, WriteTxn},
    deadlines,
    error::Result,
    events::{self, Forget, NewEvent},
    notify::{self, sms::Sms, Mail},
};

/// Who in this process must hear of a commit.
#[derive(Clone)]
pub struct Signals {
    /// The live-feed hub's pump.
    pub feed: Arc<Notify>,
    /// The deadline engine.
    pub deadlines: Arc<Notify>,
    /// When the engine will next read the store, in milliseconds by the
    /// clock; `i64::MIN` while it reads.
    pub plan: Arc<AtomicI64>,
    /// The mail sender.
    pub mail: Arc<Notify>,
    /// The SMS sender.
    pub sms: Arc<Notify>,
    /// The cases held for the case page (`events::CaseCache`): a commit
    /// drops those it changed.
    pub cases: Arc<dyn Forget>,
}

impl Signals {
    /// Fresh notifiers around the process's case cache.
    pub fn new(cases: Arc<dyn Forget>) -> Self {
        Signals {
            feed: Arc::new(Notify::new()),
            deadlines: Arc::new(Notify::new()),
            plan: Arc::new(AtomicI64::new(i64::MIN)),
            mail: Arc::new(Notify::new()),
            sms: Arc::new(Notify::new()),
            cases,
        }
    }

    /// A deadline due at `earliest` was committed: wake the engine only if
    /// it would otherwise read the store later than that (intake schedules
    /// hours ahead, and a wake-up costs the engine two queries). The engine
    /// sets its plan to `i64::MIN` before it reads, so a deadline committed
    /// while it reads always wakes it.
    pub fn deadline_scheduled(&self, earliest: DateTime<Utc>) {
        let plan = self.plan.load(Ordering::Acquire);
        if plan == i64::MIN || earliest.timestamp_millis() < plan {
            self.deadlines.notify_one();
        }
    }
}

/// A write transaction with its pending effects.
pub struct Work {
    txn: WriteTxn,
    /// The time of the change: every row, event and deadline of it.
    pub now: DateTime<Utc>,
    node: Arc<str>,
    signals: Signals,
    events: Vec<NewEvent>,
    mails: Vec<Mail>,
    sms: Vec<Sms>,
    /// Rows written with the commit (`stage`).
    staged: Staged,
    earliest_deadline: Option<DateTime<Utc>>,
}

impl std::ops::Deref for Work {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Work {
    /// Begin a write transaction (on SQLite: wait for the writer) at `now`.
    pub async fn begin(
        db: &Db,
        now: DateTime<Utc>,
        node: Arc<str>,
        signals: Signals,
    ) -> Result<Work> {
        Ok(Work::on(db.begin_write().await?, now, node, signals))
    }

    /// A unit of work on a write transaction already begun.
    pub fn on(txn: WriteTxn, now: DateTime<Utc>, node: Arc<str>, signals: Signals) -> Work {
        Work {
            txn,
            now,
            node,
            signals,
            events: Vec::new(),
            mails: Vec::new(),
            sms: Vec::new(),
            staged: Staged::default(),
            earliest_deadline: None,
        }
    }

    /// Record a case event; it is appended at commit.
    pub fn event(&mut self, e: NewEvent) {
        self.events.push(e);
    }

    /// Queue mail; it is written to the outbox at commit.
    pub fn mail(&mut self, mails: impl IntoIterator<Item = Mail>) {
        self.mails.extend(mails);
    }

    /// Queue text messages; they are written to the SMS outbox at commit.
    pub fn sms(&mut self, messages: impl IntoIterator<Item = Sms>) {
        self.sms.extend(messages);
    }

    /// Write `rows` with the commit, beside the outbox and the events (on
    /// PostgreSQL in their one statement: `events::append`). For rows
    /// nothing in this unit of work reads or refers to before it commits:
    /// a read before the commit does not see them.
    pub fn stage<A>(&mut self, rows: Vec<A>)
    where
        A: sea_orm::ActiveModelTrait + Send,
    {
        let backend = sea_orm::ConnectionTrait::get_database_backend(&*self.txn);
        self.staged.add(backend, rows);
    }

    /// Schedule deadline rows written with the commit ([`Work::stage`]);
    /// their ids.
    pub fn schedule_staged(&mut self, due: &[(&str, Uuid, &str, DateTime<Utc>)]) -> Vec<Uuid> {
        let (ids, rows) = deadlines::rows(self.now, due, None);
        self.stage(rows);
        self.note_deadlines(due);
        ids
    }

    /// Schedule a deadline row in this transaction.
    pub async fn schedule(
        &mut self,
        subject_kind: &str,
        subject_id: Uuid,
        kind: &str,
        due_at: DateTime<Utc>,
    ) -> Result<Uuid> {
        let ids = self
            .schedule_many(&[(subject_kind, subject_id, kind, due_at)])
            .await?;
        ids.into_iter()
            .next()
            .ok_or_else(|| crate::error::Error::Internal("no deadline scheduled".into()))
    }

    /// Schedule several deadline rows in one statement.
    pub async fn schedule_many(
        &mut self,
        due: &[(&str, Uuid, &str, DateTime<Utc>)],
    ) -> Result<Vec<Uuid>> {
        let ids = deadlines::schedule_many(&*self.txn, self.now, due).await?;
        self.note_deadlines(due);
        Ok(ids)
    }

    /// The engine hears of the earliest of `due` after the commit.
    fn note_deadlines(&mut self, due: &[(&str, Uuid, &str, DateTime<Utc>)]) {
        if let Some(earliest) = due.iter().map(|d| d.3).min() {
            self.earliest_deadline = Some(match self.earliest_deadline {
                Some(e) => e.min(earliest),
                None => earliest,
            });
        }
    }

    /// Cancel pending deadlines of `kinds` for a subject. (The engine needs
    /// no wake-up: a cancelled row it planned for is simply not due.)
    pub async fn cancel(&mut self, subject_id: Uuid, kinds: &[&str]) -> Result<u64> {
        Ok(deadlines::cancel(&*self.txn, self.now, subject_id, kinds).await?)
    }

    /// Write the staged rows and the outbox, append the events (on
    /// PostgreSQL all in one statement), commit, and wake this process's
    /// hub, engine and sender as needed.
    pub async fn commit(self) -> Result<()> {
        let Work {
            txn,
            now,
            node,
            signals,
            events,
            mails,
            sms,
            mut staged,
            earliest_deadline,
        } = self;
        let mail = !mails.is_empty();
        let texts = !sms.is_empty();
        let fed = !events.is_empty();
        let mut changed: Vec<Uuid> = events.iter().map(|e| e.case_id).collect();
        changed.dedup();
        let started = std::time::Instant::now();
        let backend = sea_orm::ConnectionTrait::get_database_backend(&*txn);
        staged.add(backend, notify::outbox_rows(now, mails));
        if texts {
            staged.add(backend, notify::sms::outbox_rows(&*txn, now, sms).await?);
        }
        let queued = std::time::Instant::now();
        events::append(&*txn, &node, events, staged).await?;
        let appended = std::time::Instant::now();
        let committed = txn.commit().await;
        let step = |name: &'static str, secs: std::time::Duration| {
            metrics::histogram!("lianxin_work_commit_step_seconds", "step" => name)
                .record(secs.as_secs_f64());
        };
        step("outbox", queued - started);
        step("events", appended - queued);
        step("commit", appended.elapsed());
        // Before anyone hears of the commit, and whether or not its
        // acknowledgement arrived (a commit whose answer was lost may
        // still have happened).
        for case_id in changed {
            signals.cases.forget(case_id);
        }
        committed?;
        if fed {
            signals.feed.notify_one();
        }
        if let Some(at) = earliest_deadline {
            signals.deadline_scheduled(at);
        }
        if mail {
            signals.mail.notify_one();
        }
        if texts {
            signals.sms.notify_one();
        }
        Ok(())
    }
}
