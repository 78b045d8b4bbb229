//! Many rows in one insert, with one statement text whatever their number.
//!
//! A multi-row `VALUES` list is a different statement for every row count:
//! on PostgreSQL each count is parsed and prepared anew on every pooled
//! connection, and planned anew for its hundreds of parameters at every
//! execution until the plan cache settles on it. Intake writes batches of
//! every size from 1 to 64, so under load most of its inserts paid for
//! parsing and planning (`log_min_duration_statement`: about 2.6 ms of a
//! 12 ms batch). On PostgreSQL [`insert_rows`] sends the rows as one JSON
//! array, expanded by `json_populate_recordset` into the table's own row
//! type: one statement per table, prepared once per connection and planned
//! once. SQLite has no such planning cost and keeps the multi-row insert.
use chrono::SecondsFormat;
use sea_orm::{
    sea_query::Value, ActiveModelTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityName,
    EntityTrait, IdenStatic, Iterable, QueryTrait, Statement,
};
use serde_json::{Map, Value as Json};

/// Insert `rows`, every column of each set (else the multi-row insert is
/// used, which lets the database fill defaults).
pub async fn insert_rows<A>(conn: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    // A staged set of one table, written at once.
    let mut one = Staged::default();
    one.add(conn.get_database_backend(), rows);
    one.run(conn).await
}

/// Inserts held back to run together at the end of a transaction
/// (`Work::stage`, the outbox rows): on PostgreSQL they go out as one
/// statement, each table's rows a `WITH` item of it, which the events'
/// own statement can carry too (`events::append`): one round trip
/// to the server for what was one per table. On SQLite, where a statement
/// costs no network round trip, each table's rows are a multi-row insert
/// as before. Rows held here are not seen by a read in the transaction
/// before they run, and a foreign key among them is checked when they
/// have all been written (PostgreSQL checks at the end of the statement).
#[derive(Default)]
pub struct Staged {
    parts: Vec<Part>,
}

enum Part {
    /// PostgreSQL: a table's rows as one JSON array.
    Json { table: String, json: String },
    /// A statement of its own: SQLite, or rows JSON cannot carry.
    Statement(Statement),
}

impl Staged {
    /// Hold `rows` (every column set, as for [`insert_rows`]).
    pub fn add<A>(&mut self, backend: DatabaseBackend, rows: Vec<A>)
    where
        A: ActiveModelTrait + Send,
    {
        if rows.is_empty() {
            return;
        }
        if backend == DatabaseBackend::Postgres {
            if let Some(json) = as_json_array(&rows) {
                let table = A::Entity::default().table_name().to_string();
                self.parts.push(Part::Json { table, json });
                return;
            }
        }
        let statement = A::Entity::insert_many(rows).build(backend);
        self.parts.push(Part::Statement(statement));
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// On PostgreSQL, when every part is JSON: the `WITH` items that write
    /// them (`s0 AS (INSERT …), …`), their parameters numbered from
    /// `$first`, and the values in that order.
    pub fn with_items(&self, first: usize) -> Option<(Vec<String>, Vec<Value>)> {
        let mut items = Vec::with_capacity(self.parts.len());
        let mut values = Vec::with_capacity(self.parts.len());
        for (i, part) in self.parts.iter().enumerate() {
            let Part::Json { table, json } = part else {
                return None;
            };
            items.push(format!("s{i} AS ({})", json_insert(table, first + i)));
            values.push(json.clone().into());
        }
        Some((items, values))
    }

    /// Write every part: on PostgreSQL in one statement when it can, else
    /// one statement each, in the order they were added.
    pub async fn run(self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        let backend = conn.get_database_backend();
        if self.parts.len() > 1 && backend == DatabaseBackend::Postgres {
            if let Some((items, values)) = self.with_items(1) {
                let sql = format!("WITH {} SELECT 1", items.join(", "));
                conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                    .await?;
                return Ok(());
            }
        }
        for part in self.parts {
            let statement = match part {
                Part::Json { table, json } => {
                    Statement::from_sql_and_values(backend, json_insert(&table, 1), [json.into()])
                }
                Part::Statement(s) => s,
            };
            conn.execute_raw(statement).await?;
        }
        Ok(())
    }
}

/// PostgreSQL's insert of a table's rows sent as one JSON array, the
/// parameter `$param`.
fn json_insert(table: &str, param: usize) -> String {
    format!(
        "INSERT INTO \"{table}\" SELECT * FROM json_populate_recordset(NULL::\"{table}\", ${param}::json)"
    )
}

/// `rows` as a JSON array of objects keyed by column name; `None` if a
/// column is not set or holds a type this does not carry.
pub(crate) fn as_json_array<A: ActiveModelTrait>(rows: &[A]) -> Option<String> {
    let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter().collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut object = Map::with_capacity(columns.len());
        for col in &columns {
            let value = row.get(*col).into_value()?;
            object.insert(col.as_str().to_string(), to_json(value)?);
        }
        out.push(Json::Object(object));
    }
    serde_json::to_string(&out).ok()
}

