//! Her safe contact on a case (issue 18): whether, when and how she may be
//! called or texted. Read by whoever may read the case (the code word and
//! notes only by the hotline and the handling unit); set by the hotline
//! and the handling unit. Unsafe cancels open callbacks; `no_sms` keeps
//! every text from her number (the SMS outbox checks it). The person on
//! the ledger the case is linked to gets the same safe contact.
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{entity::contact_safety, schedule};
use crate::{
    auth::Principal,
    cases::{
        contact_safety::SafeContact,
        record::event,
        scope::{self, Access},
    },
    error::{Error, Result},
    state::AppState,
    vocab::CallbackKind,
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactSafetyView {
    pub case_id: Uuid,
    /// Null when nothing was recorded (then nothing is known to be unsafe).
    pub contact: Option<SafeContact>,
    /// Calls are safe and now is within her safe hours.
    pub may_call_now: bool,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn get(state: &AppState, p: &Principal, case_id: Uuid) -> Result<ContactSafetyView> {
    let conn = &state.db.conn;
    let (_, access) = scope::load(conn, p, case_id).await?;
    let row = contact_safety::Entity::find_by_id(case_id)
        .one(conn)
        .await?;
    let now = state.now();
    let mut contact: Option<SafeContact> = row
        .as_ref()
        .and_then(|r| serde_json::from_value(r.contact.clone()).ok());
    if !access.may_unmask() {
        if let Some(c) = contact.as_mut() {
            c.code_word = None;
            c.notes = None;
        }
    }
    Ok(ContactSafetyView {
        case_id,
        may_call_now: contact.as_ref().is_none_or(|c| c.may_call_at(now)),
        contact,
        updated_at: row.map(|r| r.updated_at),
    })
}

pub async fn put(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: SafeContact,
) -> Result<ContactSafetyView> {
    let contact = body
        .normalised()
        .map_err(|(field, message)| Error::validation(field, message))?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (c, access) = scope::load(&*w, p, case_id).await?;
    if !matches!(access, Access::Hotline | Access::Handler) {
        return Err(Error::Forbidden(
            "only the hotline and the handling unit set her safe contact".into(),
        ));
    }
    let row = contact_safety::ActiveModel {
        case_id: Set(case_id),
        contact: Set(serde_json::to_value(&contact).unwrap_or_default()),
        no_sms_phone: Set(if contact.no_sms {
            c.subject_phone.clone()
        } else {
            None
        }),
        updated_by: Set(p.user_id),
        updated_at: Set(now),
    };
    contact_safety::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(contact_safety::Column::CaseId)
                .update_columns([
                    contact_safety::Column::Contact,
                    contact_safety::Column::NoSmsPhone,
                    contact_safety::Column::UpdatedBy,
                    contact_safety::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&*w)
        .await?;
    // One safe contact for her: the ledger person the case is linked to
    // takes it in the same transaction.
    crate::ledger::link::share_safe_contact(&*w, now, case_id, &contact).await?;
    // The event says what changed, never the code word or notes.
    w.event(event(
        &c,
        "case.contact_safety_set",
        Some(p.user_id),
        now,
        json!({
            "safe_to_call": contact.safe_to_call,
            "safe_hours": contact.safe_hours,
            "no_sms": contact.no_sms,
        }),
    ));
    if !contact.safe_to_call && schedule::cancel_open(&mut w, case_id).await? > 0 {
        w.event(event(
            &c,
            "callback.suppressed",
            Some(p.user_id),
            now,
            json!({"kind": CallbackKind::Satisfaction, "reason": "unsafe_to_call"}),
        ));
    }
    w.commit().await?;
    get(state, p, case_id).await
}
