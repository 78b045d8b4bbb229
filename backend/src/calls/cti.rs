//! Telephone exchange (CTI) events: our JSON form and Zammad's generic CTI
//! form (`event` newCall/answer/hangup with `from`, `to`, `direction`,
//! `callId`, `user`, JSON or form-encoded), so existing exchange bridges
//! work unchanged.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::history;
use crate::{
    cases::model::PhoneNumber,
    db::entities::{call, user},
    error::{Error, Result},
    realtime::wire,
    state::AppState,
    vocab::{Channel, Role},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CtiKind {
    Ringing,
    Answered,
    Hangup,
}

/// Both payload forms, as one loose shape; [`CtiEvent::normalise`] checks it.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
pub struct CtiPayload {
    pub event: Option<String>,
    pub call_ref: Option<String>,
    #[serde(rename = "callId")]
    pub call_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub direction: Option<String>,
    pub operator: Option<String>,
    /// Zammad sends the agent as `user` (a string, or a list in form posts).
    pub user: Option<serde_json::Value>,
    #[serde(rename = "user[]")]
    pub user_list: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub cause: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CtiEvent {
    pub kind: CtiKind,
    pub call_ref: String,
    /// The caller's number as the exchange sent it.
    pub caller: String,
    pub operator: Option<String>,
    /// A hangup's cause (Zammad: `normalClearing`, `noAnswer`, `cancel`,
    /// `busy`, …).
    pub cause: Option<String>,
}

/// Hangup causes that mean nobody took the call.
const MISSED_CAUSES: &[&str] = &["noAnswer", "no_answer", "cancel", "busy"];

impl CtiPayload {
    pub fn normalise(self) -> Result<CtiEvent> {
        let kind = match self.event.as_deref().map(str::trim) {
            Some("ringing" | "newCall") => CtiKind::Ringing,
            Some("answered" | "answer") => CtiKind::Answered,
            Some("hangup") => CtiKind::Hangup,
            Some(other) => {
                return Err(Error::validation(
                    "event",
                    format!(
                    "unknown event {other:?}; use ringing, answered, hangup (or newCall, answer)"
                ),
                ))
            }
            None => return Err(Error::validation("event", "is required")),
        };
        let call_ref = self
            .call_ref
            .or(self.call_id)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or_else(|| {
                Error::validation(
                    "call_ref",
                    "is required (or callId), at most 128 characters",
                )
            })?;
        // On an outbound call the far end is `to`.
        let caller = if self.direction.as_deref() == Some("out") {
            self.to.clone()
        } else {
            self.from.clone()
        }
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::validation("from", "is required"))?;
        let operator = self
            .operator
            .or_else(|| match self.user {
                Some(serde_json::Value::String(s)) => Some(s),
                Some(serde_json::Value::Array(a)) => {
                    a.first().and_then(|v| v.as_str()).map(String::from)
                }
                _ => None,
            })
            .or(self.user_list)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let cause = self
            .cause
            .map(|s| s.trim().chars().take(32).collect::<String>())
            .filter(|s| !s.is_empty());
        Ok(CtiEvent {
            kind,
            call_ref,
            caller,
            operator,
            cause,
        })
    }
}

/// Constant-time check of `X-CTI-Secret`; an unset secret disables CTI.
pub fn check_secret(configured: &str, given: Option<&str>) -> Result<()> {
    let Some(given) = given else {
        return Err(Error::Unauthorized);
    };
    if configured.is_empty() || !bool::from(configured.as_bytes().ct_eq(given.as_bytes())) {
        return Err(Error::Unauthorized);
    }
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CtiAccepted {
    pub event: String,
    pub call_ref: String,
    pub call_id: Option<Uuid>,
    /// For `ringing`: how many operator connections got the screen pop.
    pub delivered: Option<usize>,
}

async fn operator_id(state: &AppState, name: &str) -> Result<Option<Uuid>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.eq(Role::Operator.as_str()))
        .one(&state.db.conn)
        .await?
        .map(|u| u.id))
}

