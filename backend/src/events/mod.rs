//! The case event log: the timeline, the live feed, email and reports all
//! read it.
//!
//! **Invariant (feed order):** `feed_seq` is stamped from the `counters` row
//! `feed` inside the writing transaction, as its last statement before
//! commit. The row lock is held until commit, so a transaction that takes
//! seq N+1 cannot commit before the one holding N: seqs become visible in
//! commit order, and a reader that has seen N never later finds an unseen
//! event below N. (On SQLite writers are serialised anyway.) The price is
//! that commits that append events run one at a time; see ARCHITECTURE.md.
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::{bulk::Staged, entities::case_event};

mod cache;
mod held;
mod stamp;
pub use cache::{TimelineCache, TIMELINE_CACHE_EVENTS};
pub use held::{CaseCache, Forget, Held, Lease, Lookup, CASE_CACHE_CASES};

/// PostgreSQL channel on which committed events are announced.
pub const NOTIFY_CHANNEL: &str = "lianxin_feed";

/// An event before it is stamped. Visibility columns say who may see it:
/// the handling unit at the time (`unit_id`), the unit a transfer came from
/// or a referral went to (`prev_unit_id`), the police unit of an
/// escalation, and the region.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub case_id: Uuid,
    pub case_number: String,
    pub kind: &'static str,
    pub actor_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    pub prev_unit_id: Option<Uuid>,
    pub police_unit_id: Option<Uuid>,
    pub region_code: String,
    pub at: DateTime<Utc>,
    pub data: Value,
}

/// A stored event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseEvent {
    pub seq: i64,
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
    pub event: String,
    pub actor_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    #[serde(skip)]
    pub prev_unit_id: Option<Uuid>,
    #[serde(skip)]
    pub police_unit_id: Option<Uuid>,
    #[serde(skip)]
    pub region_code: String,
    pub at: DateTime<Utc>,
    pub data: Value,
}

impl From<case_event::Model> for CaseEvent {
    fn from(m: case_event::Model) -> Self {
        CaseEvent {
            seq: m.feed_seq,
            id: m.id,
            case_id: m.case_id,
            case_number: m.case_number,
            event: m.kind,
            actor_id: m.actor_id,
            unit_id: m.unit_id,
            prev_unit_id: m.prev_unit_id,
            police_unit_id: m.police_unit_id,
            region_code: m.region_code,
            at: m.at,
            data: m.data,
        }
    }
}

/// Take `n` values from a named counter; returns the last one taken.
/// Creates the counter on first use.
pub async fn bump_counter(conn: &impl ConnectionTrait, name: &str, n: i64) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "INSERT INTO counters (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value"
        }
        _ => {
            "INSERT INTO counters (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value"
        }
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [name.into(), n.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("counter {name} returned no row")))?;
    row.try_get::<i64>("", "value")
}

/// Write `staged`, then stamp and insert `events`; call as the last write
/// before commit. Returns the stamped events in order.
///
/// On PostgreSQL this is one statement (`stamp::together`): the staged
/// rows, the counter bump, the events and the notice, one round trip
/// where there were three or more. The counter's row lock is still taken
/// last, in the transaction's last statement.
pub async fn append(
    conn: &impl ConnectionTrait,
    origin: &str,
    events: Vec<NewEvent>,
    staged: Staged,
) -> Result<Vec<CaseEvent>, DbErr> {
    if events.is_empty() {
        staged.run(conn).await?;
        return Ok(Vec::new());
    }
    let n = events.len() as i64;
    let ids: Vec<Uuid> = events.iter().map(|_| crate::db::new_id()).collect();
    let last = match stamp::together(conn, origin, &staged, &events, &ids) {
        Some(statement) => stamp::run(conn, statement).await?,
        None => {
            staged.run(conn).await?;
            let last = bump_counter(conn, "feed", n).await?;
            let rows = stamp::rows(&events, &ids, last - n);
            crate::db::bulk::insert_rows(conn, rows).await?;
            // Other processes hear of the events with this transaction's
            // commit (`realtime::listen_postgres`); `origin` is this
            // process's node id, whose own hub `Work::commit` wakes
            // directly. Inside the transaction rather than after it: a
            // notice sent on its own is a transaction of its own, with its
            // own durable commit, and is lost if the process dies between
            // the two. PostgreSQL serialises commits that carry notices on
            // a database-wide lock, but every commit that appends events
            // already waits for the feed counter above, which it holds
            // until it commits.
            crate::db::notify_with_commit(conn, NOTIFY_CHANNEL, origin).await?;
            last
        }
    };
    let first = last - n + 1;
    Ok(events
        .into_iter()
        .zip(ids)
        .enumerate()
        .map(|(i, (e, id))| CaseEvent {
            seq: first + i as i64,
            id,
            case_id: e.case_id,
            case_number: e.case_number,
            event: e.kind.to_string(),
            actor_id: e.actor_id,
            unit_id: e.unit_id,
            prev_unit_id: e.prev_unit_id,
            police_unit_id: e.police_unit_id,
            region_code: e.region_code,
            at: e.at,
            data: e.data,
        })
        .collect())
}

/// A case's events after seq `after`, in feed order.
pub async fn timeline_after(
    conn: &impl ConnectionTrait,
    case_id: Uuid,
    after: i64,
) -> Result<Vec<CaseEvent>, DbErr> {
    Ok(case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::FeedSeq.gt(after))
        .order_by_asc(case_event::Column::FeedSeq)
        .all(conn)
        .await?
        .into_iter()
        .map(CaseEvent::from)
        .collect())
}

/// Events after `after`, in feed order.
pub async fn read_after(
    conn: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<CaseEvent>, DbErr> {
    Ok(case_event::Entity::find()
        .filter(case_event::Column::FeedSeq.gt(after))
        .order_by_asc(case_event::Column::FeedSeq)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(CaseEvent::from)
        .collect())
}

/// The highest committed seq.
/// (The last row in feed order rather than `MAX`, which PostgreSQL may
/// plan as a full scan on a table it has no statistics for yet; see
/// `deadlines::next_due`.)
pub async fn head(conn: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = case_event::Entity::find()
        .select_only()
        .column(case_event::Column::FeedSeq)
        .order_by_desc(case_event::Column::FeedSeq)
        .limit(1)
        .into_tuple::<i64>()
        .one(conn)
        .await?;
    Ok(row.unwrap_or(0))
}

/// A case's timeline, oldest first (seqs start at 1).
pub async fn timeline(conn: &impl ConnectionTrait, case_id: Uuid) -> Result<Vec<CaseEvent>, DbErr> {
    timeline_after(conn, case_id, 0).await
}
