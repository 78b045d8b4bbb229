//! `[sms]`: where text messages to duty phones go. With no `url` they are
//! written as files under `<data_dir>/sms/` (as mail goes to `.eml` files
//! without SMTP); with one, each is POSTed as JSON `{to, from, text}` to that HTTP gateway.
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// The gateway's URL (`http://`, on the internal network or a local
    /// TLS relay); empty writes files.
    pub url: String,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub token: String,
    /// Basic-auth user and password, when the gateway wants those instead.
    pub username: String,
    pub password: String,
    /// The sender name or number the gateway shows.
    pub sender: String,
    /// Attempts before a message is given up.
    pub max_attempts: i32,
    /// First retry delay in seconds; doubles each attempt.
    pub retry_base_s: u64,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            url: String::new(),
            token: String::new(),
            username: String::new(),
            password: String::new(),
            sender: "12338".into(),
            max_attempts: 8,
            retry_base_s: 30,
        }
    }
}

impl SmsSettings {
    /// The URL is empty or HTTP(S).
    pub fn check(&self) -> Result<(), String> {
        let u = self.url.trim();
        if u.is_empty() || u.starts_with("http://") {
            Ok(())
        } else {
            Err("must start with http:// (a gateway on the internal network, or a TLS relay before it), or be empty to write files".into())
        }
    }
}
