//! Scoped reads: one case with its timeline, and the case list with
//! filters and a keyset cursor that stays stable while cases are added.
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    scope,
    service::audit_reveal,
    view::{CaseDetail, CaseView},
};
use crate::{
    auth::Principal,
    db::entities::case,
    db::keyset,
    error::{Error, Result},
    escalation, events,
    state::AppState,
    vocab::{CaseStatus, Category},
};

pub async fn detail(state: &AppState, p: &Principal, id: Uuid, reveal: bool) -> Result<CaseDetail> {
    let conn = &state.db.conn;
    let (c, access) = scope::load(conn, p, id).await?;
    if reveal {
        if !access.may_unmask() {
            return Err(Error::Forbidden(
                "only the handling unit and the hotline may see full phone and ID numbers".into(),
            ));
        }
        audit_reveal(state, p, &c).await?;
    }
    let esc = escalation::latest_for_case(conn, &c, state.now()).await?;
    let mut timeline = events::timeline(conn, c.id).await?;
    if access == scope::Access::ReadOnly {
        // A unit that handled the case before a transfer (or a police unit
        // an escalation went to) reads the case header and what happened
        // while it was involved — the events its live feed carried — not
        // the notes and outcomes of whoever handles the case after it.
        let sees = crate::realtime::FeedScope::of(p);
        timeline.retain(|e| sees.sees(e));
    }
    Ok(CaseDetail {
        case: CaseView::build(&c, reveal, esc)?,
        danger_screen: c.danger_screen.clone(),
        timeline,
    })
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct ListQuery {
    pub status: Option<String>,
    pub category: Option<String>,
    pub unit_id: Option<Uuid>,
    pub overdue: Option<bool>,
    pub q: Option<String>,
    pub region_code: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

pub struct Page {
    pub items: Vec<CaseView>,
    pub next_cursor: Option<String>,
}

pub async fn list(state: &AppState, p: &Principal, q: ListQuery) -> Result<Page> {
    let conn = &state.db.conn;
    let mut cond = scope::list_condition(p);
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let mut any = Condition::any();
        for part in s.split(',') {
            let st = CaseStatus::parse(part.trim()).ok_or_else(|| {
                Error::validation(
                    "status",
                    format!("must be one of {}", CaseStatus::allowed()),
                )
            })?;
            any = any.add(case::Column::Status.eq(st.as_str()));
        }
        cond = cond.add(any);
    }
    if let Some(c) = q.category.as_deref().filter(|s| !s.is_empty()) {
        let cat = Category::parse(c).ok_or_else(|| {
            Error::validation(
                "category",
                format!("must be one of {}", Category::allowed()),
            )
        })?;
        cond = cond.add(case::Column::Category.eq(cat.as_str()));
    }
    if let Some(u) = q.unit_id {
        cond = cond.add(case::Column::AssignedUnitId.eq(u));
    }
    if q.overdue == Some(true) {
        cond = cond.add(case::Column::Overdue.eq(true));
    }
    if let Some(r) = q.region_code.as_deref().filter(|s| !s.is_empty()) {
        let code = crate::regions::parse_field("region_code", r)?;
        cond = cond.add(case::Column::RegionCode.starts_with(code.prefix()));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if text.chars().count() > 100 {
            return Err(Error::validation("q", "at most 100 characters"));
        }
        cond = cond.add(
            Condition::any()
                .add(case::Column::Number.contains(text))
                .add(case::Column::Summary.contains(text)),
        );
    }
    if let Some(cursor) = q.cursor.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(keyset::after(
            case::Column::CreatedAt,
            case::Column::Id,
            cursor,
        )?);
    }
    let limit = keyset::limit(q.limit);
    let mut rows = case::Entity::find()
        .filter(cond)
        .order_by_desc(case::Column::CreatedAt)
        .order_by_desc(case::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| keyset::encode(r.created_at, r.id))
    } else {
        None
    };
    let now = state.now();
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let mut escalations = escalation::latest_for_cases(conn, &ids, now).await?;
    let items = rows
        .iter()
        .map(|c| CaseView::build(c, false, escalations.remove(&c.id)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, next_cursor })
}
