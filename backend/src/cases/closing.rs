//! The end of a case: the outcome, the parties' judicial confirmation of a
//! mediation agreement, the close after the follow-up visit, and a reopen.
//! One transaction each, like every use case in `service`.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    clocks::{self, CONFIRMATION, CONFIRMATION_REMINDER, FOLLOW_UP, RESOLVE},
    model::Action,
    record::{event, required, text},
    scope::Access,
    service::{begin_change, load_for, respond, save, ReasonBody},
    view::CaseView,
};
use crate::{
    audit,
    auth::Principal,
    config::DeadlinePolicy,
    db::entities::case,
    error::{Error, Result},
    state::AppState,
    vocab::{ConfirmationStatus, OutcomeResult},
    work::Work,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    pub result: OutcomeResult,
    #[serde(default)]
    pub details: String,
    /// For mediation agreements: starts the 30-day judicial confirmation window.
    pub agreement_date: Option<NaiveDate>,
    pub version: Option<i32>,
}

/// When the parties' agreement took effect: its date (not in the future),
/// or today for an agreement without one; `None` for any other outcome,
/// which may not carry an agreement date.
fn agreement_start(
    result: OutcomeResult,
    date: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    match (result, date) {
        (OutcomeResult::Agreement, Some(d)) => {
            let start = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
            if start > now + Duration::days(1) {
                return Err(Error::validation(
                    "agreement_date",
                    "cannot be in the future",
                ));
            }
            Ok(Some(start))
        }
        (OutcomeResult::Agreement, None) => Ok(Some(now)),
        (_, Some(_)) => Err(Error::validation(
            "agreement_date",
            "only an agreement has an agreement date",
        )),
        (_, None) => Ok(None),
    }
}

/// A resolved case's clocks: nothing is left to dispatch, accept or
/// resolve, an earlier agreement's confirmation window (before a reopen)
/// is replaced, the follow-up starts, and an agreement opens the parties'
/// confirmation window with its reminder.
async fn resolved_clocks(
    w: &mut Work,
    policy: &DeadlinePolicy,
    case_id: Uuid,
    follow_up_due: DateTime<Utc>,
    agreement_start: Option<DateTime<Utc>>,
) -> Result<()> {
    let now = w.now;
    let stop = [
        clocks::RESOLVE_KINDS,
        clocks::ACCEPT_KINDS,
        clocks::DISPATCH_KINDS,
        clocks::CONFIRMATION_KINDS,
    ]
    .concat();
    w.cancel(case_id, &stop).await?;
    w.schedule("case", case_id, FOLLOW_UP, follow_up_due)
        .await?;
    if let Some(start) = agreement_start {
        let due = start + Duration::seconds(policy.confirmation_window_s);
        let reminder = start + Duration::seconds(policy.confirmation_reminder_s);
        if reminder > now {
            w.schedule("case", case_id, CONFIRMATION_REMINDER, reminder)
                .await?;
        }
        w.schedule("case", case_id, CONFIRMATION, due.max(now))
            .await?;
    }
    Ok(())
}

