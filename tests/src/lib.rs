//! `lianxin-tests`: the harness every end-to-end test uses. [`spawn_app`]
//! starts the real server on `127.0.0.1:0` against a fresh, real database
//! (a temporary SQLite file, or a new PostgreSQL database when
//! `LIANXIN_TEST_DATABASE_URL` names a server), loads the demo province and
//! hands back a [`TestApp`] that talks to it over real HTTP.
//!
//! ```no_run
//! # async fn demo() {
//! use lianxin_tests::{spawn_app, StatusCode};
//! let app = spawn_app().await;
//! let token = app.login("operator").await;
//! let (status, me) = app.get(&token, "/api/v1/me").await;
//! assert_eq!(status, StatusCode::OK);
//! assert_eq!(me["username"], "operator");
//! app.clock.advance(chrono::Duration::hours(13)); // time is manual
//! # }
//! ```
//!
//! Demo logins (password [`DEMO_PASSWORD`]): `admin`, `operator`, `station`,
//! `mediator`, `police`, `command`, `legalaid`, `civil`, `socialwork`,
//! `supervisor`.
//!
//! Why things are the way they are:
//! - The clock is a shared [`ManualClock`] starting at [`START`], so tests
//!   that need hours to pass call `app.clock.advance(..)` and run in
//!   milliseconds; two servers can share one clock.
//! - [`TestApp::restart`] rebinds the same port when it can, so a client
//!   that reconnects to the old address (a WebSocket resuming with `since=`)
//!   reaches the new process, as it would behind a load balancer.
//! - The temporary directory and the PostgreSQL database are removed when
//!   the last [`TestApp`] using them is dropped (set `LIANXIN_TEST_KEEP=1` to
//!   keep them for a post-mortem).
pub mod bench;
pub mod procfs;
pub mod sinks;
pub mod smtp;

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, TimeZone, Utc};
pub use lianxin::demo::DEMO_PASSWORD;
use lianxin::{
    app::{App, Running},
    clock::ManualClock,
    config::Settings,
    state::AppState,
};
pub use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, EntityTrait, QueryOrder};
use serde_json::{json, Value};
use uuid::Uuid;

/// Where every test's manual clock starts: a realistic Sunday morning.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// [`start_time`] as text, for assertions.
pub const START: &str = "2026-11-29T09:00:00Z";

/// Environment variable naming a PostgreSQL server to test against
/// (e.g. `postgres://postgres@127.0.0.1:5432/test`); unset means SQLite.
pub const PG_ENV: &str = "LIANXIN_TEST_DATABASE_URL";

type Tweak = Arc<dyn Fn(&mut Settings) + Send + Sync>;

/// Options for [`spawn_app_with`]; `TestOptions::default()` is what
/// [`spawn_app`] uses. Build with the chained methods:
///
/// ```no_run
/// # async fn demo() {
/// use lianxin_tests::{spawn_app_with, TestOptions};
/// let app = spawn_app_with(TestOptions::default().settings(|s| s.auth.max_failures = 3)).await;
/// // A second process on the same database and clock:
/// let other = spawn_app_with(app.same_database()).await;
/// # }
/// ```
#[derive(Clone, Default)]
pub struct TestOptions {
    database_url: Option<String>,
    tweak: Option<Tweak>,
    clock: Option<Arc<ManualClock>>,
    demo: Option<bool>,
    /// Keeps the database of another `TestApp` alive while this one uses it.
    keep: Vec<Arc<Cleanup>>,
}

impl TestOptions {
    /// Use this database instead of creating a fresh one. The demo data is
    /// not loaded again unless [`TestOptions::demo`] says so.
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// Change settings before the server is built (after the harness has set
    /// listen address, directories and database URL). Kept for restarts.
    pub fn settings(mut self, tweak: impl Fn(&mut Settings) + Send + Sync + 'static) -> Self {
        self.tweak = Some(Arc::new(tweak));
        self
    }

