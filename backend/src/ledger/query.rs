//! Reads of the ledger: the scoped, paged list with its filters, and one
//! person with her visits and linked cases (a full read is audited;
//! revealing her ID number and phones is audited as such).
use std::collections::HashMap;

use sea_orm::{
    sea_query::Query, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    entity::{case_link, person, phone, visit},
    scope,
    view::{LinkedCase, PersonDetail, PersonView, VisitView},
};
use crate::{
    audit,
    auth::Principal,
    cases::model::{IdNumber, PhoneNumber},
    db::{entities::case, keyset},
    error::{Error, Result},
    regions,
    state::AppState,
    vocab::LedgerFlag,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only persons whose village lies in this region.
    pub region_code: Option<String>,
    pub flag: Option<LedgerFlag>,
    /// A name (part of it), a phone number or an ID number.
    pub q: Option<String>,
    /// Only persons whose review date has come.
    pub review_due: Option<bool>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DetailQuery {
    /// Show the full ID number and phones (written to the audit log).
    pub reveal: Option<bool>,
}

fn flag_column(f: LedgerFlag) -> person::Column {
    match f {
        LedgerFlag::LowIncome => person::Column::LowIncome,
        LedgerFlag::RegisteredPoor => person::Column::RegisteredPoor,
        LedgerFlag::Disabled => person::Column::Disabled,
        LedgerFlag::SeriouslyIll => person::Column::SeriouslyIll,
        LedgerFlag::RightsViolated => person::Column::RightsViolated,
        LedgerFlag::CareBurden => person::Column::CareBurden,
    }
}

fn search(q: &str) -> Condition {
    if let Ok(ph) = PhoneNumber::parse(q) {
        let ids = Query::select()
            .column(phone::Column::PersonId)
            .from(phone::Entity)
            .and_where(phone::Column::Phone.eq(ph.as_str()))
            .to_owned();
        return Condition::all().add(person::Column::Id.in_subquery(ids));
    }
    if let Ok(id) = IdNumber::parse(q) {
        return Condition::all().add(person::Column::IdNumber.eq(id.as_str()));
    }
    Condition::all().add(person::Column::Name.contains(q))
}

pub async fn list(state: &AppState, p: &Principal, q: ListQuery) -> Result<PersonPage> {
    let (_, region) = scope::reader(p)?;
    let now = state.now();
    let mut cond = scope::condition(region.as_ref());
    if let Some(code) = q.region_code.as_deref().filter(|s| !s.is_empty()) {
        let code = regions::parse_field("region_code", code)?;
        cond = cond.add(person::Column::VillageCode.starts_with(code.prefix()));
    }
    if let Some(f) = q.flag {
        cond = cond.add(flag_column(f).eq(true));
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if text.chars().count() > 64 {
            return Err(Error::validation("q", "at most 64 characters"));
        }
        cond = cond.add(search(text));
    }
    if q.review_due == Some(true) {
        cond = cond.add(person::Column::ReviewDueAt.lte(now));
    }
    if let Some(cursor) = q.cursor.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(keyset::after(
            person::Column::CreatedAt,
            person::Column::Id,
            cursor,
        )?);
    }
    let limit = keyset::limit(q.limit);
    let conn = &state.db.conn;
    let mut rows = person::Entity::find()
        .filter(cond)
        .order_by_desc(person::Column::CreatedAt)
        .order_by_desc(person::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|m| keyset::encode(m.created_at, m.id))
    } else {
        None
    };
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut phones = phones_of(conn, ids).await?;
    let items = rows
        .iter()
        .map(|m| PersonView::build(m, phones.remove(&m.id).unwrap_or_default(), false, now))
        .collect::<Result<Vec<_>>>()?;
    Ok(PersonPage { items, next_cursor })
}

pub async fn phones_of(
    conn: &impl sea_orm::ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<String>>> {
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for row in phone::Entity::find()
        .filter(phone::Column::PersonId.is_in(ids))
        .order_by_asc(phone::Column::Phone)
        .all(conn)
        .await?
    {
        out.entry(row.person_id).or_default().push(row.phone);
    }
    Ok(out)
}

/// A person the principal may read, or 404 (403 for operators/police).
pub async fn load(
    conn: &impl sea_orm::ConnectionTrait,
    p: &Principal,
    id: Uuid,
) -> Result<(person::Model, scope::Reader)> {
    scope::reader(p)?;
    let m = person::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("ledger person"))?;
    let r = scope::check(p, &m)?;
    Ok((m, r))
}

pub async fn detail(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    q: DetailQuery,
) -> Result<PersonDetail> {
    let now = state.now();
    let conn = &state.db.conn;
    let (m, _) = load(conn, p, id).await?;
    let reveal = q.reveal == Some(true);
    let phones = phones_of(conn, vec![m.id])
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    let visits = visit::Entity::find()
        .filter(visit::Column::PersonId.eq(m.id))
        .order_by_desc(visit::Column::At)
        .limit(50)
        .all(conn)
        .await?
        .into_iter()
        .map(VisitView::of)
        .collect();
    let linked = case_link::Entity::find()
        .filter(case_link::Column::PersonId.eq(m.id))
        .all(conn)
        .await?;
    let cases = case::Entity::find()
        .filter(case::Column::Id.is_in(linked.iter().map(|l| l.case_id)))
        .order_by_desc(case::Column::CreatedAt)
        .limit(50)
        .all(conn)
        .await?
        .into_iter()
        .map(|c| LinkedCase {
            id: c.id,
            number: c.number,
            category: c.category,
            status: c.status,
            created_at: c.created_at,
        })
        .collect();
    let contact_person = super::link::contact_of(conn, &m).await?;
    let txn = state.db.begin_write().await?;
    audit::append(
        &*txn,
        now,
        Some(p.user_id),
        if reveal {
            "ledger.reveal"
        } else {
            "ledger.read"
        },
        format!("ledger_person:{}", m.id),
        json!({"revealed": reveal}),
    )
    .await?;
    txn.commit().await?;
    Ok(PersonDetail {
        person: PersonView::build(&m, phones, reveal, now)?,
        visits,
        cases,
        contact_person,
    })
}
