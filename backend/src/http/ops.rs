//! Operations endpoints (no session): health, readiness, metrics and the
//! OpenAPI document generated from the handlers' annotations.
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use utoipa::OpenApi;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

pub fn api_router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.db.ping().await {
        Ok(()) => Json(ready_body(&s.db)).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            super::error::ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

/// `{"status":"ready"}`, with `warnings` when something needs an
/// operator's eye while the server still serves: `wal_large` when the
/// SQLite WAL is over `db::wal::WARN_ABOVE` (the checkpointer could not
/// truncate it: a reader held it too long), and `wal_bytes` on SQLite.
fn ready_body(db: &crate::db::Db) -> serde_json::Value {
    let mut body = serde_json::json!({"status": "ready"});
    if let Some(wal) = db.wal_bytes() {
        body["wal_bytes"] = wal.into();
        if wal > crate::db::wal::WARN_ABOVE {
            body["warnings"] = serde_json::json!([{
                "code": "wal_large",
                "message": format!("SQLite 预写日志 {} MiB，超过 {} MiB (WAL over the limit)",
                    wal / (1024 * 1024), crate::db::wal::WARN_ABOVE / (1024 * 1024)),
            }]);
        }
    }
    body
}

async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::mediation::MediationApi::openapi());
    doc.merge(super::ledger::LedgerApi::openapi());
    Json(doc)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Lianxin (连心) API", version = "1", description = "Case server for the 12338 women's rights hotline. See API.md."),
    paths(
        super::auth::login, super::auth::logout, super::auth::me, super::auth::change_password,
        super::admin::list_units, super::admin::create_unit, super::admin::get_unit, super::admin::update_unit,
        super::admin::list_users, super::admin::create_user, super::admin::update_user,
        super::admin::list_rules, super::admin::set_rule,
        super::admin::list_regions, super::admin::import_regions,
        super::operations::list_outbox, super::operations::retry_mail, super::operations::list_jobs,
        super::calls::record, super::calls::caller, super::calls::cti_event,
        super::cases::open, super::cases::list, super::cases::detail, super::cases::accept,
        super::cases::transfer, super::cases::decline, super::cases::note, super::cases::outcome,
        super::cases::confirmation, super::cases::close, super::cases::reopen, super::cases::risk,
        super::cases::escalate,
        super::escalations::list, super::escalations::detail, super::escalations::acknowledge,
        super::escalations::action, super::escalations::resolve,
        super::measures::create, super::measures::of_case, super::measures::list,
        super::measures::detail, super::measures::decision, super::measures::extend,
        super::measures::violation, super::measures::visit_done,
        super::police::reporter, super::police::external_ref, super::police::reported_to_110,
        super::police::duty_phone,
        super::live::live,
        super::reports::summary, super::reports::cases_csv,
        super::referrals::kinds, super::referrals::create, super::referrals::list, super::referrals::detail,
        super::referrals::accept, super::referrals::decline, super::referrals::reply,
        super::referrals::withdraw, super::referrals::urge, super::referrals::list_co_handling,
        super::referrals::set_co_handling, super::referrals::figures,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}
