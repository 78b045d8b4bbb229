//! Escalations as the API shows them, with their actions and whether a
//! clock has passed unmet.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    db::entities::{case, escalation, escalation_action},
    error::Result,
    vocab::{ActionKind, EscalationStatus, Urgency},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    pub kind: ActionKind,
    pub notes: String,
    pub at: DateTime<Utc>,
    pub by: Uuid,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EscalationView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
    pub urgency: Urgency,
    pub level: i16,
    pub status: EscalationStatus,
    pub police_unit_id: Option<Uuid>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub ack_due_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Uuid>,
    pub action_due_at: DateTime<Utc>,
    pub first_action_at: Option<DateTime<Utc>>,
    pub next_raise_at: Option<DateTime<Utc>>,
    pub actions: Vec<ActionView>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    /// True when the acknowledgement or first-action deadline has passed
    /// unmet.
    pub overdue: bool,
    pub version: i32,
    /// The 110 incident or dispatch record number, when known.
    pub external_ref: Option<String>,
}

fn view_of(
    e: &escalation::Model,
    case_number: &str,
    actions: Vec<ActionView>,
    now: DateTime<Utc>,
) -> Result<EscalationView> {
    let status = e.status;
    let overdue = match status {
        EscalationStatus::Pending => now > e.ack_due_at,
        EscalationStatus::Acknowledged => e.first_action_at.is_none() && now > e.action_due_at,
        EscalationStatus::Resolved => false,
    };
    Ok(EscalationView {
        id: e.id,
        case_id: e.case_id,
        case_number: case_number.to_string(),
        urgency: e.urgency,
        level: e.level,
        status,
        police_unit_id: e.police_unit_id,
        reason: e.reason.clone(),
        created_at: e.created_at,
        ack_due_at: e.ack_due_at,
        acknowledged_at: e.acknowledged_at,
        acknowledged_by: e.acknowledged_by,
        action_due_at: e.action_due_at,
        first_action_at: e.first_action_at,
        next_raise_at: e.next_raise_at,
        actions,
        resolved_at: e.resolved_at,
        resolution: e.resolution.clone(),
        overdue,
        version: e.version,
        external_ref: e.external_ref.clone(),
    })
}

async fn actions_of(conn: &impl ConnectionTrait, id: Uuid) -> Result<Vec<ActionView>> {
    escalation_action::Entity::find()
        .filter(escalation_action::Column::EscalationId.eq(id))
        .order_by_asc(escalation_action::Column::At)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| {
            Ok(ActionView {
                kind: a.kind,
                notes: a.notes,
                at: a.at,
                by: a.by_user,
            })
        })
        .collect::<Result<Vec<_>>>()
}

pub async fn view(
    conn: &impl ConnectionTrait,
    e: &escalation::Model,
    case_number: &str,
    now: DateTime<Utc>,
) -> Result<EscalationView> {
    view_of(e, case_number, actions_of(conn, e.id).await?, now)
}

/// Views of many escalations with two queries in all (their actions and
/// their case numbers), for lists.
pub async fn views(
    conn: &impl ConnectionTrait,
    rows: Vec<escalation::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<EscalationView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let mut actions: HashMap<Uuid, Vec<ActionView>> = Default::default();
    for a in escalation_action::Entity::find()
        .filter(escalation_action::Column::EscalationId.is_in(ids))
        .order_by_asc(escalation_action::Column::At)
        .all(conn)
        .await?
    {
        actions
            .entry(a.escalation_id)
            .or_default()
            .push(ActionView {
                kind: a.kind,
                notes: a.notes,
                at: a.at,
                by: a.by_user,
            });
    }
    let case_ids: Vec<Uuid> = rows.iter().map(|e| e.case_id).collect();
    let numbers: HashMap<Uuid, String> = case::Entity::find()
        .filter(case::Column::Id.is_in(case_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.number))
        .collect();
    rows.iter()
        .map(|e| {
            let number = numbers
                .get(&e.case_id)
                .map(String::as_str)
                .unwrap_or_default();
            view_of(e, number, actions.remove(&e.id).unwrap_or_default(), now)
        })
        .collect::<Result<Vec<_>>>()
}

/// The most recent escalation of each case, keyed by case id (for case
/// lists: three queries whatever the page size).
pub async fn latest_for_cases(
    conn: &impl ConnectionTrait,
    case_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, EscalationView>> {
    if case_ids.is_empty() {
        return Ok(Default::default());
    }
    let mut latest: HashMap<Uuid, escalation::Model> = Default::default();
    for e in escalation::Entity::find()
        .filter(escalation::Column::CaseId.is_in(case_ids.to_vec()))
        .order_by_asc(escalation::Column::CreatedAt)
        .all(conn)
        .await?
    {
        latest.insert(e.case_id, e);
    }
    Ok(views(conn, latest.into_values().collect(), now)
        .await?
        .into_iter()
        .map(|v| (v.case_id, v))
        .collect())
}

/// A case's latest escalation with its actions, as read: its view at any
/// later moment is [`Latest::view_at`] (whether a clock has passed is
/// decided then). Kept with the case in `events::CaseCache`.
#[derive(Debug, Clone)]
pub struct Latest {
    pub row: escalation::Model,
    pub actions: Vec<ActionView>,
}

impl Latest {
    pub fn view_at(&self, case_number: &str, now: DateTime<Utc>) -> Result<EscalationView> {
        view_of(&self.row, case_number, self.actions.clone(), now)
    }
}

/// The most recent escalation of a case with its actions.
pub async fn latest_of_case(conn: &impl ConnectionTrait, case_id: Uuid) -> Result<Option<Latest>> {
    let e = escalation::Entity::find()
        .filter(escalation::Column::CaseId.eq(case_id))
        .order_by_desc(escalation::Column::CreatedAt)
        .one(conn)
        .await?;
    match e {
        Some(row) => Ok(Some(Latest {
            actions: actions_of(conn, row.id).await?,
            row,
        })),
        None => Ok(None),
    }
}

/// The most recent escalation of a case, for the case view.
pub async fn latest_for_case(
    conn: &impl ConnectionTrait,
    c: &case::Model,
    now: DateTime<Utc>,
) -> Result<Option<EscalationView>> {
    latest_of_case(conn, c.id)
        .await?
        .map(|l| l.view_at(&c.number, now))
        .transpose()
}
