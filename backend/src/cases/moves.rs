//! What the hotline loop does to a case itself (issue 18): an approved
//! extension moves its resolve deadline, and a duplicate is closed into
//! its original. Both run on the caller's unit of work.
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use serde_json::json;
use uuid::Uuid;

use super::{clocks, record::event, service::save};
use crate::{
    db::entities::case,
    error::{Error, Result},
    vocab::CaseStatus,
    work::Work,
};

/// The resolve deadline moves to `until`: the old clock and its reminders
/// stop, a new one starts, the case is no longer overdue.
pub async fn extend_resolve(
    w: &mut Work,
    c: &case::Model,
    until: DateTime<Utc>,
    extension_id: Uuid,
    actor: Uuid,
) -> Result<case::Model> {
    let now = w.now;
    let from = c.resolve_due_at;
    let c = save(
        &**w,
        c,
        case::ActiveModel {
            resolve_due_at: Set(Some(until)),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(c.id, clocks::RESOLVE_KINDS).await?;
    w.schedule("case", c.id, clocks::RESOLVE, until).await?;
    w.event(event(
        &c,
        "case.deadline_extended",
        Some(actor),
        now,
        json!({"extension_id": extension_id, "kind": "resolve", "from": from, "to": until}),
    ));
    Ok(c)
}

/// Close `dup` as a duplicate of `original`: no open escalation or
/// referral may be lost with it (409), every clock of ours stops, and the
/// original's timeline notes it.
pub async fn close_as_duplicate(
    w: &mut Work,
    dup: &case::Model,
    original: &case::Model,
    actor: Uuid,
) -> Result<()> {
    let now = w.now;
    if dup.status == CaseStatus::Closed {
        return Err(Error::InvalidTransition(
            "the case is closed already; link it as related instead".into(),
        ));
    }
    if let Some(e) = crate::escalation::open_one(&**w, dup.id).await? {
        return Err(Error::Conflict {
            code: "open_escalation",
            message: format!(
                "该案件有尚未办结的公安预警（{}），不能作为重复件关闭 / \
                 the case has an open police escalation ({}); it cannot be closed as a duplicate",
                e.status, e.status
            ),
        });
    }
    crate::referrals::engine::may_close(&**w, dup.id).await?;
    let c = save(
        &**w,
        dup,
        case::ActiveModel {
            status: Set(CaseStatus::Closed),
            closed_at: Set(Some(now)),
            overdue: Set(false),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(c.id, clocks::ON_CLOSE).await?;
    w.event(event(
        &c,
        "case.closed",
        Some(actor),
        now,
        json!({
            "status": c.status, "duplicate_of": original.id,
            "duplicate_of_number": original.number,
        }),
    ));
    w.event(event(
        original,
        "case.duplicate_merged",
        Some(actor),
        now,
        json!({"duplicate_case_id": c.id, "duplicate_case_number": c.number}),
    ));
    Ok(())
}
