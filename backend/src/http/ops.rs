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

/// While the health check finds the database down, API requests (but the
/// OpenAPI document) are answered 503 `database_unavailable` at once, with
/// `Retry-After: 1`, instead of each waiting out the pool's acquire
/// timeout (`db::health`).
pub async fn database_gate(
    State(s): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    if !s.db.health().is_up() && path.starts_with("/api/") && path != "/api/v1/openapi.json" {
        let mut e = super::error::ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "数据库暂时无法访问，未保存任何内容，请稍后重试 / the database does not answer; nothing was saved, please retry",
        );
        e.retry_after_s = Some(1);
        return e.into_response();
    }
    next.run(req).await
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

async fn openapi() -> Json<serde_json::Value> {
    Json(document().clone())
}

/// The full contract: the handlers' annotations, completed by
/// `openapi::complete` (path parameters, security, shared error statuses).
/// Built once.
pub fn document() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.merge(super::mediation::MediationApi::openapi());
        doc.merge(super::ledger::LedgerApi::openapi());
        doc.merge(super::hotline::HotlineApi::openapi());
        doc.merge(super::accounts::AccountsApi::openapi());
        let mut doc = serde_json::to_value(doc).unwrap_or_default();
        super::openapi::complete(&mut doc);
        doc
    })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lianxin (连心) API",
        version = "1",
        description = "Case server for the 12338 women's rights hotline. See API.md."
    ),
    paths(
        super::auth::login,
        super::auth::logout,
        super::auth::me,
        super::auth::change_password,
        super::admin::list_units,
        super::admin::create_unit,
        super::admin::get_unit,
        super::admin::update_unit,
        super::admin::list_users,
        super::admin::create_user,
        super::admin::update_user,
        super::admin::list_rules,
        super::admin::set_rule,
        super::admin::list_regions,
        super::admin::import_regions,
        super::admin::preview_route,
        super::operations::list_outbox,
        super::operations::retry_mail,
        super::operations::list_jobs,
        super::calls::record,
        super::calls::caller,
        super::calls::cti_event,
        super::cases::open,
        super::cases::list,
        super::cases::detail,
        super::cases::accept,
        super::cases::transfer,
        super::cases::decline,
        super::cases::note,
        super::cases::urge,
        super::cases::outcome,
        super::cases::confirmation,
        super::cases::close,
        super::cases::reopen,
        super::cases::risk,
        super::cases::escalate,
        super::escalations::list,
        super::escalations::detail,
        super::escalations::acknowledge,
        super::escalations::action,
        super::escalations::resolve,
        super::measures::create,
        super::measures::of_case,
        super::measures::list,
        super::measures::detail,
        super::measures::decision,
        super::measures::extend,
        super::measures::violation,
        super::measures::visit_done,
        super::police::reporter,
        super::police::external_ref,
        super::police::reported_to_110,
        super::police::duty_phone,
        super::live::live,
        super::reports::summary,
        super::reports::cases_csv,
        super::referrals::kinds,
        super::referrals::create,
        super::referrals::list,
        super::referrals::detail,
        super::referrals::accept,
        super::referrals::decline,
        super::referrals::reply,
        super::referrals::withdraw,
        super::referrals::urge,
        super::referrals::list_co_handling,
        super::referrals::set_co_handling,
        super::referrals::figures,
    )
)]
pub struct ApiDoc;
