//! An intake batch's case numbers and its cases' and handlers' rows.
//!
//! On SQLite: one counter bump per year in the batch, then one multi-row
//! insert each for the cases and the handlers. On PostgreSQL, when the
//! batch is of one year (all but the batches that straddle New Year's
//! midnight), one statement: the counter bump, the cases numbered from it
//! and their handlers (`WITH` items; a handler's foreign key to its case
//! is checked at the end of the statement) — one round trip to the server
//! where there were three, inside the stretch where batches wait for one
//! another (the counter's row lock is held from the bump to the commit).
use chrono::Datelike;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, IdenStatic, Iterable, Statement,
    TryIntoModel,
};

use super::intake_queue::Intake;
use crate::{
    db::{
        bulk::{self, Staged},
        entities::{case, case_handler},
    },
    error::Result,
    events,
    work::Work,
};

/// The batch's cases, in order, numbered `YYYY-NNNNNN` (contiguous per
/// year, none skipped: a failed batch rolls its bump back with everything
/// else), with their rows and `handlers` written.
pub(super) async fn write(
    w: &Work,
    intakes: &[&Intake],
    handlers: Vec<case_handler::ActiveModel>,
) -> Result<Vec<case::Model>> {
    if let Some(numbers) = together(w, intakes, &handlers).await? {
        return models(intakes, numbers);
    }
    let numbers = number(w, intakes).await?;
    let rows: Vec<case::ActiveModel> = intakes
        .iter()
        .zip(&numbers)
        .map(|(intake, number)| numbered(intake, number.clone()))
        .collect();
    bulk::insert_rows(&**w, rows).await?;
    bulk::insert_rows(&**w, handlers).await?;
    models(intakes, numbers)
}

/// The cases as they will be once numbered (`number` empty): what the
/// escalations are planned from before the rows are written.
pub(super) fn unnumbered(intakes: &[&Intake]) -> Result<Vec<case::Model>> {
    models(intakes, vec![String::new(); intakes.len()])
}

fn models(intakes: &[&Intake], numbers: Vec<String>) -> Result<Vec<case::Model>> {
    intakes
        .iter()
        .zip(numbers)
        .map(|(intake, number)| Ok(numbered(intake, number).try_into_model()?))
        .collect()
}

fn numbered(intake: &Intake, number: String) -> case::ActiveModel {
    let mut am = intake.case.clone();
    am.number = Set(number);
    am
}

fn format_number(year: i32, n: i64) -> String {
    format!("{year}-{n:06}")
}

/// Case numbers for `intakes`, in order: one counter bump per year.
async fn number(w: &Work, intakes: &[&Intake]) -> Result<Vec<String>> {
    let mut numbers = vec![String::new(); intakes.len()];
    let mut years: Vec<i32> = intakes.iter().map(|i| i.now.year()).collect();
    years.sort_unstable();
    years.dedup();
    for year in years {
        let mine: Vec<usize> = (0..intakes.len())
            .filter(|&k| intakes[k].now.year() == year)
            .collect();
        let n = mine.len() as i64;
        let last = events::bump_counter(&**w, &format!("case_number:{year}"), n).await?;
        for (j, &k) in mine.iter().enumerate() {
            numbers[k] = format_number(year, last - n + 1 + j as i64);
        }
    }
    Ok(numbers)
}

/// On PostgreSQL, a batch of one year in one statement; its numbers.
/// `None` (nothing written) on SQLite, for a batch of two years, or when
/// a row cannot go as JSON.
async fn together(
    w: &Work,
    intakes: &[&Intake],
    handlers: &[case_handler::ActiveModel],
) -> Result<Option<Vec<String>>> {
    let Some(statement) = statement(w, intakes, handlers) else {
        return Ok(None);
    };
    let year = intakes[0].now.year();
    let n = intakes.len() as i64;
    let last: i64 = w
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| crate::error::Error::Internal("no case number counter".into()))?
        .try_get("", "value")?;
    Ok(Some(
        (0..n)
            .map(|j| format_number(year, last - n + 1 + j))
            .collect(),
    ))
}

/// The one statement: the counter `case_number:YEAR` bumped by the batch's
/// size; the cases, whose JSON carries their place in the batch (1..=n)
/// as `number`, numbered from it exactly as [`format_number`] does (six
/// digits at least, never cut); the handlers.
fn statement(
    w: &Work,
    intakes: &[&Intake],
    handlers: &[case_handler::ActiveModel],
) -> Option<Statement> {
    if w.get_database_backend() != DatabaseBackend::Postgres {
        return None;
    }
    let year = intakes.first()?.now.year();
    if intakes.iter().any(|i| i.now.year() != year) {
        return None;
    }
    let rows: Vec<case::ActiveModel> = intakes
        .iter()
        .enumerate()
        .map(|(j, intake)| numbered(intake, (j + 1).to_string()))
        .collect();
    let json = bulk::as_json_array(&rows)?;
    let mut staged = Staged::default();
    staged.add(DatabaseBackend::Postgres, handlers.to_vec());
    let (mut items, mut values) = staged.with_items(5)?;
    let v = "(c.value - $2::bigint + r.number::bigint)";
    let columns: Vec<&str> = case::Column::iter().map(|c| c.as_str()).collect();
    let select: Vec<String> = columns
        .iter()
        .map(|&c| match c {
            "number" => format!("$4 || lpad({v}::text, greatest(6, length({v}::text)), '0')"),
            _ => format!("r.\"{c}\""),
        })
        .collect();
    items.insert(
        0,
        format!(
            "x AS (INSERT INTO cases (\"{}\") SELECT {} \
             FROM json_populate_recordset(NULL::cases, $3::json) r CROSS JOIN c)",
            columns.join("\", \""),
            select.join(", ")
        ),
    );
    items.insert(
        0,
        "c AS (INSERT INTO counters (name, value) VALUES ($1, $2::bigint) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value)"
            .to_string(),
    );
    let mut all: Vec<sea_orm::Value> = vec![
        format!("case_number:{year}").into(),
        (intakes.len() as i64).into(),
        json.into(),
        format!("{year}-").into(),
    ];
    all.append(&mut values);
    Some(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        format!("WITH {} SELECT c.value FROM c", items.join(", ")),
        all,
    ))
}
