//! The police loop (issue 15), end to end on the real database and the
//! manual clock: the police work a routed case; protection orders with
//! their decision clock (24 h urgent), the six-month rule and the expiry
//! notice; a written warning whose village visit is missed; a violation
//! that tightens the escalation to `imminent`; a school's mandatory report
//! that escalates at once and whose reporter the station never sees; the
//! 110 reference; the SMS sink receiving a raise.
use std::time::Duration;

use chrono::{Duration as Span, Months};
use lianxin::db::entities::mail;
use lianxin_tests::{assert_error, spawn_app, StatusCode, TestApp};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

/// 遇龙村 (白沙镇, 阳朔县): 白沙派出所, 白沙镇妇女维权站, 遇龙村村民委员会.
const YULONG: &str = "450321101201";
const WAIT: Duration = Duration::from_secs(10);

async fn open_case(app: &TestApp, body: Value) -> Value {
    let op = app.login("operator").await;
    let (status, case) = app.post_json(&op, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case
}

async fn dv_case(app: &TestApp) -> Value {
    open_case(
        app,
        json!({"category": "domestic_violence", "region_code": YULONG,
               "summary": "丈夫多次殴打", "subject": {"name": "某女士"}}),
    )
    .await
}

async fn detail(app: &TestApp, user: &str, id: &str) -> (StatusCode, Value) {
    let t = app.login(user).await;
    app.get(&t, &format!("/api/v1/cases/{id}")).await
}

fn count(d: &Value, kind: &str, data_kind: Option<&str>) -> usize {
    d["timeline"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter(|e| e["event"] == kind)
                .filter(|e| data_kind.is_none_or(|k| e["data"]["kind"] == k))
                .count()
        })
        .unwrap_or(0)
}

