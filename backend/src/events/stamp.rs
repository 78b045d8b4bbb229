//! The events' rows, and on PostgreSQL the one statement that writes a
//! unit of work's last rows: what it staged (`db::bulk::Staged`), the feed
//! counter's bump, its events stamped from that bump, and the notice to
//! the other processes.
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, DbErr, IdenStatic, Iterable, Statement,
};
use uuid::Uuid;

use super::{NewEvent, NOTIFY_CHANNEL};
use crate::db::{
    bulk::{self, Staged},
    entities::case_event,
};

/// The rows of `events`, the i-th stamped `base + 1 + i`.
pub(super) fn rows(events: &[NewEvent], ids: &[Uuid], base: i64) -> Vec<case_event::ActiveModel> {
    events
        .iter()
        .zip(ids)
        .enumerate()
        .map(|(i, (e, id))| case_event::ActiveModel {
            id: Set(*id),
            feed_seq: Set(base + 1 + i as i64),
            case_id: Set(e.case_id),
            case_number: Set(e.case_number.clone()),
            kind: Set(e.kind.to_string()),
            actor_id: Set(e.actor_id),
            unit_id: Set(e.unit_id),
            prev_unit_id: Set(e.prev_unit_id),
            police_unit_id: Set(e.police_unit_id),
            region_code: Set(e.region_code.clone()),
            at: Set(e.at),
            data: Set(e.data.clone()),
        })
        .collect()
}

/// On PostgreSQL, the one statement that writes `staged`, bumps the feed
/// counter by the number of `events`, inserts them stamped from it
/// (their JSON carries 1..=n, the statement adds the counter's value
/// before the bump) and sends the notice; it answers the counter's new
/// value. `None` on SQLite, or when a part cannot go as JSON.
pub(super) fn together(
    conn: &impl ConnectionTrait,
    origin: &str,
    staged: &Staged,
    events: &[NewEvent],
    ids: &[Uuid],
) -> Option<Statement> {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return None;
    }
    let (mut items, mut values) = staged.with_items(1)?;
    let json = bulk::as_json_array(&rows(events, ids, 0))?;
    let k = values.len();
    let (count, rows_param, channel, payload) = (k + 1, k + 2, k + 3, k + 4);
    items.push(format!(
        "c AS (INSERT INTO counters (name, value) VALUES ('feed', ${count}::bigint) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value)"
    ));
    let columns: Vec<&str> = case_event::Column::iter().map(|c| c.as_str()).collect();
    let select: Vec<String> = columns
        .iter()
        .map(|&c| match c {
            "feed_seq" => format!("c.value - ${count}::bigint + r.feed_seq"),
            _ => format!("r.\"{c}\""),
        })
        .collect();
    items.push(format!(
        "e AS (INSERT INTO case_events (\"{}\") SELECT {} \
         FROM json_populate_recordset(NULL::case_events, ${rows_param}::json) r CROSS JOIN c)",
        columns.join("\", \""),
        select.join(", ")
    ));
    let sql = format!(
        "WITH {} SELECT c.value, pg_notify(${channel}, ${payload})::text AS notified FROM c",
        items.join(", ")
    );
    values.extend([
        (events.len() as i64).into(),
        json.into(),
        NOTIFY_CHANNEL.into(),
        origin.into(),
    ]);
    Some(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        sql,
        values,
    ))
}

/// Run [`together`]'s statement; the feed counter's new value.
pub(super) async fn run(conn: &impl ConnectionTrait, statement: Statement) -> Result<i64, DbErr> {
    conn.query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::Custom("the feed counter returned no row".into()))?
        .try_get::<i64>("", "value")
}
