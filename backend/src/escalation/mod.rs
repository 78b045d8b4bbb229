//! Safety escalations to the police: opened with the case (danger screen,
//! a `safety_threat`, a raised risk) or by hand, sent to the police unit of
//! the place, raised level by level when nobody acknowledges, and worked by
//! the police liaison (acknowledge, actions, resolve). Every step is a case
//! event in the same unit of work, with its emails queued in the outbox and
//! its deadlines as rows.
//!
//! - `view`: the API's shape of an escalation.
//! - `chain`: the police unit of each level, handlers, mail addresses.
//! - `engine`: open, raise, missed first action (domain core, on a `Work`).
//! - `opening`: the rows, deadlines, events and mail of new escalations,
//!   a whole intake batch's in one statement per table.
//! - `tighten`: open one, or move the open one to stricter clocks.
//! - `service`: the police liaison's use cases, reads, hand escalation.
//! - `police_ref`: the 110 reference and the hotline's `reported_to_110`.
//! - `mail`: the texts.
pub mod chain;
mod engine;
mod kinds;
pub mod mail;
mod opening;
mod police_ref;
mod service;
pub mod tighten;
pub mod view;
mod warning;

pub use chain::{add_handler, police_unit_for, supervisor_addresses, unit_addresses};
pub use engine::{action_missed, open_one, policy_for, raise};
pub use opening::{announce_planned, open, open_many, plan, write_planned, ToOpen};
pub use police_ref::{reported_to_110, set_external_ref, ExternalRefBody, ReportedTo110Body};
pub use service::{
    acknowledge, escalate_by_hand, get, list, record_action, resolve, ActionBody, ListQuery,
    NewEscalation, ResolveBody, VersionBody,
};
pub use tighten::open_or_tighten;
pub use view::{latest_for_case, latest_for_cases, view, views, ActionView, EscalationView};

pub use kinds::{ACK_DEADLINE, ACTION_DEADLINE, TOP_LEVEL};
