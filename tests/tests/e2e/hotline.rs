//! The hotline's own loop (issue 18), end to end on the real server with a
//! manual clock (it starts on Sunday 29 Nov 2026, 17:00 Beijing time):
//! a missed CTI call becomes a callback due in office time, one call is
//! one call record and gets its disposition, a resolved case gets its
//! satisfaction callback on the next working day (the New Year holiday in
//! between pushes it), `unsatisfied` with the handling reopens the case
//! with an urging mail, and an unsafe contact suppresses the callback.
use chrono::Duration as Span;
use lianxin::db::entities::mail;
use lianxin_tests::{
    assert_error, spawn_app_with, timeline_kinds, StatusCode, TestApp, TestOptions,
};
use sea_orm::EntityTrait;
use serde_json::{json, Value};

use crate::common::{self, accept, wait_timeline, YULONG};

const SECRET: &str = "exchange-secret";

async fn app() -> TestApp {
    spawn_app_with(TestOptions::default().settings(|s| s.cti.secret = SECRET.into())).await
}

async fn cti(app: &TestApp, body: Value) -> Value {
    let rb = app
        .client
        .post(app.url("/api/v1/cti/events"))
        .header("X-CTI-Secret", SECRET)
        .json(&body);
    let (status, v) = app.send(rb).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    v
}

async fn open_case(app: &TestApp, phone: &str) -> Value {
    common::open_case(
        app,
        json!({
            "category": "domestic_violence", "region_code": YULONG,
            "summary": "丈夫长期殴打，想离婚",
            "subject": {"name": "王芳", "phone": phone},
        }),
    )
    .await
}

