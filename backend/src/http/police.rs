//! The rest of the police loop: a mandatory report's reporter (hotline and
//! police only), the 110 reference of an escalation and the hotline's
//! `reported_to_110`, and the duty phone of a unit (admin) that raises are
//! texted to.
use axum::{
    extract::State,
    routing::{get, post, put},
    Json, Router,
};
use serde::{Deserialize, Serialize};

use super::{
    error::ApiResult,
    extract::{ApiJson, IdPath},
};
use crate::{
    auth::Principal,
    cases::{mandatory, model::PhoneNumber, reporter::ReporterView},
    error::Error,
    escalation::{self, EscalationView, ExternalRefBody, ReportedTo110Body},
    notify::sms,
    state::AppState,
    vocab::Role,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{case_id}/reporter", get(reporter))
        .route(
            "/escalations/{escalation_id}/external-ref",
            post(external_ref),
        )
        .route(
            "/escalations/{escalation_id}/reported-to-110",
            post(reported_to_110),
        )
        .route("/units/{unit_id}/duty-phone", put(duty_phone))
}

#[utoipa::path(get, path = "/api/v1/cases/{case_id}/reporter", tag = "cases",
    responses((status = 200, body = ReporterView), (status = 404)))]
pub async fn reporter(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<ReporterView>> {
    Ok(Json(mandatory::get(&s, &p, id).await?))
}

#[utoipa::path(post, path = "/api/v1/escalations/{escalation_id}/external-ref", tag = "escalations",
    request_body = ExternalRefBody,
    responses((status = 200, body = EscalationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn external_ref(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ExternalRefBody>,
) -> ApiResult<Json<EscalationView>> {
    Ok(Json(escalation::set_external_ref(&s, &p, id, body).await?))
}

#[utoipa::path(post, path = "/api/v1/escalations/{escalation_id}/reported-to-110", tag = "escalations",
    request_body = ReportedTo110Body,
    responses((status = 200, body = EscalationView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn reported_to_110(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ReportedTo110Body>,
) -> ApiResult<Json<EscalationView>> {
    Ok(Json(escalation::reported_to_110(&s, &p, id, body).await?))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyPhone {
    /// The duty desk's phone for SMS; null or empty clears it.
    pub duty_phone: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/units/{unit_id}/duty-phone", tag = "admin", request_body = DutyPhone,
    responses((status = 200, body = DutyPhone), (status = 403), (status = 404), (status = 422)))]
pub async fn duty_phone(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<DutyPhone>,
) -> ApiResult<Json<DutyPhone>> {
    p.require(&[Role::Admin])?;
    let phone = match body
        .duty_phone
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(raw) => Some(
            PhoneNumber::parse(raw)
                .map_err(|m| Error::validation("duty_phone", m))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    crate::admin::get_unit(&s.db.conn, id).await?;
    let now = s.now();
    let txn = s.db.begin_write().await?;
    sms::set_duty_phone(&*txn, now, id, phone.as_deref())
        .await
        .map_err(Error::from)?;
    // The number itself is not logged: whether one is set is enough.
    crate::audit::append(
        &*txn,
        now,
        Some(p.user_id),
        "unit.duty_phone",
        id.to_string(),
        serde_json::json!({"set": phone.is_some()}),
    )
    .await
    .map_err(Error::from)?;
    txn.commit().await.map_err(Error::from)?;
    Ok(Json(DutyPhone { duty_phone: phone }))
}
