//! Opening escalations, one or a batch of them in one unit of work: the
//! escalation rows, the police units' handler rows and the two deadlines
//! of each in one statement per table, the police unit of each place from
//! the in-memory directory, and the mail addresses and duty phones of every
//! police unit concerned in one query. An intake batch opens all of
//! its cases' escalations here (it used to cost eight statements per
//! escalation, each holding the writer); a hand escalation or a raised
//! risk opens one ([`open`]).
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::{
    chain::{contacts_of, police_unit_for, recipients_for_level},
    engine::{event, open_one, policy_for},
    kinds::{ACK_DEADLINE, ACTION_DEADLINE, TOP_LEVEL},
    mail,
};
use crate::{
    cases::directory::Directory,
    config::Settings,
    db::{
        bulk,
        entities::{case, case_handler, escalation},
    },
    error::{Error, Result},
    notify::sms::Sms,
    regions::RegionCode,
    vocab::{EscalationStatus, Urgency},
    work::Work,
};

/// Open an escalation inside the caller's transaction (a hand escalation,
/// a raised risk; an intake batch opens its cases' with
/// [`open_many`]): 409 `escalation_open` if the case has one.
#[allow(clippy::too_many_arguments)]
pub async fn open(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    c: &case::Model,
    urgency: Urgency,
    reason: &str,
    actor: Option<Uuid>,
) -> Result<escalation::Model> {
    if open_one(&**w, c.id).await?.is_some() {
        return Err(Error::Conflict {
            code: "escalation_open",
            message: "this case already has an open escalation".into(),
        });
    }
    let one = ToOpen {
        case: c,
        urgency,
        reason,
        actor,
    };
    open_many(w, settings, directory, &[one])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("no escalation opened".into()))
}

/// An escalation to open: the case (which has none open), how urgent,
/// why, and who opened it (none for the danger screen's own).
pub struct ToOpen<'a> {
    pub case: &'a case::Model,
    pub urgency: Urgency,
    pub reason: &'a str,
    pub actor: Option<Uuid>,
}

