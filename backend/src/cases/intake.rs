//! Intake writes, batched (group commit).
//!
//! `service::open` validates and routes a new case outside any transaction
//! and hands the result here. Requests that arrive while a batch is being
//! written queue up; the request that takes the intake lock starts a drain:
//! batch after batch, each of every case queued when it starts, until the
//! queue is empty. A batch is one transaction: one counter bump for the case
//! numbers, one multi-row insert each for cases and handlers; the
//! deadlines and, for the cases whose danger opens one, their escalations
//! with their mail and texts, staged to go out with the feed stamp for all
//! their events (one statement on PostgreSQL: `Work::stage`); one durable
//! commit. Under load that pays the fsync (and,
//! on SQLite, the writer lock) once per batch instead of once per case; a
//! lone request is a batch of one and waits for nobody.
//!
//! **Where the batches run.** The drain runs on the writers' own thread (a
//! one-thread runtime, `db::writer_thread`), and on PostgreSQL on its own
//! connection, opened there. A batch is a dozen statements, each
//! a round trip (to SQLite's worker thread or to the PostgreSQL server);
//! on the server's runtime every reply waited its turn behind the requests
//! that runtime was serving, and a PostgreSQL socket's readiness came
//! through that runtime's poller even to another thread. On its own thread
//! each reply wakes the batch at once (README, Performance: "The intake
//! writer's own thread").
//!
//! **Invariants.** A request hears about its case only after the batch's
//! commit. If a batch fails, nothing of it was written, and every case in
//! it is retried alone, so one bad case cannot fail the others and still
//! gets its own error. The drain is a task of its own: the request leading
//! it may be dropped (its client gone) without cancelling the writes the
//! others are waiting for.
use chrono::Datelike;
use sea_orm::{
    sea_query::Expr, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TryIntoModel,
};
use tokio::sync::oneshot;

pub use super::intake_queue::Intake;
use super::{
    clocks::{ACCEPT, DISPATCH, RESOLVE},
    intake_queue::{answer_batch, Answered, Job},
    record::{call_already_linked, event},
};
use crate::{
    db::{
        bulk,
        entities::{call, case, case_handler, escalation as escalation_row},
    },
    error::{Error, Result},
    escalation, events,
    state::AppState,
    work::Work,
};

/// Queue `intake`, write it (in this request's batch or an earlier one's),
/// and return the committed case.
///
/// Whoever takes the intake lock drains the queue: batch after batch in one
/// spawned task, until a batch finds it empty. Cases queued while a batch
/// is written go out in the next one straight away, without a hand-over of
/// the lock to another request's task (which, on a runtime busy with those
/// requests, waited its turn between every two batches). A request whose
/// case went out in another's batch hears of it at once, without waiting
/// for the lock.
pub(super) async fn submit(state: &AppState, intake: Intake) -> Result<case::Model> {
    let queue = &state.intake;
    let (done, mut written) = oneshot::channel();
    queue.pending().push((intake, done));
    let lost = || Error::Internal("the intake batch was lost".into());
    let lead = tokio::select! {
        biased;
        result = &mut written => return result.map_err(|_| lost())?,
        lead = queue.leader.clone().lock_owned() => lead,
    };
    let st = state.clone();
    let work = async move {
        let _lead = lead;
        loop {
            let batch = st.intake.take_batch();
            if batch.is_empty() {
                break;
            }
            write_and_answer(&st, batch).await;
        }
    };
    let drain = state.db.writer_thread.spawn(work);
    tokio::select! {
        biased;
        result = &mut written => result.map_err(|_| lost())?,
        finished = drain => {
            if finished.is_err() {
                tracing::error!("an intake batch task failed");
            }
            // The drain ends only once the queue is empty, so this
            // request's case was answered before it ended.
            written.await.map_err(|_| lost())?
        }
    }
}

