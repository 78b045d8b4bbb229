//! The hotline loop's routes (issue 18): call dispositions, the callback
//! queue, her safe contact. Adds its paths to the OpenAPI document.
use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};

use super::{
    error::ApiResult,
    extract::{ApiJson, ApiQuery, IdPath},
};
use crate::{
    auth::Principal,
    calls::{
        disposition::{self, DispositionBody},
        CallView,
    },
    cases::contact_safety::SafeContact,
    hotline::{
        callbacks::{self, AttemptBody, CallbackQuery, ResultBody},
        contact::{self, ContactSafetyView},
        extensions::{self, DecisionBody, ExtensionBody, ExtensionView},
        follow_up::{self as follow_ups, FollowUpBody},
        links::{self as linking, LinkBody, LinkView},
        report::{self as figures, HotlineReport, HotlineReportQuery},
        view::CallbackView,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calls/{call_id}/disposition", post(dispose))
        .route("/callbacks", get(list))
        .route("/callbacks/{callback_id}", get(detail))
        .route("/callbacks/{callback_id}/attempts", post(attempt))
        .route("/callbacks/{callback_id}/result", post(result))
        .route("/cases/{case_id}/callbacks", post(follow_up))
        .route(
            "/cases/{case_id}/contact-safety",
            get(contact_get).put(contact_put),
        )
        .route(
            "/cases/{case_id}/extension",
            post(extension_request).get(extension_list),
        )
        .route(
            "/extensions/{extension_id}/approve",
            post(extension_approve),
        )
        .route("/extensions/{extension_id}/refuse", post(extension_refuse))
        .route("/cases/{case_id}/link", post(link))
        .route("/cases/{case_id}/links", get(links))
        .route("/reports/hotline", get(report))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    dispose,
    list,
    detail,
    attempt,
    result,
    follow_up,
    contact_get,
    contact_put,
    extension_request,
    extension_list,
    extension_approve,
    extension_refuse,
    link,
    links,
    report
))]
pub struct HotlineApi;

#[utoipa::path(post, path = "/api/v1/calls/{call_id}/disposition", tag = "hotline", request_body = DispositionBody,
    responses((status = 200, body = CallView), (status = 403), (status = 404), (status = 422)))]
