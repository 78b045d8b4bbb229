//! The deadline policy (`[deadlines]`): case clocks and the escalation
//! tables, every figure in seconds.
use serde::Deserialize;

/// Deadline policy, every figure in seconds. Snapshotted onto each
/// escalation when it opens, so a policy change never moves a running clock.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeadlinePolicy {
    #[serde(deserialize_with = "imminent_policy")]
    pub imminent: EscalationPolicy,
    #[serde(deserialize_with = "high_policy")]
    pub high: EscalationPolicy,
    pub accept_urgent_s: i64,
    pub accept_high_s: i64,
    pub accept_normal_s: i64,
    pub accept_low_s: i64,
    pub resolve_s: i64,
    pub resolve_mediation_s: i64,
    pub follow_up_s: i64,
    pub confirmation_window_s: i64,
    pub confirmation_reminder_s: i64,
    /// A case left `new` at the hotline centre (nobody covers the place,
    /// or a unit declined it) must be dispatched within this.
    pub dispatch_s: i64,
    /// The same for an urgent case.
    pub dispatch_urgent_s: i64,
    /// A missed accept, resolve or dispatch deadline is repeated this often
    /// until the case moves on; from the second miss the supervisors one
    /// region level up are told too.
    pub case_remind_every_s: i64,
    /// `[deadlines.referrals]`: the referral kinds and their windows.
    pub referrals: crate::referrals::settings::ReferralSettings,
    /// A registered mediation holds its first session within this of the
    /// case's acceptance (People's Mediation Law; DOMAIN.md).
    pub mediation_first_session_s: i64,
    /// A visit to a person on the ledger sets her next review this much
    /// later (seed 二(三): periodic attention); new persons get their
    /// first review this long after they are imported.
    pub ledger_review_s: i64,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationPolicy {
    pub acknowledge_s: i64,
    pub first_action_s: i64,
    pub raise_every_s: i64,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy::HIGH
    }
}

/// An escalation table as written: keys left out keep the defaults of
/// *that* urgency (a partial `[deadlines.imminent]` must not borrow the
/// `high` figures).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialPolicy {
    acknowledge_s: Option<i64>,
    first_action_s: Option<i64>,
    raise_every_s: Option<i64>,
}

impl PartialPolicy {
    fn over(self, base: EscalationPolicy) -> EscalationPolicy {
        EscalationPolicy {
            acknowledge_s: self.acknowledge_s.unwrap_or(base.acknowledge_s),
            first_action_s: self.first_action_s.unwrap_or(base.first_action_s),
            raise_every_s: self.raise_every_s.unwrap_or(base.raise_every_s),
        }
    }
}

fn imminent_policy<'de, D: serde::Deserializer<'de>>(d: D) -> Result<EscalationPolicy, D::Error> {
    Ok(PartialPolicy::deserialize(d)?.over(EscalationPolicy::IMMINENT))
}

fn high_policy<'de, D: serde::Deserializer<'de>>(d: D) -> Result<EscalationPolicy, D::Error> {
    Ok(PartialPolicy::deserialize(d)?.over(EscalationPolicy::HIGH))
}

impl EscalationPolicy {
    pub const IMMINENT: EscalationPolicy = EscalationPolicy {
        acknowledge_s: 5 * 60,
        first_action_s: 30 * 60,
        raise_every_s: 5 * 60,
    };
    pub const HIGH: EscalationPolicy = EscalationPolicy {
        acknowledge_s: 15 * 60,
        first_action_s: 2 * 3600,
        raise_every_s: 15 * 60,
    };
}

const DAY: i64 = 24 * 3600;

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            imminent: EscalationPolicy::IMMINENT,
            high: EscalationPolicy::HIGH,
            accept_urgent_s: 3600,
            accept_high_s: 4 * 3600,
            accept_normal_s: DAY,
            accept_low_s: 3 * DAY,
            resolve_s: 15 * DAY,
            resolve_mediation_s: 30 * DAY,
            follow_up_s: 7 * DAY,
            confirmation_window_s: 30 * DAY,
            confirmation_reminder_s: 20 * DAY,
            dispatch_s: 3600,
            dispatch_urgent_s: 15 * 60,
            case_remind_every_s: DAY,
            referrals: Default::default(),
            mediation_first_session_s: 7 * DAY,
            ledger_review_s: 180 * DAY,
        }
    }
}
