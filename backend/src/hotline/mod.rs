//! The hotline's own loop (issue 18). `entity.rs`: its tables;
//! `schedule.rs`: callbacks created on the unit of work of what causes
//! them (a missed call, a resolve); `view.rs`: the callback's API shape;
//! `callbacks.rs`: the queue, attempts, results (and re-handling);
//! `contact.rs`: her safe contact on a case; `follow_up.rs`: a follow-up
//! call scheduled from the case page.
pub mod callbacks;
pub mod contact;
pub mod entity;
pub mod extensions;
pub mod follow_up;
pub mod links;
pub mod report;
pub mod schedule;
pub mod view;
