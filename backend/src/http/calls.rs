//! Intake routes: calls, the screen pop and the telephone exchange (CTI).
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};

use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use crate::{
    auth::Principal,
    calls::{
        self,
        cti::{self, CtiAccepted, CtiPayload},
        CallView, CallerHistory, NewCall,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calls", post(record))
        .route("/callers/{phone}", get(caller))
        .route("/cti/events", post(cti_event))
}

#[utoipa::path(post, path = "/api/v1/calls", tag = "intake", request_body = NewCall, responses((status = 201, body = CallView), (status = 403), (status = 422)))]
pub async fn record(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<NewCall>,
) -> ApiResult<(StatusCode, Json<CallView>)> {
    Ok((
        StatusCode::CREATED,
        Json(calls::record(&s, &p, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/callers/{phone}", tag = "intake", responses((status = 200, body = CallerHistory), (status = 403), (status = 422)))]
pub async fn caller(
    State(s): State<AppState>,
    p: Principal,
    Path(phone): Path<String>,
) -> ApiResult<Json<CallerHistory>> {
    Ok(Json(calls::screen_pop(&s, &p, &phone).await?))
}

#[utoipa::path(post, path = "/api/v1/cti/events", tag = "telephony", request_body = CtiPayload,
    params(("X-CTI-Secret" = String, Header, description = "shared secret")),
    responses((status = 202, body = CtiAccepted), (status = 401), (status = 422)))]
pub async fn cti_event(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<CtiAccepted>)> {
    cti::check_secret(
        &s.settings.cti.secret,
        headers.get("x-cti-secret").and_then(|v| v.to_str().ok()),
    )?;
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large()
        } else {
            ApiError::malformed(r.body_text())
        }
    })?;
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let payload: CtiPayload = if is_form {
        serde_urlencoded_lite(&body)?
    } else {
        super::extract::parse_json(&body)?
    };
    let ev = payload.normalise()?;
    Ok((StatusCode::ACCEPTED, Json(cti::handle(&s, ev).await?)))
}

/// Form bodies through axum's own decoder (serde_urlencoded).
fn serde_urlencoded_lite(body: &[u8]) -> ApiResult<CtiPayload> {
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::malformed("form body is not UTF-8"))?;
    let uri: axum::http::Uri = format!("/?{text}")
        .parse()
        .map_err(|_| ApiError::malformed("form body is not URL-encoded"))?;
    if let Some(field) = super::extract::control_in_query(&uri) {
        return Err(super::extract::control_error(field));
    }
    axum::extract::Query::<CtiPayload>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::validation("body", e.body_text()))
}
