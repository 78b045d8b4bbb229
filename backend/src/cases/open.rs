//! Opening a case: validate, take the danger screen, route from memory,
//! and hand the case to the intake batch (`intake`), which writes it with
//! its deadlines and, for a threat, its escalation in one transaction.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    clocks::{accept_window, dispatch_window, resolve_window},
    directory::Routing,
    intake::{self, Intake},
    model::{DangerScreen, IdNumber, PhoneNumber},
    record::{call_already_linked, required, text},
    routing,
    view::CaseView,
};
use crate::{
    auth::Principal,
    db::entities::{call, case},
    error::{Error, Result},
    escalation,
    state::AppState,
    vocab::{CaseStatus, Category, Priority, RiskLevel, Role, Urgency},
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
        let screened = screen.map_or(RiskLevel::None, DangerScreen::risk);
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
        category: Set(input.category),
        status: Set(status),
        priority: Set(priority),
        risk_level: Set(risk),
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
    CaseView::build(&c, true, esc)
}