    /// Share a clock (e.g. with another server in the same test).
    pub fn clock(mut self, clock: Arc<ManualClock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Load the demo province or not (default: only into a fresh database).
    pub fn demo(mut self, load: bool) -> Self {
        self.demo = Some(load);
        self
    }
}

/// Removes a temporary directory and/or drops a PostgreSQL test database
/// when the last user lets go of it.
pub struct Cleanup {
    dir: Option<PathBuf>,
    /// (server URL to connect to, database name to drop)
    pg: Option<(String, String)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if std::env::var("LIANXIN_TEST_KEEP").is_ok_and(|v| !v.is_empty() && v != "0") {
            return;
        }
        if let Some((server, name)) = self.pg.take() {
            // Drop runs inside the test's runtime; use a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async move {
                        if let Ok(conn) = Database::connect(server.as_str()).await {
                            let _ = conn
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            let _ = conn.close().await;
                        }
                    });
                }
            })
            .join();
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A running Lianxin server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
    pub addr: SocketAddr,
    /// The database URL, for [`TestOptions::database_url`].
    pub db_url: String,
    pub clock: Arc<ManualClock>,
    /// The server's state: `state.db.conn` for direct queries.
    pub state: AppState,
    pub client: reqwest::Client,
    /// The settings the server was built with (reused by `restart`).
    pub settings: Settings,
    running: Option<Running>,
    tokens: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
    cleanups: Vec<Arc<Cleanup>>,
}

/// Start a server with a fresh database, the demo data and a manual clock.
/// Panics (failing the test) when anything goes wrong.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

/// [`spawn_app`] with options.
pub async fn spawn_app_with(opts: TestOptions) -> TestApp {
    match try_spawn(opts).await {
        Ok(app) => app,
        Err(e) => panic!("spawn_app failed: {e:#}"),
    }
}

async fn try_spawn(opts: TestOptions) -> anyhow::Result<TestApp> {
    let id = Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("lianxin-test-{id}"));
    std::fs::create_dir_all(&dir)?;
    let mut cleanups = opts.keep.clone();
    let dir_cleanup = Arc::new(Cleanup {
        dir: Some(dir.clone()),
        pg: None,
    });
    cleanups.push(dir_cleanup.clone());

    let fresh = opts.database_url.is_none();
    let (db_url, db_cleanup) = match &opts.database_url {
        Some(url) => (url.clone(), None),
        None => match std::env::var(PG_ENV).ok().filter(|v| !v.is_empty()) {
            Some(server) if server.starts_with("postgres") => {
                let name = format!("lianxin_t_{id}");
                let conn = Database::connect(server.as_str()).await?;
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await?;
                conn.close().await?;
                let mut url = reqwest::Url::parse(&server)?;
                url.set_path(&format!("/{name}"));
                let cleanup = Arc::new(Cleanup {
                    dir: None,
                    pg: Some((server.clone(), name)),
                });
                (url.to_string(), Some(cleanup))
            }
            _ => (
                format!("sqlite://{}/lianxin.db?mode=rwc", dir.display()),
                // The SQLite file lives in the directory.
                Some(dir_cleanup),
            ),
        },
    };
    if let Some(c) = db_cleanup {
        if !cleanups.iter().any(|k| Arc::ptr_eq(k, &c)) {
            cleanups.push(c);
        }
    }

    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        static_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../frontend-dist"),
        ..Settings::default()
    };
    settings.database.url = db_url.clone();
    // Many test servers share one PostgreSQL; keep each pool small.
    settings.database.max_connections = 8;
    if let Some(tweak) = &opts.tweak {
        tweak(&mut settings);
    }
    let clock = opts
        .clock
        .clone()
        .unwrap_or_else(|| Arc::new(ManualClock::new(start_time())));

    let running = start(settings.clone(), clock.clone()).await?;
    if opts.demo.unwrap_or(fresh) {
        lianxin::demo::load(&running.state.db, clock_now(&clock))
            .await
            .map_err(|e| anyhow::anyhow!("demo load: {e}"))?;
    }
    let addr = running.addr;
    // The settings a restart reuses: the same port, tweak already applied.
    settings.listen = addr.to_string();
    Ok(TestApp {
        base: format!("http://{addr}"),
        addr,
        db_url,
        clock,
        state: running.state.clone(),
        client: new_client()?,
        settings,
        running: Some(running),
        tokens: Mutex::new(HashMap::new()),
        cleanups,
    })
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    use lianxin::clock::Clock;
    clock.now()
}

fn new_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()?)
}

async fn start(settings: Settings, clock: Arc<ManualClock>) -> anyhow::Result<Running> {
    App::build(settings, clock).await?.spawn()
}

