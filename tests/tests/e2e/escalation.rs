//! The safety chain end to end, with a manual clock and a real SMTP server:
//! a high-risk case → level 1 (police station) → no acknowledgement →
//! level 2 (county command) → level 3 (supervisors and hotline centre), the
//! right emails at each step; acknowledgement stops the raising; a restart
//! in the middle loses nothing; case deadlines go overdue.
use std::time::Duration;

use chrono::Duration as Span;
use lianxin_tests::{
    assert_error, smtp::SmtpServer, spawn_app_with, timeline_kinds, StatusCode, TestApp,
    TestOptions,
};
use serde_json::{json, Value};

use crate::common::{self, wait_timeline, YULONG};

async fn app_with_smtp(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(TestOptions::default().settings(move |s| {
        s.smtp.url = url.clone();
        s.smtp.retry_base_s = 1;
    }))
    .await
}

async fn high_risk_case(app: &TestApp) -> Value {
    common::open_case(
        app,
        json!({
            "category": "domestic_violence", "region_code": YULONG,
            "summary": "丈夫持刀威胁", "subject": {"name": "不应出现在邮件里的姓名"},
            "danger_screen": {"in_progress": false, "answers": [true, false, false, false, false, false, false, false, false, false, false], "screener_concern": false}
        }),
    )
    .await
}

fn count(tl: &[Value], event: &str) -> usize {
    common::count(tl, event, |_| true)
}

fn recipients_of(mails: &[lianxin_tests::smtp::Received], level: u32) -> Vec<String> {
    let mut r: Vec<String> = mails
        .iter()
        .filter(|m| m.subject.contains(&format!("level {level},")))
        .map(|m| m.to.clone())
        .collect();
    r.sort();
    r
}

