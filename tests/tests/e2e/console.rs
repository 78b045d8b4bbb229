//! What the shift console needs from the server (issue 19): the place
//! search with each hit's hierarchy, the routing preview before filing, and
//! codes (not English sentences) for the console to render.
//!
//! Runs on SQLite by default and on PostgreSQL with
//! `LIANXIN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.
use lianxin_tests::{assert_error, spawn_app, StatusCode};
use serde_json::{json, Value};

const VILLAGE: &str = "450321101201"; // 遇龙村委会, 白沙镇

fn codes(items: &Value) -> Vec<&str> {
    items["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["code"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_place_search_finds_villages_first_with_their_hierarchy() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let (status, got) = app.get(&op, "/api/v1/regions?q=遇龙").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(codes(&got), vec![VILLAGE]);
    assert_eq!(
        got["items"][0]["path"],
        json!(["广西壮族自治区", "桂林市", "阳朔县", "白沙镇", "遇龙村委会"])
    );
    // Counties, townships and villages; the village level first.
    let (_, got) = app.get(&op, "/api/v1/regions?q=灵川").await;
    assert_eq!(codes(&got), vec!["450323100000", "450323000000"]);
    // Provinces and cities are not searched; LIKE wildcards match nothing.
    assert!(codes(&app.get(&op, "/api/v1/regions?q=桂林").await.1).is_empty());
    assert!(codes(&app.get(&op, "/api/v1/regions?q=%25").await.1).is_empty());
    // Browsing by parent still works, without paths.
    let (_, kids) = app.get(&op, "/api/v1/regions?parent=450321101000").await;
    assert_eq!(codes(&kids), vec![VILLAGE, "450321101202"]);
    assert!(kids["items"][0].get("path").is_none());
    let long = "村".repeat(41);
    let got = app.get(&op, &format!("/api/v1/regions?q={long}")).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "q");
}

#[tokio::test]
async fn the_routing_preview_says_where_a_case_would_go() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let (status, got) = app
        .get(
            &op,
            &format!("/api/v1/routing/preview?category=domestic_violence&region_code={VILLAGE}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["dispatched"], true);
    assert_eq!(got["unit_name"], "白沙镇妇女维权站");
    assert_eq!(got["unit_kind"], "rights_station");
    assert_eq!(got["level"], 4);
    // 灵川镇 has no station: manual dispatch at the hotline centre.
    let (_, got) = app
        .get(
            &op,
            "/api/v1/routing/preview?category=domestic_violence&region_code=450323100000",
        )
        .await;
    assert_eq!(got["dispatched"], false);
    assert_eq!(got["unit_name"], Value::Null);
    let got = app
        .get(
            &op,
            "/api/v1/routing/preview?category=domestic_violence&region_code=450399999999",
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "region_code");
}

#[tokio::test]
async fn the_routing_event_carries_codes_the_console_renders() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "domestic_violence", "region_code": VILLAGE, "summary": "丈夫酒后打人"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let id = case["id"].as_str().unwrap_or_default();
    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{id}")).await;
    let assigned = detail["timeline"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e["event"] == "case.assigned"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(assigned["data"]["route_level"], 4);
    assert_eq!(assigned["data"]["unit_kind"], "rights_station");
    assert_eq!(assigned["data"]["dispatched"], true);
}
