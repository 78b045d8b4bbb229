//! The HTTP edge: the only place that knows axum, status codes and JSON
//! shapes. Each resource module owns its `router()`; this module stacks
//! them with the cross-cutting layers (request ids, metrics, body limit,
//! security headers) and the JSON 404/405 fallbacks.
pub mod accounts;
pub mod admin;
pub mod auth;
pub mod calls;
pub mod cases;
pub mod error;
pub mod escalations;
pub mod extract;
pub mod hotline;
pub mod ledger;
pub mod live;
pub mod measures;
pub mod mediation;
pub mod openapi;
pub mod openapi_rules;
pub mod operations;
pub mod ops;
pub mod police;
pub mod referrals;
pub mod reports;
pub mod session;

use std::time::Instant;

use axum::{
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{header, HeaderName, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
    CompressionLevel,
};

use crate::state::AppState;
use error::ApiError;

pub const BODY_LIMIT: usize = 1024 * 1024;

/// The console may load only its own scripts and styles and talk only to
/// this origin, including its WebSocket: `'self'` plus the `ws:`/`wss:`
/// form of `public_url` (browsers before CSP 3 do not count a WebSocket
/// to the page's own host as `'self'`).
pub fn csp(public_url: &str) -> String {
    let ws = origin_of(public_url)
        .and_then(|o| {
            o.strip_prefix("https://")
                .map(|h| format!(" wss://{h}"))
                .or_else(|| o.strip_prefix("http://").map(|h| format!(" ws://{h}")))
        })
        // A host is letters, digits, '.', '-', ':' and brackets; anything
        // else (a quote, a ';') would change the policy.
        .filter(|w| {
            w.trim_start().chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '/' | '[' | ']')
            })
        })
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'{ws}; media-src 'self' data:; font-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The console's files: gzip or brotli as the browser accepts (a weak line
/// gets a quarter of the bytes; level 9 is brotli's smallest short of 10–11,
/// which cost many times the time for a few per cent), and `no-cache` with
/// `Last-Modified`, so a browser keeps its copy and only asks "changed?" (a
/// 304) on the next load: a new release is seen at once, without versioned
/// file names. Unknown paths get `index.html` (the console's routes).
fn console_files(dir: std::path::PathBuf) -> Router<AppState> {
    let index = dir.join("index.html");
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .layer(CompressionLayer::new().quality(CompressionLevel::Precise(9)))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ))
            .service(ServeDir::new(dir).fallback(ServeFile::new(index))),
    )
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let static_dir = state.settings.static_dir.clone();
    let api = Router::new()
        .merge(auth::router())
        .merge(admin::router())
        .merge(calls::router())
        .merge(cases::router())
        .merge(escalations::router())
        .merge(referrals::router())
        .merge(mediation::router())
        .merge(hotline::router())
        .merge(measures::router())
        .merge(ledger::router())
        .merge(police::router())
        .merge(live::router())
        .merge(reports::router())
        .merge(ops::api_router())
        .merge(operations::router())
        .merge(accounts::router())
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cookie_origin_guard,
        ));

    Router::new()
        .nest("/api/v1", api)
        // Any other API version or path gets the JSON 404, not the console.
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .merge(ops::router())
        .merge(console_files(static_dir))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ops::database_gate,
        ))
        .layer(middleware::from_fn(no_store_api))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp(&state.settings.public_url)).unwrap_or_else(|_| {
                HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'")
            }),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(middleware::map_response(document_headers_only))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // Paths carry phone numbers (`/callers/{phone}`): masked.
            let path = mask_phone_numbers(req.uri().path());
            tracing::info_span!("request", method = %req.method(), path = %path, request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// The content security policy and the frame rule govern documents; on a
/// script or a style sheet they do nothing but cost ~400 bytes each, which a
/// 400 kbit/s line feels on the first load.
async fn document_headers_only(mut resp: Response) -> Response {
    let sub = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/javascript") || t.starts_with("text/css"));
    if sub {
        resp.headers_mut().remove(header::CONTENT_SECURITY_POLICY);
        resp.headers_mut().remove(header::X_FRAME_OPTIONS);
    }
    resp
}

async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}

