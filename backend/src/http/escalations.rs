//! Escalation routes for police liaisons (and supervisors at level 3).
use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use serde::Serialize;

use super::{
    error::ApiResult,
    extract::{ApiJson, ApiQuery, IdPath, OptionalJsonBytes},
};
use crate::{
    auth::Principal,
    escalation::{self, ActionBody, EscalationView, ListQuery, ResolveBody, VersionBody},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/escalations", get(list))
        .route("/escalations/{escalation_id}", get(detail))
        .route(
            "/escalations/{escalation_id}/acknowledge",
            post(acknowledge),
        )
        .route("/escalations/{escalation_id}/actions", post(action))
        .route("/escalations/{escalation_id}/resolve", post(resolve))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EscalationPage {
    pub items: Vec<EscalationView>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/escalations", tag = "escalations", params(ListQuery), responses((status = 200, body = EscalationPage)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<EscalationPage>> {
    Ok(Json(EscalationPage {
        items: escalation::list(&s, &p, q).await?,
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/escalations/{escalation_id}", tag = "escalations", responses((status = 200, body = EscalationView), (status = 404)))]
pub async fn detail(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<EscalationView>> {
    Ok(Json(escalation::get(&s, &p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/escalations/{escalation_id}/acknowledge", tag = "escalations", request_body = VersionBody, responses((status = 200, body = EscalationView), (status = 403), (status = 404), (status = 409)))]
pub async fn acknowledge(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    OptionalJsonBytes(body): OptionalJsonBytes,
) -> ApiResult<Json<EscalationView>> {
    let body: VersionBody = if body.iter().all(u8::is_ascii_whitespace) {
        VersionBody::default()
    } else {
        super::extract::parse_json(&body)?
    };
    Ok(Json(escalation::acknowledge(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/escalations/{escalation_id}/actions", tag = "escalations", request_body = ActionBody, responses((status = 200, body = EscalationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn action(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ActionBody>,
) -> ApiResult<Json<EscalationView>> {
    Ok(Json(escalation::record_action(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/escalations/{escalation_id}/resolve", tag = "escalations", request_body = ResolveBody, responses((status = 200, body = EscalationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn resolve(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ResolveBody>,
) -> ApiResult<Json<EscalationView>> {
    Ok(Json(escalation::resolve(&s, &p, id, body).await?))
}
