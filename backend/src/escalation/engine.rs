//! The escalation engine: open one in the caller's unit of work, raise it
//! a level when nobody acknowledges, report a missed first action. Each step
//! records its case event, its mail and its next deadline on the work.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    chain::{
        self, add_handler, police_unit_for, recipients_for_level, supervisor_addresses,
        unit_addresses,
    },
    kinds::{ACK_DEADLINE, TOP_LEVEL},
    mail,
};
use crate::{
    cases::directory::Directory,
    config::{DeadlinePolicy, EscalationPolicy, Settings},
    db::entities::{case, escalation},
    error::{Error, Result},
    events::NewEvent,
    regions::RegionCode,
    vocab::{EscalationStatus, Urgency},
    work::Work,
};

pub fn policy_for(policy: &DeadlinePolicy, urgency: Urgency) -> EscalationPolicy {
    match urgency {
        Urgency::Imminent => policy.imminent.clone(),
        Urgency::High => policy.high.clone(),
    }
}

pub(super) fn event(
    c: &case::Model,
    e: &escalation::Model,
    kind: &'static str,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    data: serde_json::Value,
) -> NewEvent {
    NewEvent {
        case_id: c.id,
        case_number: c.number.clone(),
        kind,
        actor_id: actor,
        unit_id: c.assigned_unit_id,
        prev_unit_id: None,
        police_unit_id: e.police_unit_id,
        region_code: c.region_code.clone(),
        at,
        data,
    }
}

/// A missed acknowledgement: raise one level (or, at the top, remind),
/// notify the new level and keep the earlier ones informed, and schedule
/// the next raise. Called by the deadline engine inside its claim
/// transaction.
pub async fn raise(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    id: Uuid,
) -> Result<bool> {
    let now = w.now;
    let Some(e) = escalation::Entity::find_by_id(id).one(&**w).await? else {
        return Ok(false);
    };
    if e.status != EscalationStatus::Pending {
        return Ok(false);
    }
    let Some(c) = case::Entity::find_by_id(e.case_id).one(&**w).await? else {
        return Ok(false);
    };
    let place = RegionCode::parse(&c.region_code).ok_or(Error::NotFound("region"))?;
    // The policy snapshotted when it opened; an unreadable snapshot falls
    // back to today's policy for its urgency (the clocks must keep running).
    let policy: EscalationPolicy = match serde_json::from_value(e.policy.clone()) {
        Ok(p) => p,
        Err(_) => policy_for(&settings.deadlines, e.urgency),
    };
    let mut earlier = told_so_far(directory, &**w, &place, &c, &e).await?;
    let (new_level, new_police) = next_level(directory, &**w, &place, &e).await?;
    let next_raise = now + Duration::seconds(Ord::max(policy.raise_every_s, 1));
    let raised = new_level != e.level;
    if !move_up(w, e.id, new_level, new_police, next_raise).await? {
        return Ok(false);
    }
    if let Some(p) = new_police {
        add_handler(&**w, c.id, p).await?;
    }
    w.schedule("escalation", e.id, ACK_DEADLINE, next_raise)
        .await?;
    let fresh = escalation::Model {
        level: new_level,
        police_unit_id: new_police,
        next_raise_at: Some(next_raise),
        ..e.clone()
    };
    let mut current = recipients_for_level(&**w, &c, &fresh, new_level).await?;
    if raised {
        let mut raised_event = event(
            &c,
            &fresh,
            "escalation.raised",
            None,
            now,
            json!({
                "escalation_id": e.id,
                "urgency": e.urgency,
                "level": new_level,
                "from_level": e.level,
                "police_unit_id": new_police,
                "reason": "acknowledgement deadline missed",
                "ack_due_at": e.ack_due_at,
                "next_raise_at": next_raise,
            }),
        );
        // The level it left still handles the case: its board must hear
        // of the raise too, not only the new level's.
        raised_event.prev_unit_id = e.police_unit_id;
        w.event(raised_event);
    }
    // Notify the new level; keep the earlier ones informed.
    current.append(&mut earlier);
    w.mail(mail::escalation_mails(
        &settings.public_url,
        &c,
        &fresh,
        &current,
        true,
    ));
    text_duty_phone(w, settings, &c, &fresh).await?;
    Ok(true)
}

