//! Mediation routes (issue 16): registration, sessions, termination, the
//! agreement and its performance, the agreement document, the figures.
use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, ApiQuery, IdPath},
};
use crate::{
    auth::Principal,
    mediation::{
        report::{self, MediationFigures, MediationReportQuery},
        rules::{AgreementBody, PerformedBody, RegisterBody, SessionBody, TerminateBody},
        service,
        view::MediationView,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{case_id}/mediation", get(detail).put(register))
        .route("/cases/{case_id}/mediation/sessions", post(session))
        .route("/cases/{case_id}/mediation/terminate", post(terminate))
        .route("/cases/{case_id}/mediation/agreement", post(agreement))
        .route(
            "/cases/{case_id}/mediation/agreement.html",
            get(agreement_html),
        )
        .route(
            "/cases/{case_id}/mediation/obligations/{n}/performed",
            post(performed),
        )
        .route(
            "/cases/{case_id}/mediation/agreement/obligations/{n}/performed",
            post(performed),
        )
        .route("/reports/mediation", get(figures))
}

/// The routes of this module, for the served OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    detail,
    register,
    session,
    terminate,
    agreement,
    performed,
    agreement_html,
    figures
))]
pub struct MediationApi;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RevealQuery {
    /// Show the parties' full phone and ID numbers (handling unit only;
    /// written to the audit log).
    pub reveal: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/cases/{case_id}/mediation", tag = "mediation", params(RevealQuery),
    responses((status = 200, body = MediationView), (status = 403), (status = 404)))]
pub async fn detail(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<RevealQuery>,
) -> ApiResult<Json<MediationView>> {
    Ok(Json(
        service::get(&s, &p, id, q.reveal.unwrap_or(false)).await?,
    ))
}

/// Register the dispute for mediation. 422 without `consent_recorded`;
/// 409 `mediation_unsafe` on a `high`/`imminent` risk or an open police
/// escalation unless `override_reason` is given (audited).
#[utoipa::path(put, path = "/api/v1/cases/{case_id}/mediation", tag = "mediation", request_body = RegisterBody,
    responses((status = 200, body = MediationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn register(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<RegisterBody>,
) -> ApiResult<Json<MediationView>> {
    Ok(Json(service::register(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/mediation/sessions", tag = "mediation", request_body = SessionBody,
    responses((status = 200, body = MediationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn session(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<SessionBody>,
) -> ApiResult<Json<MediationView>> {
    Ok(Json(service::record_session(&s, &p, id, body).await?))
}

/// End the mediation without an agreement; `escalated_to_police` opens the
/// police escalation in the same transaction.
#[utoipa::path(post, path = "/api/v1/cases/{case_id}/mediation/terminate", tag = "mediation", request_body = TerminateBody,
    responses((status = 200, body = MediationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn terminate(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TerminateBody>,
) -> ApiResult<Json<MediationView>> {
    Ok(Json(service::terminate(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/mediation/agreement", tag = "mediation", request_body = AgreementBody,
    responses((status = 200, body = MediationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn agreement(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AgreementBody>,
) -> ApiResult<Json<MediationView>> {
    Ok(Json(service::record_agreement(&s, &p, id, body).await?))
}

/// Obligation `n` (from 1) of the agreement was performed. Also served at
/// `/cases/{case_id}/mediation/agreement/obligations/{n}/performed`.
#[utoipa::path(post, path = "/api/v1/cases/{case_id}/mediation/obligations/{n}/performed", tag = "mediation",
    params(("case_id" = Uuid, Path), ("n" = i32, Path)), request_body = PerformedBody,
    responses((status = 200, body = MediationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn performed(
    State(s): State<AppState>,
    p: Principal,
    Path((case_id, n)): Path<(String, String)>,
    ApiJson(body): ApiJson<PerformedBody>,
) -> ApiResult<Json<MediationView>> {
    let id = Uuid::parse_str(&case_id).map_err(|_| ApiError::not_found("record"))?;
    let n: i32 = n.parse().map_err(|_| ApiError::not_found("obligation"))?;
    Ok(Json(service::performed(&s, &p, id, n, body).await?))
}

/// The 人民调解协议书, printable (A4). Phone and ID numbers in full only
/// for the handling unit; every download is audited.
#[utoipa::path(get, path = "/api/v1/cases/{case_id}/mediation/agreement.html", tag = "mediation",
    responses((status = 200, content_type = "text/html", body = String), (status = 404), (status = 409)))]
pub async fn agreement_html(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let html = service::agreement_document(&s, &p, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Its own policy: the document's inline style, and nothing else.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; font-src 'self'; \
                 base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
            ),
        ],
        html,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/reports/mediation", tag = "reports", params(MediationReportQuery),
    responses((status = 200, body = MediationFigures), (status = 403), (status = 422)))]
pub async fn figures(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<MediationReportQuery>,
) -> ApiResult<Json<MediationFigures>> {
    Ok(Json(report::figures(&s, &p, q).await?))
}
