//! Who is calling: the `Principal` extractor (bearer header or the console's
//! session cookie) and the cookie helpers.
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap},
};

use super::error::ApiError;
use crate::{auth, auth::Principal, state::AppState};

pub const COOKIE: &str = "lianxin_session";

/// The token from `Authorization: Bearer` or, failing that, the cookie.
/// Returns whether it came from the cookie (the live feed checks Origin then).
pub fn token_from(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            let t = t.trim();
            if !t.is_empty() {
                return Some((t.to_string(), false));
            }
        }
    }
    for value in headers.get_all(header::COOKIE) {
        let Ok(s) = value.to_str() else { continue };
        for part in s.split(';') {
            if let Some((k, v)) = part.trim().split_once('=') {
                if k == COOKIE && !v.is_empty() {
                    return Some((v.to_string(), true));
                }
            }
        }
    }
    None
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, _) = token_from(&parts.headers)
            .ok_or_else(|| ApiError::from(crate::error::Error::Unauthorized))?;
        let p = auth::authenticate(&state.db, &state.sessions, state.now(), &token).await?;
        password_gate(&p, parts.uri.path())?;
        Ok(p)
    }
}

/// 403 `password_change_required` for a session signed in with a
/// temporary password, on every path but those it may use.
pub fn password_gate(p: &Principal, path: &str) -> Result<(), ApiError> {
    if p.must_change_password && !may_use_before_changing(path) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "password_change_required",
            "choose your own password first (POST /api/v1/me/password)",
        ));
    }
    Ok(())
}

/// What a session signed in with a temporary password may call: who am I,
/// change my password, sign out.
fn may_use_before_changing(path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    matches!(path, "/me" | "/me/password" | "/auth/logout")
}

pub fn set_cookie(token: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The client's address for throttling: the TCP peer, or, when the peer is
/// one of `auth.trusted_proxies`, the last entry of `X-Forwarded-For` (the
/// address that connected to the proxy; earlier entries are whatever the
/// client claimed). `None` when the server was not given peer addresses.
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl ClientAddr {
    pub fn of(parts: &Parts, trusted_proxies: &[String]) -> ClientAddr {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let Some(peer) = peer else {
            return ClientAddr(None);
        };
        let trusted = trusted_proxies
            .iter()
            .any(|p| p.parse::<std::net::IpAddr>().is_ok_and(|ip| ip == peer));
        if trusted {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|last| last.trim().parse::<std::net::IpAddr>().ok());
            if let Some(client) = forwarded {
                return ClientAddr(Some(client));
            }
        }
        ClientAddr(Some(peer))
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(ClientAddr::of(parts, &state.settings.auth.trusted_proxies))
    }
}
