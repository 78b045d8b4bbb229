//! Referral routes: refer from a case, the incoming and outgoing lists,
//! one referral, the receiver's and the urgers' actions, the co-handling
//! rules and the referral figures.
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post, put},
    Json, Router,
};
use serde::{Deserialize, Serialize};

use super::{
    error::ApiResult,
    extract::{ApiJson, ApiQuery, IdPath, OptionalJsonBytes},
};
use crate::{
    auth::Principal,
    referrals::{
        co_handling::{self, CoHandlingBody, CoHandlingRule},
        query::{self, ListQuery},
        report::{self, ReferralReport, ReferralReportQuery},
        service::{self, DeclineBody, NewReferral, ReplyBody, UrgeBody, VersionBody, WithdrawBody},
        settings::KindSettings,
        view::ReferralView,
    },
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{case_id}/referrals", post(create))
        .route("/referral-kinds", get(kinds))
        .route("/referrals", get(list))
        .route("/referrals/{referral_id}", get(detail))
        .route("/referrals/{referral_id}/accept", post(accept))
        .route("/referrals/{referral_id}/decline", post(decline))
        .route("/referrals/{referral_id}/reply", post(reply))
        .route("/referrals/{referral_id}/withdraw", post(withdraw))
        .route("/referrals/{referral_id}/urge", post(urge))
        .route("/routing-rules/co-handling", get(list_co_handling))
        .route(
            "/routing-rules/{category}/co-handling",
            put(set_co_handling),
        )
        .route("/reports/referrals", get(figures))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReferralPage {
    pub items: Vec<ReferralView>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CoHandlingList {
    pub items: Vec<CoHandlingRule>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct KindList {
    pub items: Vec<KindSettings>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DetailQuery {
    /// Her full phone and ID numbers: the receiving unit, once it accepted
    /// (written to the audit log).
    pub reveal: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/referrals", tag = "referrals", request_body = NewReferral,
    responses((status = 201, body = ReferralView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewReferral>,
) -> ApiResult<(StatusCode, Json<ReferralView>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create(&s, &p, id, body).await?),
    ))
}

/// The configured kinds of referral, each with its default receiving unit
/// kind and reply window (any session: the console's refer form).
#[utoipa::path(get, path = "/api/v1/referral-kinds", tag = "referrals",
    responses((status = 200, body = KindList)))]
pub async fn kinds(State(s): State<AppState>, _p: Principal) -> Json<KindList> {
    Json(KindList {
        items: s.settings.deadlines.referrals.kinds.clone(),
    })
}

#[utoipa::path(get, path = "/api/v1/referrals", tag = "referrals", params(ListQuery),
    responses((status = 200, body = ReferralPage), (status = 422)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ReferralPage>> {
    let page = query::list(&s, &p, q).await?;
    Ok(Json(ReferralPage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/referrals/{referral_id}", tag = "referrals", params(DetailQuery),
    responses((status = 200, body = ReferralView), (status = 403), (status = 404)))]
pub async fn detail(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<DetailQuery>,
) -> ApiResult<Json<ReferralView>> {
    Ok(Json(
        query::get(&s, &p, id, q.reveal.unwrap_or(false)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/referrals/{referral_id}/accept", tag = "referrals", request_body = VersionBody,
    responses((status = 200, body = ReferralView), (status = 403), (status = 404), (status = 409)))]
pub async fn accept(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    OptionalJsonBytes(body): OptionalJsonBytes,
) -> ApiResult<Json<ReferralView>> {
    let body: VersionBody = if body.iter().all(u8::is_ascii_whitespace) {
        VersionBody::default()
    } else {
        super::extract::parse_json(&body)?
    };
    Ok(Json(service::accept(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/referrals/{referral_id}/decline", tag = "referrals", request_body = DeclineBody,
    responses((status = 200, body = ReferralView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn decline(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<DeclineBody>,
) -> ApiResult<Json<ReferralView>> {
    Ok(Json(service::decline(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/referrals/{referral_id}/reply", tag = "referrals", request_body = ReplyBody,
    responses((status = 200, body = ReferralView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn reply(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ReplyBody>,
) -> ApiResult<Json<ReferralView>> {
    Ok(Json(service::reply(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/referrals/{referral_id}/withdraw", tag = "referrals", request_body = WithdrawBody,
    responses((status = 200, body = ReferralView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn withdraw(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<WithdrawBody>,
) -> ApiResult<Json<ReferralView>> {
    Ok(Json(service::withdraw(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/referrals/{referral_id}/urge", tag = "referrals", request_body = UrgeBody,
    responses((status = 200, body = ReferralView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn urge(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UrgeBody>,
) -> ApiResult<Json<ReferralView>> {
    Ok(Json(service::urge(&s, &p, id, body).await?))
}

#[utoipa::path(get, path = "/api/v1/routing-rules/co-handling", tag = "admin",
    responses((status = 200, body = CoHandlingList)))]
pub async fn list_co_handling(
    State(s): State<AppState>,
    _p: Principal,
) -> ApiResult<Json<CoHandlingList>> {
    Ok(Json(CoHandlingList {
        items: co_handling::list(&s).await?,
    }))
}

#[utoipa::path(put, path = "/api/v1/routing-rules/{category}/co-handling", tag = "admin", request_body = CoHandlingBody,
    responses((status = 200, body = CoHandlingRule), (status = 403), (status = 404), (status = 422)))]
pub async fn set_co_handling(
    State(s): State<AppState>,
    p: Principal,
    Path(category): Path<String>,
    ApiJson(body): ApiJson<CoHandlingBody>,
) -> ApiResult<Json<CoHandlingRule>> {
    Ok(Json(co_handling::set(&s, &p, &category, body).await?))
}

#[utoipa::path(get, path = "/api/v1/reports/referrals", tag = "reports", params(ReferralReportQuery),
    responses((status = 200, body = ReferralReport), (status = 403), (status = 422)))]
pub async fn figures(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ReferralReportQuery>,
) -> ApiResult<Json<ReferralReport>> {
    Ok(Json(report::referrals(&s, &p, q).await?))
}
