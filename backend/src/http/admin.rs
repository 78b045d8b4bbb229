//! Administration routes (admin only) and the region picker (any session).
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post, put},
    Json, Router,
};
use serde::{Deserialize, Serialize};

use super::{
    error::{ApiError, ApiResult},
    extract::{ApiBytes, ApiJson, ApiQuery, IdPath},
};
use crate::{
    admin::{self, NewUnit, NewUser, RoutingRuleView, UnitPatch, UnitView, UserPatch},
    auth::{Principal, UserView},
    regions::{self, ImportReport, RegionView},
    state::AppState,
    vocab::{Category, Role, UnitKind},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/units", get(list_units).post(create_unit))
        .route("/units/{unit_id}", get(get_unit).patch(update_unit))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{user_id}", axum::routing::patch(update_user))
        .route("/routing-rules", get(list_rules))
        .route("/routing-rules/{category}", put(set_rule))
        .route("/regions", get(list_regions))
        .route("/routing/preview", get(preview_route))
        .route("/regions/import", post(import_regions))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Items<T> {
    pub fn all(items: Vec<T>) -> Json<Items<T>> {
        Json(Items {
            items,
            next_cursor: None,
        })
    }
}

fn admin_only(p: &Principal) -> ApiResult<()> {
    Ok(p.require(&[Role::Admin])?)
}

#[utoipa::path(get, path = "/api/v1/units", tag = "admin", responses((status = 200, body = Items<UnitView>), (status = 403)))]
pub async fn list_units(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Items<UnitView>>> {
    // Any signed-in user may list units: operators pick transfer targets.
    let _ = p;
    Ok(Items::all(admin::list_units(&s.db).await?))
}

#[utoipa::path(post, path = "/api/v1/units", tag = "admin", request_body = NewUnit, responses((status = 201, body = UnitView), (status = 403), (status = 422)))]
pub async fn create_unit(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<NewUnit>,
) -> ApiResult<(StatusCode, Json<UnitView>)> {
    admin_only(&p)?;
    Ok((
        StatusCode::CREATED,
        Json(admin::create_unit(&s.db, &s.directory, s.now(), &p, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/units/{unit_id}", tag = "admin", responses((status = 200, body = UnitView), (status = 404)))]
pub async fn get_unit(
    State(s): State<AppState>,
    _p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<UnitView>> {
    Ok(Json(admin::get_unit(&s.db.conn, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/units/{unit_id}", tag = "admin", request_body = UnitPatch, responses((status = 200, body = UnitView), (status = 403), (status = 404), (status = 422)))]
pub async fn update_unit(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UnitPatch>,
) -> ApiResult<Json<UnitView>> {
    admin_only(&p)?;
    Ok(Json(
        admin::update_unit(&s.db, &s.directory, &s.sessions, s.now(), &p, id, body).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Items<UserView>), (status = 403)))]
pub async fn list_users(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Items<UserView>>> {
    admin_only(&p)?;
    Ok(Items::all(admin::list_users(&s.db).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser, responses((status = 201, body = UserView), (status = 403), (status = 409), (status = 422)))]
pub async fn create_user(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    admin_only(&p)?;
    Ok((
        StatusCode::CREATED,
        Json(admin::create_user(&s.db, s.now(), Some(&p), body).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/users/{user_id}", tag = "admin", request_body = UserPatch, responses((status = 200, body = UserView), (status = 403), (status = 404), (status = 422)))]
pub async fn update_user(
    State(s): State<AppState>,
    p: Principal,
    headers: axum::http::HeaderMap,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    admin_only(&p)?;
    let own = super::session::token_from(&headers).map(|(t, _)| crate::auth::hash_token(&t));
    Ok(Json(
        admin::update_user(&s.db, &s.sessions, s.now(), &p, own.as_deref(), id, body).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/routing-rules", tag = "admin", responses((status = 200, body = Items<RoutingRuleView>)))]
pub async fn list_rules(
    State(s): State<AppState>,
    _p: Principal,
) -> ApiResult<Json<Items<RoutingRuleView>>> {
    Ok(Items::all(admin::routing_rules(&s.db.conn).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub unit_kind: UnitKind,
}

#[utoipa::path(put, path = "/api/v1/routing-rules/{category}", tag = "admin", request_body = RuleBody, responses((status = 200, body = RoutingRuleView), (status = 403), (status = 404), (status = 422)))]
pub async fn set_rule(
    State(s): State<AppState>,
    p: Principal,
    Path(category): Path<String>,
    ApiJson(body): ApiJson<RuleBody>,
) -> ApiResult<Json<RoutingRuleView>> {
    admin_only(&p)?;
    Ok(Json(
        admin::set_routing_rule(&s.db, &s.directory, s.now(), &p, &category, body.unit_kind)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RegionQuery {
    /// The children of this code (the top level when absent).
    pub parent: Option<String>,
    /// A type-ahead search over county, township and village names
    /// instead: villages first, at most 20, each with its `path`.
    #[param(max_length = 40)]
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", params(RegionQuery), responses((status = 200, body = Items<RegionView>)))]
pub async fn list_regions(
    State(s): State<AppState>,
    _p: Principal,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> ApiResult<Json<Items<RegionView>>> {
    if let Some(text) = q.q.as_deref() {
        return Ok(Items::all(regions::search(&s.db, text).await?));
    }
    let parent = q.parent.as_deref().filter(|p| !p.is_empty());
    Ok(Items::all(regions::children(&s.db, parent).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PreviewQuery {
    pub category: Category,
    #[param(pattern = "^[0-9]{12}$")]
    pub region_code: String,
}

/// Where a case of this category at this place would go, before filing.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutePreview {
    /// False: no unit of the kind covers the place; the case stays with
    /// the hotline centre for manual dispatch.
    pub dispatched: bool,
    pub unit_kind: UnitKind,
    pub unit_name: Option<String>,
    /// The level (1 province … 5 village) the unit was found at.
    pub level: Option<i16>,
}

#[utoipa::path(get, path = "/api/v1/routing/preview", tag = "regions", params(PreviewQuery), responses((status = 200, body = RoutePreview), (status = 422)))]
pub async fn preview_route(
    State(s): State<AppState>,
    _p: Principal,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> ApiResult<Json<RoutePreview>> {
    let place = regions::require_known(&s.db.conn, "region_code", &q.region_code).await?;
    let routing = s.directory.routing(&s.db.conn, q.category, &place).await?;
    let d = crate::cases::routing::route(q.category, routing.kind, &place, &routing.candidates);
    let unit_name = d
        .unit_id
        .filter(|_| d.dispatched)
        .and_then(|id| routing.candidates.iter().find(|u| u.id == id))
        .map(|u| u.name.clone());
    Ok(Json(RoutePreview {
        dispatched: d.dispatched,
        unit_kind: d.unit_kind,
        unit_name,
        level: d.level,
    }))
}

#[utoipa::path(post, path = "/api/v1/regions/import", tag = "regions", request_body(content = String, content_type = "text/csv"), responses((status = 200, body = ImportReport), (status = 403), (status = 422)))]
pub async fn import_regions(
    State(s): State<AppState>,
    p: Principal,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<ImportReport>> {
    admin_only(&p)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::validation("csv", "the file is not UTF-8"))?;
    if super::extract::has_control(text) {
        return Err(super::extract::control_error("csv".into()));
    }
    let rows = regions::parse_csv(text)?;
    let now = s.now();
    let txn = s.db.begin_write().await?;
    let report = regions::import(&*txn, &rows).await?;
    crate::audit::append(
        &*txn,
        now,
        Some(p.user_id),
        "regions.import",
        "regions".into(),
        serde_json::json!({"rows": report.imported}),
    )
    .await?;
    txn.commit().await?;
    Ok(Json(report))
}
