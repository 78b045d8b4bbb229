//! Types that parse input once and cannot be wrong afterwards: phone
//! numbers, resident ID numbers, the danger screen, and the case state
//! machine as a pure function.
use serde::{Deserialize, Serialize};

use crate::vocab::{CaseStatus, RiskLevel};

/// A mainland phone number in its one stored form: digits only; mobiles as
/// 11 digits (`13812345678`), landlines with the area code's leading zero
/// (`07735512345`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts spaces, dashes, dots, brackets and the `+86` / `0086` / `86`
    /// prefixes. Refuses foreign numbers and anything that is not a
    /// mainland mobile or a landline with an area code.
    pub fn parse(raw: &str) -> Result<PhoneNumber, &'static str> {
        let mut s: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{3000}'))
            .collect();
        if s.is_empty() {
            return Err("is empty");
        }
        let international = if let Some(rest) = s.strip_prefix('+') {
            s = rest.to_string();
            true
        } else if let Some(rest) = s.strip_prefix("00") {
            s = rest.to_string();
            true
        } else {
            false
        };
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err("may contain only digits, spaces, dashes and a leading +86");
        }
        if international {
            match s.strip_prefix("86") {
                Some(rest) => {
                    // +86 numbers drop the trunk zero of the area code.
                    s = if rest.starts_with('1') {
                        rest.to_string()
                    } else {
                        format!("0{}", rest.trim_start_matches('0'))
                    };
                }
                None => return Err("is not a mainland China number (+86)"),
            }
        } else if s.len() == 13 && s.starts_with("861") {
            s = s[2..].to_string();
        }
        if s.starts_with('1') {
            let ok = s.len() == 11 && matches!(s.as_bytes()[1], b'3'..=b'9');
            return if ok {
                Ok(PhoneNumber(s))
            } else {
                Err("is not a valid mobile number (11 digits starting 13–19)")
            };
        }
        if let Some(rest) = s.strip_prefix('0') {
            if rest.starts_with('0') || rest.is_empty() {
                return Err("has no valid area code");
            }
            // 010 and 02x are three-digit area codes with 8-digit locals;
            // the rest are four digits with 7- or 8-digit locals.
            let short_area = rest.starts_with('1') || rest.starts_with('2');
            let ok = if short_area {
                s.len() == 11
            } else {
                s.len() == 11 || s.len() == 12
            };
            return if ok {
                Ok(PhoneNumber(s))
            } else {
                Err("is not a valid landline number (area code + 7 or 8 digits)")
            };
        }
        Err("is not a mobile number or a landline with area code")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`: the first three and last four digits.
    pub fn masked(&self) -> String {
        mask(&self.0, 3, 4)
    }
}

/// Keep `head` and `tail` characters, star the rest.
pub fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// A resident identity number (GB 11643-1999): 17 digits and a check
/// character, with a real birth date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(raw: &str) -> Result<IdNumber, &'static str> {
        let s = raw.trim().to_ascii_uppercase();
        let bytes = s.as_bytes();
        if bytes.len() != 18
            || !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err("must be 18 characters: 17 digits and a digit or X");
        }
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        const CHECK: &[u8; 11] = b"10X98765432";
        let sum: u32 = bytes[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        if CHECK[(sum % 11) as usize] != bytes[17] {
            return Err("fails the GB 11643 checksum");
        }
        if chrono::NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").is_err() {
            return Err("has no valid birth date");
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask(&self.0, 4, 4)
    }
}

/// The danger screen of API.md.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DangerScreen {
    pub in_progress: bool,
    pub answers: Vec<bool>,
    pub screener_concern: bool,
    pub notes: Option<String>,
}

impl DangerScreen {
    pub const QUESTIONS: usize = 11;

    pub fn validate(&self) -> Result<(), &'static str> {
        if self.answers.len() != Self::QUESTIONS {
            return Err("answers must hold exactly 11 booleans");
        }
        Ok(())
    }

    /// `imminent` if in progress; `high` if any of answers 1–3, or 4+ of
    /// answers 4–11, or the screener is concerned; `elevated` if any answer;
    /// else `none`.
    pub fn risk(&self) -> RiskLevel {
        if self.in_progress {
            return RiskLevel::Imminent;
        }
        let first_three = self.answers.iter().take(3).any(|a| *a);
        let rest = self.answers.iter().skip(3).filter(|a| **a).count();
        if first_three || rest >= 4 || self.screener_concern {
            RiskLevel::High
        } else if self.answers.iter().any(|a| *a) {
            RiskLevel::Elevated
        } else {
            RiskLevel::None
        }
    }
}

/// What someone wants to do to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Transfer,
    Decline,
    Note,
    RecordOutcome,
    Close,
    Reopen,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Accept,
        Action::Transfer,
        Action::Decline,
        Action::Note,
        Action::RecordOutcome,
        Action::Close,
        Action::Reopen,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Transfer => "transfer",
            Action::Decline => "decline",
            Action::Note => "add a note to",
            Action::RecordOutcome => "record the outcome of",
            Action::Close => "close",
            Action::Reopen => "reopen",
        }
    }
}

/// The case state machine. `Ok(next)` or `Err(reason)` → 409
/// `invalid_transition`. Notes do not change the status.
pub fn transition(from: CaseStatus, action: Action) -> Result<CaseStatus, String> {
    use CaseStatus::*;
    let next = match (from, action) {
        (Assigned, Action::Accept) => Some(InProgress),
        (New | Assigned | InProgress, Action::Transfer) => Some(Assigned),
        (Assigned, Action::Decline) => Some(New),
        (New | Assigned | InProgress | Resolved, Action::Note) => Some(from),
        (InProgress, Action::RecordOutcome) => Some(Resolved),
        (Resolved, Action::Close) => Some(Closed),
        (Resolved | Closed, Action::Reopen) => Some(InProgress),
        _ => None,
    };
    next.ok_or_else(|| format!("cannot {} a case that is {}", action.name(), from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::CaseStatus::*;

    #[test]
    fn phone_forms_normalise_to_one() {
        for raw in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "0086 13812345678",
            "8613812345678",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw).unwrap().as_str(),
                "13812345678",
                "{raw}"
            );
        }
        for raw in [
            "0773-5512345",
            "(0773) 551 2345",
            "+86 773 5512345",
            "+86-773-5512345",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw).unwrap().as_str(),
                "07735512345",
                "{raw}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("010-12345678").unwrap().as_str(),
            "01012345678"
        );
        assert_eq!(
            PhoneNumber::parse("0773-55123456").unwrap().as_str(),
            "077355123456"
        );
    }

    #[test]
    fn foreign_and_malformed_phones_are_refused() {
        for raw in [
            "",
            "12345",
            "+1 415 555 0100",
            "0044 20 7946 0958",
            "1381234567",
            "138123456789",
            "12812345678",
            "abc",
            "010-1234567",
            "0000-1234567",
            "12338",
        ] {
            assert!(PhoneNumber::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn masking_keeps_ends() {
        assert_eq!(
            PhoneNumber::parse("13812345678").unwrap().masked(),
            "138****5678"
        );
        assert_eq!(mask("ab", 3, 4), "**");
    }

    #[test]
    fn id_number_checksum() {
        // A well-known valid example (GB 11643 test value).
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        assert_eq!(
            IdNumber::parse("11010519491231002X").unwrap().masked(),
            "1101**********002X"
        );
        assert!(IdNumber::parse("110105194912310021").is_err());
        assert!(IdNumber::parse("1101051949123100").is_err());
    }

    fn screen(in_progress: bool, yes: &[usize], concern: bool) -> DangerScreen {
        let mut answers = vec![false; 11];
        for i in yes {
            answers[i - 1] = true;
        }
        DangerScreen {
            in_progress,
            answers,
            screener_concern: concern,
            notes: None,
        }
    }

    #[test]
    fn danger_screen_rule() {
        assert_eq!(screen(true, &[], false).risk(), RiskLevel::Imminent);
        assert_eq!(screen(false, &[2], false).risk(), RiskLevel::High);
        assert_eq!(screen(false, &[4, 5, 6, 7], false).risk(), RiskLevel::High);
        assert_eq!(screen(false, &[4, 5, 6], false).risk(), RiskLevel::Elevated);
        assert_eq!(screen(false, &[], true).risk(), RiskLevel::High);
        assert_eq!(screen(false, &[], false).risk(), RiskLevel::None);
        assert!(DangerScreen {
            answers: vec![true; 10],
            ..screen(false, &[], false)
        }
        .validate()
        .is_err());
    }

    #[test]
    fn every_transition_allowed_or_refused() {
        let statuses = [New, Assigned, InProgress, Resolved, Closed];
        let allowed: &[(CaseStatus, Action, CaseStatus)] = &[
            (Assigned, Action::Accept, InProgress),
            (New, Action::Transfer, Assigned),
            (Assigned, Action::Transfer, Assigned),
            (InProgress, Action::Transfer, Assigned),
            (Assigned, Action::Decline, New),
            (New, Action::Note, New),
            (Assigned, Action::Note, Assigned),
            (InProgress, Action::Note, InProgress),
            (Resolved, Action::Note, Resolved),
            (InProgress, Action::RecordOutcome, Resolved),
            (Resolved, Action::Close, Closed),
            (Resolved, Action::Reopen, InProgress),
            (Closed, Action::Reopen, InProgress),
        ];
        for from in statuses {
            for action in Action::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match (transition(from, action), expected) {
                    (Ok(to), Some(e)) => assert_eq!(to, e, "{from} {action:?}"),
                    (Err(msg), None) => assert!(msg.contains(from.as_str()), "{msg}"),
                    (got, want) => panic!("{from} {action:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }
}
