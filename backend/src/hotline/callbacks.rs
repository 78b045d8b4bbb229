//! The hotline's callback queue (issue 18): missed calls first, then by
//! due time; an attempt at a time (three unreachable close it); the result,
//! where an `unsatisfied` answer about the handling reopens the case.
//! The queue is the hotline's: operators and administrators work it;
//! supervisors read their region's callbacks (those of its cases).
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    entity::callback,
    view::{attempts_of, decorations, reader_region, Attempt, CallbackView},
};
use crate::{
    audit,
    auth::Principal,
    cases::rehandle,
    db::entities::case,
    error::{Error, Result},
    regions::RegionCode,
    state::AppState,
    vocab::{CallbackKind, CallbackStatus, DissatisfactionReason, Role, Satisfaction},
};

const HOTLINE: &[Role] = &[Role::Operator, Role::Admin];
const READERS: &[Role] = &[Role::Operator, Role::Admin, Role::Supervisor];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    /// Default `open`.
    pub status: Option<CallbackStatus>,
    pub kind: Option<CallbackKind>,
    pub due_before: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

pub struct Page {
    pub items: Vec<CallbackView>,
    pub next_cursor: Option<String>,
}

fn encode(m: &callback::Model) -> String {
    format!(
        "{}.{}.{}",
        m.queue_rank,
        m.due_at.timestamp_micros(),
        m.id.simple()
    )
}

fn after(cursor: &str) -> Result<Condition> {
    let bad = || Error::validation("cursor", "is not a cursor from this list");
    let mut it = cursor.splitn(3, '.');
    let rank: i32 = it.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let micros: i64 = it.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let due = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?;
    let id = it
        .next()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(bad)?;
    use callback::Column as C;
    Ok(Condition::any()
        .add(C::QueueRank.gt(rank))
        .add(
            Condition::all()
                .add(C::QueueRank.eq(rank))
                .add(C::DueAt.gt(due)),
        )
        .add(
            Condition::all()
                .add(C::QueueRank.eq(rank))
                .add(C::DueAt.eq(due))
                .add(C::Id.gt(id)),
        ))
}

pub async fn list(state: &AppState, p: &Principal, q: CallbackQuery) -> Result<Page> {
    p.require(READERS)?;
    let limit = crate::db::keyset::limit(q.limit);
    let status = q.status.unwrap_or(CallbackStatus::Open);
    let mut query = callback::Entity::find().filter(callback::Column::Status.eq(status.as_str()));
    if let Some(region) = reader_region(p)? {
        query = query.filter(callback::Column::RegionCode.starts_with(region.prefix()));
    }
    if let Some(k) = q.kind {
        query = query.filter(callback::Column::Kind.eq(k.as_str()));
    }
    if let Some(b) = q.due_before {
        query = query.filter(callback::Column::DueAt.lt(b));
    }
    if let Some(c) = &q.cursor {
        query = query.filter(after(c)?);
    }
    let conn = &state.db.conn;
    let mut rows = query
        .order_by_asc(callback::Column::QueueRank)
        .order_by_asc(callback::Column::DueAt)
        .order_by_asc(callback::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(encode) } else { None };
    let (numbers, contacts) = decorations(conn, &rows).await?;
    let now = state.now();
    let items = rows
        .into_iter()
        .map(|m| {
            let number = m.case_id.and_then(|c| numbers.get(&c).cloned());
            let contact = m.case_id.and_then(|c| contacts.get(&c));
            CallbackView::build(m, number, contact, now, false)
        })
        .collect();
    Ok(Page { items, next_cursor })
}

async fn view_of(
    conn: &impl ConnectionTrait,
    m: callback::Model,
    now: DateTime<Utc>,
    reveal: bool,
) -> Result<CallbackView> {
    let rows = [m];
    let (numbers, contacts) = decorations(conn, &rows).await?;
    let [m] = rows;
    let number = m.case_id.and_then(|c| numbers.get(&c).cloned());
    let contact = m.case_id.and_then(|c| contacts.get(&c));
    Ok(CallbackView::build(m, number, contact, now, reveal))
}

async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<callback::Model> {
    callback::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("callback"))
}

/// One callback as its reader sees it, after a change.
pub(super) async fn view_by_id(state: &AppState, id: Uuid) -> Result<CallbackView> {
    let m = load(&state.db.conn, id).await?;
    view_of(&state.db.conn, m, state.now(), false).await
}

/// One callback; `reveal` shows her number and code word, audited
/// (`callback.reveal`).
pub async fn detail(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    reveal: bool,
) -> Result<CallbackView> {
    p.require(if reveal { HOTLINE } else { READERS })?;
    let m = load(&state.db.conn, id).await?;
    if let Some(region) = reader_region(p)? {
        let code = m.region_code.as_deref().and_then(RegionCode::parse);
        if !code.is_some_and(|c| region.contains(&c)) {
            return Err(Error::NotFound("callback"));
        }
    }
    let now = state.now();
    if reveal {
        let w = state.work_at(now).await?;
        audit::append(
            &*w,
            now,
            Some(p.user_id),
            "callback.reveal",
            format!("callback:{id}"),
            json!({"kind": m.kind, "case_id": m.case_id}),
        )
        .await?;
        w.commit().await?;
    }
    view_of(&state.db.conn, m, now, reveal).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    /// Did she (or anyone) answer?
    pub reached: bool,
    /// She could talk freely (the code word, no one listening).
    pub safe_to_talk: Option<bool>,
    pub notes: Option<String>,
    pub version: Option<i32>,
}