async fn write_and_answer(state: &AppState, batch: Vec<Job>) {
    let started = std::time::Instant::now();
    let answered = answer_batch(batch, |intakes| {
        let st = state.clone();
        Box::pin(async move { write(&st, intakes).await })
    })
    .await;
    match answered {
        Answered::Batch(n) => {
            count_batch(n);
            metrics::histogram!("lianxin_intake_batch_seconds")
                .record(started.elapsed().as_secs_f64());
        }
        Answered::OneByOne(n) => (0..n).for_each(|_| count_batch(1)),
        Answered::Failed => {}
    }
}

/// Cases over batches is the mean batch size (`/metrics`); the time a
/// successful batch took to write is `lianxin_intake_batch_seconds`.
fn count_batch(cases: usize) {
    metrics::counter!("lianxin_intake_batches_total").increment(1);
    metrics::counter!("lianxin_intake_cases_total").increment(cases as u64);
}

/// Write `intakes` in one transaction; the committed cases, in order.
async fn write(state: &AppState, intakes: &[&Intake]) -> Result<Vec<case::Model>> {
    let now = state.now();
    let asked = std::time::Instant::now();
    let mut w = begin(state, now).await?;
    let began = std::time::Instant::now();

    let numbers = number(&w, intakes).await?;
    let numbered = std::time::Instant::now();
    let mut rows = Vec::with_capacity(intakes.len());
    let mut cases = Vec::with_capacity(intakes.len());
    for (intake, number) in intakes.iter().zip(numbers) {
        let mut am = intake.case.clone();
        am.number = Set(number);
        cases.push(am.clone().try_into_model()?);
        rows.push(am);
    }
    bulk::insert_rows(&*w, rows).await?;

    // The escalations the danger screens open, planned first: their
    // police handlers and deadlines go into the cases' own statements.
    let escalate = to_escalate(intakes, &cases);
    let (settings, directory) = (&state.settings, &state.directory);
    let planned = escalation::plan(&w, settings, directory, &escalate).await?;
    let mut handlers: Vec<case_handler::ActiveModel> = cases
        .iter()
        .filter_map(|c| {
            c.assigned_unit_id.map(|u| case_handler::ActiveModel {
                case_id: Set(c.id),
                unit_id: Set(u),
            })
        })
        .collect();
    handlers.extend(planned.handlers);
    bulk::insert_rows(&*w, handlers).await?;

    let mut due = Vec::with_capacity(intakes.len() * 3 + planned.deadlines.len());
    for (intake, c) in intakes.iter().zip(&cases) {
        if let Some(at) = intake.accept_due {
            due.push(("case", c.id, ACCEPT, at));
        }
        if let Some(at) = intake.dispatch_due {
            due.push(("case", c.id, DISPATCH, at));
        }
        due.push(("case", c.id, RESOLVE, intake.resolve_due));
    }
    due.extend(planned.deadlines);
    // The deadlines and the escalations go out with the commit, in one
    // statement with the outbox and the events on PostgreSQL
    // (`Work::stage`): nothing in the batch reads them or refers to them.
    w.schedule_staged(&due);
    let escalations: Vec<escalation_row::ActiveModel> =
        planned.models.iter().cloned().map(Into::into).collect();
    w.stage(escalations);
    let inserted = std::time::Instant::now();

    link_and_announce(&mut w, state, intakes, &cases).await?;
    escalation::announce_planned(&mut w, settings, &escalate, &planned.models).await?;
    let written = std::time::Instant::now();
    // Wakes the engine only for a deadline earlier than its plan.
    w.commit().await?;
    let phase = |name: &'static str, secs: std::time::Duration| {
        metrics::histogram!("lianxin_intake_batch_phase_seconds", "phase" => name)
            .record(secs.as_secs_f64());
    };
    phase("writer_wait", began - asked);
    phase("statements", written - began);
    // The statements, apart: the numbers' counter bump; the rows of the
    // cases and their handlers, the escalations planned, the deadlines and
    // escalation rows staged; what opens with them (calls, reporters,
    // referrals, ledger links, the escalations' mail and texts).
    phase("statements_numbers", numbered - began);
    phase("statements_rows", inserted - numbered);
    phase("statements_links", written - inserted);
    phase("commit", written.elapsed());
    Ok(cases)
}

