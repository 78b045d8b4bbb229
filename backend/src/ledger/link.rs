//! The ledger beside calls and cases: the screen pop's summary (one
//! indexed lookup: the phone's rows, then the persons they name), a
//! case linked to a person — by intake when the subject's ID number is
//! on file, or by hand — and what a link teaches the ledger: a domestic
//! violence or safety case sets `rights_violated`. Her safe contact is
//! one across the two (issue 18 item 5): a case's safe contact set on a
//! linked case becomes the person's, and a case linked to her takes hers
//! when it has none of its own.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict, Query},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    entity::{case_link, person, phone},
    view::{safe_contact_of, ContactPerson, LedgerSummary},
};
use crate::{
    cases::contact_safety::SafeContact,
    db::entities::{case, user},
    error::{Error, Result},
    hotline::entity::contact_safety,
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

pub async fn contact_of(
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
    take_safe_contact(conn, now, c, person_id, by).await?;
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

/// Intake: a subject whose ID number is on the ledger is linked to her,
/// in the intake's transaction; a case that takes her safe contact says
/// so on its timeline, as a link by hand does (`actor`: the intake's).
pub async fn on_intake(w: &mut crate::work::Work, c: &case::Model, actor: Uuid) -> Result<()> {
    let now = w.now;
    let Some(id_number) = &c.subject_id_number else {
        return Ok(());
    };
    let found = person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .filter(person::Column::IdNumber.eq(id_number.as_str()))
        .into_tuple::<Uuid>()
        .one(&**w)
        .await?;
    let Some(person_id) = found else {
        return Ok(());
    };
    if let Some(contact) = take_safe_contact(&**w, now, c, person_id, Some(actor)).await? {
        took_safe_contact(w, actor, c, &contact).await?;
    }
    link(&**w, now, c, person_id, "id_number", None).await?;
    Ok(())
}

/// The safe contact set on a case becomes the linked person's (same
/// transaction as the case's). True when a person was updated.
pub async fn share_safe_contact(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    case_id: Uuid,
    contact: &SafeContact,
) -> Result<bool> {
    let Some(person_id) = linked_person(conn, case_id).await? else {
        return Ok(false);
    };
    let value = serde_json::to_value(contact).map_err(|e| Error::Internal(e.to_string()))?;
    let set = person::Entity::update_many()
        .col_expr(person::Column::SafeContact, Expr::value(value))
        .col_expr(person::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            person::Column::Version,
            Expr::col(person::Column::Version).add(1),
        )
        .filter(person::Column::Id.eq(person_id))
        .exec(conn)
        .await?;
    Ok(set.rows_affected > 0)
}

/// A case linked to a person takes her safe contact when it has none of
/// its own (its `no_sms` then guards the case's number too). The contact
/// taken, if any.
pub async fn take_safe_contact(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    c: &case::Model,
    person_id: Uuid,
    by: Option<Uuid>,
) -> Result<Option<SafeContact>> {
    if contact_safety::Entity::find_by_id(c.id)
        .one(conn)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let Some(m) = person::Entity::find_by_id(person_id).one(conn).await? else {
        return Ok(None);
    };
    let Some(contact) = safe_contact_of(&m)? else {
        return Ok(None);
    };
    contact_safety::Entity::insert(contact_safety::ActiveModel {
        case_id: Set(c.id),
        contact: Set(serde_json::to_value(&contact).map_err(|e| Error::Internal(e.to_string()))?),
        no_sms_phone: Set(contact.no_sms.then(|| c.subject_phone.clone()).flatten()),
        updated_by: Set(by.unwrap_or(c.created_by)),
        updated_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(Some(contact))
}

/// The case took her safe contact from the ledger: its timeline says so
/// (never the code word or notes), and unsafe calls cancel its callbacks.
pub async fn took_safe_contact(
    w: &mut crate::work::Work,
    by: Uuid,
    c: &case::Model,
    contact: &SafeContact,
) -> Result<()> {
    let now = w.now;
    w.event(crate::cases::record::event(
        c,
        "case.contact_safety_set",
        Some(by),
        now,
        json!({"safe_to_call": contact.safe_to_call, "safe_hours": contact.safe_hours,
            "no_sms": contact.no_sms, "from": "ledger"}),
    ));
    if !contact.safe_to_call && crate::hotline::schedule::cancel_open(w, c.id).await? > 0 {
        w.event(crate::cases::record::event(
            c,
            "callback.suppressed",
            Some(by),
            now,
            json!({"kind": crate::vocab::CallbackKind::Satisfaction, "reason": "unsafe_to_call"}),
        ));
    }
    Ok(())
}
