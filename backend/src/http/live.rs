//! `GET /api/v1/live`: the WebSocket live feed. Authentication happens
//! before the upgrade (401 otherwise); then `hello`, the replay from
//! `since`, and live events in order without gap or duplicate.
use std::time::{Duration, Instant};

use axum::{
    extract::{
        ws::{
            rejection::WebSocketUpgradeRejection, CloseFrame, Message, WebSocket, WebSocketUpgrade,
        },
        State,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast;

use super::{error::ApiError, extract::ApiQuery, session};
use crate::{
    auth::{self, cache::Change, Principal},
    error::Error,
    events,
    realtime::{
        wire::{self, close, ClientFrame, ServerFrame},
        FeedScope, Outgoing,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/live", get(live))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LiveQuery {
    /// The last seq the client has seen; events after it are replayed.
    pub since: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/live", tag = "live", params(LiveQuery),
    responses((status = 101, description = "WebSocket upgrade; see API.md for frames"), (status = 401), (status = 403)))]
pub async fn live(
    State(state): State<AppState>,
    headers: HeaderMap,
    slot: Option<axum::Extension<crate::server::ConnSlot>>,
    ApiQuery(q): ApiQuery<LiveQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let (principal, token) = match authenticate(&state, &headers).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(r) => {
            return ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "websocket_required",
                format!("this endpoint speaks WebSocket only: {}", r.body_text()),
            )
            .into_response()
        }
    };
    if q.since.is_some_and(|s| s < 0) {
        return ApiError::validation("since", "must be a seq ≥ 0").into_response();
    }
    // Leave room above the documented limit so we can answer an oversized
    // frame with our own close code; far larger frames are cut by the
    // protocol layer (close 1009).
    let limit = state.settings.live.max_frame_bytes;
    upgrade
        // tungstenite's default 128 KiB read buffer is zero-filled on the
        // first read: 1.3 GB of RSS for 10,000 idle connections. Client
        // frames are small; the buffer grows for the rare larger one.
        .read_buffer_size(4 * 1024)
        .max_message_size(limit.saturating_mul(16).max(64 * 1024))
        .max_frame_size(limit.saturating_mul(16).max(64 * 1024))
        .on_upgrade(move |socket| async move {
            // The feed counts against its address's connection limit.
            let _slot = slot;
            serve(socket, state, principal, token, q.since).await
        })
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Principal, String), ApiError> {
    let (token, from_cookie) = session::token_from(headers).ok_or(Error::Unauthorized)?;
    if from_cookie {
        // A cookie rides along with any page's request; only our own pages
        // (allowed Origins) may use it to open the feed.
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if let Some(origin) = origin {
            if !state
                .settings
                .auth
                .allowed_origins
                .iter()
                .any(|o| o == origin)
            {
                return Err(ApiError::forbidden(format!(
                    "origin {origin} may not open the live feed with a session cookie"
                )));
            }
        }
    }
    let p = auth::authenticate(&state.db, &state.sessions, state.now(), &token).await?;
    session::password_gate(&p, "/live")?;
    Ok((p, token))
}

