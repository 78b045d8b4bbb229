//! argon2id hashing, run on the blocking pool because a hash takes tens of
//! milliseconds by design.
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

/// Bounds how many argon2id computations run at once. Each takes 19 MiB
/// and tens of milliseconds of a core; without a bound, a burst of
/// anonymous logins runs one per blocking thread (up to 512) and the
/// process runs out of memory. A caller waits up to `wait` for a slot,
/// then gets [`Error::Busy`] (503, `Retry-After`).
pub struct HashGate {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl HashGate {
    pub fn new(max_concurrent: usize, wait: Duration) -> HashGate {
        HashGate {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            wait,
        }
    }

    /// A slot, held until the hash is done (moved into the blocking task,
    /// so a client that hangs up does not free it early).
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                metrics::counter!("lianxin_password_hash_busy_total").increment(1);
                Err(Error::Busy {
                    retry_after_s: (self.wait.as_secs() as i64).max(1),
                })
            }
        }
    }
}

impl Default for HashGate {
    fn default() -> Self {
        HashGate::new(4, Duration::from_secs(2))
    }
}

/// A valid hash of a random password, verified against when the username is
/// unknown so that a failed login takes the same time either way.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Tk7Cj8F9m6Hk1V0dX1n3mJ8e0yE0c3u7m0cJ1vW5b2o";

pub const MIN_LENGTH: usize = 8;

pub async fn hash(password: String) -> Result<String> {
    hash_for(None, "", password, "password").await
}

/// Check `password` against the policy for `username` (errors name
/// `field`) and hash it.
pub async fn hash_for(
    gate: Option<&HashGate>,
    _username: &str,
    password: String,
    field: &str,
) -> Result<String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(Error::validation(
            field,
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    let permit = match gate {
        Some(g) => Some(g.enter().await?),
        None => None,
    };
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hash task: {e}")))?
}

/// Whether `password` matches `hash`; `Err(Busy)` when no hash slot freed
/// up in time.
pub async fn verify_gated(gate: &HashGate, password: String, hash: String) -> Result<bool> {
    let permit = gate.enter().await?;
    Ok(verify_inner(password, hash, Some(permit)).await)
}

pub async fn verify(password: String, hash: String) -> bool {
    verify_inner(password, hash, None).await
}

async fn verify_inner(
    password: String,
    hash: String,
    permit: Option<OwnedSemaphorePermit>,
) -> bool {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verifies_and_short_passwords_are_refused() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), h.clone()).await);
        assert!(!verify("wrong horse".into(), h).await);
        assert!(hash("short".into()).await.is_err());
        assert!(!verify("x".into(), DUMMY_HASH.into()).await);
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_users_cost_a_real_verification() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
