//! Case use cases, one transaction each: open (with call link, routing,
//! deadlines, danger screen and escalation), accept, transfer, decline,
//! note. The end of a case (outcome, confirmation, close, reopen) is in
//! `closing`, a raised risk in `risk`. Every change appends its case events
//! last (see `events`), then commits; nothing is reported to the client
//! before the commit.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    clocks::{self, accept_window, dispatch_window, resolve_window},
    directory::Routing,
    intake::{self, Intake},
    model::{transition, Action, DangerScreen, IdNumber, PhoneNumber},
    routing,
    scope::{self, Access},
    view::CaseView,
};
use crate::{
    audit,
    auth::Principal,
    db::entities::{call, case, unit},
    error::{Error, Result},
    escalation,
    events::NewEvent,
    regions::RegionCode,
    state::AppState,
    vocab::{CaseStatus, Category, Priority, RiskLevel, Role, UnitKind, Urgency},
};

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub call_id: Option<Uuid>,
    pub category: Category,
    pub region_code: String,
    pub summary: String,
    pub description: Option<String>,
    #[serde(default)]
    pub subject: SubjectInput,
    pub danger_screen: Option<DangerScreen>,
    pub priority: Option<Priority>,
}

pub(super) fn text(field: &str, value: &str, max: usize, required: bool) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return if required {
            Err(Error::validation(field, "must not be empty"))
        } else {
            Ok(None)
        };
    }
    if v.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(Some(v.to_string()))
}

pub(super) fn required(field: &str, value: &str, max: usize) -> Result<String> {
    text(field, value, max, true)?.ok_or_else(|| Error::validation(field, "must not be empty"))
}

pub(super) fn event(
    c: &case::Model,
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
        police_unit_id: None,
        region_code: c.region_code.clone(),
        at,
        data,
    }
}

/// The danger screen as intake takes it: validated, the risk it gives
/// (with a `safety_threat` at least `high`), the record kept with the case
/// (notes, who, when) and the reason an escalation would carry.
struct Screen {
    risk: RiskLevel,
    record: Option<serde_json::Value>,
    escalation_reason: String,
}

impl Screen {
    fn take(
        p: &Principal,
        now: DateTime<Utc>,
        category: Category,
        screen: Option<&DangerScreen>,
    ) -> Result<Screen> {
        let notes = match screen {
            Some(sc) => {
                sc.validate()
                    .map_err(|m| Error::validation("danger_screen.answers", m))?;
                match &sc.notes {
                    Some(n) => text("danger_screen.notes", n, 4000, false)?,
                    None => None,
                }
            }
            None => None,
        };
        let screened = screen.map(DangerScreen::risk).unwrap_or(RiskLevel::None);
        // A threat to her safety always reaches the police, whatever the
        // screen says (a relative reporting a threat may not know the
        // answers): the case is at least `high` and opens an escalation.
        let threat_only =
            category == Category::SafetyThreat && screened.rank() < RiskLevel::High.rank();
        let risk = if threat_only {
            RiskLevel::High
        } else {
            screened
        };
        // The whole screen stays with the case, for those who may read it;
        // the events (feed, timeline) and mail carry no notes.
        let record = screen.map(|sc| {
            json!({
                "in_progress": sc.in_progress,
                "answers": sc.answers,
                "screener_concern": sc.screener_concern,
                "notes": notes,
                "risk_level": screened,
                "screened_by": p.user_id,
                "screened_by_name": p.display_name,
                "screened_at": now,
            })
        });
        let escalation_reason = if threat_only {
            "category: safety_threat".to_string()
        } else {
            format!("danger screen: {risk}")
        };
        Ok(Screen {
            risk,
            record,
            escalation_reason,
        })
    }
}

pub(super) fn call_already_linked() -> Error {
    Error::Conflict {
        code: "call_already_linked",
        message: "this call already belongs to a case".into(),
    }
}