/// Why the feed opened as `p` with `token` must end now, if it must: the
/// session was revoked (logout, password reset), the user or their unit
/// was deactivated, or their role or unit changed (the feed's scope was
/// fixed at the upgrade). A database error keeps the feed open; the next
/// change or the session's expiry checks again.
async fn session_ended(state: &AppState, token: &str, p: &Principal) -> Option<&'static str> {
    match auth::authenticate(&state.db, &state.sessions, state.now(), token).await {
        Ok(now) => {
            let moved = now.role != p.role
                || now.unit_id() != p.unit_id()
                || FeedScope::of(&now) != FeedScope::of(p);
            moved.then_some("role or unit changed; sign in again")
        }
        Err(Error::Unauthorized) => Some("session ended; sign in again"),
        Err(e) => {
            tracing::warn!(error = %e, "live feed could not re-check its session");
            None
        }
    }
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Send one frame. A client that does not take it within `limit` (the idle
/// timeout) has stopped reading: false, and the caller drops the
/// connection. Without the limit a peer that vanished with a full socket
/// buffer would park this task in `send` (where neither the idle check nor
/// the queue's 4408 can run) until TCP gives up, many minutes later.
async fn send(sink: &mut Sink, msg: Message, limit: Duration) -> bool {
    matches!(
        tokio::time::timeout(limit, sink.send(msg)).await,
        Ok(Ok(()))
    )
}

async fn close_with(sink: &mut Sink, code: u16, reason: &str, limit: Duration) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_string().into(),
    }));
    send(sink, frame, limit).await;
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    p: Principal,
    token: String,
    since: Option<i64>,
) {
    // Subscribe to session changes before anything else, so that a change
    // committed while we replay is not missed.
    let mut changes = state.sessions.subscribe();
    let mut sub = state.hub.subscribe(&p);
    let scope = FeedScope::of(&p);
    let (mut sink, mut stream) = socket.split();
    let cfg = &state.settings.live;
    let idle = Duration::from_secs(cfg.idle_timeout_s.max(1));
    let Some(mut last) = greet_and_replay(&mut sink, &state, &scope, since, sub.head, idle).await
    else {
        return;
    };
    let mut ping = tokio::time::interval(Duration::from_secs(cfg.ping_interval_s.max(1)));
    ping.reset();
    let max_frame = cfg.max_frame_bytes;
    let mut heard = Instant::now();
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            out = sub.rx.recv() => match out {
                Some(Outgoing::Event { seq, text }) => {
                    if seq > last {
                        if !send(&mut sink, Message::Text(text.as_ref().into()), idle).await {
                            return;
                        }
                        last = seq;
                    }
                }
                Some(Outgoing::Ringing(text)) => {
                    if !send(&mut sink, Message::Text(text.as_ref().into()), idle).await {
                        return;
                    }
                }
                None => {
                    close_with(&mut sink, close::TOO_SLOW, "too slow; reconnect with since=<last seq>", idle).await;
                    return;
                }
            },
            msg = stream.next() => {
                if !on_client(&mut sink, msg, &mut heard, max_frame, idle).await {
                    return;
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > idle {
                    close_with(&mut sink, close::IDLE, "no frame from the client; reconnect", idle).await;
                    return;
                }
                if state.now() >= p.session_expires_at {
                    close_with(&mut sink, close::SESSION_ENDED, "session expired; sign in again", idle).await;
                    return;
                }
                if !send(&mut sink, Message::Ping(Vec::new().into()), idle).await {
                    return;
                }
            },
            change = changes.recv() => {
                if !on_change(&mut sink, change, &state, &token, &p, idle).await {
                    return;
                }
            },
            _ = shutdown.wait() => {
                close_with(&mut sink, close::GOING_AWAY, "server shutting down; reconnect", idle).await;
                return;
            }
        }
    }
}

/// A change to sessions, users or units: when it may concern this feed's
/// user (or changes were missed), resolve the token again and close with
/// 4401 when the session ended or its role, unit or scope changed.
async fn on_change(
    sink: &mut Sink,
    change: Result<Change, broadcast::error::RecvError>,
    state: &AppState,
    token: &str,
    p: &Principal,
    idle: Duration,
) -> bool {
    let recheck = match change {
        Ok(c) => c.concerns(p),
        Err(broadcast::error::RecvError::Lagged(_)) => true,
        Err(broadcast::error::RecvError::Closed) => {
            close_with(
                sink,
                close::GOING_AWAY,
                "server shutting down; reconnect",
                idle,
            )
            .await;
            return false;
        }
    };
    if recheck {
        if let Some(reason) = session_ended(state, token, p).await {
            close_with(sink, close::SESSION_ENDED, reason, idle).await;
            return false;
        }
    }
    true
}

