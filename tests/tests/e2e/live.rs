//! The live feed (`GET /api/v1/live`) over real WebSockets against a real
//! server and database: resume with `since`, order and exactly-once under
//! concurrent writers, scope and transfers, auth before the upgrade, bad
//! frames, ping/pong and idle, slow clients, two processes on one
//! PostgreSQL, and the screen pop.
//!
//! Runs on SQLite by default and on PostgreSQL with
//! `LIANXIN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.
//! The manual clock drives the application; WebSocket timing is real time.
use std::{
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use lianxin::{events::CaseEvent, realtime::FeedScope};
use lianxin_tests::{spawn_app, spawn_app_with, Method, StatusCode, TestApp, TestOptions};
use serde_json::{json, Value};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::{
    tungstenite::{self, client::IntoClientRequest, handshake::client::Request, Message},
    MaybeTlsStream, WebSocketStream,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A village of 白沙镇: domestic violence there goes to 白沙镇妇女维权站.
const BAISHA_VILLAGE: &str = "450321101201";
/// 熊村 in 大圩镇 (灵川县): domestic violence goes to 大圩镇妇女维权站.
const DAXU_VILLAGE: &str = "450323101201";
const WAIT: Duration = Duration::from_secs(10);

// ------------------------------------------------------------- the client

#[derive(Debug)]
enum Frame {
    Json(Value),
    /// The connection ended: the close code if a close frame came.
    Closed(Option<u16>),
}

fn live_path(since: Option<i64>) -> String {
    match since {
        Some(s) => format!("/api/v1/live?since={s}"),
        None => "/api/v1/live".into(),
    }
}

fn request(url: &str, token: &str) -> Request {
    let mut req = url.into_client_request().unwrap();
    if !token.is_empty() {
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    req
}

/// Open the feed and read `hello`.
async fn connect_url(url: &str, token: &str) -> (Ws, Value) {
    let (mut ws, resp) = tokio_tungstenite::connect_async(request(url, token))
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
    let hello = expect_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    (ws, hello)
}

async fn connect(app: &TestApp, token: &str, since: Option<i64>) -> (Ws, Value) {
    connect_url(&app.ws_url(&live_path(since)), token).await
}

/// A client on a weak link: a tiny receive buffer, so that the server's
/// writes block as soon as it stops reading.
async fn connect_narrow(app: &TestApp, token: &str) -> Ws {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(app.addr).await.unwrap();
    let (ws, resp) = tokio_tungstenite::client_async(
        request(&app.ws_url(&live_path(None)), token),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
    ws
}

/// The next text frame as JSON (protocol pings and pongs are skipped), the
/// end of the connection, or `None` when nothing came `within`.
async fn try_next<S>(ws: &mut WebSocketStream<S>, within: Duration) -> Option<Frame>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return None,
            Ok(None) | Ok(Some(Err(_))) => return Some(Frame::Closed(None)),
            Ok(Some(Ok(Message::Text(t)))) => {
                return Some(Frame::Json(serde_json::from_str(&t).unwrap_or_else(|e| {
                    panic!("server sent a frame that is not JSON ({e}): {t}")
                })))
            }
            Ok(Some(Ok(Message::Close(c)))) => {
                return Some(Frame::Closed(c.map(|c| u16::from(c.code))))
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

async fn expect_json(ws: &mut Ws) -> Value {
    match try_next(ws, WAIT).await {
        Some(Frame::Json(v)) => v,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// Read `n` event frames (nothing else may come in between).
async fn take_events(ws: &mut Ws, n: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let v = expect_json(ws).await;
        assert_eq!(v["type"], "event", "expected an event, got {v}");
        out.push(v);
    }
    out
}

/// Read events until (and including) `event` for `case_id`.
async fn events_until(ws: &mut Ws, case_id: &str, event: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let v = expect_json(ws).await;
        assert_eq!(v["type"], "event", "expected an event, got {v}");
        let done = v["case_id"] == case_id && v["event"] == event;
        out.push(v);
        if done {
            return out;
        }
    }
}

/// Nothing but protocol pings for `d`.
async fn assert_quiet(ws: &mut Ws, d: Duration) {
    if let Some(f) = try_next(ws, d).await {
        panic!("expected silence, got {f:?}");
    }
}

/// Read until the connection ends; returns the JSON frames read first and
/// the close code.
async fn read_to_close(ws: &mut Ws, within: Duration) -> (Vec<Value>, Option<u16>) {
    let deadline = Instant::now() + within;
    let mut frames = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match try_next(ws, left).await {
            Some(Frame::Json(v)) => frames.push(v),
            Some(Frame::Closed(code)) => return (frames, code),
            None => panic!(
                "the connection was not closed within {within:?} ({} frames read)",
                frames.len()
            ),
        }
    }
}

fn seq(v: &Value) -> i64 {
    v["seq"].as_i64().unwrap_or_else(|| panic!("no seq in {v}"))
}

fn seqs(vs: &[Value]) -> Vec<i64> {
    vs.iter().map(seq).collect()
}

fn names(vs: &[Value]) -> Vec<String> {
    vs.iter()
        .map(|v| {
            format!(
                "{}:{}",
                v["case_number"].as_str().unwrap_or("?"),
                v["event"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// The frame must be exactly the stored event.
#[track_caller]
fn assert_matches_log(frame: &Value, e: &CaseEvent) {
    assert_eq!(seq(frame), e.seq, "{frame}");
    assert_eq!(frame["event"], e.event.as_str(), "{frame}");
    assert_eq!(frame["case_id"], e.case_id.to_string(), "{frame}");
    assert_eq!(frame["case_number"], e.case_number.as_str(), "{frame}");
    assert_eq!(frame["data"], e.data, "{frame}");
    let at = chrono::DateTime::parse_from_rfc3339(frame["at"].as_str().unwrap()).unwrap();
    assert_eq!(at, e.at, "{frame}");
}

// ------------------------------------------------------------ the server

async fn log_after(app: &TestApp, after: i64) -> Vec<CaseEvent> {
    lianxin::events::read_after(&app.state.db.conn, after, 1_000_000)
        .await
        .unwrap()
}

async fn log_head(app: &TestApp) -> i64 {
    lianxin::events::head(&app.state.db.conn).await.unwrap()
}

async fn open_case(app: &TestApp, token: &str, category: &str, region: &str) -> Value {
    let (status, case) = app
        .post_json(
            token,
            "/api/v1/cases",
            json!({"category": category, "region_code": region,
                   "summary": format!("{category} in {region}"), "subject": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case
}

async fn add_note(app: &TestApp, token: &str, case_id: &str, body: &str) {
    let (status, v) = app
        .post_json(
            token,
            &format!("/api/v1/cases/{case_id}/notes"),
            json!({ "body": body }),
        )
        .await;
    assert!(status.is_success(), "note: {status} {v}");
}

fn id(case: &Value) -> String {
    case["id"].as_str().unwrap().to_string()
}

/// Wait until the hub has exactly `n` registered connections.
async fn wait_connections(app: &TestApp, n: i64, within: Duration) {
    let deadline = Instant::now() + within;
    while app.state.hub.connections() != n {
        assert!(
            Instant::now() < deadline,
            "the hub has {} connections, expected {n}",
            app.state.hub.connections()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ----------------------------------------------------------------- tests

#[tokio::test]
async fn resume_after_a_disconnect_yields_exactly_the_missed_events() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let (mut ws, hello) = connect(&app, &op, None).await;
    let head0 = log_head(&app).await;
    assert_eq!(hello["head"], head0);
    assert_eq!(hello["resumed_from"], Value::Null);

    let a = open_case(&app, &op, "domestic_violence", BAISHA_VILLAGE).await;
    let got = take_events(&mut ws, 2).await;
    assert_eq!(seqs(&got), [head0 + 1, head0 + 2]);
    for (f, e) in got.iter().zip(log_after(&app, head0).await.iter()) {
        assert_matches_log(f, e);
    }
    assert_eq!(got[0]["event"], "case.opened");
    assert_eq!(got[1]["event"], "case.assigned");
    let last = seq(&got[1]);

    // The link drops without a close handshake; three changes happen.
    drop(ws);
    let b = open_case(&app, &op, "land_rights", BAISHA_VILLAGE).await;
    add_note(&app, &op, &id(&a), "回访：当事人安全").await;
    open_case(&app, &op, "domestic_violence", DAXU_VILLAGE).await;
    let missed = log_after(&app, last).await;
    assert_eq!(missed.len(), 5);

    let (mut ws, hello) = connect(&app, &op, Some(last)).await;
    assert_eq!(hello["resumed_from"], last);
    assert_eq!(hello["head"], last + 5);
    let got = take_events(&mut ws, 5).await;
    for (f, e) in got.iter().zip(missed.iter()) {
        assert_matches_log(f, e);
    }
    // ...and then live, from exactly where the replay ended.
    add_note(&app, &op, &id(&b), "已联系调委会").await;
    let live = take_events(&mut ws, 1).await;
    assert_eq!(seq(&live[0]), last + 6);
    assert_matches_log(&live[0], &log_after(&app, last + 5).await[0]);
    assert_quiet(&mut ws, Duration::from_millis(300)).await;

    // Resuming at the head replays nothing; from 0 replays the whole log.
    let (mut at_head, hello) = connect(&app, &op, Some(last + 6)).await;
    assert_eq!(hello["head"], last + 6);
    assert_quiet(&mut at_head, Duration::from_millis(200)).await;
    let all = log_after(&app, 0).await;
    let (mut from_zero, _) = connect(&app, &op, Some(0)).await;
    let got = take_events(&mut from_zero, all.len()).await;
    for (f, e) in got.iter().zip(all.iter()) {
        assert_matches_log(f, e);
    }
    assert_quiet(&mut from_zero, Duration::from_millis(200)).await;
}

/// Reads the feed, dropping the connection every `every` events and
/// resuming with `since`, until it has seen `target` (set when known).
async fn resuming_reader(
    url_of: impl Fn(Option<i64>) -> String,
    token: String,
    start: i64,
    every: usize,
    target: Arc<AtomicI64>,
) -> (Vec<Value>, usize) {
    let mut got: Vec<Value> = Vec::new();
    let mut last = start;
    let mut connects = 0;
    loop {
        let (mut ws, hello) = connect_url(&url_of(Some(last)), &token).await;
        connects += 1;
        assert_eq!(hello["resumed_from"], last);
        let mut this_time = 0;
        loop {
            let t = target.load(Ordering::SeqCst);
            if t > 0 && last >= t {
                return (got, connects);
            }
            match try_next(&mut ws, Duration::from_millis(100)).await {
                Some(Frame::Json(v)) => {
                    assert_eq!(v["type"], "event", "{v}");
                    last = seq(&v);
                    got.push(v);
                    this_time += 1;
                    if this_time == every {
                        break;
                    }
                }
                Some(Frame::Closed(code)) => panic!("feed closed ({code:?}) at seq {last}"),
                None => {}
            }
        }
        // Abrupt: no close handshake, as when a mobile link drops.
        drop(ws);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_a_reconnecting_reader_see_every_event_once_in_order() {
    const WRITERS: usize = 8;
    const NOTES: usize = 500;
    let app = Arc::new(spawn_app().await);
    let op = app.login("operator").await;
    let station = app.login("station").await;
    let station_unit = app.unit_id("白沙镇妇女维权站").await;
    // Half the writers note on 白沙 cases, half on 大圩 ones.
    let mut cases = Vec::new();
    for i in 0..WRITERS {
        let village = if i % 2 == 0 {
            BAISHA_VILLAGE
        } else {
            DAXU_VILLAGE
        };
        cases.push(id(&open_case(&app, &op, "domestic_violence", village).await));
    }
    let start = log_head(&app).await;

    let op_target = Arc::new(AtomicI64::new(0));
    let st_target = Arc::new(AtomicI64::new(0));
    let url = {
        let app = app.clone();
        move |since: Option<i64>| app.ws_url(&live_path(since))
    };
    let op_reader = tokio::spawn(resuming_reader(
        url.clone(),
        op.clone(),
        start,
        50,
        op_target.clone(),
    ));
    let st_reader = tokio::spawn(resuming_reader(
        url,
        station.clone(),
        start,
        50,
        st_target.clone(),
    ));

    let started = Instant::now();
    let mut writers = Vec::new();
    for (w, case_id) in cases.iter().enumerate() {
        let app = app.clone();
        let op = op.clone();
        let case_id = case_id.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..NOTES {
                add_note(&app, &op, &case_id, &format!("writer {w} note {n}")).await;
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let wrote = started.elapsed();

    let log = log_after(&app, start).await;
    assert_eq!(log.len(), WRITERS * NOTES);
    let scope = FeedScope::Unit(station_unit);
    let visible: Vec<&CaseEvent> = log.iter().filter(|e| scope.sees(e)).collect();
    assert_eq!(visible.len(), WRITERS * NOTES / 2);
    op_target.store(log.last().unwrap().seq, Ordering::SeqCst);
    st_target.store(visible.last().unwrap().seq, Ordering::SeqCst);

    let (op_got, op_connects) = tokio::time::timeout(Duration::from_secs(60), op_reader)
        .await
        .expect("the operator's reader did not catch up")
        .unwrap();
    let (st_got, st_connects) = tokio::time::timeout(Duration::from_secs(60), st_reader)
        .await
        .expect("the station's reader did not catch up")
        .unwrap();
    println!(
        "{} notes by {WRITERS} writers in {wrote:?}; operator reader reconnected {op_connects} times, station reader {st_connects} times",
        log.len()
    );

    // Exactly the visible events, each once, in seq order.
    assert_eq!(seqs(&op_got), log.iter().map(|e| e.seq).collect::<Vec<_>>());
    for (f, e) in op_got.iter().zip(log.iter()) {
        assert_matches_log(f, e);
    }
    assert_eq!(
        seqs(&st_got),
        visible.iter().map(|e| e.seq).collect::<Vec<_>>()
    );
    for (f, e) in st_got.iter().zip(visible.iter()) {
        assert_matches_log(f, e);
    }
    assert!(op_connects >= WRITERS * NOTES / 50);
}

#[tokio::test]
async fn a_station_sees_only_its_township_and_a_transfer_moves_future_events() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let op = app.login("operator").await;
    let daxu_unit = app.unit_id("大圩镇妇女维权站").await;
    let (status, user) = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({"username": "daxu", "display_name": "大圩镇维权站 周敏",
                   "password": lianxin_tests::DEMO_PASSWORD, "role": "station_worker",
                   "unit_id": daxu_unit}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let baisha = app.login("station").await;
    let daxu = app.login("daxu").await;
    let supervisor = app.login("supervisor").await; // 阳朔县 (4503 21)
    let mediator = app.login("mediator").await; // 白沙镇人民调解委员会

    let (mut ws_baisha, _) = connect(&app, &baisha, None).await;
    let (mut ws_daxu, _) = connect(&app, &daxu, None).await;
    let (mut ws_sup, _) = connect(&app, &supervisor, None).await;
    let (mut ws_med, _) = connect(&app, &mediator, None).await;

    let (status, a) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "domestic_violence", "region_code": BAISHA_VILLAGE,
                   "summary": "丈夫酒后殴打", "subject": {"name": "张某", "phone": "13812345678",
                   "id_number": "11010519491231002X"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let b = open_case(&app, &op, "domestic_violence", DAXU_VILLAGE).await;
    let c = open_case(&app, &op, "land_rights", BAISHA_VILLAGE).await; // 遇龙村调委会
    add_note(&app, &op, &id(&a), "a before").await;
    add_note(&app, &op, &id(&b), "b before").await;
    let (status, v) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{}/transfer", id(&a)),
            json!({"unit_id": daxu_unit, "reason": "当事人已搬到大圩镇"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    add_note(&app, &op, &id(&a), "a after").await;
    // Sentinels: once a connection has its sentinel, it has everything
    // before it (the feed is ordered).
    let d = open_case(&app, &op, "domestic_violence", BAISHA_VILLAGE).await;
    let e = open_case(&app, &op, "domestic_violence", DAXU_VILLAGE).await;
    let num = |c: &Value| c["number"].as_str().unwrap().to_string();
    let (a_n, b_n, c_n, d_n, e_n) = (num(&a), num(&b), num(&c), num(&d), num(&e));

    let got = events_until(&mut ws_baisha, &id(&d), "case.assigned").await;
    assert_eq!(
        names(&got),
        [
            format!("{a_n}:case.opened"),
            format!("{a_n}:case.assigned"),
            format!("{a_n}:case.note_added"),
            format!("{a_n}:case.transferred"),
            format!("{d_n}:case.opened"),
            format!("{d_n}:case.assigned"),
        ]
    );
    let transferred = &got[3];
    assert_eq!(transferred["data"]["to_unit_id"], daxu_unit.to_string());
    let baisha_got = got;

    let got = events_until(&mut ws_daxu, &id(&e), "case.assigned").await;
    assert_eq!(
        names(&got),
        [
            format!("{b_n}:case.opened"),
            format!("{b_n}:case.assigned"),
            format!("{b_n}:case.note_added"),
            format!("{a_n}:case.transferred"),
            format!("{a_n}:case.note_added"),
            format!("{e_n}:case.opened"),
            format!("{e_n}:case.assigned"),
        ]
    );
    assert_eq!(got[4]["data"]["body"], "a after");
    let daxu_got = got;

    // The county supervisor sees 阳朔县 (white sand), not 灵川县 (大圩).
    let got = events_until(&mut ws_sup, &id(&d), "case.assigned").await;
    assert_eq!(
        names(&got),
        [
            format!("{a_n}:case.opened"),
            format!("{a_n}:case.assigned"),
            format!("{c_n}:case.opened"),
            format!("{c_n}:case.assigned"),
            format!("{a_n}:case.note_added"),
            format!("{a_n}:case.transferred"),
            format!("{a_n}:case.note_added"),
            format!("{d_n}:case.opened"),
            format!("{d_n}:case.assigned"),
        ]
    );
    assert_quiet(&mut ws_sup, Duration::from_millis(300)).await;
    // The township mediation committee handles none of these.
    assert_quiet(&mut ws_med, Duration::from_millis(300)).await;
    assert_quiet(&mut ws_baisha, Duration::from_millis(100)).await;
    assert_quiet(&mut ws_daxu, Duration::from_millis(100)).await;

    // Everything a connection got, its user can read through the API;
    // the other township's cases are not found.
    for (token, got) in [(&baisha, &baisha_got), (&daxu, &daxu_got)] {
        for f in got.iter() {
            let (status, _) = app
                .get(
                    token,
                    &format!("/api/v1/cases/{}", f["case_id"].as_str().unwrap()),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{f}");
        }
    }
    for (token, foreign) in [(&baisha, &b), (&baisha, &e), (&daxu, &d), (&daxu, &c)] {
        let (status, _) = app
            .get(token, &format!("/api/v1/cases/{}", id(foreign)))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // No frame carries the subject's phone or ID number in clear.
    for f in baisha_got.iter().chain(daxu_got.iter()) {
        let text = f.to_string();
        assert!(!text.contains("13812345678"), "{text}");
        assert!(!text.contains("11010519491231002X"), "{text}");
    }
}

#[tokio::test]
async fn authentication_is_decided_before_the_upgrade() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let url = app.ws_url("/api/v1/live");
    let status_of = |r: Result<_, tungstenite::Error>| match r {
        Err(tungstenite::Error::Http(resp)) => resp.status(),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("the upgrade succeeded"),
    };

    // No session at all, and a made-up token: 401, no upgrade.
    let r = tokio_tungstenite::connect_async(request(&url, "")).await;
    assert_eq!(status_of(r.map(|_| ())), StatusCode::UNAUTHORIZED);
    let r = tokio_tungstenite::connect_async(request(&url, "not-a-session")).await;
    assert_eq!(status_of(r.map(|_| ())), StatusCode::UNAUTHORIZED);

    // The session cookie from a foreign page: 403.
    let mut req = request(&url, "");
    req.headers_mut()
        .insert("cookie", format!("lianxin_session={op}").parse().unwrap());
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let r = tokio_tungstenite::connect_async(req).await;
    assert_eq!(status_of(r.map(|_| ())), StatusCode::FORBIDDEN);

    // ...and from our own console's Origin: accepted.
    let mut req = request(&url, "");
    req.headers_mut()
        .insert("cookie", format!("lianxin_session={op}").parse().unwrap());
    req.headers_mut()
        .insert("origin", "http://127.0.0.1:8080".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let hello = expect_json(&mut ws).await;
    assert_eq!(hello["type"], "hello");

    // A bad `since` and a plain GET are refused without an upgrade.
    let r =
        tokio_tungstenite::connect_async(request(&app.ws_url("/api/v1/live?since=-1"), &op)).await;
    assert_eq!(status_of(r.map(|_| ())), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = app
        .send(app.request(Method::GET, &op, "/api/v1/live"))
        .await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED, "{body}");
    let (status, _) = app.send(app.request(Method::GET, "", "/api/v1/live")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An expired session no longer opens the feed.
    app.clock.advance(chrono::Duration::hours(13));
    let r = tokio_tungstenite::connect_async(request(&url, &op)).await;
    assert_eq!(status_of(r.map(|_| ())), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn garbage_and_oversized_frames_close_only_that_connection() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let (mut bystander, _) = connect(&app, &op, None).await;

    let cases: [(Message, u16); 5] = [
        (Message::text("hello?"), 4400),
        (Message::text(r#"{"type":"subscribe","unit":"all"}"#), 4400),
        (Message::text(r#"{"type":"ping""#), 4400),
        (Message::binary(vec![0u8, 1, 2, 3]), 4400),
        (
            Message::text(format!(
                r#"{{"type":"ping","pad":"{}"}}"#,
                "x".repeat(8 * 1024)
            )),
            4413,
        ),
    ];
    for (msg, code) in cases {
        let (mut ws, _) = connect(&app, &op, None).await;
        ws.send(msg.clone()).await.unwrap();
        let (frames, got) = read_to_close(&mut ws, WAIT).await;
        assert!(frames.is_empty(), "{frames:?}");
        assert_eq!(got, Some(code), "after sending {msg:?}");
    }
    // Far beyond the limit, the protocol layer refuses the frame; the
    // connection still ends with the documented code.
    let (mut ws, _) = connect(&app, &op, None).await;
    // (The server closes with the rest of the frame unread, so TCP may
    // reset the connection before the client reads the close frame.)
    let _ = ws.send(Message::text("x".repeat(1024 * 1024))).await;
    let (_, got) = read_to_close(&mut ws, WAIT).await;
    assert!(matches!(got, Some(4413) | None), "{got:?}");

    // The bystander is untouched.
    wait_connections(&app, 1, WAIT).await;
    bystander
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(expect_json(&mut bystander).await, json!({"type": "pong"}));
    let a = open_case(&app, &op, "domestic_violence", BAISHA_VILLAGE).await;
    let got = take_events(&mut bystander, 2).await;
    assert_eq!(got[0]["case_id"], id(&a));
}

#[tokio::test]
async fn ping_pong_and_the_idle_timeout() {
    let app = spawn_app_with(TestOptions::default().settings(|s| {
        s.live.ping_interval_s = 1;
        s.live.idle_timeout_s = 2;
    }))
    .await;
    let op = app.login("operator").await;
    let (mut talker, _) = connect(&app, &op, None).await;
    // A client that never reads nor writes (so never answers pings).
    let (mut silent, _) = connect(&app, &op, None).await;

    talker
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(expect_json(&mut talker).await, json!({"type": "pong"}));

    // The talker keeps reading, so tungstenite answers the server's pings:
    // it is alive well past the idle timeout.
    let until = Instant::now() + Duration::from_millis(4500);
    let mut pings = 0;
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_millis(100), talker.next()).await {
            Err(_) => {}
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(other) => panic!("talker got {other:?}"),
        }
    }
    assert!(pings >= 3, "only {pings} server pings in 4.5 s");

    let (frames, code) = read_to_close(&mut silent, WAIT).await;
    assert!(frames.is_empty(), "{frames:?}");
    assert_eq!(code, Some(4000));
    wait_connections(&app, 1, WAIT).await;

    talker
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(expect_json(&mut talker).await, json!({"type": "pong"}));
}

#[tokio::test]
async fn a_slow_client_is_cut_off_with_4408_and_resumes_while_others_get_everything() {
    // A long idle timeout: the server's writes to the slow client block for
    // as long as the test writes, and must not time out (see below).
    let app = spawn_app_with(TestOptions::default().settings(|s| {
        s.live.queue_capacity = 8;
        s.live.idle_timeout_s = 600;
    }))
    .await;
    let op = app.login("operator").await;
    let station = app.login("station").await;
    let head0 = log_head(&app).await;
    let (mut fast, _) = connect(&app, &op, None).await;
    let (mut fast_station, _) = connect(&app, &station, None).await;
    let mut slow = connect_narrow(&app, &op).await;
    wait_connections(&app, 3, WAIT).await;

    let a = open_case(&app, &op, "domestic_violence", BAISHA_VILLAGE).await;
    // ~27 KB per frame: the server's socket send buffer grows to a few MB
    // before its writes block and the queue starts to fill.
    let big = "很长的回访记录。".repeat(1100);
    let mut notes = 0;
    // Write until the hub gives up on the slow client (its socket buffer
    // and its queue of 8 are full).
    while app.state.hub.connections() == 3 {
        assert!(notes < 2000, "the slow client was never cut off");
        add_note(&app, &op, &id(&a), &format!("{notes} {big}")).await;
        notes += 1;
        if notes % 10 == 0 {
            // Let the fast ones drain (they are read below, in one go).
            let _ = take_events(&mut fast, if notes == 10 { 12 } else { 10 }).await;
        }
    }
    for _ in 0..5 {
        add_note(&app, &op, &id(&a), "after the cut").await;
    }
    let log = log_after(&app, head0).await;
    println!("the slow client was cut off after {notes} notes");

    // The fast clients got everything, in order.
    let already = (notes / 10) * 10 + if notes >= 10 { 2 } else { 0 };
    let rest = take_events(&mut fast, log.len() - already).await;
    assert_eq!(seq(rest.last().unwrap()), log.last().unwrap().seq);
    let station_got = take_events(&mut fast_station, log.len()).await;
    for (f, e) in station_got.iter().zip(log.iter()) {
        assert_matches_log(f, e);
    }

    // The slow client reads at last: hello, a gap-free prefix, then 4408.
    let (frames, code) = read_to_close(&mut slow, WAIT).await;
    assert_eq!(code, Some(4408));
    assert_eq!(frames[0]["type"], "hello");
    let prefix = &frames[1..];
    assert!(!prefix.is_empty());
    assert!(prefix.len() < log.len());
    for (f, e) in prefix.iter().zip(log.iter()) {
        assert_matches_log(f, e);
    }
    // Resuming from the last seq it saw yields exactly the rest.
    let last = seq(prefix.last().unwrap());
    let (mut again, _) = connect(&app, &op, Some(last)).await;
    let missed = log_after(&app, last).await;
    let got = take_events(&mut again, missed.len()).await;
    for (f, e) in got.iter().zip(missed.iter()) {
        assert_matches_log(f, e);
    }
    assert_quiet(&mut again, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_idle_timeout() {
    // The server's writes to it block; the idle timeout must still apply.
    let app = spawn_app_with(TestOptions::default().settings(|s| {
        s.live.ping_interval_s = 1;
        s.live.idle_timeout_s = 2;
    }))
    .await;
    let op = app.login("operator").await;
    let mut stuck = connect_narrow(&app, &op).await;
    let (mut fine, _) = connect(&app, &op, None).await;
    wait_connections(&app, 2, WAIT).await;
    // The fine client reads all along (so it answers the server's pings).
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let fine_reader = tokio::spawn(async move {
        let mut events = 0;
        loop {
            tokio::select! {
                f = try_next(&mut fine, Duration::from_millis(100)) => match f {
                    Some(Frame::Json(v)) if v["type"] == "event" => events += 1,
                    Some(other) => panic!("the fine client got {other:?}"),
                    None => {}
                },
                _ = &mut stopped => return (fine, events),
            }
        }
    });
    let a = open_case(&app, &op, "domestic_violence", BAISHA_VILLAGE).await;
    let big = "x".repeat(9000);
    for n in 0..60 {
        add_note(&app, &op, &id(&a), &format!("{n} {big}")).await;
    }
    // Well under the default queue of 1024: only the stuck writes can end it.
    let started = Instant::now();
    wait_connections(&app, 1, Duration::from_secs(8)).await;
    println!("the stuck client was dropped after {:?}", started.elapsed());
    // The fine one is still served, and got everything.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    let (mut fine, events) = fine_reader.await.unwrap();
    assert_eq!(events, 62);
    fine.send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(expect_json(&mut fine).await, json!({"type": "pong"}));
    let _ = try_next(&mut stuck, Duration::from_millis(10)).await;
}

#[tokio::test]
async fn an_event_committed_by_one_process_reaches_clients_of_another_through_notify() {
    let a = spawn_app().await;
    if !a.is_postgres() {
        println!("skipped: several processes need PostgreSQL (set LIANXIN_TEST_DATABASE_URL)");
        return;
    }
    // B's fallback poll is a minute away: only LISTEN/NOTIFY can bring A's
    // events to B's clients within the bound below. The bound is loose so
    // a loaded CI machine does not fail it; the latency itself (the issue
    // asks for < 100 ms) is printed and recorded in the README.
    let b = spawn_app_with(
        a.same_database()
            .settings(|s| s.live.poll_interval_ms = 60_000),
    )
    .await;
    let op = a.login("operator").await;
    let (mut on_b, _) = connect(&b, &op, None).await;
    // Warm up both processes' pools.
    open_case(&a, &op, "domestic_violence", BAISHA_VILLAGE).await;
    let _ = take_events(&mut on_b, 2).await;

    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let case = open_case(&a, &op, "domestic_violence", BAISHA_VILLAGE).await;
        let committed = Instant::now();
        let got = take_events(&mut on_b, 2).await;
        let took = committed.elapsed();
        assert_eq!(got[0]["case_id"], id(&case));
        worst = worst.max(took);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("A commit → frame on B: worst of 10 = {worst:?}");
    assert!(
        worst < Duration::from_secs(5),
        "B took {worst:?} to deliver A's event: the NOTIFY did not wake it"
    );
    // And the other way round, through B's API to a client of A.
    let (mut on_a, _) = connect(&a, &op, None).await;
    let case = open_case(&b, &op, "land_rights", BAISHA_VILLAGE).await;
    let got = take_events(&mut on_a, 2).await;
    assert_eq!(got[0]["case_id"], id(&case));
}

#[tokio::test]
async fn call_ringing_reaches_the_operator_and_not_the_station() {
    let app = spawn_app_with(
        TestOptions::default().settings(|s| s.cti.secret = "cti-test-secret".into()),
    )
    .await;
    let op = app.login("operator").await;
    let station = app.login("station").await;
    let (mut ws_op, _) = connect(&app, &op, None).await;
    let (mut ws_station, _) = connect(&app, &station, None).await;
    // A caller with history.
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "domestic_violence", "region_code": BAISHA_VILLAGE,
                   "summary": "再次来电", "subject": {"phone": "13812345678"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let _ = take_events(&mut ws_op, 2).await;
    let _ = take_events(&mut ws_station, 2).await;

    let ring = |secret: &str| {
        app.request(Method::POST, "", "/api/v1/cti/events")
            .header("X-CTI-Secret", secret.to_string())
            .json(
                &json!({"event": "ringing", "call_ref": "c1", "from": "13812345678",
                          "operator": "operator"}),
            )
    };
    let (status, _) = app.send(ring("wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.send(ring("cti-test-secret")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["delivered"], 1, "{body}");

    let pop = expect_json(&mut ws_op).await;
    assert_eq!(pop["type"], "call.ringing", "{pop}");
    assert_eq!(pop["call_ref"], "c1");
    assert_eq!(pop["phone"], "13812345678");
    let history = pop["history"]["cases"].as_array().expect("history.cases");
    assert!(history.iter().any(|c| c["id"] == case["id"]), "{pop}");

    // The station gets nothing of it: its next frame is the next event.
    let later = open_case(&app, &op, "domestic_violence", BAISHA_VILLAGE).await;
    let next = expect_json(&mut ws_station).await;
    assert_eq!(next["type"], "event", "{next}");
    assert_eq!(next["case_id"], later["id"]);
}
