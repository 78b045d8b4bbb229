//! A case whose danger grows: open an escalation if none is open, or move
//! the open one to the stricter clocks of a higher urgency. The clocks only
//! ever move earlier: a deadline already nearer than the new policy's stays.
use chrono::Duration;
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    chain::recipients_for_level,
    engine::{event, open_one, policy_for},
    kinds::{ACK_DEADLINE, ACTION_DEADLINE},
    mail,
    opening::open,
};
use crate::{
    cases::directory::Directory,
    config::Settings,
    db::entities::{case, escalation},
    error::{Error, Result},
    vocab::{EscalationStatus, Urgency},
    work::Work,
};

/// Open an escalation at `urgency`, or tighten the open one to it. Runs in
/// the caller's transaction; its events and mail go to `out`.
#[allow(clippy::too_many_arguments)]
pub async fn open_or_tighten(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    c: &case::Model,
    urgency: Urgency,
    reason: &str,
    actor: Option<Uuid>,
) -> Result<()> {
    let current = open_one(&**w, c.id).await?;
    match current {
        None => open(w, settings, directory, c, urgency, reason, actor)
            .await
            .map(|_| ()),
        Some(e) => tighten(w, settings, c, &e, urgency, reason, actor).await,
    }
}

/// Move the open escalation `e` to the clocks of `urgency` if they are
/// stricter than its own.
#[allow(clippy::too_many_arguments)]
async fn tighten(
    w: &mut Work,
    settings: &Settings,
    c: &case::Model,
    e: &escalation::Model,
    urgency: Urgency,
    reason: &str,
    actor: Option<Uuid>,
) -> Result<()> {
    let now = w.now;
    let from = e.urgency;
    if from.rank() >= urgency.rank() {
        return Ok(());
    }
    let policy = policy_for(&settings.deadlines, urgency);
    let pending = e.status == EscalationStatus::Pending;
    let ack_due = if pending {
        Ord::min(e.ack_due_at, now + Duration::seconds(policy.acknowledge_s))
    } else {
        e.ack_due_at
    };
    // While pending, the acknowledgement row is due at `next_raise_at`.
    let next_raise = match (pending, e.next_raise_at) {
        (true, Some(n)) => Some(Ord::min(n, ack_due)),
        (true, None) => Some(ack_due),
        (false, n) => n,
    };
    let action_due = if e.first_action_at.is_none() {
        Ord::min(
            e.action_due_at,
            now + Duration::seconds(policy.first_action_s),
        )
    } else {
        e.action_due_at
    };
    let res = escalation::Entity::update_many()
        .col_expr(escalation::Column::Urgency, Expr::value(urgency.as_str()))
        .col_expr(escalation::Column::Policy, Expr::value(json!(policy)))
        .col_expr(escalation::Column::AckDueAt, Expr::value(ack_due))
        .col_expr(escalation::Column::NextRaiseAt, Expr::value(next_raise))
        .col_expr(escalation::Column::ActionDueAt, Expr::value(action_due))
        .col_expr(
            escalation::Column::Version,
            Expr::col(escalation::Column::Version).add(1),
        )
        .filter(escalation::Column::Id.eq(e.id))
        .filter(escalation::Column::Version.eq(e.version))
        .exec(&**w)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    if let (true, Some(at)) = (pending, next_raise) {
        w.cancel(e.id, &[ACK_DEADLINE]).await?;
        w.schedule("escalation", e.id, ACK_DEADLINE, at).await?;
    }
    if e.first_action_at.is_none() {
        w.cancel(e.id, &[ACTION_DEADLINE]).await?;
        w.schedule("escalation", e.id, ACTION_DEADLINE, action_due)
            .await?;
    }
    let fresh = escalation::Model {
        urgency,
        ack_due_at: ack_due,
        next_raise_at: next_raise,
        action_due_at: action_due,
        version: e.version + 1,
        ..e.clone()
    };
    tell(w, settings, c, &fresh, from, reason, actor).await
}

/// The timeline event and the mail to the level the escalation is at.
#[allow(clippy::too_many_arguments)]
async fn tell(
    w: &mut Work,
    settings: &Settings,
    c: &case::Model,
    fresh: &escalation::Model,
    from: Urgency,
    reason: &str,
    actor: Option<Uuid>,
) -> Result<()> {
    let now = w.now;
    let e = fresh;
    w.event(event(
        c,
        e,
        "escalation.urgency_raised",
        actor,
        now,
        json!({
            "escalation_id": e.id,
            "from": from,
            "to": e.urgency,
            "level": e.level,
            "reason": reason,
            "ack_due_at": e.ack_due_at,
            "next_raise_at": e.next_raise_at,
            "action_due_at": e.action_due_at,
        }),
    ));
    let to = recipients_for_level(&**w, c, e, e.level).await?;
    w.mail(mail::escalation_mails(
        &settings.public_url,
        c,
        e,
        &to,
        true,
    ));
    Ok(())
}
