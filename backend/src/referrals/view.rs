//! Referrals as the API shows them, and the JSON parts stored with each
//! (consent, reply, decline, withdrawal, urgings). A receiving unit sees
//! the case only through `CaseHeader`: category, place, summary and the
//! subject masked (her name too, until it accepts).
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

use super::entity::referral;
use crate::{
    cases::model::{mask, IdNumber, PhoneNumber},
    db::entities::{case, unit},
    error::{Error, Result},
    vocab::{CaseStatus, Category, DeclineReason, LegalBasis, ReferralStatus, ReplyResult},
};

/// Her consent to the disclosure, as the sender recorded it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Consent {
    /// Who gave it (herself, or who for her), as said on the phone.
    pub given_by: String,
    pub at: DateTime<Utc>,
    pub recorded_by: Uuid,
    /// What she agreed may be shared, and with whom.
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reply {
    pub result: ReplyResult,
    pub details: String,
    /// The receiver's own file or decision number.
    pub reference: Option<String>,
    pub decided_at: DateTime<Utc>,
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decline {
    pub reason_code: DeclineReason,
    pub reason: String,
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Withdrawal {
    pub reason: String,
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

/// An urging opinion (督促处理意见, Women's Rights Law art. 73), with its
/// own reply deadline.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Urging {
    pub id: Uuid,
    pub opinion: String,
    /// Nobody for an automatic urging (a second missed deadline).
    pub by: Option<Uuid>,
    pub by_name: Option<String>,
    pub automatic: bool,
    /// The region whose supervisors it is addressed to.
    pub addressed_to: Option<String>,
    pub at: DateTime<Utc>,
    pub reply_due_at: DateTime<Utc>,
    /// Its reply deadline passed unanswered.
    #[serde(default)]
    pub missed: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectHeader {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    /// False when the numbers are masked.
    pub revealed: bool,
}

/// What a referral shows of its case: never notes, description or timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseHeader {
    pub number: String,
    pub category: Category,
    pub status: CaseStatus,
    pub region_code: String,
    pub summary: String,
    pub subject: SubjectHeader,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferralView {
    pub id: Uuid,
    pub number: String,
    pub case_id: Uuid,
    pub case_number: String,
    pub kind: String,
    pub request: String,
    pub legal_basis: LegalBasis,
    pub consent: Option<Consent>,
    pub status: ReferralStatus,
    pub from_unit_id: Option<Uuid>,
    pub from_unit_name: Option<String>,
    pub to_unit_id: Uuid,
    pub to_unit_name: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub accept_due_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<Uuid>,
    pub reply_due_at: Option<DateTime<Utc>>,
    pub reply: Option<Reply>,
    pub replied_at: Option<DateTime<Utc>>,
    pub decline: Option<Decline>,
    pub withdrawal: Option<Withdrawal>,
    pub urgings: Vec<Urging>,
    /// A deadline of it (accept, reply, an urging's reply) passed unmet.
    pub overdue: bool,
    pub version: i32,
    /// Only in the detail.
    pub case: Option<CaseHeader>,
}

/// A stored JSON part; one no release wrote is an error, never a default.
pub fn part<T: DeserializeOwned>(what: &str, v: &Option<serde_json::Value>) -> Result<Option<T>> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| Error::Internal(format!("stored referral {what}: {e}"))),
    }
}

pub fn urgings_of(r: &referral::Model) -> Result<Vec<Urging>> {
    serde_json::from_value(r.urgings.clone())
        .map_err(|e| Error::Internal(format!("stored referral urgings: {e}")))
}

pub fn json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(e.to_string()))
}

/// How much of the subject a reader sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Masking {
    /// Before acceptance: her name masked too.
    Full,
    /// Name shown, numbers masked.
    Numbers,
    /// Audited reveal.
    None,
}

pub fn header(c: &case::Model, masking: Masking) -> Result<CaseHeader> {
    let show = masking == Masking::None;
    Ok(CaseHeader {
        number: c.number.clone(),
        category: c.category,
        status: c.status,
        region_code: c.region_code.clone(),
        summary: c.summary.clone(),
        subject: SubjectHeader {
            name: c.subject_name.as_deref().map(|n| match masking {
                Masking::Full => mask(n, 1, 0),
                _ => n.to_string(),
            }),
            phone: c.subject_phone.as_deref().map(|p| match show {
                true => p.to_string(),
                false => PhoneNumber::parse(p)
                    .map(|p| p.masked())
                    .unwrap_or_else(|_| mask(p, 3, 4)),
            }),
            id_number: c.subject_id_number.as_deref().map(|s| match show {
                true => s.to_string(),
                false => IdNumber::parse(s)
                    .map(|i| i.masked())
                    .unwrap_or_else(|_| mask(s, 4, 4)),
            }),
            revealed: show,
        },
    })
}

