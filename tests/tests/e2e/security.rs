//! Issue 12, security hardening: every item has a test here that failed
//! before its fix. End to end against a real server and database; runs on
//! SQLite by default and on PostgreSQL with
//! `LIANXIN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.
use std::time::{Duration, Instant};

use lianxin_tests::{
    assert_error, live_closed_within, spawn_app, spawn_app_with, Method, StatusCode, TestApp,
    TestOptions,
};
use serde_json::json;

/// The live feed must close within this long after a change.
const CLOSE_WITHIN: Duration = Duration::from_secs(2);
const SESSION_ENDED: u16 = 4401;

/// On PostgreSQL a second process on the same database (the change is
/// made in `app`, the socket lives in the other); on SQLite the same one.
async fn feed_server(app: &TestApp) -> Option<TestApp> {
    if app.is_postgres() {
        Some(spawn_app_with(app.same_database()).await)
    } else {
        None
    }
}

#[tokio::test]
async fn live_feeds_close_on_logout_deactivation_and_unit_or_role_change() {
    let app = spawn_app().await;
    let other = feed_server(&app).await;
    let feeds = other.as_ref().unwrap_or(&app);
    let admin = app.login("admin").await;

    // Logout (made in `app`, the socket is in `feeds`).
    let token = feeds.login_fresh("operator").await;
    let mut ws = feeds.live_connect(&token).await;
    let mut bystander = feeds
        .live_connect(&feeds.login_fresh("station").await)
        .await;
    let t = Instant::now();
    let (status, _) = app
        .post_json(&token, "/api/v1/auth/logout", json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        live_closed_within(&mut ws, CLOSE_WITHIN).await,
        Some(SESSION_ENDED)
    );
    eprintln!("closed {:?} after the logout", t.elapsed());

    // Deactivation.
    let token = feeds.login_fresh("mediator").await;
    let mut ws = feeds.live_connect(&token).await;
    let mediator = app.user_id("mediator").await;
    let (status, body) = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{mediator}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        live_closed_within(&mut ws, CLOSE_WITHIN).await,
        Some(SESSION_ENDED)
    );

    // A move to another unit.
    let token = feeds.login_fresh("legalaid").await;
    let mut ws = feeds.live_connect(&token).await;
    let legalaid = app.user_id("legalaid").await;
    let civil = app.unit_id("阳朔县民政局").await;
    let (status, body) = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{legalaid}"),
            json!({"unit_id": civil}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        live_closed_within(&mut ws, CLOSE_WITHIN).await,
        Some(SESSION_ENDED)
    );

    // A role change.
    let token = feeds.login_fresh("supervisor").await;
    let mut ws = feeds.live_connect(&token).await;
    let supervisor = app.user_id("supervisor").await;
    let (status, body) = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{supervisor}"),
            json!({"role": "operator"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        live_closed_within(&mut ws, CLOSE_WITHIN).await,
        Some(SESSION_ENDED)
    );

    // Nobody else was cut off.
    assert_eq!(
        live_closed_within(&mut bystander, Duration::from_millis(300)).await,
        None
    );
}

// ------------------------------------------------ 3. inactive units