/// One column value as PostgreSQL's JSON input reads it back exactly:
/// timestamps in RFC 3339 with microseconds (what the column keeps).
fn to_json(value: Value) -> Option<Json> {
    Some(match value {
        Value::Bool(v) => v.map_or(Json::Null, Json::from),
        Value::SmallInt(v) => v.map_or(Json::Null, Json::from),
        Value::Int(v) => v.map_or(Json::Null, Json::from),
        Value::BigInt(v) => v.map_or(Json::Null, Json::from),
        Value::Double(v) => v.map_or(Json::Null, Json::from),
        Value::String(v) => v.map_or(Json::Null, Json::from),
        Value::Uuid(v) => v.map_or(Json::Null, |u| Json::from(u.to_string())),
        Value::ChronoDateTimeUtc(v) => v.map_or(Json::Null, |t| {
            Json::from(t.to_rfc3339_opts(SecondsFormat::Micros, true))
        }),
        Value::Json(v) => v.map_or(Json::Null, |j| *j),
        Value::ChronoDate(v) => v.map_or(Json::Null, |d| Json::from(d.to_string())),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    #[test]
    fn values_become_the_json_postgresql_reads_back() -> Result<(), chrono::ParseError> {
        let at: DateTime<Utc> = "2026-12-02T03:04:05.123456789Z".parse()?;
        assert_eq!(
            to_json(Value::ChronoDateTimeUtc(Some(at))),
            Some(Json::from("2026-12-02T03:04:05.123456Z"))
        );
        assert_eq!(to_json(Value::String(None)), Some(Json::Null));
        assert_eq!(to_json(Value::Int(Some(3))), Some(Json::from(3)));
        assert_eq!(to_json(Value::Bytes(Some(vec![1]))), None);
        Ok(())
    }

    fn handlers(n: usize) -> Vec<crate::db::entities::case_handler::ActiveModel> {
        (0..n)
            .map(|_| crate::db::entities::case_handler::ActiveModel {
                case_id: sea_orm::ActiveValue::Set(uuid::Uuid::nil()),
                unit_id: sea_orm::ActiveValue::Set(uuid::Uuid::nil()),
            })
            .collect()
    }

    #[test]
    fn staged_rows_are_with_items_on_postgresql_only() -> Result<(), String> {
        let mut pg = Staged::default();
        pg.add(DatabaseBackend::Postgres, handlers(2));
        pg.add(DatabaseBackend::Postgres, handlers(0));
        pg.add(DatabaseBackend::Postgres, handlers(1));
        let (items, values) = pg
            .with_items(3)
            .ok_or("every part of handler rows goes as JSON")?;
        assert_eq!(items.len(), 2, "an empty set of rows is no part");
        assert_eq!(
            items[0],
            "s0 AS (INSERT INTO \"case_handlers\" SELECT * FROM \
             json_populate_recordset(NULL::\"case_handlers\", $3::json))"
        );
        assert!(items[1].contains("$4::json"), "{}", items[1]);
        assert_eq!(values.len(), 2);

        let mut lite = Staged::default();
        lite.add(DatabaseBackend::Sqlite, handlers(2));
        assert!(!lite.is_empty());
        assert!(
            lite.with_items(1).is_none(),
            "SQLite writes each part as its own multi-row insert"
        );
        Ok(())
    }
}
