//! A follow-up call to her (回访), scheduled from the case page by the
//! hotline or a supervisor of the case's place: `POST /cases/{id}/callbacks
//! {due_at, notes}`. Refused (409, nothing written) when her safe contact
//! says calls are unsafe (`unsafe_to_call`) or the time is outside her safe
//! hours (`outside_safe_hours`), or when there is no number to call
//! (`no_number`).
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    callbacks,
    schedule::{contact_of, follow_up, number_for},
    view::CallbackView,
};
use crate::{
    auth::Principal,
    cases::scope::{self, Access},
    error::{Error, Result},
    state::AppState,
};

/// How far ahead a follow-up may be scheduled.
const MAX_AHEAD_DAYS: i64 = 180;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpBody {
    /// When to call her (in the future, at most 180 days ahead).
    pub due_at: DateTime<Utc>,
    /// What the call is for.
    pub notes: Option<String>,
}

fn refused(code: &'static str, message: &str) -> Error {
    Error::Conflict {
        code,
        message: message.to_string(),
    }
}

pub async fn schedule(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: FollowUpBody,
) -> Result<CallbackView> {
    let notes = callbacks::notes_of(body.notes.as_deref())?;
    let now = state.now();
    if body.due_at <= now || body.due_at > now + Duration::days(MAX_AHEAD_DAYS) {
        return Err(Error::validation(
            "due_at",
            "must be in the future, at most 180 days ahead",
        ));
    }
    let mut w = state.work_at(now).await?;
    let (c, access) = scope::load(&*w, p, case_id).await?;
    if !matches!(access, Access::Hotline | Access::Supervisor) {
        return Err(Error::Forbidden(
            "只有热线和督办可以安排回访 / only the hotline and supervisors schedule follow-up calls"
                .into(),
        ));
    }
    if let Some(contact) = contact_of(&*w, case_id).await? {
        if !contact.safe_to_call {
            return Err(refused(
                "unsafe_to_call",
                "她的安全联系方式标明不宜来电 / her safe contact says calls are unsafe",
            ));
        }
        if !contact.may_call_at(body.due_at) {
            return Err(refused(
                "outside_safe_hours",
                "该时间不在她可安全接听的时段 / the time is outside her safe hours",
            ));
        }
    }
    let Some(phone) = number_for(&*w, &c).await? else {
        return Err(refused(
            "no_number",
            "案件没有可回访的号码 / the case has no number to call",
        ));
    };
    let id = follow_up(
        &mut w,
        &c,
        phone,
        body.due_at,
        notes,
        (p.user_id, &p.display_name),
    )
    .await?;
    w.commit().await?;
    callbacks::view_by_id(state, id).await
}
