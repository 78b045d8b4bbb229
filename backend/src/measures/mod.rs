//! Protective measures on a case (issue 15; Anti-Domestic Violence Law
//! arts. 16–17, 23–32): written warnings with their follow-up visits,
//! protection orders with the court's decision clock, the six-month rule
//! and the expiry notice, shelter and injury assessments; violations
//! reopen the escalation at `imminent`.
//!
//! - `entity`: the tables (store); `settings`: `[measures]` (pure).
//! - `view`: the API's shape; `mail`: the texts.
//! - `recording`: record one, the places concerned, who is told (domain core).
//! - `decide`: decision, extension, violation, visit done (domain core).
//! - `kinds`: the deadline kinds; `clocks`: what a fired one means.
//! - `service`: the use cases; `query`: reads and the scoped list.
pub mod clocks;
pub mod decide;
pub mod entity;
pub mod kinds;
pub mod mail;
pub mod query;
pub mod recording;
pub mod service;
pub mod settings;
pub mod view;
