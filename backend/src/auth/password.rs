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

pub const MIN_LENGTH: usize = 10;

/// The 10,000 most common passwords (see the file's header).
const COMMON: &str = include_str!("common-passwords.txt");

fn common() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

/// The password policy, and nothing else (no composition rules): at least
/// [`MIN_LENGTH`] characters; not one of the 10,000 most common passwords;
/// not containing `lianxin` or the username (3 characters or more),
/// case-insensitive. Errors
/// name `field`.
pub fn check_policy(username: &str, password: &str, field: &str) -> Result<()> {
    if password.chars().count() < MIN_LENGTH {
        return Err(Error::validation(
            field,
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    let lower = password.to_lowercase();
    if lower.contains("lianxin") {
        return Err(Error::validation(
            field,
            "must not contain the name of this system",
        ));
    }
    let user = username.trim().to_lowercase();
    // (A one- or two-letter username would forbid half the alphabet.)
    if user.chars().count() >= 3 && lower.contains(&user) {
        return Err(Error::validation(field, "must not contain the username"));
    }
    if common().contains(lower.as_str()) {
        return Err(Error::validation(
            field,
            "is one of the 10,000 most common passwords; choose another",
        ));
    }
    Ok(())
}

/// Check `password` against the policy for `username` and hash it (for
/// new and reset passwords: the admin API, the CLI, `POST /me/password`).
pub async fn hash(username: &str, password: String) -> Result<String> {
    hash_for(None, username, password, "password").await
}

/// [`hash`] under a [`HashGate`], errors naming `field`.
pub async fn hash_for(
    gate: Option<&HashGate>,
    username: &str,
    password: String,
    field: &str,
) -> Result<String> {
    check_policy(username, &password, field)?;
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
    async fn hash_verifies_and_short_passwords_are_refused() -> Result<()> {
        let h = hash("someone", "correct horse".into()).await?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), h.clone()).await);
        assert!(!verify("wrong horse".into(), h).await);
        assert!(hash("someone", "short".into()).await.is_err());
        assert!(!verify("x".into(), DUMMY_HASH.into()).await);
        Ok(())
    }

    #[test]
    fn the_policy_refuses_short_common_and_guessable_passwords() {
        let field = |r: Result<()>| match r {
            Err(Error::Validation { field, message }) => format!("{field}: {message}"),
            other => format!("{other:?}"),
        };
        assert!(check_policy("wang.li", "correct horse", "password").is_ok());
        assert!(check_policy("wang.li", "violet-harbour-41", "password").is_ok());
        assert!(field(check_policy("wang.li", "nine char", "password")).contains("at least 10"));
        assert!(field(check_policy("wang.li", "1234567890", "password")).contains("common"));
        assert!(field(check_policy("wang.li", "QWERTYUIOP", "password")).contains("common"));
        assert!(field(check_policy("wang.li", "Lianxin-2026!", "password")).contains("name"));
        assert!(
            field(check_policy("wang.li", "my WANG.LI secret", "new_password"))
                .starts_with("new_password: must not contain the username")
        );
        assert!(common().len() >= 9_990, "{}", common().len());
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_users_cost_a_real_verification() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
