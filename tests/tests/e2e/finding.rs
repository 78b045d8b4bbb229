//! Finding a case (issue 19, item 11): search by number prefix, subject
//! name and phone in any form (only for those who read numbers unmasked),
//! filters for risk, place, date, overdue, status and unit, and pages that
//! keep their filters.
//!
//! Runs on SQLite by default and on PostgreSQL with
//! `LIANXIN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.
use lianxin_tests::{assert_error, spawn_app, StatusCode, TestApp};
use serde_json::{json, Value};

use super::intake::{case_body, open_case, XIONGCUN, YULONG};

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["number"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn found(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let (status, page) = app.get(token, &format!("/api/v1/cases?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    numbers(&page)
}

/// Three cases: 张秀英 (13812345678, to 白沙镇's station) and 李梅 (a marriage
/// case, to another unit) at 遇龙村,
/// 王芳 (13912345678, high risk) at 熊村 in 灵川县.
async fn three_cases(app: &TestApp) -> [String; 3] {
    let mut a = case_body("domestic_violence", YULONG);
    a["subject"] = json!({"name": "张秀英", "phone": "13812345678"});
    let a = open_case(app, a).await;
    app.clock.advance(chrono::Duration::days(1));
    let mut b = case_body("marriage_family", YULONG);
    b["subject"] = json!({"name": "李梅"});
    b["summary"] = json!("宅基地纠纷");
    let b = open_case(app, b).await;
    app.clock.advance(chrono::Duration::days(1));
    let mut c = case_body("safety_threat", XIONGCUN);
    c["subject"] = json!({"name": "王芳", "phone": "+86 139 1234 5678"});
    let c = open_case(app, c).await;
    [a, b, c].map(|c| c["number"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn the_hotline_finds_a_case_by_name_phone_in_any_form_and_number_prefix() {
    let app = spawn_app().await;
    let [a, b, c] = three_cases(&app).await;
    let op = app.login("operator").await;
    assert_eq!(found(&app, &op, "q=秀英").await, vec![a.clone()]);
    assert_eq!(found(&app, &op, "q=宅基地").await, vec![b.clone()]);
    for phone in [
        "13812345678",
        "138 1234 5678",
        "+86 138-1234-5678",
        "0086 13812345678",
    ] {
        let q = phone.replace('+', "%2B").replace(' ', "%20");
        assert_eq!(
            found(&app, &op, &format!("q={q}")).await,
            vec![a.clone()],
            "{phone}"
        );
    }
    assert_eq!(
        found(&app, &op, "q=139%201234%205678").await,
        vec![c.clone()]
    );
    // A number's beginning finds every case it begins; a whole one, its case.
    assert_eq!(
        found(&app, &op, "q=2026-").await,
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        found(&app, &op, "q=2026-00000").await,
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(found(&app, &op, &format!("q={b}")).await, vec![b.clone()]);
    assert!(found(&app, &op, "q=2025-").await.is_empty());
    // A number nobody has is simply not found.
    assert!(found(&app, &op, "q=13700000000").await.is_empty());
}

#[tokio::test]
async fn roles_that_see_numbers_masked_cannot_probe_them_by_search() {
    let app = spawn_app().await;
    let [a, b, _] = three_cases(&app).await;
    for who in ["supervisor", "admin"] {
        let token = app.login(who).await;
        let got = app.get(&token, "/api/v1/cases?q=13812345678").await;
        assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
        // Names are shown to them, so a name finds the case.
        assert_eq!(
            found(&app, &token, "q=张秀英").await,
            vec![a.clone()],
            "{who}"
        );
    }
    // The handling unit finds its own case by phone...
    let station = app.login("station").await;
    assert_eq!(
        found(&app, &station, "q=138%201234%205678").await,
        vec![a.clone()]
    );
    // ...and not once the case has moved on to another unit: it still
    // lists the case (read-only, numbers masked) but cannot match its number.
    let (_, detail) = app
        .get(&station, "/api/v1/cases?q=%E7%A7%80%E8%8B%B1")
        .await;
    let id = detail["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let legal_aid = app.unit_id("阳朔县法律援助中心").await;
    let (status, moved) = app
        .post_json(
            &station,
            &format!("/api/v1/cases/{id}/transfer"),
            json!({"unit_id": legal_aid, "reason": "需要法律援助"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(found(&app, &station, "q=秀英").await, vec![a.clone()]);
    assert!(found(&app, &station, "q=13812345678").await.is_empty());
    // Another unit's case is not in its list whatever it types (李梅's
    // marriage case went to another unit).
    assert!(found(&app, &station, "q=13912345678").await.is_empty());
    assert!(found(&app, &station, "q=李梅").await.is_empty());
    let op = app.login("operator").await;
    assert_eq!(found(&app, &op, "q=李梅").await, vec![b]);
}

#[tokio::test]
async fn filters_for_risk_place_dates_status_unit_and_overdue_combine() {
    let app = spawn_app().await;
    let [a, b, c] = three_cases(&app).await;
    let op = app.login("operator").await;
    assert_eq!(
        found(&app, &op, "risk=high,imminent").await,
        vec![c.clone()]
    );
    assert_eq!(
        found(&app, &op, "risk=none").await,
        vec![b.clone(), a.clone()]
    );
    // 阳朔县 and 灵川县 by region prefix.
    assert_eq!(
        found(&app, &op, "region_code=450321000000").await,
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        found(&app, &op, "region_code=450323000000").await,
        vec![c.clone()]
    );
    // Dates are Beijing days: the first case was opened on 2026-11-29 at
    // 17:00 Beijing time (09:00 UTC), the others a day and two days later.
    assert_eq!(
        found(&app, &op, "from=2026-11-29&to=2026-11-29").await,
        vec![a.clone()]
    );
    assert_eq!(
        found(&app, &op, "from=2026-11-30").await,
        vec![c.clone(), b.clone()]
    );
    assert_eq!(
        found(&app, &op, "to=2026-11-30").await,
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        found(
            &app,
            &op,
            "from=2026-11-30T08:00:00Z&to=2026-12-01T08:00:00Z"
        )
        .await,
        vec![b.clone()]
    );
    let station = app.unit_id("白沙镇妇女维权站").await;
    assert_eq!(
        found(
            &app,
            &op,
            &format!("unit_id={station}&status=assigned&risk=none")
        )
        .await,
        vec![a.clone()]
    );
    assert!(found(&app, &op, &format!("unit_id={station}&status=new"))
        .await
        .is_empty());
    // Two days on, some accept deadlines were missed: `overdue` lists
    // exactly the cases flagged so. The deadline engine fires them in its
    // own time after the clock moved (on a loaded machine, after the
    // queries above): wait for it, within ten seconds.
    let mut flagged = Vec::new();
    let mut listed = Vec::new();
    for _ in 0..100 {
        let (_, all) = app.get(&op, "/api/v1/cases").await;
        flagged = all["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|c| c["overdue"] == true)
                    .filter_map(|c| c["number"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        listed = found(&app, &op, "overdue=true").await;
        if !flagged.is_empty() && listed == flagged {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        !flagged.is_empty(),
        "the missed accept deadlines were fired"
    );
    assert_eq!(listed, flagged);
    for (query, field) in [
        ("risk=grave", "risk"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-12-02&to=2026-12-01", "from"),
        ("from=1970-01-01", "from"),
    ] {
        let got = app.get(&op, &format!("/api/v1/cases?{query}")).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(got.1["error"]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn pages_beyond_the_first_keep_their_filters() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    for i in 0..7 {
        let region = if i % 2 == 0 { YULONG } else { XIONGCUN };
        let mut body = case_body("domestic_violence", region);
        body["subject"] = json!({"name": format!("陈{i}")});
        open_case(&app, body).await;
        app.clock.advance(chrono::Duration::seconds(1));
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get(
                &op,
                &format!(
                    "/api/v1/cases?q=%E9%99%88&region_code=450321000000&limit=2&cursor={cursor}"
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(numbers(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let expected: Vec<String> = [7, 5, 3, 1]
        .iter()
        .map(|n| format!("2026-{n:06}"))
        .collect();
    assert_eq!(seen, expected, "the 阳朔县 cases only, over two pages");
}