pub async fn dispose(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<DispositionBody>,
) -> ApiResult<Json<CallView>> {
    Ok(Json(disposition::record(&s, &p, id, body).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CallbackPage {
    pub items: Vec<CallbackView>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/callbacks", tag = "hotline", params(CallbackQuery),
    responses((status = 200, body = CallbackPage), (status = 403), (status = 422)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> ApiResult<Json<CallbackPage>> {
    let page = callbacks::list(&s, &p, q).await?;
    Ok(Json(CallbackPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RevealQuery {
    /// Show her full number, code word and notes (audited).
    pub reveal: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/callbacks/{callback_id}", tag = "hotline", params(RevealQuery),
    responses((status = 200, body = CallbackView), (status = 403), (status = 404)))]
pub async fn detail(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<RevealQuery>,
) -> ApiResult<Json<CallbackView>> {
    Ok(Json(
        callbacks::detail(&s, &p, id, q.reveal.unwrap_or(false)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/callbacks/{callback_id}/attempts", tag = "hotline", request_body = AttemptBody,
    responses((status = 200, body = CallbackView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn attempt(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AttemptBody>,
) -> ApiResult<Json<CallbackView>> {
    Ok(Json(callbacks::attempt(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/callbacks/{callback_id}/result", tag = "hotline", request_body = ResultBody,
    responses((status = 200, body = CallbackView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn result(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ResultBody>,
) -> ApiResult<Json<CallbackView>> {
    Ok(Json(callbacks::result(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/callbacks", tag = "hotline", request_body = FollowUpBody,
    responses((status = 201, body = CallbackView), (status = 403), (status = 404),
        (status = 409, description = "unsafe_to_call, outside_safe_hours, no_number"), (status = 422)))]
pub async fn follow_up(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<FollowUpBody>,
) -> ApiResult<(axum::http::StatusCode, Json<CallbackView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(follow_ups::schedule(&s, &p, id, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases/{case_id}/contact-safety", tag = "hotline",
    responses((status = 200, body = ContactSafetyView), (status = 404)))]
pub async fn contact_get(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<ContactSafetyView>> {
    Ok(Json(contact::get(&s, &p, id).await?))
}

#[utoipa::path(put, path = "/api/v1/cases/{case_id}/contact-safety", tag = "hotline", request_body = SafeContact,
    responses((status = 200, body = ContactSafetyView), (status = 403), (status = 404), (status = 422)))]
pub async fn contact_put(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<SafeContact>,
) -> ApiResult<Json<ContactSafetyView>> {
    Ok(Json(contact::put(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/extension", tag = "hotline", request_body = ExtensionBody,
    responses((status = 201, body = ExtensionView), (status = 403), (status = 404),
        (status = 409, description = "too_late, extension_pending"), (status = 422)))]
pub async fn extension_request(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ExtensionBody>,
) -> ApiResult<(axum::http::StatusCode, Json<ExtensionView>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(extensions::request(&s, &p, id, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases/{case_id}/extension", tag = "hotline",
    responses((status = 200, body = [ExtensionView]), (status = 404)))]
pub async fn extension_list(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<ExtensionView>>> {
    Ok(Json(extensions::of_case(&s, &p, id).await?))
}

/// An optional JSON body (`{"note": ...}`) or none.
fn decision(body: axum::body::Bytes) -> ApiResult<DecisionBody> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(DecisionBody::default())
    } else {
        super::extract::parse_json(&body)
    }
}

#[utoipa::path(post, path = "/api/v1/extensions/{extension_id}/approve", tag = "hotline", request_body = DecisionBody,
    responses((status = 200, body = ExtensionView), (status = 403), (status = 404), (status = 409, description = "extension_decided")))]
pub async fn extension_approve(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    super::extract::OptionalJsonBytes(body): super::extract::OptionalJsonBytes,
) -> ApiResult<Json<ExtensionView>> {
    Ok(Json(
        extensions::decide(&s, &p, id, true, decision(body)?).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/extensions/{extension_id}/refuse", tag = "hotline", request_body = DecisionBody,
    responses((status = 200, body = ExtensionView), (status = 403), (status = 404), (status = 409, description = "extension_decided")))]
pub async fn extension_refuse(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    super::extract::OptionalJsonBytes(body): super::extract::OptionalJsonBytes,
) -> ApiResult<Json<ExtensionView>> {
    Ok(Json(
        extensions::decide(&s, &p, id, false, decision(body)?).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/link", tag = "hotline", request_body = LinkBody,
    responses((status = 200, body = [LinkView]), (status = 403), (status = 404),
        (status = 409, description = "already_linked, open_escalation, open_referrals"), (status = 422)))]
pub async fn link(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<LinkBody>,
) -> ApiResult<Json<Vec<LinkView>>> {
    Ok(Json(linking::link(&s, &p, id, body).await?))
}

#[utoipa::path(get, path = "/api/v1/cases/{case_id}/links", tag = "hotline",
    responses((status = 200, body = [LinkView]), (status = 404)))]
pub async fn links(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<Vec<LinkView>>> {
    Ok(Json(linking::of_case(&s, &p, id).await?))
}

#[utoipa::path(get, path = "/api/v1/reports/hotline", tag = "reports", params(HotlineReportQuery),
    responses((status = 200, body = HotlineReport), (status = 403), (status = 422)))]
pub async fn report(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<HotlineReportQuery>,
) -> ApiResult<Json<HotlineReport>> {
    Ok(Json(figures::hotline(&s, &p, q).await?))
}
