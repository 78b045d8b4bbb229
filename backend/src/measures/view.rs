//! Measures as the API shows them: the record, its visits and violations,
//! where it stands (`status`) and its next clocks.
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::entity::{measure, violation, visit};
use crate::{
    error::{Error, Result},
    vocab::{Applicant, MeasureKind, MeasureOutcome, MeasureStatus, ProtectiveTerm, VisitParty},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    pub id: Uuid,
    pub party: VisitParty,
    pub unit_id: Option<Uuid>,
    pub due_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    /// Due and not done.
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ViolationView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub notes: String,
    pub recorded_by: Uuid,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeasureView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
    pub kind: MeasureKind,
    pub number: Option<String>,
    pub issuer_unit_id: Option<Uuid>,
    pub court_name: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    pub applicant: Option<Applicant>,
    pub urgent: bool,
    pub decided_at: Option<DateTime<Utc>>,
    pub outcome: MeasureOutcome,
    pub measures: Vec<ProtectiveTerm>,
    pub effective_from: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub served_to: Vec<Uuid>,
    pub status: MeasureStatus,
    /// A pending protection order: when the court must have ruled.
    pub decision_due_at: Option<DateTime<Utc>>,
    pub visits: Vec<VisitView>,
    pub violations: Vec<ViolationView>,
    pub created_at: DateTime<Utc>,
    pub version: i32,
}

/// The terms stored as a JSON array; a value no release wrote fails the
/// read (fail closed).
pub fn terms_of(m: &measure::Model) -> Result<Vec<ProtectiveTerm>> {
    serde_json::from_value(m.terms.clone())
        .map_err(|e| Error::Internal(format!("stored measure terms: {e}")))
}

pub fn served_of(m: &measure::Model) -> Result<Vec<Uuid>> {
    serde_json::from_value(m.served_to.clone())
        .map_err(|e| Error::Internal(format!("stored measure served_to: {e}")))
}

pub fn status_of(m: &measure::Model, now: DateTime<Utc>) -> MeasureStatus {
    match m.outcome {
        MeasureOutcome::Pending => MeasureStatus::Pending,
        MeasureOutcome::Rejected => MeasureStatus::Rejected,
        MeasureOutcome::Withdrawn => MeasureStatus::Withdrawn,
        MeasureOutcome::Granted => match m.expires_at {
            Some(t) if t <= now => MeasureStatus::Expired,
            _ => MeasureStatus::InForce,
        },
    }
}

/// When a pending protection order's decision is due.
pub fn decision_due(m: &measure::Model, decision_s: i64, urgent_s: i64) -> Option<DateTime<Utc>> {
    if m.kind != MeasureKind::ProtectionOrder || m.outcome != MeasureOutcome::Pending {
        return None;
    }
    let from = m.applied_at.unwrap_or(m.created_at);
    Some(from + chrono::Duration::seconds(if m.urgent { urgent_s } else { decision_s }))
}

pub struct Parts<'a> {
    pub case_number: &'a str,
    pub visits: Vec<visit::Model>,
    pub violations: Vec<violation::Model>,
    pub decision_due_at: Option<DateTime<Utc>>,
}

pub fn view_of(m: &measure::Model, parts: Parts<'_>, now: DateTime<Utc>) -> Result<MeasureView> {
    Ok(MeasureView {
        id: m.id,
        case_id: m.case_id,
        case_number: parts.case_number.to_string(),
        kind: m.kind,
        number: m.number.clone(),
        issuer_unit_id: m.issuer_unit_id,
        court_name: m.court_name.clone(),
        applied_at: m.applied_at,
        applicant: m.applicant,
        urgent: m.urgent,
        decided_at: m.decided_at,
        outcome: m.outcome,
        measures: terms_of(m)?,
        effective_from: m.effective_from,
        expires_at: m.expires_at,
        served_to: served_of(m)?,
        status: status_of(m, now),
        decision_due_at: parts.decision_due_at,
        visits: parts
            .visits
            .into_iter()
            .map(|v| VisitView {
                id: v.id,
                party: v.party,
                unit_id: v.unit_id,
                due_at: v.due_at,
                overdue: v.done_at.is_none() && v.due_at <= now,
                done_at: v.done_at,
                notes: v.notes,
            })
            .collect(),
        violations: parts
            .violations
            .into_iter()
            .map(|v| ViolationView {
                id: v.id,
                at: v.at,
                notes: v.notes,
                recorded_by: v.recorded_by,
            })
            .collect(),
        created_at: m.created_at,
        version: m.version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_granted_order_is_in_force_until_it_expires() -> Result<()> {
        let at = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
        let m = measure::Model {
            id: Uuid::nil(),
            case_id: Uuid::nil(),
            kind: MeasureKind::ProtectionOrder,
            number: None,
            issuer_unit_id: None,
            court_name: None,
            applied_at: Some(at),
            applicant: None,
            urgent: true,
            decided_at: None,
            outcome: MeasureOutcome::Pending,
            terms: serde_json::json!(["no_contact"]),
            effective_from: None,
            expires_at: Some(at + chrono::Duration::days(10)),
            served_to: serde_json::json!([]),
            created_by: Uuid::nil(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        assert_eq!(
            decision_due(&m, 72 * 3600, 24 * 3600),
            Some(at + chrono::Duration::hours(24))
        );
        assert_eq!(status_of(&m, at), MeasureStatus::Pending);
        let granted = measure::Model {
            outcome: MeasureOutcome::Granted,
            ..m.clone()
        };
        assert_eq!(status_of(&granted, at), MeasureStatus::InForce);
        assert_eq!(
            status_of(&granted, at + chrono::Duration::days(11)),
            MeasureStatus::Expired
        );
        assert_eq!(decision_due(&granted, 1, 1), None);
        let odd = measure::Model {
            terms: serde_json::json!(["curfew"]),
            ..m
        };
        assert!(
            terms_of(&odd).is_err(),
            "an unknown stored term fails the read"
        );
        Ok(())
    }
}
