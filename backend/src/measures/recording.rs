//! The domain core of protective measures: record one on a case, with what
//! it sets going — a written warning's follow-up visits and the village
//! committee's notice, a protection order's decision clock — and who it is
//! served on. Takes the caller's unit of work, the settings and the
//! directory, never the process state.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    entity::{measure, visit},
    kinds::{DECISION, VISIT},
    mail::{self, Notice},
    view::decision_due,
};
use crate::{
    cases::{directory::Directory, record, routing},
    config::Settings,
    db::entities::{case, case_handler},
    error::{Error, Result},
    escalation::chain::{add_handler, police_unit_for, unit_addresses},
    events::NewEvent,
    notify::sms,
    regions::RegionCode,
    vocab::{Applicant, MeasureKind, MeasureOutcome, ProtectiveTerm, UnitKind, VisitParty},
    work::Work,
};

/// The bodies of the case's place a measure concerns: the police station
/// (level 1 of the chain), the village committee of the village itself,
/// the nearest legal aid centre.
#[derive(Debug, Clone, Copy, Default)]
pub struct Places {
    pub police: Option<Uuid>,
    pub village: Option<Uuid>,
    pub legal_aid: Option<Uuid>,
}

pub async fn places(
    directory: &Directory,
    conn: &impl ConnectionTrait,
    c: &case::Model,
) -> Result<Places> {
    let Some(place) = RegionCode::parse(&c.region_code) else {
        return Ok(Places::default());
    };
    let police = police_unit_for(directory, conn, &place, 1).await?;
    let villages = directory
        .candidates(conn, UnitKind::VillageCommittee, &place)
        .await?;
    let village = villages
        .iter()
        .filter(|u| u.kind == UnitKind::VillageCommittee && u.region_code == c.region_code)
        .min_by(|a, b| a.name.cmp(&b.name))
        .map(|u| u.id);
    let aid = directory
        .candidates(conn, UnitKind::LegalAid, &place)
        .await?;
    let legal_aid = routing::nearest(UnitKind::LegalAid, &place, &aid).map(|(u, _)| u.id);
    Ok(Places {
        police,
        village,
        legal_aid,
    })
}

/// [`places`] as far as the feed may tell them: the police station and the
/// village committee only when they read the case (case handlers), so the
/// feed never sends an event of a case its user could not read.
pub async fn readers(
    directory: &Directory,
    conn: &impl ConnectionTrait,
    c: &case::Model,
) -> Result<Places> {
    let mut at = places(directory, conn, c).await?;
    for slot in [&mut at.police, &mut at.village] {
        if let Some(u) = *slot {
            if case_handler::Entity::find_by_id((c.id, u))
                .one(conn)
                .await?
                .is_none()
            {
                *slot = None;
            }
        }
    }
    Ok(at)
}

/// A measure's case event: the handling unit, the police station and the
/// village committee of the place read it (the police in
/// `police_unit_id`, the village committee in `prev_unit_id`, the feed's
/// column for another unit that reads an event), and so does the region.
pub fn event(
    c: &case::Model,
    at: &Places,
    kind: &'static str,
    actor: Option<Uuid>,
    when: DateTime<Utc>,
    data: Value,
) -> NewEvent {
    let mut e = record::event(c, kind, actor, when, data);
    e.police_unit_id = at.police;
    e.prev_unit_id = at.village;
    e
}

/// A measure as recorded, checked by the use case.
#[derive(Debug, Clone)]
pub struct NewMeasure {
    pub kind: MeasureKind,
    pub number: Option<String>,
    pub issuer_unit_id: Option<Uuid>,
    pub court_name: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    pub applicant: Option<Applicant>,
    pub urgent: bool,
    pub terms: Vec<ProtectiveTerm>,
    pub served_to: Vec<Uuid>,
}

/// Read-only access for the units a measure is served on.
async fn serve(w: &Work, c: &case::Model, units: &[Uuid]) -> Result<()> {
    for u in units {
        add_handler(&**w, c.id, *u).await?;
    }
    Ok(())
}

/// Mail and text the units told of a measure.
pub async fn tell(
    w: &mut Work,
    settings: &Settings,
    c: &case::Model,
    kind: MeasureKind,
    n: &Notice,
    units: &[Uuid],
    extra: Vec<String>,
) -> Result<()> {
    let mut to = extra;
    for u in units {
        to.extend(unit_addresses(&**w, *u).await?);
    }
    w.mail(mail::mails(&settings.public_url, c, kind, n, &to));
    let phones = sms::duty_phones(&**w, units).await?;
    w.sms(
        phones
            .into_iter()
            .map(|(_, p)| mail::text(&settings.public_url, c, kind, n, p)),
    );
    Ok(())
}

