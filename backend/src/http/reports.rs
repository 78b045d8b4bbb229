//! Supervisor reports: summary figures and the CSV export.
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};

use super::{error::ApiResult, extract::ApiQuery};
use crate::{
    auth::Principal,
    reports::{self, ReportQuery, Summary},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports/summary", get(summary))
        .route("/reports/cases.csv", get(cases_csv))
}

#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", params(ReportQuery), responses((status = 200, body = Summary), (status = 403), (status = 422)))]
pub async fn summary(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Json<Summary>> {
    Ok(Json(reports::summary(&s, &p, q).await?))
}

#[utoipa::path(get, path = "/api/v1/reports/cases.csv", tag = "reports", params(ReportQuery), responses((status = 200, content_type = "text/csv", body = String), (status = 403), (status = 422)))]
pub async fn cases_csv(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let csv = reports::cases_csv(&s, &p, q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lianxin-cases.csv\"",
            ),
        ],
        axum::body::Body::from_stream(csv),
    )
        .into_response())
}
