//! Reading measures: one (in the case's scope, else 404), a case's, and
//! the scoped list with its filters and a keyset cursor. Who reads them is
//! who reads the case: the handling unit, the police station and the
//! village committee they were served on (case handlers), the region's
//! supervisors, the hotline.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Query, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    entity::{measure, violation, visit},
    view::{decision_due, view_of, MeasureView, Parts},
};
use crate::{
    auth::Principal,
    cases::scope,
    config::Settings,
    db::entities::case,
    db::keyset,
    error::{Error, Result},
    state::AppState,
    vocab::{MeasureKind, MeasureOutcome, MeasureStatus},
};

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub kind: Option<MeasureKind>,
    /// `pending`, `in_force`, `expired`, `rejected`, `withdrawn`.
    pub status: Option<MeasureStatus>,
    /// Granted orders that expire within this many days.
    pub expiring_within_days: Option<i64>,
    /// A decision or a visit past its time.
    pub overdue: Option<bool>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MeasurePage {
    pub items: Vec<MeasureView>,
    pub next_cursor: Option<String>,
}

/// The measure and its case, if the principal may read the case.
pub async fn load(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
) -> Result<(measure::Model, case::Model, scope::Access)> {
    let m = measure::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("measure"))?;
    let (c, access) = scope::load(conn, p, m.case_id)
        .await
        .map_err(|_| Error::NotFound("measure"))?;
    Ok((m, c, access))
}

/// Views of measures with three queries in all.
pub async fn views(
    conn: &impl ConnectionTrait,
    settings: &Settings,
    rows: Vec<measure::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<MeasureView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut visits: HashMap<Uuid, Vec<visit::Model>> = HashMap::new();
    for v in visit::Entity::find()
        .filter(visit::Column::MeasureId.is_in(ids.clone()))
        .order_by_asc(visit::Column::DueAt)
        .all(conn)
        .await?
    {
        visits.entry(v.measure_id).or_default().push(v);
    }
    let mut violations: HashMap<Uuid, Vec<violation::Model>> = HashMap::new();
    for v in violation::Entity::find()
        .filter(violation::Column::MeasureId.is_in(ids))
        .order_by_asc(violation::Column::At)
        .all(conn)
        .await?
    {
        violations.entry(v.measure_id).or_default().push(v);
    }
    let case_ids: Vec<Uuid> = rows.iter().map(|m| m.case_id).collect();
    let numbers: HashMap<Uuid, String> = case::Entity::find()
        .filter(case::Column::Id.is_in(case_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.number))
        .collect();
    let s = &settings.measures;
    rows.iter()
        .map(|m| {
            let parts = Parts {
                case_number: numbers
                    .get(&m.case_id)
                    .map(String::as_str)
                    .unwrap_or_default(),
                visits: visits.remove(&m.id).unwrap_or_default(),
                violations: violations.remove(&m.id).unwrap_or_default(),
                decision_due_at: decision_due(m, s.decision_s, s.decision_urgent_s),
            };
            view_of(m, parts, now)
        })
        .collect()
}

pub async fn view(state: &AppState, m: &measure::Model) -> Result<MeasureView> {
    let mut v = views(
        &state.db.conn,
        &state.settings,
        vec![m.clone()],
        state.now(),
    )
    .await?;
    v.pop().ok_or(Error::NotFound("measure"))
}

pub async fn get(state: &AppState, p: &Principal, id: Uuid) -> Result<MeasureView> {
    let (m, _, _) = load(&state.db.conn, p, id).await?;
    view(state, &m).await
}

/// The measures of a case the principal may read, oldest first.
pub async fn for_case(state: &AppState, p: &Principal, case_id: Uuid) -> Result<Vec<MeasureView>> {
    let conn = &state.db.conn;
    scope::load(conn, p, case_id).await?;
    let rows = measure::Entity::find()
        .filter(measure::Column::CaseId.eq(case_id))
        .order_by_asc(measure::Column::CreatedAt)
        .all(conn)
        .await?;
    views(conn, &state.settings, rows, state.now()).await
}

