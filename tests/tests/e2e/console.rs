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

#[tokio::test]
async fn a_supervisor_urges_the_unit_audited_with_a_mail_and_reassigns() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let (_, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "domestic_violence", "region_code": VILLAGE, "summary": "多次被打"}),
        )
        .await;
    let id = case["id"].as_str().unwrap_or_default().to_string();
    let sup = app.login("supervisor").await;
    let url = format!("/api/v1/cases/{id}/urge");
    // Only supervisors urge; an empty opinion names its field.
    let got = app
        .post_json(&op, &url, json!({"opinion": "请今日内签收"}))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = app.post_json(&sup, &url, json!({"opinion": " "})).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "opinion");
    let (status, after) = app
        .post_json(&sup, &url, json!({"opinion": "请今日内签收并联系当事人"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let (_, detail) = app.get(&sup, &format!("/api/v1/cases/{id}")).await;
    let urged = detail["timeline"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e["event"] == "case.urged"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(urged["data"]["opinion"], "请今日内签收并联系当事人");
    assert_eq!(urged["data"]["unit_name"], "白沙镇妇女维权站");
    let audit = app.audit_log().await;
    assert!(audit.iter().any(|a| a.action == "case.urge"), "audited");
    // The 【督办】 mail to the unit, without the opinion (it may hold her story).
    let outbox = app
        .get(&app.login("admin").await, "/api/v1/admin/outbox")
        .await
        .1;
    let mails: Vec<&Value> = outbox["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| m["subject"].as_str().unwrap_or("").starts_with("【督办】"))
                .collect()
        })
        .unwrap_or_default();
    assert!(!mails.is_empty(), "{outbox}");
    assert!(
        mails
            .iter()
            .any(|m| m["recipient"] == "bs-station@demo.lianxin"),
        "{mails:?}"
    );
    // Reassign: the supervisor routes the case to another unit.
    let other = app.unit_id("福利镇妇女维权站").await;
    let (status, moved) = app
        .post_json(
            &sup,
            &format!("/api/v1/cases/{id}/transfer"),
            json!({"unit_id": other, "reason": "白沙镇站长期未签收，改由福利镇站办理"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["assigned_unit_id"], json!(other));
}

#[tokio::test]
async fn a_deadline_met_counts_as_on_time_at_once() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let (_, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "domestic_violence", "region_code": VILLAGE, "summary": "被打"}),
        )
        .await;
    let id = case["id"].as_str().unwrap_or_default().to_string();
    let sup = app.login("supervisor").await;
    let day = |d: i64| {
        (app.now() + chrono::Duration::days(d))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let summary = format!("/api/v1/reports/summary?from={}&to={}", day(-1), day(1));
    let (_, before) = app.get(&sup, &summary).await;
    assert_eq!(before["deadlines"]["met"], 0, "{before}");
    let station = app.login("station").await;
    let (status, got) = app
        .post_json(&station, &format!("/api/v1/cases/{id}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    // Accepted long before its accept deadline: on time now, not when the
    // deadline's hour comes.
    let (_, after) = app.get(&sup, &summary).await;
    assert_eq!(after["deadlines"]["met"], 1, "{after}");
    assert_eq!(after["deadlines"]["share_met"], 1.0);
}

/// Where to go (item 17): the address or landmark taken at intake is on
/// the case for the hotline and for the police unit the escalation went
/// to, at most 200 characters, and never in the timeline (events reach
/// feeds and mail carries no address).
#[tokio::test]
async fn the_place_note_says_where_to_go_to_the_case_and_the_police() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let note = "遇龙桥往东第三家，门口有棵桂花树";
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "safety_threat", "region_code": VILLAGE, "summary": "前夫扬言报复",
                   "place_note": note}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    assert_eq!(case["place_note"], note);
    let id = case["id"].as_str().unwrap_or_default().to_string();
    let police = app.login("police").await;
    let (status, seen) = app.get(&police, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(
        seen["place_note"], note,
        "the police unit reads where to go"
    );
    assert!(
        !seen["timeline"].to_string().contains("桂花树"),
        "no address in events"
    );
    let long = "路".repeat(201);
    let got = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "other", "region_code": VILLAGE, "summary": "x", "place_note": long}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "place_note");
    // Optional: a case without one says so with null.
    let (_, plain) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "other", "region_code": VILLAGE, "summary": "咨询"}),
        )
        .await;
    assert!(plain["place_note"].is_null(), "{plain}");
}
