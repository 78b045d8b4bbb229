//! Editing a person of the ledger (issue 17), end to end on both engines:
//! in a PATCH an absent field is left alone, `null` clears her contact
//! person or the date her husband left, a value sets it; `left_behind`
//! and the screen pop follow, and the audit row says what was cleared.
use lianxin_tests::{assert_error, spawn_app, StatusCode};
use serde_json::{json, Value};

use super::ledger::one_person;

#[tokio::test]
async fn null_clears_her_contact_person_and_the_date_her_husband_left() {
    let app = spawn_app().await;
    let phone = "13812340060";
    let (pid, _) = one_person(&app, "否,否,否,否,否,否", phone, 60).await;
    let station = app.login("station").await;
    let path = format!("/api/v1/ledger/persons/{pid}");
    let director = app.user_id("village").await;

    // Set: her village's women's director, her husband away since 2023.
    let (status, p) = app
        .patch_json(
            &station,
            &path,
            json!({"contact_person_user_id": director, "husband_away_since": "2023-05-01",
                "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["contact_person_user_id"], director.to_string());
    assert_eq!(
        p["contact_person"]["display_name"],
        "遇龙村村委会 妇女主任 蒋秀"
    );
    assert_eq!(p["husband_away_since"], "2023-05-01");
    assert_eq!(p["left_behind"], true, "{p}");

    // Absent: both stay as they are.
    let (status, p) = app
        .patch_json(&station, &path, json!({"in_village": true, "version": 2}))
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["contact_person_user_id"], director.to_string());
    assert_eq!(p["husband_away_since"], "2023-05-01");

    // `null`: both cleared; her husband is back, so she is no longer left behind.
    let (status, p) = app
        .patch_json(
            &station,
            &path,
            json!({"contact_person_user_id": null, "husband_away_since": null, "version": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let (status, got) = app.get(&station, &path).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    for shown in [&p, &got] {
        assert_eq!(shown["contact_person_user_id"], Value::Null, "{shown}");
        assert_eq!(shown["contact_person"], Value::Null, "{shown}");
        assert_eq!(shown["husband_away_since"], Value::Null, "{shown}");
        assert_eq!(shown["left_behind"], false, "{shown}");
        assert_eq!(shown["version"], 4, "{shown}");
    }
    // The operator's screen pop no longer names a contact person.
    let op = app.login("operator").await;
    let (status, pop) = app.get(&op, &format!("/api/v1/callers/{phone}")).await;
    assert_eq!(status, StatusCode::OK, "{pop}");
    assert_eq!(pop["ledger"]["person_id"], pid.as_str(), "{pop}");
    assert_eq!(pop["ledger"]["contact_person"], Value::Null, "{pop}");
    assert_eq!(pop["ledger"]["left_behind"], false, "{pop}");

    // Each change is audited; the clearing one says what it cleared.
    let target = format!("ledger_person:{pid}");
    let audit = app.audit_log().await;
    let update = |version: i64| {
        audit
            .iter()
            .find(|a| {
                a.action == "ledger.update" && a.target == target && a.detail["version"] == version
            })
            .map(|a| a.detail["cleared"].clone())
    };
    assert_eq!(update(2), Some(json!([])));
    assert_eq!(update(3), Some(json!([])));
    assert_eq!(
        update(4),
        Some(json!(["husband_away_since", "contact_person_user_id"]))
    );

    // Set again after a clear; a value that is not a date or a user is
    // refused on its field and changes nothing.
    let (status, p) = app
        .patch_json(
            &station,
            &path,
            json!({"husband_away_since": "2025-01-01", "version": 4}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["husband_away_since"], "2025-01-01");
    for (field, bad) in [
        ("husband_away_since", json!("2025-13-01")),
        ("contact_person_user_id", json!(7)),
    ] {
        let refused = app
            .patch_json(&station, &path, json!({field: bad, "version": 5}))
            .await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(refused.1["error"]["field"], field, "{}", refused.1);
    }
    let (_, got) = app.get(&station, &path).await;
    assert_eq!(got["version"], 5, "{got}");
}
