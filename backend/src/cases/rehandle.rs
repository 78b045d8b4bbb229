//! Re-handling (重办): she told the satisfaction callback she is not
//! satisfied with how the unit handled it, so the case goes back to the
//! unit with a new resolve deadline and a written urging (【督办】).
//! Runs on the callback's unit of work.
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::{
    clocks::{self, FOLLOW_UP, RESOLVE},
    model::{transition, Action},
    record::event,
    service::save,
};
use crate::{
    calendar::Calendar,
    config::Settings,
    db::entities::case,
    error::{Error, Result},
    escalation::{chain, mail::link},
    notify::Mail,
    work::Work,
};

/// Reopen `case_id` for re-handling; returns the new resolve deadline.
pub async fn reopen_unsatisfied(
    w: &mut Work,
    settings: &Settings,
    cal: &Calendar,
    case_id: Uuid,
    callback_id: Uuid,
    actor: Uuid,
) -> Result<chrono::DateTime<chrono::Utc>> {
    let now = w.now;
    let c0 = case::Entity::find_by_id(case_id)
        .one(&**w)
        .await?
        .ok_or(Error::NotFound("case"))?;
    let next = transition(c0.status, Action::Reopen).map_err(Error::InvalidTransition)?;
    let resolve_due = clocks::resolve_due(settings, cal, c0.category, now);
    let c = save(
        &**w,
        &c0,
        case::ActiveModel {
            status: Set(next),
            resolve_due_at: Set(Some(resolve_due)),
            follow_up_due_at: Set(None),
            closed_at: Set(None),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.cancel(c.id, &[FOLLOW_UP]).await?;
    w.schedule("case", c.id, RESOLVE, resolve_due).await?;
    w.event(event(
        &c,
        "case.reopened",
        Some(actor),
        now,
        json!({
            "reason": "unsatisfied", "callback_id": callback_id,
            "status": c.status, "resolve_due_at": resolve_due,
        }),
    ));
    let to = match c.assigned_unit_id {
        Some(u) => chain::unit_addresses(&**w, u).await?,
        None => Vec::new(),
    };
    w.mail(urging(&settings.public_url, &c, resolve_due, &to));
    Ok(resolve_due)
}

/// 【督办】 to the unit: the case is back, by when it must be resolved.
fn urging(
    public_url: &str,
    c: &case::Model,
    due: chrono::DateTime<chrono::Utc>,
    to: &[String],
) -> Vec<Mail> {
    let due_bj = due
        .with_timezone(&crate::calendar::beijing())
        .format("%Y-%m-%d %H:%M");
    let subject = format!(
        "【督办】【连心12338】案件 {n} 回访不满意，请重新办理 — Re-handle case {n}: the caller is not satisfied",
        n = c.number
    );
    let body = format!(
        "案件编号: {n}\n回访中当事人对办理结果不满意（办理原因），案件已退回重办。\n\
         请于 {due_bj}（北京时间）前办结: {link}\n\n\
         Case {n} was reopened: the satisfaction callback found the caller unsatisfied \
         with its handling. Resolve it again by {due_bj} (Beijing time): {link}\n\n\
         本邮件不含当事人信息。This email carries no personal details.\n",
        n = c.number,
        link = link(public_url, c),
    );
    let mut seen = std::collections::HashSet::new();
    to.iter()
        .filter(|r| seen.insert((*r).clone()))
        .map(|recipient| Mail {
            recipient: recipient.clone(),
            subject: subject.clone(),
            body: body.clone(),
        })
        .collect()
}
