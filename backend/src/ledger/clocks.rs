//! The review clock of a ledger person and what a fired one means: her
//! periodic visit (回访) is due, so she is on her township's reminder list
//! (`review_due=true`) and in the weekly mail (`digest`). It is a
//! reminder: never "overdue", no figure counts it as missed, and no mail
//! per person (an import of 100,000 would be 100,000 letters). One whose
//! review a visit moved on is a no-op.
use sea_orm::EntityTrait;

use super::entity::person;
use crate::{deadlines::Deadline, error::Result, work::Work};

pub use super::kinds::{KINDS, REVIEW};

pub async fn fire(w: &mut Work, d: &Deadline) -> Result<bool> {
    let Some(m) = person::Entity::find_by_id(d.subject_id).one(&**w).await? else {
        return Ok(false);
    };
    if m.review_due_at.is_none_or(|due| due > d.due_at) {
        return Ok(false);
    }
    metrics::counter!("lianxin_ledger_reviews_due_total").increment(1);
    Ok(true)
}
