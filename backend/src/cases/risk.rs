//! A risk raised by hand. `high` or `imminent` reaches the police exactly
//! as a danger screen with that result would: it opens an escalation in the
//! same transaction, or moves an open one of lower urgency to the stricter
//! clocks. The priority follows the risk up, and with it the accept clock.
use sea_orm::ActiveValue::Set;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    clocks,
    record::{event, required},
    scope::Access,
    service::{load_for, respond, save},
    view::CaseView,
};
use crate::{
    auth::Principal,
    db::entities::case,
    error::{Error, Result},
    escalation,
    state::AppState,
    vocab::{CaseStatus, Priority, RiskLevel, Urgency},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskBody {
    pub risk_level: RiskLevel,
    pub reason: String,
    pub version: Option<i32>,
}

/// The urgency a risk level calls for, and the priority it implies.
fn consequences(risk: RiskLevel) -> (Option<Urgency>, Priority) {
    match risk {
        RiskLevel::Imminent => (Some(Urgency::Imminent), Priority::Urgent),
        RiskLevel::High => (Some(Urgency::High), Priority::High),
        _ => (None, Priority::Normal),
    }
}

/// The priority after a raise (never lower) and the accept deadline that
/// goes with it: a case still waiting to be accepted gets the stricter one.
fn stricter_accept(
    state: &AppState,
    cal: &crate::calendar::Calendar,
    c: &case::Model,
    status: CaseStatus,
    wanted: Priority,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Priority, Option<chrono::DateTime<chrono::Utc>>)> {
    let priority = c.priority;
    let new_priority = if wanted.rank() > priority.rank() {
        wanted
    } else {
        priority
    };
    let accept_due = match (status, c.accept_due_at) {
        (CaseStatus::Assigned, Some(old)) if new_priority != priority => {
            Some(old.min(clocks::accept_due(&state.settings, cal, new_priority, now)))
        }
        (_, old) => old,
    };
    Ok((new_priority, accept_due))
}

/// Raise the risk level by hand (never lower it); a timeline event, and
/// for `high`/`imminent` the escalation.
pub async fn raise_risk(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: RiskBody,
) -> Result<CaseView> {
    let reason = required("reason", &body.reason, 2000)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let allowed = [Access::Handler, Access::Hotline, Access::Supervisor];
    let what = "raise the risk level of";
    let c0 = load_for(&*w, p, id, body.version, &allowed, what).await?;
    let current = c0.risk_level;
    if body.risk_level.rank() <= current.rank() {
        return Err(Error::InvalidTransition(format!(
            "the risk level is {current}; it can only be raised, never lowered"
        )));
    }
    let status = c0.status;
    if status == CaseStatus::Closed {
        return Err(Error::InvalidTransition(
            "the case is closed; reopen it first".into(),
        ));
    }
    let (urgency, wanted_priority) = consequences(body.risk_level);
    let cal = state.calendar().await?;
    let (new_priority, accept_due) =
        stricter_accept(state, &cal, &c0, status, wanted_priority, now)?;
    let c = save(
        &*w,
        &c0,
        case::ActiveModel {
            risk_level: Set(body.risk_level),
            priority: Set(new_priority),
            accept_due_at: Set(accept_due),
            ..Default::default()
        },
        now,
    )
    .await?;
    if accept_due != c0.accept_due_at {
        if let Some(due) = accept_due {
            w.cancel(c.id, &[clocks::ACCEPT]).await?;
            w.schedule("case", c.id, clocks::ACCEPT, due).await?;
        }
    }
    w.event(event(
        &c,
        "case.risk_raised",
        Some(p.user_id),
        now,
        json!({
            "from": current,
            "to": body.risk_level,
            "reason": reason,
            "priority": new_priority,
            "accept_due_at": accept_due,
        }),
    ));
    if let Some(u) = urgency {
        let why = format!("risk raised to {}: {reason}", body.risk_level);
        escalation::open_or_tighten(
            &mut w,
            &state.settings,
            &state.directory,
            &c,
            u,
            &why,
            Some(p.user_id),
        )
        .await?;
    }
    w.commit().await?;
    respond(state, &c).await
}
