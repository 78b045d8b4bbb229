//! Accounts and sessions: argon2id passwords, random bearer tokens stored
//! only as SHA-256 hashes, expiry and revocation, and login throttling
//! counted in the database so that a restart does not reset it.
pub mod cache;
mod login;
pub mod password;
pub mod throttle;

pub use cache::SessionCache;
pub use login::{login, login_with, LoginOutcome, LoginPolicy};
pub use throttle::Throttle;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    db::{
        entities::{login_failure, session, user},
        Db,
    },
    error::{Error, Result},
    vocab::{Role, UnitKind},
};

/// The signed-in user, with what scope checks need about their unit.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub email: Option<String>,
    pub unit: Option<UnitRef>,
    /// When the session used for this request expires.
    pub session_expires_at: DateTime<Utc>,
    /// Signed in with a temporary password: only `/me`, `/me/password`
    /// and logout answer until the user has chosen their own.
    pub must_change_password: bool,
}

#[derive(Debug, Clone)]
pub struct UnitRef {
    pub id: Uuid,
    pub kind: UnitKind,
    pub region_code: String,
}

impl Principal {
    pub fn unit_id(&self) -> Option<Uuid> {
        self.unit.as_ref().map(|u| u.id)
    }

    pub fn require(&self, roles: &[Role]) -> Result<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "the role {} may not do this",
                self.role
            )))
        }
    }
}

/// `GET /api/v1/me` and the `user` of a login answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub email: Option<String>,
    pub active: bool,
    /// A temporary password was set: the user must choose their own at
    /// the next sign-in.
    pub must_change_password: bool,
    /// Only in the answer that set it (a user created without a password,
    /// a reset): shown once to the admin, stored only as its hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
}

impl UserView {
    pub fn from_model(m: &user::Model) -> Result<UserView> {
        Ok(UserView {
            id: m.id,
            username: m.username.clone(),
            display_name: m.display_name.clone(),
            role: m.role,
            unit_id: m.unit_id,
            email: m.email.clone(),
            active: m.active,
            must_change_password: m.must_change_password,
            temporary_password: None,
        })
    }
}

/// Every request hashes its token (the session cache is keyed by the
/// hash), so this writes hex into one buffer instead of a string per byte.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Resolve a bearer token to the signed-in user, or `Unauthorized`:
/// from `sessions` if it was resolved a moment ago, else from the database.
pub async fn authenticate(
    db: &Db,
    sessions: &SessionCache,
    now: DateTime<Utc>,
    token: &str,
) -> Result<Principal> {
    let token_hash = hash_token(token);
    if let Some(p) = sessions.get(&token_hash) {
        if p.session_expires_at > now {
            return Ok(p);
        }
        return Err(Error::Unauthorized);
    }
    let generation = sessions.generation();
    let loaded_at = std::time::Instant::now();
    let p = lookup(db, now, &token_hash).await?;
    sessions.remember(generation, loaded_at, token_hash, p.clone());
    Ok(p)
}

/// The session behind `token_hash`, if it is live and its user active.
async fn lookup(db: &Db, now: DateTime<Utc>, token_hash: &str) -> Result<Principal> {
    // One round trip: every request not answered from the cache comes here.
    let backend = db.conn.get_database_backend();
    let placeholder = if backend == sea_orm::DatabaseBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "SELECT s.expires_at, s.revoked_at, u.id AS user_id, u.username, u.display_name, \
         u.role, u.email, u.active, u.must_change_password, n.id AS unit_id, n.kind AS unit_kind, \
         n.region_code AS unit_region, n.active AS unit_active \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         LEFT JOIN units n ON n.id = u.unit_id WHERE s.token_hash = {placeholder}"
    );
    let Some(row) = db
        .conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [token_hash.into()],
        ))
        .await?
    else {
        return Err(Error::Unauthorized);
    };
    let expires_at: DateTime<Utc> = row.try_get("", "expires_at")?;
    let revoked_at: Option<DateTime<Utc>> = row.try_get("", "revoked_at")?;
    let active: bool = row.try_get("", "active")?;
    if revoked_at.is_some() || expires_at <= now || !active {
        return Err(Error::Unauthorized);
    }
    let unit_id: Option<Uuid> = row.try_get("", "unit_id")?;
    let unit = match unit_id {
        Some(id) => {
            // A deactivated unit's members are signed out with it.
            let unit_active: bool = row.try_get("", "unit_active")?;
            if !unit_active {
                return Err(Error::Unauthorized);
            }
            let kind: String = row.try_get("", "unit_kind")?;
            Some(UnitRef {
                id,
                kind: UnitKind::parse(&kind).ok_or(Error::Unauthorized)?,
                region_code: row.try_get("", "unit_region")?,
            })
        }
        None => None,
    };
    let role: String = row.try_get("", "role")?;
    // An unknown stored role fails closed: no session, not an operator.
    let Some(role) = Role::parse(&role) else {
        tracing::warn!(role = %role, "refusing a session: unknown stored role");
        return Err(Error::Unauthorized);
    };
    Ok(Principal {
        user_id: row.try_get("", "user_id")?,
        username: row.try_get("", "username")?,
        display_name: row.try_get("", "display_name")?,
        role,
        email: row.try_get("", "email")?,
        unit,
        session_expires_at: expires_at,
        must_change_password: row.try_get("", "must_change_password")?,
    })
}

