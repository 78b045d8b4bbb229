//! The clocks of measures and what a fired one means: the court's
//! decision on a protection order not recorded in time, a follow-up visit
//! not done by its due time, the notice before an order expires. Each is
//! a deadline row fired once; one whose condition was met meanwhile (a
//! decision recorded, the visit done, the order extended) is a no-op.
use sea_orm::EntityTrait;
use serde_json::json;

use super::{
    entity::{measure, visit},
    mail::Notice,
    recording::{event, readers, tell},
    view::{decision_due, served_of},
};
use crate::{
    cases::directory::Directory, config::Settings, db::entities::case, deadlines::Deadline,
    error::Result, escalation::chain::supervisor_addresses, vocab::MeasureOutcome, work::Work,
};

pub use super::kinds::{DECISION, EXPIRY_NOTICE, KINDS, VISIT};

pub async fn fire(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    d: &Deadline,
) -> Result<bool> {
    match d.kind.as_str() {
        DECISION => decision_missed(w, settings, directory, d).await,
        VISIT => visit_missed(w, settings, directory, d).await,
        EXPIRY_NOTICE => expiring(w, settings, directory, d).await,
        _ => Ok(false),
    }
}

async fn load(w: &Work, id: uuid::Uuid) -> Result<Option<(measure::Model, case::Model)>> {
    let Some(m) = measure::Entity::find_by_id(id).one(&**w).await? else {
        return Ok(None);
    };
    Ok(case::Entity::find_by_id(m.case_id)
        .one(&**w)
        .await?
        .map(|c| (m, c)))
}

/// The court has not ruled: the handling unit, legal aid of the place and
/// the region's supervisors are told to follow up.
async fn decision_missed(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    d: &Deadline,
) -> Result<bool> {
    let Some((m, c)) = load(w, d.subject_id).await? else {
        return Ok(false);
    };
    if m.outcome != MeasureOutcome::Pending {
        return Ok(false);
    }
    let s = &settings.measures;
    let due = decision_due(&m, s.decision_s, s.decision_urgent_s).unwrap_or(d.due_at);
    let at = readers(directory, &**w, &c).await?;
    w.event(event(
        &c,
        &at,
        "deadline.missed",
        None,
        w.now,
        json!({"kind": "protection_order_decision", "measure_id": m.id, "due_at": due,
               "urgent": m.urgent}),
    ));
    let units: Vec<uuid::Uuid> = c.assigned_unit_id.into_iter().chain(at.legal_aid).collect();
    let sup = supervisor_addresses(&**w, &c.region_code).await?;
    tell(
        w,
        settings,
        &c,
        m.kind,
        &Notice::DecisionMissed(due),
        &units,
        sup,
    )
    .await?;
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => "protection_order_decision")
        .increment(1);
    Ok(true)
}

/// A visit not done by its due time: its unit and the handling unit.
async fn visit_missed(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    d: &Deadline,
) -> Result<bool> {
    let Some(v) = visit::Entity::find_by_id(d.subject_id).one(&**w).await? else {
        return Ok(false);
    };
    if v.done_at.is_some() {
        return Ok(false);
    }
    let Some((m, c)) = load(w, v.measure_id).await? else {
        return Ok(false);
    };
    let at = readers(directory, &**w, &c).await?;
    w.event(event(
        &c,
        &at,
        "deadline.missed",
        None,
        w.now,
        json!({"kind": "measure_visit", "measure_id": m.id, "visit_id": v.id,
               "party": v.party, "unit_id": v.unit_id, "due_at": v.due_at}),
    ));
    let units: Vec<uuid::Uuid> = v.unit_id.into_iter().chain(c.assigned_unit_id).collect();
    tell(
        w,
        settings,
        &c,
        m.kind,
        &Notice::VisitMissed(v.due_at),
        &units,
        Vec::new(),
    )
    .await?;
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => "measure_visit").increment(1);
    Ok(true)
}

/// The order ends soon: the handling unit and the units served.
async fn expiring(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    d: &Deadline,
) -> Result<bool> {
    let Some((m, c)) = load(w, d.subject_id).await? else {
        return Ok(false);
    };
    let (MeasureOutcome::Granted, Some(until)) = (m.outcome, m.expires_at) else {
        return Ok(false);
    };
    let at = readers(directory, &**w, &c).await?;
    w.event(event(
        &c,
        &at,
        "measure.expiring",
        None,
        w.now,
        json!({"measure_id": m.id, "kind": m.kind, "expires_at": until}),
    ));
    let mut units = served_of(&m)?;
    units.extend(c.assigned_unit_id);
    tell(
        w,
        settings,
        &c,
        m.kind,
        &Notice::Expiring(until),
        &units,
        Vec::new(),
    )
    .await?;
    Ok(true)
}