pub async fn open(state: &AppState, p: &Principal, input: NewCase) -> Result<CaseView> {
    p.require(&[Role::Operator, Role::Admin])?;
    let now = state.now();
    let summary = required("summary", &input.summary, 2000)?;
    let description = match &input.description {
        Some(d) => text("description", d, 20000, false)?,
        None => None,
    };
    let subject_name = match &input.subject.name {
        Some(n) => text("subject.name", n, 128, false)?,
        None => None,
    };
    let subject_phone = match input
        .subject
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => Some(
            PhoneNumber::parse(raw)
                .map_err(|m| Error::validation("subject.phone", format!("{raw:?} {m}")))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let subject_id = match input
        .subject
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => Some(
            IdNumber::parse(raw)
                .map_err(|m| Error::validation("subject.id_number", m))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let Screen {
        risk,
        record: danger_screen,
        escalation_reason,
    } = Screen::take(p, now, input.category, input.danger_screen.as_ref())?;
    let priority = input.priority.unwrap_or(match risk {
        RiskLevel::Imminent => Priority::Urgent,
        RiskLevel::High => Priority::High,
        _ => Priority::Normal,
    });

    // Everything only read is read before the write transaction, and the
    // routing inputs come from memory (`directory`): on SQLite the writer
    // lock is the intake's bottleneck, and under load every query costs
    // CPU the batch needs. A unit or rule edited in the milliseconds
    // between is the same race as one edited just after. The call link is
    // re-checked by the conditional update.
    let db = &state.db.conn;
    let place = state
        .directory
        .known_region(db, "region_code", &input.region_code)
        .await?;
    let linked_call = match input.call_id {
        Some(id) => {
            let c = call::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| Error::validation("call_id", "no such call"))?;
            if c.case_id.is_some() {
                return Err(call_already_linked());
            }
            Some(c)
        }
        None => None,
    };
    let Routing { kind, candidates } = state.directory.routing(db, input.category, &place).await?;
    let decision = routing::route(input.category, kind, &place, &candidates);
    // The chosen unit is one of the candidates: its name needs no query.
    let chosen_name = decision
        .unit_id
        .and_then(|id| candidates.iter().find(|u| u.id == id))
        .map(|u| u.name.clone());
    let policy = &state.settings.deadlines;
    let status = if decision.dispatched {
        CaseStatus::Assigned
    } else {
        CaseStatus::New
    };
    let accept_due = decision
        .dispatched
        .then(|| now + accept_window(policy, priority));
    // Nobody covers the place: the hotline centre must dispatch it by hand.
    let dispatch_due = (!decision.dispatched).then(|| now + dispatch_window(policy, priority));
    let resolve_due = now + resolve_window(policy, input.category);
    let subject_phone_for_call = subject_phone
        .clone()
        .or_else(|| linked_call.as_ref().and_then(|c| c.phone.clone()));
    let row = case::ActiveModel {
        id: Set(crate::db::new_id()),
        category: Set(input.category.as_str().to_string()),
        status: Set(status.as_str().to_string()),
        priority: Set(priority.as_str().to_string()),
        risk_level: Set(risk.as_str().to_string()),
        region_code: Set(place.as_str().to_string()),
        summary: Set(summary.clone()),
        description: Set(description),
        subject_name: Set(subject_name),
        subject_phone: Set(subject_phone_for_call),
        subject_id_number: Set(subject_id),
        assigned_unit_id: Set(decision.unit_id),
        assignee_id: Set(None),
        created_by: Set(p.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        accept_due_at: Set(accept_due),
        resolve_due_at: Set(Some(resolve_due)),
        follow_up_due_at: Set(None),
        confirmation_due_at: Set(None),
        overdue: Set(false),
        outcome: Set(None),
        resolved_at: Set(None),
        closed_at: Set(None),
        danger_screen: Set(danger_screen),
        dispatch_due_at: Set(dispatch_due),
        confirmation: Set(None),
        ..Default::default()
    };
    // The escalation seam: a high or imminent screen opens one in the
    // intake's own transaction, so a dangerous case can never exist
    // without it.
    let urgency = match risk {
        RiskLevel::Imminent => Some(Urgency::Imminent),
        RiskLevel::High => Some(Urgency::High),
        _ => None,
    };
    let c = intake::submit(
        state,
        Intake {
            now,
            actor: p.user_id,
            case: row,
            call_id: linked_call.as_ref().map(|c| c.id),
            opened: json!({
                "category": input.category,
                "priority": priority,
                "risk_level": risk,
                "region_code": place.as_str(),
                "summary": summary,
                "status": status,
                "call_id": linked_call.as_ref().map(|c| c.id),
                "danger_screen": input.danger_screen.as_ref().map(|s| json!({
                    "in_progress": s.in_progress,
                    "answers": s.answers,
                    "screener_concern": s.screener_concern,
                })),
            }),
            assigned: json!({
                "unit_id": decision.unit_id,
                "unit_name": chosen_name,
                "unit_kind": decision.unit_kind,
                "dispatched": decision.dispatched,
                "reason": decision.reason,
                "status": status,
                "accept_due_at": accept_due,
                "dispatch_due_at": dispatch_due,
            }),
            accept_due,
            dispatch_due,
            resolve_due,
            escalate: urgency.map(|u| (u, escalation_reason.to_string())),
        },
    )
    .await?;
    // Only a dangerous screen opens an escalation; otherwise there is none
    // to show and no need to ask.
    let esc = match urgency {
        Some(_) => escalation::latest_for_case(&state.db.conn, &c, now).await?,
        None => None,
    };
    Ok(CaseView::build(&c, true, esc))
}

/// Common shape of a state change: load in scope, check the role, the
/// version and the transition.
pub(super) struct Change {
    pub case: case::Model,
    pub next: CaseStatus,
}

pub(super) async fn begin_change(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
    action: Action,
    version: Option<i32>,
    allowed: &[Access],
) -> Result<Change> {
    let (c, access) = scope::load(conn, p, id).await?;
    if !allowed.contains(&access) {
        return Err(Error::Forbidden(format!(
            "you may not {} this case (your access: {:?})",
            action.name(),
            access
        )));
    }
    if let Some(v) = version {
        if v != c.version {
            return Err(Error::VersionConflict);
        }
    }
    let from = clocks::status_of(&c)?;
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
    Ok(CaseView::build(c, false, esc))
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
            status: Set(ch.next.as_str().to_string()),
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
    let target = unit::Entity::find_by_id(body.unit_id)
        .one(&*w)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| Error::validation("unit_id", "no such active unit"))?;
    if ch.case.assigned_unit_id == Some(target.id) {
        return Err(Error::validation(
            "unit_id",
            "the case is already with that unit",
        ));
    }
    let priority = Priority::parse(&ch.case.priority).ok_or_else(|| {
        Error::Internal(format!(
            "case {} has unknown priority {:?}",
            id, ch.case.priority
        ))
    })?;
    let accept_due = now + accept_window(&state.settings.deadlines, priority);
    let c = save(
        &*w,
        &ch.case,
        case::ActiveModel {
            status: Set(ch.next.as_str().to_string()),
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
    let priority = Priority::parse(&ch.case.priority).ok_or_else(|| {
        Error::Internal(format!(
            "case {} has unknown priority {:?}",
            id, ch.case.priority
        ))
    })?;
    let dispatch_due = now + dispatch_window(&state.settings.deadlines, priority);
    let c = save(
        &*w,
        &ch.case,
        case::ActiveModel {
            status: Set(ch.next.as_str().to_string()),
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
