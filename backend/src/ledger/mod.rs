//! The county ledger of left-behind women (信息台账, issue 17; seed 一(五),
//! 二(三)): screening files imported, persons kept with their flags, safe
//! contact and visits, reviews reminded, cases linked, and the summary
//! the operator's screen pop shows.
//!
//! - `entity`: the tables (store).
//! - `record`: a person as input, flags, left behind as of a day; `parse`:
//!   a CSV/XLSX file into checked rows (core, pure).
//! - `store`: persons written in bulk and changed by an import; `link`:
//!   the screen pop's lookup and case links; `scope`: who reads whom;
//!   `view`: the API shapes; `kinds`/`clocks`: the review deadline (core).
//! - `import`, `query`, `service`, `report`, `digest`, `sample`,
//!   `contacts` (who may be her contact person): the use cases.
pub mod clocks;
pub mod contacts;
pub mod digest;
pub mod entity;
pub mod import;
pub mod kinds;
pub mod link;
pub mod parse;
pub mod query;
pub mod record;
pub mod report;
pub mod sample;
pub mod scope;
pub mod service;
pub mod store;
pub mod view;
