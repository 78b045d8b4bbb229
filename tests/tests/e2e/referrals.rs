//! Referrals between agencies (issue 14), end to end on the real server
//! with a manual clock: a domestic-violence case whose category's
//! co-handling rule refers it to legal aid, and two referrals by hand —
//! one declined `wrong_place`, one silent until it is urged automatically,
//! one answered with a reference. The receiver's masked view before it
//! accepts, the close refused while one is open, the errors of the issue,
//! the live feed of the receiving unit, the figures. On PostgreSQL a second
//! server process on the same database fires deadlines too, and each fires
//! once.
use std::time::Duration;

use chrono::Duration as Span;
use futures_util::StreamExt;
use lianxin::db::entities::mail;
use lianxin_tests::{
    assert_error, spawn_app, spawn_app_with, timeline_kinds, StatusCode, TestApp, DEMO_PASSWORD,
};
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{self, accept, count, wait_timeline, YULONG};

async fn mails_about(app: &TestApp, number: &str) -> Vec<mail::Model> {
    mail::Entity::find()
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.contains(number))
        .collect()
}

async fn refer(app: &TestApp, token: &str, case_id: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(token, &format!("/api/v1/cases/{case_id}/referrals"), body)
        .await
}

/// The next `referral.*` event frame on a live feed.
async fn next_referral_frame(ws: &mut lianxin_tests::LiveSocket) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["event"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("referral."))
                {
                    return v;
                }
            }
            Ok(Some(Ok(_))) => continue,
            other => panic!("no referral event on the live feed: {other:?}"),
        }
    }
}

