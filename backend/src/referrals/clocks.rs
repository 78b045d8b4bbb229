//! The clocks of a referral and what a fired one means.
//!
//! Accept (`referral.accept`, from sending) and reply (`referral.reply`,
//! from acceptance, per kind) are rows in `deadlines`. A miss appends
//! `deadline.missed {kind: referral_accept|referral_reply}`, marks the
//! referral overdue, mails the receiver, the sender and the supervisors
//! over the receiver, and checks again `remind_after_s` later
//! (`*.remind`); still unanswered then, the referral is urged
//! automatically, addressed to the supervisors one region level up. An
//! urging opinion has its own reply deadline (`referral.urging`); its miss
//! is a `referral_reply` miss too. A row that fires after the referral
//! moved on is a no-op.
use chrono::Duration;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;

pub use super::kinds::{ACCEPT, ACCEPT_KINDS, ACCEPT_REMIND, KINDS, REPLY, REPLY_REMIND, URGING};
use super::{
    engine::urge,
    entity::referral,
    kinds::SUBJECT,
    mail::{self, Notice},
    recipients::{receiver_side, supervisor_levels},
    record::{event, save},
    view::{json as to_json, urgings_of},
};
use crate::{
    calendar::Calendar, config::Settings, db::entities::case, deadlines::Deadline, error::Result,
    vocab::ReferralStatus, work::Work,
};

/// Apply a fired referral deadline inside the engine's claim transaction.
/// Returns false when its condition was met in the meantime.
pub async fn fire(w: &mut Work, settings: &Settings, cal: &Calendar, d: &Deadline) -> Result<bool> {
    let Some(r) = referral::Entity::find_by_id(d.subject_id).one(&**w).await? else {
        return Ok(false);
    };
    let Some(c) = case::Entity::find_by_id(r.case_id).one(&**w).await? else {
        return Ok(false);
    };
    let status = r.status;
    let (name, owed, second) = match d.kind.as_str() {
        ACCEPT => ("referral_accept", ReferralStatus::Sent, false),
        ACCEPT_REMIND => ("referral_accept", ReferralStatus::Sent, true),
        REPLY => ("referral_reply", ReferralStatus::Accepted, false),
        REPLY_REMIND => ("referral_reply", ReferralStatus::Accepted, true),
        URGING if status.is_open() => return urging_missed(w, settings, &c, &r, d).await,
        _ => return Ok(false),
    };
    if status != owed {
        return Ok(false);
    }
    let now = w.now;
    let r = save(
        &**w,
        &r,
        referral::ActiveModel {
            overdue: Set(true),
            ..Default::default()
        },
        now,
    )
    .await?;
    let next_check = (!second).then(|| {
        now + Duration::seconds(Ord::max(settings.deadlines.referrals.remind_after_s, 60))
    });
    w.event(event(
        &c,
        &r,
        "deadline.missed",
        None,
        now,
        json!({
            "kind": name,
            "due_at": d.due_at,
            "miss": if second { 2 } else { 1 },
            "next_check_at": next_check,
            "status": r.status,
        }),
    ));
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => name).increment(1);
    if let Some(at) = next_check {
        let remind = if owed == ReferralStatus::Sent {
            ACCEPT_REMIND
        } else {
            REPLY_REMIND
        };
        w.schedule(SUBJECT, r.id, remind, at).await?;
        let to = receiver_side(&**w, &r, 1).await?;
        w.mail(mail::notice(
            &settings.public_url,
            &c,
            &r,
            Notice::Missed(name),
            Some(d.due_at),
            &to,
        ));
    } else {
        let opinion =
            "转介逾期未处理，系统自动督促：请立即处理并答复（《妇女权益保障法》第七十三条） / \
the referral was not handled in time: an automatic urging opinion (Women's Rights Law art. 73)";
        urge(w, settings, cal, &c, &r, opinion, None).await?;
    }
    Ok(true)
}

/// An urging opinion's reply deadline passed with the referral still
/// unanswered: a `referral_reply` miss, told to the supervisors it was
/// addressed to as well.
async fn urging_missed(
    w: &mut Work,
    settings: &Settings,
    c: &case::Model,
    r: &referral::Model,
    d: &Deadline,
) -> Result<bool> {
    let now = w.now;
    let mut urgings = urgings_of(r)?;
    let Some(u) = urgings
        .iter_mut()
        .find(|u| !u.missed && u.reply_due_at <= now)
    else {
        return Ok(false);
    };
    u.missed = true;
    let missed = u.clone();
    let r = save(
        &**w,
        r,
        referral::ActiveModel {
            overdue: Set(true),
            urgings: Set(to_json(&urgings)?),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.event(event(
        c,
        &r,
        "deadline.missed",
        None,
        now,
        json!({
            "kind": "referral_reply",
            "urging_id": missed.id,
            "due_at": d.due_at,
            "status": r.status,
        }),
    ));
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => "referral_urging").increment(1);
    let mut to = receiver_side(&**w, &r, 1).await?;
    if let Some(region) = &missed.addressed_to {
        for (code, emails) in supervisor_levels(&**w, &r.to_region_code).await? {
            if &code == region {
                to.extend(emails);
            }
        }
    }
    w.mail(mail::notice(
        &settings.public_url,
        c,
        &r,
        Notice::Missed("referral_reply"),
        Some(missed.reply_due_at),
        &to,
    ));
    Ok(true)
}
