//! The referral use cases, one unit of work each: refer from a case,
//! accept, decline, reply, withdraw, urge. A concurrent change wins by
//! version and this one gets 409; a declined or withdrawn referral takes
//! no further step (409 `invalid_transition`).
use chrono::Duration;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde_json::json;
use uuid::Uuid;

pub use super::bodies::{
    ConsentInput, DeclineBody, NewReferral, ReplyBody, UrgeBody, VersionBody, WithdrawBody,
};
use super::{
    bodies::consent_of,
    engine::{self, Outgoing},
    entity::referral,
    kinds::{ACCEPT_KINDS, KINDS, REPLY, SUBJECT},
    mail::{self, Notice},
    record::{event, next, save, Act},
    scope::{self, Side},
    view::{self, json as to_json, Decline, Masking, ReferralView, Reply, Withdrawal},
};
use crate::{
    auth::Principal,
    cases::{
        record::{required, text},
        scope::{self as case_scope, Access},
    },
    db::entities::case,
    error::{Error, Result},
    escalation::chain::unit_addresses,
    state::AppState,
    vocab::{CaseStatus, ReferralStatus},
};

/// `POST /cases/{id}/referrals`: the handling unit or the hotline refers.
pub async fn create(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: NewReferral,
) -> Result<ReferralView> {
    let request = required("request", &body.request, 4000)?;
    let now = state.now();
    let consent = consent_of(p, now, body.legal_basis, body.consent)?;
    let cal = state.calendar().await?;
    let mut w = state.work_at(now).await?;
    let (c, access) = case_scope::load(&*w, p, case_id).await?;
    if !matches!(access, Access::Handler | Access::Hotline) {
        return Err(Error::Forbidden(
            "只有承办单位和热线可以转介此案件 / only the handling unit and the hotline may refer this case".into(),
        ));
    }
    if c.status == CaseStatus::Closed {
        return Err(Error::InvalidTransition(
            "已结案的案件不能转介 / cannot refer a closed case".into(),
        ));
    }
    let out = Outgoing {
        kind: body.kind.trim().to_string(),
        to_unit_id: body.to_unit_id,
        request,
        legal_basis: body.legal_basis,
        consent,
        from_unit_id: p.unit_id(),
        actor: Some(p.user_id),
    };
    let r = engine::send(&mut w, &state.settings, &state.directory, &cal, &c, out).await?;
    w.commit().await?;
    view::detail(&state.db.conn, &r, &c, Masking::Numbers).await
}

/// The referral in scope (404), if the caller's side is allowed (403), the
/// version they saw is current (409) and `act` may happen (409).
async fn begin(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
    act: Act,
    version: Option<i32>,
    allowed: &[Side],
) -> Result<(referral::Model, case::Model, ReferralStatus)> {
    let (r, c, side) = scope::load(conn, p, id).await?;
    if !allowed.contains(&side) {
        return Err(Error::Forbidden(format!(
            "您不能对此转介执行该操作 / you may not do this to the referral (your side: {side:?})"
        )));
    }
    if version.is_some_and(|v| v != r.version) {
        return Err(Error::VersionConflict);
    }
    let to = next(r.status, act).map_err(Error::InvalidTransition)?;
    Ok((r, c, to))
}

async fn done(state: &AppState, r: &referral::Model, c: &case::Model) -> Result<ReferralView> {
    view::detail(&state.db.conn, r, c, Masking::Numbers).await
}

