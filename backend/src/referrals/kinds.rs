//! The referral's deadline kinds, the deadline rows' subject kind, and
//! when a clock of a kind is due (working days when `[calendar]
//! working_days` names the kind).
use chrono::{DateTime, Utc};

use crate::{calendar::Calendar, config::Settings};

/// The deadline rows' subject kind.
pub const SUBJECT: &str = "referral";

pub const ACCEPT: &str = "referral.accept";
pub const ACCEPT_REMIND: &str = "referral.accept.remind";
pub const REPLY: &str = "referral.reply";
pub const REPLY_REMIND: &str = "referral.reply.remind";
pub const URGING: &str = "referral.urging";

/// Every kind `clocks` fires.
pub const KINDS: &[&str] = &[ACCEPT, ACCEPT_REMIND, REPLY, REPLY_REMIND, URGING];
/// Stopped by acceptance.
pub const ACCEPT_KINDS: &[&str] = &[ACCEPT, ACCEPT_REMIND];

/// A referral clock of `kind` started at `from` with a window of `secs`:
/// whole days are working days when `[calendar] working_days` names the
/// kind (the default for accept, reply and urging), else 24×7.
pub fn due_at(
    settings: &Settings,
    cal: &Calendar,
    kind: &str,
    from: DateTime<Utc>,
    secs: i64,
) -> DateTime<Utc> {
    cal.add_window(from, secs, settings.calendar.counts_working_days(kind))
}
