//! Lianxin (连心): the real-time case server behind the 12338 women's rights
//! hotline.
//!
//! Crate map (data flows down; see ARCHITECTURE.md):
//! - [`config`], [`clock`], [`shutdown`], [`telemetry`], [`state`], [`app`]:
//!   wiring — settings, time, one shutdown signal, logs and metrics.
//! - [`http`]: the only module that knows axum, status codes and JSON shapes.
//! - Domain services, each one transaction per use case: [`auth`],
//!   [`admin`], [`regions`], [`calls`] (calls, screen pop, CTI), [`cases`]
//!   (intake, routing, lifecycle, scope), [`escalation`] (police
//!   escalations and their emails), [`measures`] (protective measures),
//!   [`ledger`] (the ledger of left-behind women).
//! - [`scheduler`]: the second driver — the deadline engine and cron jobs.
//! - Stores that sit at the bottom and import no domain module:
//!   [`events`] (the case event log), [`deadlines`], [`notify`]'s outbox,
//!   [`audit`].
//! - [`realtime`]: the live feed hub.
//! - [`db`]: connections, the SQLite writer lock, entities, the WAL bound.
//! - [`backup`]: `lianxin backup` / `restore` (online, optionally encrypted).
//! - [`work`]: the unit of work — a write transaction with its events,
//!   mail and deadlines, committed together and woken after.
pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod calendar;
pub mod calls;
pub mod cases;
pub mod clock;
pub mod config;
pub mod db;
pub mod deadlines;
pub mod demo;
pub mod error;
pub mod escalation;
pub mod events;
pub mod hotline;
pub mod http;
pub mod ledger;
pub mod measures;
pub mod mediation;
pub mod notify;
pub mod patch;
pub mod realtime;
pub mod referrals;
pub mod regions;
pub mod reports;
pub mod scheduler;
pub mod server;
pub mod shutdown;
pub mod state;
pub mod telemetry;
pub mod vocab;
pub mod work;