fn status_condition(s: MeasureStatus, now: DateTime<Utc>) -> Condition {
    let granted = Condition::all().add(measure::Column::Outcome.eq(MeasureOutcome::Granted));
    match s {
        MeasureStatus::Pending => {
            Condition::all().add(measure::Column::Outcome.eq(MeasureOutcome::Pending))
        }
        MeasureStatus::Rejected => {
            Condition::all().add(measure::Column::Outcome.eq(MeasureOutcome::Rejected))
        }
        MeasureStatus::Withdrawn => {
            Condition::all().add(measure::Column::Outcome.eq(MeasureOutcome::Withdrawn))
        }
        MeasureStatus::InForce => granted.add(
            Condition::any()
                .add(measure::Column::ExpiresAt.is_null())
                .add(measure::Column::ExpiresAt.gt(now)),
        ),
        MeasureStatus::Expired => granted.add(measure::Column::ExpiresAt.lte(now)),
    }
}

/// A protection order past its decision time, or a visit past due.
fn overdue_condition(settings: &Settings, now: DateTime<Utc>) -> Condition {
    let s = &settings.measures;
    let late = |urgent: bool, secs: i64| {
        Condition::all()
            .add(measure::Column::Urgent.eq(urgent))
            .add(measure::Column::AppliedAt.lte(now - Duration::seconds(secs)))
    };
    Condition::any()
        .add(
            Condition::all()
                .add(measure::Column::Kind.eq(MeasureKind::ProtectionOrder))
                .add(measure::Column::Outcome.eq(MeasureOutcome::Pending))
                .add(
                    Condition::any()
                        .add(late(true, s.decision_urgent_s))
                        .add(late(false, s.decision_s)),
                ),
        )
        .add(
            measure::Column::Id.in_subquery(
                Query::select()
                    .column(visit::Column::MeasureId)
                    .from(visit::Entity)
                    .and_where(visit::Column::DoneAt.is_null())
                    .and_where(visit::Column::DueAt.lte(now))
                    .to_owned(),
            ),
        )
}

pub async fn list(state: &AppState, p: &Principal, q: ListQuery) -> Result<MeasurePage> {
    let now = state.now();
    let conn = &state.db.conn;
    let cases = Query::select()
        .column(case::Column::Id)
        .from(case::Entity)
        .cond_where(scope::list_condition(p))
        .to_owned();
    let mut cond = Condition::all().add(measure::Column::CaseId.in_subquery(cases));
    if let Some(k) = q.kind {
        cond = cond.add(measure::Column::Kind.eq(k));
    }
    if let Some(s) = q.status {
        cond = cond.add(status_condition(s, now));
    }
    if let Some(days) = q.expiring_within_days {
        if !(0..=3650).contains(&days) {
            return Err(Error::validation("expiring_within_days", "0 to 3650"));
        }
        cond = cond
            .add(measure::Column::Outcome.eq(MeasureOutcome::Granted))
            .add(measure::Column::ExpiresAt.gt(now))
            .add(measure::Column::ExpiresAt.lte(now + Duration::days(days)));
    }
    if q.overdue == Some(true) {
        cond = cond.add(overdue_condition(&state.settings, now));
    }
    if let Some(cursor) = q.cursor.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(keyset::after(
            measure::Column::CreatedAt,
            measure::Column::Id,
            cursor,
        )?);
    }
    let limit = keyset::limit(q.limit);
    let mut rows = measure::Entity::find()
        .filter(cond)
        .order_by_desc(measure::Column::CreatedAt)
        .order_by_desc(measure::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|m| keyset::encode(m.created_at, m.id))
    } else {
        None
    };
    Ok(MeasurePage {
        items: views(conn, &state.settings, rows, now).await?,
        next_cursor,
    })
}