/// Turn a response into `(status, JSON body)`: `Null` when the body is
/// empty, a JSON string holding the text when it is not JSON (`/metrics`).
pub async fn read(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => panic!("reading the response body failed: {e}"),
    };
    if bytes.is_empty() {
        return (status, Value::Null);
    }
    match serde_json::from_slice(&bytes) {
        Ok(v) => (status, v),
        Err(_) => (
            status,
            Value::String(String::from_utf8_lossy(&bytes).into()),
        ),
    }
}

impl TestApp {
    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `ws://127.0.0.1:PORT{path}` for the live feed.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// The server's current time (the manual clock).
    pub fn now(&self) -> DateTime<Utc> {
        clock_now(&self.clock)
    }

    /// A request with `Authorization: Bearer token` (none when `token` is
    /// empty), for anything the JSON helpers below do not cover.
    pub fn request(&self, method: Method, token: &str, path: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        if token.is_empty() {
            rb
        } else {
            rb.bearer_auth(token)
        }
    }

    /// Send and read as `(status, JSON)` (see [`read`]).
    pub async fn send(&self, rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
        match rb.send().await {
            Ok(resp) => read(resp).await,
            Err(e) => panic!("request failed: {e}"),
        }
    }

    /// `GET path`; `token` may be `""` for no session.
    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::GET, token, path)).await
    }

    pub async fn post_json(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, token, path).json(&body))
            .await
    }

    pub async fn patch_json(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::PATCH, token, path).json(&body))
            .await
    }

    pub async fn put_json(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(Method::PUT, token, path).json(&body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::DELETE, token, path)).await
    }

    /// `POST /api/v1/auth/login` with any password; the raw answer.
    pub async fn try_login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.post_json(
            "",
            "/api/v1/auth/login",
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// A session token for `username` (password [`DEMO_PASSWORD`]). Cached
    /// until it expires by the manual clock; use [`TestApp::login_fresh`]
    /// after logging out or deactivating the user.
    pub async fn login(&self, username: &str) -> String {
        let now = self.now();
        if let Ok(tokens) = self.tokens.lock() {
            if let Some((token, expires)) = tokens.get(username) {
                if *expires > now {
                    return token.clone();
                }
            }
        }
        self.login_fresh(username).await
    }

    /// Always open a new session (and cache it for [`TestApp::login`]).
    pub async fn login_fresh(&self, username: &str) -> String {
        let (status, body) = self.try_login(username, DEMO_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "login as {username}: {body}");
        let token = body["token"].as_str().unwrap_or_default().to_string();
        let expires = body["expires_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| self.now());
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(username.to_string(), (token.clone(), expires));
        }
        token
    }

    /// Forget cached tokens (e.g. after a logout).
    pub fn forget_logins(&self) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.clear();
        }
    }

    /// The id of the unit with this exact name (e.g. `"白沙派出所"`).
    pub async fn unit_id(&self, name: &str) -> Uuid {
        let units = lianxin::admin::list_units(&self.state.db)
            .await
            .unwrap_or_else(|e| panic!("list units: {e}"));
        units
            .iter()
            .find(|u| u.name == name)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no unit named {name}"))
    }

    /// The id of the user with this username.
    pub async fn user_id(&self, username: &str) -> Uuid {
        let users = lianxin::admin::list_users(&self.state.db)
            .await
            .unwrap_or_else(|e| panic!("list users: {e}"));
        users
            .iter()
            .find(|u| u.username == username)
            .map(|u| u.id)
            .unwrap_or_else(|| panic!("no user named {username}"))
    }

    /// Every audit row, oldest first.
    pub async fn audit_log(&self) -> Vec<lianxin::db::entities::audit_entry::Model> {
        use lianxin::db::entities::audit_entry;
        audit_entry::Entity::find()
            .order_by_asc(audit_entry::Column::At)
            .all(&self.state.db.conn)
            .await
            .unwrap_or_else(|e| panic!("read audit_log: {e}"))
    }

    /// Options for another server on this database and clock (it keeps the
    /// database alive even if this `TestApp` is dropped first).
    pub fn same_database(&self) -> TestOptions {
        TestOptions {
            database_url: Some(self.db_url.clone()),
            clock: Some(self.clock.clone()),
            keep: self.cleanups.clone(),
            ..TestOptions::default()
        }
    }

    /// Stop the server gracefully and wait for its tasks. Requests fail
    /// until [`TestApp::start`].
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            if let Err(e) = running.stop().await {
                panic!("server stopped with an error: {e:#}");
            }
        }
        // Pooled keep-alive connections point at the old process.
        if let Ok(c) = new_client() {
            self.client = c;
        }
    }

    /// Kill the server without a graceful shutdown (a crash, as far as
    /// clients and the database can tell).
    pub fn crash(&mut self) {
        if let Some(running) = self.running.take() {
            running.abort();
        }
        if let Ok(c) = new_client() {
            self.client = c;
        }
    }

    /// Start a new server process on the same database, clock and settings,
    /// on the same port when it is free (otherwise a new one; `base` and
    /// `addr` follow).
    pub async fn start(&mut self) {
        assert!(self.running.is_none(), "the server is already running");
        let mut running = None;
        for _ in 0..50 {
            match start(self.settings.clone(), self.clock.clone()).await {
                Ok(r) => {
                    running = Some(r);
                    break;
                }
                Err(e) if is_addr_in_use(&e) => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("restart failed: {e:#}"),
            }
        }
        let running = match running {
            Some(r) => r,
            None => {
                let mut s = self.settings.clone();
                s.listen = "127.0.0.1:0".into();
                match start(s, self.clock.clone()).await {
                    Ok(r) => r,
                    Err(e) => panic!("restart failed: {e:#}"),
                }
            }
        };
        self.addr = running.addr;
        self.base = format!("http://{}", running.addr);
        self.settings.listen = running.addr.to_string();
        self.state = running.state.clone();
        self.running = Some(running);
    }

    /// [`TestApp::stop`] then [`TestApp::start`].
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    /// True when the tests run against PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.db_url.starts_with("postgres")
    }
}

