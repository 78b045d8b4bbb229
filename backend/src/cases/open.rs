//! Opening a case: validate, take the danger screen, route from memory,
//! and hand the case to the intake batch (`intake`), which writes it with
//! its deadlines and, for a threat, its escalation in one transaction.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    clocks::{accept_due, dispatch_window, resolve_due},
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
    /// Where to go: an address or landmark, at most 200 characters.
    pub place_note: Option<String>,
    pub summary: String,
    pub description: Option<String>,
    #[serde(default)]
    pub subject: SubjectInput,
    pub danger_screen: Option<DangerScreen>,
    pub priority: Option<Priority>,
    /// `mandatory_report` (with `reporter`) always escalates.
    pub channel: Option<crate::vocab::Channel>,
    pub reporter: Option<super::reporter::ReporterInput>,
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
    /// The priority a case gets when the operator sets none.
    fn priority(&self) -> Priority {
        match self.risk {
            RiskLevel::Imminent => Priority::Urgent,
            RiskLevel::High => Priority::High,
            _ => Priority::Normal,
        }
    }

    fn take(p: &Principal, now: DateTime<Utc>, input: &NewCase, mandatory: bool) -> Result<Screen> {
        let (category, screen) = (input.category, input.danger_screen.as_ref());
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
        // A mandatory report (art. 14) escalates at once, too.
        let threat_only = (category == Category::SafetyThreat || mandatory)
            && screened.rank() < RiskLevel::High.rank();
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
        let escalation_reason = if threat_only && mandatory {
            "mandatory report".to_string()
        } else if threat_only {
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

/// The subject's fields, checked: name, phone (mainland, normalised) and
/// ID number (GB 11643).
struct Subject {
    name: Option<String>,
    phone: Option<String>,
    id_number: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Subject {
    fn check(input: &SubjectInput) -> Result<Subject> {
        let name = match &input.name {
            Some(n) => text("subject.name", n, 128, false)?,
            None => None,
        };
        let phone = match given(&input.phone) {
            Some(raw) => Some(
                PhoneNumber::parse(raw)
                    .map_err(|m| Error::validation("subject.phone", format!("{raw:?} {m}")))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let id_number = match given(&input.id_number) {
            Some(raw) => Some(
                IdNumber::parse(raw)
                    .map_err(|m| Error::validation("subject.id_number", m))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        Ok(Subject {
            name,
            phone,
            id_number,
        })
    }
}

/// Where a new case goes and its clocks: assigned with an accept deadline
/// when a unit covers the place, else `new` at the hotline centre with a
/// dispatch deadline; always a resolve deadline.
struct Plan {
    decision: routing::Decision,
    unit_name: Option<String>,
    status: CaseStatus,
    accept_due: Option<DateTime<Utc>>,
    dispatch_due: Option<DateTime<Utc>>,
    resolve_due: DateTime<Utc>,
}

impl Plan {
    fn make(
        settings: &crate::config::Settings,
        cal: &crate::calendar::Calendar,
        now: DateTime<Utc>,
        category: Category,
        priority: Priority,
        place: &crate::regions::RegionCode,
        routing: &Routing,
    ) -> Plan {
        let decision = routing::route(category, routing.kind, place, &routing.candidates);
        // The chosen unit is one of the candidates: its name needs no query.
        let unit_name = decision
            .unit_id
            .and_then(|id| routing.candidates.iter().find(|u| u.id == id))
            .map(|u| u.name.clone());
        let status = if decision.dispatched {
            CaseStatus::Assigned
        } else {
            CaseStatus::New
        };
        let policy = &settings.deadlines;
        let accept_due = decision
            .dispatched
            .then(|| accept_due(settings, cal, priority, now));
        // Nobody covers the place: the hotline centre must dispatch it by hand.
        let dispatch_due = (!decision.dispatched).then(|| now + dispatch_window(policy, priority));
        Plan {
            unit_name,
            status,
            accept_due,
            dispatch_due,
            resolve_due: resolve_due(settings, cal, category, now),
            decision,
        }
    }
}

/// The intake's reads, all before the write transaction: the place (a
/// region code known to exist) and the call to link, if any, not yet
/// linked (re-checked by the conditional update in the batch).
async fn read_inputs(
    state: &AppState,
    input: &NewCase,
) -> Result<(crate::regions::RegionCode, Option<call::Model>)> {
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
    Ok((place, linked_call))
}

/// The optional free texts: the description and where to go.
fn free_texts(input: &NewCase) -> Result<(Option<String>, Option<String>)> {
    let opt =
        |field: &str, v: &Option<String>, max| v.as_deref().map(|s| text(field, s, max, false));
    let description = opt("description", &input.description, 20000).transpose()?;
    let place_note = opt("place_note", &input.place_note, 200).transpose()?;
    Ok((description.flatten(), place_note.flatten()))
}

pub async fn open(state: &AppState, p: &Principal, input: NewCase) -> Result<CaseView> {
    p.require(&[Role::Operator, Role::Admin])?;
    let now = state.now();
    let summary = required("summary", &input.summary, 2000)?;
    let (description, place_note) = free_texts(&input)?;
    let subject = Subject::check(&input.subject)?;
    let reporter = super::mandatory::check(input.channel, input.reporter.as_ref())?;
    let screen = Screen::take(p, now, &input, reporter.is_some())?;
    let priority = input.priority.unwrap_or(screen.priority());

    // Everything only read is read before the write transaction, and the
    // routing inputs come from memory (`directory`): on SQLite the writer
    // lock is the intake's bottleneck, and under load every query costs
    // CPU the batch needs. An edit in the milliseconds between is the same race as one just after.
    let (place, linked_call) = read_inputs(state, &input).await?;
    let routing = state
        .directory
        .routing(&state.db.conn, input.category, &place)
        .await?;
    let plan = Plan::make(
        &state.settings,
        &*state.calendar().await?,
        now,
        input.category,
        priority,
        &place,
        &routing,
    );
    let phone = subject
        .phone
        .clone()
        .or_else(|| linked_call.as_ref().and_then(|c| c.phone.clone()));
    let row = case::ActiveModel {
        id: Set(crate::db::new_id()),
        category: Set(input.category),
        status: Set(plan.status),
        priority: Set(priority),
        risk_level: Set(screen.risk),
        region_code: Set(place.as_str().to_string()),
        summary: Set(summary.clone()),
        description: Set(description),
        subject_name: Set(subject.name),
        subject_phone: Set(phone),
        subject_id_number: Set(subject.id_number),
        assigned_unit_id: Set(plan.decision.unit_id),
        assignee_id: Set(None),
        created_by: Set(p.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        accept_due_at: Set(plan.accept_due),
        resolve_due_at: Set(Some(plan.resolve_due)),
        follow_up_due_at: Set(None),
        confirmation_due_at: Set(None),
        overdue: Set(false),
        outcome: Set(None),
        resolved_at: Set(None),
        closed_at: Set(None),
        danger_screen: Set(screen.record.clone()),
        dispatch_due_at: Set(plan.dispatch_due),
        confirmation: Set(None),
        place_note: Set(place_note),
        ..Default::default()
    };
    let call_id = linked_call.as_ref().map(|c| c.id);
    let intake = intake_of(
        p, now, &input, row, call_id, &summary, &place, priority, &screen, &plan,
    );
    let urgency = intake.escalate.as_ref().map(|(u, _)| *u);
    let c = intake::submit(state, Intake { reporter, ..intake }).await?;
    // Only a dangerous screen opens an escalation; otherwise there is none
    // to show and no need to ask.
    let esc = match urgency {
        Some(_) => escalation::latest_for_case(&state.db.conn, &c, now).await?,
        None => None,
    };
    CaseView::build(&c, true, esc)
}

/// The queued intake: the row, its two opening events' data, its clocks,
/// and — the escalation seam — a high or imminent screen's escalation,
/// opened in the intake's own transaction so that a dangerous case never
/// exists without it.
#[allow(clippy::too_many_arguments)]
fn intake_of(
    p: &Principal,
    now: DateTime<Utc>,
    input: &NewCase,
    row: case::ActiveModel,
    call_id: Option<Uuid>,
    summary: &str,
    place: &crate::regions::RegionCode,
    priority: Priority,
    screen: &Screen,
    plan: &Plan,
) -> Intake {
    let urgency = match screen.risk {
        RiskLevel::Imminent => Some(Urgency::Imminent),
        RiskLevel::High => Some(Urgency::High),
        _ => None,
    };
    let d = &plan.decision;
    Intake {
        now,
        actor: p.user_id,
        case: row,
        call_id,
        opened: json!({
            "category": input.category,
            "priority": priority,
            "risk_level": screen.risk,
            "region_code": place.as_str(),
            "summary": summary,
            "status": plan.status,
            "call_id": call_id,
            "danger_screen": input.danger_screen.as_ref().map(|s| json!({
                "in_progress": s.in_progress,
                "answers": s.answers,
                "screener_concern": s.screener_concern,
            })),
        }),
        assigned: json!({
            "unit_id": d.unit_id,
            "unit_name": plan.unit_name,
            "unit_kind": d.unit_kind,
            "dispatched": d.dispatched,
            "reason": d.reason,
            "route_level": d.level,
            "status": plan.status,
            "accept_due_at": plan.accept_due,
            "dispatch_due_at": plan.dispatch_due,
        }),
        accept_due: plan.accept_due,
        dispatch_due: plan.dispatch_due,
        resolve_due: plan.resolve_due,
        escalate: urgency.map(|u| (u, screen.escalation_reason.clone())),
        reporter: None,
    }
}
