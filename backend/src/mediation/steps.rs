//! The mediation domain core: registration (with the safety check), the
//! sessions and the termination. Each step writes its rows, its case event
//! and its deadlines on the caller's unit of work; none commits.
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    clocks::{FIRST_SESSION, MEDIATION_KINDS},
    entity::{mediation, session},
    read,
    rules::{self, Party, RegisterBody, SessionBody, TerminateBody},
};
use crate::{
    audit,
    auth::Principal,
    cases::record::{event, required, text},
    config::DeadlinePolicy,
    db::entities::{case, case_event, user},
    error::{Error, Result},
    vocab::{MediationStatus, RiskLevel},
    work::Work,
};

/// Why mediation would be unsafe on this case, if it would: a `high` or
/// `imminent` risk, or a police escalation still open. Safety comes before
/// reconciliation.
pub fn unsafe_because(c: &case::Model, open_escalation: bool) -> Option<String> {
    if matches!(c.risk_level, RiskLevel::High | RiskLevel::Imminent) {
        return Some(format!(
            "案件风险等级为 {}，调解可能危及当事人安全 / the case's risk is {}",
            c.risk_level, c.risk_level
        ));
    }
    open_escalation
        .then(|| "案件有尚未办结的公安预警 / the case has an open police escalation".to_string())
}

/// Refuse an unsafe mediation (409 `mediation_unsafe`) unless the mediator
/// states why it goes ahead; that reason is audited.
async fn safety(
    w: &mut Work,
    p: &Principal,
    c: &case::Model,
    open_escalation: bool,
    override_reason: Option<&str>,
) -> Result<()> {
    let Some(why) = unsafe_because(c, open_escalation) else {
        return Ok(());
    };
    let Some(reason) = override_reason else {
        return Err(Error::Conflict {
            code: "mediation_unsafe",
            message: format!(
                "{why}；如确需调解，请填写理由 override_reason / safety comes before \
                 reconciliation: give override_reason to mediate anyway"
            ),
        });
    };
    audit::append(
        &**w,
        w.now,
        Some(p.user_id),
        "mediation.safety_override",
        format!("case:{}", c.id),
        json!({
            "case_number": c.number,
            "risk_level": c.risk_level,
            "open_escalation": open_escalation,
            "reason": reason,
        }),
    )
    .await?;
    Ok(())
}

/// When the case was accepted (its latest `case.accepted`), else now.
async fn accepted_at(
    conn: &impl ConnectionTrait,
    c: &case::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>> {
    Ok(case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(c.id))
        .filter(case_event::Column::Kind.eq("case.accepted"))
        .order_by_desc(case_event::Column::FeedSeq)
        .one(conn)
        .await?
        .map(|e| e.at)
        .unwrap_or(now))
}

fn party_names(parties: &[Party]) -> serde_json::Value {
    json!(parties
        .iter()
        .map(|p| json!({"role": p.role}))
        .collect::<Vec<_>>())
}

/// Register the dispute (or correct a registration that has not ended):
/// parties, consent, the dispute; the first-session deadline counts from
/// the case's acceptance.
pub async fn register(
    w: &mut Work,
    policy: &DeadlinePolicy,
    p: &Principal,
    c: &case::Model,
    open_escalation: bool,
    body: &RegisterBody,
) -> Result<mediation::Model> {
    let (parties, dispute, override_reason) = rules::registration(body)?;
    safety(w, p, c, open_escalation, override_reason.as_deref()).await?;
    let now = w.now;
    let unit_id = c.assigned_unit_id.ok_or_else(|| {
        Error::InvalidTransition("案件没有承办单位 / the case has no handling unit".into())
    })?;
    let stored = json!(parties);
    let m = match read::of_case(&**w, c.id).await? {
        Some(m) if m.status != MediationStatus::Registered => {
            return Err(Error::InvalidTransition(format!(
                "调解已结束（{}），不能再更改 / the mediation has ended ({}); it can no longer be changed",
                m.status, m.status
            )))
        }
        Some(m) => {
            let am = mediation::ActiveModel {
                parties: Set(stored),
                dispute: Set(dispute.clone()),
                override_reason: Set(override_reason.clone().or(m.override_reason.clone())),
                ..Default::default()
            };
            read::save(&**w, &m, am, now).await?
        }
        None => {
            let due = accepted_at(&**w, c, now).await?
                + Duration::seconds(policy.mediation_first_session_s);
            let m = new_row(
                c,
                unit_id,
                p,
                stored,
                &dispute,
                override_reason.clone(),
                due,
                now,
            )
            .insert(&**w)
            .await?;
            w.schedule("mediation", m.id, FIRST_SESSION, due).await?;
            m
        }
    };
    let updated = m.version > 1;
    w.event(event(
        c,
        if updated {
            "mediation.updated"
        } else {
            "mediation.registered"
        },
        Some(p.user_id),
        now,
        json!({
            "mediation_id": m.id,
            "parties": party_names(&parties),
            "dispute": dispute,
            "consent_recorded": true,
            "override_reason": override_reason,
            "first_session_due_at": m.first_session_due_at,
        }),
    ));
    Ok(m)
}

