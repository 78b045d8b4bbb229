//! Calls and the screen pop: every form of a number finds the same caller,
//! and her history answers from one indexed lookup per table. A call from a
//! withheld, foreign or garbled number is logged with the raw text only;
//! it has no history. A look-up shows only cases in the reader's scope and
//! is written to the audit log.
pub mod cti;
pub mod disposition;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    cases::{model::PhoneNumber, scope},
    db::entities::{call, case},
    error::{Error, Result},
    state::AppState,
    vocab::{CaseStatus, Channel, Role},
};
use serde_json::json;
use std::collections::HashSet;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallView {
    pub id: Uuid,
    /// The number normalised; null for a withheld, foreign or garbled one.
    pub caller_phone: Option<String>,
    /// The number as the operator or the exchange gave it.
    pub caller_phone_raw: Option<String>,
    pub channel: Channel,
    pub received_at: DateTime<Utc>,
    pub duration_s: Option<i32>,
    pub operator_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub summary: Option<String>,
    /// The exchange's reference, when the call came through it.
    pub call_ref: Option<String>,
    /// When an operator took it; null: never answered (a missed call).
    pub answered_at: Option<DateTime<Utc>>,
    pub hangup_cause: Option<String>,
    /// What the call came to (`POST /calls/{id}/disposition`).
    pub disposition: Option<crate::vocab::Disposition>,
    pub topics: Vec<crate::vocab::CallTopic>,
    pub disposition_notes: Option<String>,
}

