//! Cases: intake, routing, the lifecycle and its timeline, scope and
//! masking. `service` holds one transaction per use case; `query` the
//! scoped reads; `intake` writes new cases in batches (group commit);
//! `model` and `routing` are pure.
pub mod intake;
pub mod model;
pub mod query;
pub mod routing;
pub mod scope;
pub mod service;
pub mod view;
