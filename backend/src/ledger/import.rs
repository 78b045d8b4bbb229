//! Importing a screening file (`POST /ledger/imports`, `lianxin ledger
//! import`): every row checked, then written 2,000 rows to a transaction.
//! A file is keyed by its SHA-256: the same file again changes nothing; a
//! changed file writes only the rows whose content changed (each person
//! keeps the hash of the row she was last imported from). Persons are
//! found again by ID number, else by village and name.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    entity::import,
    parse::{read_table, Columns},
    record::PersonInput,
    store::{self, Existing},
};
use crate::{
    audit,
    db::{entities::region, Db},
    error::{Error, Result},
    regions::RegionCode,
};

/// Rows written per transaction.
pub const BATCH: usize = 2000;

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Rejection {
    /// The row number as a spreadsheet shows it (the header is row 1).
    pub row: usize,
    pub field: String,
    /// `missing`, `invalid`, `bad_id_checksum`, `bad_phone`, `bad_date`,
    /// `bad_flag`, `bad_code`, `not_village`, `unknown_village`,
    /// `outside_county`, `duplicate_in_file`, `id_on_file_with_other_name`.
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = LedgerImportReport)]
pub struct ImportReport {
    pub import_id: Uuid,
    pub sha256: String,
    pub county_code: String,
    /// True when this very file was imported before: nothing changed.
    pub repeated: bool,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub rejections: Vec<Rejection>,
}

/// Who imports, for which county, and the review window of new persons.
pub struct ImportBy {
    pub county: RegionCode,
    pub importer: Option<Uuid>,
    pub review_s: i64,
}

enum Plan {
    Create(PersonInput),
    Update(Uuid, PersonInput),
}

pub async fn import(
    db: &Db,
    now: DateTime<Utc>,
    by: &ImportBy,
    bytes: &[u8],
) -> Result<ImportReport> {
    if !(3..=4).contains(&by.county.level()) {
        return Err(Error::validation(
            "county",
            "must be a county or township division code",
        ));
    }
    let sha = hex(&Sha256::digest(bytes));
    if let Some(prev) = import::Entity::find()
        .filter(import::Column::Sha256.eq(sha.as_str()))
        .one(&db.conn)
        .await?
    {
        return Ok(repeated(prev));
    }
    let table = read_table(bytes)?;
    let cols = Columns::of(&table.header)?;
    let prefix = by.county.prefix().to_string();
    let villages = villages_of(&db.conn, &prefix).await?;
    let mut report = ImportReport {
        import_id: crate::db::new_id(),
        sha256: sha,
        county_code: by.county.as_str().to_string(),
        repeated: false,
        rows: table.rows.len(),
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        rejections: Vec::new(),
    };
    let accepted = check_rows(&table, &cols, by, &villages, &mut report);
    let plans = plan(&db.conn, &prefix, accepted, &mut report).await?;
    write(db, now, by, plans, &mut report).await?;
    refresh_statistics(db, &report).await;
    Ok(report)
}

/// Rows an import writes that make PostgreSQL's statistics stale enough
/// to matter (autovacuum analyses a table after a tenth of it changed,
/// within minutes).
const ANALYZE_AFTER_ROWS: usize = 500;

/// After a large import on PostgreSQL, the statistics of what it wrote.
/// Until autovacuum gets to them the planner believes the pending-deadline
/// index holds a handful of rows and claims each due deadline by scanning
/// it (53 ms instead of 0.05 ms per claim measured after 100,000 persons):
/// the engine fired ~6 deadlines a second, and its scans took the CPU the
/// screen pop needed. The import is already committed; a failure here
/// only leaves the statistics to autovacuum.
async fn refresh_statistics(db: &Db, report: &ImportReport) {
    if !db.is_postgres() || report.created + report.updated < ANALYZE_AFTER_ROWS {
        return;
    }
    let sql = "ANALYZE ledger_persons, ledger_phones, deadlines";
    if let Err(e) = db.conn.execute_unprepared(sql).await {
        tracing::warn!(error = %e, "ANALYZE after the ledger import failed");
    }
}

/// Every row checked: its fields, its village (known, in the county) and
/// whether it repeats an earlier row; refusals go to the report.
fn check_rows(
    table: &super::parse::Table,
    cols: &Columns,
    by: &ImportBy,
    villages: &HashSet<String>,
    report: &mut ImportReport,
) -> Vec<(usize, PersonInput)> {
    let prefix = by.county.prefix();
    let mut accepted: Vec<(usize, PersonInput)> = Vec::with_capacity(table.rows.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, cells) in &table.rows {
        let checked = cols.person(cells).and_then(|p| {
            if !p.village_code.starts_with(prefix) {
                Err((
                    "village_code",
                    "outside_county",
                    format!(
                        "{} 不在本县 {} / is outside the county",
                        p.village_code, by.county
                    ),
                ))
            } else if !villages.contains(&p.village_code) {
                Err((
                    "village_code",
                    "unknown_village",
                    format!("{} 不在区划表中 / no such village", p.village_code),
                ))
            } else if let Some(first) = seen.get(&p.key()) {
                Err((
                    if p.id_number.is_some() {
                        "id_number"
                    } else {
                        "name"
                    },
                    "duplicate_in_file",
                    format!("与第 {first} 行重复 / repeats row {first}"),
                ))
            } else {
                Ok(p)
            }
        });
        match checked {
            Ok(p) => {
                seen.insert(p.key(), *line);
                accepted.push((*line, p));
            }
            Err((field, reason, message)) => report.rejections.push(Rejection {
                row: *line,
                field: field.to_string(),
                reason: reason.to_string(),
                message,
            }),
        }
    }
    accepted
}

