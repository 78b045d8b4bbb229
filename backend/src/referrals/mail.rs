//! Email texts for referrals: Chinese first with an English line; the
//! referral and case numbers, the kind, a deadline and a link — never her
//! name, address or story.
use chrono::{DateTime, Utc};

use super::entity::referral;
use crate::{db::entities::case, escalation::mail::beijing, notify::Mail};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Notice {
    Sent,
    /// A missed deadline: `referral_accept` or `referral_reply`.
    Missed(&'static str),
    Urged,
    Declined,
    Replied,
    Withdrawn,
}

impl Notice {
    fn texts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Notice::Sent => ("新转介", "new referral", "请在时限前接收或退回"),
            Notice::Missed("referral_accept") => {
                ("已超接收时限", "accept deadline missed", "请尽快接收或退回")
            }
            Notice::Missed(_) => ("已超答复时限", "reply deadline missed", "请尽快答复"),
            Notice::Urged => ("督促处理意见", "urging opinion", "请在时限前答复"),
            Notice::Declined => ("转介被退回", "referral declined", "请查看退回理由"),
            Notice::Replied => ("转介已答复", "referral answered", "请查看答复"),
            Notice::Withdrawn => ("转介已撤回", "referral withdrawn", "无需再处理"),
        }
    }
}

fn dedup(to: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    to.iter()
        .filter(|a| seen.insert(a.to_lowercase()))
        .cloned()
        .collect()
}

pub fn notice(
    public_url: &str,
    c: &case::Model,
    r: &referral::Model,
    what: Notice,
    due: Option<DateTime<Utc>>,
    to: &[String],
) -> Vec<Mail> {
    let (zh, en, ask) = what.texts();
    let subject = format!(
        "【连心12338】{zh} {} 案件 {} — Referral {}: {en}, case {}",
        r.number, c.number, r.number, c.number
    );
    let link = format!("{}/#/referral/{}", public_url.trim_end_matches('/'), r.id);
    let due_zh = due
        .map(|d| format!("时限: {}\n", beijing(d)))
        .unwrap_or_default();
    let due_en = due
        .map(|d| format!(" Due {}.", beijing(d)))
        .unwrap_or_default();
    let body = format!(
        "转介编号: {number}\n案件编号: {case}\n转介事项: {kind}\n{due_zh}{ask}: {link}\n\n\
Referral {number} ({kind}) of case {case}: {en}.{due_en} Open: {link}\n\n\
本邮件不含当事人信息，详情请在系统内查看。This email carries no personal details; see the referral in Lianxin.\n",
        number = r.number,
        case = c.number,
        kind = r.kind,
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
