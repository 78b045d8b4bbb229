//! Callbacks come into being here, on the unit of work of what causes
//! them: a missed call (the exchange's hangup) and a resolved case's
//! satisfaction callback (回访) — never when her safe contact says calls
//! are unsafe (`callback.suppressed` on the timeline instead).
use chrono::{DateTime, Utc};
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
    deadlines::Deadline,
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
    if kind == "callback.missed_call" && settings.calendar.counts_working_days(kind) {
        cal.add_office_time(from, secs)
    } else {
        settings.calendar.due(cal, kind, from, secs)
    }
}

/// A callback about to be queued.
struct New {
    kind: CallbackKind,
    case_id: Option<Uuid>,
    call_id: Option<Uuid>,
    phone: String,
    region_code: Option<String>,
    due_at: DateTime<Utc>,
    notes: Option<String>,
    scheduled_by: Option<Uuid>,
}

async fn insert(w: &Work, n: New) -> Result<Uuid> {
    let m = callback::ActiveModel {
        id: Set(crate::db::new_id()),
        kind: Set(n.kind),
        queue_rank: Set(if n.kind == CallbackKind::MissedCall {
            0
        } else {
            1
        }),
        case_id: Set(n.case_id),
        call_id: Set(n.call_id),
        phone: Set(Some(n.phone)),
        region_code: Set(n.region_code),
        due_at: Set(n.due_at),
        status: Set(CallbackStatus::Open),
        attempts: Set(json!([])),
        satisfaction: Set(None),
        reason: Set(None),
        result_notes: Set(None),
        created_at: Set(w.now),
        closed_at: Set(None),
        closed_by: Set(None),
        version: Set(1),
        notes: Set(n.notes),
        scheduled_by: Set(n.scheduled_by),
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
    let new = New {
        kind: CallbackKind::MissedCall,
        case_id: None,
        call_id: Some(c.id),
        phone,
        region_code: None,
        due_at: at,
        notes: None,
        scheduled_by: None,
    };
    let id = insert(w, new).await?;
    metrics::counter!("lianxin_callbacks_created_total", "kind" => "missed_call").increment(1);
    Ok(Some(id))
}

/// The number to call about a case: her number on the case, else the
/// number of the call it was opened from.
pub async fn number_for(conn: &impl ConnectionTrait, c: &case::Model) -> Result<Option<String>> {
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
    let new = New {
        kind: CallbackKind::Satisfaction,
        case_id: Some(c.id),
        call_id: None,
        phone,
        region_code: Some(c.region_code.clone()),
        due_at: at,
        notes: None,
        scheduled_by: None,
    };
    let id = insert(w, new).await?;
    w.event(event(
        c,
        "callback.scheduled",
        None,
        now,
        json!({"callback_id": id, "kind": CallbackKind::Satisfaction, "due_at": at}),
    ));
    Ok(())
}

/// A follow-up call to her, scheduled from the case page by the hotline or
/// a supervisor: queued with its deadline row (`callback.follow_up`) and
/// `callback.scheduled` on the timeline. The caller checked that calls are
/// safe and found her number.
pub async fn follow_up(
    w: &mut Work,
    c: &case::Model,
    phone: String,
    due_at: DateTime<Utc>,
    notes: Option<String>,
    by: (Uuid, &str),
) -> Result<Uuid> {
    let new = New {
        kind: CallbackKind::FollowUp,
        case_id: Some(c.id),
        call_id: None,
        phone,
        region_code: Some(c.region_code.clone()),
        due_at,
        notes,
        scheduled_by: Some(by.0),
    };
    let id = insert(w, new).await?;
    w.schedule(SUBJECT, id, FOLLOW_UP, due_at).await?;
    w.event(event(
        c,
        "callback.scheduled",
        Some(by.0),
        w.now,
        json!({"callback_id": id, "kind": CallbackKind::FollowUp, "due_at": due_at, "by_name": by.1}),
    ));
    metrics::counter!("lianxin_callbacks_created_total", "kind" => "follow_up").increment(1);
    Ok(id)
}

/// The deadline rows' subject kind and the follow-up's deadline kind.
pub const SUBJECT: &str = "callback";
pub const FOLLOW_UP: &str = "callback.follow_up";
/// Every kind `fire` owns.
pub const KINDS: &[&str] = &[FOLLOW_UP];

/// A follow-up's time came and it is still open: `callback.overdue` on
/// the case's timeline (the queue shows it overdue). Closed since: no-op.
pub async fn fire(w: &mut Work, d: &Deadline) -> Result<bool> {
    let Some(m) = callback::Entity::find_by_id(d.subject_id).one(&**w).await? else {
        return Ok(false);
    };
    if m.status != CallbackStatus::Open {
        return Ok(false);
    }
    let Some(case_id) = m.case_id else {
        return Ok(false);
    };
    let Some(c) = case::Entity::find_by_id(case_id).one(&**w).await? else {
        return Ok(false);
    };
    w.event(event(
        &c,
        "callback.overdue",
        None,
        w.now,
        json!({"callback_id": m.id, "kind": m.kind, "due_at": m.due_at}),
    ));
    Ok(true)
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
