//! The JSON error shape of API.md, and the one place domain errors become
//! status codes. Internal details are logged, never shown to clients.
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::error::Error;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub retry_after_s: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_s: None,
        }
    }

    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", message)
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        );
        e.field = Some(field.into());
        e
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "request body is larger than 1 MiB",
        )
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        match err {
            Error::Validation { field, message } => {
                let message = format!("{field}: {message}");
                ApiError::validation(field, message)
            }
            Error::NotFound(what) => ApiError::not_found(what),
            Error::Forbidden(m) => ApiError::forbidden(m),
            Error::InvalidTransition(m) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_transition", m)
            }
            e @ Error::VersionConflict => {
                ApiError::new(StatusCode::CONFLICT, "version_conflict", e.to_string())
            }
            Error::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            e @ Error::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                e.to_string(),
            ),
            e @ Error::TooManyAttempts { retry_after_s } => {
                let mut api = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    e.to_string(),
                );
                api.retry_after_s = Some(retry_after_s);
                api
            }
            e @ Error::Busy { retry_after_s } => {
                let mut api = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string());
                api.retry_after_s = Some(retry_after_s);
                api
            }
            e @ Error::Unauthorized => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string())
            }
            // A stored value no release wrote (an unknown enumeration):
            // our fault, not the database's.
            Error::Db(sea_orm::DbErr::Type(m)) => {
                tracing::error!(error = %m, "unreadable stored value");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
            Error::Db(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database did not answer; nothing was saved, please retry",
                )
            }
            Error::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> ApiError {
        Error::Db(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(field) = &self.field {
            error["field"] = json!(field);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(s) = self.retry_after_s {
            if let Ok(v) = HeaderValue::from_str(&s.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
