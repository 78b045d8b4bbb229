//! The foundation over real HTTP: sessions and login throttling, roles,
//! administration with its audit trail, every error of the HTTP edge, the
//! operations endpoints, regions, and the example configuration file.
//!
//! Runs on SQLite by default and on PostgreSQL with
//! `LIANXIN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.
use chrono::Duration;
use lianxin_tests::{
    assert_error, spawn_app, spawn_app_with, Method, StatusCode, TestOptions, DEMO_PASSWORD, START,
};
use serde_json::{json, Value};

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

// ---------------------------------------------------------------- sessions

#[tokio::test]
async fn login_gives_a_token_and_a_strict_http_only_cookie() {
    let app = spawn_app().await;
    let resp = app
        .request(Method::POST, "", "/api/v1/auth/login")
        .json(&json!({"username": "operator", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = header(&resp, "set-cookie");
    let body: Value = resp.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 32, "token too short: {token}");
    assert_eq!(body["user"]["username"], "operator");
    assert_eq!(body["user"]["role"], "operator");
    assert!(body["user"].get("password_hash").is_none());
    assert!(body["user"].get("password").is_none());
    // 12 h after the manual clock's start.
    let expires = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(expires, app.now() + Duration::hours(12));

    assert!(
        cookie.starts_with(&format!("lianxin_session={token}")),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");

    // The bearer token opens the session.
    let (status, me) = app.get(token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "operator");
    assert_eq!(me["display_name"], "热线接线员 王丽");
    assert_eq!(
        me["unit_id"],
        json!(app.unit_id("12338妇女维权热线中心").await)
    );

    // So does the cookie alone (the console's way).
    let cookie_pair = cookie.split(';').next().unwrap().to_string();
    let got = app
        .send(
            app.request(Method::GET, "", "/api/v1/me")
                .header("cookie", cookie_pair),
        )
        .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["username"], "operator");
}

#[tokio::test]
async fn wrong_password_or_unknown_user_is_401_invalid_credentials() {
    let app = spawn_app().await;
    let got = app.try_login("operator", "not-the-password").await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let unknown = app.try_login("nobody", DEMO_PASSWORD).await;
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "invalid_credentials");
    // The two answers must not tell who exists.
    assert_eq!(got.1, unknown.1);
    // A login with a missing field is a 422 naming it, not a 401.
    let got = app
        .post_json("", "/api/v1/auth/login", json!({"username": "admin"}))
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "password");
}

