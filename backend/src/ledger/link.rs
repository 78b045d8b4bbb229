//! The ledger beside calls and cases: the screen pop's summary (one
//! indexed lookup: the phone's rows, then the persons they name), a
//! case linked to a person — by intake when the subject's ID number is
//! on file, or by hand — and what a link teaches the ledger: a domestic
//! violence or safety case sets `rights_violated`.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{
    entity::{case_link, person, phone},
    view::{ContactPerson, LedgerSummary},
};
use crate::{
    db::entities::{case, user},
    error::Result,
    vocab::Category,
};

/// Persons on the ledger with this (normalised) number, most recently
/// changed first: one statement on the phone index.
pub async fn persons_with_phone(
    conn: &impl ConnectionTrait,
    phone: &str,
    limit: u64,
) -> Result<Vec<person::Model>> {
    Ok(person::Entity::find()
        .filter(
            person::Column::Id.in_subquery(
                Query::select()
                    .column(phone::Column::PersonId)
                    .from(phone::Entity)
                    .and_where(phone::Column::Phone.eq(phone))
                    .to_owned(),
            ),
        )
        .order_by_desc(person::Column::UpdatedAt)
        .limit(limit)
        .all(conn)
        .await?)
}

async fn contact_of(
    conn: &impl ConnectionTrait,
    m: &person::Model,
) -> Result<Option<ContactPerson>> {
    let Some(id) = m.contact_person_user_id else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|u| ContactPerson {
            user_id: u.id,
            display_name: u.display_name,
        }))
}

/// The screen pop's `ledger` for a number, or `None`.
pub async fn summary_for_phone(
    conn: &impl ConnectionTrait,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<Option<LedgerSummary>> {
    let found = persons_with_phone(conn, phone, 6).await?;
    let Some(first) = found.first() else {
        return Ok(None);
    };
    let contact = contact_of(conn, first).await?;
    Ok(Some(LedgerSummary::build(
        first,
        contact,
        found.len() - 1,
        now,
    )?))
}

/// Proposals for a case: the persons whose phone is the subject's.
pub async fn proposals(
    conn: &impl ConnectionTrait,
    c: &case::Model,
    now: DateTime<Utc>,
) -> Result<Vec<LedgerSummary>> {
    let Some(phone) = &c.subject_phone else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for m in persons_with_phone(conn, phone, 5).await? {
        let contact = contact_of(conn, &m).await?;
        out.push(LedgerSummary::build(&m, contact, 0, now)?);
    }
    Ok(out)
}

/// The person a case is linked to.
pub async fn linked_person(conn: &impl ConnectionTrait, case_id: Uuid) -> Result<Option<Uuid>> {
    Ok(case_link::Entity::find_by_id(case_id)
        .one(conn)
        .await?
        .map(|l| l.person_id))
}

/// A case of this category says her rights were violated.
pub fn violates_rights(c: &case::Model) -> bool {
    matches!(
        c.category,
        Category::DomesticViolence | Category::SafetyThreat
    )
}

/// Link `c` to a person (replacing an earlier link); sets
/// `rights_violated` for a violence or safety case. True when the flag
/// was set by this link.
pub async fn link(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    c: &case::Model,
    person_id: Uuid,
    how: &str,
    by: Option<Uuid>,
) -> Result<bool> {
    case_link::Entity::insert(case_link::ActiveModel {
        case_id: Set(c.id),
        person_id: Set(person_id),
        how: Set(how.to_string()),
        linked_by: Set(by),
        linked_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(case_link::Column::CaseId)
            .update_columns([
                case_link::Column::PersonId,
                case_link::Column::How,
                case_link::Column::LinkedBy,
                case_link::Column::LinkedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    if !violates_rights(c) {
        return Ok(false);
    }
    let set = person::Entity::update_many()
        .col_expr(person::Column::RightsViolated, Expr::value(true))
        .col_expr(person::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            person::Column::Version,
            Expr::col(person::Column::Version).add(1),
        )
        .filter(person::Column::Id.eq(person_id))
        .filter(person::Column::RightsViolated.eq(false))
        .exec(conn)
        .await?;
    Ok(set.rows_affected > 0)
}

/// Intake: a subject whose ID number is on the ledger is linked to her.
pub async fn on_intake(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    c: &case::Model,
) -> Result<()> {
    let Some(id_number) = &c.subject_id_number else {
        return Ok(());
    };
    let found = person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .filter(person::Column::IdNumber.eq(id_number.as_str()))
        .into_tuple::<Uuid>()
        .one(conn)
        .await?;
    if let Some(person_id) = found {
        link(conn, now, c, person_id, "id_number", None).await?;
    }
    Ok(())
}
