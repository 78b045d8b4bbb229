//! What a fired deadline means. Runs inside the engine's claim transaction,
//! so the claim, the events, the overdue flag and the emails commit
//! together or not at all. A deadline whose condition was met in the
//! meantime (the case was accepted, the escalation acknowledged) fires as a
//! no-op; unknown kinds are ignored.
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::{
    cases::service::{ACCEPT, CONFIRMATION, CONFIRMATION_REMINDER, FOLLOW_UP, RESOLVE},
    db::{entities::case, WriteTxn},
    deadlines::Deadline,
    error::Result,
    escalation::{self, mail, Produced, ACK_DEADLINE, ACTION_DEADLINE},
    events::{self, Effects, NewEvent},
    notify,
    state::AppState,
    vocab::CaseStatus,
};

/// Apply the effects of `deadline` inside `txn`, the transaction that
/// claimed it. Unknown kinds are ignored.
pub async fn fire(state: &AppState, txn: &WriteTxn, deadline: &Deadline) -> Result<Effects> {
    let now = state.now();
    let mut out = Produced::default();
    let fired = match deadline.kind.as_str() {
        ACK_DEADLINE => {
            escalation::raise(&**txn, state, now, deadline.subject_id, &mut out).await?
        }
        ACTION_DEADLINE => {
            escalation::action_missed(&**txn, state, now, deadline.subject_id, &mut out).await?
        }
        ACCEPT | RESOLVE | FOLLOW_UP | CONFIRMATION | CONFIRMATION_REMINDER => {
            case_deadline(state, txn, deadline, &mut out).await?
        }
        _ => false,
    };
    if !fired {
        return Ok(Effects::default());
    }
    let mail = !out.mails.is_empty();
    notify::enqueue(&**txn, now, out.mails).await?;
    let events = !out.events.is_empty();
    events::append(&**txn, &state.node_id, out.events).await?;
    Ok(Effects {
        events,
        deadlines: true,
        mail,
    })
}

async fn case_deadline(
    state: &AppState,
    txn: &WriteTxn,
    d: &Deadline,
    out: &mut Produced,
) -> Result<bool> {
    let now = state.now();
    let Some(c) = case::Entity::find_by_id(d.subject_id).one(&**txn).await? else {
        return Ok(false);
    };
    let status = CaseStatus::parse(&c.status).unwrap_or(CaseStatus::New);
    use CaseStatus::*;
    let (still_due, kind) = match d.kind.as_str() {
        ACCEPT => (matches!(status, New | Assigned), "accept"),
        RESOLVE => (matches!(status, New | Assigned | InProgress), "resolve"),
        FOLLOW_UP => (status == Resolved, "follow_up"),
        CONFIRMATION_REMINDER => (status != New, "confirmation_reminder"),
        CONFIRMATION => (status != New, "confirmation"),
        _ => (false, ""),
    };
    if !still_due {
        return Ok(false);
    }
    let mut to = match c.assigned_unit_id {
        Some(u) => escalation::unit_addresses(&**txn, u).await?,
        None => Vec::new(),
    };
    if kind == "confirmation_reminder" {
        // A reminder to the mediators, not a missed deadline.
        out.mails.extend(mail::deadline_missed_mails(
            &state.settings.public_url,
            &c,
            kind,
            c.confirmation_due_at.unwrap_or(d.due_at),
            &to,
        ));
        return Ok(true);
    }
    to.extend(escalation::supervisor_addresses(&**txn, &c.region_code).await?);
    case::Entity::update_many()
        .col_expr(case::Column::Overdue, Expr::value(true))
        .filter(case::Column::Id.eq(c.id))
        .exec(&**txn)
        .await?;
    out.events.push(NewEvent {
        case_id: c.id,
        case_number: c.number.clone(),
        kind: "deadline.missed",
        actor_id: None,
        unit_id: c.assigned_unit_id,
        prev_unit_id: None,
        police_unit_id: None,
        region_code: c.region_code.clone(),
        at: now,
        data: json!({"kind": kind, "due_at": d.due_at, "status": c.status}),
    });
    out.mails.extend(mail::deadline_missed_mails(
        &state.settings.public_url,
        &c,
        kind,
        d.due_at,
        &to,
    ));
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => kind).increment(1);
    Ok(true)
}
