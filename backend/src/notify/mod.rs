//! Email: the outbox (rows written in the same transaction as the event that
//! causes them) and the sender that drains it over SMTP or into `.eml` files;
//! text messages to duty phones the same way (`sms`, `sms_sender`).
pub mod lease;
pub mod outbox;
pub mod sender;
pub mod sms;
pub mod sms_sender;
pub mod sms_settings;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr};

use crate::db::entities::mail;

/// A message to queue. Subjects and bodies carry case numbers, deadlines and
/// links — never a victim's name, address or story.
#[derive(Debug, Clone)]
pub struct Mail {
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// Queue messages inside the caller's transaction (the rows of
/// [`outbox_rows`], written at once).
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    mails: Vec<Mail>,
) -> Result<usize, DbErr> {
    let rows = outbox_rows(now, mails);
    let n = rows.len();
    // One statement text whatever the count (`db::bulk`).
    crate::db::bulk::insert_rows(conn, rows).await?;
    Ok(n)
}

/// The outbox rows of `mails`, unwritten; a message repeated to the same
/// recipient under the same subject is queued once. Each row gets a
/// stable Message-ID, so a retry after an ambiguous failure can be
/// recognised as the same message by the receiving side.
pub fn outbox_rows(now: DateTime<Utc>, mails: Vec<Mail>) -> Vec<mail::ActiveModel> {
    let mut seen = std::collections::HashSet::new();
    mails
        .into_iter()
        .filter(|m| seen.insert((m.recipient.clone(), m.subject.clone())))
        .map(|m| {
            let id = crate::db::new_id();
            mail::ActiveModel {
                id: Set(id),
                recipient: Set(m.recipient),
                subject: Set(m.subject),
                body: Set(m.body),
                message_id: Set(format!("<{id}@lianxin.local>")),
                attempts: Set(0),
                next_attempt_at: Set(now),
                created_at: Set(now),
                sent_at: Set(None),
                failed_at: Set(None),
                last_error: Set(None),
            }
        })
        .collect()
}
