//! The cron jobs of the configuration (`[jobs]`, expressions with seconds):
//! the supervisors' daily digest, the escalation auditor and the clean-up.
//!
//! Each job is a task that computes its next occurrence from the app clock,
//! sleeps towards it in steps of at most a second (or until the manual
//! clock jumps), and runs. Every occurrence is claimed by inserting its
//! `job_runs` row under a key derived from (job, scheduled time): with
//! several processes on one database the insert succeeds for one of them,
//! so a digest is mailed once, not once per process. The row is then
//! completed with the outcome, which `GET /api/v1/admin/jobs` shows.
//!
//! An occurrence missed while no process ran is not made up for (cron
//! semantics); when the clock leaps over several occurrences, the job runs
//! once.
use std::str::FromStr;

use chrono::{DateTime, Utc};
use cron::Schedule;
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{sleep_until, MAX_NAP};
use crate::{
    config::Settings,
    db::entities::{escalation, job_run},
    error::{Error, Result},
    shutdown::Shutdown,
    state::AppState,
};

/// The jobs of `[jobs]` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Digest,
    Auditor,
    Cleanup,
    LedgerReviews,
}

impl Job {
    pub const ALL: [Job; 4] = [Job::Digest, Job::Auditor, Job::Cleanup, Job::LedgerReviews];

    pub fn name(self) -> &'static str {
        match self {
            Job::Digest => "digest",
            Job::Auditor => "auditor",
            Job::Cleanup => "cleanup",
            Job::LedgerReviews => "ledger_reviews",
        }
    }

    pub fn expression(self, settings: &Settings) -> &str {
        match self {
            Job::Digest => &settings.jobs.digest,
            Job::Auditor => &settings.jobs.auditor,
            Job::Cleanup => &settings.jobs.cleanup,
            Job::LedgerReviews => &settings.jobs.ledger_reviews,
        }
    }

    pub fn schedule(self, settings: &Settings) -> Result<Schedule> {
        Schedule::from_str(self.expression(settings)).map_err(|e| {
            Error::validation(
                format!("jobs.{}", self.name()),
                format!("invalid cron expression: {e}"),
            )
        })
    }
}

/// One task per job whose expression parses (the configuration was
/// validated at start, so a bad one is only logged here).
pub fn start(state: &AppState, shutdown: &Shutdown) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for job in Job::ALL {
        match job.schedule(&state.settings) {
            Ok(schedule) => tasks.push(tokio::spawn(run(
                state.clone(),
                job,
                schedule,
                shutdown.clone(),
            ))),
            Err(e) => tracing::error!(job = job.name(), error = %e, "job not started"),
        }
    }
    tasks
}

async fn run(state: AppState, job: Job, schedule: Schedule, mut shutdown: Shutdown) {
    let mut next = schedule.after(&state.now()).next();
    tracing::info!(job = job.name(), next = ?next, "job scheduled");
    while !shutdown.is_triggered() {
        let Some(at) = next else {
            tracing::warn!(job = job.name(), "the cron expression has no upcoming time");
            shutdown.wait().await;
            break;
        };
        if state.now() < at {
            sleep_until(&state.clock, Some(at), MAX_NAP, None, &mut shutdown).await;
            continue;
        }
        run_occurrence(&state, job, at).await;
        next = schedule.after(&state.now()).next();
    }
}

/// Claim the occurrence at `at`, run the job and record how it went.
/// Errors are logged; the job runs again at its next time.
pub async fn run_occurrence(state: &AppState, job: Job, at: DateTime<Utc>) {
    let started = state.now();
    let id = occurrence_id(job, at);
    match claim(state, id, job, started).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(job = job.name(), %at, "occurrence already run by another process");
            return;
        }
        Err(e) => {
            tracing::error!(job = job.name(), error = %e, "cannot record the job run; skipped");
            return;
        }
    }
    let outcome = match job {
        Job::Digest => super::digest::digest(state, started).await,
        Job::Auditor => audit_escalations(state, started).await,
        Job::Cleanup => cleanup(state, started).await,
        Job::LedgerReviews => crate::ledger::digest::weekly(state, started).await,
    };
    let (ok, result) = match outcome {
        Ok(text) => {
            tracing::info!(job = job.name(), result = %text, "job finished");
            (true, text)
        }
        Err(e) => {
            tracing::error!(job = job.name(), error = %e, "job failed");
            (false, format!("error: {e}"))
        }
    };
    metrics::counter!("lianxin_job_runs_total", "job" => job.name(), "ok" => ok.to_string())
        .increment(1);
    if let Err(e) = finish(state, id, ok, &result).await {
        tracing::error!(job = job.name(), error = %e, "cannot record the job outcome");
    }
}