/// Open an escalation for each of `items` in `w`, in order: rows, police
/// handlers, deadlines, `escalation.raised` events, mail to each level's
/// addresses, a text to each police unit's duty phone. The caller has made
/// sure no case among them has an open escalation.
pub async fn open_many(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    items: &[ToOpen<'_>],
) -> Result<Vec<escalation::Model>> {
    let planned = plan(w, settings, directory, items).await?;
    if !planned.handlers.is_empty() {
        // A case escalated before may have the unit as a handler already.
        case_handler::Entity::insert_many(planned.handlers)
            .on_conflict_do_nothing()
            .exec_without_returning(&**w)
            .await?;
    }
    w.schedule_many(&planned.deadlines).await?;
    write_planned(w, settings, items, &planned.models).await?;
    Ok(planned.models)
}

/// The escalations of `items`, planned before anything is written: the
/// rows, the police unit of each as a handler of its case (where it is not
/// the case's unit), and their acknowledgement and first-action deadlines.
/// Intake writes the handlers with its cases' and stages the deadlines and
/// rows with its commit, then [`announce_planned`]; [`open_many`] writes
/// them alone, then [`write_planned`].
pub struct Planned {
    pub models: Vec<escalation::Model>,
    pub handlers: Vec<case_handler::ActiveModel>,
    pub deadlines: Vec<(&'static str, Uuid, &'static str, DateTime<Utc>)>,
}

/// Plan the escalations of `items` (the police unit of each place from the
/// in-memory directory).
pub async fn plan(
    w: &Work,
    settings: &Settings,
    directory: &Directory,
    items: &[ToOpen<'_>],
) -> Result<Planned> {
    let mut models = Vec::with_capacity(items.len());
    for it in items {
        let place = RegionCode::parse(&it.case.region_code).ok_or(Error::NotFound("region"))?;
        let police = police_unit_for(directory, &**w, &place, 1).await?;
        models.push(new_model(w.now, settings, it, police));
    }
    let handlers = items
        .iter()
        .zip(&models)
        .filter_map(|(it, e)| {
            let p = e.police_unit_id?;
            (it.case.assigned_unit_id != Some(p)).then_some(case_handler::ActiveModel {
                case_id: Set(it.case.id),
                unit_id: Set(p),
            })
        })
        .collect();
    let mut deadlines = Vec::with_capacity(models.len() * 2);
    for e in &models {
        deadlines.push(("escalation", e.id, ACK_DEADLINE, e.ack_due_at));
        deadlines.push(("escalation", e.id, ACTION_DEADLINE, e.action_due_at));
    }
    Ok(Planned {
        models,
        handlers,
        deadlines,
    })
}

/// Write the planned escalation rows (their handlers and deadlines are
/// written), their `escalation.raised` events, mail and texts.
pub async fn write_planned(
    w: &mut Work,
    settings: &Settings,
    items: &[ToOpen<'_>],
    models: &[escalation::Model],
) -> Result<()> {
    if models.is_empty() {
        return Ok(());
    }
    let rows: Vec<escalation::ActiveModel> = models.iter().cloned().map(Into::into).collect();
    bulk::insert_rows(&**w, rows).await?;
    announce_planned(w, settings, items, models).await
}

/// The planned escalations' `escalation.raised` events, mail and texts;
/// their rows the caller writes (intake stages them with its commit).
pub async fn announce_planned(
    w: &mut Work,
    settings: &Settings,
    items: &[ToOpen<'_>],
    models: &[escalation::Model],
) -> Result<()> {
    for (it, e) in items.iter().zip(models) {
        w.event(raised_event(it, e));
    }
    tell(w, settings, items, models).await
}

fn new_model(
    now: chrono::DateTime<chrono::Utc>,
    settings: &Settings,
    it: &ToOpen<'_>,
    police: Option<Uuid>,
) -> escalation::Model {
    let policy = policy_for(&settings.deadlines, it.urgency);
    let ack_due = now + Duration::seconds(policy.acknowledge_s);
    escalation::Model {
        id: crate::db::new_id(),
        case_id: it.case.id,
        urgency: it.urgency,
        level: if police.is_some() { 1 } else { TOP_LEVEL },
        status: EscalationStatus::Pending,
        police_unit_id: police,
        reason: it.reason.to_string(),
        created_by: it.actor,
        created_at: now,
        ack_due_at: ack_due,
        acknowledged_at: None,
        acknowledged_by: None,
        action_due_at: now + Duration::seconds(policy.first_action_s),
        first_action_at: None,
        next_raise_at: Some(ack_due),
        resolved_at: None,
        resolution: None,
        policy: json!(policy),
        version: 1,
        external_ref: None,
    }
}

fn raised_event(it: &ToOpen<'_>, e: &escalation::Model) -> crate::events::NewEvent {
    event(
        it.case,
        e,
        "escalation.raised",
        it.actor,
        e.created_at,
        json!({
            "escalation_id": e.id,
            "urgency": e.urgency,
            "level": e.level,
            "police_unit_id": e.police_unit_id,
            "reason": e.reason,
            "ack_due_at": e.ack_due_at,
            "action_due_at": e.action_due_at,
            "opened": true,
        }),
    )
}

/// Mail to each escalation's level (the police unit's address and its
/// liaisons'; at the top, the region's supervisors and the hotline), a
/// text to each police unit's duty phone.
async fn tell(
    w: &mut Work,
    settings: &Settings,
    items: &[ToOpen<'_>],
    models: &[escalation::Model],
) -> Result<()> {
    let mut units: Vec<Uuid> = models.iter().filter_map(|e| e.police_unit_id).collect();
    units.sort_unstable();
    units.dedup();
    let contacts = contacts_of(&**w, &units).await?;
    for (it, e) in items.iter().zip(models) {
        let police = e.police_unit_id.and_then(|p| contacts.get(&p));
        let to = match e.police_unit_id {
            Some(_) => police.map(|c| c.addresses.clone()).unwrap_or_default(),
            None => recipients_for_level(&**w, it.case, e, e.level).await?,
        };
        let url = &settings.public_url;
        w.mail(mail::escalation_mails(url, it.case, e, &to, false));
        if let Some(phone) = police.and_then(|c| c.duty_phone.as_ref()) {
            w.sms([Sms {
                recipient: phone.clone(),
                body: mail::escalation_text(url, it.case, e),
            }]);
        }
    }
    Ok(())
}
