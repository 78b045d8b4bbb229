//! Scoped reads: one case with its timeline, and the case list with
//! filters and a keyset cursor that stays stable while cases are added.
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

use super::{
    model::PhoneNumber,
    scope::{self, CaseRecord},
    service::audit_reveal,
    view::{CaseDetail, CaseView, Timeline},
};
use crate::{
    auth::Principal,
    db::entities::case,
    db::keyset,
    error::{Error, Result},
    escalation,
    state::AppState,
    vocab::{CaseStatus, Category, RiskLevel},
};

pub async fn detail(state: &AppState, p: &Principal, id: Uuid, reveal: bool) -> Result<CaseDetail> {
    let conn = &state.db.conn;
    let read = held_or_read(state, id).await?;
    let access = scope::access_to(p, &read)?;
    let c = &read.case;
    if reveal {
        if !access.may_unmask() {
            return Err(Error::Forbidden(
                "only the handling unit and the hotline may see full phone and ID numbers".into(),
            ));
        }
        audit_reveal(state, p, c).await?;
    }
    let esc = match &read.escalation {
        Some(latest) => Some(latest.view_at(&c.number, state.now())?),
        None => None,
    };
    let all = state.timelines.timeline(conn, c.id, read.last_seq).await?;
    let timeline = if access == scope::Access::ReadOnly {
        // A unit that handled the case before a transfer (or a police unit
        // an escalation went to) reads the case header and what happened
        // while it was involved — the events its live feed carried — not
        // the notes and outcomes of whoever handles the case after it.
        let sees = crate::realtime::FeedScope::of(p);
        Timeline::Seen(all.iter().filter(|e| sees.sees(e)).cloned().collect())
    } else {
        Timeline::All(all)
    };
    let case = CaseView::build(c, reveal, esc)?;
    Ok(CaseDetail {
        case,
        danger_screen: c.danger_screen.clone(),
        timeline,
    })
}

/// The case as held in memory (`events::CaseCache`), else as read now (and
/// then held, unless it changed while it was read).
async fn held_or_read(state: &AppState, id: Uuid) -> Result<Arc<CaseRecord>> {
    let lease = match state.cases.get(id) {
        crate::events::Lookup::Hit(r) => {
            metrics::counter!("lianxin_case_cache_total", "result" => "hit").increment(1);
            return Ok(r);
        }
        crate::events::Lookup::Miss(lease) => lease,
    };
    metrics::counter!("lianxin_case_cache_total", "result" => "miss").increment(1);
    match scope::record(&state.db.conn, id).await {
        Ok(read) => {
            let read = Arc::new(read);
            state.cases.fill(lease, read.clone());
            Ok(read)
        }
        Err(e) => {
            state.cases.abandon(lease);
            Err(e)
        }
    }
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct ListQuery {
    /// Statuses, comma-separated.
    pub status: Option<String>,
    pub category: Option<String>,
    /// The unit the case is assigned to.
    pub unit_id: Option<Uuid>,
    pub overdue: Option<bool>,
    /// Risk levels, comma-separated (`none,elevated,high,imminent`).
    pub risk: Option<String>,
    /// Opened on or after: a day `YYYY-MM-DD` (Beijing time) or an
    /// RFC 3339 instant.
    pub from: Option<String>,
    /// Opened on or before a day `YYYY-MM-DD` (Beijing time, the whole day),
    /// or before an RFC 3339 instant.
    pub to: Option<String>,
    /// A case number or its beginning (`2026-0001`); a phone number in any
    /// form (`138 1234 5678`, `+86…`) — the hotline's and, for its own
    /// cases, the handling unit's search; 403 for the roles that see
    /// numbers masked; otherwise words of the number, the summary or the
    /// subject's name.
    pub q: Option<String>,
    /// A region: the cases at it or below it.
    pub region_code: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

pub struct Page {
    pub items: Vec<CaseView>,
    pub next_cursor: Option<String>,
}

/// A comma-separated list of enumeration values as one `any` condition.
fn any_of<T: Copy>(
    field: &str,
    list: &str,
    parse: fn(&str) -> Option<T>,
    allowed: fn() -> String,
    cond: impl Fn(T) -> sea_orm::sea_query::SimpleExpr,
) -> Result<Condition> {
    let mut any = Condition::any();
    for part in list.split(',') {
        let v = parse(part.trim())
            .ok_or_else(|| Error::validation(field, format!("must be one of {}", allowed())))?;
        any = any.add(cond(v));
    }
    Ok(any)
}

/// A `from`/`to` bound: a Beijing day (its start, or for `to` the start of
/// the next day) or an RFC 3339 instant, within the years 2000–2100.
fn bound(field: &str, raw: &str, end_of_day: bool) -> Result<DateTime<Utc>> {
    let bad = || Error::validation(field, "must be a day YYYY-MM-DD or an RFC 3339 time");
    let at = match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(day) => {
            let day = if end_of_day {
                day.succ_opt().ok_or_else(bad)?
            } else {
                day
            };
            let beijing = FixedOffset::east_opt(8 * 3600).ok_or_else(bad)?;
            day.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(beijing).single())
                .ok_or_else(bad)?
                .with_timezone(&Utc)
        }
        Err(_) => DateTime::parse_from_rfc3339(raw)
            .map_err(|_| bad())?
            .with_timezone(&Utc),
    };
    if !(2000..=2100).contains(&at.year()) {
        return Err(Error::validation(
            field,
            "must lie in the years 2000 to 2100",
        ));
    }
    Ok(at)
}

