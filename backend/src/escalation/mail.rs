//! Email texts for escalations and missed deadlines: Chinese first with an
//! English line; case number, deadline and a link — never the victim's name,
//! address or story.
use chrono::{DateTime, FixedOffset, Utc};

use crate::{
    db::entities::{case, escalation},
    notify::Mail,
};

/// Beijing time, as staff read it, with the UTC instant beside it.
pub fn beijing(t: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(8 * 3600) {
        Some(tz) => format!(
            "{} 北京时间 ({}Z)",
            t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S"),
            t.format("%Y-%m-%dT%H:%M:%S")
        ),
        None => t.to_rfc3339(),
    }
}

pub fn link(public_url: &str, c: &case::Model) -> String {
    format!("{}/#/case/{}", public_url.trim_end_matches('/'), c.id)
}

fn dedup(to: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    to.iter()
        .filter(|a| seen.insert(a.to_lowercase()))
        .cloned()
        .collect()
}

/// The text message to a duty phone: case number, level and a link only.
pub fn escalation_text(public_url: &str, c: &case::Model, e: &escalation::Model) -> String {
    format!(
        "【连心12338】安全预警 第{}级 案件{}，请立即确认：{} / Safety escalation L{}, case {}: {}",
        e.level,
        c.number,
        link(public_url, c),
        e.level,
        c.number,
        link(public_url, c)
    )
}

pub fn escalation_mails(
    public_url: &str,
    c: &case::Model,
    e: &escalation::Model,
    to: &[String],
    raised: bool,
) -> Vec<Mail> {
    let what = if raised {
        "升级提醒 / raised"
    } else {
        "新预警 / new"
    };
    let subject = format!(
        "【连心12338】安全预警{what} 第{}级 案件 {} — Safety escalation level {}, case {}",
        e.level, c.number, e.level, c.number
    );
    let body = format!(
        "案件编号: {number}\n紧急程度: {urgency}\n当前级别: 第{level}级\n确认时限: {ack}\n首次处置时限: {act}\n请立即登录连心系统确认并处置: {link}\n\n\
Case {number}: safety escalation ({urgency}), level {level}. Acknowledge by {ack}; first action by {act}. Open: {link}\n\n\
本邮件不含当事人信息，详情请在系统内查看。This email carries no personal details; see the case in Lianxin.\n",
        number = c.number,
        urgency = e.urgency,
        level = e.level,
        ack = beijing(e.next_raise_at.unwrap_or(e.ack_due_at)),
        act = beijing(e.action_due_at),
        link = link(public_url, c),
    );
    dedup(to)
        .into_iter()
        .map(|recipient| Mail {
            recipient,
            subject: subject.clone(),
            body: body.clone(),
        })
        .collect()
}

pub fn deadline_missed_mails(
    public_url: &str,
    c: &case::Model,
    kind: &str,
    due_at: DateTime<Utc>,
    to: &[String],
) -> Vec<Mail> {
    let zh = match kind {
        "dispatch" => "派单时限",
        "accept" => "受理时限",
        "resolve" => "办结时限",
        "follow_up" => "回访时限",
        "confirmation" => "司法确认申请期限（30日）",
        "confirmation_reminder" => "司法确认申请期限提醒（第20日）",
        "escalation_action" => "警情首次处置时限",
        _ => "时限",
    };
    let reminder = kind == "confirmation_reminder";
    let subject = if reminder {
        format!(
            "【连心12338】{zh} 案件 {} — Reminder: judicial confirmation window, case {}",
            c.number, c.number
        )
    } else {
        format!(
            "【连心12338】已超{zh} 案件 {} — Deadline missed ({kind}), case {}",
            c.number, c.number
        )
    };
    let body = format!(
        "案件编号: {number}\n{zh}: {due}\n请尽快处理: {link}\n\nCase {number}: {kind} deadline {due}. Open: {link}\n\n\
本邮件不含当事人信息。This email carries no personal details.\n",
        number = c.number,
        due = beijing(due_at),
        link = link(public_url, c),
    );
    dedup(to)
        .into_iter()
        .map(|recipient| Mail {
            recipient,
            subject: subject.clone(),
            body: body.clone(),
        })
        .collect()
}
