//! `POST /auth/login`, `POST /auth/logout`, `GET /me`.
use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{error::ApiResult, extract::ApiJson, session};
use crate::{
    auth::{self, LoginPolicy, Principal, UserView},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "invalid_credentials"), (status = 429, description = "too_many_attempts"), (status = 503, description = "busy: too many logins at once; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    client: session::ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let s = &state.settings.auth;
    let secs = |v: u64| chrono::Duration::seconds(i64::try_from(v).unwrap_or(i64::MAX / 1000));
    let policy = LoginPolicy {
        max_failures: s.max_failures,
        window: secs(s.failure_window_s),
        session_ttl: secs(s.session_ttl_s),
    };
    let throttle = auth::Throttle {
        max_failures: s.max_failures,
        window: secs(s.failure_window_s),
        base_delay: secs(s.lockout_base_s),
        max_delay: secs(s.lockout_max_s),
        max_per_address: s.max_failures_per_address,
        address_window: secs(s.address_window_s),
    };
    let address = client.0.map(|a| a.to_string());
    let out = auth::login_with(
        &state.db,
        state.now(),
        &policy,
        &throttle,
        &state.hash_gate,
        address.as_deref(),
        &req.username,
        &req.password,
    )
    .await?;
    // Behind HTTPS the cookie must never travel over plain HTTP.
    let secure = s.secure_cookie || state.settings.public_url.starts_with("https://");
    let cookie = session::set_cookie(&out.token, s.session_ttl_s as i64, secure);
    let body = LoginResponse {
        token: out.token,
        expires_at: out.expires_at,
        user: out.user,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session", responses((status = 204), (status = 401)))]
pub async fn logout(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some((token, _)) = session::token_from(&headers) {
        auth::logout(&state.db, &state.sessions, state.now(), p.user_id, &token).await?;
    }
    let mut resp = super::no_content();
    if let Ok(v) = session::clear_cookie().parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    pub id: uuid::Uuid,
    pub username: String,
    pub display_name: String,
    pub role: crate::vocab::Role,
    pub unit_id: Option<uuid::Uuid>,
    pub email: Option<String>,
    pub unit_kind: Option<crate::vocab::UnitKind>,
    pub unit_region_code: Option<String>,
    /// Signed in with a temporary password: choose one's own
    /// (`POST /me/password`) before anything else answers.
    pub must_change_password: bool,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session", responses((status = 200, body = MeResponse), (status = 401)))]
pub async fn me(p: Principal) -> Json<MeResponse> {
    Json(MeResponse {
        id: p.user_id,
        username: p.username.clone(),
        display_name: p.display_name.clone(),
        role: p.role,
        unit_id: p.unit_id(),
        email: p.email.clone(),
        unit_kind: p.unit.as_ref().map(|u| u.kind),
        unit_region_code: p.unit.as_ref().map(|u| u.region_code.clone()),
        must_change_password: p.must_change_password,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's own password; every other session of the user ends.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = PasswordChange,
    responses((status = 204), (status = 401), (status = 422, description = "wrong current password or a refused new one")))]
pub async fn change_password(
    State(state): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<Response> {
    let (token, _) = session::token_from(&headers).ok_or(crate::error::Error::Unauthorized)?;
    auth::change_own_password(
        &state.db,
        &state.sessions,
        &state.hash_gate,
        state.now(),
        &p,
        &token,
        &req.current_password,
        req.new_password,
    )
    .await?;
    Ok(super::no_content())
}
