//! Protective measures: record on a case, list, read, decide, extend,
//! violations, follow-up visits.
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use uuid::Uuid;

use super::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, ApiQuery, IdPath},
};
use crate::{
    auth::Principal,
    measures::{
        query::{self, ListQuery, MeasurePage},
        service::{self, DecisionBody, ExtendBody, NewMeasureBody, ViolationBody, VisitDoneBody},
        view::MeasureView,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{case_id}/measures", post(create).get(of_case))
        .route("/measures", get(list))
        .route("/measures/{measure_id}", get(detail))
        .route("/measures/{measure_id}/decision", post(decision))
        .route("/measures/{measure_id}/extend", post(extend))
        .route("/measures/{measure_id}/violations", post(violation))
        .route(
            "/measures/{measure_id}/visits/{visit_id}/done",
            post(visit_done),
        )
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/measures", tag = "measures", request_body = NewMeasureBody,
    responses((status = 201, body = MeasureView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewMeasureBody>,
) -> ApiResult<(StatusCode, Json<MeasureView>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create(&s, &p, id, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases/{case_id}/measures", tag = "measures",
    responses((status = 200, body = Vec<MeasureView>), (status = 404)))]
pub async fn of_case(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<MeasureView>>> {
    Ok(Json(query::for_case(&s, &p, id).await?))
}

#[utoipa::path(get, path = "/api/v1/measures", tag = "measures", params(ListQuery),
    responses((status = 200, body = MeasurePage), (status = 422)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<MeasurePage>> {
    Ok(Json(query::list(&s, &p, q).await?))
}

#[utoipa::path(get, path = "/api/v1/measures/{measure_id}", tag = "measures",
    responses((status = 200, body = MeasureView), (status = 404)))]
pub async fn detail(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<MeasureView>> {
    Ok(Json(query::get(&s, &p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/measures/{measure_id}/decision", tag = "measures", request_body = DecisionBody,
    responses((status = 200, body = MeasureView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn decision(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<MeasureView>> {
    Ok(Json(service::decision(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/measures/{measure_id}/extend", tag = "measures", request_body = ExtendBody,
    responses((status = 200, body = MeasureView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn extend(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ExtendBody>,
) -> ApiResult<Json<MeasureView>> {
    Ok(Json(service::extend(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/measures/{measure_id}/violations", tag = "measures", request_body = ViolationBody,
    responses((status = 201, body = MeasureView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn violation(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ViolationBody>,
) -> ApiResult<(StatusCode, Json<MeasureView>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::violation(&s, &p, id, body).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/measures/{measure_id}/visits/{visit_id}/done", tag = "measures",
    request_body = VisitDoneBody,
    params(("measure_id" = Uuid, Path), ("visit_id" = Uuid, Path)),
    responses((status = 200, body = MeasureView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn visit_done(
    State(s): State<AppState>,
    p: Principal,
    Path((id, visit)): Path<(String, String)>,
    ApiJson(body): ApiJson<VisitDoneBody>,
) -> ApiResult<Json<MeasureView>> {
    let parse = |v: &str| Uuid::parse_str(v).map_err(|_| ApiError::not_found("visit"));
    Ok(Json(
        service::visit_done(&s, &p, parse(&id)?, parse(&visit)?, body).await?,
    ))
}
