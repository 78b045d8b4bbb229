//! What every referral step shares: the transitions, the case event of a
//! referral, and the compare-and-set save.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::entity::referral;
use crate::{
    db::entities::case,
    error::{Error, Result},
    events::NewEvent,
    vocab::ReferralStatus,
};

/// What a user does to a referral.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    Accept,
    Decline,
    Reply,
    Withdraw,
    Urge,
}

impl Act {
    fn done(self) -> &'static str {
        match self {
            Act::Accept => "accepted",
            Act::Decline => "declined",
            Act::Reply => "answered",
            Act::Withdraw => "withdrawn",
            Act::Urge => "urged",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Act::Accept => "接收",
            Act::Decline => "退回",
            Act::Reply => "答复",
            Act::Withdraw => "撤回",
            Act::Urge => "督促",
        }
    }
}

/// The status after `act`, or why it may not happen (409
/// `invalid_transition`). Urging leaves the status as it is.
pub fn next(from: ReferralStatus, act: Act) -> std::result::Result<ReferralStatus, String> {
    use ReferralStatus::*;
    match (from, act) {
        (Sent, Act::Accept) => Ok(Accepted),
        (Sent, Act::Decline) => Ok(Declined),
        (Accepted, Act::Reply) => Ok(Replied),
        (Sent | Accepted, Act::Withdraw) => Ok(Withdrawn),
        (Sent | Accepted, Act::Urge) => Ok(from),
        (Sent, Act::Reply) => {
            Err("请先接收转介再答复 / accept the referral before replying to it".into())
        }
        _ => Err(format!(
            "转介状态为 {from}，不能{} / the referral is {from}; it cannot be {}",
            act.zh(),
            act.done()
        )),
    }
}

/// The referral's case event: the handling unit sees it, and the receiving
/// unit (in `prev_unit_id`, the event's second unit) gets it live.
pub fn event(
    c: &case::Model,
    r: &referral::Model,
    kind: &'static str,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    mut data: serde_json::Value,
) -> NewEvent {
    if let Some(obj) = data.as_object_mut() {
        obj.insert("referral_id".into(), json!(r.id));
        obj.insert("referral_number".into(), json!(r.number));
        obj.insert("referral_kind".into(), json!(r.kind));
        obj.insert("to_unit_id".into(), json!(r.to_unit_id));
        obj.insert("from_unit_id".into(), json!(r.from_unit_id));
    }
    NewEvent {
        case_id: c.id,
        case_number: c.number.clone(),
        kind,
        actor_id: actor,
        unit_id: c.assigned_unit_id,
        prev_unit_id: Some(r.to_unit_id),
        police_unit_id: None,
        region_code: c.region_code.clone(),
        at,
        data,
    }
}

/// Conditional update on version: the loser of a race gets 409.
pub async fn save(
    conn: &impl ConnectionTrait,
    r: &referral::Model,
    mut am: referral::ActiveModel,
    now: DateTime<Utc>,
) -> Result<referral::Model> {
    am.version = Set(r.version + 1);
    am.updated_at = Set(now);
    let res = referral::Entity::update_many()
        .set(am)
        .filter(referral::Column::Id.eq(r.id))
        .filter(referral::Column::Version.eq(r.version))
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    referral::Entity::find_by_id(r.id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("referral"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declined_or_withdrawn_referral_takes_no_further_step() {
        use ReferralStatus::*;
        assert_eq!(next(Sent, Act::Accept), Ok(Accepted));
        assert_eq!(next(Sent, Act::Decline), Ok(Declined));
        assert_eq!(next(Accepted, Act::Reply), Ok(Replied));
        assert_eq!(next(Accepted, Act::Withdraw), Ok(Withdrawn));
        assert_eq!(next(Sent, Act::Urge), Ok(Sent));
        assert!(next(Sent, Act::Reply).is_err());
        for done in [Declined, Withdrawn, Replied, Closed] {
            for act in [
                Act::Accept,
                Act::Decline,
                Act::Reply,
                Act::Withdraw,
                Act::Urge,
            ] {
                assert!(next(done, act).is_err(), "{done} {act:?}");
            }
        }
        assert!(ReferralStatus::Sent.is_open() && ReferralStatus::Accepted.is_open());
        assert!(!ReferralStatus::Replied.is_open());
    }
}