/// The batch's unit of work, on the writers' thread's transaction (on
/// PostgreSQL its own connection).
async fn begin(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> Result<Work> {
    let txn = state.db.begin_write_on_thread().await?;
    Ok(Work::on(
        txn,
        now,
        state.node_id.clone(),
        state.signals.clone(),
    ))
}

/// Case numbers for `intakes`, in order: one counter bump per year in the
/// batch (`YYYY-NNNNNN`, contiguous, none skipped: a failed batch rolls
/// its bump back with everything else).
async fn number(w: &Work, intakes: &[&Intake]) -> Result<Vec<String>> {
    // Case numbers: one counter bump per year in the batch.
    let mut numbers = vec![String::new(); intakes.len()];
    let mut years: Vec<i32> = intakes.iter().map(|i| i.now.year()).collect();
    years.sort_unstable();
    years.dedup();
    for year in years {
        let mine: Vec<usize> = (0..intakes.len())
            .filter(|&k| intakes[k].now.year() == year)
            .collect();
        let n = mine.len() as i64;
        let last = events::bump_counter(&**w, &format!("case_number:{year}"), n).await?;
        for (j, &k) in mine.iter().enumerate() {
            numbers[k] = format!("{year}-{:06}", last - n + 1 + j as i64);
        }
    }
    Ok(numbers)
}

/// The escalations the batch's danger screens open (high or imminent), in
/// the batch's order: written in its transaction, so a dangerous case
/// never exists without its escalation.
fn to_escalate<'a>(
    intakes: &[&'a Intake],
    cases: &'a [case::Model],
) -> Vec<escalation::ToOpen<'a>> {
    intakes
        .iter()
        .zip(cases)
        .filter_map(|(intake, c)| {
            let (urgency, reason) = intake.escalate.as_ref()?;
            Some(escalation::ToOpen {
                case: c,
                urgency: *urgency,
                reason,
                actor: Some(intake.actor),
            })
        })
        .collect()
}

/// Per case: link its call (409 `call_already_linked` if another case took
/// it first), its `case.opened` and `case.assigned` events, its reporter,
/// referrals and ledger link.
async fn link_and_announce(
    w: &mut Work,
    state: &AppState,
    intakes: &[&Intake],
    cases: &[case::Model],
) -> Result<()> {
    for (intake, c) in intakes.iter().zip(cases) {
        if let Some(call_id) = intake.call_id {
            let linked = call::Entity::update_many()
                .col_expr(call::Column::CaseId, Expr::value(c.id))
                .filter(call::Column::Id.eq(call_id))
                .filter(call::Column::CaseId.is_null())
                .exec(&**w)
                .await?;
            if linked.rows_affected != 1 {
                return Err(call_already_linked());
            }
        }
        w.event(event(
            c,
            "case.opened",
            Some(intake.actor),
            intake.now,
            intake.opened.clone(),
        ));
        w.event(event(
            c,
            "case.assigned",
            None,
            intake.now,
            intake.assigned.clone(),
        ));
        if let Some(r) = &intake.reporter {
            super::reporter::insert(&**w, c.id, r, intake.now).await?;
        }
        with_case(w, state, intake, c).await?;
    }
    Ok(())
}

/// What else opens with a case in its transaction: the referrals its
/// category's co-handling rule names, and its link to a ledger person.
async fn with_case(w: &mut Work, state: &AppState, intake: &Intake, c: &case::Model) -> Result<()> {
    let cal = state.calendar().await?;
    crate::referrals::engine::co_handle(w, &state.settings, &state.directory, &cal, c).await?;
    crate::ledger::link::on_intake(w, c, intake.actor).await?;
    Ok(())
}