fn is_addr_in_use(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.abort();
        }
    }
}

/// The event names of a case detail's timeline, oldest first.
pub fn timeline_kinds(detail: &Value) -> Vec<&str> {
    detail["timeline"]
        .as_array()
        .map(|t| t.iter().filter_map(|e| e["event"].as_str()).collect())
        .unwrap_or_default()
}

/// Assert an API error: status, `error.code`, and that a message is present.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "status; body: {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "error code; body: {}", got.1);
    assert!(
        got.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error message missing: {}",
        got.1
    );
}

// ------------------------------------------------ security tests' helpers

/// A live feed client (`tests/tests/e2e/security.rs`).
pub type LiveSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// Open `GET /api/v1/live` with a bearer token and read `hello`.
    pub async fn live_connect(&self, token: &str) -> LiveSocket {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
        let mut req = match self.ws_url("/api/v1/live").into_client_request() {
            Ok(r) => r,
            Err(e) => panic!("ws request: {e}"),
        };
        if let Ok(v) = format!("Bearer {token}").parse() {
            req.headers_mut().insert("authorization", v);
        }
        let (mut ws, _) = match tokio_tungstenite::connect_async(req).await {
            Ok(ok) => ok,
            Err(e) => panic!("connecting to the live feed: {e}"),
        };
        match tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => assert!(t.contains("hello"), "{t}"),
            other => panic!("expected hello, got {other:?}"),
        }
        ws
    }
}

/// Read live frames until an event of `kind` arrives (its frame) or
/// `within` passes (`None`).
pub async fn live_event_within(
    ws: &mut LiveSocket,
    kind: &str,
    within: std::time::Duration,
) -> Option<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let until = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(until, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                if let Ok(v) = serde_json::from_str::<Value>(&t) {
                    if v["event"] == kind {
                        return Some(v);
                    }
                }
            }
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// Wait up to `within` for the server to close `ws`; the close code
/// (`Some(0)` when the connection ended without a close frame), or `None`
/// when it stayed open. Text frames (events) are skipped.
pub async fn live_closed_within(ws: &mut LiveSocket, within: std::time::Duration) -> Option<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return None,
            Ok(None) | Ok(Some(Err(_))) => return Some(0),
            Ok(Some(Ok(Message::Close(c)))) => {
                return Some(c.map(|c| u16::from(c.code)).unwrap_or(0))
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}