/// The station accepts the case and records it resolved.
async fn resolve(app: &TestApp, case_id: &str) -> Value {
    accept(app, "station", case_id).await;
    let station = app.login("station").await;
    let (status, v) = app
        .post_json(
            &station,
            &format!("/api/v1/cases/{case_id}/outcome"),
            json!({"result": "resolved", "details": "已协助申请保护令并联系娘家"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn callbacks(app: &TestApp, query: &str) -> Vec<Value> {
    let op = app.login("operator").await;
    let (status, page) = app.get(&op, &format!("/api/v1/callbacks{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_missed_call_becomes_a_callback_due_in_office_time() {
    let app = app().await;
    // Sunday 17:00 Beijing: she rings, nobody answers.
    cti(
        &app,
        json!({"event": "ringing", "call_ref": "m1", "from": "13912345678"}),
    )
    .await;
    cti(
        &app,
        json!({"event": "hangup", "call_ref": "m1", "from": "13912345678", "cause": "noAnswer"}),
    )
    .await;
    // She tries again: one callback for her number, not two.
    cti(
        &app,
        json!({"event": "hangup", "call_ref": "m2", "from": "139 1234 5678"}),
    )
    .await;
    // An answered call that ends normally is no missed call.
    cti(&app, json!({"event": "answered", "call_ref": "a1", "from": "13700000001", "operator": "operator"})).await;
    cti(&app, json!({"event": "hangup", "call_ref": "a1", "from": "13700000001", "cause": "normalClearing"})).await;

    let queue = callbacks(&app, "").await;
    assert_eq!(queue.len(), 1, "{queue:?}");
    let cb = &queue[0];
    assert_eq!(cb["kind"], "missed_call");
    assert_eq!(cb["status"], "open");
    assert_eq!(cb["phone"], "139****5678", "masked in the list");
    // Two office hours from Monday 08:30 Beijing: 10:30, 02:30 UTC.
    assert_eq!(cb["due_at"], "2026-11-30T02:30:00Z");

    // The full number is an audited read.
    let op = app.login("operator").await;
    let id = cb["id"].as_str().unwrap();
    let (_, full) = app
        .get(&op, &format!("/api/v1/callbacks/{id}?reveal=true"))
        .await;
    assert_eq!(full["phone"], "13912345678");
    assert!(app
        .audit_log()
        .await
        .iter()
        .any(|a| a.action == "callback.reveal"));

    // Stations do not work the hotline's queue.
    let station = app.login("station").await;
    let got = app.get(&station, "/api/v1/callbacks").await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");

    // Three unreachable attempts close it.
    for n in 1..=3 {
        let (status, v) = app
            .post_json(
                &op,
                &format!("/api/v1/callbacks/{id}/attempts"),
                json!({"reached": false, "notes": format!("第{n}次无人接听")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["status"], if n < 3 { "open" } else { "unreachable" });
    }
    let got = app
        .post_json(
            &op,
            &format!("/api/v1/callbacks/{id}/attempts"),
            json!({"reached": false}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
    assert!(callbacks(&app, "").await.is_empty());
    assert_eq!(callbacks(&app, "?status=unreachable").await.len(), 1);
    let got = app.get(&op, "/api/v1/callbacks?cursor=garbage").await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn one_call_is_one_record_with_its_disposition() {
    let app = app().await;
    cti(&app, json!({"event": "ringing", "call_ref": "c1", "from": "13812340000", "operator": "operator"})).await;
    let answered = cti(&app, json!({"event": "answered", "call_ref": "c1", "from": "13812340000", "operator": "operator"})).await;
    let op = app.login("operator").await;
    // The console logs the call it was shown: the exchange's record.
    let (status, call) = app
        .post_json(&op, "/api/v1/calls",
            json!({"caller_phone": "13812340000", "channel": "hotline", "call_ref": "c1", "summary": "咨询离婚财产分割"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    assert_eq!(call["id"], answered["call_id"], "one call, one record");
    assert_eq!(call["summary"], "咨询离婚财产分割");
    let (_, pop) = app.get(&op, "/api/v1/callers/13812340000").await;
    assert_eq!(pop["calls"].as_array().unwrap().len(), 1, "{pop}");

    let id = call["id"].as_str().unwrap();
    let path = format!("/api/v1/calls/{id}/disposition");
    let got = app.post_json(&op, &path, json!({"kind": "answered"})).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let got = app
        .post_json(&op, &path, json!({"kind": "consultation_answered"}))
        .await;
    assert_eq!(got.1["error"]["field"], "topics", "{}", got.1);
    let got = app
        .post_json(&op, &path, json!({"kind": "work_order"}))
        .await;
    assert_eq!(
        got.1["error"]["field"], "kind",
        "a work order has a case: {}",
        got.1
    );
    let (status, done) = app
        .post_json(&op, &path, json!({"kind": "consultation_answered", "topics": ["legal", "marriage_family", "legal"], "notes": "已告知起诉离婚程序"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["disposition"], "consultation_answered");
    assert_eq!(done["topics"], json!(["legal", "marriage_family"]));
    let station = app.login("station").await;
    let got = app
        .post_json(&station, &path, json!({"kind": "silent"}))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = app
        .post_json(
            &op,
            "/api/v1/calls/00000000-0000-0000-0000-000000000000/disposition",
            json!({"kind": "silent"}),
        )
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn satisfaction_callback_on_the_next_working_day_and_unsatisfied_reopens() {
    let app = app().await;
    let mut log = crate::changes::Touches::install(&app).await;
    // Thursday 31 Dec 2026, 17:00 Beijing: New Year's Day is a holiday,
    // then a weekend.
    app.clock.advance(Span::days(32));
    let case = open_case(&app, "13812345678").await;
    let case_id = case["id"].as_str().unwrap();
    let number = case["number"].as_str().unwrap().to_string();
    resolve(&app, case_id).await;

    let queue = callbacks(&app, "?kind=satisfaction").await;
    assert_eq!(queue.len(), 1, "{queue:?}");
    let cb = &queue[0];
    assert_eq!(cb["case_id"], case_id);
    assert_eq!(cb["case_number"], number.as_str());
    assert_eq!(
        cb["due_at"], "2027-01-04T09:00:00Z",
        "Monday after the holiday"
    );
    let op = app.login("operator").await;
    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
    assert!(
        timeline_kinds(&detail).contains(&"callback.scheduled"),
        "{detail}"
    );

    let id = cb["id"].as_str().unwrap();
    let path = format!("/api/v1/callbacks/{id}/result");
    let got = app.post_json(&op, &path, json!({"notes": "x"})).await;
    assert_eq!(got.1["error"]["field"], "satisfaction", "{}", got.1);
    let got = app
        .post_json(&op, &path, json!({"satisfaction": "unsatisfied"}))
        .await;
    assert_eq!(got.1["error"]["field"], "reason", "{}", got.1);
    app.clock.advance(Span::days(4));
    let op = app.login_fresh("operator").await;
    let (status, done) = app
        .post_json(&op, &path, json!({"satisfaction": "unsatisfied", "reason": "handling", "notes": "说站里没人再联系她"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "done");
    assert_eq!(done["result"]["satisfaction"], "unsatisfied");

    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(detail["status"], "in_progress", "reopened for re-handling");
    let reopened = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "case.reopened")
        .expect("case.reopened");
    assert_eq!(reopened["data"]["reason"], "unsatisfied");
    // 15 working days from Monday 4 Jan 2027, 17:00 Beijing.
    assert_eq!(
        detail["deadlines"]["resolve_due_at"],
        "2027-01-25T09:00:00Z"
    );
    let urging: Vec<_> = mail::Entity::find()
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.contains("督办") && m.subject.contains(&number))
        .collect();
    assert!(!urging.is_empty(), "an urging mail to the unit");
    assert!(!urging[0].body.contains("王芳"), "no name in mail");
    let got = app
        .post_json(&op, &path, json!({"satisfaction": "satisfied"}))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "invalid_transition");
    log.check("the whole test").await;
}

#[tokio::test]
async fn an_unsafe_contact_suppresses_the_callback() {
    let app = app().await;
    let case = open_case(&app, "13812345679").await;
    let case_id = case["id"].as_str().unwrap();
    let path = format!("/api/v1/cases/{case_id}/contact-safety");
    let station = app.login("station").await;
    let (status, none) = app.get(&station, &path).await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert!(none["contact"].is_null());
    let got = app
        .put_json(
            &station,
            &path,
            json!({"safe_to_call": true, "safe_hours": "九点"}),
        )
        .await;
    assert_eq!(got.1["error"]["field"], "safe_hours", "{}", got.1);
    let (status, set) = app
        .put_json(&station, &path, json!({"safe_to_call": false, "no_sms": true, "code_word": "买化肥", "notes": "丈夫查看她的手机"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["contact"]["code_word"], "买化肥");
    assert_eq!(set["may_call_now"], false);
    // A supervisor reads whether she may be called, not the code word.
    let sup = app.login("supervisor").await;
    let (status, seen) = app.get(&sup, &path).await;
    if status == StatusCode::OK {
        assert!(seen["contact"]["code_word"].is_null(), "{seen}");
    }
    resolve(&app, case_id).await;
    assert!(callbacks(&app, "?kind=satisfaction").await.is_empty());
    let op = app.login("operator").await;
    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
    let suppressed = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "callback.suppressed")
        .expect("callback.suppressed");
    assert_eq!(suppressed["data"]["reason"], "unsafe_to_call");
    let set_event = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "case.contact_safety_set")
        .unwrap();
    assert!(
        set_event["data"]["code_word"].is_null(),
        "never in the feed"
    );
}

#[tokio::test]
async fn an_extension_moves_the_deadline_and_a_late_one_is_refused() {
    let app = app().await;
    let case = open_case(&app, "13812345670").await;
    let case_id = case["id"].as_str().unwrap();
    // 15 working days from Sunday 29 Nov: Friday 18 Dec, 17:00 Beijing.
    assert_eq!(case["deadlines"]["resolve_due_at"], "2026-12-18T09:00:00Z");
    accept(&app, "station", case_id).await;
    let station = app.login("station").await;
    let path = format!("/api/v1/cases/{case_id}/extension");
    let ask = json!({"until": "2026-12-31T09:00:00Z", "reason": "等待法律援助中心出具意见"});
    let op = app.login("operator").await;
    let got = app.post_json(&op, &path, ask.clone()).await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = app
        .post_json(
            &station,
            &path,
            json!({"until": "2026-12-01T09:00:00Z", "reason": "x"}),
        )
        .await;
    assert_eq!(got.1["error"]["field"], "until", "{}", got.1);
    let (status, ext) = app.post_json(&station, &path, ask.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{ext}");
    assert_eq!(ext["status"], "pending");
    let got = app.post_json(&station, &path, ask.clone()).await;
    assert_error(&got, StatusCode::CONFLICT, "extension_pending");

    let ext_id = ext["id"].as_str().unwrap();
    let got = app
        .post_json(
            &station,
            &format!("/api/v1/extensions/{ext_id}/approve"),
            json!({}),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let (status, approved) = app
        .post_json(
            &op,
            &format!("/api/v1/extensions/{ext_id}/approve"),
            json!({"note": "同意"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    let got = app
        .post_json(
            &op,
            &format!("/api/v1/extensions/{ext_id}/refuse"),
            json!({}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "extension_decided");
    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(
        detail["deadlines"]["resolve_due_at"],
        "2026-12-31T09:00:00Z"
    );
    let moved = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "case.deadline_extended")
        .expect("case.deadline_extended");
    assert_eq!(moved["data"]["from"], "2026-12-18T09:00:00Z");
    assert_eq!(moved["data"]["to"], "2026-12-31T09:00:00Z");

    // Refused: the deadline stays.
    let (_, again) = app
        .post_json(
            &station,
            &path,
            json!({"until": "2027-01-15T09:00:00Z", "reason": "再等等"}),
        )
        .await;
    let again_id = again["id"].as_str().unwrap();
    let (status, refused) = app
        .post_json(
            &op,
            &format!("/api/v1/extensions/{again_id}/refuse"),
            json!({"note": "请按期办结"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(refused["status"], "refused");
    let (_, list) = app.get(&station, &path).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");

    // After the deadline: too late.
    app.clock.advance(Span::days(33));
    let station = app.login_fresh("station").await;
    let got = app
        .post_json(
            &station,
            &path,
            json!({"until": "2027-02-15T09:00:00Z", "reason": "晚了"}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "too_late");
}

#[tokio::test]
async fn a_duplicate_is_closed_into_its_original_and_the_pop_groups_them() {
    let app = app().await;
    let original = open_case(&app, "13812345671").await;
    let dup = open_case(&app, "13812345671").await;
    let (orig_id, dup_id) = (
        original["id"].as_str().unwrap(),
        dup["id"].as_str().unwrap(),
    );
    let orig_number = original["number"].as_str().unwrap();
    let op = app.login("operator").await;
    let path = format!("/api/v1/cases/{dup_id}/link");
    let got = app
        .post_json(
            &op,
            &path,
            json!({"other_case_id": dup_id, "kind": "duplicate"}),
        )
        .await;
    assert_eq!(got.1["error"]["field"], "other_case_id", "{}", got.1);
    let got = app
        .post_json(
            &op,
            &path,
            json!({"other_case_id": "LX-NOPE", "kind": "duplicate"}),
        )
        .await;
    assert_eq!(got.1["error"]["field"], "other_case_id", "{}", got.1);
    let station = app.login("station").await;
    let got = app
        .post_json(
            &station,
            &path,
            json!({"other_case_id": orig_number, "kind": "duplicate"}),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    // Named by its number, as the operator reads it out.
    let (status, links) = app
        .post_json(
            &op,
            &path,
            json!({"other_case_id": orig_number, "kind": "duplicate"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{links}");
    assert_eq!(links[0]["case_id"], orig_id);
    assert_eq!(links[0]["role"], "duplicate_of");
    let got = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{orig_id}/link"),
            json!({"other_case_id": dup_id, "kind": "related"}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "already_linked");

    let (_, d) = app.get(&op, &format!("/api/v1/cases/{dup_id}")).await;
    assert_eq!(d["status"], "closed");
    let (_, o) = app.get(&op, &format!("/api/v1/cases/{orig_id}")).await;
    assert_ne!(o["status"], "closed");
    assert!(timeline_kinds(&o).contains(&"case.duplicate_merged"), "{o}");
    let (_, pop) = app.get(&op, "/api/v1/callers/13812345671").await;
    let cases = pop["cases"].as_array().unwrap();
    let brief = |id: &str| cases.iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(brief(dup_id)["duplicate_of"], orig_id);
    assert_eq!(brief(orig_id)["linked_case_ids"], json!([dup_id]));
}

#[tokio::test]
async fn referral_clocks_count_working_days_and_skip_the_holiday() {
    let app = app().await;
    // Friday 2 Apr 2027, 15:00 Beijing; Monday 5 Apr is Qingming (清明节,
    // from ops/calendar/2027.txt).
    app.clock.advance(Span::days(124) - Span::hours(2));
    let case = open_case(&app, "13812345670").await;
    let case_id = case["id"].as_str().unwrap();
    let station = app.login_fresh("station").await;
    let (status, r) = app
        .post_json(
            &station,
            &format!("/api/v1/cases/{case_id}/referrals"),
            json!({"kind": "legal_aid", "request": "申请法律援助，代理离婚诉讼",
                "legal_basis": "consent", "consent": {"given_by": "本人电话同意"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    // Two working days: Tuesday 6 and Wednesday 7 Apr, 15:00 — not
    // Sunday 4 Apr by the calendar.
    assert_eq!(r["accept_due_at"], "2027-04-07T07:00:00Z", "{r}");
    let id = r["id"].as_str().unwrap();

    // Tuesday 10:00: legal aid accepts; its reply window (7 days) counts
    // working days too: Thursday 15 Apr, not Tuesday 13 Apr.
    app.clock.advance(Span::days(3) + Span::hours(19));
    let legalaid = app.login_fresh("legalaid").await;
    let (status, r) = app
        .post_json(
            &legalaid,
            &format!("/api/v1/referrals/{id}/accept"),
            json!({"version": r["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["reply_due_at"], "2027-04-15T02:00:00Z", "{r}");
    let (_, detail) = app.get(&station, &format!("/api/v1/cases/{case_id}")).await;
    assert!(
        !timeline_kinds(&detail).contains(&"deadline.missed"),
        "nothing missed over the holiday: {detail}"
    );
}

#[tokio::test]
async fn a_follow_up_call_is_scheduled_from_the_case_page_unless_unsafe() {
    let app = app().await;
    let case = open_case(&app, "13812345672").await;
    let case_id = case["id"].as_str().unwrap();
    let path = format!("/api/v1/cases/{case_id}/callbacks");
    let op = app.login("operator").await;
    let station = app.login("station").await;
    // Monday 30 Nov 2026, 10:00 Beijing.
    let body = json!({"due_at": "2026-11-30T02:00:00Z", "notes": "询问保护令申请进展"});
    let got = app.post_json(&station, &path, body.clone()).await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = app
        .post_json(&op, &path, json!({"due_at": "2026-11-28T02:00:00Z"}))
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(got.1["error"]["field"], "due_at");

    let (status, cb) = app.post_json(&op, &path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{cb}");
    assert_eq!(cb["kind"], "follow_up");
    assert_eq!(cb["status"], "open");
    assert_eq!(cb["phone"], "138****5672");
    assert_eq!(cb["notes"], "询问保护令申请进展");
    let queue = callbacks(&app, "?kind=follow_up").await;
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["id"], cb["id"]);
    assert_eq!(queue[0]["case_id"], case_id);
    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
    let scheduled = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "callback.scheduled")
        .cloned()
        .expect("callback.scheduled");
    assert_eq!(scheduled["data"]["kind"], "follow_up");

    // Its deadline row: past its time and still open, the timeline says so.
    app.clock.advance(Span::hours(18));
    let op = app.login_fresh("operator").await;
    wait_timeline(&app, case_id, "callback.overdue", |tl| {
        common::count(tl, "callback.overdue", |d| d["kind"] == "follow_up") == 1
    })
    .await;

    // Her safe hours are evenings: a call at 10:00 is refused, 19:00 is not.
    let station = app.login_fresh("station").await;
    let safety = format!("/api/v1/cases/{case_id}/contact-safety");
    let (status, v) = app
        .put_json(
            &station,
            &safety,
            json!({"safe_to_call": true, "safe_hours": "18:00-20:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let got = app
        .post_json(&op, &path, json!({"due_at": "2026-12-01T02:00:00Z"}))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "outside_safe_hours");
    let (status, v) = app
        .post_json(&op, &path, json!({"due_at": "2026-12-01T11:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");

    // Calls become unsafe: the open ones are cancelled, a new one refused.
    let (status, v) = app
        .put_json(&station, &safety, json!({"safe_to_call": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let got = app
        .post_json(&op, &path, json!({"due_at": "2026-12-01T11:00:00Z"}))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "unsafe_to_call");
    assert!(callbacks(&app, "?kind=follow_up").await.is_empty());
}

#[tokio::test]
async fn supervisors_read_their_regions_callbacks_and_figures_only() {
    let app = app().await;
    // A missed call (no place), a case in 阳朔县 and one in 灵川县.
    cti(
        &app,
        json!({"event": "hangup", "call_ref": "s1", "from": "13912340000", "cause": "noAnswer"}),
    )
    .await;
    let ours = open_case(&app, "13812340001").await;
    let op = app.login("operator").await;
    let theirs = common::open_case(
        &app,
        json!({
            "category": "domestic_violence", "region_code": "450323101201",
            "summary": "丈夫威胁", "subject": {"name": "李梅", "phone": "13812340002"},
        }),
    )
    .await;
    let due = json!({"due_at": "2026-11-30T02:00:00Z"});
    let mut ids = Vec::new();
    for case in [&ours, &theirs] {
        let path = format!("/api/v1/cases/{}/callbacks", case["id"].as_str().unwrap());
        let (status, cb) = app.post_json(&op, &path, due.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{cb}");
        ids.push(cb["id"].as_str().unwrap().to_string());
    }
    assert_eq!(callbacks(&app, "").await.len(), 3, "the hotline sees all");

    // The 阳朔县 supervisor: her county's callback only, read-only.
    let sup = app.login("supervisor").await;
    let (status, page) = app.get(&sup, "/api/v1/callbacks").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["id"], ids[0].as_str());
    assert_eq!(items[0]["phone"], "138****0001");
    let (status, _) = app
        .get(&sup, &format!("/api/v1/callbacks/{}", ids[0]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = app
        .get(&sup, &format!("/api/v1/callbacks/{}", ids[1]))
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    let got = app
        .get(&sup, &format!("/api/v1/callbacks/{}?reveal=true", ids[0]))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = app
        .post_json(
            &sup,
            &format!("/api/v1/callbacks/{}/attempts", ids[0]),
            json!({"reached": false}),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    let got = app
        .post_json(
            &sup,
            &format!("/api/v1/callbacks/{}/result", ids[0]),
            json!({"notes": "x"}),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    // She may schedule a follow-up in her region, not elsewhere (404).
    let path = format!("/api/v1/cases/{}/callbacks", ours["id"].as_str().unwrap());
    let (status, v) = app.post_json(&sup, &path, due.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let path = format!("/api/v1/cases/{}/callbacks", theirs["id"].as_str().unwrap());
    let got = app.post_json(&sup, &path, due).await;
    assert_error(&got, StatusCode::NOT_FOUND, "not_found");

    // Her figures: her region's callbacks.
    let (status, report) = app
        .get(&sup, "/api/v1/reports/hotline?to=2026-11-30T00:00:00Z")
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["callbacks"]["follow_up"]["open"], 2, "{report}");
    assert!(report["callbacks"].get("missed_call").is_none(), "{report}");
}
