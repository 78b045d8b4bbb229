//! The admin console's server side (issue 19 item 12): a user created
//! without a password gets a temporary one that must be changed before
//! anything else, a reset password, lifting the login throttle, the duty
//! phones and the deadline clocks — each change with its audit row.
//!
//! Runs on SQLite by default and on PostgreSQL with
//! `LIANXIN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.
use lianxin_tests::{assert_error, spawn_app, StatusCode, TestApp, DEMO_PASSWORD};
use serde_json::{json, Value};

const TOWNSHIP: &str = "450321101000"; // 白沙镇

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

async fn audited(app: &TestApp, action: &str, subject: &str) -> bool {
    app.audit_log()
        .await
        .iter()
        .any(|a| a.action == action && a.target == subject)
}

/// A station with a worker created the way the console does: no password.
async fn station_and_worker(app: &TestApp, admin: &str) -> (String, Value) {
    let (status, unit) = app
        .post_json(
            admin,
            "/api/v1/units",
            json!({"kind": "rights_station", "name": "白沙镇第二维权站", "region_code": TOWNSHIP}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{unit}");
    let unit_id = unit["id"].as_str().unwrap_or_default().to_string();
    let (status, user) = app
        .post_json(
            admin,
            "/api/v1/users",
            json!({"username": "bs2.li", "display_name": "李芳", "role": "station_worker", "unit_id": unit_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    (unit_id, user)
}

#[tokio::test]
async fn a_new_user_signs_in_with_the_temporary_password_and_must_change_it() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let (unit_id, user) = station_and_worker(&app, &admin).await;
    assert_eq!(user["must_change_password"], true);
    let temporary = user["temporary_password"].as_str().unwrap_or_default();
    assert_eq!(temporary.len(), 12, "{user}");
    assert!(
        audited(
            &app,
            "user.create",
            &format!("user:{}", user["id"].as_str().unwrap_or_default())
        )
        .await
    );
    assert!(audited(&app, "unit.create", &format!("unit:{unit_id}")).await);
    // The list never shows it again.
    let (_, users) = app.get(&admin, "/api/v1/users").await;
    let listed = items(&users)
        .into_iter()
        .find(|u| u["username"] == "bs2.li")
        .unwrap_or_default();
    assert_eq!(listed["must_change_password"], true);
    assert!(listed.get("temporary_password").is_none(), "{listed}");

    let (status, login) = app.try_login("bs2.li", temporary).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["user"]["must_change_password"], true);
    let token = login["token"].as_str().unwrap_or_default().to_string();
    // Only who-am-I and the password change answer until then.
    let got = app.get(&token, "/api/v1/cases").await;
    assert_error(&got, StatusCode::FORBIDDEN, "password_change_required");
    let (status, me) = app.get(&token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["must_change_password"], true, "{me}");
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/me/password",
            json!({"current_password": temporary, "new_password": "guilin-river-bend-7"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(app.get(&token, "/api/v1/cases").await.0, StatusCode::OK);
    let (_, users) = app.get(&admin, "/api/v1/users").await;
    assert!(items(&users)
        .iter()
        .any(|u| u["username"] == "bs2.li" && u["must_change_password"] == false));

    // Deactivated: the session ends and sign-in is refused.
    let id = user["id"].as_str().unwrap_or_default();
    let (status, _) = app
        .patch_json(
            &admin,
            &format!("/api/v1/users/{id}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get(&token, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let got = app.try_login("bs2.li", "guilin-river-bend-7").await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn a_reset_password_ends_the_sessions_and_is_shown_once() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let worker = app.login("operator").await;
    let id = app.user_id("operator").await;
    let path = format!("/api/v1/users/{id}/reset-password");
    let got = app.post_json(&worker, &path, json!({})).await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let (status, reset) = app.post_json(&admin, &path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    assert_eq!(reset["must_change_password"], true);
    let temporary = reset["temporary_password"].as_str().unwrap_or_default();
    assert_eq!(temporary.len(), 12);
    assert_eq!(
        app.get(&worker, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let got = app.try_login("operator", DEMO_PASSWORD).await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(app.try_login("operator", temporary).await.0, StatusCode::OK);
    assert!(audited(&app, "user.reset_password", &format!("user:{id}")).await);
    // Not one's own (that is /me/password), not a stranger.
    let own = app.user_id("admin").await;
    let got = app
        .post_json(
            &admin,
            &format!("/api/v1/users/{own}/reset-password"),
            json!({}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "cannot_reset_self");
    let got = app
        .post_json(
            &admin,
            "/api/v1/users/00000000-0000-0000-0000-000000000000/reset-password",
            json!({}),
        )
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_admin_sees_a_throttled_account_and_unlocks_it() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    for _ in 0..5 {
        let got = app.try_login("mediator", "not-the-password").await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let got = app.try_login("mediator", DEMO_PASSWORD).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let (status, locks) = app.get(&admin, "/api/v1/admin/lockouts").await;
    assert_eq!(status, StatusCode::OK);
    let lock = items(&locks)
        .into_iter()
        .find(|l| l["username"] == "mediator")
        .unwrap_or_default();
    assert_eq!(lock["locked"], true, "{locks}");
    assert!(lock["failures"].as_u64().unwrap_or_default() >= 5);
    let id = app.user_id("mediator").await;
    let (status, body) = app
        .post_json(&admin, &format!("/api/v1/users/{id}/unlock"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["failures_cleared"].as_u64().unwrap_or_default() >= 5);
    assert_eq!(
        app.try_login("mediator", DEMO_PASSWORD).await.0,
        StatusCode::OK
    );
    assert!(items(&app.get(&admin, "/api/v1/admin/lockouts").await.1).is_empty());
    assert!(audited(&app, "user.unlock", &format!("user:{id}")).await);
}

#[tokio::test]
async fn the_admin_reads_duty_phones_and_the_deadline_clocks() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let operator = app.login("operator").await;
    let unit = app.unit_id("白沙镇妇女维权站").await;
    let (status, _) = app
        .put_json(
            &admin,
            &format!("/api/v1/units/{unit}/duty-phone"),
            json!({"duty_phone": "13912345678"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, phones) = app.get(&admin, "/api/v1/admin/duty-phones").await;
    assert!(items(&phones)
        .iter()
        .any(|p| p["unit_id"] == json!(unit) && p["duty_phone"] == "13912345678"));
    assert!(audited(&app, "unit.duty_phone", &unit.to_string()).await);

    let (status, clocks) = app.get(&admin, "/api/v1/admin/deadline-settings").await;
    assert_eq!(status, StatusCode::OK);
    let seconds = |key: &str| {
        items(&clocks)
            .iter()
            .find(|c| c["key"] == key)
            .and_then(|c| c["seconds"].as_i64())
    };
    assert_eq!(seconds("imminent.acknowledge_s"), Some(300));
    assert_eq!(seconds("accept_normal_s"), Some(86_400));
    assert_eq!(
        seconds("referrals.kinds.legal_aid.reply_s"),
        Some(7 * 86_400)
    );
    for path in [
        "/api/v1/admin/deadline-settings",
        "/api/v1/admin/duty-phones",
        "/api/v1/admin/lockouts",
    ] {
        assert_error(
            &app.get(&operator, path).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
}

#[tokio::test]
async fn a_routing_rule_change_is_audited_and_the_preview_follows() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let preview = "/api/v1/routing/preview?category=domestic_violence&region_code=450321101201";
    assert_eq!(
        app.get(&admin, preview).await.1["unit_kind"],
        "rights_station"
    );
    let (status, _) = app
        .put_json(
            &admin,
            "/api/v1/routing-rules/domestic_violence",
            json!({"unit_kind": "police"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, got) = app.get(&admin, preview).await;
    assert_eq!(got["unit_kind"], "police", "{got}");
    assert!(audited(&app, "routing_rule.set", "routing_rule:domestic_violence").await);
}
