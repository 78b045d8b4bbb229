//! Every end-to-end test of the server in one binary (one link instead of
//! eight; each module is a part of the product). Each test starts the real
//! server on port 0 against a fresh SQLite file, or a fresh PostgreSQL
//! database when `LIANXIN_TEST_DATABASE_URL` is set (`lianxin_tests`).
mod admin;
mod changes;
mod common;
mod console;
mod email;
mod escalation;
mod finding;
mod foundation;
mod hotline;
mod intake;
mod ledger;
mod ledger_edit;
mod live;
mod mediation;
mod ops;
mod police;
mod referrals;
mod reports;
mod safety;
mod scheduler;
mod security;
