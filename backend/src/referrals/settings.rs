//! The referral settings, `[deadlines.referrals]` in the TOML file: the
//! kinds of referral (each with the unit kind that receives it by default
//! and its reply window), the accept window, the reply window of an
//! urging opinion, and when an unanswered referral is checked again.
//! Every figure in seconds; a window of whole days counts working days
//! when `[calendar] working_days` names its clock (`referral.accept`,
//! `referral.reply`, `referral.urging`: the default).
//! Pure: config.rs holds one field of this type.
use serde::{Deserialize, Serialize};

use crate::vocab::UnitKind;

const DAY: i64 = 24 * 3600;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReferralSettings {
    /// The receiving body must accept or decline within this
    /// (Women's Rights Law art. 76: promptly; 2 working days).
    pub accept_s: i64,
    /// The reply window of a kind that names none (art. 73: 15 days).
    pub reply_s: i64,
    /// The reply window of an urging opinion (art. 73: 15 days).
    pub urging_reply_s: i64,
    /// After a missed accept or reply deadline, the referral is checked
    /// again this much later; still unanswered, it is urged automatically,
    /// addressed to the supervisors one region level up.
    pub remind_after_s: i64,
    /// The kinds of referral, in the order the console offers them.
    pub kinds: Vec<KindSettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindSettings {
    pub name: String,
    /// Who receives it when the sender names no unit: the nearest active
    /// unit of this kind at or above the case's place.
    pub unit_kind: UnitKind,
    /// Its reply window; `reply_s` when absent.
    pub reply_s: Option<i64>,
}

fn kind(name: &str, unit_kind: UnitKind, reply_s: Option<i64>) -> KindSettings {
    KindSettings {
        name: name.to_string(),
        unit_kind,
        reply_s,
    }
}

impl Default for ReferralSettings {
    fn default() -> Self {
        use UnitKind::*;
        ReferralSettings {
            accept_s: 2 * DAY,
            reply_s: 15 * DAY,
            urging_reply_s: 15 * DAY,
            remind_after_s: DAY,
            kinds: vec![
                // Legal Aid Law art. 43: a decision within 7 days.
                kind("legal_aid", LegalAid, Some(7 * DAY)),
                kind("counselling", SocialOrganization, None),
                kind("minimum_living_allowance", CivilAffairs, None),
                kind("temporary_assistance", CivilAffairs, Some(DAY)),
                kind("two_cancer_screening", Health, None),
                kind("two_cancer_relief", WomensFederation, None),
                kind("rehabilitation", DisabledPersonsFederation, None),
                kind("employment_training", HumanResources, None),
                kind("employment_rights", HumanResources, None),
                kind("family_education", WomensFederation, None),
                kind("federation_project", WomensFederation, None),
                kind("shelter", CivilAffairs, None),
                kind("land_contract", Agriculture, None),
                kind("mediation", MediationCommittee, None),
                kind("police", Police, None),
                kind("other", TownshipGovernment, None),
            ],
        }
    }
}

impl ReferralSettings {
    pub fn kind(&self, name: &str) -> Option<&KindSettings> {
        self.kinds.iter().find(|k| k.name == name)
    }

    /// The reply window of a kind, in seconds.
    pub fn reply_window_s(&self, name: &str) -> i64 {
        self.kind(name)
            .and_then(|k| k.reply_s)
            .unwrap_or(self.reply_s)
    }

    /// The kind names, for error messages.
    pub fn allowed(&self) -> String {
        self.kinds
            .iter()
            .map(|k| k.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_law_and_a_partial_table_keeps_them() -> Result<(), toml::de::Error> {
        let s = ReferralSettings::default();
        assert_eq!(s.reply_window_s("legal_aid"), 7 * DAY);
        assert_eq!(s.reply_window_s("temporary_assistance"), DAY);
        assert_eq!(s.reply_window_s("counselling"), 15 * DAY);
        assert_eq!(s.kinds.len(), 16);
        let t: ReferralSettings = toml::from_str("accept_s = 60\n")?;
        assert_eq!(t.accept_s, 60);
        assert_eq!(t.kinds, s.kinds);
        assert!(toml::from_str::<ReferralSettings>("accept = 1\n").is_err());
        Ok(())
    }
}
