//! The police liaison's use cases — acknowledge, record an action,
//! resolve — and reading, listing and hand escalation. One unit of work
//! each; a concurrent change wins by version and this one gets 409.
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    chain::may_work,
    engine::event,
    kinds::{ACK_DEADLINE, ACTION_DEADLINE},
    opening::open,
    view::{view, views, EscalationView},
};
use crate::{
    auth::Principal,
    cases::scope,
    db::entities::{case, escalation, escalation_action},
    error::{Error, Result},
    state::AppState,
    vocab::{ActionKind, EscalationStatus, Role, Urgency},
};

// ---- police liaison actions -------------------------------------------------

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EscalationVersionBody)]
pub struct VersionBody {
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub kind: ActionKind,
    #[serde(default)]
    pub notes: String,
    pub version: Option<i32>,
    /// `warning_issued`: the written warning's number (it becomes a measure).
    pub number: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    pub summary: String,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEscalation {
    pub urgency: Urgency,
    pub reason: String,
}

/// May the principal see this escalation? Police: their unit is in the
/// chain (case handlers); supervisors: region; hotline and admin: all;
/// case handlers: read.
pub(super) async fn load_visible(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
) -> Result<(escalation::Model, case::Model, scope::Access)> {
    let e = escalation::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("escalation"))?;
    let (c, access) = scope::load(conn, p, e.case_id)
        .await
        .map_err(|_| Error::NotFound("escalation"))?;
    Ok((e, c, access))
}

/// The escalation and its case, if the principal may read it (else 404),
/// may work it (else 403) and saw its current version (else 409).
pub(super) async fn load_workable(
    state: &AppState,
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
    version: Option<i32>,
) -> Result<(escalation::Model, case::Model)> {
    let (e, c, access) = load_visible(conn, p, id).await?;
    may_work(&state.directory, conn, p, &e, &c, access).await?;
    check_version(&e, version)?;
    Ok((e, c))
}

pub(super) fn check_version(e: &escalation::Model, version: Option<i32>) -> Result<()> {
    match version {
        Some(v) if v != e.version => Err(Error::VersionConflict),
        _ => Ok(()),
    }
}

pub(super) async fn cas_update(
    conn: &impl ConnectionTrait,
    e: &escalation::Model,
    mut am: escalation::ActiveModel,
) -> Result<escalation::Model> {
    // Compare-and-set on version: a concurrent change wins, this one gets 409.
    am.version = Set(e.version + 1);
    let res = escalation::Entity::update_many()
        .set(am)
        .filter(escalation::Column::Id.eq(e.id))
        .filter(escalation::Column::Version.eq(e.version))
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    escalation::Entity::find_by_id(e.id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("escalation"))
}

pub async fn acknowledge(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: VersionBody,
) -> Result<EscalationView> {
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (e, c) = load_workable(state, &*w, p, id, body.version).await?;
    if e.status != EscalationStatus::Pending {
        return Err(Error::InvalidTransition(format!(
            "the escalation is already {}",
            e.status
        )));
    }
    let updated = cas_update(
        &*w,
        &e,
        escalation::ActiveModel {
            status: Set(EscalationStatus::Acknowledged),
            acknowledged_at: Set(Some(now)),
            acknowledged_by: Set(Some(p.user_id)),
            next_raise_at: Set(None),
            ..Default::default()
        },
    )
    .await?;
    w.cancel(e.id, &[ACK_DEADLINE]).await?;
    w.event(event(
        &c,
        &updated,
        "escalation.acknowledged",
        Some(p.user_id),
        now,
        json!({
            "escalation_id": e.id,
            "level": e.level,
            "by": p.user_id,
            "by_name": p.display_name,
            "seconds_to_acknowledge": (now - e.created_at).num_seconds(),
        }),
    ));
    metrics::histogram!("lianxin_escalation_time_to_acknowledge_seconds", "urgency" => e.urgency.as_str())
        .record((now - e.created_at).num_milliseconds() as f64 / 1000.0);
    w.commit().await?;
    view(&state.db.conn, &updated, &c.number, now).await
}

pub async fn record_action(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ActionBody,
) -> Result<EscalationView> {
    let now = state.now();
    if body.notes.chars().count() > 4000 {
        return Err(Error::validation("notes", "at most 4000 characters"));
    }
    let mut w = state.work_at(now).await?;
    let (e, c) = load_workable(state, &*w, p, id, body.version).await?;
    if e.status != EscalationStatus::Acknowledged {
        return Err(Error::InvalidTransition(format!(
            "actions are recorded on an acknowledged escalation; this one is {}",
            e.status
        )));
    }
    escalation_action::Entity::insert(escalation_action::ActiveModel {
        id: Set(crate::db::new_id()),
        escalation_id: Set(e.id),
        kind: Set(body.kind),
        notes: Set(body.notes.trim().to_string()),
        at: Set(now),
        by_user: Set(p.user_id),
    })
    .exec_without_returning(&*w)
    .await?;
    let updated = cas_update(
        &*w,
        &e,
        escalation::ActiveModel {
            first_action_at: Set(Some(e.first_action_at.unwrap_or(now))),
            ..Default::default()
        },
    )
    .await?;
    w.cancel(e.id, &[ACTION_DEADLINE]).await?;
    w.event(event(
        &c,
        &updated,
        "escalation.action_recorded",
        Some(p.user_id),
        now,
        json!({
            "escalation_id": e.id,
            "kind": body.kind,
            "notes": body.notes.trim(),
        }),
    ));
    if body.kind == ActionKind::WarningIssued {
        super::warning::warning_measure(&mut w, state, &c, body.number, p).await?;
    }
    w.commit().await?;
    view(&state.db.conn, &updated, &c.number, now).await
}

