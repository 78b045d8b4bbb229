//! Issue 12, security hardening: every item has a test here that failed
//! before its fix. End to end against a real server and database; runs on
//! SQLite by default and on PostgreSQL with
//! `LIANXIN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.
use std::time::{Duration, Instant};

use lianxin_tests::{
    assert_error, live_closed_within, spawn_app, spawn_app_with, StatusCode, TestApp,
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