/// A text to the duty phone of the escalation's police unit, when it has
/// one: duty desks answer phones before mail.
async fn text_duty_phone(
    w: &mut Work,
    settings: &Settings,
    c: &case::Model,
    e: &escalation::Model,
) -> Result<()> {
    let Some(unit) = e.police_unit_id else {
        return Ok(());
    };
    if let Some(phone) = crate::notify::sms::duty_phone(&**w, unit).await? {
        w.sms([crate::notify::sms::Sms {
            recipient: phone,
            body: mail::escalation_text(&settings.public_url, c, e),
        }]);
    }
    Ok(())
}

/// The case's escalation that is not resolved, if any.
pub async fn open_one(
    conn: &impl ConnectionTrait,
    case_id: Uuid,
) -> Result<Option<escalation::Model>> {
    Ok(escalation::Entity::find()
        .filter(escalation::Column::CaseId.eq(case_id))
        .filter(escalation::Column::Status.ne(EscalationStatus::Resolved.as_str()))
        .one(conn)
        .await?)
}

/// Everyone told so far: each police level reached, and level 3 once it
/// has been reached.
async fn told_so_far(
    directory: &Directory,
    conn: &impl ConnectionTrait,
    place: &RegionCode,
    c: &case::Model,
    e: &escalation::Model,
) -> Result<Vec<String>> {
    let mut earlier = Vec::new();
    for level in 1..=Ord::min(e.level, TOP_LEVEL - 1) {
        if let Some(p) = police_unit_for(directory, conn, place, level).await? {
            earlier.extend(unit_addresses(conn, p).await?);
        }
    }
    if e.level >= TOP_LEVEL {
        earlier.extend(recipients_for_level(conn, c, e, TOP_LEVEL).await?);
    }
    Ok(earlier)
}

/// Move a still pending escalation to `level` (compare-and-set on its
/// status); false when it was acknowledged or resolved meanwhile.
async fn move_up(
    w: &Work,
    id: Uuid,
    level: i16,
    police: Option<Uuid>,
    next_raise: DateTime<Utc>,
) -> Result<bool> {
    let updated = escalation::Entity::update_many()
        .col_expr(escalation::Column::Level, Expr::value(level))
        .col_expr(escalation::Column::PoliceUnitId, Expr::value(police))
        .col_expr(escalation::Column::NextRaiseAt, Expr::value(next_raise))
        .col_expr(
            escalation::Column::Version,
            Expr::col(escalation::Column::Version).add(1),
        )
        .filter(escalation::Column::Id.eq(id))
        .filter(escalation::Column::Status.eq(EscalationStatus::Pending))
        .exec(&**w)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The level an unacknowledged escalation goes to and its police unit: the
/// next level with a police unit other than the current one, else the top
/// (supervisors), where it stays.
async fn next_level(
    directory: &Directory,
    conn: &impl ConnectionTrait,
    place: &RegionCode,
    e: &escalation::Model,
) -> Result<(i16, Option<Uuid>)> {
    let units = chain::police_units(directory, conn, place).await?;
    Ok(chain::next_level(e.level, e.police_unit_id, |level| {
        chain::police_at_level(&units, place, level)
    }))
}

/// The first-action deadline passed with no action recorded.
pub async fn action_missed(w: &mut Work, settings: &Settings, id: Uuid) -> Result<bool> {
    let now = w.now;
    let Some(e) = escalation::Entity::find_by_id(id).one(&**w).await? else {
        return Ok(false);
    };
    if e.first_action_at.is_some() || e.status == EscalationStatus::Resolved {
        return Ok(false);
    }
    let Some(c) = case::Entity::find_by_id(e.case_id).one(&**w).await? else {
        return Ok(false);
    };
    w.event(event(
        &c,
        &e,
        "deadline.missed",
        None,
        now,
        json!({
            "kind": "escalation_action",
            "escalation_id": e.id,
            "due_at": e.action_due_at,
        }),
    ));
    let mut to = match e.police_unit_id {
        Some(u) => unit_addresses(&**w, u).await?,
        None => Vec::new(),
    };
    to.extend(supervisor_addresses(&**w, &c.region_code).await?);
    w.mail(mail::deadline_missed_mails(
        &settings.public_url,
        &c,
        "escalation_action",
        e.action_due_at,
        &to,
    ));
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => "escalation_action").increment(1);
    Ok(true)
}
