//! What an admin does for a user who cannot sign in: a temporary password
//! (shown once, changed at the next sign-in) and lifting the login
//! throttle. Each is one transaction with its audit row.
use rand::Rng;

use super::*;
use crate::db::entities::login_failure;

/// No 0/O, 1/l/I: read aloud over the phone or copied from a screen.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const LENGTH: usize = 12;

/// A random password the policy accepts for `username`.
pub fn temporary_password(username: &str) -> String {
    let mut rng = rand::rngs::OsRng;
    loop {
        let p: String = (0..LENGTH)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect();
        if password::check_policy(username, &p, "password").is_ok() {
            return p;
        }
    }
}

/// A new temporary password for `id`: every session of the user ends, the
/// user must choose their own at the next sign-in, and their failed
/// logins are forgotten. The answer carries the password, once.
pub async fn reset_password(
    db: &Db,
    sessions: &SessionCache,
    now: DateTime<Utc>,
    actor: &Principal,
    id: Uuid,
) -> Result<UserView> {
    let found = user::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    if id == actor.user_id {
        return Err(Error::Conflict {
            code: "cannot_reset_self",
            message: "change your own password under /me/password".into(),
        });
    }
    let temporary = temporary_password(&found.username);
    let hash = password::hash(&found.username, temporary.clone()).await?;
    let txn = db.begin_write().await?;
    let mut active: user::ActiveModel = found.into();
    active.password_hash = Set(hash);
    active.must_change_password = Set(true);
    active.updated_at = Set(now);
    let model = active.update(&*txn).await?;
    let ended = crate::auth::revoke_sessions_of(&*txn, now, id, None).await?;
    let cleared = clear_failures(&*txn, &model.username).await?;
    audit::append(
        &*txn,
        now,
        Some(actor.user_id),
        "user.reset_password",
        format!("user:{id}"),
        json!({"username": model.username, "sessions_ended": ended, "failures_cleared": cleared}),
    )
    .await?;
    sessions.commit_change(txn, Change::User(id)).await?;
    let mut view = UserView::from_model(&model)?;
    view.temporary_password = Some(temporary);
    Ok(view)
}

/// A username held back by the login throttle (failures in the window).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AdminLockout)]
pub struct Lockout {
    pub user_id: Uuid,
    pub username: String,
    /// Failed sign-ins within the throttle's window.
    pub failures: u64,
    pub last_failure_at: DateTime<Utc>,
    /// `true` from the throttle's limit on: the next attempt waits.
    pub locked: bool,
}

/// The users with failed sign-ins since `since`, most failures first.
pub async fn lockouts(db: &Db, since: DateTime<Utc>, limit: u32) -> Result<Vec<Lockout>> {
    let rows = login_failure::Entity::find()
        .filter(login_failure::Column::At.gt(since))
        .filter(login_failure::Column::Username.not_like("@%"))
        .all(&db.conn)
        .await?;
    let mut counts: std::collections::BTreeMap<String, (u64, DateTime<Utc>)> = Default::default();
    for r in rows {
        let e = counts.entry(r.username).or_insert((0, r.at));
        e.0 += 1;
        e.1 = e.1.max(r.at);
    }
    if counts.is_empty() {
        return Ok(Vec::new());
    }
    let users = user::Entity::find()
        .filter(user::Column::Username.is_in(counts.keys().cloned().collect::<Vec<_>>()))
        .all(&db.conn)
        .await?;
    let mut out: Vec<Lockout> = users
        .into_iter()
        .filter_map(|u| {
            let (failures, last) = *counts.get(&u.username)?;
            Some(Lockout {
                user_id: u.id,
                username: u.username,
                failures,
                last_failure_at: last,
                locked: failures >= u64::from(limit),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.failures
            .cmp(&a.failures)
            .then(a.username.cmp(&b.username))
    });
    Ok(out)
}

/// Lift the login throttle of user `id` (its failed sign-ins are
/// forgotten); the address limit stays.
pub async fn unlock(db: &Db, now: DateTime<Utc>, actor: &Principal, id: Uuid) -> Result<u64> {
    let found = user::Entity::find_by_id(id)
        .one(&db.conn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let txn = db.begin_write().await?;
    let cleared = clear_failures(&*txn, &found.username).await?;
    audit::append(
        &*txn,
        now,
        Some(actor.user_id),
        "user.unlock",
        format!("user:{id}"),
        json!({"username": found.username, "failures_cleared": cleared}),
    )
    .await?;
    txn.commit().await?;
    Ok(cleared)
}

async fn clear_failures(conn: &impl ConnectionTrait, username: &str) -> Result<u64> {
    Ok(login_failure::Entity::delete_many()
        .filter(login_failure::Column::Username.eq(username))
        .exec(conn)
        .await?
        .rows_affected)
}
