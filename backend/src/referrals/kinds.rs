//! The referral's deadline kinds and the deadline rows' subject kind.
//! Their windows count working days when `[calendar] working_days` names
//! the kind (`CalendarSettings::due`; the default for all three).
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