impl CallView {
    fn from_model(m: call::Model) -> Result<CallView> {
        Ok(CallView {
            id: m.id,
            caller_phone: m.phone,
            caller_phone_raw: m.phone_raw,
            channel: m.channel,
            received_at: m.received_at,
            duration_s: m.duration_s,
            operator_id: m.operator_id,
            case_id: m.case_id,
            summary: m.summary,
            call_ref: m.cti_ref,
            answered_at: m.answered_at,
            hangup_cause: m.hangup_cause,
            disposition: m.disposition,
            topics: m
                .topics
                .and_then(|t| serde_json::from_value(t).ok())
                .unwrap_or_default(),
            disposition_notes: m.disposition_notes,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// Any text: `anonymous`, `withheld`, a foreign or empty number are
    /// logged as they are (victims often call from such numbers).
    #[serde(default)]
    pub caller_phone: String,
    pub channel: Channel,
    pub received_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    /// The exchange's `call_ref` from the ringing screen pop: the call the
    /// exchange logged is completed instead of a second one written.
    pub call_ref: Option<String>,
}

pub fn parse_phone(field: &str, raw: &str) -> Result<PhoneNumber> {
    PhoneNumber::parse(raw).map_err(|m| Error::validation(field, format!("{raw:?} {m}")))
}

pub async fn record(state: &AppState, p: &Principal, input: NewCall) -> Result<CallView> {
    p.require(&[Role::Operator, Role::Admin])?;
    let raw = input.caller_phone.trim();
    if raw.chars().count() > 64 {
        return Err(Error::validation("caller_phone", "at most 64 characters"));
    }
    let phone = PhoneNumber::parse(raw).ok();
    let now = state.now();
    let received_at = input.received_at.unwrap_or(now);
    if received_at > now + chrono::Duration::minutes(5) {
        return Err(Error::validation("received_at", "is in the future"));
    }
    let summary = input
        .summary
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if summary.as_ref().is_some_and(|s| s.chars().count() > 2000) {
        return Err(Error::validation("summary", "at most 2000 characters"));
    }
    let call_ref = input
        .call_ref
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if call_ref.as_ref().is_some_and(|r| r.len() > 128) {
        return Err(Error::validation("call_ref", "at most 128 characters"));
    }
    let txn = state.db.begin_write().await?;
    if let Some(r) = &call_ref {
        if let Some(c) = call::Entity::find()
            .filter(call::Column::CtiRef.eq(r.as_str()))
            .one(&*txn)
            .await?
        {
            let m = call::ActiveModel {
                id: Set(c.id),
                channel: Set(input.channel),
                operator_id: Set(Some(c.operator_id.unwrap_or(p.user_id))),
                answered_at: Set(Some(c.answered_at.unwrap_or(now))),
                summary: Set(summary.or(c.summary)),
                ..Default::default()
            }
            .update(&*txn)
            .await?;
            txn.commit().await?;
            return CallView::from_model(m);
        }
    }
    let m = call::ActiveModel {
        id: Set(crate::db::new_id()),
        phone: Set(phone.map(|p| p.as_str().to_string())),
        phone_raw: Set(Some(raw.to_string())),
        channel: Set(input.channel),
        received_at: Set(received_at),
        duration_s: Set(None),
        operator_id: Set(Some(p.user_id)),
        case_id: Set(None),
        cti_ref: Set(call_ref),
        summary: Set(summary),
        created_at: Set(now),
        answered_at: Set(Some(now)),
        hangup_cause: Set(None),
        disposition: Set(None),
        topics: Set(None),
        disposition_notes: Set(None),
        disposed_by: Set(None),
        disposed_at: Set(None),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    CallView::from_model(m)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseBrief {
    pub id: Uuid,
    pub number: String,
    pub category: crate::vocab::Category,
    pub status: CaseStatus,
    pub risk_level: crate::vocab::RiskLevel,
    pub priority: crate::vocab::Priority,
    pub summary: String,
    pub created_at: DateTime<Utc>,
    pub open: bool,
    /// The case this one was closed into as a duplicate.
    pub duplicate_of: Option<Uuid>,
    /// Every case linked to this one (duplicates and related): the screen
    /// pop shows them as one group.
    pub linked_case_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallerHistory {
    /// The number normalised; null when it is no mainland number (then
    /// there is no history to show).
    pub phone: Option<String>,
    /// The number as asked for.
    pub caller_phone_raw: String,
    pub calls: Vec<CallView>,
    pub cases: Vec<CaseBrief>,
    /// The person on the county ledger with this number: flags, safe
    /// contact, last visit (no ID number, no address).
    pub ledger: Option<crate::ledger::view::LedgerSummary>,
}

/// The screen pop: earlier calls and cases, open cases first, newest first.
/// With a reader, only the cases in their scope (the rule of `GET /cases`)
/// and the calls linked to those; the telephone exchange's ringing pop
/// (no reader) goes to operators, who see all.
pub async fn history(
    state: &AppState,
    reader: Option<&Principal>,
    phone: &PhoneNumber,
) -> Result<CallerHistory> {
    let conn = &state.db.conn;
    let calls = call::Entity::find()
        .filter(call::Column::Phone.eq(phone.as_str()))
        .order_by_desc(call::Column::ReceivedAt)
        .limit(50)
        .all(conn)
        .await?;
    let linked: Vec<Uuid> = calls.iter().filter_map(|c| c.case_id).collect();
    let mut cond = Condition::any().add(case::Column::SubjectPhone.eq(phone.as_str()));
    if !linked.is_empty() {
        cond = cond.add(case::Column::Id.is_in(linked));
    }
    let mut query = case::Entity::find().filter(cond);
    let sees_all = reader.is_none_or(|p| matches!(p.role, Role::Operator | Role::Admin));
    if let Some(p) = reader {
        query = query.filter(scope::list_condition(p));
    }
    let cases = query
        .order_by_desc(case::Column::CreatedAt)
        .limit(50)
        .all(conn)
        .await?;
    let ledger = crate::ledger::link::summary_for_phone(conn, phone.as_str(), state.now()).await?;
    let visible: HashSet<Uuid> = cases.iter().map(|c| c.id).collect();
    let calls: Vec<CallView> = calls
        .into_iter()
        .filter(|c| sees_all || c.case_id.is_some_and(|id| visible.contains(&id)))
        .map(CallView::from_model)
        .collect::<Result<Vec<_>>>()?;
    let mut briefs: Vec<CaseBrief> = cases
        .into_iter()
        .map(|c| {
            let open = !matches!(c.status, CaseStatus::Resolved | CaseStatus::Closed);
            CaseBrief {
                id: c.id,
                number: c.number,
                category: c.category,
                status: c.status,
                risk_level: c.risk_level,
                priority: c.priority,
                summary: c.summary,
                created_at: c.created_at,
                open,
                duplicate_of: None,
                linked_case_ids: Vec::new(),
            }
        })
        .collect();
    group_linked(&state.db.conn, &mut briefs).await?;
    // Stable sort keeps newest-first inside each group.
    briefs.sort_by_key(|b| !b.open);
    Ok(CallerHistory {
        phone: Some(phone.as_str().to_string()),
        caller_phone_raw: phone.as_str().to_string(),
        calls,
        cases: briefs,
        ledger,
    })
}

/// Mark linked cases (one query for the whole pop).
async fn group_linked(
    conn: &impl sea_orm::ConnectionTrait,
    briefs: &mut [CaseBrief],
) -> Result<()> {
    let ids: Vec<Uuid> = briefs.iter().map(|b| b.id).collect();
    for l in crate::hotline::links::links_of(conn, &ids).await? {
        for b in briefs.iter_mut() {
            if b.id == l.case_id {
                b.linked_case_ids.push(l.other_case_id);
                if l.kind == crate::vocab::LinkKind::Duplicate {
                    b.duplicate_of = Some(l.other_case_id);
                }
            } else if b.id == l.other_case_id {
                b.linked_case_ids.push(l.case_id);
            }
        }
    }
    Ok(())
}

/// No mainland number, no history.
pub fn no_history(raw: &str) -> CallerHistory {
    CallerHistory {
        phone: None,
        caller_phone_raw: raw.to_string(),
        calls: Vec::new(),
        cases: Vec::new(),
        ledger: None,
    }
}

/// `GET /callers/{phone}`: scoped, and audited (`caller.lookup`: who, the
/// number masked, how many results).
pub async fn screen_pop(state: &AppState, p: &Principal, raw: &str) -> Result<CallerHistory> {
    p.require(&[Role::Operator, Role::Admin, Role::Supervisor])?;
    let raw = raw.trim();
    if raw.chars().count() > 64 {
        return Err(Error::validation("phone", "at most 64 characters"));
    }
    let (hist, masked) = match PhoneNumber::parse(raw) {
        Ok(phone) => (history(state, Some(p), &phone).await?, phone.masked()),
        Err(_) => (no_history(raw), crate::cases::model::mask(raw, 3, 4)),
    };
    let now = state.now();
    // The record that she was looked up: not synced before the answer
    // (`Db::begin_write_relaxed` says what a power cut may lose).
    let txn = state.db.begin_write_relaxed().await?;
    audit::append(
        &*txn,
        now,
        Some(p.user_id),
        "caller.lookup",
        format!("caller:{masked}"),
        json!({
            "phone": masked,
            "calls": hist.calls.len(),
            "cases": hist.cases.len(),
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(hist)
}
