//! Callbacks come into being here, on the unit of work of what causes
//! them: a missed call (the exchange's hangup) and a resolved case's
//! satisfaction callback (回访) — never when her safe contact says calls
//! are unsafe (`callback.suppressed` on the timeline instead).
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{callback, contact_safety};
use crate::{
    calendar::Calendar,
    cases::{contact_safety::SafeContact, record::event},
    config::Settings,
    db::entities::{call, case},
    error::Result,
    vocab::{CallbackKind, CallbackStatus},
    work::Work,
};

/// Her safe contact on a case, if one was recorded.
pub async fn contact_of(conn: &impl ConnectionTrait, case_id: Uuid) -> Result<Option<SafeContact>> {
    let Some(row) = contact_safety::Entity::find_by_id(case_id)
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(serde_json::from_value(row.contact).ok())
}

fn due(
    settings: &Settings,
    cal: &Calendar,
    kind: &str,
    from: DateTime<Utc>,
    secs: i64,
) -> DateTime<Utc> {
    if !settings.calendar.counts_working_days(kind) {
        return from + Duration::seconds(secs);
    }
    if kind == "callback.missed_call" {
        cal.add_office_time(from, secs)
    } else {
        cal.add_window(from, secs, true)
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    w: &Work,
    kind: CallbackKind,
    case_id: Option<Uuid>,
    call_id: Option<Uuid>,
    phone: String,
    region_code: Option<String>,
    due_at: DateTime<Utc>,
) -> Result<Uuid> {
    let m = callback::ActiveModel {
        id: Set(crate::db::new_id()),
        kind: Set(kind),
        queue_rank: Set(if kind == CallbackKind::MissedCall {
            0
        } else {
            1
        }),
        case_id: Set(case_id),
        call_id: Set(call_id),
        phone: Set(Some(phone)),
        region_code: Set(region_code),
        due_at: Set(due_at),
        status: Set(CallbackStatus::Open),
        attempts: Set(json!([])),
        satisfaction: Set(None),
        reason: Set(None),
        result_notes: Set(None),
        created_at: Set(w.now),
        closed_at: Set(None),
        closed_by: Set(None),
        version: Set(1),
    }
    .insert(&**w)
    .await?;
    Ok(m.id)
}

/// A call nobody answered: a `missed_call` callback, due within
/// `callbacks.missed_within_s` of office time — unless her number has one
/// open already (she called three times: one callback), or the number is
/// withheld (nobody to call).
pub async fn missed_call(
    w: &mut Work,
    settings: &Settings,
    cal: &Calendar,
    c: &call::Model,
) -> Result<Option<Uuid>> {
    let Some(phone) = c.phone.clone() else {
        return Ok(None);
    };
    let open = callback::Entity::find()
        .filter(callback::Column::Phone.eq(phone.as_str()))
        .filter(callback::Column::Status.eq(CallbackStatus::Open.as_str()))
        .filter(callback::Column::Kind.eq(CallbackKind::MissedCall.as_str()))
        .one(&**w)
        .await?;
    if open.is_some() {
        return Ok(None);
    }
    let at = due(
        settings,
        cal,
        "callback.missed_call",
        w.now,
        settings.callbacks.missed_within_s,
    );
    let id = insert(
        w,
        CallbackKind::MissedCall,
        None,
        Some(c.id),
        phone,
        None,
        at,
    )
    .await?;
    metrics::counter!("lianxin_callbacks_created_total", "kind" => "missed_call").increment(1);
    Ok(Some(id))
}

/// The number to call about a case: her number on the case, else the
/// number of the call it was opened from.
async fn number_for(conn: &impl ConnectionTrait, c: &case::Model) -> Result<Option<String>> {
    if let Some(p) = &c.subject_phone {
        return Ok(Some(p.clone()));
    }
    Ok(call::Entity::find()
        .filter(call::Column::CaseId.eq(c.id))
        .all(conn)
        .await?
        .into_iter()
        .find_map(|x| x.phone))
}

/// A case was resolved: schedule her satisfaction callback one working day
/// later (replacing an earlier open one), or note on the timeline why not.
pub async fn satisfaction(
    w: &mut Work,
    settings: &Settings,
    cal: &Calendar,
    c: &case::Model,
) -> Result<()> {
    let now = w.now;
    cancel_open(w, c.id).await?;
    let contact = contact_of(&**w, c.id).await?;
    let why_not = if contact.as_ref().is_some_and(|s| !s.safe_to_call) {
        Some("unsafe_to_call")
    } else {
        None
    };
    let phone = match why_not {
        Some(_) => None,
        None => number_for(&**w, c).await?,
    };
    let Some(phone) = phone else {
        let reason = why_not.unwrap_or("no_number");
        w.event(event(
            c,
            "callback.suppressed",
            None,
            now,
            json!({"kind": CallbackKind::Satisfaction, "reason": reason}),
        ));
        return Ok(());
    };
    let at = due(
        settings,
        cal,
        "callback.satisfaction",
        now,
        settings.callbacks.satisfaction_after_s,
    );
    let region = Some(c.region_code.clone());
    let id = insert(
        w,
        CallbackKind::Satisfaction,
        Some(c.id),
        None,
        phone,
        region,
        at,
    )
    .await?;
    w.event(event(
        c,
        "callback.scheduled",
        None,
        now,
        json!({"callback_id": id, "kind": CallbackKind::Satisfaction, "due_at": at}),
    ));
    Ok(())
}

/// Open callbacks of a case are cancelled (a reopen, a new resolve, a
/// duplicate closed into its original).
pub async fn cancel_open(w: &mut Work, case_id: Uuid) -> Result<u64> {
    Ok(callback::Entity::update_many()
        .col_expr(
            callback::Column::Status,
            Expr::value(CallbackStatus::Cancelled.as_str()),
        )
        .col_expr(callback::Column::ClosedAt, Expr::value(w.now))
        .col_expr(
            callback::Column::Version,
            Expr::col(callback::Column::Version).add(1),
        )
        .filter(callback::Column::CaseId.eq(case_id))
        .filter(callback::Column::Status.eq(CallbackStatus::Open.as_str()))
        .exec(&**w)
        .await?
        .rows_affected)
}