/// Record a measure on `c`. A written warning is issued at once
/// (`granted`) and schedules its visits; a protection order is an
/// application whose decision clock starts; the others are records.
pub async fn record(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    c: &case::Model,
    input: NewMeasure,
    actor: Uuid,
) -> Result<measure::Model> {
    let now = w.now;
    let at = places(directory, &**w, c).await?;
    let warning = input.kind == MeasureKind::WarningLetter;
    let mut served = input.served_to.clone();
    if warning {
        served.extend(at.village.iter().chain(at.police.iter()).copied());
    }
    served.sort();
    served.dedup();
    let issued = input.applied_at.unwrap_or(now);
    let m = row(c.id, &input, &at, &served, issued, actor, now)
        .insert(&**w)
        .await?;
    serve(w, c, &served).await?;
    let s = &settings.measures;
    let decision = decision_due(&m, s.decision_s, s.decision_urgent_s);
    if let Some(due) = decision {
        w.schedule("measure", m.id, DECISION, due).await?;
    }
    let visits = if warning {
        schedule_visits(w, settings, &m, &at, issued).await?
    } else {
        Vec::new()
    };
    let seen = readers(directory, &**w, c).await?;
    w.event(event(
        c,
        &seen,
        "measure.recorded",
        Some(actor),
        now,
        json!({
            "measure_id": m.id, "kind": m.kind, "number": m.number, "outcome": m.outcome,
            "urgent": m.urgent, "applied_at": m.applied_at, "decision_due_at": decision,
            "visits_due": visits,
        }),
    ));
    if warning {
        let village: Vec<Uuid> = at.village.into_iter().collect();
        tell(
            w,
            settings,
            c,
            m.kind,
            &Notice::WarningIssued,
            &village,
            Vec::new(),
        )
        .await?;
    }
    Ok(m)
}

/// The new row: a written warning is issued (granted, in force) when
/// recorded; anything else starts pending.
#[allow(clippy::too_many_arguments)]
fn row(
    case_id: Uuid,
    input: &NewMeasure,
    at: &Places,
    served: &[Uuid],
    issued: DateTime<Utc>,
    actor: Uuid,
    now: DateTime<Utc>,
) -> measure::ActiveModel {
    let warning = input.kind == MeasureKind::WarningLetter;
    measure::ActiveModel {
        id: Set(crate::db::new_id()),
        case_id: Set(case_id),
        kind: Set(input.kind),
        number: Set(input.number.clone()),
        issuer_unit_id: Set(input
            .issuer_unit_id
            .or(if warning { at.police } else { None })),
        court_name: Set(input.court_name.clone()),
        applied_at: Set(Some(issued)),
        applicant: Set(input.applicant),
        urgent: Set(input.urgent),
        decided_at: Set(warning.then_some(issued)),
        outcome: Set(if warning {
            MeasureOutcome::Granted
        } else {
            MeasureOutcome::Pending
        }),
        terms: Set(json!(input.terms)),
        effective_from: Set(warning.then_some(issued)),
        expires_at: Set(None),
        served_to: Set(json!(served)),
        created_by: Set(actor),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
}

/// The escalation action `warning_issued`: the police issued a written
/// warning (art. 16), recorded as a measure with its number, in the
/// action's unit of work.
pub async fn from_warning(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    c: &case::Model,
    number: Option<String>,
    p: &crate::auth::Principal,
) -> Result<()> {
    let number = match number {
        Some(n) => record::text("number", &n, 128, false)?,
        None => None,
    };
    let input = NewMeasure {
        kind: MeasureKind::WarningLetter,
        number,
        issuer_unit_id: p.unit_id(),
        court_name: None,
        applied_at: None,
        applicant: None,
        urgent: false,
        terms: Vec::new(),
        served_to: Vec::new(),
    };
    record(w, settings, directory, c, input, p.user_id).await?;
    Ok(())
}

/// The follow-up visits of a written warning: at each configured delay,
/// one for the village committee and one for the police station.
async fn schedule_visits(
    w: &mut Work,
    settings: &Settings,
    m: &measure::Model,
    at: &Places,
    issued: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>> {
    let police = m.issuer_unit_id.or(at.police);
    let mut due_list = Vec::new();
    for s in &settings.measures.visits_s {
        let due = issued + Duration::seconds(*s);
        due_list.push(due);
        for (party, unit) in [
            (VisitParty::VillageCommittee, at.village),
            (VisitParty::Police, police),
        ] {
            let v = visit::ActiveModel {
                id: Set(crate::db::new_id()),
                measure_id: Set(m.id),
                party: Set(party),
                unit_id: Set(unit),
                due_at: Set(due),
                done_at: Set(None),
                done_by: Set(None),
                notes: Set(None),
            }
            .insert(&**w)
            .await?;
            w.schedule("measure_visit", v.id, VISIT, due).await?;
        }
    }
    Ok(due_list)
}

/// The six-month rule (art. 30): a granted order runs at most
/// `max_months` from its start.
pub fn check_validity(
    from: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    max_months: u32,
) -> Result<()> {
    if expires_at <= from {
        return Err(Error::validation(
            "expires_at",
            "must be after effective_from",
        ));
    }
    let limit = from
        .checked_add_months(chrono::Months::new(max_months))
        .ok_or_else(|| Error::validation("expires_at", "out of range"))?;
    if expires_at > limit {
        return Err(Error::validation(
            "expires_at",
            format!("a protection order runs at most {max_months} months (until {limit})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_months_and_not_a_day_more() {
        let from = DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000);
        let six = from.checked_add_months(chrono::Months::new(6));
        assert!(six.is_some_and(|t| check_validity(from, t, 6).is_ok()));
        assert!(six.is_some_and(|t| check_validity(from, t + Duration::days(1), 6).is_err()));
        assert!(check_validity(from, from, 6).is_err());
    }
}
