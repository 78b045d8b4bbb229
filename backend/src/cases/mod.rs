//! Cases: intake, routing, the lifecycle and its timeline, scope and
//! masking. `service` holds one transaction per use case; `query` the
//! scoped reads; `intake` writes new cases in batches (group commit);
//! `directory` keeps
//! intake's routing inputs in memory; `model` and `routing` are pure.
pub mod clocks;
pub mod closing;
pub mod contact_safety;
pub mod directory;
pub mod intake;
pub mod intake_queue;
pub mod mandatory;
pub mod model;
pub mod moves;
pub mod open;
pub mod query;
pub mod record;
pub mod rehandle;
pub mod reporter;
pub mod risk;
pub mod routing;
pub mod scope;
pub mod service;
pub mod urge;
pub mod view;
