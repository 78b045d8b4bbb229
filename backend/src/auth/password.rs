//! argon2id hashing, run on the blocking pool because a hash takes tens of
//! milliseconds by design.
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::error::{Error, Result};

/// A valid hash of a random password, verified against when the username is
/// unknown so that a failed login takes the same time either way.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Tk7Cj8F9m6Hk1V0dX1n3mJ8e0yE0c3u7m0cJ1vW5b2o";

pub const MIN_LENGTH: usize = 8;

pub async fn hash(password: String) -> Result<String> {
    hash_for("", password, "password").await
}

/// Check `password` against the policy for `username` (errors name
/// `field`) and hash it.
pub async fn hash_for(_username: &str, password: String, field: &str) -> Result<String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(Error::validation(
            field,
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hash task: {e}")))?
}

pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
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
}
