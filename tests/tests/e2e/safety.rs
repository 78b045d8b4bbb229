//! The safety path as a hotline works it (issue 11), end to end on the
//! real database, a real SMTP server and the manual clock: every threat
//! reaches the police, a raised risk opens or tightens the escalation, the
//! parties' confirmation window is no missed deadline of ours, the danger
//! screen's notes are kept and never mailed or fed, a case nobody covers
//! must be dispatched, missed case deadlines repeat and climb, calls from
//! withheld numbers are logged, the screen pop is scoped and audited, and
//! a case with an open escalation closes only with a stated reason.
use std::time::Duration;

use chrono::Duration as Span;
use lianxin::db::entities::{case_event, deadline, mail};
use lianxin_tests::{
    assert_error, smtp::SmtpServer, spawn_app, spawn_app_with, StatusCode, TestApp, TestOptions,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

/// 遇龙村 (白沙镇, 阳朔县): 白沙派出所 is its police, 白沙镇妇女维权站 its station.
const YULONG: &str = "450321101201";
/// 大巷村 (长安镇, 融安县): no mediation committee covers it.
const DAXIANG: &str = "450224100201";
const WAIT: Duration = Duration::from_secs(10);

async fn app_with_smtp(smtp: &SmtpServer) -> TestApp {
    let url = smtp.url();
    spawn_app_with(TestOptions::default().settings(move |s| {
        s.smtp.url = url.clone();
        s.smtp.retry_base_s = 1;
    }))
    .await
}

fn answers(yes: &[usize]) -> Vec<bool> {
    (1..=11).map(|i| yes.contains(&i)).collect()
}

async fn open_case(app: &TestApp, body: Value) -> Value {
    let op = app.login("operator").await;
    let (status, case) = app.post_json(&op, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case
}

async fn detail(app: &TestApp, id: &str) -> Value {
    let op = app.login("operator").await;
    let (status, d) = app.get(&op, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    d
}

fn events<'a>(d: &'a Value, kind: &str) -> Vec<&'a Value> {
    d["timeline"]
        .as_array()
        .map(|t| t.iter().filter(|e| e["event"] == kind).collect())
        .unwrap_or_default()
}

/// Wait (real time) until the case's timeline has `n` events of `kind`;
/// the detail read after that (the case row and its timeline are two reads,
/// so the one that saw the event may hold the row from before its commit).
async fn wait_events(app: &TestApp, id: &str, kind: &str, n: usize) -> Value {
    let started = std::time::Instant::now();
    loop {
        let d = detail(app, id).await;
        if events(&d, kind).len() >= n {
            return detail(app, id).await;
        }
        assert!(
            started.elapsed() < WAIT,
            "timed out waiting for {n} × {kind}: {:?}",
            lianxin_tests::timeline_kinds(&d)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Let the engine run (real time) and make sure nothing of `kind` came.
async fn settle(app: &TestApp, id: &str, kind: &str, n: usize) {
    tokio::time::sleep(Duration::from_millis(700)).await;
    let d = detail(app, id).await;
    assert_eq!(
        events(&d, kind).len(),
        n,
        "{kind}: {:?}",
        lianxin_tests::timeline_kinds(&d)
    );
}

async fn pending_kinds(app: &TestApp, id: &str) -> Vec<String> {
    let id: Uuid = id.parse().unwrap();
    let mut kinds: Vec<String> = deadline::Entity::find()
        .filter(deadline::Column::SubjectId.eq(id))
        .filter(deadline::Column::FiredAt.is_null())
        .filter(deadline::Column::CancelledAt.is_null())
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.kind)
        .collect();
    kinds.sort();
    kinds
}

fn to_of(mails: &[lianxin_tests::smtp::Received], subject_has: &str) -> Vec<String> {
    let mut to: Vec<String> = mails
        .iter()
        .filter(|m| m.subject.contains(subject_has))
        .map(|m| m.to.clone())
        .collect();
    to.sort();
    to.dedup();
    to
}

/// Wait (real time) until a mail about case `number` whose subject names
/// `what` has reached `who`; all recipients of such mails so far.
async fn wait_mail_to(smtp: &SmtpServer, number: &str, what: &str, who: &str) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let mut to: Vec<String> = smtp
            .messages()
            .into_iter()
            .filter(|m| m.subject.contains(number) && m.subject.contains(what))
            .map(|m| m.to)
            .collect();
        to.sort();
        to.dedup();
        if to.iter().any(|t| t == who) {
            return to;
        }
        assert!(
            started.elapsed() < WAIT,
            "no {what} mail for {number} reached {who}; recipients so far: {to:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ------------------------------------------------------------------ 1

#[tokio::test]
async fn a_safety_threat_case_always_reaches_the_police() {
    let app = spawn_app().await;
    // A relative reports a threat: the screen says only `elevated`.
    let case = open_case(
        &app,
        json!({
            "category": "safety_threat", "region_code": YULONG, "summary": "她哥哥来电：前夫扬言报复",
            "danger_screen": {"in_progress": false, "answers": answers(&[5]), "screener_concern": false}
        }),
    )
    .await;
    let esc = &case["escalation"];
    assert_eq!(esc["urgency"], "high", "{case}");
    assert_eq!(esc["status"], "pending");
    assert_eq!(
        esc["police_unit_id"],
        json!(app.unit_id("白沙派出所").await)
    );
    assert_eq!(case["risk_level"], "high");
    let d = detail(&app, case["id"].as_str().unwrap()).await;
    assert_eq!(events(&d, "escalation.raised").len(), 1);

    // No screen at all: still the police, at `high`.
    let case = open_case(
        &app,
        json!({"category": "safety_threat", "region_code": YULONG, "summary": "邻居报告：有人持械威胁"}),
    )
    .await;
    assert_eq!(case["escalation"]["urgency"], "high", "{case}");

    // A screen that says `imminent` keeps the stricter clocks.
    let case = open_case(
        &app,
        json!({
            "category": "safety_threat", "region_code": YULONG, "summary": "正在发生",
            "danger_screen": {"in_progress": true, "answers": answers(&[]), "screener_concern": false}
        }),
    )
    .await;
    assert_eq!(case["escalation"]["urgency"], "imminent", "{case}");

    // The police liaison sees them on the board.
    let police = app.login("police").await;
    let (_, list) = app.get(&police, "/api/v1/escalations?status=pending").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");
}

// ------------------------------------------------------------------ 2

#[tokio::test]
async fn raising_the_risk_opens_the_escalation_and_then_tightens_its_clocks() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    let case = open_case(
        &app,
        json!({"category": "domestic_violence", "region_code": YULONG, "summary": "长期冷暴力"}),
    )
    .await;
    let id = case["id"].as_str().unwrap();
    assert!(case["escalation"].is_null());
    let station = app.login("station").await;
    let risk = |level: &'static str| {
        let station = station.clone();
        let app = &app;
        async move {
            app.post_json(
                &station,
                &format!("/api/v1/cases/{id}/risk"),
                json!({"risk_level": level, "reason": "她说丈夫买了刀"}),
            )
            .await
        }
    };
    let (status, raised) = risk("high").await;
    assert_eq!(status, StatusCode::OK, "{raised}");
    let esc = &raised["escalation"];
    assert_eq!(esc["urgency"], "high", "{raised}");
    assert_eq!(
        esc["police_unit_id"],
        json!(app.unit_id("白沙派出所").await)
    );
    let now = app.now();
    let due = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    assert_eq!(due(&esc["ack_due_at"]), now + Span::minutes(15));
    assert_eq!(
        raised["priority"], "high",
        "the priority follows the risk up"
    );
    let d = detail(&app, id).await;
    assert_eq!(events(&d, "case.risk_raised").len(), 1);
    assert_eq!(events(&d, "escalation.raised").len(), 1);
    smtp.wait_for(1, WAIT).await;
    assert!(to_of(&smtp.messages(), "Safety escalation").contains(&"bs-police@demo.lianxin".into()));

    // Two minutes on, it becomes imminent: the open escalation moves to the
    // five-minute clock, counted from now.
    app.clock.advance(Span::minutes(2));
    let (status, raised) = risk("imminent").await;
    assert_eq!(status, StatusCode::OK, "{raised}");
    let esc = &raised["escalation"];
    let now = app.now();
    assert_eq!(esc["urgency"], "imminent", "{raised}");
    assert_eq!(due(&esc["ack_due_at"]), now + Span::minutes(5));
    assert_eq!(due(&esc["next_raise_at"]), now + Span::minutes(5));
    assert_eq!(due(&esc["action_due_at"]), now + Span::minutes(30));
    let d = detail(&app, id).await;
    let moved = events(&d, "escalation.urgency_raised");
    assert_eq!(moved.len(), 1, "{:?}", lianxin_tests::timeline_kinds(&d));
    assert_eq!(moved[0]["data"]["from"], "high");
    assert_eq!(moved[0]["data"]["to"], "imminent");

    // The stricter clock is the one that fires: five minutes, not fifteen.
    app.clock.advance(Span::minutes(5) + Span::seconds(1));
    let d = wait_events(&app, id, "escalation.raised", 2).await;
    assert_eq!(d["escalation"]["level"], 2, "{}", d["escalation"]);

    // Lowering is refused.
    let got = risk("high").await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
}

// ------------------------------------------------------------------ 3

/// A land dispute in 遇龙村 handed to 白沙镇人民调解委员会 and worked by its
/// mediator up to an agreement.
async fn agreement_case(app: &TestApp) -> String {
    let op = app.login("operator").await;
    let case = open_case(
        app,
        json!({"category": "land_rights", "region_code": YULONG, "summary": "承包地纠纷"}),
    )
    .await;
    let id = case["id"].as_str().unwrap().to_string();
    let (status, _) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{id}/transfer"),
            json!({"unit_id": app.unit_id("白沙镇人民调解委员会").await, "reason": "镇调委会处理"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mediator = app.login("mediator").await;
    let (status, _) = app
        .post_json(&mediator, &format!("/api/v1/cases/{id}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, c) = app
        .post_json(
            &mediator,
            &format!("/api/v1/cases/{id}/outcome"),
            json!({"result": "agreement", "details": "双方达成调解协议"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    id
}

#[tokio::test]
async fn the_confirmation_window_belongs_to_the_parties() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    let mediator = app.login("mediator").await;
    let id = agreement_case(&app).await;
    let (status, closed) = app
        .post_json(
            &mediator,
            &format!("/api/v1/cases/{id}/close"),
            json!({"follow_up": "回访：双方履行中"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    // Closing stopped every clock of ours; the parties' window runs on.
    assert_eq!(
        pending_kinds(&app, &id).await,
        ["case.confirmation", "case.confirmation_reminder"]
    );

    // Day 20: the mediator is reminded to advise the parties.
    app.clock.advance(Span::days(20) + Span::seconds(1));
    let d = wait_events(&app, &id, "mediation.confirmation_reminder", 1).await;
    assert_eq!(d["overdue"], false);
    let number = closed["number"].as_str().unwrap().to_string();
    wait_mail_to(
        &smtp,
        &number,
        "judicial confirmation",
        "mediator@demo.lianxin",
    )
    .await;
    let reminded = wait_mail_to(
        &smtp,
        &number,
        "judicial confirmation",
        "bs-mediation@demo.lianxin",
    )
    .await;
    assert!(
        reminded.contains(&"bs-mediation@demo.lianxin".to_string()),
        "{reminded:?}"
    );
    assert!(!reminded.contains(&"supervisor@demo.lianxin".to_string()));

    // Day 30: the window closes. No missed deadline, no overdue, no mail
    // about the case (the daily digest goes on).
    let about_case = || {
        smtp.messages()
            .into_iter()
            .filter(|m| m.subject.contains(&number))
            .count()
    };
    let before = about_case();
    app.clock.advance(Span::days(10));
    let d = wait_events(&app, &id, "mediation.confirmation_window_closed", 1).await;
    assert!(
        events(&d, "deadline.missed").is_empty(),
        "{:?}",
        lianxin_tests::timeline_kinds(&d)
    );
    assert_eq!(d["overdue"], false);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(about_case(), before, "the window's close mails nobody");
    let supervisor = app.login("supervisor").await;
    let (status, summary) = app.get(&supervisor, "/api/v1/reports/summary").await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let kinds = summary["deadlines_by_kind"].as_object().unwrap();
    assert!(!kinds.contains_key("case.confirmation"), "{summary}");
    assert!(
        !kinds.contains_key("case.confirmation_reminder"),
        "{summary}"
    );
}

#[tokio::test]
async fn the_mediator_records_the_parties_confirmation_and_the_reminder_stops() {
    let app = spawn_app().await;
    let mediator = app.login("mediator").await;
    let id = agreement_case(&app).await;
    let path = format!("/api/v1/cases/{id}/confirmation");
    let got = app
        .post_json(
            &mediator,
            &path,
            json!({"status": "maybe", "date": "2026-11-29"}),
        )
        .await;
    assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(got.1["error"]["field"], "status");
    let station = app.login("station").await;
    let got = app
        .post_json(
            &station,
            &path,
            json!({"status": "applied", "date": "2026-11-29"}),
        )
        .await;
    assert_eq!(got.0, StatusCode::NOT_FOUND, "not the station's case");
    let (status, c) = app
        .post_json(
            &mediator,
            &path,
            json!({"status": "applied", "court": "阳朔县人民法院", "date": "2026-11-29"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["confirmation"]["status"], "applied");
    assert_eq!(c["confirmation"]["court"], "阳朔县人民法院");
    assert!(pending_kinds(&app, &id)
        .await
        .iter()
        .all(|k| !k.starts_with("case.confirmation")));
    app.clock.advance(Span::days(31));
    settle(&app, &id, "mediation.confirmation_reminder", 0).await;
    settle(&app, &id, "mediation.confirmation_window_closed", 0).await;
    let d = detail(&app, &id).await;
    assert_eq!(events(&d, "mediation.confirmation_recorded").len(), 1);

    // A case without an agreement has no confirmation to record.
    let station = app.login("station").await;
    let other = open_case(
        &app,
        json!({"category": "domestic_violence", "region_code": YULONG, "summary": "求助"}),
    )
    .await;
    let got = app
        .post_json(
            &station,
            &format!(
                "/api/v1/cases/{}/confirmation",
                other["id"].as_str().unwrap()
            ),
            json!({"status": "applied", "date": "2026-11-29"}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
}

// ------------------------------------------------------------------ 4

#[tokio::test]
async fn the_danger_screen_is_kept_whole_but_never_mailed_or_fed() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    let secret = "他说今晚回来就杀了我";
    let case = open_case(
        &app,
        json!({
            "category": "domestic_violence", "region_code": YULONG, "summary": "家暴求助",
            "danger_screen": {"in_progress": false, "answers": answers(&[1, 6]), "screener_concern": true, "notes": secret}
        }),
    )
    .await;
    let id = case["id"].as_str().unwrap();
    let d = detail(&app, id).await;
    let screen = &d["danger_screen"];
    assert_eq!(screen["notes"], secret, "{d}");
    assert_eq!(screen["answers"], json!(answers(&[1, 6])));
    assert_eq!(screen["screener_concern"], true);
    assert_eq!(screen["in_progress"], false);
    assert_eq!(screen["screened_by"], json!(app.user_id("operator").await));
    assert!(screen["screened_at"].is_string());
    // The handling station reads it too; a unit that never had the case does not.
    let station = app.login("station").await;
    let (_, sd) = app.get(&station, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(sd["danger_screen"]["notes"], secret);
    let legal = app.login("legalaid").await;
    let (status, _) = app.get(&legal, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Lists carry no screen.
    let op = app.login("operator").await;
    let (_, list) = app.get(&op, "/api/v1/cases").await;
    assert!(list["items"][0].get("danger_screen").is_none());
    // Neither the feed's events nor any mail holds the notes.
    smtp.wait_for(1, WAIT).await;
    let db = &app.state.db.conn;
    let events = case_event::Entity::find().all(db).await.unwrap();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| !e.data.to_string().contains(secret)));
    let mails = mail::Entity::find().all(db).await.unwrap();
    assert!(!mails.is_empty());
    assert!(mails
        .iter()
        .all(|m| !m.body.contains(secret) && !m.subject.contains(secret)));
    // Too long a note is refused with its field.
    let got = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({
                "category": "domestic_violence", "region_code": YULONG, "summary": "x",
                "danger_screen": {"in_progress": false, "answers": answers(&[]), "screener_concern": false, "notes": "长".repeat(4001)}
            }),
        )
        .await;
    assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(got.1["error"]["field"], "danger_screen.notes");
}

// ------------------------------------------------------------------ 5

#[tokio::test]
async fn a_case_nobody_covers_must_be_dispatched() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    // Nobody mediates in 大巷村: the case stays new at the hotline centre.
    let case = open_case(
        &app,
        json!({"category": "marriage_family", "region_code": DAXIANG, "summary": "婚姻纠纷", "priority": "urgent"}),
    )
    .await;
    let id = case["id"].as_str().unwrap();
    assert_eq!(case["status"], "new");
    let due: chrono::DateTime<chrono::Utc> = case["deadlines"]["dispatch_due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(due, app.now() + Span::minutes(15), "urgent: 15 minutes");
    app.clock.advance(Span::minutes(15) + Span::seconds(1));
    let d = wait_events(&app, id, "deadline.missed", 1).await;
    assert_eq!(events(&d, "deadline.missed")[0]["data"]["kind"], "dispatch");
    assert_eq!(d["overdue"], true, "{d}");
    let number = case["number"].as_str().unwrap();
    wait_mail_to(&smtp, number, "dispatch", "hotline@demo.lianxin").await;
    wait_mail_to(&smtp, number, "dispatch", "operator@demo.lianxin").await;

    // Dispatched by hand: the clock stops.
    let op = app.login("operator").await;
    let (status, _) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{id}/transfer"),
            json!({"unit_id": app.unit_id("长安镇妇女维权站").await, "reason": "请维权站先接"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!pending_kinds(&app, id)
        .await
        .iter()
        .any(|k| k.starts_with("case.dispatch")));

    // A declined case is back at the hotline with a one-hour clock, and its
    // miss also reaches the region's supervisors.
    let case = open_case(
        &app,
        json!({"category": "domestic_violence", "region_code": YULONG, "summary": "求助"}),
    )
    .await;
    let id = case["id"].as_str().unwrap();
    let station = app.login("station").await;
    let (status, declined) = app
        .post_json(
            &station,
            &format!("/api/v1/cases/{id}/decline"),
            json!({"reason": "不属本站辖区"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!(declined["status"], "new");
    let number = case["number"].as_str().unwrap();
    app.clock.advance(Span::hours(1) + Span::seconds(1));
    let d = wait_events(&app, id, "deadline.missed", 1).await;
    assert_eq!(events(&d, "deadline.missed")[0]["data"]["kind"], "dispatch");
    wait_mail_to(&smtp, number, "dispatch", "supervisor@demo.lianxin").await;
    wait_mail_to(&smtp, number, "dispatch", "hotline@demo.lianxin").await;
}

// ------------------------------------------------------------------ 6

#[tokio::test]
async fn missed_case_deadlines_repeat_and_climb_until_the_case_moves_on() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    // A supervisor at the province, one level above the county's.
    let admin = app.login("admin").await;
    let (status, u) = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({
                "username": "prov-supervisor", "display_name": "自治区妇联 督办",
                "password": "a-long-enough-passphrase-9", "role": "supervisor",
                "unit_id": app.unit_id("自治区妇联").await, "email": "prov-supervisor@demo.lianxin"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{u}");
    let case = open_case(
        &app,
        json!({"category": "domestic_violence", "region_code": YULONG, "summary": "求助", "priority": "urgent"}),
    )
    .await;
    let id = case["id"].as_str().unwrap();

    // First miss: the station and the county supervisor.
    app.clock.advance(Span::hours(1) + Span::seconds(1));
    let d = wait_events(&app, id, "deadline.missed", 1).await;
    let first = events(&d, "deadline.missed")[0].clone();
    assert_eq!(first["data"]["kind"], "accept");
    assert_eq!(first["data"]["miss"], 1);
    assert!(first["data"]["next_reminder_at"].is_string());
    let number = case["number"].as_str().unwrap();
    wait_mail_to(&smtp, number, "accept", "supervisor@demo.lianxin").await;
    wait_mail_to(&smtp, number, "accept", "bs-station@demo.lianxin").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let to_after_first = to_of(&smtp.messages(), number);
    assert!(
        !to_after_first.contains(&"prov-supervisor@demo.lianxin".to_string()),
        "{to_after_first:?}"
    );

    // A day later, still not accepted: again, and one level up.
    app.clock.advance(Span::hours(24));
    let d = wait_events(&app, id, "deadline.missed", 2).await;
    assert_eq!(events(&d, "deadline.missed")[1]["data"]["miss"], 2);
    wait_mail_to(&smtp, number, "accept", "prov-supervisor@demo.lianxin").await;

    // Accepted: the reminders stop.
    let station = app.login("station").await;
    let (status, _) = app
        .post_json(&station, &format!("/api/v1/cases/{id}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(Span::hours(25));
    settle(&app, id, "deadline.missed", 2).await;
    // The figures count the first miss only.
    let supervisor = app.login("supervisor").await;
    let (_, summary) = app.get(&supervisor, "/api/v1/reports/summary").await;
    assert_eq!(
        summary["deadlines_by_kind"]["case.accept"]["missed"], 1,
        "{summary}"
    );
    assert!(summary["deadlines_by_kind"]
        .get("case.accept.remind")
        .is_none());
}

// ------------------------------------------------------------------ 7

#[tokio::test]
async fn calls_from_withheld_foreign_or_garbled_numbers_are_logged() {
    let app = spawn_app_with(
        TestOptions::default().settings(|s| s.cti.secret = "exchange-secret".into()),
    )
    .await;
    let op = app.login("operator").await;
    for raw in ["anonymous", "withheld", "+44 20 7946 0958", "", "13-8"] {
        let (status, call) = app
            .post_json(
                &op,
                "/api/v1/calls",
                json!({"caller_phone": raw, "channel": "hotline"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{raw:?}: {call}");
        assert!(call["caller_phone"].is_null(), "{call}");
        assert_eq!(call["caller_phone_raw"], raw);
    }
    let (status, call) = app
        .post_json(
            &op,
            "/api/v1/calls",
            json!({"caller_phone": "+86 138 0000 1111", "channel": "hotline"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(call["caller_phone"], "13800001111");
    assert_eq!(call["caller_phone_raw"], "+86 138 0000 1111");
    // A case opened from a withheld call.
    let (status, anon) = app
        .post_json(
            &op,
            "/api/v1/calls",
            json!({"caller_phone": "anonymous", "channel": "hotline"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let case = open_case(
        &app,
        json!({"call_id": anon["id"], "category": "domestic_violence", "region_code": YULONG, "summary": "匿名来电求助"}),
    )
    .await;
    assert!(case["subject"]["phone"].is_null());
    // Its screen pop shows no history.
    let (status, pop) = app.get(&op, "/api/v1/callers/anonymous").await;
    assert_eq!(status, StatusCode::OK, "{pop}");
    assert!(pop["phone"].is_null());
    assert_eq!(pop["calls"], json!([]));
    assert_eq!(pop["cases"], json!([]));

    // The exchange answers a withheld call: it is logged too.
    let (status, answered) = app
        .send(
            app.client
                .post(app.url("/api/v1/cti/events"))
                .header("X-CTI-Secret", "exchange-secret")
                .json(&json!({"event": "answered", "call_ref": "w-1", "from": "withheld", "operator": "operator"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answered}");
    let call_id: Uuid = answered["call_id"].as_str().unwrap().parse().unwrap();
    let row = lianxin::db::entities::call::Entity::find_by_id(call_id)
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.phone, None);
    assert_eq!(row.phone_raw.as_deref(), Some("withheld"));
}

// ------------------------------------------------------------------ 8

#[tokio::test]
async fn the_screen_pop_shows_only_cases_in_scope_and_is_audited() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let phone = "13977776666";
    // One case in 阳朔县 (the supervisor's county), one in 融安县.
    for place in [YULONG, DAXIANG] {
        let (_, call) = app
            .post_json(
                &op,
                "/api/v1/calls",
                json!({"caller_phone": phone, "channel": "hotline"}),
            )
            .await;
        open_case(
            &app,
            json!({"call_id": call["id"], "category": "domestic_violence", "region_code": place, "summary": format!("在{place}的求助")}),
        )
        .await;
    }
    let (status, all) = app.get(&op, &format!("/api/v1/callers/{phone}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        all["cases"].as_array().unwrap().len(),
        2,
        "the hotline sees all"
    );
    assert_eq!(all["calls"].as_array().unwrap().len(), 2);

    let supervisor = app.login("supervisor").await;
    let (status, mine) = app
        .get(&supervisor, &format!("/api/v1/callers/{phone}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let cases = mine["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{mine}");
    assert!(cases[0]["summary"].as_str().unwrap().contains(YULONG));
    assert_eq!(
        mine["calls"].as_array().unwrap().len(),
        1,
        "only the call of the case in scope"
    );
    // …and the case it shows is one the supervisor may open.
    let (status, _) = app
        .get(
            &supervisor,
            &format!("/api/v1/cases/{}", cases[0]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let lookups: Vec<_> = app
        .audit_log()
        .await
        .into_iter()
        .filter(|a| a.action == "caller.lookup")
        .collect();
    assert_eq!(lookups.len(), 2);
    let sup_id = app.user_id("supervisor").await;
    let sup = lookups
        .iter()
        .find(|a| a.actor_id == Some(sup_id))
        .expect("the supervisor's look-up is audited");
    assert_eq!(sup.detail["phone"], "139****6666");
    assert_eq!(sup.detail["cases"], 1);
    assert!(!sup.target.contains(phone) && !sup.detail.to_string().contains(phone));
}

// ------------------------------------------------------------------ 9

#[tokio::test]
async fn a_case_with_an_open_escalation_closes_only_with_a_stated_reason() {
    let app = spawn_app().await;
    let case = open_case(
        &app,
        json!({
            "category": "domestic_violence", "region_code": YULONG, "summary": "丈夫威胁",
            "danger_screen": {"in_progress": false, "answers": answers(&[2]), "screener_concern": false}
        }),
    )
    .await;
    let id = case["id"].as_str().unwrap();
    let station = app.login("station").await;
    let url = |a: &str| format!("/api/v1/cases/{id}/{a}");
    assert_eq!(
        app.post_json(&station, &url("accept"), json!({})).await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .post_json(
            &station,
            &url("outcome"),
            json!({"result": "resolved", "details": "已安置"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = app
        .post_json(&station, &url("close"), json!({"follow_up": "回访正常"}))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "open_escalation");
    let (status, closed) = app
        .post_json(
            &station,
            &url("close"),
            json!({"follow_up": "回访正常", "override_reason": "派出所已电话确认处置完毕，系统内未结"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    let d = detail(&app, id).await;
    let ev = events(&d, "case.closed");
    assert_eq!(
        ev[0]["data"]["override_reason"],
        "派出所已电话确认处置完毕，系统内未结"
    );
    assert_eq!(
        ev[0]["data"]["open_escalation_id"],
        case["escalation"]["id"]
    );
    let audit: Vec<_> = app
        .audit_log()
        .await
        .into_iter()
        .filter(|a| a.action == "case.close_override")
        .collect();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id, Some(app.user_id("station").await));

    // Once the police resolve theirs, no reason is needed.
    let case = open_case(
        &app,
        json!({
            "category": "domestic_violence", "region_code": YULONG, "summary": "丈夫威胁",
            "danger_screen": {"in_progress": false, "answers": answers(&[2]), "screener_concern": false}
        }),
    )
    .await;
    let id = case["id"].as_str().unwrap();
    let esc = case["escalation"]["id"].as_str().unwrap();
    let police = app.login("police").await;
    for (path, body) in [
        ("acknowledge", json!({})),
        ("actions", json!({"kind": "dispatched", "notes": "出警"})),
        ("resolve", json!({"summary": "已告诫"})),
    ] {
        let (status, e) = app
            .post_json(&police, &format!("/api/v1/escalations/{esc}/{path}"), body)
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {e}");
    }
    let url = |a: &str| format!("/api/v1/cases/{id}/{a}");
    app.post_json(&station, &url("accept"), json!({})).await;
    app.post_json(
        &station,
        &url("outcome"),
        json!({"result": "resolved", "details": "已安置"}),
    )
    .await;
    let (status, _) = app
        .post_json(&station, &url("close"), json!({"follow_up": "回访正常"}))
        .await;
    assert_eq!(status, StatusCode::OK);
}