/// Requests and latency by route template (not raw path, which would
/// explode the label set with ids).
async fn record_metrics(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| {
            if req.uri().path().starts_with("/api/") {
                "unmatched".into()
            } else {
                "static".into()
            }
        });
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("lianxin_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("lianxin_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The standard methods by name; anything a client makes up is `other`
/// (each made-up method would otherwise add a label set for good).
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A browser sends the session cookie with any site's request, so a
/// state-changing request authenticated by the cookie (not by a bearer
/// header) must come from our own pages: an `Origin` among
/// `auth.allowed_origins` or `public_url`'s, or `Sec-Fetch-Site:
/// same-origin`. Anything else is 403.
async fn cookie_origin_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    use axum::http::Method;
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        if let Some((_, true)) = session::token_from(req.headers()) {
            if !same_site(&state, req.headers()) {
                return ApiError::forbidden(
                    "a request signed in with the session cookie must come from the console's own origin",
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

fn same_site(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site") == Some("same-origin") {
        return true;
    }
    let Some(origin) = header("origin") else {
        return false;
    };
    state
        .settings
        .auth
        .allowed_origins
        .iter()
        .any(|o| o == origin)
        || origin_of(&state.settings.public_url).is_some_and(|o| o == origin)
}

/// Case data must not stay in browser or proxy caches: every `/api/`
/// answer (errors and fallbacks included) is `Cache-Control: no-store`.
async fn no_store_api(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    if api && !resp.headers().contains_key(header::CACHE_CONTROL) {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Runs of 7 or more digits in `text`, masked for logs: a run of 11 or
/// more keeps its first 3 and last 4 digits (`13812345678` →
/// `138****5678`), a shorter run its first 2 and last 2.
pub fn mask_phone_numbers(text: &str) -> std::borrow::Cow<'_, str> {
    fn flush(out: &mut String, run: &str) {
        let n = run.len();
        if n < 7 {
            out.push_str(run);
            return;
        }
        let (head, tail) = if n >= 11 { (3, 4) } else { (2, 2) };
        out.push_str(&run[..head]);
        out.extend(std::iter::repeat_n('*', n - head - tail));
        out.push_str(&run[n - tail..]);
    }
    let mut longest = 0;
    let mut current = 0;
    for b in text.bytes() {
        current = if b.is_ascii_digit() { current + 1 } else { 0 };
        longest = longest.max(current);
    }
    if longest < 7 {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                flush(&mut out, &text[s..i]);
                start = None;
                out.push(c);
            }
            (false, None) => out.push(c),
            (true, Some(_)) => {}
        }
    }
    if let Some(s) = start {
        flush(&mut out, &text[s..]);
    }
    std::borrow::Cow::Owned(out)
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let len = scheme.len() + 3 + end;
    url.get(..len)
}

/// `204 No Content`.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_in_paths_are_masked() {
        assert_eq!(
            mask_phone_numbers("/api/v1/callers/13812345678"),
            "/api/v1/callers/138****5678"
        );
        assert_eq!(
            mask_phone_numbers("/api/v1/callers/%2B8613812345678/x"),
            "/api/v1/callers/%2B861******5678/x"
        );
        // Seven to ten digits: first 2 and last 2.
        assert_eq!(mask_phone_numbers("/c/5551234"), "/c/55***34");
        assert_eq!(mask_phone_numbers("/c/0773123456"), "/c/07******56");
        // Short runs and everything else stay.
        assert_eq!(
            mask_phone_numbers("/api/v1/cases/123456"),
            "/api/v1/cases/123456"
        );
        assert!(matches!(
            mask_phone_numbers("/api/v1/cases/0190a3b2-7c4e"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            mask_phone_numbers("/a/13812345678/b/13987654321"),
            "/a/138****5678/b/139****4321"
        );
        assert_eq!(mask_phone_numbers("电话13812345678"), "电话138****5678");
    }

    #[test]
    fn origins_and_the_csp_name_public_url() {
        assert_eq!(origin_of("https://x.org/console"), Some("https://x.org"));
        assert_eq!(
            origin_of("http://127.0.0.1:8080"),
            Some("http://127.0.0.1:8080")
        );
        assert!(csp("https://x.org").contains("connect-src 'self' wss://x.org;"));
        assert!(csp("https://x.org'; script-src *").contains("connect-src 'self';"));
    }
}
