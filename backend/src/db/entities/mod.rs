//! sea-orm entities, one module per table. These stay inside the storage
//! layer: handlers and response bodies use domain types instead.
//! Enumerated columns carry the `vocab` types (sea-orm active enums over
//! the same strings): a stored value no release wrote fails the read.

mod accounts;
mod casework;
mod escalations;
mod runtime;

pub use accounts::{audit_entry, login_failure, region, session, unit, user};
pub use casework::{call, case, case_event, case_handler, counter, routing_rule};
pub use escalations::{escalation, escalation_action};
pub use runtime::{deadline, job_run, mail};
