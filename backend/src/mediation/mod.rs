//! Mediation as mediators do it (issue 16; People's Mediation Law): a
//! dispute registered with its parties and their consent (refused on an
//! unsafe case unless a stated, audited reason), its sessions with the
//! first one due after acceptance, an agreement with obligations whose
//! performance the mediator supervises, or a termination (to the police in
//! the same transaction when it may turn criminal); the agreement document
//! and the figures.
//!
//! - `entity`: the tables (store).
//! - `rules`: the request bodies, checked (core).
//! - `read`: loading and the compare-and-set update (core).
//! - `steps`: register, sessions, terminate (core, on a `Work`).
//! - `agreement`: the agreement, performance, the outcome rule (core).
//! - `clocks`: the first-session deadline and the performance reminder.
//! - `view`: the API shape, numbers masked; `document`: the 协议书.
//! - `service`: the use cases; `report`: the figures.
pub mod agreement;
pub mod clocks;
pub mod document;
pub mod entity;
pub mod read;
pub mod report;
pub mod rules;
pub mod service;
pub mod steps;
pub mod view;
