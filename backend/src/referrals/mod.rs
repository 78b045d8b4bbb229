//! Referrals between agencies (issue 14): the handling unit keeps the
//! case, and the co-operating bodies receive referrals they must accept
//! (or decline), answer, and are urged to answer when they stay silent.
//! A referral is a record beside the case with its own deadlines (rows,
//! fired once), compare-and-set on `version`, events on the case timeline
//! and live feed (the receiving unit gets its referrals live), and mail.
//!
//! - `settings`: `[deadlines.referrals]` (pure).
//! - `entity`: the tables (store).
//! - `engine`: send, co-handling at intake, urge, the close rule (core, on
//!   a `Work`); `record`: transitions, the case event, the save; `kinds`:
//!   the deadline kinds; `clocks`: what a fired deadline means; `scope`: who sees
//!   what; `view`: the API shape and the masked case header;
//!   `recipients` and `mail`: who is told, and the texts.
//! - `service`: the use cases; `query`: reads; `co_handling`: the admin
//!   rules; `report`: the figures.
pub mod bodies;
pub mod clocks;
pub mod co_handling;
pub mod engine;
pub mod entity;
pub mod kinds;
pub mod mail;
pub mod query;
pub mod recipients;
pub mod record;
pub mod report;
pub mod scope;
pub mod service;
pub mod settings;
pub mod view;
