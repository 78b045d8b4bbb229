//! Signing in: the throttle reserved before the password check, the check
//! behind the hash gate (even for unknown users, so timing tells nothing),
//! then a new session row.
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{hash_token, hex, password, throttle, Throttle, UserView};
use crate::{
    db::{
        entities::{session, unit, user},
        Db,
    },
    error::{Error, Result},
};

pub struct LoginOutcome {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

pub(super) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

pub struct LoginPolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub session_ttl: Duration,
}

/// [`login_with`] with a default hash gate, the default delays and no
/// client address (the CLI and tests).
pub async fn login(
    db: &Db,
    now: DateTime<Utc>,
    policy: &LoginPolicy,
    username: &str,
    password: &str,
) -> Result<LoginOutcome> {
    let gate = password::HashGate::default();
    let d = crate::config::AuthSettings::default();
    let throttle = Throttle {
        max_failures: policy.max_failures,
        window: policy.window,
        base_delay: Duration::seconds(d.lockout_base_s as i64),
        max_delay: Duration::seconds(d.lockout_max_s as i64),
        max_per_address: 0,
        address_window: Duration::zero(),
    };
    login_with(db, now, policy, &throttle, &gate, None, username, password).await
}

/// Check the password under the throttle (`throttle.rs`), and open a
/// session. `address` is the client's (see `http::session::ClientAddr`).
#[allow(clippy::too_many_arguments)]
pub async fn login_with(
    db: &Db,
    now: DateTime<Utc>,
    policy: &LoginPolicy,
    throttle: &Throttle,
    gate: &password::HashGate,
    address: Option<&str>,
    username: &str,
    password: &str,
) -> Result<LoginOutcome> {
    let username = username.trim();
    let reservation = throttle::reserve(db, now, throttle, username, address).await?;
    let found = if throttle::is_possible_username(username) {
        match user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&db.conn)
            .await
        {
            Ok(found) => found,
            // A stored value no release wrote (an unknown role) fails
            // closed: refused like an unknown user, never a default role.
            Err(sea_orm::DbErr::Type(e)) => {
                tracing::warn!(error = %e, "refusing a login: unreadable user row");
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let hash = found
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::DUMMY_HASH.to_string());
    // Verify even for unknown users, so timing does not reveal who exists.
    let ok = match password::verify_gated(gate, password.to_string(), hash).await {
        Ok(ok) => ok,
        Err(e) => {
            // Not verified (no hash slot): the attempt does not count.
            throttle::release(db, reservation).await?;
            return Err(e);
        }
    };
    let allowed = match &found {
        Some(u) if ok && u.active => may_sign_in(db, u).await?,
        _ => false,
    };
    let user = match found {
        Some(u) if allowed => u,
        // The reserved rows stand as the failure.
        _ => return Err(Error::InvalidCredentials),
    };

    let token = new_token();
    let expires_at = now + policy.session_ttl;
    let txn = db.begin_write().await?;
    session::Entity::insert(session::ActiveModel {
        token_hash: Set(hash_token(&token)),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    })
    .exec_without_returning(&*txn)
    .await?;
    throttle::succeeded(&*txn, &reservation, username).await?;
    txn.commit().await?;
    Ok(LoginOutcome {
        token,
        expires_at,
        user: UserView::from_model(&user)?,
    })
}

/// An active user may sign in when their unit, if any, is active (a row
/// with an unknown role does not even read, see `login_with`).
async fn may_sign_in(db: &Db, u: &user::Model) -> Result<bool> {
    match u.unit_id {
        None => Ok(true),
        Some(id) => Ok(unit::Entity::find_by_id(id)
            .one(&db.conn)
            .await?
            .is_some_and(|n| n.active)),
    }
}