pub async fn resolve(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ResolveBody,
) -> Result<EscalationView> {
    let now = state.now();
    let summary = body.summary.trim();
    if summary.is_empty() {
        return Err(Error::validation("summary", "must not be empty"));
    }
    let mut w = state.work_at(now).await?;
    let (e, c) = load_workable(state, &*w, p, id, body.version).await?;
    if e.status != EscalationStatus::Acknowledged {
        return Err(Error::InvalidTransition(format!(
            "only an acknowledged escalation can be resolved; this one is {}",
            e.status
        )));
    }
    let updated = cas_update(
        &*w,
        &e,
        escalation::ActiveModel {
            status: Set(EscalationStatus::Resolved),
            resolved_at: Set(Some(now)),
            resolution: Set(Some(summary.to_string())),
            ..Default::default()
        },
    )
    .await?;
    w.cancel(e.id, &[ACK_DEADLINE, ACTION_DEADLINE]).await?;
    w.event(event(
        &c,
        &updated,
        "escalation.resolved",
        Some(p.user_id),
        now,
        json!({
            "escalation_id": e.id,
            "summary": summary,
        }),
    ));
    w.commit().await?;
    view(&state.db.conn, &updated, &c.number, now).await
}

pub async fn get(state: &AppState, p: &Principal, id: Uuid) -> Result<EscalationView> {
    let (e, c, _) = load_visible(&state.db.conn, p, id).await?;
    view(&state.db.conn, &e, &c.number, state.now()).await
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct ListQuery {
    pub status: Option<String>,
    pub overdue: Option<bool>,
    pub limit: Option<u64>,
}

pub async fn list(state: &AppState, p: &Principal, q: ListQuery) -> Result<Vec<EscalationView>> {
    let now = state.now();
    let conn = &state.db.conn;
    let mut query = escalation::Entity::find()
        .filter(
            escalation::Column::CaseId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(case::Column::Id)
                    .from(case::Entity)
                    .cond_where(scope::list_condition(p))
                    .to_owned(),
            ),
        )
        .order_by_desc(escalation::Column::CreatedAt);
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let status = EscalationStatus::parse(s).ok_or_else(|| {
            Error::validation(
                "status",
                format!("must be one of {}", EscalationStatus::allowed()),
            )
        })?;
        query = query.filter(escalation::Column::Status.eq(status.as_str()));
    }
    if q.overdue == Some(true) {
        query = query.filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(escalation::Column::Status.eq(EscalationStatus::Pending.as_str()))
                        .add(escalation::Column::AckDueAt.lt(now)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(escalation::Column::Status.eq(EscalationStatus::Acknowledged.as_str()))
                        .add(escalation::Column::FirstActionAt.is_null())
                        .add(escalation::Column::ActionDueAt.lt(now)),
                ),
        );
    }
    let limit = crate::db::keyset::limit(q.limit);
    let rows = query.limit(limit).all(conn).await?;
    views(conn, rows, now).await
}

/// `POST /cases/{id}/escalations`: an operator, or the station worker or
/// mediator handling the case (a dispute that may turn into a crime must be
/// reported to the police).
pub async fn escalate_by_hand(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: NewEscalation,
) -> Result<EscalationView> {
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(Error::validation("reason", "must not be empty"));
    }
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (c, access) = scope::load(&*w, p, case_id).await?;
    let allowed = match p.role {
        Role::Operator => true,
        Role::StationWorker | Role::Mediator | Role::Department => access == scope::Access::Handler,
        Role::Supervisor => access == scope::Access::Supervisor,
        _ => false,
    };
    if !allowed {
        return Err(Error::Forbidden(format!(
            "the role {} may not escalate this case",
            p.role
        )));
    }
    if c.status == crate::vocab::CaseStatus::Closed {
        return Err(Error::InvalidTransition(
            "cannot escalate a closed case".into(),
        ));
    }
    let e = open(
        &mut w,
        &state.settings,
        &state.directory,
        &c,
        body.urgency,
        reason,
        Some(p.user_id),
    )
    .await?;
    // The case's risk follows the escalation up, never down.
    let wanted = match body.urgency {
        Urgency::Imminent => crate::vocab::RiskLevel::Imminent,
        Urgency::High => crate::vocab::RiskLevel::High,
    };
    let current = c.risk_level;
    if wanted.rank() > current.rank() {
        case::Entity::update_many()
            .col_expr(case::Column::RiskLevel, Expr::value(wanted.as_str()))
            .col_expr(
                case::Column::Version,
                Expr::col(case::Column::Version).add(1),
            )
            .col_expr(case::Column::UpdatedAt, Expr::value(now))
            .filter(case::Column::Id.eq(c.id))
            .exec(&*w)
            .await?;
    }
    w.commit().await?;
    view(&state.db.conn, &e, &c.number, now).await
}