pub async fn record_outcome(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: OutcomeBody,
) -> Result<CaseView> {
    let details = text("details", &body.details, 10000, false)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let ch = begin_change(
        &*w,
        p,
        id,
        Action::RecordOutcome,
        body.version,
        &[Access::Handler],
    )
    .await?;
    // A mediated case's agreement is the one on file, dated by it.
    let agreement_date = crate::mediation::agreement::agreement_date_for_outcome(
        &*w,
        id,
        body.result,
        body.agreement_date,
    )
    .await?;
    let agreement_start = agreement_start(body.result, agreement_date, now)?;
    let policy = &state.settings.deadlines;
    let follow_up_due = now + Duration::seconds(policy.follow_up_s);
    let confirmation_due =
        agreement_start.map(|s| s + Duration::seconds(policy.confirmation_window_s));
    let c = save(
        &*w,
        &ch.case,
        case::ActiveModel {
            status: Set(ch.next),
            outcome: Set(Some(json!({
                "result": body.result,
                "details": details,
                "agreement_date": agreement_date,
                "recorded_by": p.user_id,
                "recorded_at": now,
            }))),
            resolved_at: Set(Some(now)),
            follow_up_due_at: Set(Some(follow_up_due)),
            confirmation_due_at: Set(confirmation_due),
            confirmation: Set(None),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    resolved_clocks(&mut w, policy, c.id, follow_up_due, agreement_start).await?;
    w.event(event(
        &c,
        "case.outcome_recorded",
        Some(p.user_id),
        now,
        json!({
            "result": body.result,
            "details": details,
            "agreement_date": agreement_date,
            "follow_up_due_at": follow_up_due,
            "confirmation_due_at": confirmation_due,
            "status": c.status,
        }),
    ));
    // The hotline calls her back (回访) unless calling her is unsafe.
    let cal = state.calendar().await?;
    crate::hotline::schedule::satisfaction(&mut w, &state.settings, &cal, &c).await?;
    w.commit().await?;
    respond(state, &c).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// What the follow-up visit found.
    pub follow_up: String,
    /// Required to close a case whose police escalation is still open: why
    /// it may close anyway (audited, on the timeline).
    pub override_reason: Option<String>,
    pub version: Option<i32>,
}

pub async fn close(state: &AppState, p: &Principal, id: Uuid, body: CloseBody) -> Result<CaseView> {
    let follow_up = required("follow_up", &body.follow_up, 10000)?;
    let override_reason = match &body.override_reason {
        Some(r) => text("override_reason", r, 2000, false)?,
        None => None,
    };
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let ch = begin_change(&*w, p, id, Action::Close, body.version, &[Access::Handler]).await?;
    // Referrals still owed an answer: 409 `open_referrals`.
    crate::referrals::engine::may_close(&*w, id).await?;
    // The police have not finished: closing needs a stated reason.
    let open_escalation = crate::escalation::open_one(&*w, id).await?;
    if let Some(e) = &open_escalation {
        let Some(why) = &override_reason else {
            return Err(Error::Conflict {
                code: "open_escalation",
                message: format!(
                    "案件有尚未办结的公安预警（{}），关闭须填写理由 override_reason / \
                     the case has an open police escalation ({}); give override_reason to close it anyway",
                    e.status, e.status
                ),
            });
        };
        audit::append(
            &*w,
            now,
            Some(p.user_id),
            "case.close_override",
            format!("case:{id}"),
            json!({
                "case_number": ch.case.number,
                "escalation_id": e.id,
                "escalation_status": e.status,
                "reason": why,
            }),
        )
        .await?;
    }
    let c = save(
        &*w,
        &ch.case,
        case::ActiveModel {
            status: Set(ch.next),
            closed_at: Set(Some(now)),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    // Every clock of ours stops; the parties' confirmation window runs on.
    w.cancel(c.id, clocks::ON_CLOSE).await?;
    crate::referrals::engine::close_answered(&w, c.id).await?;
    w.event(event(
        &c,
        "case.closed",
        Some(p.user_id),
        now,
        json!({
            "follow_up": follow_up,
            "status": c.status,
            "open_escalation_id": open_escalation.as_ref().map(|e| e.id),
            "override_reason": open_escalation.as_ref().and(override_reason.as_ref()),
        }),
    ));
    w.commit().await?;
    respond(state, &c).await
}

pub async fn reopen(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ReasonBody,
) -> Result<CaseView> {
    let reason = required("reason", &body.reason, 2000)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let ch = begin_change(
        &*w,
        p,
        id,
        Action::Reopen,
        body.version,
        &[Access::Handler, Access::Hotline, Access::Supervisor],
    )
    .await?;
    let category = ch.case.category;
    let cal = state.calendar().await?;
    let resolve_due = clocks::resolve_due(&state.settings, &cal, category, now);
    let c = save(
        &*w,
        &ch.case,
        case::ActiveModel {
            status: Set(ch.next),
            resolve_due_at: Set(Some(resolve_due)),
            follow_up_due_at: Set(None),
            closed_at: Set(None),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(c.id, &[FOLLOW_UP]).await?;
    w.schedule("case", c.id, RESOLVE, resolve_due).await?;
    w.event(event(
        &c,
        "case.reopened",
        Some(p.user_id),
        now,
        json!({
            "reason": reason, "status": c.status, "resolve_due_at": resolve_due,
        }),
    ));
    w.commit().await?;
    respond(state, &c).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationBody {
    pub status: ConfirmationStatus,
    /// The court applied to, when there is one.
    pub court: Option<String>,
    /// When the parties applied, or the court decided.
    pub date: NaiveDate,
    pub version: Option<i32>,
}

/// `POST /cases/{id}/confirmation`: the handling unit records what the
/// parties did about judicial confirmation of their agreement. The window's
/// reminder and close stop.
pub async fn record_confirmation(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ConfirmationBody,
) -> Result<CaseView> {
    let court = match &body.court {
        Some(c) => text("court", c, 200, false)?,
        None => None,
    };
    let now = state.now();
    if body.date > now.date_naive() + Duration::days(1) {
        return Err(Error::validation("date", "cannot be in the future"));
    }
    let mut w = state.work_at(now).await?;
    let what = "record the judicial confirmation of";
    let c0 = load_for(&*w, p, id, body.version, &[Access::Handler], what).await?;
    let agreement = c0
        .outcome
        .as_ref()
        .and_then(|o| o.get("result"))
        .and_then(|r| r.as_str())
        == Some(OutcomeResult::Agreement.as_str());
    if !agreement {
        return Err(Error::InvalidTransition(
            "judicial confirmation follows a mediation agreement; this case has none".into(),
        ));
    }
    let record = json!({
        "status": body.status,
        "court": court,
        "date": body.date,
        "recorded_by": p.user_id,
        "recorded_at": now,
    });
    let c = save(
        &*w,
        &c0,
        case::ActiveModel {
            confirmation: Set(Some(record.clone())),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(c.id, &[CONFIRMATION_REMINDER, CONFIRMATION])
        .await?;
    w.event(event(
        &c,
        "mediation.confirmation_recorded",
        Some(p.user_id),
        now,
        record,
    ));
    w.commit().await?;
    respond(state, &c).await
}
