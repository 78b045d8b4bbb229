//! A mediation as the API shows it: parties' phone and ID numbers masked
//! unless the handling unit asked to see them (as case subjects are).
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{
    entity::{mediation, obligation, session},
    rules::Party,
};
use crate::{
    cases::model::{mask, IdNumber, PhoneNumber},
    db::entities::case,
    error::{Error, Result},
    vocab::{AgreementForm, MediationStatus, TerminationReason},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub n: i32,
    pub at: DateTime<Utc>,
    pub place: String,
    /// `[{id, name}]`
    #[schema(value_type = Object)]
    pub mediators: Value,
    pub attendees: String,
    pub summary: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObligationView {
    pub n: i32,
    pub text: String,
    pub party: String,
    pub due_at: DateTime<Utc>,
    pub performed_at: Option<DateTime<Utc>>,
    pub performed_notes: Option<String>,
    /// Performed by its due time.
    pub on_time: Option<bool>,
    /// The mediator was reminded that it fell due unperformed.
    pub reminded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgreementView {
    pub form: AgreementForm,
    pub number: Option<String>,
    pub facts: String,
    pub terms: String,
    pub effective_date: NaiveDate,
    pub recorded_at: Option<DateTime<Utc>>,
    pub obligations: Vec<ObligationView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TerminationView {
    pub reason: TerminationReason,
    pub remedies_informed: bool,
    pub notes: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediationView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
    pub unit_id: Uuid,
    pub status: MediationStatus,
    pub dispute: String,
    pub parties: Vec<Party>,
    /// False when the parties' phone and ID numbers are masked.
    pub revealed: bool,
    pub consent_recorded: bool,
    pub override_reason: Option<String>,
    pub registered_by: Uuid,
    pub registered_at: DateTime<Utc>,
    pub first_session_due_at: DateTime<Utc>,
    pub first_session_at: Option<DateTime<Utc>>,
    pub sessions: Vec<SessionView>,
    pub termination: Option<TerminationView>,
    pub agreement: Option<AgreementView>,
    /// The parties' judicial confirmation window (from the case).
    pub confirmation_due_at: Option<DateTime<Utc>>,
    pub confirmation: Option<Value>,
    pub version: i32,
}

/// The stored parties, numbers in full.
pub fn stored_parties(m: &mediation::Model) -> Result<Vec<Party>> {
    serde_json::from_value(m.parties.clone())
        .map_err(|e| Error::Internal(format!("stored parties of mediation {}: {e}", m.id)))
}

/// A party with its numbers masked (`138****5678`, `4503**********1234`).
pub fn masked(p: &Party) -> Party {
    Party {
        phone: p.phone.as_deref().map(|s| {
            PhoneNumber::parse(s)
                .map(|n| n.masked())
                .unwrap_or_else(|_| mask(s, 3, 4))
        }),
        id_number: p.id_number.as_deref().map(|s| {
            IdNumber::parse(s)
                .map(|n| n.masked())
                .unwrap_or_else(|_| mask(s, 4, 4))
        }),
        ..p.clone()
    }
}

fn obligation_view(o: &obligation::Model) -> ObligationView {
    ObligationView {
        n: o.n,
        text: o.text.clone(),
        party: o.party.clone(),
        due_at: o.due_at,
        performed_at: o.performed_at,
        performed_notes: o.performed_notes.clone(),
        on_time: o.performed_at.map(|p| p <= o.due_at),
        reminded_at: o.reminded_at,
    }
}

fn agreement_view(
    m: &mediation::Model,
    obligations: &[obligation::Model],
) -> Option<AgreementView> {
    Some(AgreementView {
        form: m.agreement_form?,
        number: m.agreement_number.clone(),
        facts: m.agreement_facts.clone().unwrap_or_default(),
        terms: m.agreement_terms.clone().unwrap_or_default(),
        effective_date: m.effective_at?.date_naive(),
        recorded_at: m.agreed_at,
        obligations: obligations.iter().map(obligation_view).collect(),
    })
}

/// Everything recorded about one mediation, for the API.
pub struct Whole {
    pub case: case::Model,
    pub mediation: mediation::Model,
    pub sessions: Vec<session::Model>,
    pub obligations: Vec<obligation::Model>,
}

impl Whole {
    pub fn view(&self, reveal: bool) -> Result<MediationView> {
        let m = &self.mediation;
        let parties = stored_parties(m)?;
        Ok(MediationView {
            id: m.id,
            case_id: m.case_id,
            case_number: self.case.number.clone(),
            unit_id: m.unit_id,
            status: m.status,
            dispute: m.dispute.clone(),
            parties: if reveal {
                parties
            } else {
                parties.iter().map(masked).collect()
            },
            revealed: reveal,
            consent_recorded: m.consent_recorded,
            override_reason: m.override_reason.clone(),
            registered_by: m.registered_by,
            registered_at: m.registered_at,
            first_session_due_at: m.first_session_due_at,
            first_session_at: m.first_session_at,
            sessions: self
                .sessions
                .iter()
                .map(|s| SessionView {
                    n: s.n,
                    at: s.at,
                    place: s.place.clone(),
                    mediators: s.mediators.clone(),
                    attendees: s.attendees.clone(),
                    summary: s.summary.clone(),
                    recorded_by: s.recorded_by,
                    recorded_at: s.recorded_at,
                })
                .collect(),
            termination: match (m.termination_reason, m.terminated_at) {
                (Some(reason), Some(at)) => Some(TerminationView {
                    reason,
                    remedies_informed: m.remedies_informed.unwrap_or(false),
                    notes: m.termination_notes.clone(),
                    at,
                }),
                _ => None,
            },
            agreement: agreement_view(m, &self.obligations),
            confirmation_due_at: self.case.confirmation_due_at,
            confirmation: self.case.confirmation.clone(),
            version: m.version,
        })
    }
}