/// `hello`, then the replay of `(since, head]`. The hub's head
/// (`hub_head`) trails the log by one pump round, so a resuming client is
/// told the log's own head; the last seq sent, or `None` when the socket
/// is gone or the replay failed (closed with 1011).
async fn greet_and_replay(
    sink: &mut Sink,
    state: &AppState,
    scope: &FeedScope,
    since: Option<i64>,
    hub_head: i64,
    idle: Duration,
) -> Option<i64> {
    // The hub's head trails the log by one pump round. A resuming client
    // is told (and replayed up to) the log's own head, read after
    // subscribing: whatever commits later reaches it through the hub, and
    // events the hub delivers at or below `head` are skipped below.
    let head = match since {
        None => hub_head,
        Some(_) => match events::head(&state.db.conn).await {
            Ok(h) => h.max(hub_head),
            Err(e) => {
                tracing::warn!(error = %e, "live head read failed");
                close_with(sink, 1011, "replay failed; reconnect", idle).await;
                return None;
            }
        },
    };
    let hello = wire::encode(&ServerFrame::Hello {
        head,
        resumed_from: since,
    });
    if !send(sink, Message::Text(hello.into()), idle).await {
        return None;
    }
    // Replay (since, head]; everything above head arrives through the hub.
    let mut last = since.unwrap_or(head);
    if let Some(since) = since {
        let mut after = since;
        while after < head {
            let batch = match events::read_after(&state.db.conn, after, 500).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "live replay failed");
                    close_with(sink, 1011, "replay failed; reconnect", idle).await;
                    return None;
                }
            };
            let Some(tail) = batch.last().map(|e| e.seq) else {
                break;
            };
            for e in batch.iter().filter(|e| e.seq <= head) {
                if scope.sees(e)
                    && !send(sink, Message::Text(wire::event_frame(e).into()), idle).await
                {
                    return None;
                }
            }
            after = tail;
        }
        last = last.max(head);
    }
    Some(last)
}

/// A frame from the client: a ping is answered; anything else, a frame
/// too large, or the socket gone ends the feed (false), with our close
/// code when the socket still takes one.
async fn on_client(
    sink: &mut Sink,
    msg: Option<Result<Message, axum::Error>>,
    heard: &mut Instant,
    max_frame: usize,
    idle: Duration,
) -> bool {
    match msg {
        Some(Ok(Message::Text(t))) => {
            *heard = Instant::now();
            if t.len() > max_frame {
                close_with(sink, close::TOO_BIG, "frame too large", idle).await;
                return false;
            }
            match serde_json::from_str::<ClientFrame>(&t) {
                Ok(ClientFrame::Ping) => {
                    let pong = wire::encode(&ServerFrame::Pong);
                    if !send(sink, Message::Text(pong.into()), idle).await {
                        return false;
                    }
                }
                Err(_) => {
                    close_with(
                        sink,
                        close::BAD_FRAME,
                        "unknown frame; send {\"type\":\"ping\"}",
                        idle,
                    )
                    .await;
                    return false;
                }
            }
        }
        Some(Ok(Message::Binary(_))) => {
            close_with(
                sink,
                close::BAD_FRAME,
                "binary frames are not accepted",
                idle,
            )
            .await;
            return false;
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => *heard = Instant::now(),
        Some(Ok(Message::Close(_))) | None => return false,
        Some(Err(e)) => {
            // A frame beyond the protocol limit (16× max_frame_bytes)
            // or a protocol violation: still answer with our code
            // when the socket takes it (after a reset it will not).
            let text = e.to_string();
            let (code, reason) = if text.contains("Space limit") || text.contains("too long") {
                (close::TOO_BIG, "frame too large")
            } else {
                (close::BAD_FRAME, "malformed frame")
            };
            close_with(sink, code, reason, Duration::from_secs(1)).await;
            return false;
        }
    }
    true
}