#[tokio::test]
async fn unanswered_escalation_climbs_three_levels_with_email_and_survives_a_restart() {
    let smtp = SmtpServer::start().await;
    let mut app = app_with_smtp(&smtp).await;
    let case = high_risk_case(&app).await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let number = case["number"].as_str().unwrap().to_string();
    assert_eq!(case["escalation"]["level"], 1);
    assert_eq!(
        case["escalation"]["police_unit_id"],
        json!(app.unit_id("白沙派出所").await)
    );

    // Level 1: the police station's address and its liaison.
    let mails = smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(
        recipients_of(&mails, 1),
        ["bs-police@demo.lianxin", "police@demo.lianxin"]
    );
    for m in &mails {
        assert!(m.subject.contains(&number), "{}", m.subject);
        assert!(m.body.contains(&format!("#/case/{case_id}")), "{}", m.body);
        assert!(
            !m.body.contains("不应出现") && !m.body.contains("持刀"),
            "no victim details: {}",
            m.body
        );
        assert!(m.message_id.contains("@lianxin"), "{}", m.message_id);
    }

    // The process goes down; the acknowledgement deadline passes meanwhile.
    app.stop().await;
    app.clock.advance(Span::minutes(15) + Span::seconds(1));
    app.start().await;
    let tl = wait_timeline(&app, &case_id, "level 2", |tl| {
        count(tl, "escalation.raised") >= 2
    })
    .await;
    let raised = tl
        .iter()
        .rfind(|e| e["event"] == "escalation.raised")
        .unwrap();
    assert_eq!(raised["data"]["level"], 2);
    assert_eq!(
        raised["data"]["police_unit_id"],
        json!(app.unit_id("阳朔县公安局指挥中心").await)
    );
    let mails = smtp.wait_for(2 + 4, Duration::from_secs(10)).await;
    // The county command is told, and the station stays informed.
    assert_eq!(
        recipients_of(&mails, 2),
        [
            "bs-police@demo.lianxin",
            "command@demo.lianxin",
            "police@demo.lianxin",
            "ys-command@demo.lianxin"
        ]
    );

    app.clock.advance(Span::minutes(15) + Span::seconds(1));
    let tl = wait_timeline(&app, &case_id, "level 3", |tl| {
        count(tl, "escalation.raised") >= 3
    })
    .await;
    assert_eq!(
        tl.iter()
            .rfind(|e| e["event"] == "escalation.raised")
            .unwrap()["data"]["level"],
        3
    );
    // Level 3: the region's supervisor and the hotline centre, with both
    // police levels kept informed (2 + 4 + 6 messages so far).
    let mails = smtp.wait_for(2 + 4 + 6, Duration::from_secs(10)).await;
    assert_eq!(
        recipients_of(&mails, 3),
        [
            "bs-police@demo.lianxin",
            "command@demo.lianxin",
            "hotline@demo.lianxin",
            "police@demo.lianxin",
            "supervisor@demo.lianxin",
            "ys-command@demo.lianxin"
        ]
    );

    // The county command acknowledges: the raising stops.
    let command = app.login("command").await;
    let esc_id = case["escalation"]["id"].as_str().unwrap().to_string();
    let (status, acked) = app
        .post_json(
            &command,
            &format!("/api/v1/escalations/{esc_id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{acked}");
    assert_eq!(acked["status"], "acknowledged");
    let got = app
        .post_json(
            &command,
            &format!("/api/v1/escalations/{esc_id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
    app.clock.advance(Span::hours(1));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let op = app.login("operator").await;
    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
    let tl = detail["timeline"].as_array().unwrap();
    assert_eq!(
        count(tl, "escalation.raised"),
        3,
        "no raise after the acknowledgement"
    );
    assert_eq!(count(tl, "escalation.acknowledged"), 1);
    // Every mail was delivered exactly once.
    let mails = smtp.messages();
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "no duplicates");
}

#[tokio::test]
async fn police_liaison_acknowledges_acts_and_resolves_and_bad_input_is_refused() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    let case = high_risk_case(&app).await;
    let esc = case["escalation"]["id"].as_str().unwrap().to_string();
    let police = app.login("police").await;
    let url = |a: &str| format!("/api/v1/escalations/{esc}/{a}");

    let (status, board) = app.get(&police, "/api/v1/escalations?status=pending").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(board["items"][0]["id"], json!(esc));
    assert_eq!(board["items"][0]["case_number"], case["number"]);

    // Resolving or acting before acknowledging is refused.
    let got = app
        .post_json(&police, &url("resolve"), json!({"summary": "x"}))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
    let got = app
        .post_json(
            &police,
            &url("actions"),
            json!({"kind": "dispatched", "notes": ""}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
    // A stale version, a wrong role, a liaison of another unit.
    let got = app
        .post_json(&police, &url("acknowledge"), json!({"version": 7}))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "version_conflict");
    let station = app.login("station").await;
    let got = app
        .post_json(&station, &url("acknowledge"), json!({}))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let admin = app.login("admin").await;
    let (status, _) = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({
                "username": "lingchuan", "password": "county-command-pass", "role": "police_liaison",
                "unit_id": app.unit_id("灵川县公安局指挥中心").await
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, login) = app.try_login("lingchuan", "county-command-pass").await;
    let stranger = login["token"].as_str().unwrap().to_string();
    let got = app
        .post_json(&stranger, &url("acknowledge"), json!({}))
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    let got = app
        .get(&stranger, &format!("/api/v1/escalations/{esc}"))
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");

    app.clock.advance(Span::minutes(3));
    let (status, acked) = app
        .post_json(&police, &url("acknowledge"), json!({"version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{acked}");
    assert_eq!(acked["acknowledged_by"], json!(app.user_id("police").await));
    let got = app
        .post_json(
            &police,
            &url("actions"),
            json!({"kind": "teleported", "notes": ""}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "kind");
    let (status, acted) = app
        .post_json(
            &police,
            &url("actions"),
            json!({"kind": "warning_issued", "notes": "出具告诫书"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{acted}");
    assert_eq!(acted["actions"][0]["kind"], "warning_issued");
    let got = app
        .post_json(&police, &url("resolve"), json!({"summary": " "}))
        .await;
    assert_eq!(got.1["error"]["field"], "summary");
    let (status, resolved) = app
        .post_json(&police, &url("resolve"), json!({"summary": "已处置"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resolved["status"], "resolved");

    let op = app.login("operator").await;
    let (_, detail) = app
        .get(
            &op,
            &format!("/api/v1/cases/{}", case["id"].as_str().unwrap()),
        )
        .await;
    let kinds = timeline_kinds(&detail);
    assert_eq!(
        kinds,
        [
            "case.opened",
            "case.assigned",
            "escalation.raised",
            "escalation.acknowledged",
            "escalation.action_recorded",
            "measure.recorded",
            "escalation.resolved"
        ]
    );
    // The median time to acknowledge shows in the supervisor's figures.
    let sup = app.login("supervisor").await;
    let (status, summary) = app.get(&sup, "/api/v1/reports/summary").await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["median_seconds_to_acknowledge"], 180);
    assert_eq!(summary["by_category"]["domestic_violence"], 1);
}

#[tokio::test]
async fn a_hand_escalation_by_a_mediator_and_a_missed_first_action() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    let op = app.login("operator").await;
    let (_, case) = app
        .post_json(&op, "/api/v1/cases", json!({"category": "land_rights", "region_code": YULONG, "summary": "宅基地纠纷", "subject": {}}))
        .await;
    let id = case["id"].as_str().unwrap();
    // The village committee's mediator is not the handler of this case… the
    // village committee is. Give the case to the township committee.
    let (status, _) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{id}/transfer"),
            json!({"unit_id": app.unit_id("白沙镇人民调解委员会").await, "reason": "镇调委会处理"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mediator = app.login("mediator").await;
    let got = app
        .post_json(
            &mediator,
            &format!("/api/v1/cases/{id}/escalations"),
            json!({"urgency": "soon", "reason": "x"}),
        )
        .await;
    assert_eq!(got.1["error"]["field"], "urgency");
    let (status, esc) = app
        .post_json(
            &mediator,
            &format!("/api/v1/cases/{id}/escalations"),
            json!({"urgency": "imminent", "reason": "调解中一方扬言伤人"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{esc}");
    assert_eq!(esc["urgency"], "imminent");
    let got = app
        .post_json(
            &mediator,
            &format!("/api/v1/cases/{id}/escalations"),
            json!({"urgency": "high", "reason": "again"}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "escalation_open");
    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(
        detail["risk_level"], "imminent",
        "the case's risk follows the escalation up"
    );

    // Acknowledged within 5 minutes but no action within 30: deadline.missed.
    let police = app.login("police").await;
    let esc_id = esc["id"].as_str().unwrap();
    let (status, _) = app
        .post_json(
            &police,
            &format!("/api/v1/escalations/{esc_id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(Span::minutes(31));
    let tl = wait_timeline(&app, id, "action deadline", |tl| {
        count(tl, "deadline.missed") >= 1
    })
    .await;
    let missed = tl.iter().find(|e| e["event"] == "deadline.missed").unwrap();
    assert_eq!(missed["data"]["kind"], "escalation_action");
    let (_, overdue) = app.get(&police, "/api/v1/escalations?overdue=true").await;
    assert_eq!(overdue["items"][0]["id"], json!(esc_id));
}

#[tokio::test]
async fn an_unaccepted_case_goes_overdue_and_its_unit_and_supervisor_are_mailed() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    let op = app.login("operator").await;
    let (_, case) = app
        .post_json(&op, "/api/v1/cases", json!({"category": "domestic_violence", "region_code": YULONG, "summary": "求助", "subject": {}, "priority": "urgent"}))
        .await;
    let id = case["id"].as_str().unwrap();
    let station = app.login("station").await;
    let (_, overdue) = app.get(&station, "/api/v1/cases?overdue=true").await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 0);
    app.clock.advance(Span::hours(1) + Span::seconds(1));
    wait_timeline(&app, id, "accept deadline", |tl| {
        count(tl, "deadline.missed") == 1
    })
    .await;
    let (_, overdue) = app.get(&station, "/api/v1/cases?overdue=true").await;
    assert_eq!(overdue["items"][0]["id"], json!(id));
    assert_eq!(overdue["items"][0]["overdue"], true);
    let mails = smtp.wait_for(3, Duration::from_secs(10)).await;
    let mut to: Vec<String> = mails
        .iter()
        .filter(|m| m.subject.contains("accept"))
        .map(|m| m.to.clone())
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            "bs-station@demo.lianxin",
            "station@demo.lianxin",
            "supervisor@demo.lianxin"
        ]
    );
    // Accepting late clears the flag.
    let (status, accepted) = app
        .post_json(&station, &format!("/api/v1/cases/{id}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(accepted["overdue"], false);
}