#[tokio::test]
async fn deactivating_a_unit_signs_its_members_out_and_keeps_them_out() {
    let app = spawn_app().await;
    let other = feed_server(&app).await;
    let feeds = other.as_ref().unwrap_or(&app);
    let admin = app.login("admin").await;
    let token = feeds.login_fresh("station").await;
    let mut ws = feeds.live_connect(&token).await;
    let mut bystander = feeds
        .live_connect(&feeds.login_fresh("mediator").await)
        .await;

    let unit = app.unit_id("白沙镇妇女维权站").await;
    let (status, body) = app
        .patch_json(
            &admin,
            &format!("/api/v1/units/{unit}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        live_closed_within(&mut ws, CLOSE_WITHIN).await,
        Some(SESSION_ENDED)
    );
    assert_error(
        &feeds.get(&token, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &app.get(&token, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let refused = app.try_login("station", lianxin_tests::DEMO_PASSWORD).await;
    assert_eq!(refused.0, StatusCode::UNAUTHORIZED, "{}", refused.1);
    // Members of other units keep their feed.
    assert_eq!(
        live_closed_within(&mut bystander, Duration::from_millis(300)).await,
        None
    );

    // Active again: the member may sign in again.
    let (status, _) = app
        .patch_json(
            &admin,
            &format!("/api/v1/units/{unit}"),
            json!({"active": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.login_fresh("station").await;
}

// ------------------------------------------------ 4. password resets

#[tokio::test]
async fn an_admin_password_reset_ends_every_session_of_that_user() {
    let app = spawn_app().await;
    let other = feed_server(&app).await;
    let feeds = other.as_ref().unwrap_or(&app);
    let admin = app.login("admin").await;
    let first = app.login_fresh("operator").await;
    let second = feeds.login_fresh("operator").await;
    let mut ws = feeds.live_connect(&second).await;
    let operator = app.user_id("operator").await;
    let (status, body) = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{operator}"),
            json!({"password": "a brand new secret 7"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        live_closed_within(&mut ws, CLOSE_WITHIN).await,
        Some(SESSION_ENDED)
    );
    for token in [&first, &second] {
        assert_error(
            &feeds.get(token, "/api/v1/me").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
        assert_error(
            &app.get(token, "/api/v1/me").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        );
    }
    let (status, _) = app.try_login("operator", "a brand new secret 7").await;
    assert_eq!(status, StatusCode::OK);

    // An admin resetting their own password keeps the session doing it.
    let admin_elsewhere = feeds.login_fresh("admin").await;
    let me = app.user_id("admin").await;
    let (status, body) = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{me}"),
            json!({"password": "another new secret 8"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.get(&admin, "/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(
        feeds.get(&admin_elsewhere, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn changing_ones_own_password_ends_every_other_session() {
    let app = spawn_app().await;
    let other = feed_server(&app).await;
    let feeds = other.as_ref().unwrap_or(&app);
    let here = app.login_fresh("station").await;
    let there = feeds.login_fresh("station").await;
    let mut ws_there = feeds.live_connect(&there).await;
    let mut ws_here = app.live_connect(&here).await;

    let wrong = app
        .post_json(
            &here,
            "/api/v1/me/password",
            json!({"current_password": "not it at all", "new_password": "my own new secret 9"}),
        )
        .await;
    assert_error(
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(wrong.1["error"]["field"], "current_password");

    let (status, body) = app
        .post_json(
            &here,
            "/api/v1/me/password",
            json!({"current_password": lianxin_tests::DEMO_PASSWORD, "new_password": "my own new secret 9"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        live_closed_within(&mut ws_there, CLOSE_WITHIN).await,
        Some(SESSION_ENDED)
    );
    assert_eq!(
        feeds.get(&there, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    // The session that made the change goes on, feed included.
    assert_eq!(app.get(&here, "/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(
        live_closed_within(&mut ws_here, Duration::from_millis(300)).await,
        None
    );
    assert!(app
        .audit_log()
        .await
        .iter()
        .any(|a| a.action == "user.password_change"));
}

// ------------------------------------------------ 5. unknown stored roles

#[tokio::test]
async fn an_unknown_stored_role_fails_closed() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let token = app.login_fresh("station").await;
    app.state
        .db
        .conn
        .execute_unprepared("UPDATE users SET role = 'chief_inspector' WHERE username = 'station'")
        .await
        .unwrap();
    app.state.sessions.invalidate();
    assert_error(
        &app.get(&token, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &app.get(&token, "/api/v1/cases").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let refused = app.try_login("station", lianxin_tests::DEMO_PASSWORD).await;
    assert_eq!(refused.0, StatusCode::UNAUTHORIZED, "{}", refused.1);
}

// ------------------------------------------------ 8. bounded password hashing

#[tokio::test]
async fn logins_beyond_the_hash_slots_wait_then_get_503_busy_with_retry_after() {
    let app = spawn_app_with(TestOptions::default().settings(|s| {
        s.auth.max_concurrent_hashes = 1;
        s.auth.hash_wait_ms = 1;
    }))
    .await;
    let attempts = (0..24).map(|i| {
        let rb = app
            .request(Method::POST, "", "/api/v1/auth/login")
            .json(&json!({
                "username": format!("nobody{i}"),
                "password": "whatever it is 123",
            }));
        async move {
            let resp = rb.send().await.unwrap();
            let retry = resp.headers().get("retry-after").cloned();
            let (status, body) = lianxin_tests::read(resp).await;
            (status, body, retry)
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let busy: Vec<_> = results
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "no login was turned away: {results:?}");
    for (_, body, retry) in &busy {
        assert_eq!(body["error"]["code"], "busy", "{body}");
        assert!(retry.is_some(), "503 without Retry-After");
    }
    assert!(
        results
            .iter()
            .any(|(s, _, _)| *s == StatusCode::UNAUTHORIZED),
        "some logins were checked: {results:?}"
    );
    // A slot frees up: a later login goes through.
    app.login_fresh("operator").await;
}

// ------------------------------------------------ 7. login throttling

async fn login_from(
    app: &TestApp,
    user: &str,
    password: &str,
    xff: Option<&str>,
) -> (StatusCode, serde_json::Value, Option<i64>) {
    let mut rb = app
        .request(Method::POST, "", "/api/v1/auth/login")
        .json(&json!({"username": user, "password": password}));
    if let Some(x) = xff {
        rb = rb.header("x-forwarded-for", x);
    }
    let resp = rb.send().await.unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let (status, body) = lianxin_tests::read(resp).await;
    (status, body, retry)
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_counted_before_they_are_verified() {
    let app = spawn_app().await;
    let guesses = (0..16).map(|i| {
        login_from(
            &app,
            "station",
            if i == 0 { "guess 0" } else { "guess n" },
            None,
        )
    });
    let results = futures_util::future::join_all(guesses).await;
    let verified = results
        .iter()
        .filter(|r| r.0 == StatusCode::UNAUTHORIZED)
        .count();
    let refused = results
        .iter()
        .filter(|r| r.0 == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(verified, 5, "{results:?}");
    assert_eq!(refused, 11, "{results:?}");
    assert!(results
        .iter()
        .filter(|r| r.0 == StatusCode::TOO_MANY_REQUESTS)
        .all(|r| r.1["error"]["code"] == "too_many_attempts" && r.2.is_some()));
}

#[tokio::test]
async fn after_the_limit_each_failure_doubles_the_wait_and_then_the_right_password_gets_in() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, "admin", "guess", None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked for 60 s since the last failure, even with the right password.
    let (status, _, retry) = login_from(&app, "admin", lianxin_tests::DEMO_PASSWORD, None).await;
    assert_eq!((status, retry), (StatusCode::TOO_MANY_REQUESTS, Some(60)));
    app.clock.advance(chrono::Duration::seconds(30));
    let (status, _, retry) = login_from(&app, "admin", "guess", None).await;
    assert_eq!(
        (status, retry),
        (StatusCode::TOO_MANY_REQUESTS, Some(30)),
        "refused attempts do not count"
    );
    app.clock.advance(chrono::Duration::seconds(31));
    // One more wrong guess: the wait doubles.
    assert_eq!(
        login_from(&app, "admin", "guess", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, retry) = login_from(&app, "admin", lianxin_tests::DEMO_PASSWORD, None).await;
    assert_eq!((status, retry), (StatusCode::TOO_MANY_REQUESTS, Some(120)));
    app.clock.advance(chrono::Duration::seconds(121));
    assert_eq!(
        login_from(&app, "admin", "guess", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    // 240, 480, then the cap of 15 minutes.
    for expected in [240, 480, 900, 900] {
        let (status, _, retry) = login_from(&app, "admin", "guess", None).await;
        assert_eq!(
            (status, retry),
            (StatusCode::TOO_MANY_REQUESTS, Some(expected))
        );
        app.clock.advance(chrono::Duration::seconds(expected + 1));
        assert_eq!(
            login_from(&app, "admin", "guess", None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, _, retry) = login_from(&app, "admin", lianxin_tests::DEMO_PASSWORD, None).await;
    assert_eq!((status, retry), (StatusCode::TOO_MANY_REQUESTS, Some(900)));
    app.clock.advance(chrono::Duration::seconds(901));
    // After the wait, the right password goes through and clears the count.
    let (status, body, _) = login_from(&app, "admin", lianxin_tests::DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        login_from(&app, "admin", "guess", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn one_client_address_is_limited_across_usernames_and_forwarded_for_only_from_trusted_proxies(
) {
    // Untrusted: X-Forwarded-For is ignored, the peer (127.0.0.1) counts.
    let app = spawn_app_with(TestOptions::default().settings(|s| {
        s.auth.max_failures_per_address = 3;
    }))
    .await;
    for (i, user) in ["station", "police", "nobody"].iter().enumerate() {
        let xff = format!("10.0.0.{i}");
        assert_eq!(
            login_from(&app, user, "guess", Some(&xff)).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, body, retry) = login_from(
        &app,
        "mediator",
        lianxin_tests::DEMO_PASSWORD,
        Some("10.9.9.9"),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(retry.is_some_and(|r| r > 0 && r <= 900), "{retry:?}");
    app.clock.advance(chrono::Duration::seconds(901));
    assert_eq!(
        login_from(&app, "mediator", lianxin_tests::DEMO_PASSWORD, None)
            .await
            .0,
        StatusCode::OK
    );

    // Behind a trusted proxy each forwarded client has its own count.
    let app = spawn_app_with(TestOptions::default().settings(|s| {
        s.auth.max_failures_per_address = 3;
        s.auth.trusted_proxies = vec!["127.0.0.1".into()];
    }))
    .await;
    for user in ["station", "police", "nobody"] {
        // The last hop is what the proxy saw; the first is the client's claim.
        let got = login_from(&app, user, "guess", Some("1.2.3.4, 10.0.0.1")).await;
        assert_eq!(got.0, StatusCode::UNAUTHORIZED);
    }
    let got = login_from(
        &app,
        "mediator",
        lianxin_tests::DEMO_PASSWORD,
        Some("5.6.7.8, 10.0.0.1"),
    )
    .await;
    assert_eq!(got.0, StatusCode::TOO_MANY_REQUESTS);
    let got = login_from(
        &app,
        "mediator",
        lianxin_tests::DEMO_PASSWORD,
        Some("10.0.0.1, 10.0.0.2"),
    )
    .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
}

// ------------------------------------------------ 9. bounded metrics labels

#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_metrics() {
    let app = spawn_app().await;
    let token = app.login("operator").await;
    let burst = |round: u32| {
        let app = &app;
        let token = token.clone();
        async move {
            for i in 0..200u32 {
                let n = round * 1000 + i;
                let method = Method::from_bytes(format!("X{n:05}").as_bytes()).unwrap();
                let path = match i % 4 {
                    0 => format!("/api/v1/cases/{n}"),
                    1 => format!("/api/v1/nothing-{n}/x"),
                    2 => format!("/console-{n}.js"),
                    _ => format!("/api/v2/{n}"),
                };
                let _ = app.request(method, &token, &path).send().await.unwrap();
                let _ = app.get(&token, &path).await;
            }
        }
    };
    burst(1).await;
    burst(2).await;
    // The registry is shared by every server of this test process, so the
    // check is on the labels, not on the line count: only known methods,
    // and no path of ours as a route.
    let (_, text) = app.get("", "/metrics").await;
    let text = text.as_str().unwrap_or_default().to_string();
    let known = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
    ];
    for part in text.split("method=\"").skip(1) {
        let method = part.split('"').next().unwrap_or_default();
        assert!(known.contains(&method), "method label {method:?}");
    }
    for part in text.split("route=\"").skip(1) {
        let route = part.split('"').next().unwrap_or_default();
        assert!(
            !route.contains("nothing-")
                && !route.contains("console-")
                && !route.contains("/api/v2/"),
            "route label {route:?}"
        );
        assert!(
            !route.chars().any(|c| c.is_ascii_digit()) || route.starts_with("/api/v1/"),
            "{route}"
        );
    }
    assert!(text.contains("method=\"other\""));
}

// ------------------------------------------------ 10. slow clients, connection cap

/// Read until the server closes the connection; what it sent, or `None`
/// when it stayed open for `within`.
async fn read_until_closed(s: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_client_sending_half_a_request_line_is_disconnected_after_the_header_timeout() {
    use tokio::io::AsyncWriteExt;
    let app =
        spawn_app_with(TestOptions::default().settings(|s| s.server.header_timeout_s = 1)).await;
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /heal").await.unwrap();
    let t = Instant::now();
    assert!(
        read_until_closed(&mut slow, Duration::from_secs(5))
            .await
            .is_some(),
        "still open after 5 s"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "closed too soon: {:?}",
        t.elapsed()
    );

    // An idle keep-alive connection is closed the same way.
    let mut idle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(
        answered
            .as_deref()
            .is_some_and(|a| a.starts_with("HTTP/1.1 200")),
        "{answered:?}"
    );

    // A normal client is unaffected.
    assert_eq!(app.get("", "/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn connections_from_one_address_are_capped() {
    let app = spawn_app_with(
        TestOptions::default().settings(|s| s.server.max_connections_per_address = 4),
    )
    .await;
    // The login leaves one pooled keep-alive connection open: the first.
    let token = app.login("operator").await;
    let held: Vec<_> =
        futures_util::future::join_all((0..2).map(|_| tokio::net::TcpStream::connect(app.addr)))
            .await
            .into_iter()
            .map(|c| c.unwrap())
            .collect();
    // A live feed is the fourth.
    let ws = app.live_connect(&token).await;
    let mut fifth = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let answer = read_until_closed(&mut fifth, Duration::from_secs(5))
        .await
        .unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    drop(ws);
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = reqwest::Client::new();
    let got = fresh.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(got.status(), StatusCode::OK);
}

// ------------------------------------------------ 11. control characters

#[tokio::test]
async fn control_characters_in_text_are_422_naming_the_field_on_every_engine() {
    let app = spawn_app_with(
        TestOptions::default().settings(|s| s.cti.secret = "exchange-secret".into()),
    )
    .await;
    let op = app.login("operator").await;
    let case = |summary: &str, name: &str| {
        json!({"category": "domestic_violence", "region_code": "450321101201",
               "summary": summary, "subject": {"name": name}})
    };
    let got = app
        .post_json(&op, "/api/v1/cases", case("a\u{0}b", "x"))
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "summary");
    let got = app
        .post_json(&op, "/api/v1/cases", case("ok", "\u{1b}[2J"))
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "subject.name");
    // Tab and line breaks are text.
    let (status, created) = app
        .post_json(&op, "/api/v1/cases", case("line one\r\nline two\tend", "x"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let got = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{id}/notes"),
            json!({"body": "bad\u{0}note"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "body");

    // Query strings.
    let got = app.get(&op, "/api/v1/cases?region_code=4503%00").await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "region_code");

    // The telephone exchange, JSON and form.
    let rb = app
        .request(Method::POST, "", "/api/v1/cti/events")
        .header("X-CTI-Secret", "exchange-secret")
        .json(&json!({"event": "ringing", "call_ref": "c\u{0}1", "from": "13812345678"}));
    let got = app.send(rb).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "call_ref");
    let rb = app
        .request(Method::POST, "", "/api/v1/cti/events")
        .header("X-CTI-Secret", "exchange-secret")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("event=ringing&call_ref=c%001&from=13812345678");
    let got = app.send(rb).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "call_ref");
}

// ------------------------------------------------ 12. report periods

#[tokio::test]
async fn report_periods_outside_2000_to_2100_or_longer_than_5_years_are_422() {
    let app = spawn_app().await;
    let sup = app.login("supervisor").await;
    for (query, field) in [
        ("from=-262143-01-01T00:00:00Z", "from"),
        ("to=-262143-01-01T00:00:00Z", "to"),
        ("to=+262142-12-31T23:59:59Z", "to"),
        ("from=1999-12-31T00:00:00Z&to=2001-01-01T00:00:00Z", "from"),
        ("from=2026-01-01T00:00:00Z&to=2101-01-01T00:00:00Z", "to"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
        ("from=2010-01-01T00:00:00Z&to=2016-01-01T00:00:00Z", "from"),
    ] {
        for path in ["/api/v1/reports/summary", "/api/v1/reports/cases.csv"] {
            let got = app.get(&sup, &format!("{path}?{query}")).await;
            assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(got.1["error"]["field"], field, "{path}?{query}: {}", got.1);
        }
    }
    let got = app
        .get(
            &sup,
            "/api/v1/reports/summary?from=2021-12-01T00:00:00Z&to=2026-11-29T00:00:00Z",
        )
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    // The server is still there.
    assert_eq!(
        app.get(&sup, "/api/v1/reports/summary").await.0,
        StatusCode::OK
    );
}

// ------------------------------------------------ 13. cross-site writes

#[tokio::test]
async fn cookie_writes_need_our_origin_and_json_needs_its_content_type() {
    let app = spawn_app().await;
    let token = app.login_fresh("operator").await;
    let cookie = format!("lianxin_session={token}");
    let body = json!({"category": "domestic_violence", "region_code": "450321101201",
                      "summary": "csrf?", "subject": {}})
    .to_string();
    let post = |origin: Option<&str>, site: Option<&str>, ctype: &str| {
        let mut rb = app
            .request(Method::POST, "", "/api/v1/cases")
            .header("cookie", cookie.clone())
            .header("content-type", ctype.to_string())
            .body(body.clone());
        if let Some(o) = origin {
            rb = rb.header("origin", o.to_string());
        }
        if let Some(s) = site {
            rb = rb.header("sec-fetch-site", s.to_string());
        }
        app.send(rb)
    };
    // The classic cross-site form: text/plain from another origin.
    let got = post(
        Some("https://evil.example"),
        Some("cross-site"),
        "text/plain",
    )
    .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    // No Origin and no Sec-Fetch-Site at all: refused too.
    let got = post(None, None, "application/json").await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = post(Some("https://evil.example"), None, "application/json").await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    // Our own origin, but not JSON: 415.
    let got = post(Some("http://127.0.0.1:8080"), None, "text/plain").await;
    assert_error(
        &got,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    // Our own origin (configured or public_url) or a same-origin fetch: created.
    let got = post(Some("http://127.0.0.1:8080"), None, "application/json").await;
    assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);
    let got = post(None, Some("same-origin"), "application/json; charset=utf-8").await;
    assert_eq!(got.0, StatusCode::CREATED, "{}", got.1);

    // A bearer token is not sent by browsers on their own: no Origin rule,
    // but JSON still needs its type.
    let rb = app
        .request(Method::POST, &token, "/api/v1/cases")
        .header("content-type", "text/plain")
        .body(body.clone());
    assert_error(
        &app.send(rb).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let rb = app
        .request(Method::POST, &token, "/api/v1/cases")
        .header("content-type", "application/json")
        .body(body.clone());
    assert_eq!(app.send(rb).await.0, StatusCode::CREATED);
    // Optional JSON bodies too (accept: nothing, or {"version": n}).
    let (_, case) = app
        .post_json(
            &token,
            "/api/v1/cases",
            serde_json::from_str(&body).unwrap(),
        )
        .await;
    let station = app.login("station").await;
    let accept = format!("/api/v1/cases/{}/accept", case["id"].as_str().unwrap());
    let rb = app
        .request(Method::POST, &station, &accept)
        .header("content-type", "text/plain")
        .body("{}");
    assert_error(
        &app.send(rb).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let rb = app.request(Method::POST, &station, &accept);
    assert_eq!(
        app.send(rb).await.0,
        StatusCode::OK,
        "an empty body needs no type"
    );
    // Reading with the cookie needs no Origin.
    let rb = app
        .request(Method::GET, "", "/api/v1/me")
        .header("cookie", cookie.clone());
    assert_eq!(app.send(rb).await.0, StatusCode::OK);
}

// ------------------------------------------------ 14. response headers

#[tokio::test]
async fn api_answers_are_not_cached_the_console_is_not_framed_and_https_cookies_are_secure() {
    let app = spawn_app().await;
    let token = app.login("operator").await;
    let resp = app
        .request(Method::GET, &token, "/api/v1/me")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let resp = app
        .request(Method::GET, &token, "/api/v1/nothing-here")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");

    let resp = app.request(Method::GET, "", "/").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["x-frame-options"], "DENY");
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("connect-src 'self' ws://127.0.0.1:8080;"),
        "{csp}"
    );
    assert!(
        !csp.contains(" ws: ") && !csp.contains(" wss:;"),
        "any ws host: {csp}"
    );
    // Plain http: no Secure flag (it would never be sent back).
    let resp = app
        .request(Method::POST, "", "/api/v1/auth/login")
        .json(&json!({"username": "station", "password": lianxin_tests::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(!resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Secure"));

    let app = spawn_app_with(
        TestOptions::default().settings(|s| s.public_url = "https://12338.example.org".into()),
    )
    .await;
    let resp = app
        .request(Method::POST, "", "/api/v1/auth/login")
        .json(&json!({"username": "station", "password": lianxin_tests::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let resp = app
        .request(Method::GET, "", "/index.html")
        .send()
        .await
        .unwrap();
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("connect-src 'self' wss://12338.example.org;"),
        "{csp}"
    );
}

// ------------------------------------------------ 16. password policy

#[tokio::test]
async fn new_and_reset_passwords_follow_the_policy() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let new_user =
        |password: &str| json!({"username": "wang.li", "password": password, "role": "operator"});
    for weak in [
        "nine char",
        "1234567890",
        "Password123",
        "LIANXIN 2026 hotline",
        "I am Wang.Li here",
    ] {
        let got = app.post_json(&admin, "/api/v1/users", new_user(weak)).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(got.1["error"]["field"], "password", "{weak}: {}", got.1);
    }
    let (status, user) = app
        .post_json(&admin, "/api/v1/users", new_user("violet harbour 41"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let id = user["id"].as_str().unwrap();

    // An admin's reset.
    let got = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{id}"),
            json!({"password": "qwertyuiop"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "password");

    // The user's own change.
    let (_, login) = app.try_login("wang.li", "violet harbour 41").await;
    let token = login["token"].as_str().unwrap().to_string();
    let got = app
        .post_json(
            &token,
            "/api/v1/me/password",
            json!({"current_password": "violet harbour 41", "new_password": "wang.li-2026-x"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "new_password");
    let got = app
        .post_json(
            &token,
            "/api/v1/me/password",
            json!({"current_password": "violet harbour 41", "new_password": "quiet river stone"}),
        )
        .await;
    assert_eq!(got.0, StatusCode::NO_CONTENT, "{}", got.1);
    assert_eq!(
        app.try_login("wang.li", "quiet river stone").await.0,
        StatusCode::OK
    );
}

// ------------------------------------------------ 2. who may work an escalation

#[tokio::test]
async fn only_police_units_in_the_escalation_chain_may_work_it() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let admin = app.login("admin").await;
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({
                "category": "domestic_violence", "region_code": "450321101201",
                "summary": "threat", "subject": {},
                "danger_screen": {"in_progress": false, "answers": [true, false, false, false, false, false, false, false, false, false, false], "screener_concern": false}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let case_id = case["id"].as_str().unwrap().to_string();
    let esc = case["escalation"]["id"].as_str().unwrap().to_string();
    let ack = format!("/api/v1/escalations/{esc}/acknowledge");

    // A police unit of another county that can read the case (it was
    // transferred there) but was never sent the escalation.
    let lingchuan = app.unit_id("灵川县公安局指挥中心").await;
    let (status, body) = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({"username": "lc.duty", "password": "county duty desk 7", "role": "police_liaison", "unit_id": lingchuan}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, login) = app.try_login("lc.duty", "county duty desk 7").await;
    let stranger = login["token"].as_str().unwrap().to_string();
    // Before the transfer it cannot read it: 404.
    assert_error(
        &app.post_json(&stranger, &ack, json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, body) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{case_id}/transfer"),
            json!({"unit_id": lingchuan, "reason": "wrong county"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.get(&stranger, &format!("/api/v1/escalations/{esc}"))
            .await
            .0,
        StatusCode::OK
    );
    for (action, body) in [
        ("acknowledge", json!({})),
        ("resolve", json!({"summary": "x"})),
        ("actions", json!({"kind": "dispatched", "notes": "x"})),
    ] {
        let got = app
            .post_json(
                &stranger,
                &format!("/api/v1/escalations/{esc}/{action}"),
                body,
            )
            .await;
        assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    }

    // The county command above 白沙 is not in the chain yet at level 1.
    let command = app.login("command").await;
    let got = app.post_json(&command, &ack, json!({})).await;
    assert!(
        matches!(got.0, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{got:?}"
    );

    // Raised to level 2 (no acknowledgement within 15 minutes): the
    // station that had it before may still acknowledge.
    app.clock
        .advance(chrono::Duration::minutes(15) + chrono::Duration::seconds(1));
    app.state.deadline_wake.notify_one();
    let mut level = 0;
    for _ in 0..200 {
        let (_, e) = app.get(&op, &format!("/api/v1/escalations/{esc}")).await;
        level = e["level"].as_i64().unwrap_or(0);
        if level >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(level, 2);
    let police = app.login("police").await;
    let (status, body) = app.post_json(&police, &ack, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// ------------------------------------------------ 6. former handlers

#[tokio::test]
async fn a_former_handler_reads_the_header_and_its_own_time_but_not_later_notes() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let station = app.login("station").await;
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "domestic_violence", "region_code": "450321101201",
                   "summary": "handled then moved", "subject": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(
        case["assigned_unit_id"],
        json!(app.unit_id("白沙镇妇女维权站").await)
    );
    let note = |token: String, body: &'static str| {
        let path = format!("/api/v1/cases/{id}/notes");
        let app = &app;
        async move {
            let (status, v) = app.post_json(&token, &path, json!({ "body": body })).await;
            assert!(status.is_success(), "{status} {v}");
        }
    };
    note(station.clone(), "while the station had it").await;
    let mut ws = app.live_connect(&station).await;
    let daxu = app.unit_id("大圩镇妇女维权站").await;
    let (status, body) = app
        .post_json(
            &station,
            &format!("/api/v1/cases/{id}/transfer"),
            json!({"unit_id": daxu, "reason": "she moved to 大圩"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    note(op.clone(), "after the transfer: not for the station").await;

    let (status, detail) = app.get(&station, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(
        detail["number"], case["number"],
        "the header stays readable"
    );
    let kinds = lianxin_tests::timeline_kinds(&detail);
    assert!(kinds.contains(&"case.transferred"), "{kinds:?}");
    let bodies: Vec<String> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "case.note_added")
        .map(|e| e["data"].to_string())
        .collect();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(bodies[0].contains("while the station had it"), "{bodies:?}");
    // Everyone still handling or supervising it sees both notes.
    let (_, full) = app.get(&op, &format!("/api/v1/cases/{id}")).await;
    let n = lianxin_tests::timeline_kinds(&full)
        .iter()
        .filter(|k| **k == "case.note_added")
        .count();
    assert_eq!(n, 2);
    // The feed agrees: the transfer reaches the station, the later note does not.
    let mut seen = Vec::new();
    while let Ok(Some(Ok(m))) = tokio::time::timeout(
        Duration::from_millis(500),
        futures_util::StreamExt::next(&mut ws),
    )
    .await
    {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            seen.push(t.to_string());
        }
    }
    assert!(
        seen.iter().any(|t| t.contains("case.transferred")),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|t| t.contains("not for the station")),
        "{seen:?}"
    );
}
