//! Case routes: open, read, list, and the lifecycle actions.
use axum::{
    extract::State,
    http::StatusCode,
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
    cases::{
        closing::{self, CloseBody, ConfirmationBody, OutcomeBody},
        model::PhoneNumber,
        open::{self as opening, NewCase},
        query::{self, ListQuery},
        risk::{self, RiskBody},
        service::{self, NoteBody, ReasonBody, TransferBody, VersionOnly},
        view::{CaseDetail, CaseView},
    },
    escalation::{self, EscalationView, NewEscalation},
    ledger::link::{case_ledger, OpenedWith},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list).post(open))
        .route("/cases/{case_id}", get(detail))
        .route("/cases/{case_id}/accept", post(accept))
        .route("/cases/{case_id}/transfer", post(transfer))
        .route("/cases/{case_id}/decline", post(decline))
        .route("/cases/{case_id}/notes", post(note))
        .route("/cases/{case_id}/urge", post(urge))
        .route("/cases/{case_id}/outcome", post(outcome))
        .route("/cases/{case_id}/confirmation", post(confirmation))
        .route("/cases/{case_id}/close", post(close))
        .route("/cases/{case_id}/reopen", post(reopen))
        .route("/cases/{case_id}/risk", post(risk))
        .route("/cases/{case_id}/escalations", post(escalate))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseView>,
    pub next_cursor: Option<String>,
}

/// A new case with what intake found on the ledger.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OpenedCase {
    #[serde(flatten)]
    pub case: CaseView,
    #[serde(flatten)]
    pub ledger: crate::ledger::view::CaseLedger,
}

#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = NewCase,
    responses((status = 201, body = OpenedCase), (status = 403), (status = 409), (status = 422)))]
pub async fn open(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<NewCase>,
) -> ApiResult<(StatusCode, Json<OpenedCase>)> {
    let opened = OpenedWith {
        id_number: given(&body.subject.id_number).is_some(),
        phone: given(&body.subject.phone)
            .and_then(|raw| PhoneNumber::parse(raw).ok())
            .map(|p| p.as_str().to_string()),
        call: body.call_id.is_some(),
    };
    let case = opening::open(&s, &p, body).await?;
    let ledger = case_ledger(&s.db.conn, s.now(), case.id, &opened).await?;
    Ok((StatusCode::CREATED, Json(OpenedCase { case, ledger })))
}

/// An optional text that is there (not blank).
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(ListQuery), responses((status = 200, body = CasePage), (status = 422)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<CasePage>> {
    let page = query::list(&s, &p, q).await?;
    Ok(Json(CasePage {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DetailQuery {
    /// Show full phone and ID numbers (handling unit and hotline only;
    /// written to the audit log).
    pub reveal: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/cases/{case_id}", tag = "cases", params(DetailQuery), responses((status = 200, body = CaseDetail), (status = 403), (status = 404)))]
pub async fn detail(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<DetailQuery>,
) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(
        query::detail(&s, &p, id, q.reveal.unwrap_or(false)).await?,
    ))
}

/// Accept an optional JSON body (`{"version": n}`) or none at all.
fn optional<T: serde::de::DeserializeOwned + Default>(body: axum::body::Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        super::extract::parse_json(&body)
    }
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/accept", tag = "cases", request_body = VersionOnly, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409)))]
pub async fn accept(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    super::extract::OptionalJsonBytes(body): super::extract::OptionalJsonBytes,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(service::accept(&s, &p, id, optional(body)?).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/transfer", tag = "cases", request_body = TransferBody, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn transfer(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<TransferBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(service::transfer(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/decline", tag = "cases", request_body = ReasonBody, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn decline(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(service::decline(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/notes", tag = "cases", request_body = NoteBody, responses((status = 200, body = CaseView), (status = 404), (status = 409), (status = 422)))]
pub async fn note(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NoteBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(service::add_note(&s, &p, id, body).await?))
}

/// A supervisor urges the unit holding the case (督办): the opinion on the
/// timeline, audited, and a 【督办】 mail to the unit.
#[utoipa::path(post, path = "/api/v1/cases/{case_id}/urge", tag = "cases", request_body = crate::cases::urge::UrgeBody, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn urge(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<crate::cases::urge::UrgeBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(crate::cases::urge::urge(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/outcome", tag = "cases", request_body = OutcomeBody, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn outcome(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<OutcomeBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(closing::record_outcome(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/confirmation", tag = "cases", request_body = ConfirmationBody, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn confirmation(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ConfirmationBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(closing::record_confirmation(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/close", tag = "cases", request_body = CloseBody, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn close(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<CloseBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(closing::close(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/reopen", tag = "cases", request_body = ReasonBody, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn reopen(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(closing::reopen(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/risk", tag = "cases", request_body = RiskBody, responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn risk(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<RiskBody>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(risk::raise_risk(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/cases/{case_id}/escalations", tag = "escalations", request_body = NewEscalation, responses((status = 201, body = EscalationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn escalate(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewEscalation>,
) -> ApiResult<(StatusCode, Json<EscalationView>)> {
    Ok((
        StatusCode::CREATED,
        Json(escalation::escalate_by_hand(&s, &p, id, body).await?),
    ))
}
