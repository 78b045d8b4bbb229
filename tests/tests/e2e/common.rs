//! What several modules' tests share: the demo village, opening a case as
//! the operator, the station accepting it, and waiting on a timeline.
use std::time::Duration;

use lianxin_tests::{StatusCode, TestApp};
use serde_json::{json, Value};

/// 遇龙村, 白沙镇, 阳朔县: the demo station's township.
pub const YULONG: &str = "450321101201";

/// The operator opens a case with `body`; it must be created.
pub async fn open_case(app: &TestApp, body: Value) -> Value {
    let op = app.login("operator").await;
    let (status, case) = app.post_json(&op, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case
}

/// `user` (of the handling unit) accepts the case; it must succeed.
pub async fn accept(app: &TestApp, user: &str, case_id: &str) -> Value {
    let token = app.login(user).await;
    let path = format!("/api/v1/cases/{case_id}/accept");
    let (status, v) = app.post_json(&token, &path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// Wait (real time, up to 10 s) until the case timeline satisfies `pred`.
pub async fn wait_timeline(
    app: &TestApp,
    case_id: &str,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let op = app.login("operator").await;
    for _ in 0..200 {
        let (_, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
        let tl = detail["timeline"].as_array().cloned().unwrap_or_default();
        if pred(&tl) {
            return tl;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// How many `event`s of the timeline have data satisfying `pred`.
pub fn count(tl: &[Value], event: &str, pred: impl Fn(&Value) -> bool) -> usize {
    tl.iter()
        .filter(|e| e["event"] == event && pred(&e["data"]))
        .count()
}
