//! The person as the API shows her (ID number and phones masked unless
//! revealed), her visits, and the screen pop's summary (no ID number, no
//! address, no name: what an operator needs while the phone rings).
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{
    entity::{person, visit},
    record::{left_behind, today, Flags},
};
use crate::{
    cases::{
        contact_safety::SafeContact,
        model::{mask, IdNumber, PhoneNumber},
    },
    error::{Error, Result},
    vocab::{CaseStatus, Category, LedgerSource, VisitKind},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub name: String,
    /// Masked (`4503**********1234`) unless revealed.
    pub id_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// Masked (`138****5678`) unless revealed.
    pub phones: Vec<String>,
    pub revealed: bool,
    pub village_code: String,
    pub husband_away_since: Option<NaiveDate>,
    pub in_village: bool,
    /// Husband away six months or more and living in the village, today.
    pub left_behind: bool,
    pub flags: Flags,
    pub contact_person_user_id: Option<Uuid>,
    pub safe_contact: Option<SafeContact>,
    pub source: LedgerSource,
    pub screened_by: Option<String>,
    pub screened_at: Option<NaiveDate>,
    pub review_due_at: Option<DateTime<Utc>>,
    /// The review date has come (a reminder, never "overdue").
    pub review_due: bool,
    pub last_visit_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = LedgerVisitView)]
pub struct VisitView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: VisitKind,
    pub notes: Option<String>,
    pub unit_id: Option<Uuid>,
    pub recorded_by: Uuid,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkedCase {
    pub id: Uuid,
    pub number: String,
    pub category: Category,
    pub status: CaseStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonDetail {
    #[serde(flatten)]
    pub person: PersonView,
    pub visits: Vec<VisitView>,
    pub cases: Vec<LinkedCase>,
    /// Her contact person's name, when she has one.
    pub contact_person: Option<ContactPerson>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContactPerson {
    pub user_id: Uuid,
    pub display_name: String,
}

/// The screen pop's `ledger`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LedgerSummary {
    pub person_id: Uuid,
    pub left_behind: bool,
    pub flags: Flags,
    pub village_code: String,
    pub last_visit_at: Option<DateTime<Utc>>,
    pub contact_person: Option<ContactPerson>,
    pub safe_contact: Option<SafeContact>,
    /// Other persons on the ledger with the same number (shared phones).
    pub others: usize,
}

pub fn safe_contact_of(m: &person::Model) -> Result<Option<SafeContact>> {
    m.safe_contact
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| Error::Internal(format!("stored safe_contact: {e}")))
}

impl PersonView {
    pub fn build(
        m: &person::Model,
        phones: Vec<String>,
        reveal: bool,
        now: DateTime<Utc>,
    ) -> Result<PersonView> {
        Ok(PersonView {
            id: m.id,
            name: m.name.clone(),
            id_number: m.id_number.as_deref().map(|s| {
                if reveal {
                    s.to_string()
                } else {
                    IdNumber::parse(s)
                        .map(|i| i.masked())
                        .unwrap_or_else(|_| mask(s, 4, 4))
                }
            }),
            birth_date: m.birth_date,
            phones: phones
                .into_iter()
                .map(|p| {
                    if reveal {
                        p
                    } else {
                        PhoneNumber::parse(&p)
                            .map(|n| n.masked())
                            .unwrap_or_else(|_| mask(&p, 3, 4))
                    }
                })
                .collect(),
            revealed: reveal,
            village_code: m.village_code.clone(),
            husband_away_since: m.husband_away_since,
            in_village: m.in_village,
            left_behind: left_behind(m.husband_away_since, m.in_village, today(now)),
            flags: Flags::of(m),
            contact_person_user_id: m.contact_person_user_id,
            safe_contact: safe_contact_of(m)?,
            source: m.source,
            screened_by: m.screened_by.clone(),
            screened_at: m.screened_at,
            review_due_at: m.review_due_at,
            review_due: m.review_due_at.is_some_and(|d| d <= now),
            last_visit_at: m.last_visit_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        })
    }
}

impl VisitView {
    pub fn of(v: visit::Model) -> VisitView {
        VisitView {
            id: v.id,
            at: v.at,
            kind: v.kind,
            notes: v.notes,
            unit_id: v.unit_id,
            recorded_by: v.recorded_by,
        }
    }
}

impl LedgerSummary {
    pub fn build(
        m: &person::Model,
        contact_person: Option<ContactPerson>,
        others: usize,
        now: DateTime<Utc>,
    ) -> Result<LedgerSummary> {
        Ok(LedgerSummary {
            person_id: m.id,
            left_behind: left_behind(m.husband_away_since, m.in_village, today(now)),
            flags: Flags::of(m),
            village_code: m.village_code.clone(),
            last_visit_at: m.last_visit_at,
            contact_person,
            safe_contact: safe_contact_of(m)?,
            others,
        })
    }
}

/// What intake answers about the ledger with a new case: the person it
/// was linked to by ID number, and persons proposed by phone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseLedger {
    pub ledger_person_id: Option<Uuid>,
    pub ledger_matches: Vec<LedgerSummary>,
}