/// Setup: a supervisor one region level above the county's, and the
/// co-handling rule "domestic violence → legal aid".
async fn setup(app: &TestApp) {
    let admin = app.login("admin").await;
    let (status, body) = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({
                "username": "province", "display_name": "自治区妇联 督办", "password": DEMO_PASSWORD,
                "role": "supervisor", "unit_id": app.unit_id("自治区妇联").await,
                "email": "province@demo.lianxin",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rule = "/api/v1/routing-rules/domestic_violence/co-handling";
    let got = app
        .put_json(&admin, rule, json!({"kinds": ["legal_aid", "no_such"]}))
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "kinds[1]");
    let station = app.login("station").await;
    let got = app
        .put_json(&station, rule, json!({"kinds": ["legal_aid"]}))
        .await;
    assert_eq!(got.0, StatusCode::FORBIDDEN);
    let (status, body) = app
        .put_json(&admin, rule, json!({"kinds": ["legal_aid"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, all) = app.get(&station, "/api/v1/routing-rules/co-handling").await;
    assert_eq!(all["items"][0]["kinds"], json!(["legal_aid"]));
}

async fn open_case(app: &TestApp) -> Value {
    common::open_case(
        app,
        json!({
            "category": "domestic_violence", "region_code": YULONG,
            "summary": "丈夫长期殴打，需要法律援助和低保",
            "description": "详细经过：只给办理单位看",
            "subject": {"name": "王芳", "phone": "13812345678"},
        }),
    )
    .await
}

/// The errors of the issue, none of which writes anything.
async fn refused(app: &TestApp, case_id: &str) {
    let station = app.login("station").await;
    let base = json!({"kind": "minimum_living_allowance", "request": "申请低保", "legal_basis": "consent",
        "consent": {"given_by": "本人电话同意"}});
    let mut no_basis = base.clone();
    no_basis.as_object_mut().unwrap().remove("legal_basis");
    let got = refer(app, &station, case_id, no_basis).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "legal_basis");
    let mut no_consent = base.clone();
    no_consent.as_object_mut().unwrap().remove("consent");
    let got = refer(app, &station, case_id, no_consent).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "consent");
    let mut own = base.clone();
    own["to_unit_id"] = json!(app.unit_id("白沙镇妇女维权站").await);
    let got = refer(app, &station, case_id, own).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "to_unit_id");
    let mut kind = base.clone();
    kind["kind"] = json!("astrology");
    let got = refer(app, &station, case_id, kind).await;
    assert_eq!(got.1["error"]["field"], "kind", "{}", got.1);
    // A unit that does not handle the case cannot see it.
    let mediator = app.login("mediator").await;
    let got = refer(app, &mediator, case_id, base).await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_domestic_violence_case_with_three_referrals_declined_urged_and_answered() {
    let app = spawn_app().await;
    let mut log = crate::changes::Touches::install(&app).await;
    // PostgreSQL: a second process on the same database and clock.
    let other = if app.is_postgres() {
        Some(spawn_app_with(app.same_database()).await)
    } else {
        None
    };
    setup(&app).await;
    let case = open_case(&app).await;
    let case_id = case["id"].as_str().unwrap().to_string();
    assert_eq!(
        case["assigned_unit_id"],
        json!(app.unit_id("白沙镇妇女维权站").await)
    );
    accept(&app, "station", &case_id).await;
    let station = app.login("station").await;

    // Co-handling: the legal-aid referral opened with the case.
    let (_, list) = app
        .get(&station, &format!("/api/v1/referrals?case_id={case_id}"))
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let legal = items[0].clone();
    assert_eq!(legal["kind"], "legal_aid");
    assert_eq!(legal["legal_basis"], "statutory_duty");
    assert_eq!(legal["status"], "sent");
    assert_eq!(legal["to_unit_name"], "阳朔县法律援助中心");
    assert_eq!(legal["accept_due_at"], "2026-12-01T09:00:00Z");
    let legal_id = legal["id"].as_str().unwrap().to_string();

    refused(&app, &case_id).await;

    // The civil-affairs bureau is told live of the referral it receives.
    let civil = app.login("civil").await;
    let mut feed = app.live_connect(&civil).await;
    // A unit with no part in the case hears nothing of it.
    let mediator = app.login("mediator").await;
    let mut bystander = app.live_connect(&mediator).await;
    let (status, allowance) = refer(
        &app,
        &station,
        &case_id,
        json!({"kind": "minimum_living_allowance", "request": "家庭困难，申请最低生活保障",
            "legal_basis": "consent", "consent": {"given_by": "本人电话同意", "scope": "姓名、电话、家庭情况"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{allowance}");
    assert_eq!(allowance["to_unit_name"], "阳朔县民政局");
    assert_eq!(allowance["consent"]["given_by"], "本人电话同意");
    let allowance_id = allowance["id"].as_str().unwrap().to_string();
    let frame = next_referral_frame(&mut feed).await;
    assert_eq!(frame["event"], "referral.sent");
    assert_eq!(frame["data"]["referral_id"], json!(allowance_id));
    assert!(!frame.to_string().contains("13812345678"));
    let heard = tokio::time::timeout(Duration::from_millis(500), bystander.next()).await;
    assert!(heard.is_err(), "the mediation committee got {heard:?}");

    let (status, counselling) = refer(
        &app,
        &station,
        &case_id,
        json!({"kind": "counselling", "request": "心理疏导", "legal_basis": "consent",
            "consent": {"given_by": "本人"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{counselling}");
    assert_eq!(counselling["to_unit_name"], "阳朔县阳光社会工作服务中心");
    let counselling_id = counselling["id"].as_str().unwrap().to_string();

    // The receiver before accepting: the case header, her name and
    // numbers masked; not the description, the notes or the timeline.
    let legalaid = app.login("legalaid").await;
    let (status, seen) = app
        .get(&legalaid, &format!("/api/v1/referrals/{legal_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["case"]["summary"], "丈夫长期殴打，需要法律援助和低保");
    assert_eq!(seen["case"]["category"], "domestic_violence");
    assert_eq!(seen["case"]["region_code"], YULONG);
    assert_eq!(seen["case"]["subject"]["name"], "王*");
    assert_eq!(seen["case"]["subject"]["phone"], "138****5678");
    let text = seen.to_string();
    assert!(!text.contains("只给办理单位看") && !text.contains("timeline"));
    let got = app
        .get(&legalaid, &format!("/api/v1/cases/{case_id}"))
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    let got = app
        .get(
            &legalaid,
            &format!("/api/v1/referrals/{legal_id}?reveal=true"),
        )
        .await;
    assert_eq!(got.0, StatusCode::FORBIDDEN);
    let got = app
        .get(&mediator, &format!("/api/v1/referrals/{legal_id}"))
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    let (_, incoming) = app
        .get(&legalaid, "/api/v1/referrals?direction=incoming")
        .await;
    assert_eq!(incoming["items"].as_array().unwrap().len(), 1);

    // One declined `wrong_place`: back to the sender, on the hotline's list.
    let socialwork = app.login("socialwork").await;
    let (status, declined) = app
        .post_json(
            &socialwork,
            &format!("/api/v1/referrals/{counselling_id}/decline"),
            json!({"reason_code": "wrong_place", "reason": "不在本中心服务范围，请转白沙镇社工站"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!(declined["status"], "declined");
    for (action, body) in [
        ("accept", json!({})),
        ("reply", json!({"result": "provided", "details": "x"})),
        ("withdraw", json!({"reason": "x"})),
    ] {
        let got = app
            .post_json(
                &socialwork,
                &format!("/api/v1/referrals/{counselling_id}/{action}"),
                body,
            )
            .await;
        if action == "withdraw" {
            assert_eq!(got.0, StatusCode::FORBIDDEN, "{action}: {}", got.1);
        } else {
            assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
        }
    }
    let got = app
        .post_json(
            &station,
            &format!("/api/v1/referrals/{counselling_id}/withdraw"),
            json!({"reason": "x"}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
    let op = app.login("operator").await;
    let (_, review) = app.get(&op, "/api/v1/referrals?status=declined").await;
    assert_eq!(review["items"][0]["id"], json!(counselling_id));
    assert_eq!(review["items"][0]["decline"]["reason_code"], "wrong_place");

    // One answered with a reference: a stale version loses.
    let version = seen["version"].as_i64().unwrap();
    let got = app
        .post_json(
            &legalaid,
            &format!("/api/v1/referrals/{legal_id}/accept"),
            json!({"version": version + 7}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "version_conflict");
    let (status, accepted) = app
        .post_json(
            &legalaid,
            &format!("/api/v1/referrals/{legal_id}/accept"),
            json!({"version": version}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    // 7 working days from Sunday 29 Nov, 17:00 Beijing.
    assert_eq!(
        accepted["reply_due_at"], "2026-12-08T09:00:00Z",
        "7 working days"
    );
    assert_eq!(accepted["case"]["subject"]["name"], "王芳");
    let (status, revealed) = app
        .get(
            &legalaid,
            &format!("/api/v1/referrals/{legal_id}?reveal=true"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revealed["case"]["subject"]["phone"], "13812345678");
    assert!(app
        .audit_log()
        .await
        .iter()
        .any(|a| a.action == "referral.reveal" && a.target == format!("case:{case_id}")));
    let (status, answered) = app
        .post_json(
            &legalaid,
            &format!("/api/v1/referrals/{legal_id}/reply"),
            json!({"result": "approved", "details": "准予法律援助，指派律师", "reference": "阳法援〔2026〕12号"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["status"], "replied");
    assert_eq!(answered["reply"]["reference"], "阳法援〔2026〕12号");

    // Close refused while the allowance referral is open.
    let (status, _) = app
        .post_json(
            &station,
            &format!("/api/v1/cases/{case_id}/outcome"),
            json!({"result": "referred", "details": "已转介法律援助、民政"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let close = json!({"follow_up": "回访：本人满意"});
    let got = app
        .post_json(
            &station,
            &format!("/api/v1/cases/{case_id}/close"),
            close.clone(),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "open_referrals");

    silent_until_urged(&app, &case_id, &allowance).await;
    // Days have passed: fresh sessions.
    let (civil, station, op) = (
        app.login("civil").await,
        app.login("station").await,
        app.login("operator").await,
    );

    // The civil-affairs bureau answers at last; the case closes, and its
    // answered referrals with it.
    let (status, _) = app
        .post_json(
            &civil,
            &format!("/api/v1/referrals/{allowance_id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post_json(
            &civil,
            &format!("/api/v1/referrals/{allowance_id}/reply"),
            json!({"result": "in_progress", "details": "已受理低保申请，入户调查中", "reference": "阳民〔2026〕88号"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, closed) = app
        .post_json(&station, &format!("/api/v1/cases/{case_id}/close"), close)
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let (_, after) = app
        .get(
            &station,
            &format!("/api/v1/referrals?case_id={case_id}&status=closed"),
        )
        .await;
    assert_eq!(after["items"].as_array().unwrap().len(), 2);

    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
    let kinds = timeline_kinds(&detail);
    for (event, n) in [
        ("referral.sent", 3),
        ("referral.declined", 1),
        ("referral.accepted", 2),
        ("referral.replied", 2),
        ("referral.urged", 2),
    ] {
        assert_eq!(
            kinds.iter().filter(|k| **k == event).count(),
            n,
            "{event}: {kinds:?}"
        );
    }
    figures(&app).await;
    drop(other);
    log.check("the whole test").await;
}

/// The allowance referral stays silent: its accept deadline fires once,
/// marks it overdue and tells the receiver, the sender and the county's
/// supervisors; a day later the second miss urges automatically, addressed
/// to the supervisors one region level up; the county supervisor urges by
/// hand as well.
async fn silent_until_urged(app: &TestApp, case_id: &str, allowance: &Value) {
    let id = allowance["id"].as_str().unwrap();
    let number = allowance["number"].as_str().unwrap();
    app.clock.advance(Span::days(2) + Span::seconds(1));
    let is_accept_miss = |d: &Value| d["kind"] == "referral_accept" && d["referral_id"] == id;
    wait_timeline(app, case_id, "the missed accept", |tl| {
        count(tl, "deadline.missed", is_accept_miss) >= 1
    })
    .await;
    let supervisor = app.login("supervisor").await;
    let (_, overdue) = app.get(&supervisor, "/api/v1/referrals?overdue=true").await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1, "{overdue}");
    assert_eq!(overdue["items"][0]["id"], json!(id));
    let mut to: Vec<String> = mails_about(app, number)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("accept deadline missed"))
        .map(|m| m.recipient)
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            "bs-station@demo.lianxin",
            "civil@demo.lianxin",
            "station@demo.lianxin",
            "supervisor@demo.lianxin",
            "ys-civil@demo.lianxin",
        ]
    );

    app.clock.advance(Span::days(1) + Span::seconds(1));
    let tl = wait_timeline(app, case_id, "the automatic urging", |tl| {
        count(tl, "referral.urged", |d| d["referral_id"] == id) >= 1
    })
    .await;
    let urged = tl.iter().find(|e| e["event"] == "referral.urged").unwrap();
    assert_eq!(urged["data"]["automatic"], true);
    assert_eq!(urged["data"]["addressed_to"], "450000000000");
    // Give a second process time to fire anything twice, then count.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let tl = wait_timeline(app, case_id, "settled", |_| true).await;
    assert_eq!(
        count(&tl, "deadline.missed", is_accept_miss),
        2,
        "once each"
    );
    assert_eq!(count(&tl, "referral.urged", |_| true), 1);
    assert!(mails_about(app, number)
        .await
        .iter()
        .any(|m| m.recipient == "province@demo.lianxin" && m.subject.contains("urging")));
    let missed_rows = lianxin::db::entities::deadline::Entity::find()
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.kind.starts_with("referral.accept") && d.fired_at.is_some())
        .count();
    assert_eq!(missed_rows, 2);

    // A station may not urge; the county supervisor may.
    let station = app.login("station").await;
    let body = json!({"opinion": "请于15日内答复办理情况"});
    let supervisor = app.login("supervisor").await;
    let got = app
        .post_json(
            &station,
            &format!("/api/v1/referrals/{id}/urge"),
            body.clone(),
        )
        .await;
    assert_eq!(got.0, StatusCode::FORBIDDEN);
    let (status, urged) = app
        .post_json(&supervisor, &format!("/api/v1/referrals/{id}/urge"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{urged}");
    assert_eq!(urged["urgings"].as_array().unwrap().len(), 2);
    assert_eq!(urged["overdue"], true);
}

async fn figures(app: &TestApp) {
    let supervisor = app.login("supervisor").await;
    let (status, report) = app
        .get(
            &supervisor,
            "/api/v1/reports/referrals?from=2026-11-01T00:00:00Z",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["total"]["sent"], 3);
    assert_eq!(report["total"]["declined"], 1);
    let legal = report["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "legal_aid")
        .unwrap();
    assert_eq!(legal["answered_in_time"], 1);
    let allowance = report["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "minimum_living_allowance")
        .unwrap();
    assert_eq!(allowance["answered"], 1);
    assert_eq!(allowance["answered_in_time"], 0, "accepted late");
    let got = app
        .get(
            &supervisor,
            "/api/v1/reports/referrals?from=-262143-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", got.1);
    let station = app.login("station").await;
    assert_eq!(
        app.get(&station, "/api/v1/reports/referrals").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_referral_endpoints() {
    let app = spawn_app().await;
    let (_, doc) = app.get("", "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/cases/{case_id}/referrals",
        "/api/v1/referrals",
        "/api/v1/referrals/{referral_id}",
        "/api/v1/referrals/{referral_id}/accept",
        "/api/v1/referrals/{referral_id}/decline",
        "/api/v1/referrals/{referral_id}/reply",
        "/api/v1/referrals/{referral_id}/withdraw",
        "/api/v1/referrals/{referral_id}/urge",
        "/api/v1/routing-rules/{category}/co-handling",
        "/api/v1/reports/referrals",
        "/api/v1/referral-kinds",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}

/// Two server processes on one PostgreSQL database and one clock: twenty
/// silent referrals miss their accept deadline and are then urged
/// automatically — each miss and each urging exactly once, claimed by one
/// of the two processes.
#[tokio::test]
async fn two_processes_fire_each_referral_deadline_once() {
    if std::env::var(lianxin_tests::PG_ENV)
        .map(|v| v.is_empty())
        .unwrap_or(true)
    {
        eprintln!(
            "skipped: several processes need PostgreSQL ({})",
            lianxin_tests::PG_ENV
        );
        return;
    }
    let a = spawn_app().await;
    let b = spawn_app_with(a.same_database()).await;
    let case = open_case(&a).await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let station = a.login("station").await;
    for i in 0..20 {
        // Half through each process.
        let app = if i % 2 == 0 { &a } else { &b };
        let (status, body) = refer(
            app,
            &station,
            &case_id,
            json!({"kind": "temporary_assistance", "request": format!("临时救助 {i}"),
                "legal_basis": "emergency"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let is_miss = |n: i64| move |d: &Value| d["kind"] == "referral_accept" && d["miss"] == n;
    a.clock.advance(Span::days(2) + Span::seconds(1));
    wait_timeline(&a, &case_id, "twenty first misses", |tl| {
        count(tl, "deadline.missed", is_miss(1)) >= 20
    })
    .await;
    a.clock.advance(Span::days(1) + Span::seconds(1));
    wait_timeline(&a, &case_id, "twenty automatic urgings", |tl| {
        count(tl, "referral.urged", |d| d["automatic"] == true) >= 20
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let tl = wait_timeline(&a, &case_id, "settled", |_| true).await;
    assert_eq!(count(&tl, "deadline.missed", is_miss(1)), 20);
    assert_eq!(count(&tl, "deadline.missed", is_miss(2)), 20);
    assert_eq!(count(&tl, "referral.urged", |_| true), 20);
    let nodes = [a.state.node_id.to_string(), b.state.node_id.to_string()];
    let fired: Vec<_> = lianxin::db::entities::deadline::Entity::find()
        .all(&a.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.subject_kind == "referral" && d.fired_at.is_some())
        .collect();
    assert_eq!(fired.len(), 40, "accept and its second check, per referral");
    for d in &fired {
        let node = d.claimed_by.as_deref().unwrap_or_default();
        assert!(nodes.iter().any(|n| n == node), "claimed by {node}");
    }
    let by_a = fired
        .iter()
        .filter(|d| d.claimed_by.as_deref() == Some(&*nodes[0]))
        .count();
    eprintln!("server A fired {by_a}, server B {}", fired.len() - by_a);
    // Every missed referral mailed its receiver once per miss.
    let first: Vec<_> = mail::Entity::find()
        .all(&a.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            m.recipient == "ys-civil@demo.lianxin" && m.subject.contains("accept deadline missed")
        })
        .collect();
    assert_eq!(first.len(), 20);
}