/// Wait (real time) until the case's timeline has `n` events of `kind`
/// (with `data.kind`, if given).
async fn wait_for(app: &TestApp, id: &str, kind: &str, data_kind: Option<&str>, n: usize) -> Value {
    let started = std::time::Instant::now();
    loop {
        let (_, d) = detail(app, "operator", id).await;
        if count(&d, kind, data_kind) >= n {
            return d;
        }
        assert!(
            started.elapsed() < WAIT,
            "timed out waiting for {n} × {kind} {data_kind:?}: {:?}",
            lianxin_tests::timeline_kinds(&d)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn settle(app: &TestApp, id: &str, kind: &str, data_kind: Option<&str>, n: usize) {
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, d) = detail(app, "operator", id).await;
    assert_eq!(
        count(&d, kind, data_kind),
        n,
        "{:?}",
        lianxin_tests::timeline_kinds(&d)
    );
}

async fn mail_to(app: &TestApp, subject_has: &str) -> Vec<String> {
    let mut to: Vec<String> = mail::Entity::find()
        .filter(mail::Column::Subject.contains(subject_has))
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.recipient)
        .collect();
    to.sort();
    to.dedup();
    to
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn protection_order(app: &TestApp, user: &str, case_id: &str, body: Value) -> Value {
    let t = app.login(user).await;
    let (status, m) = app
        .post_json(&t, &format!("/api/v1/cases/{case_id}/measures"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    m
}

/// The SMS sink's files (phone on the first line), waiting for `n`.
async fn sms_files(app: &TestApp, n: usize) -> Vec<String> {
    let dir = app.settings.data_dir.join("sms");
    let started = std::time::Instant::now();
    loop {
        let mut texts = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "txt") {
                    texts.push(std::fs::read_to_string(p).unwrap_or_default());
                }
            }
        }
        if texts.len() >= n {
            return texts;
        }
        assert!(
            started.elapsed() < WAIT,
            "only {} SMS files: {texts:?}",
            texts.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_police_work_a_routed_threat_case_and_the_sms_sink_receives_the_raise() {
    let app = spawn_app().await;
    let case = open_case(
        &app,
        json!({"category": "safety_threat", "region_code": YULONG, "summary": "前夫扬言报复"}),
    )
    .await;
    let id = case["id"].as_str().unwrap();
    let number = case["number"].as_str().unwrap();
    assert_eq!(
        case["assigned_unit_id"],
        json!(app.unit_id("白沙派出所").await.to_string())
    );
    let police = app.login("police").await;
    // The routed-case queue and the board.
    let (_, queue) = app.get(&police, "/api/v1/cases?status=assigned").await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id),
        "{queue}"
    );
    let (_, board) = app.get(&police, "/api/v1/escalations?status=pending").await;
    assert!(
        board["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["case_id"] == id),
        "{board}"
    );
    // Opening texted the station's duty phone: case number and link only.
    let texts = sms_files(&app, 1).await;
    assert!(
        texts[0].starts_with("13900000110\n") && texts[0].contains(number),
        "{texts:?}"
    );
    assert!(!texts[0].contains("前夫"), "no story in a text: {texts:?}");
    // The county command gets a duty phone (admin), then the raise reaches it.
    let admin = app.login("admin").await;
    let command = app.unit_id("阳朔县公安局指挥中心").await;
    let (status, body) = app
        .put_json(
            &admin,
            &format!("/api/v1/units/{command}/duty-phone"),
            json!({"duty_phone": "13900000120"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.advance(Span::minutes(16));
    let texts = sms_files(&app, 2).await;
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("13900000120\n") && t.contains(number) && t.contains("第2级")),
        "{texts:?}"
    );
    // The police work it like any unit: accept, note, outcome, close.
    let base = format!("/api/v1/cases/{id}");
    let (s, _) = app
        .post_json(&police, &format!("{base}/accept"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .post_json(&police, &format!("{base}/notes"), json!({"body": "已出警"}))
        .await;
    assert!(s.is_success(), "{s}");
    let (s, b) = app
        .post_json(
            &police,
            &format!("{base}/outcome"),
            json!({"result": "resolved", "details": "已处置"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .post_json(
            &police,
            &format!("{base}/close"),
            json!({"follow_up": "回访安全", "override_reason": "警情已处置完毕"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "closed");
}

#[tokio::test]
async fn an_urgent_protection_order_without_a_decision_is_missed_after_24_hours() {
    let app = spawn_app().await;
    let case = dv_case(&app).await;
    let id = case["id"].as_str().unwrap();
    // The police station does not read this case: nothing of it on its feed.
    let police = app.login("police").await;
    let mut ws = app.live_connect(&police).await;
    let m = protection_order(
        &app,
        "station",
        id,
        json!({"kind": "protection_order", "urgent": true, "applicant": "victim",
               "court_name": "阳朔县人民法院", "measures": ["no_contact"]}),
    )
    .await;
    assert_eq!(m["outcome"], "pending");
    assert_eq!(m["status"], "pending");
    assert!(!live_event(&mut ws, "measure.recorded", Duration::from_millis(700)).await);
    let (_, none) = app.get(&police, "/api/v1/measures").await;
    assert_eq!(none["items"], json!([]));
    // Bad input is 4xx with its field; another unit's case is not found.
    let station = app.login("station").await;
    let path = format!("/api/v1/cases/{id}/measures");
    let bad = app
        .get(&station, "/api/v1/measures?status=granted_maybe")
        .await;
    assert_eq!(bad.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.1);
    let future = app
        .post_json(
            &station,
            &path,
            json!({"kind": "protection_order", "applied_at": ts(app.now() + Span::days(1))}),
        )
        .await;
    assert_error(
        &future,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(future.1["error"]["field"], "applied_at");
    let nobody = app
        .post_json(
            &station,
            &path,
            json!({"kind": "shelter", "served_to": [uuid::Uuid::new_v4()]}),
        )
        .await;
    assert_eq!(nobody.1["error"]["field"], "served_to", "{}", nobody.1);
    let kind = app
        .post_json(&station, &path, json!({"kind": "curfew"}))
        .await;
    assert_eq!(kind.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", kind.1);
    let outsider = app
        .post_json(
            &app.login("legalaid").await,
            &path,
            json!({"kind": "shelter"}),
        )
        .await;
    assert_error(&outsider, StatusCode::NOT_FOUND, "not_found");
    let start = app.now();
    assert_eq!(m["decision_due_at"], json!(ts(start + Span::hours(24))));
    app.clock.advance(Span::hours(23));
    settle(
        &app,
        id,
        "deadline.missed",
        Some("protection_order_decision"),
        0,
    )
    .await;
    app.clock.advance(Span::hours(2));
    wait_for(
        &app,
        id,
        "deadline.missed",
        Some("protection_order_decision"),
        1,
    )
    .await;
    settle(
        &app,
        id,
        "deadline.missed",
        Some("protection_order_decision"),
        1,
    )
    .await;
    let to = mail_to(&app, "法院未在时限").await;
    for who in [
        "bs-station@demo.lianxin",
        "ys-legalaid@demo.lianxin",
        "supervisor@demo.lianxin",
    ] {
        assert!(to.iter().any(|t| t == who), "{who} not told: {to:?}");
    }
    let station = app.login("station").await;
    let (_, list) = app.get(&station, "/api/v1/measures?overdue=true").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // A decision before the application: 422; withdrawn, then a decision: 409.
    let mid = m["id"].as_str().unwrap();
    let path = format!("/api/v1/measures/{mid}/decision");
    let early = app
        .post_json(
            &station,
            &path,
            json!({"outcome": "granted", "decided_at": ts(start - Span::hours(1)),
               "expires_at": ts(start + Span::days(30))}),
        )
        .await;
    assert_error(
        &early,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(early.1["error"]["field"], "decided_at");
    let (s, w) = app
        .post_json(
            &station,
            &path,
            json!({"outcome": "withdrawn", "decided_at": ts(app.now())}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{w}");
    let again = app
        .post_json(
            &station,
            &path,
            json!({"outcome": "granted", "decided_at": ts(app.now()),
               "expires_at": ts(app.now() + Span::days(30))}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "invalid_transition");
}

#[tokio::test]
async fn a_granted_order_runs_six_months_at_most_and_its_expiry_is_noticed() {
    let app = spawn_app().await;
    let case = dv_case(&app).await;
    let id = case["id"].as_str().unwrap();
    let station = app.login("station").await;
    let (s, _) = app
        .post_json(&station, &format!("/api/v1/cases/{id}/accept"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let now = app.now();
    // Applied and decided five months ago (recorded late): it runs one more month.
    let decided = now.checked_sub_months(Months::new(5)).unwrap();
    let m = protection_order(
        &app,
        "station",
        id,
        json!({"kind": "protection_order", "applied_at": ts(decided - Span::hours(20)),
               "court_name": "阳朔县人民法院"}),
    )
    .await;
    let path = format!("/api/v1/measures/{}/decision", m["id"].as_str().unwrap());
    let seven = app.post_json(&station, &path,
        json!({"outcome": "granted", "decided_at": ts(decided), "number": "(2026)桂0321民保令1号",
               "expires_at": ts(decided.checked_add_months(Months::new(7)).unwrap()),
               "measures": ["no_contact", "move_out"]})).await;
    assert_error(
        &seven,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(seven.1["error"]["field"], "expires_at");
    let until = decided.checked_add_months(Months::new(6)).unwrap();
    // The village committee is served the order live.
    let village_token = app.login("village").await;
    let mut ws = app.live_connect(&village_token).await;
    let (s, granted) = app
        .post_json(
            &station,
            &path,
            json!({"outcome": "granted", "decided_at": ts(decided), "expires_at": ts(until),
               "measures": ["no_contact", "move_out"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{granted}");
    assert_eq!(granted["status"], "in_force");
    assert!(
        live_event(&mut ws, "measure.decided", WAIT).await,
        "the village committee saw the decision live"
    );
    let police_id = app.unit_id("白沙派出所").await.to_string();
    let village_id = app.unit_id("遇龙村村民委员会").await.to_string();
    let served = granted["served_to"].as_array().unwrap();
    assert!(
        served.contains(&json!(police_id)) && served.contains(&json!(village_id)),
        "{granted}"
    );
    // Served on the police and the village committee, who read it.
    for user in ["police", "village"] {
        let t = app.login(user).await;
        let (_, list) = app
            .get(&t, "/api/v1/measures?kind=protection_order&status=in_force")
            .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{user}: {list}");
    }
    let mail = mail_to(&app, "已签发并送达").await;
    assert!(
        mail.iter().any(|t| t == "yl-cunwei@demo.lianxin"),
        "{mail:?}"
    );
    // The expiry notice comes 14 days before the end, once.
    let notice = until - Span::days(14);
    app.clock.advance(notice - app.now() - Span::hours(1));
    settle(&app, id, "measure.expiring", None, 0).await;
    app.clock.advance(Span::hours(2));
    wait_for(&app, id, "measure.expiring", None, 1).await;
    let station = app.login("station").await;
    let (_, soon) = app
        .get(&station, "/api/v1/measures?expiring_within_days=14")
        .await;
    assert_eq!(soon["items"].as_array().unwrap().len(), 1, "{soon}");
    // Extended (each time at most six months from the current end).
    let mid = granted["id"].as_str().unwrap();
    let too_long = app
        .post_json(
            &station,
            &format!("/api/v1/measures/{mid}/extend"),
            json!({"expires_at": ts(until.checked_add_months(Months::new(7)).unwrap())}),
        )
        .await;
    assert_error(
        &too_long,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let later = until.checked_add_months(Months::new(3)).unwrap();
    let (s, ext) = app
        .post_json(
            &station,
            &format!("/api/v1/measures/{mid}/extend"),
            json!({"expires_at": ts(later)}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ext}");
    assert_eq!(ext["expires_at"], json!(ts(later)));
    // Someone who never touched the case sees nothing of it.
    let legal = app.login("legalaid").await;
    let (_, none) = app.get(&legal, "/api/v1/measures").await;
    assert_eq!(none["items"], json!([]));
    let (s, _) = app
        .get(
            &legal,
            &format!("/api/v1/measures/{}", granted["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// A threat case acknowledged by the police, who issue a written warning.
async fn warned(app: &TestApp) -> (Value, Value) {
    let case = open_case(
        app,
        json!({"category": "safety_threat", "region_code": YULONG, "summary": "丈夫威胁"}),
    )
    .await;
    let esc = case["escalation"]["id"].as_str().unwrap().to_string();
    let police = app.login("police").await;
    let (s, _) = app
        .post_json(
            &police,
            &format!("/api/v1/escalations/{esc}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = app
        .post_json(&police, &format!("/api/v1/escalations/{esc}/actions"),
            json!({"kind": "warning_issued", "notes": "当面告诫", "number": "阳公(白)告字〔2026〕1号"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let id = case["id"].as_str().unwrap();
    let (_, ms) = app
        .get(&police, &format!("/api/v1/cases/{id}/measures"))
        .await;
    let m = ms[0].clone();
    (case, m)
}

#[tokio::test]
async fn a_warning_letters_village_visit_is_missed() {
    let app = spawn_app().await;
    let (case, m) = warned(&app).await;
    let id = case["id"].as_str().unwrap();
    assert_eq!(m["kind"], "warning_letter");
    assert_eq!(m["number"], "阳公(白)告字〔2026〕1号");
    let visits = m["visits"].as_array().unwrap();
    assert_eq!(visits.len(), 4, "{m}");
    let mail = mail_to(&app, "告诫书已送达").await;
    assert_eq!(
        mail,
        vec![
            "village@demo.lianxin".to_string(),
            "yl-cunwei@demo.lianxin".to_string()
        ]
    );
    // The police do their 7-day visit; the village committee does not.
    let first_police = visits.iter().find(|v| v["party"] == "police").unwrap();
    let police = app.login("police").await;
    let (s, b) = app
        .post_json(
            &police,
            &format!(
                "/api/v1/measures/{}/visits/{}/done",
                m["id"].as_str().unwrap(),
                first_police["id"].as_str().unwrap()
            ),
            json!({"at": ts(app.now()), "notes": "入户查访"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    app.clock.advance(Span::days(7) + Span::minutes(1));
    let d = wait_for(&app, id, "deadline.missed", Some("measure_visit"), 1).await;
    settle(&app, id, "deadline.missed", Some("measure_visit"), 1).await;
    let missed: Vec<&Value> = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["kind"] == "measure_visit")
        .collect();
    assert_eq!(missed[0]["data"]["party"], "village_committee");
    // The village committee reads it and records its 30-day visit.
    let village = app.login("village").await;
    let (_, list) = app.get(&village, "/api/v1/measures?overdue=true").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let later = visits
        .iter()
        .filter(|v| v["party"] == "village_committee")
        .nth(1)
        .unwrap();
    let (s, b) = app
        .post_json(
            &village,
            &format!(
                "/api/v1/measures/{}/visits/{}/done",
                m["id"].as_str().unwrap(),
                later["id"].as_str().unwrap()
            ),
            json!({"at": ts(app.now())}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // The station (not on this case) does not see it.
    let station = app.login("station").await;
    let (_, none) = app.get(&station, "/api/v1/measures").await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn a_violation_raises_the_escalation_to_imminent() {
    let app = spawn_app().await;
    let mut log = crate::changes::Touches::install(&app).await;
    let (case, m) = warned(&app).await;
    let id = case["id"].as_str().unwrap();
    assert_eq!(case["escalation"]["urgency"], "high");
    let police = app.login("police").await;
    let (s, b) = app
        .post_json(
            &police,
            &format!("/api/v1/measures/{}/violations", m["id"].as_str().unwrap()),
            json!({"at": ts(app.now()), "notes": "告诫后再次殴打"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["violations"].as_array().unwrap().len(), 1);
    let (_, d) = detail(&app, "operator", id).await;
    assert_eq!(
        d["escalation"]["urgency"], "imminent",
        "{}",
        d["escalation"]
    );
    assert_eq!(d["risk_level"], "imminent");
    assert_eq!(count(&d, "escalation.urgency_raised", None), 1);
    // Resolved, then violated again: a new escalation opens at imminent.
    let esc = d["escalation"]["id"].as_str().unwrap();
    let (s, b) = app
        .post_json(
            &police,
            &format!("/api/v1/escalations/{esc}/resolve"),
            json!({"summary": "已处置"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    app.clock.advance(Span::minutes(1));
    let (s, _) = app
        .post_json(
            &police,
            &format!("/api/v1/measures/{}/violations", m["id"].as_str().unwrap()),
            json!({"at": ts(app.now()), "notes": "又一次"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, d) = detail(&app, "operator", id).await;
    assert_eq!(d["escalation"]["status"], "pending");
    assert_eq!(d["escalation"]["urgency"], "imminent");
    assert_ne!(d["escalation"]["id"], json!(esc));
    log.check("the whole test").await;
}

#[tokio::test]
async fn a_schools_mandatory_report_escalates_at_once_and_hides_the_reporter_from_the_station() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let missing = app
        .post_json(&op, "/api/v1/cases",
            json!({"category": "domestic_violence", "region_code": YULONG, "summary": "学生身上有伤",
                   "channel": "mandatory_report"}))
        .await;
    assert_error(
        &missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(missing.1["error"]["field"], "reporter");
    let case = open_case(
        &app,
        json!({"category": "domestic_violence", "region_code": YULONG, "summary": "学生身上有伤",
               "channel": "mandatory_report",
               "reporter": {"org_type": "school", "org_name": "遇龙村小学", "person": "班主任张老师",
                            "phone": "13812345678"}}),
    )
    .await;
    assert_eq!(case["escalation"]["status"], "pending", "{case}");
    assert_eq!(case["risk_level"], "high");
    let id = case["id"].as_str().unwrap();
    assert!(!case.to_string().contains("遇龙村小学"));
    for user in ["operator", "police"] {
        let t = app.login(user).await;
        let (s, r) = app.get(&t, &format!("/api/v1/cases/{id}/reporter")).await;
        assert_eq!(s, StatusCode::OK, "{user}: {r}");
        assert_eq!(r["org_name"], "遇龙村小学");
        assert_eq!(r["org_type"], "school");
        assert_eq!(r["reported_to_police_at"], json!(ts(app.now())));
    }
    for user in ["station", "supervisor"] {
        let t = app.login(user).await;
        let (s, _) = app.get(&t, &format!("/api/v1/cases/{id}/reporter")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{user}");
        let (s, d) = detail(&app, user, id).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            !d.to_string().contains("遇龙村小学") && !d.to_string().contains("张老师"),
            "{user}: {d}"
        );
    }
    let sup = app.login("supervisor").await;
    let csv = app.get(&sup, "/api/v1/reports/cases.csv").await;
    assert!(!csv.1.to_string().contains("遇龙村小学"));
}

#[tokio::test]
async fn the_110_reference_is_kept_on_the_escalation() {
    let app = spawn_app().await;
    let case = open_case(
        &app,
        json!({"category": "safety_threat", "region_code": YULONG, "summary": "正在施暴"}),
    )
    .await;
    let esc = case["escalation"]["id"].as_str().unwrap();
    let op = app.login("operator").await;
    let (s, e) = app
        .post_json(
            &op,
            &format!("/api/v1/escalations/{esc}/reported-to-110"),
            json!({"external_ref": "110-20261129-0042", "notes": "接线员已拨打110"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["external_ref"], "110-20261129-0042");
    assert_eq!(e["actions"][0]["kind"], "reported_to_110");
    let police = app.login("police").await;
    let (s, e) = app
        .post_json(
            &police,
            &format!("/api/v1/escalations/{esc}/external-ref"),
            json!({"external_ref": "阳公指派20261129-7"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, board) = app.get(&police, "/api/v1/escalations").await;
    assert_eq!(board["items"][0]["external_ref"], "阳公指派20261129-7");
    let station = app.login("station").await;
    let (s, _) = app
        .post_json(
            &station,
            &format!("/api/v1/escalations/{esc}/reported-to-110"),
            json!({}),
        )
        .await;
    assert!(
        s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
        "{s}"
    );
    let (_, doc) = app.get("", "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/measures",
        "/api/v1/cases/{case_id}/measures",
        "/api/v1/measures/{measure_id}/decision",
        "/api/v1/escalations/{escalation_id}/reported-to-110",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi"
        );
    }
    for schema in [
        "MeasureView",
        "NewMeasureBody",
        "DecisionBody",
        "ReporterView",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing from openapi"
        );
    }
}

/// Read live frames until an event named `name` arrives (true) or
/// `within` passes.
async fn live_event(ws: &mut lianxin_tests::LiveSocket, name: &str, within: Duration) -> bool {
    lianxin_tests::live_event_within(ws, name, within)
        .await
        .is_some()
}

#[tokio::test]
async fn the_sms_gateway_gets_the_text_and_an_outage_delays_it_without_losing_it() {
    let gateway = lianxin_tests::sinks::keeping_gateway(503).await.unwrap();
    let url = format!("http://{}/send", gateway.addr);
    let app =
        lianxin_tests::spawn_app_with(lianxin_tests::TestOptions::default().settings(move |s| {
            s.sms.url = url.clone();
            s.sms.token = "gw-secret".into();
            s.sms.retry_base_s = 30;
        }))
        .await;
    let case = open_case(
        &app,
        json!({"category": "safety_threat", "region_code": YULONG, "summary": "前夫扬言报复"}),
    )
    .await;
    let number = case["number"].as_str().unwrap().to_string();
    let wait = |n: usize| {
        let gateway = gateway.clone();
        async move {
            let started = std::time::Instant::now();
            loop {
                let seen = gateway.requests();
                if seen.len() >= n {
                    return seen;
                }
                assert!(
                    started.elapsed() < WAIT,
                    "gateway got {} requests",
                    seen.len()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let first = wait(1).await;
    assert!(
        first[0].contains("authorization: Bearer gw-secret")
            || first[0].contains("Authorization: Bearer gw-secret"),
        "{}",
        first[0]
    );
    // 503: retried after the backoff (on the app's clock), then delivered.
    app.clock.advance(Span::seconds(31));
    let both = wait(2).await;
    let body = both[1].split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["to"], "13900000110");
    assert!(v["text"].as_str().unwrap().contains(&number), "{v}");
    assert_eq!(v["from"], "12338");
}
