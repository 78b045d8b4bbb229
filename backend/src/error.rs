//! The domain error every service returns. The HTTP edge maps it to a status
//! and the JSON error shape once (`http/error.rs`); the scheduler logs it.
use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// Not found, or not in the caller's scope: the two must look the same.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("the record was changed by someone else; reload and try again")]
    VersionConflict,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("too many failed logins; try again in {retry_after_s} s")]
    TooManyAttempts { retry_after_s: i64 },
    /// Too many password checks at once (`auth.max_concurrent_hashes`).
    #[error("the server is busy; try again in {retry_after_s} s")]
    Busy { retry_after_s: i64 },
    #[error("not signed in or the session has expired")]
    Unauthorized,
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }
}
