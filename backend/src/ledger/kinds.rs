//! The deadline kind of the ledger (what a fired one means: `clocks`).
/// A person's periodic review (回访) is due (subject: the person). A
/// reminder, never "overdue".
pub const REVIEW: &str = "ledger.review";
/// Every kind this domain schedules.
pub const KINDS: &[&str] = &[REVIEW];
