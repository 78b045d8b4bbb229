//! The use cases of measures, one unit of work each: record one on a
//! case, the court's decision, an extension, a violation, a visit done.
//! Who may: the handling unit, the hotline, and the police of the case (a
//! police unit that reads it); a visit also the unit it belongs to.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    decide::{self, Decision},
    entity::{measure, visit},
    query::{self, load},
    recording::{self, NewMeasure},
    view::MeasureView,
};
use crate::{
    auth::Principal,
    cases::{
        record::text,
        scope::{self, Access},
    },
    db::entities::{case, unit},
    error::{Error, Result},
    state::AppState,
    vocab::{Applicant, CaseStatus, MeasureKind, MeasureOutcome, ProtectiveTerm, Role},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeasureBody {
    pub kind: MeasureKind,
    pub number: Option<String>,
    pub issuer_unit_id: Option<Uuid>,
    pub court_name: Option<String>,
    /// When it was applied for (a warning: issued); default now.
    pub applied_at: Option<DateTime<Utc>>,
    pub applicant: Option<Applicant>,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub measures: Vec<ProtectiveTerm>,
    #[serde(default)]
    pub served_to: Vec<Uuid>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub outcome: MeasureOutcome,
    pub decided_at: DateTime<Utc>,
    pub number: Option<String>,
    pub effective_from: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub measures: Option<Vec<ProtectiveTerm>>,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    pub expires_at: DateTime<Utc>,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViolationBody {
    pub at: DateTime<Utc>,
    pub notes: String,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitDoneBody {
    pub at: DateTime<Utc>,
    pub notes: Option<String>,
}

/// The handling unit, the hotline, or the police reading the case.
fn may_write(p: &Principal, access: Access) -> Result<()> {
    let ok = matches!(access, Access::Handler | Access::Hotline)
        || (p.role == Role::PoliceLiaison && access == Access::ReadOnly);
    if ok {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "the handling unit, the hotline or the police of the case record measures".into(),
        ))
    }
}

/// Not later than a few minutes from now (clocks drift a little).
fn not_future(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if t > now + Duration::minutes(5) {
        return Err(Error::validation(field, "is in the future"));
    }
    Ok(())
}

async fn check_units(conn: &impl ConnectionTrait, field: &str, ids: &[Uuid]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let found = unit::Entity::find()
        .filter(unit::Column::Id.is_in(ids.to_vec()))
        .filter(unit::Column::Active.eq(true))
        .all(conn)
        .await?;
    if ids.iter().all(|id| found.iter().any(|u| u.id == *id)) {
        Ok(())
    } else {
        Err(Error::validation(field, "no such active unit"))
    }
}

fn checked(body: NewMeasureBody, now: DateTime<Utc>) -> Result<NewMeasure> {
    let number = match &body.number {
        Some(n) => text("number", n, 128, false)?,
        None => None,
    };
    let court_name = match &body.court_name {
        Some(n) => text("court_name", n, 256, false)?,
        None => None,
    };
    if let Some(a) = body.applied_at {
        not_future("applied_at", a, now)?;
    }
    let applicant = match body.kind {
        MeasureKind::ProtectionOrder => Some(body.applicant.unwrap_or(Applicant::Victim)),
        _ => body.applicant,
    };
    Ok(NewMeasure {
        kind: body.kind,
        number,
        issuer_unit_id: body.issuer_unit_id,
        court_name,
        applied_at: body.applied_at,
        applicant,
        urgent: body.urgent,
        terms: body.measures,
        served_to: body.served_to,
    })
}

pub async fn create(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: NewMeasureBody,
) -> Result<MeasureView> {
    let now = state.now();
    let input = checked(body, now)?;
    let mut w = state.work_at(now).await?;
    let (c, access) = scope::load(&*w, p, case_id).await?;
    may_write(p, access)?;
    if c.status == CaseStatus::Closed {
        return Err(Error::InvalidTransition("the case is closed".into()));
    }
    check_units(&*w, "served_to", &input.served_to).await?;
    check_units(
        &*w,
        "issuer_unit_id",
        &input.issuer_unit_id.into_iter().collect::<Vec<_>>(),
    )
    .await?;
    let m = recording::record(
        &mut w,
        &state.settings,
        &state.directory,
        &c,
        input,
        p.user_id,
    )
    .await?;
    w.commit().await?;
    query::view(state, &m).await
}

/// The measure and its case for a change: readable (404), writable (403),
/// the version seen (409).
async fn load_for_change(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
    version: Option<i32>,
) -> Result<(measure::Model, case::Model)> {
    let (m, c, access) = load(conn, p, id).await?;
    may_write(p, access)?;
    match version {
        Some(v) if v != m.version => Err(Error::VersionConflict),
        _ => Ok((m, c)),
    }
}

pub async fn decision(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: DecisionBody,
) -> Result<MeasureView> {
    let now = state.now();
    not_future("decided_at", body.decided_at, now)?;
    let number = match &body.number {
        Some(n) => text("number", n, 128, false)?,
        None => None,
    };
    let mut w = state.work_at(now).await?;
    let (m, c) = load_for_change(&*w, p, id, body.version).await?;
    let d = Decision {
        outcome: body.outcome,
        decided_at: body.decided_at,
        number,
        effective_from: body.effective_from,
        expires_at: body.expires_at,
        terms: body.measures,
    };
    let m = decide::decide(
        &mut w,
        &state.settings,
        &state.directory,
        &c,
        &m,
        d,
        p.user_id,
    )
    .await?;
    w.commit().await?;
    query::view(state, &m).await
}

pub async fn extend(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ExtendBody,
) -> Result<MeasureView> {
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (m, c) = load_for_change(&*w, p, id, body.version).await?;
    let m = decide::extend(
        &mut w,
        &state.settings,
        &state.directory,
        &c,
        &m,
        body.expires_at,
        p.user_id,
    )
    .await?;
    w.commit().await?;
    query::view(state, &m).await
}

pub async fn violation(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ViolationBody,
) -> Result<MeasureView> {
    let now = state.now();
    let notes = crate::cases::record::required("notes", &body.notes, 4000)?;
    not_future("at", body.at, now)?;
    let mut w = state.work_at(now).await?;
    let (m, c) = load_for_change(&*w, p, id, body.version).await?;
    if m.outcome != MeasureOutcome::Granted {
        return Err(Error::InvalidTransition(format!(
            "a violation is of a measure in force; this one is {}",
            m.outcome
        )));
    }
    decide::violation(
        &mut w,
        &state.settings,
        &state.directory,
        &c,
        &m,
        body.at,
        &notes,
        p.user_id,
    )
    .await?;
    w.commit().await?;
    query::view(state, &m).await
}

pub async fn visit_done(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    visit_id: Uuid,
    body: VisitDoneBody,
) -> Result<MeasureView> {
    let now = state.now();
    not_future("at", body.at, now)?;
    let notes = match &body.notes {
        Some(n) => text("notes", n, 4000, false)?,
        None => None,
    };
    let mut w = state.work_at(now).await?;
    let (m, c, access) = load(&*w, p, id).await?;
    let v = visit::Entity::find_by_id(visit_id)
        .one(&*w)
        .await?
        .filter(|v| v.measure_id == m.id)
        .ok_or(Error::NotFound("visit"))?;
    let own = v.unit_id.is_some() && v.unit_id == p.unit_id();
    if !own {
        may_write(p, access)?;
    }
    decide::visit_done(&mut w, &state.directory, &c, &v, body.at, notes, p.user_id).await?;
    w.commit().await?;
    query::view(state, &m).await
}