fn view_of(
    r: &referral::Model,
    case_number: &str,
    names: &HashMap<Uuid, String>,
) -> Result<ReferralView> {
    Ok(ReferralView {
        id: r.id,
        number: r.number.clone(),
        case_id: r.case_id,
        case_number: case_number.to_string(),
        kind: r.kind.clone(),
        request: r.request.clone(),
        legal_basis: r.legal_basis,
        consent: part("consent", &r.consent)?,
        status: r.status,
        from_unit_id: r.from_unit_id,
        from_unit_name: r.from_unit_id.and_then(|u| names.get(&u).cloned()),
        to_unit_id: r.to_unit_id,
        to_unit_name: names.get(&r.to_unit_id).cloned(),
        created_by: r.created_by,
        created_at: r.created_at,
        accept_due_at: r.accept_due_at,
        accepted_at: r.accepted_at,
        accepted_by: r.accepted_by,
        reply_due_at: r.reply_due_at,
        reply: part("reply", &r.reply)?,
        replied_at: r.replied_at,
        decline: part("decline", &r.decline)?,
        withdrawal: part("withdrawal", &r.withdrawal)?,
        urgings: urgings_of(r)?,
        overdue: r.overdue,
        version: r.version,
        case: None,
    })
}

/// Views of many referrals with two queries in all (case numbers, unit
/// names).
pub async fn views(
    conn: &impl ConnectionTrait,
    rows: &[referral::Model],
) -> Result<Vec<ReferralView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let case_ids: Vec<Uuid> = rows.iter().map(|r| r.case_id).collect();
    let numbers: HashMap<Uuid, String> = case::Entity::find()
        .filter(case::Column::Id.is_in(case_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.number))
        .collect();
    let mut unit_ids: Vec<Uuid> = rows.iter().map(|r| r.to_unit_id).collect();
    unit_ids.extend(rows.iter().filter_map(|r| r.from_unit_id));
    let names: HashMap<Uuid, String> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(unit_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    rows.iter()
        .map(|r| {
            let number = numbers.get(&r.case_id).map(String::as_str);
            view_of(r, number.unwrap_or_default(), &names)
        })
        .collect()
}

/// One referral's view with its case header.
pub async fn detail(
    conn: &impl ConnectionTrait,
    r: &referral::Model,
    c: &case::Model,
    masking: Masking,
) -> Result<ReferralView> {
    let mut v = views(conn, std::slice::from_ref(r))
        .await?
        .pop()
        .ok_or(Error::NotFound("referral"))?;
    v.case = Some(header(c, masking)?);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_of() -> case::Model {
        case::Model {
            summary: "s".into(),
            description: Some("only for the handling unit".into()),
            subject_name: Some("王芳".into()),
            subject_phone: Some("13812345678".into()),
            ..case::sample()
        }
    }

    #[test]
    fn the_receiver_sees_her_masked_until_it_accepts() -> Result<()> {
        let c = case_of();
        let before = header(&c, Masking::Full)?;
        assert_eq!(before.subject.name.as_deref(), Some("王*"));
        assert_eq!(before.subject.phone.as_deref(), Some("138****5678"));
        assert!(!before.subject.revealed);
        let after = header(&c, Masking::Numbers)?;
        assert_eq!(after.subject.name.as_deref(), Some("王芳"));
        assert_eq!(after.subject.phone.as_deref(), Some("138****5678"));
        let shown = header(&c, Masking::None)?;
        assert_eq!(shown.subject.phone.as_deref(), Some("13812345678"));
        assert!(shown.subject.revealed);
        Ok(())
    }

    #[test]
    fn a_stored_part_no_release_wrote_is_an_error() {
        let bad = Some(serde_json::json!({"result": "maybe"}));
        assert!(part::<Reply>("reply", &bad).is_err());
        assert!(part::<Reply>("reply", &None).is_ok_and(|r| r.is_none()));
    }
}