/// The same (job, scheduled time) gives the same key in every process.
fn occurrence_id(job: Job, at: DateTime<Utc>) -> Uuid {
    let hash = Sha256::digest(format!("{}|{}", job.name(), at.timestamp()).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    Uuid::from_bytes(bytes)
}

async fn claim(state: &AppState, id: Uuid, job: Job, started: DateTime<Utc>) -> Result<bool> {
    let txn = state.db.begin_write().await?;
    let inserted = job_run::Entity::insert(job_run::ActiveModel {
        id: Set(id),
        job: Set(job.name().to_string()),
        started_at: Set(started),
        finished_at: Set(started),
        ok: Set(false),
        result: Set(RUNNING.to_string()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(&*txn)
    .await?;
    txn.commit().await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// The result text of a run that has not finished (or whose process died).
const RUNNING: &str = "running";

async fn finish(state: &AppState, id: Uuid, ok: bool, result: &str) -> Result<()> {
    let txn = state.db.begin_write().await?;
    job_run::Entity::update_many()
        .col_expr(job_run::Column::FinishedAt, Expr::value(state.now()))
        .col_expr(job_run::Column::Ok, Expr::value(ok))
        .col_expr(job_run::Column::Result, Expr::value(result.to_string()))
        .filter(job_run::Column::Id.eq(id))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// auditor and clean-up

/// How far past its `next_raise_at` a pending escalation may be before the
/// auditor calls the raise missed.
const RAISE_GRACE: chrono::Duration = chrono::Duration::minutes(2);

/// Find pending imminent/high escalations whose raise should have happened
/// more than two minutes ago: the deadline engine missed it (or is down).
pub async fn audit_escalations(state: &AppState, now: DateTime<Utc>) -> Result<String> {
    let missed = escalation::Entity::find()
        .filter(escalation::Column::Status.eq("pending"))
        .filter(escalation::Column::Urgency.is_in(["imminent", "high"]))
        .filter(escalation::Column::NextRaiseAt.lt(now - RAISE_GRACE))
        .all(&state.db.conn)
        .await?;
    for e in &missed {
        tracing::error!(
            escalation = %e.id,
            case = %e.case_id,
            urgency = %e.urgency,
            level = e.level,
            next_raise_at = ?e.next_raise_at,
            "escalation raise missed: more than 2 minutes overdue and still pending"
        );
        metrics::counter!("lianxin_escalation_missed_raises_total").increment(1);
    }
    Ok(format!("{} missed raise(s)", missed.len()))
}

/// How long `job_runs` rows are kept (the auditor alone writes 1,440 a day).
const JOB_RUNS_KEPT: chrono::Duration = chrono::Duration::days(30);

async fn cleanup(state: &AppState, now: DateTime<Utc>) -> Result<String> {
    let window = chrono::Duration::seconds(
        i64::try_from(
            (state.settings.auth.failure_window_s).max(state.settings.auth.address_window_s),
        )
        .unwrap_or(i64::MAX / 1000),
    );
    let n = crate::auth::purge_expired(&state.db, now, window).await?;
    let txn = state.db.begin_write().await?;
    let runs = job_run::Entity::delete_many()
        .filter(job_run::Column::StartedAt.lt(now - JOB_RUNS_KEPT))
        .exec(&*txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(format!(
        "{n} expired session(s) and old login failure(s) purged, {runs} old job run(s)"
    ))
}

// ---------------------------------------------------------------------------
// admin view

/// A job as `GET /api/v1/admin/jobs` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub job: String,
    pub expression: String,
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run: Option<JobRunView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobRunView {
    pub started_at: DateTime<Utc>,
    /// Null while the run is in progress.
    pub finished_at: Option<DateTime<Utc>>,
    pub ok: bool,
    pub result: String,
}

pub async fn list_jobs(state: &AppState) -> Result<Vec<JobView>> {
    let now = state.now();
    let mut out = Vec::new();
    for job in Job::ALL {
        let next_run_at = job
            .schedule(&state.settings)
            .ok()
            .and_then(|s| s.after(&now).next());
        let last = job_run::Entity::find()
            .filter(job_run::Column::Job.eq(job.name()))
            .order_by_desc(job_run::Column::StartedAt)
            .limit(1)
            .one(&state.db.conn)
            .await?;
        out.push(JobView {
            job: job.name().to_string(),
            expression: job.expression(&state.settings).to_string(),
            next_run_at,
            last_run: last.map(|r| {
                let running = !r.ok && r.result == RUNNING;
                JobRunView {
                    started_at: r.started_at,
                    finished_at: (!running).then_some(r.finished_at),
                    ok: r.ok,
                    result: r.result,
                }
            }),
        });
    }
    Ok(out)
}
