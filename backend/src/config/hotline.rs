//! `[calendar]` and `[callbacks]`: which clocks count working days, the
//! office hours, and the hotline's callbacks (issue 18).
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::calendar::Calendar;

/// The clocks that may count working days. Safety escalations, protection
/// orders and the other police clocks are not among them: they run 24×7.
pub const WORKING_DAY_KINDS: &[&str] = &[
    "case.accept",
    "case.resolve",
    "referral.accept",
    "referral.reply",
    "referral.urging",
    "callback.missed_call",
    "callback.satisfaction",
];

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarSettings {
    /// The clocks that count working days (of [`WORKING_DAY_KINDS`]); a
    /// window shorter than a day always runs on the clock.
    pub working_days: Vec<String>,
    /// The office day on working days, Beijing time (`"HH:MM-HH:MM"`):
    /// a missed call's callback is due within office time.
    pub office_hours: String,
}

impl Default for CalendarSettings {
    fn default() -> Self {
        CalendarSettings {
            working_days: WORKING_DAY_KINDS.iter().map(|s| s.to_string()).collect(),
            office_hours: "08:30-17:30".into(),
        }
    }
}

impl CalendarSettings {
    pub fn counts_working_days(&self, kind: &str) -> bool {
        self.working_days.iter().any(|k| k == kind)
    }

    /// When a clock of `kind` started at `from` with a window of `secs` is
    /// due: whole days count working days when the kind is listed (and the
    /// window is a day or more), else it runs 24×7.
    pub fn due(&self, cal: &Calendar, kind: &str, from: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        cal.add_window(from, secs, self.counts_working_days(kind))
    }

    pub fn check(&self) -> Result<(), String> {
        if let Some(bad) = self
            .working_days
            .iter()
            .find(|k| !WORKING_DAY_KINDS.contains(&k.as_str()))
        {
            return Err(format!(
                "{bad:?} cannot count working days; use some of {} (safety clocks run 24×7)",
                WORKING_DAY_KINDS.join(", ")
            ));
        }
        if crate::calendar::parse_office_hours(&self.office_hours).is_none() {
            return Err("office_hours must be HH:MM-HH:MM, opening before closing".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackSettings {
    /// A missed call is called back within this much office time.
    pub missed_within_s: i64,
    /// A resolved case's satisfaction callback is due this long after the
    /// resolve (working days when `callback.satisfaction` is in
    /// `[calendar] working_days`).
    pub satisfaction_after_s: i64,
    /// Unreachable attempts that close a callback as `unreachable`.
    pub max_unreachable: usize,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            missed_within_s: 2 * 3600,
            satisfaction_after_s: 24 * 3600,
            max_unreachable: 3,
        }
    }
}