/// The filters of the list other than the search text and the cursor.
fn filters(q: &ListQuery) -> Result<Condition> {
    let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let mut cond = Condition::all();
    if let Some(s) = given(&q.status) {
        let by = |v: CaseStatus| case::Column::Status.eq(v.as_str());
        cond = cond.add(any_of(
            "status",
            &s,
            CaseStatus::parse,
            CaseStatus::allowed,
            by,
        )?);
    }
    if let Some(r) = given(&q.risk) {
        let by = |v: RiskLevel| case::Column::RiskLevel.eq(v.as_str());
        cond = cond.add(any_of(
            "risk",
            &r,
            RiskLevel::parse,
            RiskLevel::allowed,
            by,
        )?);
    }
    if let Some(c) = given(&q.category) {
        let by = |v: Category| case::Column::Category.eq(v.as_str());
        cond = cond.add(any_of(
            "category",
            &c,
            Category::parse,
            Category::allowed,
            by,
        )?);
    }
    if let Some(u) = q.unit_id {
        cond = cond.add(case::Column::AssignedUnitId.eq(u));
    }
    if q.overdue == Some(true) {
        cond = cond.add(case::Column::Overdue.eq(true));
    }
    if let Some(r) = given(&q.region_code) {
        let code = crate::regions::parse_field("region_code", &r)?;
        cond = cond.add(case::Column::RegionCode.starts_with(code.prefix()));
    }
    let from = given(&q.from)
        .map(|f| bound("from", f.trim(), false))
        .transpose()?;
    let to = given(&q.to)
        .map(|t| bound("to", t.trim(), true))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(Error::validation("from", "must be before `to`"));
        }
    }
    if let Some(f) = from {
        cond = cond.add(case::Column::CreatedAt.gte(f));
    }
    if let Some(t) = to {
        cond = cond.add(case::Column::CreatedAt.lt(t));
    }
    Ok(cond)
}

/// `2026-0001`: the beginning of a case number (`YYYY-NNNNNN`).
fn number_prefix(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 5
        && b.len() <= 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..].iter().all(u8::is_ascii_digit)
}

/// What the search text matches. A number's beginning is a range on the
/// unique index of `number` (bytewise: the column is collated "C" on
/// PostgreSQL); a phone number is an equality on the indexed, normalised
/// `subject_phone`, within the cases the principal reads unmasked; other
/// text is a substring of the number, the summary or the subject's name.
fn search(p: &Principal, text: &str) -> Result<Condition> {
    if text.chars().count() > 100 {
        return Err(Error::validation("q", "at most 100 characters"));
    }
    if number_prefix(text) {
        let mut upper = text.as_bytes().to_vec();
        if let Some(last) = upper.last_mut() {
            *last += 1; // '-' → '.', '9' → ':': still ASCII
        }
        let upper = String::from_utf8_lossy(&upper).into_owned();
        return Ok(Condition::all()
            .add(case::Column::Number.gte(text))
            .add(case::Column::Number.lt(upper)));
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if digits >= 7 {
        if let Ok(phone) = PhoneNumber::parse(text) {
            let Some(within) = scope::unmasked_condition(p) else {
                return Err(Error::Forbidden(
                    "searching by phone number is for the hotline and the handling unit: \
                     this role sees phone numbers masked"
                        .into(),
                ));
            };
            return Ok(within.add(case::Column::SubjectPhone.eq(phone.as_str())));
        }
    }
    Ok(Condition::any()
        .add(case::Column::Number.contains(text))
        .add(case::Column::Summary.contains(text))
        .add(case::Column::SubjectName.contains(text)))
}

pub async fn list(state: &AppState, p: &Principal, q: ListQuery) -> Result<Page> {
    let conn = &state.db.conn;
    let mut cond = scope::list_condition(p).add(filters(&q)?);
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        cond = cond.add(search(p, text)?);
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
