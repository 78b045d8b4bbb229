//! The lifecycle of a case, one unit of work each: accept, transfer,
//! decline, note, and the audited reveal; with the shared shape of a state
//! change (`begin_change`, `save`, `respond`). Opening is in `open`, the
//! end of a case (outcome, confirmation, close, reopen) in `closing`, a
//! raised risk in `risk`. Nothing is reported to the client before the
//! commit.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::record::{event, required};
use super::{
    clocks::{self, dispatch_window},
    model::{transition, Action},
    routing,
    scope::{self, Access},
    view::CaseView,
};
use crate::{
    audit,
    auth::Principal,
    db::entities::{case, unit},
    error::{Error, Result},
    escalation,
    regions::RegionCode,
    state::AppState,
    vocab::{CaseStatus, UnitKind},
    work::Work,
};

/// Common shape of a state change: load in scope, check the role, the
/// version and the transition.
pub(super) struct Change {
    pub case: case::Model,
    pub next: CaseStatus,
}

/// The case in scope, if the principal's access is one of `allowed` and
/// the version they saw (if they said) is the current one: 404, 403, 409.
pub(super) async fn load_for(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
    version: Option<i32>,
    allowed: &[Access],
    what: &str,
) -> Result<case::Model> {
    let (c, access) = scope::load(conn, p, id).await?;
    if !allowed.contains(&access) {
        return Err(Error::Forbidden(format!(
            "you may not {what} this case (your access: {access:?})"
        )));
    }
    match version {
        Some(v) if v != c.version => Err(Error::VersionConflict),
        _ => Ok(c),
    }
}

pub(super) async fn begin_change(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
    action: Action,
    version: Option<i32>,
    allowed: &[Access],
) -> Result<Change> {
    let c = load_for(conn, p, id, version, allowed, action.name()).await?;
    let from = c.status;
    let next = transition(from, action).map_err(Error::InvalidTransition)?;
    Ok(Change { case: c, next })
}

/// Conditional update on version: the loser of a race gets 409.
pub(super) async fn save(
    conn: &impl ConnectionTrait,
    c: &case::Model,
    mut am: case::ActiveModel,
    now: DateTime<Utc>,
) -> Result<case::Model> {
    am.version = Set(c.version + 1);
    am.updated_at = Set(now);
    let res = case::Entity::update_many()
        .set(am)
        .filter(case::Column::Id.eq(c.id))
        .filter(case::Column::Version.eq(c.version))
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    case::Entity::find_by_id(c.id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("case"))
}

