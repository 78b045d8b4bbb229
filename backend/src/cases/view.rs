//! The case as the API shows it, with phone and ID numbers masked unless
//! the caller may and did ask to see them.
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::model::{mask, IdNumber, PhoneNumber};
use crate::{
    db::entities::case,
    escalation::view::EscalationView,
    events::CaseEvent,
    vocab::{CaseStatus, Category, Priority, RiskLevel},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectView {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    /// False when phone and ID numbers are shown masked.
    pub revealed: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadlinesView {
    /// A case left `new` at the hotline centre: dispatch by then.
    pub dispatch_due_at: Option<DateTime<Utc>>,
    pub accept_due_at: Option<DateTime<Utc>>,
    pub resolve_due_at: Option<DateTime<Utc>>,
    pub follow_up_due_at: Option<DateTime<Utc>>,
    pub confirmation_due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub number: String,
    pub category: Category,
    pub status: CaseStatus,
    pub priority: Priority,
    pub risk_level: RiskLevel,
    pub region_code: String,
    /// Where to go: the address or landmark taken at intake.
    pub place_note: Option<String>,
    pub summary: String,
    pub description: Option<String>,
    pub subject: SubjectView,
    pub assigned_unit_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub overdue: bool,
    pub outcome: Option<Value>,
    /// The parties' judicial confirmation of an agreement:
    /// `{status, court, date, recorded_by, recorded_at}`.
    pub confirmation: Option<Value>,
    pub deadlines: DeadlinesView,
    pub escalation: Option<EscalationView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseView,
    /// The danger screen as the operator took it, notes included:
    /// `{in_progress, answers, screener_concern, notes, risk_level,
    /// screened_by, screened_by_name, screened_at}`. Only in the detail,
    /// never in lists, mail or the live feed.
    pub danger_screen: Option<Value>,
    #[schema(value_type = Vec<CaseEvent>)]
    pub timeline: Timeline,
}

/// A case's timeline as a reader gets it: the whole of it, shared with
/// `events::TimelineCache` (not copied per read), or the events a
/// read-only unit may see.
#[derive(Debug, Clone)]
pub enum Timeline {
    All(std::sync::Arc<Vec<CaseEvent>>),
    Seen(Vec<CaseEvent>),
}

impl Serialize for Timeline {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Timeline::All(events) => events.serialize(s),
            Timeline::Seen(events) => events.serialize(s),
        }
    }
}

fn mask_phone(p: &str) -> String {
    PhoneNumber::parse(p)
        .map(|p| p.masked())
        .unwrap_or_else(|_| mask(p, 3, 4))
}

fn mask_id(s: &str) -> String {
    IdNumber::parse(s)
        .map(|i| i.masked())
        .unwrap_or_else(|_| mask(s, 4, 4))
}

impl CaseView {
    pub fn build(
        c: &case::Model,
        reveal: bool,
        escalation: Option<EscalationView>,
    ) -> crate::error::Result<CaseView> {
        Ok(CaseView {
            id: c.id,
            number: c.number.clone(),
            category: c.category,
            status: c.status,
            priority: c.priority,
            risk_level: c.risk_level,
            region_code: c.region_code.clone(),
            place_note: c.place_note.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            subject: SubjectView {
                name: c.subject_name.clone(),
                phone: c.subject_phone.as_deref().map(|p| {
                    if reveal {
                        p.to_string()
                    } else {
                        mask_phone(p)
                    }
                }),
                id_number: c.subject_id_number.as_deref().map(|s| {
                    if reveal {
                        s.to_string()
                    } else {
                        mask_id(s)
                    }
                }),
                revealed: reveal,
            },
            assigned_unit_id: c.assigned_unit_id,
            assignee_id: c.assignee_id,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
            overdue: c.overdue,
            outcome: c.outcome.clone(),
            confirmation: c.confirmation.clone(),
            deadlines: DeadlinesView {
                dispatch_due_at: c.dispatch_due_at,
                accept_due_at: c.accept_due_at,
                resolve_due_at: c.resolve_due_at,
                follow_up_due_at: c.follow_up_due_at,
                confirmation_due_at: c.confirmation_due_at,
            },
            escalation,
        })
    }
}
