//! The ledger of left-behind women: import, persons, visits, case links,
//! the report.
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;

use super::{
    error::{ApiError, ApiResult},
    extract::{ApiJson, ApiQuery, IdPath},
};
use crate::{
    auth::Principal,
    ledger::{
        contacts::{self, ContactList, ContactQuery},
        import::ImportReport,
        query::{self, DetailQuery, ListQuery, PersonPage},
        report::{self, LedgerReport, ReportQuery},
        service::{self, LinkBody, LinkView, NewVisit, PersonPatch},
        view::{PersonDetail, VisitView},
    },
    state::AppState,
};

/// A screening file of 100,000 rows is about 12 MiB as CSV.
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/ledger/imports",
            post(import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/ledger/persons", get(list))
        .route("/ledger/persons/{person_id}", get(detail).patch(update))
        .route("/ledger/persons/{person_id}/visits", post(visit))
        .route("/ledger/contact-persons", get(contact_persons))
        .route("/cases/{case_id}/person", post(link_case))
        .route("/reports/ledger", get(figures))
}

/// The routes of this module, for the served OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(import, list, detail, update, visit, contact_persons, link_case, figures),
    // Used only as a query parameter, which utoipa does not collect.
    components(schemas(crate::vocab::LedgerFlag))
)]
pub struct LedgerApi;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The county (or township) the file is for; administrators must name
    /// it, units import for their own region.
    pub county: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/ledger/imports", tag = "ledger", params(ImportQuery),
    request_body(content = String, description = "CSV (UTF-8 or GB18030) or XLSX, as the raw body", content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 403), (status = 413), (status = 422)))]
pub async fn import(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<ImportReport>> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large()
        } else {
            ApiError::malformed(r.body_text())
        }
    })?;
    Ok(Json(
        service::import_file(&s, &p, q.county.as_deref(), &body).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/ledger/persons", tag = "ledger", params(ListQuery),
    responses((status = 200, body = PersonPage), (status = 403), (status = 422)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<PersonPage>> {
    Ok(Json(query::list(&s, &p, q).await?))
}

#[utoipa::path(get, path = "/api/v1/ledger/persons/{person_id}", tag = "ledger", params(DetailQuery),
    responses((status = 200, body = PersonDetail), (status = 403), (status = 404)))]
pub async fn detail(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<DetailQuery>,
) -> ApiResult<Json<PersonDetail>> {
    Ok(Json(query::detail(&s, &p, id, q).await?))
}

#[utoipa::path(patch, path = "/api/v1/ledger/persons/{person_id}", tag = "ledger", request_body = PersonPatch,
    responses((status = 200, body = PersonDetail), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<PersonPatch>,
) -> ApiResult<Json<PersonDetail>> {
    Ok(Json(service::patch(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/ledger/persons/{person_id}/visits", tag = "ledger", request_body = NewVisit,
    responses((status = 201, body = VisitView), (status = 403), (status = 404), (status = 422)))]
pub async fn visit(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewVisit>,
) -> ApiResult<(StatusCode, Json<VisitView>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::visit(&s, &p, id, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/ledger/contact-persons", tag = "ledger", params(ContactQuery),
    responses((status = 200, body = ContactList), (status = 403), (status = 404), (status = 422)))]
pub async fn contact_persons(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> ApiResult<Json<ContactList>> {
    Ok(Json(contacts::list(&s, &p, q).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/person", tag = "ledger", request_body = LinkBody,
    responses((status = 200, body = LinkView), (status = 403), (status = 404), (status = 422)))]
pub async fn link_case(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<LinkBody>,
) -> ApiResult<Json<LinkView>> {
    Ok(Json(service::link_case(&s, &p, id, body).await?))
}

#[utoipa::path(get, path = "/api/v1/reports/ledger", tag = "ledger", params(ReportQuery),
    responses((status = 200, body = LedgerReport), (status = 403), (status = 404), (status = 422)))]
pub async fn figures(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> ApiResult<Json<LedgerReport>> {
    Ok(Json(report::report(&s, &p, q).await?))
}
