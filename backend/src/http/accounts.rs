//! The admin console's account and settings routes (issue 19 item 12): a
//! temporary password, lifting the login throttle, who is throttled, the
//! units' duty phones and the configured deadline clocks (read-only).
use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use serde::Serialize;
use uuid::Uuid;

use super::{admin::Items, error::ApiResult, extract::IdPath};
use crate::{
    admin::{self, Lockout},
    auth::{Principal, UserView},
    state::AppState,
    vocab::Role,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{user_id}/reset-password", post(reset_password))
        .route("/users/{user_id}/unlock", post(unlock))
        .route("/admin/lockouts", get(lockouts))
        .route("/admin/duty-phones", get(duty_phones))
        .route("/admin/deadline-settings", get(deadline_settings))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(reset_password, unlock, lockouts, duty_phones, deadline_settings))]
pub struct AccountsApi;

/// Give the user a new temporary password (answered once as
/// `temporary_password`); their sessions end and they must choose their
/// own at the next sign-in. Audited as `user.reset_password`.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/reset-password", tag = "admin",
    responses((status = 200, body = UserView), (status = 403), (status = 404), (status = 409, description = "cannot_reset_self")))]
pub async fn reset_password(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<UserView>> {
    p.require(&[Role::Admin])?;
    Ok(Json(
        admin::reset_password(&s.db, &s.sessions, s.now(), &p, id).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Unlocked {
    /// Failed sign-ins forgotten.
    pub failures_cleared: u64,
}

/// Lift the login throttle of this user (their failed sign-ins are
/// forgotten). Audited as `user.unlock`.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/unlock", tag = "admin",
    responses((status = 200, body = Unlocked), (status = 403), (status = 404)))]
pub async fn unlock(
    State(s): State<AppState>,
    p: Principal,
    IdPath(id): IdPath,
) -> ApiResult<Json<Unlocked>> {
    p.require(&[Role::Admin])?;
    let failures_cleared = admin::unlock(&s.db, s.now(), &p, id).await?;
    Ok(Json(Unlocked { failures_cleared }))
}

/// Users with failed sign-ins within the throttle's window; `locked` from
/// `auth.max_failures` on.
#[utoipa::path(get, path = "/api/v1/admin/lockouts", tag = "admin",
    responses((status = 200, body = Items<Lockout>), (status = 403)))]
pub async fn lockouts(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Items<Lockout>>> {
    p.require(&[Role::Admin])?;
    let a = &s.settings.auth;
    let window =
        chrono::Duration::seconds(i64::try_from(a.failure_window_s).unwrap_or(i64::MAX / 1000));
    Ok(Items::all(
        admin::lockouts(&s.db, s.now() - window, a.max_failures).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnitDutyPhone {
    pub unit_id: Uuid,
    pub duty_phone: String,
}

/// Every unit's duty phone (set with `PUT /units/{unit_id}/duty-phone`).
#[utoipa::path(get, path = "/api/v1/admin/duty-phones", tag = "admin",
    responses((status = 200, body = Items<UnitDutyPhone>), (status = 403)))]
pub async fn duty_phones(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Items<UnitDutyPhone>>> {
    p.require(&[Role::Admin])?;
    let ids: Vec<Uuid> = admin::list_units(&s.db)
        .await?
        .iter()
        .map(|u| u.id)
        .collect();
    let phones = crate::notify::sms::duty_phones(&s.db.conn, &ids)
        .await
        .map_err(crate::error::Error::from)?;
    Ok(Items::all(
        phones
            .into_iter()
            .map(|(unit_id, duty_phone)| UnitDutyPhone {
                unit_id,
                duty_phone,
            })
            .collect(),
    ))
}

/// One configured clock of `[deadlines]`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeadlineSetting {
    /// Its path in the configuration, e.g. `imminent.acknowledge_s`,
    /// `referrals.kinds.legal_aid.reply_s`.
    pub key: String,
    pub seconds: i64,
}

/// The deadline clocks this server runs with (`[deadlines]`, read-only:
/// changed in the configuration file), and whether working-day clocks
/// count working days.
#[utoipa::path(get, path = "/api/v1/admin/deadline-settings", tag = "admin",
    responses((status = 200, body = Items<DeadlineSetting>), (status = 403)))]
pub async fn deadline_settings(
    State(s): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Items<DeadlineSetting>>> {
    p.require(&[Role::Admin])?;
    let mut out = Vec::new();
    if let Ok(v) = serde_json::to_value(&s.settings.deadlines) {
        flatten("", &v, &mut out);
    }
    Ok(Items::all(out))
}

/// Every number under `v`, keyed by its path; an array's items by their
/// `name`.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<DeadlineSetting>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let name = item["name"]
                    .as_str()
                    .map_or_else(|| i.to_string(), str::to_string);
                flatten(&join(&name), item, out);
            }
        }
        serde_json::Value::Number(n) => {
            if let Some(seconds) = n.as_i64() {
                out.push(DeadlineSetting {
                    key: prefix.to_string(),
                    seconds,
                });
            }
        }
        _ => {}
    }
}