/// The case after a change, masked (a reveal is always an explicit read).
pub(super) async fn respond(state: &AppState, c: &case::Model) -> Result<CaseView> {
    let now = state.now();
    let esc = escalation::latest_for_case(&state.db.conn, c, now).await?;
    CaseView::build(c, false, esc)
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionOnly {
    pub version: Option<i32>,
}

pub async fn accept(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: VersionOnly,
) -> Result<CaseView> {
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let ch = begin_change(&*w, p, id, Action::Accept, body.version, &[Access::Handler]).await?;
    let c = save(
        &*w,
        &ch.case,
        case::ActiveModel {
            status: Set(ch.next),
            assignee_id: Set(Some(p.user_id)),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(c.id, clocks::ACCEPT_KINDS).await?;
    w.event(event(
        &c,
        "case.accepted",
        Some(p.user_id),
        now,
        json!({
            "by": p.user_id, "by_name": p.display_name, "status": c.status,
            "late": ch.case.accept_due_at.is_some_and(|d| now > d),
        }),
    ));
    w.commit().await?;
    respond(state, &c).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    pub unit_id: Uuid,
    pub reason: String,
    pub version: Option<i32>,
}

/// The unit a case may be transferred to: active, and not the one that
/// has it (422 `unit_id` otherwise).
async fn transfer_target(w: &Work, c: &case::Model, unit_id: Uuid) -> Result<unit::Model> {
    let target = unit::Entity::find_by_id(unit_id)
        .one(&**w)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| Error::validation("unit_id", "no such active unit"))?;
    if c.assigned_unit_id == Some(target.id) {
        return Err(Error::validation(
            "unit_id",
            "the case is already with that unit",
        ));
    }
    Ok(target)
}

pub async fn transfer(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: TransferBody,
) -> Result<CaseView> {
    let reason = required("reason", &body.reason, 2000)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let ch = begin_change(
        &*w,
        p,
        id,
        Action::Transfer,
        body.version,
        &[
            Access::Handler,
            Access::Hotline,
            Access::Supervisor,
            Access::Admin,
        ],
    )
    .await?;
    let target = transfer_target(&w, &ch.case, body.unit_id).await?;
    let priority = ch.case.priority;
    let cal = state.calendar().await?;
    let accept_due = clocks::accept_due(&state.settings, &cal, priority, now);
    let c = save(
        &*w,
        &ch.case,
        case::ActiveModel {
            status: Set(ch.next),
            assigned_unit_id: Set(Some(target.id)),
            assignee_id: Set(None),
            accept_due_at: Set(Some(accept_due)),
            dispatch_due_at: Set(None),
            ..Default::default()
        },
        now,
    )
    .await?;
    escalation::add_handler(&*w, c.id, target.id).await?;
    // Dispatched (or passed on): the old unit's accept clock and the hotline's
    // dispatch clock stop, the new unit's accept clock starts.
    w.cancel(
        c.id,
        &[clocks::ACCEPT_KINDS, clocks::DISPATCH_KINDS].concat(),
    )
    .await?;
    w.schedule("case", c.id, clocks::ACCEPT, accept_due).await?;
    let mut e = event(
        &c,
        "case.transferred",
        Some(p.user_id),
        now,
        json!({
            "from_unit_id": ch.case.assigned_unit_id,
            "to_unit_id": target.id,
            "to_unit_name": target.name,
            "reason": reason,
            "status": c.status,
            "accept_due_at": accept_due,
        }),
    );
    e.prev_unit_id = ch.case.assigned_unit_id;
    w.event(e);
    w.commit().await?;
    respond(state, &c).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
    pub version: Option<i32>,
}

/// The receiving unit declines: the case goes back to the hotline centre
/// (status `new`) for dispatch.
pub async fn decline(
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
        Action::Decline,
        body.version,
        &[Access::Handler],
    )
    .await?;
    let place = RegionCode::parse(&ch.case.region_code).ok_or(Error::NotFound("region"))?;
    let hotline = routing::nearest(
        UnitKind::HotlineCenter,
        &place,
        &state
            .directory
            .candidates(&state.db.conn, UnitKind::HotlineCenter, &place)
            .await?,
    )
    .map(|(u, _)| u.id);
    let priority = ch.case.priority;
    let dispatch_due = now + dispatch_window(&state.settings.deadlines, priority);
    let c = save(
        &*w,
        &ch.case,
        case::ActiveModel {
            status: Set(ch.next),
            assigned_unit_id: Set(hotline),
            assignee_id: Set(None),
            accept_due_at: Set(None),
            dispatch_due_at: Set(Some(dispatch_due)),
            ..Default::default()
        },
        now,
    )
    .await?;
    if let Some(h) = hotline {
        escalation::add_handler(&*w, c.id, h).await?;
    }
    // Back at the hotline centre: it must dispatch the case again.
    w.cancel(c.id, clocks::ACCEPT_KINDS).await?;
    w.schedule("case", c.id, clocks::DISPATCH, dispatch_due)
        .await?;
    let mut e = event(
        &c,
        "case.transferred",
        Some(p.user_id),
        now,
        json!({
            "declined": true,
            "from_unit_id": ch.case.assigned_unit_id,
            "to_unit_id": hotline,
            "reason": reason,
            "status": c.status,
            "dispatch_due_at": dispatch_due,
        }),
    );
    e.prev_unit_id = ch.case.assigned_unit_id;
    w.event(e);
    w.commit().await?;
    respond(state, &c).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub body: String,
    pub version: Option<i32>,
}

pub async fn add_note(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: NoteBody,
) -> Result<CaseView> {
    let text = required("body", &body.body, 10000)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let ch = begin_change(
        &*w,
        p,
        id,
        Action::Note,
        body.version,
        &[Access::Handler, Access::Hotline, Access::Supervisor],
    )
    .await?;
    let c = save(
        &*w,
        &ch.case,
        <case::ActiveModel as Default>::default(),
        now,
    )
    .await?;
    w.event(event(
        &c,
        "case.note_added",
        Some(p.user_id),
        now,
        json!({
            "body": text, "by": p.user_id, "by_name": p.display_name,
        }),
    ));
    w.commit().await?;
    respond(state, &c).await
}

/// Record an unmasked read in the audit log (its own small transaction:
/// the read itself changes nothing else).
pub async fn audit_reveal(state: &AppState, p: &Principal, c: &case::Model) -> Result<()> {
    let now = state.now();
    let w = state.work_at(now).await?;
    audit::append(
        &*w,
        now,
        Some(p.user_id),
        "case.reveal",
        format!("case:{}", c.id),
        json!({
            "case_number": c.number, "fields": ["subject.phone", "subject.id_number"],
        }),
    )
    .await?;
    w.commit().await?;
    Ok(())
}
