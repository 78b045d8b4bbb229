//! Safe contact: whether, when and how a woman may be called or texted
//! without putting her at risk (an abuser may hold her phone). One shape
//! for the case's subject (issue 18) and the ledger person (issue 17);
//! pure and unit-tested.
//!
//! `safe_hours` is Beijing local time, `"HH:MM-HH:MM"`; a window that ends
//! before it starts runs over midnight (`"22:00-06:00"`).

use chrono::{DateTime, FixedOffset, NaiveTime, Offset, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafeContact {
    /// False: nobody calls her (callbacks are not scheduled, the console
    /// refuses to dial without an override).
    pub safe_to_call: bool,
    /// Beijing time window, `"HH:MM-HH:MM"`; null: any time.
    #[serde(default)]
    pub safe_hours: Option<String>,
    /// True: no SMS is ever sent to her number.
    #[serde(default)]
    pub no_sms: bool,
    /// A word the caller uses to show it is safe to talk.
    #[serde(default)]
    pub code_word: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Why a `SafeContact` was refused: (field, message).
pub type Invalid = (&'static str, &'static str);

impl SafeContact {
    /// Trims the texts (empty → null) and checks the window and lengths.
    pub fn normalised(mut self) -> Result<SafeContact, Invalid> {
        fn clean(v: Option<String>) -> Option<String> {
            v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
        }
        self.safe_hours = clean(self.safe_hours);
        self.code_word = clean(self.code_word);
        self.notes = clean(self.notes);
        if let Some(h) = &self.safe_hours {
            parse_window(h).ok_or(("safe_hours", "must be HH:MM-HH:MM (Beijing time)"))?;
        }
        if self
            .code_word
            .as_ref()
            .is_some_and(|s| s.chars().count() > 50)
        {
            return Err(("code_word", "at most 50 characters"));
        }
        if self.notes.as_ref().is_some_and(|s| s.chars().count() > 500) {
            return Err(("notes", "at most 500 characters"));
        }
        Ok(self)
    }

    /// May she be called at `at`? False when calls are unsafe or `at` is
    /// outside her safe hours.
    pub fn may_call_at(&self, at: DateTime<Utc>) -> bool {
        if !self.safe_to_call {
            return false;
        }
        let Some((from, to)) = self.safe_hours.as_deref().and_then(parse_window) else {
            return true;
        };
        let local = at.with_timezone(&beijing()).time();
        if from <= to {
            local >= from && local < to
        } else {
            local >= from || local < to
        }
    }

    /// May a text be sent to her?
    pub fn may_text(&self) -> bool {
        !self.no_sms
    }
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

fn parse_window(s: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (a, b) = s.split_once('-')?;
    let from = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let to = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
    (from != to).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at_beijing(h: u32, m: u32) -> DateTime<Utc> {
        beijing()
            .with_ymd_and_hms(2026, 12, 2, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn contact(hours: Option<&str>) -> SafeContact {
        SafeContact {
            safe_to_call: true,
            safe_hours: hours.map(str::to_string),
            ..SafeContact::default()
        }
    }

    #[test]
    fn unsafe_means_never() {
        let c = SafeContact {
            safe_to_call: false,
            ..SafeContact::default()
        };
        assert!(!c.may_call_at(at_beijing(10, 0)));
    }

    #[test]
    fn window_in_beijing_time() {
        let c = contact(Some("09:00-11:30"));
        assert!(c.may_call_at(at_beijing(9, 0)));
        assert!(c.may_call_at(at_beijing(11, 29)));
        assert!(!c.may_call_at(at_beijing(11, 30)));
        assert!(!c.may_call_at(at_beijing(20, 0)));
        assert!(contact(None).may_call_at(at_beijing(3, 0)));
    }

    #[test]
    fn window_over_midnight() {
        let c = contact(Some("22:00-06:00"));
        assert!(c.may_call_at(at_beijing(23, 0)));
        assert!(c.may_call_at(at_beijing(5, 59)));
        assert!(!c.may_call_at(at_beijing(12, 0)));
    }

    #[test]
    fn normalised_checks_and_trims() {
        assert_eq!(
            contact(Some("9点")).normalised().unwrap_err().0,
            "safe_hours"
        );
        assert_eq!(
            contact(Some("10:00-10:00")).normalised().unwrap_err().0,
            "safe_hours"
        );
        let c = SafeContact {
            code_word: Some("  ".into()),
            ..contact(Some(" 08:00-09:00 "))
        };
        let c = c.normalised().unwrap();
        assert_eq!(c.code_word, None);
        assert_eq!(c.safe_hours.as_deref(), Some("08:00-09:00"));
    }
}