pub async fn handle(state: &AppState, ev: CtiEvent) -> Result<CtiAccepted> {
    let now = state.now();
    let operator = match &ev.operator {
        Some(name) => operator_id(state, name).await?,
        None => None,
    };
    let mut out = CtiAccepted {
        event: serde_json::to_value(ev.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        call_ref: ev.call_ref.clone(),
        call_id: None,
        delivered: None,
    };
    match ev.kind {
        CtiKind::Ringing => out.delivered = Some(ringing(state, &ev, operator).await?),
        CtiKind::Answered => out.call_id = Some(answered(state, &ev, now, operator).await?),
        CtiKind::Hangup => out.call_id = Some(hung_up(state, &ev, now, operator).await?),
    }
    Ok(out)
}

/// The screen pop pushed to the operator's console (or every operator's);
/// how many consoles it reached.
async fn ringing(state: &AppState, ev: &CtiEvent, operator: Option<Uuid>) -> Result<usize> {
    let phone = PhoneNumber::parse(&ev.caller).ok();
    // Withheld or foreign numbers still ring; they just have no history.
    let hist = match &phone {
        Some(p) => serde_json::to_value(history(state, None, p).await?).unwrap_or_default(),
        None => serde_json::to_value(super::no_history(&ev.caller)).unwrap_or_default(),
    };
    let shown = phone
        .as_ref()
        .map(|p| p.as_str().to_string())
        .unwrap_or(ev.caller.clone());
    let frame = wire::encode(&wire::ServerFrame::CallRinging {
        call_ref: &ev.call_ref,
        phone: &shown,
        history: &hist,
    });
    Ok(state.hub.push_ringing(operator, frame))
}

/// The call logged (once per `call_ref`) and given its operator.
async fn answered(
    state: &AppState,
    ev: &CtiEvent,
    now: DateTime<Utc>,
    operator: Option<Uuid>,
) -> Result<Uuid> {
    let txn = state.db.begin_write().await?;
    let existing = call::Entity::find()
        .filter(call::Column::CtiRef.eq(ev.call_ref.as_str()))
        .one(&*txn)
        .await?;
    let id = match existing {
        Some(c) => {
            let mut q = call::Entity::update_many().col_expr(
                call::Column::AnsweredAt,
                Expr::value(c.answered_at.unwrap_or(now)),
            );
            if operator.is_some() && c.operator_id.is_none() {
                q = q.col_expr(call::Column::OperatorId, Expr::value(operator));
            }
            q.filter(call::Column::Id.eq(c.id)).exec(&*txn).await?;
            c.id
        }
        // Withheld, foreign or garbled numbers are answered too:
        // the call is logged with the raw text.
        None => {
            let m = insert_call(&*txn, now, &ev.caller, operator, &ev.call_ref, None).await?;
            call::Entity::update_many()
                .col_expr(call::Column::AnsweredAt, Expr::value(now))
                .filter(call::Column::Id.eq(m.id))
                .exec(&*txn)
                .await?;
            m.id
        }
    };
    txn.commit().await?;
    Ok(id)
}

/// The call's duration recorded; a call never answered is logged too.
/// A call nobody took (never answered, or hung up with no answer, cancel
/// or busy) becomes a `missed_call` callback in the same transaction.
async fn hung_up(
    state: &AppState,
    ev: &CtiEvent,
    now: DateTime<Utc>,
    operator: Option<Uuid>,
) -> Result<Uuid> {
    let cal = state.calendar().await?;
    let mut w = state.work_at(now).await?;
    let existing = call::Entity::find()
        .filter(call::Column::CtiRef.eq(ev.call_ref.as_str()))
        .one(&*w)
        .await?;
    let c = match existing {
        Some(c) => {
            let secs = (now - c.received_at)
                .num_seconds()
                .clamp(0, i32::MAX as i64) as i32;
            call::Entity::update_many()
                .col_expr(call::Column::DurationS, Expr::value(secs))
                .filter(call::Column::Id.eq(c.id))
                .exec(&*w)
                .await?;
            c
        }
        // A call that rang and was never answered is still history.
        None => insert_call(&*w, now, &ev.caller, operator, &ev.call_ref, Some(0)).await?,
    };
    let missed = c.answered_at.is_none()
        || ev
            .cause
            .as_deref()
            .is_some_and(|k| MISSED_CAUSES.contains(&k));
    if missed && c.case_id.is_none() {
        crate::hotline::schedule::missed_call(&mut w, &state.settings, &cal, &c).await?;
    }
    if ev.cause.is_some() {
        call::Entity::update_many()
            .col_expr(call::Column::HangupCause, Expr::value(ev.cause.clone()))
            .filter(call::Column::Id.eq(c.id))
            .exec(&*w)
            .await?;
    }
    w.commit().await?;
    Ok(c.id)
}

async fn insert_call(
    conn: &impl sea_orm::ConnectionTrait,
    now: DateTime<Utc>,
    raw: &str,
    operator: Option<Uuid>,
    cti_ref: &str,
    duration: Option<i32>,
) -> Result<call::Model> {
    let m = call::ActiveModel {
        id: Set(crate::db::new_id()),
        phone: Set(PhoneNumber::parse(raw).ok().map(|p| p.as_str().to_string())),
        phone_raw: Set(Some(raw.trim().chars().take(64).collect())),
        channel: Set(Channel::Hotline),
        received_at: Set(now),
        duration_s: Set(duration),
        operator_id: Set(operator),
        case_id: Set(None),
        cti_ref: Set(Some(cti_ref.to_string())),
        summary: Set(None),
        created_at: Set(now),
        answered_at: Set(None),
        hangup_cause: Set(None),
        disposition: Set(None),
        topics: Set(None),
        disposition_notes: Set(None),
        disposed_by: Set(None),
        disposed_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zammad_and_native_forms_normalise() {
        let z: CtiPayload = serde_json::from_str(r#"{"event":"newCall","from":"+8613812345678","to":"12338","direction":"in","callId":"abc","user":["operator"]}"#).unwrap();
        let e = z.normalise().unwrap();
        assert_eq!(e.kind, CtiKind::Ringing);
        assert_eq!(e.call_ref, "abc");
        assert_eq!(e.operator.as_deref(), Some("operator"));
        let n: CtiPayload =
            serde_json::from_str(r#"{"event":"hangup","call_ref":"x1","from":"0773-5512345"}"#)
                .unwrap();
        assert_eq!(n.normalise().unwrap().kind, CtiKind::Hangup);
        let bad: CtiPayload =
            serde_json::from_str(r#"{"event":"transfer","call_ref":"x","from":"1"}"#).unwrap();
        assert!(bad.normalise().is_err());
    }

    #[test]
    fn secret_comparison() {
        assert!(check_secret("s3cret", Some("s3cret")).is_ok());
        assert!(check_secret("s3cret", Some("s3cres")).is_err());
        assert!(check_secret("s3cret", None).is_err());
        assert!(check_secret("", Some("")).is_err());
    }
}
