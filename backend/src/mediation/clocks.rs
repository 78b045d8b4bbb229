//! The mediation's clocks. The first session is the committee's deadline:
//! missed, it is a `deadline.missed` on the timeline and a mail to the
//! unit. An obligation of the agreement falling due unperformed is the
//! parties' matter: it reminds the mediator (`mediation.performance_due`),
//! who supervises performance (People's Mediation Law art. 31) — never a
//! missed deadline, never `overdue`. Each is a row fired once.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::entity::{mediation, obligation};
use crate::{
    cases::record::event,
    config::Settings,
    db::entities::case,
    deadlines::Deadline,
    error::Result,
    escalation::{chain, mail::beijing},
    notify::Mail,
    vocab::MediationStatus,
    work::Work,
};

/// Subject: the mediation. Due `mediation_first_session_s` after acceptance.
pub const FIRST_SESSION: &str = "mediation.first_session";
/// Subject: one obligation of the agreement. Due at its `due_at`.
pub const PERFORMANCE_DUE: &str = "mediation.performance_due";
/// Every kind this module fires.
pub const KINDS: &[&str] = &[FIRST_SESSION, PERFORMANCE_DUE];
/// The kinds whose subject is the mediation itself.
pub const MEDIATION_KINDS: &[&str] = &[FIRST_SESSION];

/// Apply a fired mediation deadline inside the engine's claim transaction;
/// false when its condition was met in the meantime (a no-op).
pub async fn fire(w: &mut Work, settings: &Settings, d: &Deadline) -> Result<bool> {
    match d.kind.as_str() {
        FIRST_SESSION => first_session_missed(w, settings, d).await,
        PERFORMANCE_DUE => performance_due(w, settings, d).await,
        _ => Ok(false),
    }
}

async fn case_of(w: &Work, m: &mediation::Model) -> Result<Option<case::Model>> {
    Ok(case::Entity::find_by_id(m.case_id).one(&**w).await?)
}

async fn first_session_missed(w: &mut Work, settings: &Settings, d: &Deadline) -> Result<bool> {
    let Some(m) = mediation::Entity::find_by_id(d.subject_id)
        .one(&**w)
        .await?
    else {
        return Ok(false);
    };
    if m.status != MediationStatus::Registered || m.first_session_at.is_some() {
        return Ok(false);
    }
    let Some(c) = case_of(w, &m).await? else {
        return Ok(false);
    };
    let now = w.now;
    w.event(event(
        &c,
        "deadline.missed",
        None,
        now,
        json!({
            "kind": "mediation_first_session",
            "mediation_id": m.id,
            "due_at": d.due_at,
            "status": c.status,
            "miss": 1,
        }),
    ));
    let to = chain::unit_addresses(&**w, c.assigned_unit_id.unwrap_or(m.unit_id)).await?;
    w.mail(mails(
        &settings.public_url,
        &c,
        Reminder::FirstSession,
        d.due_at,
        &to,
    ));
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => "mediation_first_session")
        .increment(1);
    Ok(true)
}

async fn performance_due(w: &mut Work, settings: &Settings, d: &Deadline) -> Result<bool> {
    let Some(o) = obligation::Entity::find_by_id(d.subject_id)
        .one(&**w)
        .await?
    else {
        return Ok(false);
    };
    if o.performed_at.is_some() {
        return Ok(false);
    }
    let Some(m) = mediation::Entity::find_by_id(o.mediation_id)
        .one(&**w)
        .await?
    else {
        return Ok(false);
    };
    let Some(c) = case_of(w, &m).await? else {
        return Ok(false);
    };
    let now = w.now;
    let due_at = o.due_at;
    let n = o.n;
    let mut am: obligation::ActiveModel = o.into();
    am.reminded_at = Set(Some(now));
    am.update(&**w).await?;
    w.event(event(
        &c,
        "mediation.performance_due",
        None,
        now,
        json!({ "mediation_id": m.id, "n": n, "due_at": due_at }),
    ));
    let to = chain::unit_addresses(&**w, c.assigned_unit_id.unwrap_or(m.unit_id)).await?;
    w.mail(mails(
        &settings.public_url,
        &c,
        Reminder::Performance(n),
        due_at,
        &to,
    ));
    Ok(true)
}

enum Reminder {
    FirstSession,
    Performance(i32),
}

/// Chinese first, an English line; case number, time and link only.
fn mails(
    public_url: &str,
    c: &case::Model,
    what: Reminder,
    due_at: DateTime<Utc>,
    to: &[String],
) -> Vec<Mail> {
    let (zh, en) = match what {
        Reminder::FirstSession => (
            "已超首次调解时限".to_string(),
            "First mediation session overdue".to_string(),
        ),
        Reminder::Performance(n) => (
            format!("调解协议第{n}项义务到期未履行，请督促履行"),
            format!("Obligation {n} of the agreement is due and not performed"),
        ),
    };
    let link = format!("{}/#/case/{}", public_url.trim_end_matches('/'), c.id);
    let subject = format!(
        "【连心12338】{zh} 案件 {} — {en}, case {}",
        c.number, c.number
    );
    let body = format!(
        "案件编号: {n}\n{zh}\n时限: {due}\n请登录连心系统处理: {link}\n\nCase {n}: {en} ({due}). Open: {link}\n\n\
本邮件不含当事人信息。This email carries no personal details.\n",
        n = c.number,
        due = beijing(due_at),
    );
    let mut seen = std::collections::HashSet::new();
    to.iter()
        .filter(|a| seen.insert(a.to_lowercase()))
        .map(|recipient| Mail {
            recipient: recipient.clone(),
            subject: subject.clone(),
            body: body.clone(),
        })
        .collect()
}