/// Compare-and-set on `version`: the loser of a race gets 409.
async fn save(
    conn: &impl ConnectionTrait,
    m: &callback::Model,
    set: Vec<(callback::Column, sea_orm::sea_query::SimpleExpr)>,
) -> Result<()> {
    let mut q = callback::Entity::update_many()
        .col_expr(callback::Column::Version, Expr::value(m.version + 1));
    for (c, e) in set {
        q = q.col_expr(c, e);
    }
    let res = q
        .filter(callback::Column::Id.eq(m.id))
        .filter(callback::Column::Version.eq(m.version))
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    Ok(())
}

/// Optional notes of at most 2,000 characters.
pub(super) fn notes_of(notes: Option<&str>) -> Result<Option<String>> {
    notes.map_or(Ok(None), |n| {
        crate::cases::record::text("notes", n, 2000, false)
    })
}

fn open_one(m: &callback::Model, version: Option<i32>) -> Result<()> {
    if version.is_some_and(|v| v != m.version) {
        return Err(Error::VersionConflict);
    }
    if m.status != CallbackStatus::Open {
        return Err(Error::InvalidTransition(format!(
            "the callback is {}; it takes no more attempts",
            m.status
        )));
    }
    Ok(())
}

/// One attempt. The `max_unreachable`-th unreachable one closes it.
pub async fn attempt(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: AttemptBody,
) -> Result<CallbackView> {
    p.require(HOTLINE)?;
    let notes = notes_of(body.notes.as_deref())?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let m = load(&*w, id).await?;
    open_one(&m, body.version)?;
    let mut attempts = attempts_of(&m);
    attempts.push(Attempt {
        at: now,
        by: p.user_id,
        reached: body.reached,
        safe_to_talk: body.safe_to_talk,
        notes,
    });
    let unreachable = attempts.iter().filter(|a| !a.reached).count();
    let mut set = vec![(
        callback::Column::Attempts,
        Expr::value(serde_json::to_value(&attempts).unwrap_or_default()),
    )];
    if unreachable >= state.settings.callbacks.max_unreachable {
        set.push((
            callback::Column::Status,
            Expr::value(CallbackStatus::Unreachable.as_str()),
        ));
        set.push((callback::Column::ClosedAt, Expr::value(now)));
        set.push((callback::Column::ClosedBy, Expr::value(p.user_id)));
        w.cancel(m.id, super::schedule::KINDS).await?;
    }
    save(&*w, &m, set).await?;
    w.commit().await?;
    let m = load(&state.db.conn, id).await?;
    view_of(&state.db.conn, m, now, false).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultBody {
    /// Required for a satisfaction callback.
    pub satisfaction: Option<Satisfaction>,
    /// Why she is not satisfied; `handling` reopens the case.
    pub reason: Option<DissatisfactionReason>,
    pub notes: Option<String>,
    pub version: Option<i32>,
}

fn check_result(kind: CallbackKind, body: &ResultBody) -> Result<()> {
    match (kind, body.satisfaction, body.reason) {
        (CallbackKind::Satisfaction, None, _) => Err(Error::validation(
            "satisfaction",
            "is required for a satisfaction callback",
        )),
        (_, Some(Satisfaction::Unsatisfied), None) => Err(Error::validation(
            "reason",
            "is required when she is unsatisfied",
        )),
        (_, Some(s), Some(_)) if s != Satisfaction::Unsatisfied => Err(Error::validation(
            "reason",
            "only an unsatisfied answer has a reason",
        )),
        (_, None, Some(_)) => Err(Error::validation("reason", "goes with satisfaction")),
        _ => Ok(()),
    }
}

/// She was reached: the result. For a satisfaction callback answered
/// `unsatisfied` because of the handling, the case is reopened for
/// re-handling in the same transaction.
pub async fn result(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ResultBody,
) -> Result<CallbackView> {
    p.require(HOTLINE)?;
    let notes = notes_of(body.notes.as_deref())?;
    let now = state.now();
    let cal = state.calendar().await?;
    let mut w = state.work_at(now).await?;
    let m = load(&*w, id).await?;
    open_one(&m, body.version)?;
    check_result(m.kind, &body)?;
    save(
        &*w,
        &m,
        vec![
            (
                callback::Column::Status,
                Expr::value(CallbackStatus::Done.as_str()),
            ),
            (
                callback::Column::Satisfaction,
                Expr::value(body.satisfaction.map(|s| s.as_str())),
            ),
            (
                callback::Column::Reason,
                Expr::value(body.reason.map(|r| r.as_str())),
            ),
            (callback::Column::ResultNotes, Expr::value(notes.clone())),
            (callback::Column::ClosedAt, Expr::value(now)),
            (callback::Column::ClosedBy, Expr::value(p.user_id)),
        ],
    )
    .await?;
    w.cancel(m.id, super::schedule::KINDS).await?;
    if let Some(case_id) = m.case_id {
        let c = case::Entity::find_by_id(case_id)
            .one(&*w)
            .await?
            .ok_or(Error::NotFound("case"))?;
        w.event(crate::cases::record::event(
            &c,
            "callback.completed",
            Some(p.user_id),
            now,
            json!({
                "callback_id": m.id, "kind": m.kind,
                "satisfaction": body.satisfaction, "reason": body.reason,
            }),
        ));
        let rehandle = body.satisfaction == Some(Satisfaction::Unsatisfied)
            && body.reason == Some(DissatisfactionReason::Handling);
        if rehandle {
            rehandle::reopen_unsatisfied(&mut w, &state.settings, &cal, case_id, m.id, p.user_id)
                .await?;
        }
    }
    w.commit().await?;
    let m = load(&state.db.conn, id).await?;
    view_of(&state.db.conn, m, now, false).await
}
