//! The deadline kinds of measures (what each fired row means: `clocks`).
/// A protection order's decision is due (subject: the measure).
pub const DECISION: &str = "measure.decision";
/// A follow-up visit is due (subject: the visit).
pub const VISIT: &str = "measure.visit";
/// Notice before a granted order expires (subject: the measure).
pub const EXPIRY_NOTICE: &str = "measure.expiry_notice";
/// Every kind this domain schedules.
pub const KINDS: &[&str] = &[DECISION, VISIT, EXPIRY_NOTICE];
