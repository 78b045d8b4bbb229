//! Writing persons: many at once (an import batch, the demo), one changed
//! by an import, her phones replaced. Each new person gets her first
//! review (`ledger.review`, a deadline row) in the same transaction.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::{
    entity::{person, phone},
    kinds::REVIEW,
    record::{first_review, PersonInput},
};
use crate::{db::bulk, deadlines, error::Result, vocab::LedgerSource};

/// A person on file as an import sees her.
pub struct Existing {
    pub id: Uuid,
    /// ID number, else `village|name` (`PersonInput::key`).
    pub key: String,
    pub name: String,
    pub import_hash: Option<String>,
}

type Row = (Uuid, String, Option<String>, String, Option<String>);

fn existing(rows: Vec<Row>) -> impl Iterator<Item = Existing> {
    rows.into_iter()
        .map(|(id, name, id_number, village, import_hash)| Existing {
            id,
            key: id_number.unwrap_or_else(|| format!("{village}|{name}")),
            name,
            import_hash,
        })
}

fn columns() -> sea_orm::Select<person::Entity> {
    person::Entity::find().select_only().columns([
        person::Column::Id,
        person::Column::Name,
        person::Column::IdNumber,
        person::Column::VillageCode,
        person::Column::ImportHash,
    ])
}

/// Everyone on file in the villages under `prefix`, by key.
pub async fn existing_in(
    conn: &impl ConnectionTrait,
    prefix: &str,
) -> Result<HashMap<String, Existing>> {
    let rows: Vec<Row> = columns()
        .filter(person::Column::VillageCode.starts_with(prefix))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(existing(rows).map(|e| (e.key.clone(), e)).collect())
}

/// Persons on file (anywhere) with these ID numbers.
pub async fn existing_by_id_numbers(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<Existing>> {
    let rows: Vec<Row> = columns()
        .filter(person::Column::IdNumber.is_in(ids.iter().cloned()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(existing(rows).collect())
}

/// Insert persons with their phones and first review (`review_s` after
/// her screening day, else after `now`); their ids in order.
pub async fn create_many(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    source: LedgerSource,
    persons: Vec<PersonInput>,
    review_s: i64,
) -> Result<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(persons.len());
    let mut due = Vec::with_capacity(persons.len());
    let mut rows = Vec::with_capacity(persons.len());
    let mut phones = Vec::new();
    for p in persons {
        let id = crate::db::new_id();
        let review_due = first_review(p.screened_at, now, review_s);
        ids.push(id);
        due.push(("ledger_person", id, REVIEW, review_due));
        phones.extend(p.phones.iter().map(|n| phone::ActiveModel {
            phone: Set(n.clone()),
            person_id: Set(id),
        }));
        rows.push(person::ActiveModel {
            id: Set(id),
            import_hash: Set((source == LedgerSource::Screening).then(|| p.hash())),
            name: Set(p.name),
            id_number: Set(p.id_number),
            birth_date: Set(p.birth_date),
            village_code: Set(p.village_code),
            husband_away_since: Set(p.husband_away_since),
            in_village: Set(p.in_village),
            low_income: Set(p.flags.low_income),
            registered_poor: Set(p.flags.registered_poor),
            disabled: Set(p.flags.disabled),
            seriously_ill: Set(p.flags.seriously_ill),
            rights_violated: Set(p.flags.rights_violated),
            care_burden: Set(p.flags.care_burden),
            contact_person_user_id: Set(None),
            safe_contact: Set(None),
            source: Set(source),
            screened_by: Set(p.screened_by),
            screened_at: Set(p.screened_at),
            review_due_at: Set(Some(review_due)),
            last_visit_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        });
    }
    // SQLite binds at most 32,766 values a statement: 24 columns × 500.
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        bulk::insert_rows(conn, rows.by_ref().take(500).collect()).await?;
    }
    let mut phones = phones.into_iter().peekable();
    while phones.peek().is_some() {
        bulk::insert_rows(conn, phones.by_ref().take(5000).collect()).await?;
    }
    // A review already due when she is put on file (screened more than a
    // review period ago) is fired in this transaction, as the engine
    // would have a moment later: she is on the reminder list either way.
    let (past, future): (Vec<_>, Vec<_>) = due.into_iter().partition(|d| d.3 <= now);
    for chunk in future.chunks(1000) {
        deadlines::schedule_many(conn, now, chunk).await?;
    }
    for chunk in past.chunks(1000) {
        deadlines::record_fired_many(conn, now, chunk, "ledger.import").await?;
    }
    if !past.is_empty() {
        metrics::counter!("lianxin_ledger_reviews_due_total").increment(past.len() as u64);
    }
    Ok(ids)
}

/// A changed row of a file: its fields, a new version. `rights_violated`
/// learnt from a case stays set.
pub async fn update_from_import(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    id: Uuid,
    p: &PersonInput,
) -> Result<()> {
    use person::Column as C;
    let mut q = person::Entity::update_many()
        .col_expr(C::Name, Expr::value(p.name.clone()))
        .col_expr(C::IdNumber, Expr::value(p.id_number.clone()))
        .col_expr(C::BirthDate, Expr::value(p.birth_date))
        .col_expr(C::VillageCode, Expr::value(p.village_code.clone()))
        .col_expr(C::HusbandAwaySince, Expr::value(p.husband_away_since))
        .col_expr(C::InVillage, Expr::value(p.in_village))
        .col_expr(C::LowIncome, Expr::value(p.flags.low_income))
        .col_expr(C::RegisteredPoor, Expr::value(p.flags.registered_poor))
        .col_expr(C::Disabled, Expr::value(p.flags.disabled))
        .col_expr(C::SeriouslyIll, Expr::value(p.flags.seriously_ill))
        .col_expr(C::CareBurden, Expr::value(p.flags.care_burden))
        .col_expr(C::ScreenedBy, Expr::value(p.screened_by.clone()))
        .col_expr(C::ScreenedAt, Expr::value(p.screened_at))
        .col_expr(C::ImportHash, Expr::value(p.hash()))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::Version, Expr::col(C::Version).add(1));
    if p.flags.rights_violated {
        q = q.col_expr(C::RightsViolated, Expr::value(true));
    }
    q.filter(C::Id.eq(id)).exec(conn).await?;
    replace_phones(conn, id, &p.phones).await
}

pub async fn replace_phones(
    conn: &impl ConnectionTrait,
    id: Uuid,
    phones: &[String],
) -> Result<()> {
    phone::Entity::delete_many()
        .filter(phone::Column::PersonId.eq(id))
        .exec(conn)
        .await?;
    let rows: Vec<phone::ActiveModel> = phones
        .iter()
        .map(|n| phone::ActiveModel {
            phone: Set(n.clone()),
            person_id: Set(id),
        })
        .collect();
    bulk::insert_rows(conn, rows).await?;
    Ok(())
}