#[tokio::test]
async fn five_failures_lock_the_account_across_restarts_until_the_window_passes() {
    let mut app = spawn_app().await;
    for i in 0..5 {
        let got = app.try_login("station", "guess").await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_credentials");
        // The failures are spread over ten minutes.
        if i < 4 {
            app.clock.advance(Duration::seconds(150));
        }
    }
    // Now even the right password is refused, with a Retry-After.
    let resp = app
        .request(Method::POST, "", "/api/v1/auth/login")
        .json(&json!({"username": "station", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    let retry_after: i64 = header(&resp, "retry-after").parse().unwrap();
    let got = lianxin_tests::read(resp).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    // A minute after the last failure (doubling with each further one;
    // tests/tests/security.rs has the whole policy).
    assert_eq!(retry_after, 60);

    // Other users are not affected.
    assert_eq!(
        app.try_login("mediator", DEMO_PASSWORD).await.0,
        StatusCode::OK
    );

    // A restart does not reset the count: it is kept in the database.
    app.restart().await;
    let got = app.try_login("station", DEMO_PASSWORD).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");

    // Once the wait is over, one more try is allowed — and the right
    // password gets in.
    app.clock.advance(Duration::seconds(301));
    let got = app.try_login("station", DEMO_PASSWORD).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    // A successful login clears the count.
    assert_error(
        &app.try_login("station", "guess").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    assert_eq!(
        app.try_login("station", DEMO_PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn throttling_follows_the_configured_limits() {
    let app = spawn_app_with(TestOptions::default().settings(|s| {
        s.auth.max_failures = 2;
        s.auth.failure_window_s = 60;
    }))
    .await;
    for _ in 0..2 {
        assert_eq!(
            app.try_login("police", "x").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_error(
        &app.try_login("police", DEMO_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    );
    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        app.try_login("police", DEMO_PASSWORD).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_session_expires_after_twelve_hours() {
    let app = spawn_app().await;
    let token = app.login("supervisor").await;
    app.clock
        .advance(Duration::hours(12) - Duration::seconds(1));
    assert_eq!(app.get(&token, "/api/v1/me").await.0, StatusCode::OK);
    app.clock.advance(Duration::seconds(1));
    let got = app.get(&token, "/api/v1/me").await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "unauthorized");
    // Expired for the cookie too.
    let got = app
        .send(
            app.request(Method::GET, "", "/api/v1/units")
                .header("cookie", format!("lianxin_session={token}")),
        )
        .await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "unauthorized");
    // A new login works and is valid for another 12 h.
    let fresh = app.login("supervisor").await;
    assert_ne!(fresh, token);
    assert_eq!(app.get(&fresh, "/api/v1/me").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_session_revoked_through_one_process_is_refused_by_another() {
    let a = spawn_app().await;
    if !a.is_postgres() {
        println!("skipped: several processes need PostgreSQL (set LIANXIN_TEST_DATABASE_URL)");
        return;
    }
    let b = spawn_app_with(a.same_database()).await;
    let token = a.login_fresh("mediator").await;
    // B has just resolved the session, so it holds it in memory.
    assert_eq!(b.get(&token, "/api/v1/me").await.0, StatusCode::OK);
    let resp = a
        .request(Method::POST, &token, "/api/v1/auth/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // B hears of it by NOTIFY within milliseconds; without it, B would
    // keep the session at most two seconds. The bound allows a loaded CI
    // machine, and is still below that.
    let revoked = std::time::Instant::now();
    while b.get(&token, "/api/v1/me").await.0 != StatusCode::UNAUTHORIZED {
        assert!(
            revoked.elapsed() < std::time::Duration::from_millis(1500),
            "B still accepts a session logged out on A"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    println!("logout on A → refused on B after {:?}", revoked.elapsed());
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let token = app.login_fresh("mediator").await;
    let other = app.login_fresh("mediator").await;
    let resp = app
        .request(Method::POST, &token, "/api/v1/auth/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let cookie = header(&resp, "set-cookie");
    assert!(cookie.starts_with("lianxin_session=;"), "{cookie}");
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
    assert_error(
        &app.get(&token, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    // Logging out twice is simply unauthorised.
    assert_error(
        &app.post_json(&token, "/api/v1/auth/logout", Value::Null)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    // The same user's other session (another browser) lives on.
    assert_eq!(app.get(&other, "/api/v1/me").await.0, StatusCode::OK);
}

#[tokio::test]
async fn no_session_or_a_forged_one_is_401_everywhere_but_health() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/me",
        "/api/v1/units",
        "/api/v1/users",
        "/api/v1/routing-rules",
        "/api/v1/regions",
    ] {
        let got = app.get("", path).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "unauthorized");
        let got = app.get("0123456789abcdef", path).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let got = app
        .post_json("", "/api/v1/units", json!({"kind": "police"}))
        .await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(app.get("", "/healthz").await.0, StatusCode::OK);
}

// ------------------------------------------------------------------- roles

#[tokio::test]
async fn roles_other_than_admin_get_403_for_administration() {
    let app = spawn_app().await;
    let operator = app.login("operator").await;
    let station_unit = app.unit_id("白沙镇妇女维权站").await;
    let unit = json!({"kind": "police", "name": "新派出所", "region_code": "450321102000"});
    assert_error(
        &app.post_json(&operator, "/api/v1/units", unit.clone())
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    for who in ["station", "supervisor", "police"] {
        let token = app.login(who).await;
        assert_error(
            &app.get(&token, "/api/v1/users").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &app.patch_json(
                &token,
                &format!("/api/v1/units/{station_unit}"),
                json!({"name": "x"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &app.put_json(
                &token,
                "/api/v1/routing-rules/land_rights",
                json!({"unit_kind": "legal_aid"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    let user_id = app.user_id("station").await;
    assert_error(
        &app.patch_json(
            &operator,
            &format!("/api/v1/users/{user_id}"),
            json!({"active": false}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // Nothing was written.
    assert!(app.audit_log().await.iter().all(|a| a.actor_id.is_none()));
    let admin = app.login("admin").await;
    let (_, units) = app.get(&admin, "/api/v1/units").await;
    assert!(units["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["name"] != "新派出所"));
    // Listing units is open to every signed-in user (transfer targets).
    let (status, list) = app.get(&operator, "/api/v1/units").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 21);
}

// ---------------------------------------------------------- administration

#[tokio::test]
async fn admin_creates_and_edits_units_with_an_audit_trail() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let admin_id = app.user_id("admin").await;
    let (status, unit) = app
        .post_json(
            &admin,
            "/api/v1/units",
            json!({"kind": "mediation_committee", "name": "旧县村人民调解委员会",
                   "region_code": "450321101202", "email": "jx-mediation@demo.lianxin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{unit}");
    let id = unit["id"].as_str().unwrap().to_string();
    assert_eq!(unit["kind"], "mediation_committee");
    assert_eq!(unit["region_code"], "450321101202");
    assert_eq!(unit["active"], true);

    let (status, got) = app.get(&admin, &format!("/api/v1/units/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["name"], "旧县村人民调解委员会");

    let (status, patched) = app
        .patch_json(
            &admin,
            &format!("/api/v1/units/{id}"),
            json!({"name": "旧县村调委会", "email": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "旧县村调委会");
    assert_eq!(patched["email"], Value::Null);
    assert_eq!(patched["kind"], "mediation_committee");

    let (_, list) = app.get(&admin, "/api/v1/units").await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["id"] == id.as_str() && u["name"] == "旧县村调委会"));

    let audit = app.audit_log().await;
    let target = format!("unit:{id}");
    let mine: Vec<_> = audit.iter().filter(|a| a.target == target).collect();
    assert_eq!(
        mine.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["unit.create", "unit.update"]
    );
    assert!(mine.iter().all(|a| a.actor_id == Some(admin_id)));
    assert!(mine.iter().all(|a| a.at == app.now()));

    // Not found: unknown id and a path that is not a UUID.
    let missing = format!("/api/v1/units/{}", uuid::Uuid::new_v4());
    assert_error(
        &app.get(&admin, &missing).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.patch_json(&admin, &missing, json!({"name": "x"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&admin, "/api/v1/units/not-a-uuid").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn unit_input_is_checked_field_by_field() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let base = json!({"kind": "police", "name": "福利派出所", "region_code": "450321102000"});
    let cases = [
        ("region_code", json!("450321999000")), // well-formed, unknown
        ("region_code", json!("4503")),         // not 12 digits
        ("kind", json!("fire_brigade")),
        ("name", json!("   ")),
        ("email", json!("not-an-email")),
        ("name", json!(42)),
        ("kind", json!(5)), // a number where a name belongs: 422, not 400
    ];
    for (field, value) in cases {
        let mut body = base.clone();
        body[field] = value.clone();
        let got = app.post_json(&admin, "/api/v1/units", body).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(got.1["error"]["field"], field, "{field}={value}: {}", got.1);
    }
    // An unknown field is refused too (no silent typos).
    let mut body = base.clone();
    body["regon_code"] = json!("450321102000");
    assert_eq!(
        app.post_json(&admin, "/api/v1/units", body).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Nothing half-written stays behind.
    let units = lianxin::admin::list_units(&app.state.db).await.unwrap();
    assert_eq!(units.len(), 21);
    assert!(app
        .audit_log()
        .await
        .iter()
        .all(|a| a.action != "unit.create"));
    // And the valid body is accepted.
    assert_eq!(
        app.post_json(&admin, "/api/v1/units", base).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn admin_manages_users_and_a_deactivated_user_is_locked_out() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let admin_id = app.user_id("admin").await;
    let station = app.unit_id("福利镇妇女维权站").await;
    let (status, user) = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({"username": "fl.zhou", "display_name": "福利镇维权站 周萍",
                   "password": "a long enough secret", "role": "station_worker",
                   "unit_id": station, "email": "zhou@demo.lianxin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let id = user["id"].as_str().unwrap().to_string();
    assert_eq!(user["role"], "station_worker");
    assert_eq!(user["unit_id"], json!(station));
    assert_eq!(user["active"], true);
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());

    // The new user can log in.
    let (status, login) = app.try_login("fl.zhou", "a long enough secret").await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let their_token = login["token"].as_str().unwrap().to_string();
    assert_eq!(app.get(&their_token, "/api/v1/me").await.1["id"], id);

    // The username is unique.
    let got = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({"username": "fl.zhou", "password": "another long secret", "role": "operator"}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "username_taken");
    // A station worker needs a unit.
    let got = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({"username": "no.unit", "password": "another long secret", "role": "station_worker"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "unit_id");
    // An unknown role names the field.
    let got = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({"username": "chief", "password": "another long secret", "role": "chief"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "role");

    // Edit.
    let (status, patched) = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{id}"),
            json!({"display_name": "周萍"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["display_name"], "周萍");
    assert_eq!(patched["role"], "station_worker");
    // The open session carries the new role at once (sessions are cached
    // for a moment; a change forgets them).
    assert_eq!(
        app.get(&their_token, "/api/v1/me").await.1["role"],
        "station_worker"
    );

    // Deactivate: the open session stops working and login is refused.
    let (status, patched) = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{id}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["active"], false);
    assert_error(
        &app.get(&their_token, "/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_error(
        &app.try_login("fl.zhou", "a long enough secret").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let (_, users) = app.get(&admin, "/api/v1/users").await;
    let listed = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["active"], false);

    // An admin cannot lock themselves out.
    let got = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{admin_id}"),
            json!({"active": false}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "cannot_demote_self");

    let target = format!("user:{id}");
    let audit = app.audit_log().await;
    let mine: Vec<_> = audit.iter().filter(|a| a.target == target).collect();
    assert_eq!(
        mine.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["user.create", "user.update", "user.update"]
    );
    assert!(mine.iter().all(|a| a.actor_id == Some(admin_id)));
    assert_eq!(mine[2].detail["active"], false);
    // The audit trail never holds a password or its hash.
    for a in &mine {
        let text = a.detail.to_string();
        assert!(!text.contains("a long enough secret") && !text.contains("argon2"));
    }
}

#[tokio::test]
async fn routing_rules_can_be_changed_and_are_audited() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let operator = app.login("operator").await;
    let (status, rules) = app.get(&operator, "/api/v1/routing-rules").await;
    assert_eq!(status, StatusCode::OK);
    let rules = rules["items"].as_array().unwrap().clone();
    assert_eq!(rules.len(), 13);
    let land = rules
        .iter()
        .find(|r| r["category"] == "land_rights")
        .unwrap();
    assert_eq!(land["unit_kind"], "mediation_committee");
    assert_eq!(land["customised"], false);

    let (status, rule) = app
        .put_json(
            &admin,
            "/api/v1/routing-rules/land_rights",
            json!({"unit_kind": "legal_aid"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rule}");
    assert_eq!(rule["unit_kind"], "legal_aid");
    // Setting it twice is fine (PUT is idempotent).
    assert_eq!(
        app.put_json(
            &admin,
            "/api/v1/routing-rules/land_rights",
            json!({"unit_kind": "legal_aid"}),
        )
        .await
        .0,
        StatusCode::OK
    );
    let (_, rules) = app.get(&operator, "/api/v1/routing-rules").await;
    let land = rules["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "land_rights")
        .cloned()
        .unwrap();
    assert_eq!(land["unit_kind"], "legal_aid");
    assert_eq!(land["customised"], true);

    assert_error(
        &app.put_json(
            &admin,
            "/api/v1/routing-rules/witchcraft",
            json!({"unit_kind": "police"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let got = app
        .put_json(
            &admin,
            "/api/v1/routing-rules/health",
            json!({"unit_kind": "hospital"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "unit_kind");

    let admin_id = app.user_id("admin").await;
    let audit = app.audit_log().await;
    let sets: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "routing_rule.set")
        .collect();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0].target, "routing_rule:land_rights");
    assert_eq!(sets[0].actor_id, Some(admin_id));
    assert_eq!(sets[0].detail["unit_kind"], "legal_aid");
}

// ------------------------------------------------------------ the HTTP edge

#[tokio::test]
async fn bad_bodies_get_400_422_and_413_as_json() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    // Malformed JSON.
    let got = app
        .send(
            app.request(Method::POST, &admin, "/api/v1/units")
                .header("content-type", "application/json")
                .body("{\"kind\": \"police\", "),
        )
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "malformed_request");
    // Trailing garbage after a valid document is malformed too.
    let got = app
        .send(
            app.request(Method::POST, "", "/api/v1/auth/login")
                .header("content-type", "application/json")
                .body("{\"username\": \"admin\", \"password\": \"x\"} x"),
        )
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "malformed_request");
    // An empty body.
    let got = app
        .send(app.request(Method::POST, &admin, "/api/v1/units"))
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "malformed_request");
    // Wrong types name the field, nested paths included.
    let got = app
        .post_json(
            "",
            "/api/v1/auth/login",
            json!({"username": ["admin"], "password": "x"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "username");
    let user = app.user_id("station").await;
    let got = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{user}"),
            json!({"active": "no"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "active");
    // A JSON document that is not an object.
    let got = app.post_json(&admin, "/api/v1/units", json!([1, 2])).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Over 1 MiB: 413 with the JSON error, for JSON and for CSV.
    let big = format!(
        "{{\"kind\":\"police\",\"name\":\"{}\",\"region_code\":\"450321102000\"}}",
        "x".repeat(1024 * 1024)
    );
    let got = app
        .send(
            app.request(Method::POST, &admin, "/api/v1/units")
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let csv = "450321102299,某村委会\n".repeat(60_000);
    assert!(csv.len() > 1024 * 1024);
    let got = app
        .send(
            app.request(Method::POST, &admin, "/api/v1/regions/import")
                .header("content-type", "text/csv")
                .body(csv),
        )
        .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Just under the limit is read (and then judged on its content).
    let name = "x".repeat(1024 * 1024 - 100);
    let got = app
        .post_json(
            &admin,
            "/api/v1/units",
            json!({"kind": "police", "name": name, "region_code": "450321102000"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "name");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let got = app.get(&admin, "/api/v1/no-such-thing").await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    // Also without a session: an unknown route is not a secret.
    let got = app.get("", "/api/v2/units").await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    let got = app.delete(&admin, "/api/v1/units").await;
    assert_error(&got, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    // Every answer carries a request id and the security headers.
    let resp = app
        .request(Method::GET, "", "/api/v1/nothing")
        .send()
        .await
        .unwrap();
    assert!(!header(&resp, "x-request-id").is_empty());
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    assert!(header(&resp, "content-security-policy").contains("default-src 'self'"));
    assert!(header(&resp, "content-type").starts_with("application/json"));
}

// -------------------------------------------------------------- operations

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    let app = spawn_app().await;
    let (status, body) = app.get("", "/healthz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.get("", "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Make some traffic, then look for it in the metrics.
    app.get("", "/api/v1/me").await;
    let resp = app
        .request(Method::GET, "", "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "content-type").starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    assert!(text.contains("lianxin_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/me\""), "{text}");
    assert!(text.contains("lianxin_http_request_duration_seconds"));

    let (status, doc) = app.get("", "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/units",
        "/api/v1/units/{unit_id}",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/routing-rules",
        "/api/v1/routing-rules/{category}",
        "/api/v1/regions",
        "/api/v1/regions/import",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
}

// ----------------------------------------------------------------- regions

#[tokio::test]
async fn region_picker_lists_children() {
    let app = spawn_app().await;
    let station = app.login("station").await;
    let (status, body) = app
        .get(&station, "/api/v1/regions?parent=450321000000")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<_> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["阳朔镇", "白沙镇", "福利镇"]);
    let first = &body["items"][0];
    assert_eq!(first["code"], "450321100000");
    assert_eq!(first["parent_code"], "450321000000");
    assert_eq!(first["level"], 4);
    // No parent: the provinces.
    let (_, top) = app.get(&station, "/api/v1/regions").await;
    assert_eq!(top["items"][0]["code"], "450000000000");
    assert_eq!(top["items"].as_array().unwrap().len(), 1);
    // A village has no children; a bad code names the parameter.
    let (status, none) = app
        .get(&station, "/api/v1/regions?parent=450321101201")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none["items"], json!([]));
    let got = app.get(&station, "/api/v1/regions?parent=45x").await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "parent");
}

#[tokio::test]
async fn region_import_is_idempotent_and_admin_only() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let csv = "code,name\n450321103000,兴坪镇\n450321103201,兴坪村委会\n450321103202,渔村村委会\n";
    let import = |token: String, body: &'static str| {
        app.send(
            app.request(Method::POST, &token, "/api/v1/regions/import")
                .header("content-type", "text/csv")
                .body(body),
        )
    };
    let (status, report) = import(admin.clone(), csv).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["imported"], 3);
    let (_, towns) = app.get(&admin, "/api/v1/regions?parent=450321000000").await;
    let first = towns.clone();
    assert_eq!(towns["items"].as_array().unwrap().len(), 4);
    let (_, villages) = app.get(&admin, "/api/v1/regions?parent=450321103000").await;
    assert_eq!(
        villages["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["兴坪村委会", "渔村村委会"]
    );

    // Again: same answer, nothing duplicated.
    let (status, _) = import(admin.clone(), csv).await;
    assert_eq!(status, StatusCode::OK);
    let (_, towns) = app.get(&admin, "/api/v1/regions?parent=450321000000").await;
    assert_eq!(towns, first);

    // A renamed entry is updated in place.
    let (status, _) = import(admin.clone(), "450321103000,兴坪镇（新）\n").await;
    assert_eq!(status, StatusCode::OK);
    let (_, towns) = app.get(&admin, "/api/v1/regions?parent=450321000000").await;
    assert_eq!(towns["items"][3]["name"], "兴坪镇（新）");
    assert_eq!(towns["items"].as_array().unwrap().len(), 4);

    // A unit can now be placed in the new township.
    let (status, _) = app
        .post_json(
            &admin,
            "/api/v1/units",
            json!({"kind": "rights_station", "name": "兴坪镇妇女维权站", "region_code": "450321103000"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Bad files are refused with the line, and write nothing.
    let got = import(admin.clone(), "450321104000,杨堤乡\nnot a code,x\n").await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "csv");
    assert!(got.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("line 2"));
    let (_, towns) = app.get(&admin, "/api/v1/regions?parent=450321000000").await;
    assert_eq!(towns["items"].as_array().unwrap().len(), 4);

    // Only admins import.
    let operator = app.login("operator").await;
    assert_error(
        &import(operator, csv).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let audit = app.audit_log().await;
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == "regions.import")
            .count(),
        3
    );
}

// ----------------------------------------------------- multi-process, misc

#[tokio::test]
async fn two_servers_share_sessions_through_the_database() {
    let app = spawn_app().await;
    let other = spawn_app_with(app.same_database()).await;
    assert_ne!(app.addr, other.addr);
    let token = app.login("operator").await;
    let (status, me) = other.get(&token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    // Logging out on one ends the session on the other.
    assert_eq!(
        other
            .post_json(&token, "/api/v1/auth/logout", Value::Null)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&token, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    // They share the clock too.
    assert_eq!(app.now().to_rfc3339(), other.now().to_rfc3339());
    assert_eq!(
        app.now(),
        chrono::DateTime::parse_from_rfc3339(START).unwrap()
    );
}

// ------------------------------------------------------------ configuration

/// Every leaf key of `Settings`, as dotted paths, read from its pretty
/// `Debug` form (so a new field shows up here without anyone listing it).
fn settings_keys() -> Vec<String> {
    let text = format!("{:#?}", lianxin::config::Settings::default());
    let mut stack: Vec<String> = Vec::new();
    let mut keys = Vec::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let depth = indent / 4;
        let t = line.trim();
        let Some((name, rest)) = t.split_once(": ") else {
            continue;
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            continue;
        }
        stack.truncate(depth.saturating_sub(1));
        let path = stack
            .iter()
            .cloned()
            .chain([name.to_string()])
            .collect::<Vec<_>>()
            .join(".");
        if rest.ends_with('{') && !rest.starts_with('"') {
            stack.push(name.to_string());
        } else {
            keys.push(path);
        }
    }
    keys.sort();
    keys
}

fn toml_keys(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => toml_keys(&path, t, out),
            _ => out.push(path),
        }
    }
}

#[test]
fn the_example_config_is_valid_complete_and_shows_the_defaults() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ops/config/lianxin.example.toml"
    );
    let parsed = lianxin::config::Settings::from_file(path).unwrap();
    parsed.validate().unwrap();
    // Every value in the example is the built-in default.
    assert_eq!(
        format!("{parsed:#?}"),
        format!("{:#?}", lianxin::config::Settings::default())
    );
    // And every key of the struct is written out.
    let text = std::fs::read_to_string(path).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let mut documented = Vec::new();
    toml_keys("", &table, &mut documented);
    documented.sort();
    let expected = settings_keys();
    assert!(expected.len() > 30, "{expected:?}");
    assert_eq!(documented, expected);
}

#[tokio::test]
async fn sqlite_commits_reach_the_database_file_while_the_server_runs() {
    let app = spawn_app().await;
    if app.is_postgres() {
        println!("skipped: the checkpointer is SQLite's");
        return;
    }
    // Commits land in the WAL (fsynced); the checkpointer, not the commit
    // that crosses a size limit, copies them into the database file. A
    // few cases are far below SQLite's own limit of 1,000 pages, so the
    // file grows only if the checkpointer runs.
    let path = app
        .db_url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .expect("a SQLite URL")
        .to_string();
    let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = size();
    let op = app.login("operator").await;
    for i in 0..40 {
        let (status, case) = app
            .post_json(
                &op,
                "/api/v1/cases",
                json!({"category": "domestic_violence", "region_code": "450321101201",
                       "summary": format!("来电 {i}: 丈夫多次威胁"), "subject": {}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{case}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while size() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "{path} did not grow in 5 s ({before} bytes): no checkpoint ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
