//! The API shape of a callback: the number masked unless revealed, and
//! what the operator must know before dialling (her safe contact).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::entity::{callback, contact_safety};
use crate::{
    auth::Principal,
    cases::{contact_safety::SafeContact, model::PhoneNumber},
    db::entities::case,
    error::{Error, Result},
    regions::RegionCode,
    vocab::Role,
    vocab::{CallbackKind, CallbackStatus, DissatisfactionReason, Satisfaction},
};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub by: Uuid,
    pub reached: bool,
    pub safe_to_talk: Option<bool>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallbackResult {
    pub satisfaction: Option<Satisfaction>,
    pub reason: Option<DissatisfactionReason>,
    pub notes: Option<String>,
}

/// What the console shows before a callback: may she be called now?
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContactWarning {
    pub safe_to_call: bool,
    pub safe_hours: Option<String>,
    pub no_sms: bool,
    /// Calls are safe and now is within her safe hours.
    pub may_call_now: bool,
    /// Shown on a revealed read only.
    pub code_word: Option<String>,
    pub notes: Option<String>,
}

impl ContactWarning {
    pub fn of(s: &SafeContact, now: DateTime<Utc>, full: bool) -> ContactWarning {
        ContactWarning {
            safe_to_call: s.safe_to_call,
            safe_hours: s.safe_hours.clone(),
            no_sms: s.no_sms,
            may_call_now: s.may_call_at(now),
            code_word: if full { s.code_word.clone() } else { None },
            notes: if full { s.notes.clone() } else { None },
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallbackView {
    pub id: Uuid,
    pub kind: CallbackKind,
    pub status: CallbackStatus,
    pub case_id: Option<Uuid>,
    pub case_number: Option<String>,
    pub call_id: Option<Uuid>,
    /// Masked (`138****5678`) unless read with `?reveal=true` (audited).
    pub phone: Option<String>,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
    pub attempts: Vec<Attempt>,
    pub result: Option<CallbackResult>,
    /// Her safe contact when the case has one: warn before dialling.
    pub contact: Option<ContactWarning>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// What a follow-up call is for.
    pub notes: Option<String>,
}

pub fn attempts_of(m: &callback::Model) -> Vec<Attempt> {
    serde_json::from_value(m.attempts.clone()).unwrap_or_default()
}

impl CallbackView {
    pub fn build(
        m: callback::Model,
        case_number: Option<String>,
        contact: Option<&SafeContact>,
        now: DateTime<Utc>,
        reveal: bool,
    ) -> CallbackView {
        let phone = m.phone.as_deref().map(|p| {
            if reveal {
                p.to_string()
            } else {
                PhoneNumber::parse(p)
                    .map(|n| n.masked())
                    .unwrap_or_else(|_| crate::cases::model::mask(p, 3, 4))
            }
        });
        let result = (m.status == CallbackStatus::Done).then(|| CallbackResult {
            satisfaction: m.satisfaction,
            reason: m.reason,
            notes: m.result_notes.clone(),
        });
        CallbackView {
            attempts: attempts_of(&m),
            id: m.id,
            kind: m.kind,
            status: m.status,
            case_id: m.case_id,
            case_number,
            call_id: m.call_id,
            phone,
            due_at: m.due_at,
            overdue: m.status == CallbackStatus::Open && m.due_at < now,
            result,
            contact: contact.map(|s| ContactWarning::of(s, now, reveal)),
            created_at: m.created_at,
            closed_at: m.closed_at,
            version: m.version,
            notes: m.notes.clone(),
        }
    }
}

/// Whose callbacks a reader sees: a supervisor those of her region's cases
/// (`Some`), the hotline and administrators all (`None`).
pub fn reader_region(p: &Principal) -> Result<Option<RegionCode>> {
    if p.role != Role::Supervisor {
        return Ok(None);
    }
    p.unit
        .as_ref()
        .and_then(|u| RegionCode::parse(&u.region_code))
        .map(Some)
        .ok_or_else(|| Error::Forbidden("a supervisor without a region".into()))
}

/// Case numbers and safe contacts of a page: two queries, whatever its size.
pub async fn decorations(
    conn: &impl ConnectionTrait,
    rows: &[callback::Model],
) -> Result<(HashMap<Uuid, String>, HashMap<Uuid, SafeContact>)> {
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.case_id).collect();
    if ids.is_empty() {
        return Ok((HashMap::new(), HashMap::new()));
    }
    let numbers = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .column(case::Column::Number)
        .filter(case::Column::Id.is_in(ids.clone()))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let contacts = contact_safety::Entity::find()
        .filter(contact_safety::Column::CaseId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.case_id, serde_json::from_value(r.contact).ok()?)))
        .collect();
    Ok((numbers, contacts))
}