/// Revoke the session behind `token`, here and in every process that
/// cached it.
pub async fn logout(
    db: &Db,
    sessions: &SessionCache,
    now: DateTime<Utc>,
    user_id: Uuid,
    token: &str,
) -> Result<()> {
    let txn = db.begin_write().await?;
    session::Entity::update_many()
        .col_expr(
            session::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&*txn)
        .await?;
    sessions
        .commit_change(txn, cache::Change::User(user_id))
        .await
}

/// Revoke every live session of `user_id` but the one whose token hashes
/// to `except` (the caller's own, when users change their own password).
/// In the caller's transaction; commit it through
/// [`SessionCache::commit_change`].
pub async fn revoke_sessions_of(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    user_id: Uuid,
    except: Option<&str>,
) -> Result<u64> {
    let mut update = session::Entity::update_many()
        .col_expr(
            session::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = except {
        update = update.filter(session::Column::TokenHash.ne(keep));
    }
    Ok(update.exec(conn).await?.rows_affected)
}

/// `POST /api/v1/me/password`: the signed-in user changes their own
/// password. Every other session of theirs ends (and its live feeds close);
/// the one making the change stays signed in.
#[allow(clippy::too_many_arguments)]
pub async fn change_own_password(
    db: &Db,
    sessions: &SessionCache,
    gate: &password::HashGate,
    now: DateTime<Utc>,
    p: &Principal,
    token: &str,
    current: &str,
    new: String,
) -> Result<()> {
    let found = user::Entity::find_by_id(p.user_id)
        .one(&db.conn)
        .await?
        .ok_or(Error::Unauthorized)?;
    if !password::verify_gated(gate, current.to_string(), found.password_hash.clone()).await? {
        return Err(Error::validation(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = password::hash_for(Some(gate), &found.username, new, "new_password").await?;
    let txn = db.begin_write().await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(hash),
        )
        .col_expr(
            user::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            user::Column::MustChangePassword,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(user::Column::Id.eq(p.user_id))
        .exec(&*txn)
        .await?;
    let ended = revoke_sessions_of(&*txn, now, p.user_id, Some(&hash_token(token))).await?;
    crate::audit::append(
        &*txn,
        now,
        Some(p.user_id),
        "user.password_change",
        format!("user:{}", p.user_id),
        serde_json::json!({"other_sessions_ended": ended}),
    )
    .await?;
    sessions
        .commit_change(txn, cache::Change::User(p.user_id))
        .await
}

/// Remove expired sessions and aged-out login failures; returns rows removed.
pub async fn purge_expired(db: &Db, now: DateTime<Utc>, window: Duration) -> Result<u64> {
    let txn = db.begin_write().await?;
    let a = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(now - Duration::days(1)))
        .exec(&*txn)
        .await?
        .rows_affected;
    let b = login_failure::Entity::delete_many()
        .filter(login_failure::Column::At.lt(now - window))
        .exec(&*txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(a + b)
}

pub async fn count_users(db: &Db) -> Result<u64> {
    Ok(user::Entity::find().count(&db.conn).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn token_hash_is_lowercase_sha256_hex_as_stored_before() {
        assert_eq!(
            super::hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(super::login::new_token().len(), 64);
    }
}
