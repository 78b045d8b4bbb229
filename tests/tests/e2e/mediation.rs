//! Mediation as mediators do it (issue 16), end to end on the real
//! database, a real SMTP server and the manual clock: registration with
//! consent → two sessions → a written agreement with two obligations → a
//! performance reminder (never overdue) → the outcome dated by the
//! agreement → the confirmation reminder on day 20 → `applied`; the
//! agreement document and its audit; an unsafe case refuses mediation; a
//! termination to the police opens the escalation; scope and masking.
use std::time::Duration;

use chrono::Duration as Span;
use lianxin_tests::{
    assert_error, smtp::SmtpServer, spawn_app, spawn_app_with, timeline_kinds, StatusCode, TestApp,
    TestOptions,
};
use serde_json::{json, Value};

/// 遇龙村 (白沙镇, 阳朔县).
const YULONG: &str = "450321101201";
const COMMITTEE: &str = "白沙镇人民调解委员会";
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

/// A case in 遇龙村 handed to 白沙镇人民调解委员会 and accepted by its
/// mediator; `extra` is merged into the case body.
async fn mediation_case(app: &TestApp, extra: Value) -> (String, String) {
    let op = app.login("operator").await;
    let mut body =
        json!({"category": "land_rights", "region_code": YULONG, "summary": "承包地边界纠纷"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (status, case) = app.post_json(&op, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    let (status, t) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{id}/transfer"),
            json!({"unit_id": app.unit_id(COMMITTEE).await, "reason": "镇调委会调解"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let mediator = app.login("mediator").await;
    let (status, a) = app
        .post_json(&mediator, &format!("/api/v1/cases/{id}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    (id, case["number"].as_str().unwrap().to_string())
}

fn registration() -> Value {
    json!({
        "parties": [
            {"role": "applicant", "name": "李秀英", "phone": "13812345678",
             "id_number": "450321198001011237", "address": "阳朔县白沙镇遇龙村3组"},
            {"role": "respondent", "name": "王建国", "phone": "13987654321"}
        ],
        "consent_recorded": true,
        "dispute": "双方就承包地边界及青苗补偿发生争议"
    })
}

async fn detail(app: &TestApp, id: &str) -> Value {
    let op = app.login("operator").await;
    let (status, d) = app.get(&op, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    d
}

fn count(d: &Value, kind: &str) -> usize {
    timeline_kinds(d).iter().filter(|k| **k == kind).count()
}

/// Wait (real time) until the timeline has `n` events of `kind`.
async fn wait_events(app: &TestApp, id: &str, kind: &str, n: usize) -> Value {
    let started = std::time::Instant::now();
    loop {
        let d = detail(app, id).await;
        if count(&d, kind) >= n {
            return detail(app, id).await;
        }
        assert!(
            started.elapsed() < WAIT,
            "timed out waiting for {n} × {kind}: {:?}",
            timeline_kinds(&d)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_mail(smtp: &SmtpServer, number: &str, what: &str, to: &str) {
    let started = std::time::Instant::now();
    loop {
        if smtp
            .messages()
            .iter()
            .any(|m| m.subject.contains(number) && m.subject.contains(what) && m.to == to)
        {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "no {what} mail for {number} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Read live frames until an event of `kind` arrives; its frame.
async fn live_event(ws: &mut lianxin_tests::LiveSocket, kind: &str) -> Value {
    lianxin_tests::live_event_within(ws, kind, WAIT)
        .await
        .unwrap_or_else(|| panic!("no {kind} on the live feed"))
}

#[tokio::test]
async fn a_mediation_walks_from_registration_to_the_parties_confirmation() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(&smtp).await;
    let mediator = app.login("mediator").await;
    let mut feed = app.live_connect(&mediator).await;
    let (id, number) = mediation_case(&app, json!({})).await;
    let base = format!("/api/v1/cases/{id}/mediation");

    // Voluntary: no consent, no mediation.
    let mut no_consent = registration();
    no_consent["consent_recorded"] = json!(false);
    let got = app.put_json(&mediator, &base, no_consent).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "consent_recorded");
    let (status, m) = app.put_json(&mediator, &base, registration()).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["status"], "registered");
    assert_eq!(m["parties"][0]["phone"], "138****5678", "masked: {m}");
    assert_eq!(m["revealed"], false);
    let accepted = app.now();
    assert_eq!(
        m["first_session_due_at"].as_str().unwrap(),
        (accepted + Span::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let frame = live_event(&mut feed, "mediation.registered").await;
    assert_eq!(frame["case_id"], id.as_str());
    assert!(!frame.to_string().contains("13812345678"), "{frame}");

    // The outcome waits for the agreement on file; the agreement for a session.
    let outcome = format!("/api/v1/cases/{id}/outcome");
    let got = app
        .post_json(
            &mediator,
            &outcome,
            json!({"result": "agreement", "details": "达成协议"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "agreement");
    let agreement = json!({
        "form": "written", "number": "白调字〔2026〕第12号",
        "facts": "双方承包地相邻，因界桩移位发生争议。",
        "terms": "一、以原界桩为准恢复边界。\n二、王建国补偿李秀英青苗损失八百元。",
        "obligations": [
            {"text": "支付青苗补偿款800元（现金）", "party": "王建国", "due_at": (app.now() + Span::days(3)).to_rfc3339()},
            {"text": "会同村委会恢复界桩", "party": "李秀英", "due_at": (app.now() + Span::days(10)).to_rfc3339()}
        ],
        "effective_date": "2026-11-29"
    });
    let got = app
        .post_json(&mediator, &format!("{base}/agreement"), agreement.clone())
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");

    // Two sessions; a mediator from another unit is refused.
    let me = app.user_id("mediator").await;
    let station_user = app.user_id("station").await;
    let session = |mediators: Vec<uuid::Uuid>, hours: i64| {
        json!({"at": (app.now() - Span::hours(hours)).to_rfc3339(), "place": "遇龙村委会调解室",
               "mediators": mediators, "attendees": "李秀英、王建国、村委会主任", "summary": "听取双方陈述"})
    };
    let got = app
        .post_json(
            &mediator,
            &format!("{base}/sessions"),
            session(vec![station_user], 2),
        )
        .await;
    assert_eq!(got.1["error"]["field"], "mediators", "{}", got.1);
    for h in [2, 1] {
        let (status, m) = app
            .post_json(&mediator, &format!("{base}/sessions"), session(vec![me], h))
            .await;
        assert_eq!(status, StatusCode::OK, "{m}");
    }

    // The written agreement with two obligations.
    let (status, m) = app
        .post_json(&mediator, &format!("{base}/agreement"), agreement)
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["status"], "agreed");
    assert_eq!(m["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(m["agreement"]["obligations"].as_array().unwrap().len(), 2);
    assert_eq!(m["agreement"]["effective_date"], "2026-11-29");

    // The outcome dates from the agreement: the parties' window from it.
    let (status, c) = app
        .post_json(
            &mediator,
            &outcome,
            json!({"result": "agreement", "details": "达成书面调解协议"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["outcome"]["agreement_date"], "2026-11-29");
    assert_eq!(
        c["deadlines"]["confirmation_due_at"].as_str().unwrap(),
        "2026-12-29T00:00:00Z"
    );

    // Obligation 2 is performed on time; obligation 1 falls due unperformed:
    // the mediator is reminded, the case is not overdue.
    let (status, m) = app
        .post_json(
            &mediator,
            &format!("{base}/obligations/2/performed"),
            json!({"at": app.now().to_rfc3339(), "notes": "界桩已恢复"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["agreement"]["obligations"][1]["on_time"], true);
    app.clock.advance(Span::days(3) + Span::seconds(1));
    let mediator = app.login("mediator").await;
    let d = wait_events(&app, &id, "mediation.performance_due", 1).await;
    assert_eq!(d["overdue"], false);
    assert_eq!(count(&d, "deadline.missed"), 0, "{:?}", timeline_kinds(&d));
    wait_mail(&smtp, &number, "Obligation 1", "mediator@demo.lianxin").await;
    let (status, m) = app
        .post_json(
            &mediator,
            &format!("/api/v1/cases/{id}/mediation/agreement/obligations/1/performed"),
            json!({"at": app.now().to_rfc3339()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["agreement"]["obligations"][0]["on_time"], false);
    let got = app
        .post_json(
            &mediator,
            &format!("{base}/obligations/1/performed"),
            json!({"at": app.now().to_rfc3339()}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");

    // Day 20 from the effective date: the confirmation reminder; then applied.
    app.clock.advance(Span::days(17));
    let mediator = app.login("mediator").await;
    wait_events(&app, &id, "mediation.confirmation_reminder", 1).await;
    let (status, c) = app
        .post_json(
            &mediator,
            &format!("/api/v1/cases/{id}/confirmation"),
            json!({"status": "applied", "court": "阳朔县人民法院", "date": "2026-12-19"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let (_, m) = app.get(&mediator, &base).await;
    assert_eq!(m["confirmation"]["status"], "applied");

    let d = detail(&app, &id).await;
    for (kind, n) in [
        ("mediation.registered", 1),
        ("mediation.session_recorded", 2),
        ("mediation.agreement_recorded", 1),
        ("mediation.performance_due", 1),
        ("mediation.obligation_performed", 2),
        ("case.outcome_recorded", 1),
        ("mediation.confirmation_reminder", 1),
        ("mediation.confirmation_recorded", 1),
    ] {
        assert_eq!(count(&d, kind), n, "{kind}: {:?}", timeline_kinds(&d));
    }
    assert!(!d["timeline"].to_string().contains("13812345678"));

    // The figures.
    let supervisor = app.login("supervisor").await;
    let (status, f) = app.get(&supervisor, "/api/v1/reports/mediation").await;
    assert_eq!(status, StatusCode::OK, "{f}");
    assert_eq!(f["registered"], 1, "{f}");
    assert_eq!(f["agreed"], 1, "{f}");
    assert_eq!(f["obligations"], 2, "{f}");
    assert_eq!(f["obligations_performed_on_time"], 1, "{f}");
    assert_eq!(f["agreements_performed_on_time"], 0, "{f}");
    assert_eq!(f["confirmation_applied"], 1, "{f}");
    let got = app.get(&mediator, "/api/v1/reports/mediation").await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn the_agreement_document_shows_numbers_only_to_the_handling_unit_and_is_audited() {
    let app = spawn_app().await;
    let mediator = app.login("mediator").await;
    let (id, _) = mediation_case(&app, json!({})).await;
    let base = format!("/api/v1/cases/{id}/mediation");
    let mut reg = registration();
    reg["parties"][1]["name"] = json!("王<b>建国</b>");
    let (status, m) = app.put_json(&mediator, &base, reg).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    let got = app.get(&mediator, &format!("{base}/agreement.html")).await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
    let me = app.user_id("mediator").await;
    let (status, _) = app
        .post_json(&mediator, &format!("{base}/sessions"),
            json!({"at": app.now().to_rfc3339(), "place": "调解室", "mediators": [me], "summary": "调解"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, m) = app
        .post_json(&mediator, &format!("{base}/agreement"), json!({
            "form": "written", "number": "白调字〔2026〕第7号", "facts": "界桩移位",
            "terms": "恢复原界桩", "effective_date": "2026-11-29",
            "obligations": [{"text": "恢复界桩", "party": "王<b>建国</b>", "due_at": (app.now() + Span::days(5)).to_rfc3339()}]
        }))
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");

    let html = |token: String| {
        let rb = app.request(
            lianxin_tests::Method::GET,
            &token,
            &format!("{base}/agreement.html"),
        );
        async move {
            let resp = rb.send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
            assert!(ct.starts_with("text/html"), "{ct}");
            resp.text().await.unwrap()
        }
    };
    let full = html(mediator.clone()).await;
    for text in [
        "人民调解协议书",
        COMMITTEE,
        "白调字〔2026〕第7号",
        "李秀英",
        "13812345678",
        "450321198001011237",
        "恢复原界桩",
        "界桩移位",
        "人民调解员（签名）",
        "（印章）",
        "2026年11月29日",
        "王&lt;b&gt;建国&lt;/b&gt;",
        "@page{size:A4",
    ] {
        assert!(full.contains(text), "document lacks {text}:\n{full}");
    }
    assert!(!full.contains("<b>"), "markup from stored text");
    let supervisor = app.login("supervisor").await;
    let masked = html(supervisor.clone()).await;
    assert!(masked.contains("138****5678") && !masked.contains("13812345678"));
    let station = app.login("station").await;
    let got = app.get(&station, &format!("{base}/agreement.html")).await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    let log = app.audit_log().await;
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "mediation.agreement_document")
            .count(),
        2
    );

    // The mediation read: masked unless the handling unit asks (audited).
    let (status, m) = app.get(&mediator, &format!("{base}?reveal=true")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(m["parties"][0]["id_number"], "450321198001011237");
    let got = app.get(&supervisor, &format!("{base}?reveal=true")).await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let (_, m) = app.get(&supervisor, &base).await;
    assert_eq!(m["parties"][0]["phone"], "138****5678");
    assert!(app
        .audit_log()
        .await
        .iter()
        .any(|e| e.action == "mediation.reveal"));
    let got = app.get(&station, &base).await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    let got = app.put_json(&station, &base, registration()).await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");

    // The same obligation recorded twice at once: one wins, the other 409.
    let perf = format!("{base}/obligations/1/performed");
    let body = json!({"at": app.now().to_rfc3339()});
    let (a, b) = tokio::join!(
        app.post_json(&mediator, &perf, body.clone()),
        app.post_json(&mediator, &perf, body.clone())
    );
    let mut got = [a.0.as_u16(), b.0.as_u16()];
    got.sort();
    assert_eq!(got, [200, 409], "{} / {}", a.1, b.1);
    let d = detail(&app, &id).await;
    assert_eq!(count(&d, "mediation.obligation_performed"), 1);

    let (_, doc) = app.get("", "/api/v1/openapi.json").await;
    for p in [
        "/api/v1/cases/{case_id}/mediation",
        "/api/v1/cases/{case_id}/mediation/agreement.html",
        "/api/v1/cases/{case_id}/mediation/obligations/{n}/performed",
        "/api/v1/reports/mediation",
    ] {
        assert!(doc["paths"].get(p).is_some(), "openapi lacks {p}");
    }
    for schema in [
        "MediationView",
        "RegisterBody",
        "AgreementBody",
        "MediationFigures",
    ] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "openapi lacks the schema {schema}"
        );
    }
}

#[tokio::test]
async fn safety_comes_before_reconciliation() {
    let app = spawn_app().await;
    let mediator = app.login("mediator").await;
    let (id, _) = mediation_case(
        &app,
        json!({"category": "marriage_family", "danger_screen": {"in_progress": false, "answers": answers(&[1]), "screener_concern": false}}),
    )
    .await;
    let base = format!("/api/v1/cases/{id}/mediation");
    let got = app.put_json(&mediator, &base, registration()).await;
    assert_error(&got, StatusCode::CONFLICT, "mediation_unsafe");
    let got = app.get(&mediator, &base).await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    let mut body = registration();
    body["override_reason"] = json!("公安已处置完毕，当事人坚持调解财产分割");
    let (status, m) = app.put_json(&mediator, &base, body).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    let audit = app.audit_log().await;
    let row = audit
        .iter()
        .find(|e| e.action == "mediation.safety_override")
        .unwrap();
    assert_eq!(row.detail["risk_level"], "high");
}

#[tokio::test]
async fn a_mediation_ended_for_the_police_opens_the_escalation() {
    let app = spawn_app().await;
    let mut log = crate::changes::Touches::install(&app).await;
    let mediator = app.login("mediator").await;
    let (id, _) = mediation_case(&app, json!({})).await;
    let base = format!("/api/v1/cases/{id}/mediation");
    let (status, _) = app.put_json(&mediator, &base, registration()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail(&app, &id).await["escalation"].is_null());

    // The first session is the committee's deadline: missed, it says so,
    // without marking the case overdue.
    app.clock.advance(Span::days(7) + Span::seconds(1));
    let mediator = app.login("mediator").await;
    let d = wait_events(&app, &id, "deadline.missed", 1).await;
    let missed = d["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "deadline.missed")
        .unwrap();
    assert_eq!(missed["data"]["kind"], "mediation_first_session");

    let got = app
        .post_json(
            &mediator,
            &format!("{base}/terminate"),
            json!({"reason": "gone", "remedies_informed": true}),
        )
        .await;
    assert_eq!(got.1["error"]["field"], "reason", "{}", got.1);
    let (status, m) = app
        .post_json(&mediator, &format!("{base}/terminate"), json!({
            "reason": "escalated_to_police", "remedies_informed": true, "notes": "被申请人扬言报复，可能激化为刑事案件"
        }))
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["status"], "terminated");
    assert_eq!(m["termination"]["reason"], "escalated_to_police");
    let d = detail(&app, &id).await;
    assert_eq!(d["escalation"]["status"], "pending", "{}", d["escalation"]);
    assert_eq!(d["escalation"]["urgency"], "high");
    assert_eq!(
        d["risk_level"], "high",
        "the risk follows the escalation up"
    );
    let kinds = timeline_kinds(&d);
    let ended = kinds
        .iter()
        .position(|k| *k == "mediation.terminated")
        .unwrap();
    assert_eq!(
        kinds.get(ended + 1),
        Some(&"escalation.raised"),
        "{kinds:?}"
    );
    let police = app.login("police").await;
    let (status, list) = app.get(&police, "/api/v1/escalations").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["case_id"] == id.as_str()));
    // Ended: nothing more is recorded on it.
    let me = app.user_id("mediator").await;
    let got = app
        .post_json(&mediator, &format!("{base}/sessions"),
            json!({"at": app.now().to_rfc3339(), "place": "调解室", "mediators": [me], "summary": "x"}))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
    log.check("the whole test").await;
}
