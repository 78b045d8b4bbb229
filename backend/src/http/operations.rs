//! What the background work did, for admins: the mail outbox (with retry of
//! given-up messages) and the scheduled jobs.
use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;

use super::{
    admin::Items,
    error::ApiResult,
    extract::{ApiQuery, IdPath},
};
use crate::{
    auth::Principal,
    notify::outbox::{self, OutboxItem, OutboxStatus},
    scheduler::jobs::{self, JobView},
    state::AppState,
    vocab::Role,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(list_outbox))
        .route("/admin/outbox/{id}/retry", post(retry_mail))
        .route("/admin/jobs", get(list_jobs))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `failed`; all when absent.
    pub status: Option<OutboxStatus>,
    /// Default 50, at most 200.
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "operations", params(OutboxQuery),
    responses((status = 200, body = Items<OutboxItem>), (status = 403), (status = 422)))]
pub async fn list_outbox(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> ApiResult<Json<Items<OutboxItem>>> {
    p.require(&[Role::Admin])?;
    let limit = crate::db::keyset::limit(q.limit);
    let (items, next_cursor) =
        outbox::list_outbox(&s.db.conn, q.status, limit, q.cursor.as_deref()).await?;
    Ok(Json(Items { items, next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/admin/outbox/{id}/retry", tag = "operations",
    params(("id" = uuid::Uuid, Path, description = "outbox message id")),
    responses((status = 200, body = OutboxItem), (status = 403), (status = 404), (status = 409)))]
pub async fn retry_mail(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<OutboxItem>> {
    p.require(&[Role::Admin])?;
    let item = outbox::retry(&s.db, s.now(), p.user_id, id).await?;
    s.mail_wake.notify_one();
    Ok(Json(item))
}

#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "operations",
    responses((status = 200, body = Items<JobView>), (status = 403)))]
pub async fn list_jobs(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Items<JobView>>> {
    p.require(&[Role::Admin])?;
    Ok(Items::all(jobs::list_jobs(&s).await?))
}