/// Against what is on file: create, update, unchanged, or refused (an ID
/// number on file under another name).
async fn plan(
    conn: &impl ConnectionTrait,
    prefix: &str,
    accepted: Vec<(usize, PersonInput)>,
    report: &mut ImportReport,
) -> Result<Vec<Plan>> {
    let mut on_file: HashMap<String, Existing> = store::existing_in(conn, prefix).await?;
    let missing: Vec<String> = accepted
        .iter()
        .filter_map(|(_, p)| p.id_number.clone())
        .filter(|id| !on_file.contains_key(id))
        .collect();
    for chunk in missing.chunks(500) {
        for e in store::existing_by_id_numbers(conn, chunk).await? {
            on_file.insert(e.key.clone(), e);
        }
    }
    let mut plans = Vec::with_capacity(accepted.len());
    for (line, p) in accepted {
        match on_file.get(&p.key()) {
            None => plans.push(Plan::Create(p)),
            Some(e) if e.name != p.name => report.rejections.push(Rejection {
                row: line,
                field: "id_number".into(),
                reason: "id_on_file_with_other_name".into(),
                message:
                    "身份证号已登记在另一姓名下 / this ID number is on file under another name"
                        .into(),
            }),
            Some(e) if e.import_hash.as_deref() == Some(p.hash().as_str()) => report.unchanged += 1,
            Some(e) => plans.push(Plan::Update(e.id, p)),
        }
    }
    report.rejected = report.rejections.len();
    Ok(plans)
}

async fn write(
    db: &Db,
    now: DateTime<Utc>,
    by: &ImportBy,
    plans: Vec<Plan>,
    report: &mut ImportReport,
) -> Result<()> {
    let mut plans = plans.into_iter().peekable();
    loop {
        let batch: Vec<Plan> = plans.by_ref().take(BATCH).collect();
        let last = plans.peek().is_none();
        let txn = db.begin_write().await?;
        let mut creates = Vec::new();
        for p in batch {
            match p {
                Plan::Create(p) => creates.push(p),
                Plan::Update(id, p) => {
                    store::update_from_import(&*txn, now, id, &p).await?;
                    report.updated += 1;
                }
            }
        }
        report.created += creates.len();
        store::create_many(
            &*txn,
            now,
            crate::vocab::LedgerSource::Screening,
            creates,
            by.review_s,
        )
        .await?;
        if last {
            record(&*txn, now, by, report).await?;
        }
        txn.commit().await?;
        if last {
            return Ok(());
        }
    }
}

async fn record(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    by: &ImportBy,
    report: &ImportReport,
) -> Result<()> {
    let body = serde_json::to_value(report).map_err(|e| Error::Internal(e.to_string()))?;
    import::Entity::insert(import::ActiveModel {
        id: sea_orm::Set(report.import_id),
        sha256: sea_orm::Set(report.sha256.clone()),
        county_code: sea_orm::Set(report.county_code.clone()),
        imported_by: sea_orm::Set(by.importer),
        imported_at: sea_orm::Set(now),
        created: sea_orm::Set(count(report.created)),
        updated: sea_orm::Set(count(report.updated)),
        unchanged: sea_orm::Set(count(report.unchanged)),
        rejected: sea_orm::Set(count(report.rejected)),
        report: sea_orm::Set(body),
    })
    .exec_without_returning(conn)
    .await?;
    audit::append(
        conn,
        now,
        by.importer,
        "ledger.import",
        format!("ledger_import:{}", report.import_id),
        json!({"county_code": report.county_code, "sha256": report.sha256, "rows": report.rows,
               "created": report.created, "updated": report.updated,
               "unchanged": report.unchanged, "rejected": report.rejected}),
    )
    .await?;
    Ok(())
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The same file again: nothing written; what was accepted then is
/// unchanged now, and the refusals are the same.
fn repeated(prev: import::Model) -> ImportReport {
    let mut r: ImportReport = serde_json::from_value(prev.report).unwrap_or(ImportReport {
        import_id: prev.id,
        sha256: prev.sha256.clone(),
        county_code: prev.county_code.clone(),
        repeated: true,
        rows: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        rejections: Vec::new(),
    });
    r.repeated = true;
    r.unchanged += r.created + r.updated;
    r.created = 0;
    r.updated = 0;
    r
}

/// The village-level codes of the county.
async fn villages_of(conn: &impl ConnectionTrait, prefix: &str) -> Result<HashSet<String>> {
    let codes: Vec<String> = region::Entity::find()
        .select_only()
        .column(region::Column::Code)
        .filter(region::Column::Code.starts_with(prefix))
        .filter(region::Column::Level.eq(5))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(codes.into_iter().collect())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
