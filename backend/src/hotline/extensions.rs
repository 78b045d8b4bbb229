//! Extensions (延期, issue 18): the handling unit asks before the resolve
//! deadline for more time, with a reason; the hotline or a supervisor of
//! the place approves (the deadline moves, `case.deadline_extended`) or
//! refuses. Asked after the deadline: 409 `too_late`; one open request at
//! a time: 409 `extension_pending`; decided once: 409 `extension_decided`.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::entity::extension;
use crate::{
    auth::Principal,
    cases::{
        moves,
        record::{event, required, text},
        scope::{self, Access},
    },
    error::{Error, Result},
    state::AppState,
    vocab::{CaseStatus, ExtensionStatus},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    /// The new resolve deadline asked for.
    pub until: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ExtensionDecisionBody)]
pub struct DecisionBody {
    pub note: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExtensionView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub status: ExtensionStatus,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub previous_due_at: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub reason: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

impl From<extension::Model> for ExtensionView {
    fn from(m: extension::Model) -> Self {
        ExtensionView {
            id: m.id,
            case_id: m.case_id,
            status: m.status,
            requested_by: m.requested_by,
            requested_at: m.requested_at,
            previous_due_at: m.previous_due_at,
            until: m.until_at,
            reason: m.reason,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            decision_note: m.decision_note,
        }
    }
}

fn conflict(code: &'static str, message: String) -> Error {
    Error::Conflict { code, message }
}

/// The handling unit asks for more time.
pub async fn request(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: ExtensionBody,
) -> Result<ExtensionView> {
    let reason = required("reason", &body.reason, 2000)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (c, access) = scope::load(&*w, p, case_id).await?;
    if access != Access::Handler {
        return Err(Error::Forbidden(
            "only the handling unit asks for an extension".into(),
        ));
    }
    let due = match (c.status, c.resolve_due_at) {
        (CaseStatus::Assigned | CaseStatus::InProgress, Some(due)) => due,
        _ => {
            return Err(Error::InvalidTransition(format!(
                "a case that is {} has no resolve deadline to extend",
                c.status
            )))
        }
    };
    if now >= due {
        return Err(conflict(
            "too_late",
            format!("办结时限 {due} 已过，延期须在到期前申请 / the deadline {due} has passed; ask before it"),
        ));
    }
    if body.until <= due || body.until > due + Duration::days(90) {
        return Err(Error::validation(
            "until",
            format!("must be after the current deadline {due} and at most 90 days beyond it"),
        ));
    }
    let pending = extension::Entity::find()
        .filter(extension::Column::CaseId.eq(case_id))
        .filter(extension::Column::Status.eq(ExtensionStatus::Pending.as_str()))
        .one(&*w)
        .await?;
    if let Some(e) = pending {
        return Err(conflict(
            "extension_pending",
            format!("an extension request ({}) awaits its decision", e.id),
        ));
    }
    let m = extension::ActiveModel {
        id: Set(crate::db::new_id()),
        case_id: Set(case_id),
        unit_id: Set(p.unit_id()),
        requested_by: Set(p.user_id),
        requested_at: Set(now),
        previous_due_at: Set(due),
        until_at: Set(body.until),
        reason: Set(reason.clone()),
        status: Set(ExtensionStatus::Pending),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
    }
    .insert(&*w)
    .await?;
    w.event(event(
        &c,
        "case.extension_requested",
        Some(p.user_id),
        now,
        json!({"extension_id": m.id, "until": body.until, "resolve_due_at": due, "reason": reason}),
    ));
    w.commit().await?;
    Ok(m.into())
}

/// The hotline or a supervisor of the place decides.
pub async fn decide(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    approve: bool,
    body: DecisionBody,
) -> Result<ExtensionView> {
    let note = match &body.note {
        Some(n) => text("note", n, 2000, false)?,
        None => None,
    };
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let e = extension::Entity::find_by_id(id)
        .one(&*w)
        .await?
        .ok_or(Error::NotFound("extension"))?;
    let (c, access) = scope::load(&*w, p, e.case_id).await.map_err(|e| match e {
        Error::NotFound(_) => Error::NotFound("extension"),
        other => other,
    })?;
    if !matches!(access, Access::Hotline | Access::Supervisor | Access::Admin) {
        return Err(Error::Forbidden(
            "the hotline or a supervisor decides an extension".into(),
        ));
    }
    if e.status != ExtensionStatus::Pending {
        return Err(conflict(
            "extension_decided",
            format!("this extension was {} already", e.status),
        ));
    }
    let status = if approve {
        ExtensionStatus::Approved
    } else {
        ExtensionStatus::Refused
    };
    let res = extension::Entity::update_many()
        .col_expr(extension::Column::Status, Expr::value(status.as_str()))
        .col_expr(extension::Column::DecidedBy, Expr::value(p.user_id))
        .col_expr(extension::Column::DecidedAt, Expr::value(now))
        .col_expr(extension::Column::DecisionNote, Expr::value(note.clone()))
        .filter(extension::Column::Id.eq(id))
        .filter(extension::Column::Status.eq(ExtensionStatus::Pending.as_str()))
        .exec(&*w)
        .await?;
    if res.rows_affected != 1 {
        return Err(conflict("extension_decided", "decided meanwhile".into()));
    }
    if approve {
        moves::extend_resolve(&mut w, &c, e.until_at, id, p.user_id).await?;
    } else {
        w.event(event(
            &c,
            "case.extension_refused",
            Some(p.user_id),
            now,
            json!({"extension_id": id, "until": e.until_at, "note": note}),
        ));
    }
    w.commit().await?;
    let m = extension::Entity::find_by_id(id)
        .one(&state.db.conn)
        .await?
        .ok_or(Error::NotFound("extension"))?;
    Ok(m.into())
}

/// A case's extension requests, newest first.
pub async fn of_case(state: &AppState, p: &Principal, case_id: Uuid) -> Result<Vec<ExtensionView>> {
    let conn = &state.db.conn;
    scope::load(conn, p, case_id).await?;
    Ok(extension::Entity::find()
        .filter(extension::Column::CaseId.eq(case_id))
        .order_by_desc(extension::Column::RequestedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}