pub async fn accept(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: VersionBody,
) -> Result<ReferralView> {
    let now = state.now();
    let cal = state.calendar().await?;
    let mut w = state.work_at(now).await?;
    let (r, c, to) = begin(&*w, p, id, Act::Accept, body.version, &[Side::Receiver]).await?;
    let settings = &state.settings;
    let window = settings.deadlines.referrals.reply_window_s(&r.kind);
    let reply_due = settings.calendar.due(&cal, REPLY, now, window);
    let updated = save(
        &*w,
        &r,
        referral::ActiveModel {
            status: Set(to),
            accepted_at: Set(Some(now)),
            accepted_by: Set(Some(p.user_id)),
            reply_due_at: Set(Some(reply_due)),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(r.id, ACCEPT_KINDS).await?;
    w.schedule(SUBJECT, r.id, REPLY, reply_due).await?;
    w.event(event(
        &c,
        &updated,
        "referral.accepted",
        Some(p.user_id),
        now,
        json!({
            "by": p.user_id, "by_name": p.display_name, "status": updated.status,
            "reply_due_at": reply_due, "late": now > r.accept_due_at,
        }),
    ));
    w.commit().await?;
    done(state, &updated, &c).await
}

pub async fn decline(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: DeclineBody,
) -> Result<ReferralView> {
    let reason = required("reason", &body.reason, 2000)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (r, c, to) = begin(&*w, p, id, Act::Decline, body.version, &[Side::Receiver]).await?;
    let decline = Decline {
        reason_code: body.reason_code,
        reason: reason.clone(),
        by: p.user_id,
        at: now,
    };
    let updated = save(
        &*w,
        &r,
        referral::ActiveModel {
            status: Set(to),
            decline: Set(Some(to_json(&decline)?)),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(r.id, KINDS).await?;
    w.event(event(
        &c,
        &updated,
        "referral.declined",
        Some(p.user_id),
        now,
        json!({
            "reason_code": body.reason_code, "reason": reason,
            "by_name": p.display_name, "status": updated.status,
        }),
    ));
    // Back to the sender; the hotline reviews declines in its list.
    let to_addr = match r.from_unit_id {
        Some(u) => unit_addresses(&*w, u).await?,
        None => Vec::new(),
    };
    w.mail(mail::notice(
        &state.settings.public_url,
        &c,
        &updated,
        Notice::Declined,
        None,
        &to_addr,
    ));
    w.commit().await?;
    done(state, &updated, &c).await
}

pub async fn reply(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ReplyBody,
) -> Result<ReferralView> {
    let details = required("details", &body.details, 10000)?;
    let reference = match &body.reference {
        Some(r) => text("reference", r, 200, false)?,
        None => None,
    };
    let now = state.now();
    let decided_at = body.decided_at.unwrap_or(now);
    if decided_at > now + Duration::minutes(5) {
        return Err(Error::validation("decided_at", "cannot be in the future"));
    }
    let mut w = state.work_at(now).await?;
    let (r, c, to) = begin(&*w, p, id, Act::Reply, body.version, &[Side::Receiver]).await?;
    let answer = Reply {
        result: body.result,
        details,
        reference,
        decided_at,
        by: p.user_id,
        at: now,
    };
    let updated = save(
        &*w,
        &r,
        referral::ActiveModel {
            status: Set(to),
            reply: Set(Some(to_json(&answer)?)),
            replied_at: Set(Some(now)),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(r.id, KINDS).await?;
    w.event(event(
        &c,
        &updated,
        "referral.replied",
        Some(p.user_id),
        now,
        json!({
            "result": answer.result, "details": answer.details, "reference": answer.reference,
            "decided_at": decided_at, "by_name": p.display_name, "status": updated.status,
            "late": r.reply_due_at.is_some_and(|d| now > d),
        }),
    ));
    let to_addr = match r.from_unit_id {
        Some(u) => unit_addresses(&*w, u).await?,
        None => Vec::new(),
    };
    w.mail(mail::notice(
        &state.settings.public_url,
        &c,
        &updated,
        Notice::Replied,
        None,
        &to_addr,
    ));
    w.commit().await?;
    done(state, &updated, &c).await
}

pub async fn withdraw(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: WithdrawBody,
) -> Result<ReferralView> {
    let reason = required("reason", &body.reason, 2000)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let sides = [Side::Sender, Side::CaseHandler, Side::Hotline];
    let (r, c, to) = begin(&*w, p, id, Act::Withdraw, body.version, &sides).await?;
    let withdrawal = Withdrawal {
        reason: reason.clone(),
        by: p.user_id,
        at: now,
    };
    let updated = save(
        &*w,
        &r,
        referral::ActiveModel {
            status: Set(to),
            withdrawal: Set(Some(to_json(&withdrawal)?)),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(r.id, KINDS).await?;
    w.event(event(
        &c,
        &updated,
        "referral.withdrawn",
        Some(p.user_id),
        now,
        json!({ "reason": reason, "by_name": p.display_name, "status": updated.status }),
    ));
    let to_addr = unit_addresses(&*w, r.to_unit_id).await?;
    w.mail(mail::notice(
        &state.settings.public_url,
        &c,
        &updated,
        Notice::Withdrawn,
        None,
        &to_addr,
    ));
    w.commit().await?;
    done(state, &updated, &c).await
}

/// Supervisors and the hotline issue an urging opinion.
pub async fn urge(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: UrgeBody,
) -> Result<ReferralView> {
    let opinion = required("opinion", &body.opinion, 4000)?;
    let now = state.now();
    let cal = state.calendar().await?;
    let mut w = state.work_at(now).await?;
    let sides = [Side::Supervisor, Side::Hotline];
    let (r, c, _) = begin(&*w, p, id, Act::Urge, body.version, &sides).await?;
    let by = Some((p.user_id, p.display_name.clone()));
    let updated = engine::urge(&mut w, &state.settings, &cal, &c, &r, &opinion, by).await?;
    w.commit().await?;
    done(state, &updated, &c).await
}
