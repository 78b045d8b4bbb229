//! `[measures]`: the clocks of protective measures, every figure in
//! seconds (Anti-Domestic Violence Law arts. 17, 28, 30; DOMAIN.md).
use serde::Deserialize;

const DAY: i64 = 24 * 3600;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MeasureSettings {
    /// Follow-up visits (查访) after a written warning, counted from its
    /// issue, each for the village committee and the police station.
    pub visits_s: Vec<i64>,
    /// The court rules on a protection order within this…
    pub decision_s: i64,
    /// …or this when the application is urgent.
    pub decision_urgent_s: i64,
    /// Notice before a protection order expires.
    pub expiry_notice_s: i64,
    /// Longest validity of a protection order, in months from its start.
    pub max_months: u32,
}

impl Default for MeasureSettings {
    fn default() -> Self {
        MeasureSettings {
            visits_s: vec![7 * DAY, 30 * DAY],
            decision_s: 72 * 3600,
            decision_urgent_s: 24 * 3600,
            expiry_notice_s: 14 * DAY,
            max_months: 6,
        }
    }
}