#[allow(clippy::too_many_arguments)]
fn new_row(
    c: &case::Model,
    unit_id: Uuid,
    p: &Principal,
    parties: serde_json::Value,
    dispute: &str,
    override_reason: Option<String>,
    due: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> mediation::ActiveModel {
    mediation::ActiveModel {
        id: Set(crate::db::new_id()),
        case_id: Set(c.id),
        unit_id: Set(unit_id),
        status: Set(MediationStatus::Registered),
        dispute: Set(dispute.to_string()),
        parties: Set(parties),
        consent_recorded: Set(true),
        override_reason: Set(override_reason),
        registered_by: Set(p.user_id),
        registered_at: Set(now),
        updated_at: Set(now),
        first_session_due_at: Set(due),
        first_session_at: Set(None),
        termination_reason: Set(None),
        remedies_informed: Set(None),
        termination_notes: Set(None),
        terminated_at: Set(None),
        agreement_form: Set(None),
        agreement_number: Set(None),
        agreement_facts: Set(None),
        agreement_terms: Set(None),
        effective_at: Set(None),
        agreed_at: Set(None),
        agreed_by: Set(None),
        version: Set(1),
    }
}

/// The mediation of the case, still open to sessions, an agreement or a
/// termination (409 once it ended).
pub async fn open_mediation(w: &Work, c: &case::Model) -> Result<mediation::Model> {
    let m = read::required(&**w, c.id).await?;
    if m.status != MediationStatus::Registered {
        return Err(Error::InvalidTransition(format!(
            "调解已结束（{}）/ the mediation has ended ({})",
            m.status, m.status
        )));
    }
    Ok(m)
}

/// The mediators present: active members of the handling unit.
async fn mediators(w: &Work, unit_id: Uuid, ids: &[Uuid]) -> Result<serde_json::Value> {
    if ids.is_empty() || ids.len() > 10 {
        return Err(Error::validation(
            "mediators",
            "请填写1至10名调解员 / name one to ten mediators",
        ));
    }
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.to_vec()))
        .filter(user::Column::UnitId.eq(unit_id))
        .filter(user::Column::Active.eq(true))
        .all(&**w)
        .await?;
    let mut out = Vec::new();
    for id in ids {
        let u = users.iter().find(|u| u.id == *id).ok_or_else(|| {
            Error::validation(
                "mediators",
                "调解员须为承办单位的在职人员 / each must be an active member of the handling unit",
            )
        })?;
        out.push(json!({"id": u.id, "name": u.display_name}));
    }
    Ok(json!(out))
}

/// Record a session; the first one stops the first-session clock.
pub async fn record_session(
    w: &mut Work,
    p: &Principal,
    c: &case::Model,
    body: &SessionBody,
) -> Result<session::Model> {
    let now = w.now;
    rules::past("at", body.at, now)?;
    let place = required("place", &body.place, 200)?;
    let summary = required("summary", &body.summary, 20000)?;
    let attendees = text("attendees", &body.attendees, 2000, false)?.unwrap_or_default();
    let m = open_mediation(w, c).await?;
    // The unit handling the case now (it may have been transferred).
    let unit = c.assigned_unit_id.unwrap_or(m.unit_id);
    let mediators = mediators(w, unit, &body.mediators).await?;
    // The compare-and-set first: of two sessions recorded at once, the
    // loser gets 409 rather than a clash on the session number.
    let first = m.first_session_at.is_none();
    let am = mediation::ActiveModel {
        first_session_at: Set(m.first_session_at.or(Some(body.at))),
        ..Default::default()
    };
    read::save(&**w, &m, am, now).await?;
    let n = read::sessions(&**w, m.id).await?.len() as i32 + 1;
    let s = session::ActiveModel {
        id: Set(crate::db::new_id()),
        mediation_id: Set(m.id),
        n: Set(n),
        at: Set(body.at),
        place: Set(place.clone()),
        mediators: Set(mediators.clone()),
        attendees: Set(attendees),
        summary: Set(summary.clone()),
        recorded_by: Set(p.user_id),
        recorded_at: Set(now),
    }
    .insert(&**w)
    .await?;
    if first {
        w.cancel(m.id, &[FIRST_SESSION]).await?;
    }
    w.event(event(
        c,
        "mediation.session_recorded",
        Some(p.user_id),
        now,
        json!({
            "mediation_id": m.id, "n": n, "at": body.at, "place": place,
            "mediators": mediators, "summary": summary,
            "late": first && body.at > m.first_session_due_at,
        }),
    ));
    Ok(s)
}

/// End the mediation without an agreement. The police escalation of
/// `escalated_to_police` is opened by the use case in the same unit of work.
pub async fn terminate(
    w: &mut Work,
    p: &Principal,
    c: &case::Model,
    body: &TerminateBody,
) -> Result<mediation::Model> {
    let now = w.now;
    let notes = text("notes", &body.notes, 10000, false)?;
    let m = open_mediation(w, c).await?;
    let am = mediation::ActiveModel {
        status: Set(MediationStatus::Terminated),
        termination_reason: Set(Some(body.reason)),
        remedies_informed: Set(Some(body.remedies_informed)),
        termination_notes: Set(notes.clone()),
        terminated_at: Set(Some(now)),
        ..Default::default()
    };
    let m = read::save(&**w, &m, am, now).await?;
    w.cancel(m.id, MEDIATION_KINDS).await?;
    w.event(event(
        c,
        "mediation.terminated",
        Some(p.user_id),
        now,
        json!({
            "mediation_id": m.id,
            "reason": body.reason,
            "remedies_informed": body.remedies_informed,
            "notes": notes,
        }),
    ));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_risk_or_an_open_escalation_makes_mediation_unsafe() {
        let mut c = case::Model {
            category: crate::vocab::Category::LandRights,
            status: crate::vocab::CaseStatus::InProgress,
            ..case::sample()
        };
        assert!(unsafe_because(&c, false).is_none());
        assert!(unsafe_because(&c, true).is_some());
        for (risk, bad) in [
            (RiskLevel::Elevated, false),
            (RiskLevel::High, true),
            (RiskLevel::Imminent, true),
        ] {
            c.risk_level = risk;
            assert_eq!(unsafe_because(&c, false).is_some(), bad, "{risk}");
        }
    }
}
