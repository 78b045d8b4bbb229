//! Mail and text for measures: Chinese first with an English line; the
//! case number, the measure's kind, a date and a link — never her name,
//! address or story.
use chrono::{DateTime, Utc};

use crate::{
    db::entities::case,
    escalation::mail::beijing,
    notify::{sms::Sms, Mail},
    vocab::MeasureKind,
};

fn link(public_url: &str, c: &case::Model) -> String {
    format!("{}/#/case/{}", public_url.trim_end_matches('/'), c.id)
}

pub fn kind_zh(kind: MeasureKind) -> &'static str {
    match kind {
        MeasureKind::WarningLetter => "告诫书",
        MeasureKind::ProtectionOrder => "人身安全保护令",
        MeasureKind::Shelter => "临时庇护",
        MeasureKind::InjuryAssessment => "伤情鉴定",
    }
}

/// What a message is about.
pub enum Notice {
    /// A written warning was issued: the village committee visits.
    WarningIssued,
    /// A protection order was granted and is served on this unit.
    Served,
    /// The court has not ruled in time.
    DecisionMissed(DateTime<Utc>),
    /// A follow-up visit is overdue.
    VisitMissed(DateTime<Utc>),
    /// The order expires soon.
    Expiring(DateTime<Utc>),
}

fn texts(n: &Notice, kind: MeasureKind) -> (String, String) {
    let zh = kind_zh(kind);
    match n {
        Notice::WarningIssued => (
            format!("{zh}已送达，请按时查访"),
            format!("a written warning was issued ({kind}): visit as scheduled"),
        ),
        Notice::Served => (
            format!("{zh}已签发并送达本单位，请协助执行"),
            format!("a {kind} was granted and served on your unit"),
        ),
        Notice::DecisionMissed(due) => (
            format!("法院未在时限（{}）内作出裁定，请跟进", beijing(*due)),
            format!("the court has not ruled by {}: follow up", beijing(*due)),
        ),
        Notice::VisitMissed(due) => (
            format!("查访未在 {} 前完成", beijing(*due)),
            format!("the follow-up visit due {} was not recorded", beijing(*due)),
        ),
        Notice::Expiring(at) => (
            format!("{zh}将于 {} 到期，如需延长请及时申请", beijing(*at)),
            format!(
                "the {kind} expires at {}; apply for an extension if needed",
                beijing(*at)
            ),
        ),
    }
}

pub fn mails(
    public_url: &str,
    c: &case::Model,
    kind: MeasureKind,
    n: &Notice,
    to: &[String],
) -> Vec<Mail> {
    let (zh, en) = texts(n, kind);
    let subject = format!(
        "【连心12338】{zh} 案件 {} — {en}, case {}",
        c.number, c.number
    );
    let body = format!(
        "案件编号: {number}\n{zh}\n{link}\n\nCase {number}: {en}. Open: {link}\n\n\
本邮件不含当事人信息。This email carries no personal details.\n",
        number = c.number,
        link = link(public_url, c),
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

pub fn text(public_url: &str, c: &case::Model, kind: MeasureKind, n: &Notice, to: String) -> Sms {
    let (zh, _) = texts(n, kind);
    Sms {
        recipient: to,
        body: format!(
            "【连心12338】案件{} {zh}：{}",
            c.number,
            link(public_url, c)
        ),
    }
}
