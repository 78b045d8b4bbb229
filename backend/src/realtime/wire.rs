//! The live feed's wire format (API.md, "Live feed"), in one place.
use serde::Serialize;
use serde_json::Value;

use crate::events::CaseEvent;

/// Close codes sent to clients; documented in the README.
pub mod close {
    /// The client sent a frame that is not a known JSON message.
    pub const BAD_FRAME: u16 = 4400;
    /// The client sent a frame larger than `live.max_frame_bytes`.
    pub const TOO_BIG: u16 = 4413;
    /// The client did not keep up; reconnect with `since=<last seq>`.
    pub const TOO_SLOW: u16 = 4408;
    /// No frame from the client within `live.idle_timeout_s`.
    pub const IDLE: u16 = 4000;
    /// The session expired or was revoked.
    pub const SESSION_ENDED: u16 = 4401;
    /// The server is shutting down; reconnect elsewhere.
    pub const GOING_AWAY: u16 = 1001;
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Hello {
        head: i64,
        resumed_from: Option<i64>,
    },
    Event {
        seq: i64,
        event: &'a str,
        at: &'a chrono::DateTime<chrono::Utc>,
        case_id: &'a uuid::Uuid,
        case_number: &'a str,
        data: &'a Value,
    },
    Pong,
    #[serde(rename = "call.ringing")]
    CallRinging {
        call_ref: &'a str,
        phone: &'a str,
        history: &'a Value,
    },
}

pub fn encode(frame: &ServerFrame<'_>) -> String {
    serde_json::to_string(frame).unwrap_or_else(|_| "{}".into())
}

pub fn event_frame(e: &CaseEvent) -> String {
    encode(&ServerFrame::Event {
        seq: e.seq,
        event: &e.event,
        at: &e.at,
        case_id: &e.case_id,
        case_number: &e.case_number,
        data: &e.data,
    })
}

#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Ping,
}
