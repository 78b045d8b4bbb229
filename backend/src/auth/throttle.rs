//! Login throttling, counted in `login_failures` so that a restart (or
//! another process) does not reset it.
//!
//! **Atomic:** an attempt is *reserved* before its password is verified:
//! one write transaction (on PostgreSQL under one advisory lock, across
//! processes) counts the recent failures and, if the attempt may go on,
//! records it as a failure at once. Concurrent wrong guesses therefore
//! see each other: with a limit of 5, 16 simultaneous guesses for one
//! username get 5 verifications and 11 refusals. A correct password
//! clears the username's failures; a wrong one leaves its row standing.
//!
//! **Per username:** below `max_failures` failures (within `window`) every
//! attempt is verified. From then on an attempt is refused (429 with
//! `Retry-After`, not verified, not counted) until `base_delay` ×
//! 2^(failures − max_failures), capped at `max_delay`, has passed since the
//! last failure; then one attempt is verified, and the right password
//! gets in. Nobody can lock an account for longer than `max_delay` per
//! guess they spend.
//!
//! **Per client address:** at most `max_per_address` failures within
//! `address_window`, whichever usernames they name (a guesser spraying many
//! accounts). A success does not clear them. Address rows share the table:
//! their `username` is `@` followed by the address (usernames never
//! contain `@`).
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::{
    db::{entities::login_failure, Db},
    error::{Error, Result},
};

/// Any constant: the key of the advisory lock that serialises reservations
/// across processes on PostgreSQL ("lianxin" as a number).
const LOCK_KEY: i64 = 0x006c_6961_6e78_696e;

#[derive(Debug, Clone)]
pub struct Throttle {
    pub max_failures: u32,
    /// Failures older than this are forgotten.
    pub window: Duration,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// 0 disables the per-address limit.
    pub max_per_address: u32,
    pub address_window: Duration,
}

impl Throttle {
    /// The delay after `failures` failures (0 below the limit).
    pub fn delay(&self, failures: u32) -> Duration {
        if failures < self.max_failures {
            return Duration::zero();
        }
        let doublings = (failures - self.max_failures).min(30);
        let secs = self
            .base_delay
            .num_seconds()
            .saturating_mul(1i64 << doublings)
            .min(self.max_delay.num_seconds());
        Duration::seconds(secs)
    }
}

/// The rows written for an attempt that may go on.
pub struct Reservation {
    user_row: Option<Uuid>,
    address_row: Option<Uuid>,
}

/// The `login_failures.username` of an address.
fn address_key(addr: &str) -> String {
    format!("@{addr}")
}

/// A username that cannot exist (wrong characters, too long) has no
/// bucket of its own: it must not be able to name an address's bucket.
pub fn is_possible_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 64
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Count, decide and record the attempt in one transaction.
pub async fn reserve(
    db: &Db,
    now: DateTime<Utc>,
    t: &Throttle,
    username: &str,
    address: Option<&str>,
) -> Result<Reservation> {
    let txn = db.begin_write().await?;
    let backend = txn.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [LOCK_KEY.into()],
        ))
        .await?;
    }
    if let (Some(addr), true) = (address, t.max_per_address > 0) {
        let recent: Vec<DateTime<Utc>> = login_failure::Entity::find()
            .select_only()
            .column(login_failure::Column::At)
            .filter(login_failure::Column::Username.eq(address_key(addr)))
            .filter(login_failure::Column::At.gt(now - t.address_window))
            .order_by_asc(login_failure::Column::At)
            .into_tuple()
            .all(&*txn)
            .await?;
        if recent.len() as u64 >= u64::from(t.max_per_address) {
            // Free again when enough of them have left the window.
            let idx = recent.len() - t.max_per_address as usize;
            let retry_after_s = recent
                .get(idx)
                .map(|at| (*at + t.address_window - now).num_seconds())
                .unwrap_or(t.address_window.num_seconds());
            return Err(Error::TooManyAttempts {
                retry_after_s: retry_after_s.max(1),
            });
        }
    }
    let possible = is_possible_username(username);
    if possible {
        let recent: Vec<DateTime<Utc>> = login_failure::Entity::find()
            .select_only()
            .column(login_failure::Column::At)
            .filter(login_failure::Column::Username.eq(username))
            .filter(login_failure::Column::At.gt(now - t.window))
            .order_by_asc(login_failure::Column::At)
            .into_tuple()
            .all(&*txn)
            .await?;
        let n = u32::try_from(recent.len()).unwrap_or(u32::MAX);
        let delay = t.delay(n);
        if let Some(last) = recent.last() {
            let free_at = *last + delay;
            if n >= t.max_failures && now < free_at {
                return Err(Error::TooManyAttempts {
                    retry_after_s: (free_at - now).num_seconds().max(1),
                });
            }
        }
    }
    let mut r = Reservation {
        user_row: None,
        address_row: None,
    };
    if possible {
        let id = Uuid::new_v4();
        insert(&*txn, id, username.to_string(), now).await?;
        r.user_row = Some(id);
    }
    if let Some(addr) = address {
        let id = Uuid::new_v4();
        insert(&*txn, id, address_key(addr), now).await?;
        r.address_row = Some(id);
    }
    txn.commit().await?;
    Ok(r)
}

async fn insert(
    conn: &impl ConnectionTrait,
    id: Uuid,
    key: String,
    at: DateTime<Utc>,
) -> Result<()> {
    login_failure::Entity::insert(login_failure::ActiveModel {
        id: Set(id),
        username: Set(key),
        at: Set(at),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The attempt was not made after all (no hash slot): forget its rows.
pub async fn release(db: &Db, r: Reservation) -> Result<()> {
    let ids: Vec<Uuid> = r.user_row.into_iter().chain(r.address_row).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let txn = db.begin_write().await?;
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Id.is_in(ids))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// In the transaction that opens the session: the username's failures are
/// cleared, and this attempt no longer counts against the address.
pub async fn succeeded(conn: &impl ConnectionTrait, r: &Reservation, username: &str) -> Result<()> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Username.eq(username))
        .exec(conn)
        .await?;
    if let Some(id) = r.address_row {
        login_failure::Entity::delete_by_id(id).exec(conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_the_limit_up_to_the_cap() {
        let t = Throttle {
            max_failures: 5,
            window: Duration::days(1),
            base_delay: Duration::seconds(60),
            max_delay: Duration::minutes(15),
            max_per_address: 30,
            address_window: Duration::minutes(15),
        };
        let secs: Vec<i64> = (0..12).map(|n| t.delay(n).num_seconds()).collect();
        assert_eq!(secs, [0, 0, 0, 0, 0, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(t.delay(u32::MAX).num_seconds(), 900);
    }

    #[test]
    fn only_possible_usernames_get_a_bucket() {
        assert!(is_possible_username("bs.wu-2_x"));
        assert!(!is_possible_username("@10.0.0.1"));
        assert!(!is_possible_username(&"a".repeat(65)));
        assert!(!is_possible_username(""));
    }
}
