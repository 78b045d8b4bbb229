//! Extractors that turn every kind of bad input into the documented 4xx:
//! malformed JSON 400, wrong types 422 naming the field, too large 413,
//! a path id that is not a UUID 404.
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{request::Parts, StatusCode},
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;

/// JSON body with API.md's error mapping.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = is_json_content_type(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large()
            } else {
                ApiError::malformed(format!("could not read the body: {rejection}"))
            }
        })?;
        // A body of another type is refused: a cross-site form or a
        // `text/plain` fetch cannot post JSON without a CORS preflight.
        if !bytes.is_empty() && !json_type {
            return Err(unsupported_media_type());
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// `application/json` (any parameters) or an `application/…+json` type.
pub fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// Parse JSON, separating syntax errors (400) from shape errors (422).
///
/// We parse into a `Value` first because serde_json reports some shape
/// errors as syntax errors when it reads straight into a type (a number
/// where an enum is expected is "expected value"); once the text is known
/// to be JSON, every failure left is about its shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::malformed("a JSON body is required"));
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed(format!("malformed JSON: {e}")))?;
    whole_numbers(&mut value);
    if let Some(field) = control_in(&value, "") {
        return Err(control_error(field));
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = missing_field(&message)
            .map(|missing| {
                if path == "." || path.is_empty() {
                    missing.to_string()
                } else {
                    format!("{path}.{missing}")
                }
            })
            .unwrap_or_else(|| if path.is_empty() { ".".into() } else { path });
        ApiError::validation(
            field.clone(),
            format!("{field}: {}", strip_position(&message)),
        )
    })
}

/// JSON has one number type: `3.0` is the integer 3 (as the OpenAPI
/// document's `integer` says), which serde would refuse for an `i32`.
fn whole_numbers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// A C0 control character other than tab, line feed and carriage return.
/// PostgreSQL refuses NUL in text (a 503 before this check), SQLite stores
/// it; neither belongs in a case file.
pub fn is_forbidden_control(c: char) -> bool {
    c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')
}

pub fn has_control(s: &str) -> bool {
    s.chars().any(is_forbidden_control)
}

/// 422 naming the field that holds a control character.
pub fn control_error(field: String) -> ApiError {
    let message = format!(
        "{field}: contains a control character (only tab, line feed and carriage return are allowed)"
    );
    ApiError::validation(field, message)
}

/// The path (`summary`, `subject.name`, `answers[2]`) of the first string
/// or key in `v` that holds a forbidden control character.
fn control_in(v: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) if has_control(s) => Some(if path.is_empty() {
            ".".into()
        } else {
            path.to_string()
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| control_in(x, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let key: String = k.chars().flat_map(char::escape_default).collect();
            let p = if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            };
            if has_control(k) {
                Some(p)
            } else {
                control_in(x, &p)
            }
        }),
        _ => None,
    }
}

/// The first query (or form) parameter whose name or value, decoded, holds
/// a forbidden control character.
pub fn control_in_query(uri: &axum::http::Uri) -> Option<String> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri).ok()?;
    pairs
        .into_iter()
        .find(|(k, v)| has_control(k) || has_control(v))
        .map(|(k, _)| k.chars().flat_map(char::escape_default).collect())
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// Query string with 422 on bad values.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(field) = control_in_query(&parts.uri) {
            return Err(control_error(field));
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => {
                let text = rejection.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_string();
                let field = detail.split(':').next().unwrap_or("query").to_string();
                Err(ApiError::validation(
                    field,
                    format!("query string: {detail}"),
                ))
            }
        }
    }
}

/// A UUID path segment; anything else is simply not found.
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw): Path<String> = Path::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("record"))?;
        Uuid::parse_str(&raw)
            .map(IdPath)
            .map_err(|_| ApiError::not_found("record"))
    }
}

/// An optional JSON body (`{"version": n}` or nothing): the raw bytes,
/// refused with 415 when something other than blanks comes without a
/// JSON content type.
pub struct OptionalJsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = is_json_content_type(req.headers());
        let ApiBytes(bytes) = ApiBytes::from_request(req, state).await?;
        if !json_type && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(unsupported_media_type());
        }
        Ok(OptionalJsonBytes(bytes))
    }
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as Content-Type: application/json",
    )
}

/// A raw body (CSV uploads) with the 413 mapped to the JSON error.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::too_large()
                } else {
                    ApiError::malformed(format!("could not read the body: {rejection}"))
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Inner,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    #[test]
    fn syntax_is_400_and_shape_is_422_with_field() {
        let e = parse_json::<Body>(b"{not json").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = parse_json::<Body>(br#"{"name": 3, "inner": {"flag": true}}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("name"));
        let e = parse_json::<Body>(br#"{"name": "a", "inner": {"flag": 1}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.flag"));
        let e = parse_json::<Body>(br#"{"name": "a"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner"));
        let e = parse_json::<Body>(br#"{"name": "a", "inner": {"flag": true}} x"#).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn control_characters_are_422_naming_the_field() -> Result<(), axum::http::uri::InvalidUri> {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Case {
            summary: String,
            subject: Subject,
            tags: Vec<String>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Subject {
            name: String,
        }
        let ok = br#"{"summary": "a\tb\r\nc", "subject": {"name": "x"}, "tags": []}"#;
        assert!(parse_json::<Case>(ok).is_ok());
        for (body, field) in [
            (
                &br#"{"summary": "a\u0000b", "subject": {"name": "x"}, "tags": []}"#[..],
                "summary",
            ),
            (
                br#"{"summary": "a", "subject": {"name": "\u001b[31m"}, "tags": []}"#,
                "subject.name",
            ),
            (
                br#"{"summary": "a", "subject": {"name": "x"}, "tags": ["ok", "\u0007"]}"#,
                "tags[1]",
            ),
        ] {
            let e = parse_json::<Case>(body).unwrap_err();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(e.field.as_deref(), Some(field));
        }
        let uri: axum::http::Uri = "/x?a=1&region_code=45%00".parse()?;
        assert_eq!(control_in_query(&uri).as_deref(), Some("region_code"));
        let uri: axum::http::Uri = "/x?a=1%09&b=%0A".parse()?;
        assert_eq!(control_in_query(&uri), None);
        Ok(())
    }

    #[test]
    fn a_wrong_type_for_an_enum_is_422_not_400() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct WithRole {
            role: crate::vocab::Role,
        }
        let e = parse_json::<WithRole>(br#"{"role": 5}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("role"));
    }
}
