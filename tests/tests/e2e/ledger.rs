//! The ledger of left-behind women (issue 17), end to end on both
//! engines: a 1,000-row screening file with planted bad rows (the report
//! names each), the same file again (nothing changes), a changed file
//! (only the changes), a ringing call from a ledger phone with her flags
//! and safe contact, a domestic-violence case linked by ID number that
//! sets `rights_violated`, another township's station refused (404), the
//! operator, the police and units that keep no ledger refused (403, the
//! list too), a review reminder fired on the test clock and mailed by the
//! weekly job, the first review counted from the screening day, and one
//! safe contact across a case and the person it is linked to.
use std::time::Duration;

use chrono::Duration as Span;
use futures_util::StreamExt;
use lianxin::{
    db::entities::{deadline, mail},
    ledger::{entity::person, sample},
    scheduler::jobs::{run_occurrence, Job},
};
use lianxin_tests::{
    assert_error, spawn_app, spawn_app_with, timeline_kinds, Method, StatusCode, TestApp,
    TestOptions,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter,
    Statement,
};
use serde_json::{json, Value};

/// 遇龙村 and 旧县村 (白沙镇), 福利村 (福利镇), all in 阳朔县.
const YULONG: &str = "450321101201";
const JIUXIAN: &str = "450321101202";
const FULI: &str = "450321102201";
/// 熊村 (大圩镇, 灵川县): another county.
const XIONGCUN: &str = "450323101201";

async fn import(app: &TestApp, token: &str, file: &[u8]) -> (StatusCode, Value) {
    let rb = app
        .request(Method::POST, token, "/api/v1/ledger/imports")
        .header("content-type", "text/csv")
        .body(file.to_vec());
    app.send(rb).await
}

async fn persons(app: &TestApp) -> u64 {
    person::Entity::find()
        .count(&app.state.db.conn)
        .await
        .unwrap()
}

fn reasons(report: &Value) -> Vec<(u64, String, String)> {
    let mut r: Vec<(u64, String, String)> = report["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["row"].as_u64().unwrap(),
                x["field"].as_str().unwrap().to_string(),
                x["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    r.sort();
    r
}

/// A person of the file with ID `id`, name `name`, phone `phone`.
fn line(name: &str, id: &str, phone: &str, village: &str, flags: &str) -> String {
    line_screened(name, id, phone, village, flags, "2026-10-15")
}

/// The same, screened on `screened` (the 排查日期 column).
fn line_screened(
    name: &str,
    id: &str,
    phone: &str,
    village: &str,
    flags: &str,
    screened: &str,
) -> String {
    format!("{name},{id},,{phone},{village},2024-01,是,{flags},张主任,{screened}\n")
}

#[tokio::test]
async fn a_screening_file_imports_with_a_report_once_and_then_only_its_changes() {
    let app = spawn_app().await;
    let civil = app.login("civil").await;
    // On file before: 张三 with this ID number.
    let known = sample::id_number("450321", 50_000);
    let first = format!(
        "{}\n{}",
        lianxin::ledger::parse::HEADER,
        line("张三", &known, "13700000001", YULONG, "否,否,否,否,否,否")
    );
    let (status, r) = import(&app, &civil, first.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["created"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(0)),
        "{r}"
    );

    // 995 good rows, then five bad ones (rows 997–1001 with the header).
    let good = sample::csv(&[YULONG, JIUXIAN, FULI], 995, 0);
    let mut bad_id = sample::id_number("450321", 60_000);
    let last = if bad_id.ends_with('1') { '2' } else { '1' };
    bad_id.replace_range(17.., &last.to_string());
    let dup = good.lines().nth(1).unwrap().to_string();
    let file = format!(
        "{good}{}{}{}{dup}\n{}",
        line("王五", &bad_id, "13700000002", YULONG, "否,否,否,否,否,否"),
        line(
            "赵六",
            &sample::id_number("450321", 60_001),
            "13700000003",
            "450321101299",
            "否,否,否,否,否,否"
        ),
        line(
            "钱七",
            &sample::id_number("450321", 60_002),
            "13700000004",
            XIONGCUN,
            "否,否,否,否,否,否"
        ),
        line("李四", &known, "13700000005", YULONG, "否,否,否,否,否,否"),
    );
    let (status, r) = import(&app, &civil, file.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["rows"], 1000, "{r}");
    assert_eq!(
        (
            r["created"].as_u64(),
            r["updated"].as_u64(),
            r["unchanged"].as_u64()
        ),
        (Some(995), Some(0), Some(0))
    );
    assert_eq!(
        reasons(&r),
        vec![
            (997, "id_number".into(), "bad_id_checksum".into()),
            (998, "village_code".into(), "unknown_village".into()),
            (999, "village_code".into(), "outside_county".into()),
            (1000, "id_number".into(), "duplicate_in_file".into()),
            (
                1001,
                "id_number".into(),
                "id_on_file_with_other_name".into()
            ),
        ],
        "{r}"
    );
    assert_eq!(persons(&app).await, 996);
    if app.state.db.is_postgres() {
        // A large import leaves fresh statistics behind it, so that the
        // deadline engine claims her review by its key, not by a scan.
        let analysed = app
            .state
            .db
            .conn
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT count(*) FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL \
                 AND relname IN ('ledger_persons', 'ledger_phones', 'deadlines')",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        assert_eq!(analysed, 3, "statistics refreshed after the import");
    }

    // The same file again: nothing changes.
    let (status, again) = import(&app, &civil, file.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["repeated"], true);
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(again["rejected"], 5);
    assert_eq!(persons(&app).await, 996);

    // A changed file (GB18030, as Excel saves it): three rows changed,
    // two new; only those are written.
    let mut lines: Vec<String> = file.lines().map(str::to_string).collect();
    for k in [1, 2, 3] {
        lines[k] = lines[k].replacen(",否,", ",是,", 1);
    }
    let extra = sample::csv(&[FULI], 2, 70_000);
    let mut text = lines.join("\n");
    text.push('\n');
    text.push_str(
        extra
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
            .as_str(),
    );
    text.push('\n');
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    let (status, r) = import(&app, &civil, &gb).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["created"].as_u64(),
            r["updated"].as_u64(),
            r["unchanged"].as_u64(),
            r["rejected"].as_u64()
        ),
        (Some(2), Some(3), Some(992), Some(5)),
        "{r}"
    );
    assert_eq!(persons(&app).await, 998);
    let bumped = person::Entity::find()
        .filter(person::Column::Version.eq(2))
        .count(&app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(bumped, 3);

    // A station imports for its own township only; the operator not at all.
    let op = app.login("operator").await;
    assert_eq!(
        import(&app, &op, first.as_bytes()).await.0,
        StatusCode::FORBIDDEN
    );
    let bad = import(&app, &civil, b"name,foo\n").await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

pub(crate) async fn one_person(
    app: &TestApp,
    flags: &str,
    phone: &str,
    n: usize,
) -> (String, String) {
    let civil = app.login("civil").await;
    let id = sample::id_number("450321", n);
    let file = format!(
        "{}\n{}",
        lianxin::ledger::parse::HEADER,
        line("黄秀英", &id, phone, YULONG, flags)
    );
    let (status, r) = import(app, &civil, file.as_bytes()).await;
    assert_eq!(
        (status, r["created"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{r}"
    );
    let station = app.login("station").await;
    let (status, page) = app
        .get(&station, &format!("/api/v1/ledger/persons?q={phone}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    (page["items"][0]["id"].as_str().unwrap().to_string(), id)
}

#[tokio::test]
async fn a_ringing_call_from_a_ledger_phone_shows_her_flags_and_safe_contact() {
    let app = spawn_app_with(
        TestOptions::default().settings(|s| s.cti.secret = "cti-test-secret".into()),
    )
    .await;
    // low_income=是, disabled=是.
    let (pid, _) = one_person(&app, "是,否,是,否,否,否", "13812340001", 1).await;
    let station = app.login("station").await;
    let (status, p) = app
        .patch_json(&station, &format!("/api/v1/ledger/persons/{pid}"),
            json!({"safe_contact": {"safe_to_call": true, "safe_hours": "09:00-11:00", "no_sms": true,
                   "notes": "丈夫在家时不要来电"}, "version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    // A stale version is refused.
    let stale = app
        .patch_json(
            &station,
            &format!("/api/v1/ledger/persons/{pid}"),
            json!({"in_village": true, "version": 1}),
        )
        .await;
    assert_error(&stale, StatusCode::CONFLICT, "version_conflict");

    let op = app.login("operator").await;
    let mut ws = app.live_connect(&op).await;
    let ring = app
        .request(Method::POST, "", "/api/v1/cti/events")
        .header("X-CTI-Secret", "cti-test-secret")
        .json(&json!({"event": "ringing", "call_ref": "r1", "from": "+86 138 1234 0001", "operator": "operator"}));
    let (status, body) = app.send(ring).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let pop = loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if v["type"] == "call.ringing" {
            break v;
        }
    };
    let ledger = &pop["history"]["ledger"];
    assert_eq!(ledger["person_id"], pid.as_str(), "{pop}");
    assert_eq!(ledger["flags"]["low_income"], true);
    assert_eq!(ledger["flags"]["disabled"], true);
    assert_eq!(ledger["left_behind"], true);
    assert_eq!(ledger["safe_contact"]["no_sms"], true);
    assert_eq!(ledger["safe_contact"]["notes"], "丈夫在家时不要来电");
    let text = ledger.to_string();
    assert!(
        !text.contains("黄秀英") && !text.contains("id_number"),
        "{text}"
    );

    // The same in the screen pop the operator asks for.
    let (status, hist) = app.get(&op, "/api/v1/callers/13812340001").await;
    assert_eq!(status, StatusCode::OK, "{hist}");
    assert_eq!(hist["ledger"]["person_id"], pid.as_str());
    let (status, none) = app.get(&op, "/api/v1/callers/13812349999").await;
    assert_eq!((status, &none["ledger"]), (StatusCode::OK, &Value::Null));
}

#[tokio::test]
async fn intake_links_by_id_number_sets_rights_violated_and_proposes_by_phone() {
    let app = spawn_app().await;
    let (pid, id) = one_person(&app, "否,否,否,否,否,否", "13812340002", 2).await;
    let (other, _) = one_person(&app, "否,否,否,否,否,否", "13812340003", 3).await;
    let op = app.login("operator").await;
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "domestic_violence", "region_code": YULONG,
            "summary": "丈夫殴打", "subject": {"name": "黄秀英", "id_number": id}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    assert_eq!(case["ledger_person_id"], pid.as_str(), "{case}");
    let station = app.login("station").await;
    let (status, p) = app
        .get(&station, &format!("/api/v1/ledger/persons/{pid}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["flags"]["rights_violated"], true, "{p}");
    assert_eq!(p["cases"][0]["id"], case["id"]);
    assert!(p["id_number"].as_str().unwrap().contains('*'), "{p}");

    // By phone: proposed, then linked by hand.
    let (status, case2) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "safety_threat", "region_code": YULONG,
            "summary": "邻居威胁", "subject": {"phone": "138-1234-0003"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case2}");
    assert_eq!(case2["ledger_person_id"], Value::Null);
    assert_eq!(
        case2["ledger_matches"][0]["person_id"],
        other.as_str(),
        "{case2}"
    );
    let (status, link) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{}/person", case2["id"].as_str().unwrap()),
            json!({"person_id": other}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    assert_eq!(link["rights_violated_set"], true);
}

#[tokio::test]
async fn scope_refuses_other_townships_and_full_reads_by_operators_and_police() {
    let app = spawn_app().await;
    let (pid, _) = one_person(&app, "否,否,否,否,否,否", "13812340004", 4).await;
    let admin = app.login("admin").await;
    let unit = app.unit_id("阳朔镇妇女维权站").await;
    let (status, u) = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({"username": "ysz-station", "password": lianxin_tests::DEMO_PASSWORD,
            "role": "station_worker", "unit_id": unit}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{u}");
    let other = app.login("ysz-station").await;
    let path = format!("/api/v1/ledger/persons/{pid}");
    assert_error(
        &app.get(&other, &path).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, page) = app.get(&other, "/api/v1/ledger/persons").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0, "{page}");
    for who in ["operator", "police"] {
        let t = app.login(who).await;
        assert_eq!(app.get(&t, &path).await.0, StatusCode::FORBIDDEN, "{who}");
    }
    // Her village committee, the county's civil affairs and the county's
    // supervisor read her; a full read and a reveal are audited.
    for who in ["village", "civil", "supervisor"] {
        let t = app.login(who).await;
        assert_eq!(app.get(&t, &path).await.0, StatusCode::OK, "{who}");
    }
    let station = app.login("station").await;
    let (status, p) = app.get(&station, &format!("{path}?reveal=true")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p["phones"][0], "13812340004");
    let audit = app.audit_log().await;
    assert!(audit.iter().any(|a| a.action == "ledger.reveal"));
    assert!(audit.iter().filter(|a| a.action == "ledger.read").count() >= 3);
    // The report for the county counts her.
    let sup = app.login("supervisor").await;
    let (status, rep) = app
        .get(&sup, "/api/v1/reports/ledger?region_code=450321000000")
        .await;
    assert_eq!(status, StatusCode::OK, "{rep}");
    assert_eq!(rep["persons"], 1, "{rep}");
    assert_eq!(rep["left_behind"], 1);
    assert_eq!(rep["areas"][0]["region_code"], "450321101000");
    // The contract names every ledger path.
    let (_, doc) = app.get("", "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/ledger/imports",
        "/api/v1/ledger/persons",
        "/api/v1/ledger/persons/{person_id}",
        "/api/v1/ledger/persons/{person_id}/visits",
        "/api/v1/cases/{case_id}/person",
        "/api/v1/reports/ledger",
    ] {
        assert!(doc["paths"].get(path).is_some(), "openapi lacks {path}");
    }
    assert!(doc["components"]["schemas"].get("LedgerSummary").is_some());
}

#[tokio::test]
async fn a_visit_sets_the_next_review_which_fires_and_is_mailed_weekly() {
    let app = spawn_app().await;
    let (pid, _) = one_person(&app, "否,否,否,否,否,否", "13812340005", 5).await;
    let station = app.login("station").await;
    let at = app.now();
    let (status, v) = app
        .post_json(
            &station,
            &format!("/api/v1/ledger/persons/{pid}/visits"),
            json!({"at": at, "kind": "home_visit", "notes": "身体好转"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (_, p) = app
        .get(&station, &format!("/api/v1/ledger/persons/{pid}"))
        .await;
    let due = (at + Span::days(180)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(p["review_due_at"], due.as_str(), "{p}");
    assert_eq!(p["review_due"], false);
    assert_eq!(p["visits"][0]["kind"], "home_visit");

    app.clock.advance(Span::days(181));
    let pid_uuid: uuid::Uuid = pid.parse().unwrap();
    let mut fired = false;
    for _ in 0..100 {
        fired = deadline::Entity::find()
            .filter(deadline::Column::SubjectId.eq(pid_uuid))
            .filter(deadline::Column::Kind.eq("ledger.review"))
            .filter(deadline::Column::FiredAt.is_not_null())
            .count(&app.state.db.conn)
            .await
            .unwrap()
            > 0;
        if fired {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fired, "the review deadline fired");
    let station = app.login_fresh("station").await;
    let (_, page) = app
        .get(&station, "/api/v1/ledger/persons?review_due=true")
        .await;
    assert_eq!(page["items"][0]["id"], pid.as_str(), "{page}");
    assert_eq!(page["items"][0]["review_due"], true);

    run_occurrence(&app.state, Job::LedgerReviews, app.now()).await;
    let to: Vec<String> = mail::Entity::find()
        .filter(mail::Column::Subject.contains("台账回访"))
        .all(&app.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.recipient)
        .collect();
    assert!(
        to.contains(&"bs-station@demo.lianxin".to_string()),
        "{to:?}"
    );
    assert!(to.contains(&"ys-civil@demo.lianxin".to_string()), "{to:?}");
}

#[tokio::test]
async fn units_that_keep_no_ledger_are_refused_403_on_the_list_and_on_a_person() {
    let app = spawn_app().await;
    let (pid, _) = one_person(&app, "否,否,否,否,否,否", "13812340010", 10).await;
    let path = format!("/api/v1/ledger/persons/{pid}");
    // Legal aid (a county department), a mediation committee of her own
    // township, the police, the operator: forbidden, never an empty list.
    for who in ["legalaid", "mediator", "police", "operator"] {
        let t = app.login(who).await;
        for p in ["/api/v1/ledger/persons", path.as_str()] {
            assert_error(&app.get(&t, p).await, StatusCode::FORBIDDEN, "forbidden");
        }
        let (status, _) = app
            .get(&t, "/api/v1/reports/ledger?region_code=450321000000")
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: the report");
    }
    // A person that does not exist is refused the same way: 403 says
    // nothing about who is on the ledger.
    let legal = app.login("legalaid").await;
    assert_error(
        &app.get(
            &legal,
            &format!("/api/v1/ledger/persons/{}", uuid::Uuid::new_v4()),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // Her own station still reads the list.
    let station = app.login("station").await;
    let (status, page) = app.get(&station, "/api/v1/ledger/persons").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["id"], pid.as_str());
}

/// The first person the list finds by `phone`.
async fn by_phone(app: &TestApp, token: &str, phone: &str) -> Value {
    let (_, page) = app
        .get(token, &format!("/api/v1/ledger/persons?q={phone}"))
        .await;
    page["items"][0].clone()
}

#[tokio::test]
async fn an_imported_persons_first_review_is_due_after_her_screening_day() {
    let app = spawn_app().await;
    let civil = app.login("civil").await;
    let (early, late) = (
        sample::id_number("450321", 20),
        sample::id_number("450321", 21),
    );
    let file = format!(
        "{}\n{}{}{}",
        lianxin::ledger::parse::HEADER,
        line_screened(
            "韦春花",
            &early,
            "13812340020",
            YULONG,
            "否,否,否,否,否,否",
            "2026-03-15"
        ),
        line_screened(
            "覃月娥",
            &late,
            "13812340021",
            YULONG,
            "否,否,否,否,否,否",
            "2026-10-15"
        ),
        // No screening day: from the import.
        line_screened("莫金凤", "", "13812340022", YULONG, "否,否,否,否,否,否", ""),
    );
    let (status, r) = import(&app, &civil, file.as_bytes()).await;
    assert_eq!(
        (status, r["created"].as_u64()),
        (StatusCode::OK, Some(3)),
        "{r}"
    );
    let station = app.login("station").await;
    let due_of = |phone: &'static str| by_phone(&app, &station, phone);
    // 2026-03-15 in Beijing starts at 2026-03-14T16:00Z; 180 days on.
    let p = due_of("13812340020").await;
    assert_eq!(p["review_due_at"], "2026-09-10T16:00:00Z", "{p}");
    assert_eq!(p["review_due"], true, "due already: {p}");
    let p = due_of("13812340021").await;
    assert_eq!(p["review_due_at"], "2027-04-12T16:00:00Z", "{p}");
    assert_eq!(p["review_due"], false);
    let p = due_of("13812340022").await;
    let from_import =
        (app.now() + Span::days(180)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(p["review_due_at"], from_import.as_str(), "{p}");
    // The deadline row agrees, and the township's due list has her.
    let row = deadline::Entity::find()
        .filter(deadline::Column::Kind.eq("ledger.review"))
        .all(&app.state.db.conn)
        .await
        .unwrap();
    let mut dues: Vec<String> = row
        .iter()
        .map(|d| d.due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .collect();
    dues.sort();
    assert_eq!(dues[0], "2026-09-10T16:00:00Z", "{dues:?}");
    // The review past due is fired by the import itself (the engine has
    // nothing left to claim for her); the two to come wait for it.
    let fired: Vec<(Option<&str>, bool)> = row
        .iter()
        .map(|d| (d.claimed_by.as_deref(), d.fired_at.is_some()))
        .filter(|(_, fired)| *fired)
        .collect();
    assert_eq!(fired, [(Some("ledger.import"), true)], "{row:?}");
    assert_eq!(row.iter().filter(|d| d.fired_at.is_none()).count(), 2);
    let (_, page) = app
        .get(&station, "/api/v1/ledger/persons?review_due=true")
        .await;
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["韦春花"], "{page}");
}

#[tokio::test]
async fn a_linked_cases_safe_contact_is_the_persons_and_a_case_linked_later_takes_hers() {
    let app = spawn_app().await;
    let (pid, id) = one_person(&app, "否,否,否,否,否,否", "13812340030", 30).await;
    let op = app.login("operator").await;
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "marriage_family", "region_code": YULONG,
            "summary": "婚姻纠纷", "subject": {"name": "黄秀英", "id_number": id}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    assert_eq!(case["ledger_person_id"], pid.as_str());
    let case_id = case["id"].as_str().unwrap();
    // Setting the case's safe contact sets hers on the ledger too.
    let safe = json!({"safe_to_call": false, "safe_hours": "09:00-11:00", "no_sms": true,
        "code_word": "买菜", "notes": "丈夫在家"});
    let (status, got) = app
        .put_json(
            &op,
            &format!("/api/v1/cases/{case_id}/contact-safety"),
            safe.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let station = app.login("station").await;
    let person = format!("/api/v1/ledger/persons/{pid}");
    let (_, p) = app.get(&station, &person).await;
    assert_eq!(p["safe_contact"], safe, "{p}");
    assert_eq!(p["version"], 2, "{p}");
    // The screen pop says so.
    let (_, pop) = app.get(&op, "/api/v1/callers/13812340030").await;
    assert_eq!(
        pop["ledger"]["safe_contact"]["safe_to_call"], false,
        "{pop}"
    );

    // A case opened without her ID number, linked later, takes hers.
    let (_, later) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "marriage_family", "region_code": YULONG,
            "summary": "再次来电", "subject": {"phone": "13812340030"}}),
        )
        .await;
    let later_id = later["id"].as_str().unwrap();
    let contact = format!("/api/v1/cases/{later_id}/contact-safety");
    let (_, none) = app.get(&op, &contact).await;
    assert!(none["contact"].is_null(), "{none}");
    let (status, link) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{later_id}/person"),
            json!({"person_id": pid}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let (_, took) = app.get(&op, &contact).await;
    assert_eq!(took["contact"], safe, "{took}");
    assert_eq!(took["may_call_now"], false);
    let (_, detail) = app.get(&op, &format!("/api/v1/cases/{later_id}")).await;
    assert!(
        detail.to_string().contains("case.contact_safety_set"),
        "the timeline says so: {detail}"
    );

    // A case with a safe contact of its own keeps it when linked.
    let (_, own) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "marriage_family", "region_code": YULONG,
            "summary": "第三次来电", "subject": {"phone": "13812340030"}}),
        )
        .await;
    let own_id = own["id"].as_str().unwrap();
    let own_safe = json!({"safe_to_call": true, "safe_hours": null, "no_sms": false,
        "code_word": null, "notes": null});
    let path = format!("/api/v1/cases/{own_id}/contact-safety");
    let (status, _) = app.put_json(&op, &path, own_safe.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post_json(
            &op,
            &format!("/api/v1/cases/{own_id}/person"),
            json!({"person_id": pid}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, kept) = app.get(&op, &path).await;
    assert_eq!(kept["contact"], own_safe, "{kept}");
    let (_, p) = app.get(&station, &person).await;
    assert_eq!(
        p["safe_contact"], safe,
        "linking alone changes nothing of hers: {p}"
    );
    // Set on that case now that it is linked: hers again (one safe contact).
    let (status, _) = app.put_json(&op, &path, own_safe.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, p) = app.get(&station, &person).await;
    assert_eq!(p["safe_contact"], own_safe, "{p}");
}

#[tokio::test]
async fn a_case_linked_at_intake_takes_her_safe_contact_and_its_timeline_says_so() {
    let app = spawn_app().await;
    let (pid, id) = one_person(&app, "否,否,否,否,否,否", "13812340040", 40).await;
    let station = app.login("station").await;
    let safe = json!({"safe_to_call": false, "safe_hours": "09:00-11:00", "no_sms": true,
        "code_word": "买菜", "notes": "丈夫在家"});
    let (status, p) = app
        .patch_json(
            &station,
            &format!("/api/v1/ledger/persons/{pid}"),
            json!({"safe_contact": safe, "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    // Opened with her ID number: linked at intake, her safe contact taken.
    let op = app.login("operator").await;
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "marriage_family", "region_code": YULONG,
            "summary": "婚姻纠纷", "subject": {"name": "黄秀英", "id_number": id}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    assert_eq!(case["ledger_person_id"], pid.as_str(), "{case}");
    let case_id = case["id"].as_str().unwrap();
    let (_, took) = app
        .get(&op, &format!("/api/v1/cases/{case_id}/contact-safety"))
        .await;
    assert_eq!(took["contact"], safe, "{took}");
    assert_eq!(took["may_call_now"], false, "{took}");
    let (status, detail) = app.get(&op, &format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let kinds = timeline_kinds(&detail);
    assert!(kinds.contains(&"case.contact_safety_set"), "{kinds:?}");
    let event = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "case.contact_safety_set")
        .unwrap();
    assert_eq!(event["data"]["from"], "ledger", "{event}");
    assert_eq!(event["data"]["safe_to_call"], false, "{event}");
    assert_eq!(event["data"]["no_sms"], true, "{event}");
    assert_eq!(event["actor_id"], detail["created_by"], "{event}");
    assert!(
        !event.to_string().contains("买菜") && !event.to_string().contains("丈夫在家"),
        "never the code word or notes: {event}"
    );

    // A case whose subject is not on the ledger: no such event.
    let (_, other) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": "marriage_family", "region_code": YULONG,
            "summary": "婚姻纠纷", "subject": {"name": "陈某", "id_number": sample::id_number("450321", 41)}}),
        )
        .await;
    let (_, d) = app
        .get(
            &op,
            &format!("/api/v1/cases/{}", other["id"].as_str().unwrap()),
        )
        .await;
    assert!(
        !timeline_kinds(&d).contains(&"case.contact_safety_set"),
        "{d}"
    );
}

#[tokio::test]
async fn her_contact_person_is_chosen_from_the_keepers_of_her_village() {
    let app = spawn_app().await;
    let (pid, _) = one_person(&app, "否,否,否,否,否,否", "13812340050", 50).await;
    let station = app.login("station").await;
    let (status, list) = app
        .get(
            &station,
            &format!("/api/v1/ledger/contact-persons?village_code={YULONG}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["display_name"].as_str().unwrap())
        .collect();
    // Her village's committee first, then her township's station, then
    // county civil affairs; no legal aid, mediators, supervisors.
    let pos = |n: &str| names.iter().position(|x| x.contains(n));
    let (village, station_at, civil) = (pos("蒋秀"), pos("李芳"), pos("周红"));
    assert!(
        village.is_some() && station_at.is_some() && civil.is_some(),
        "{names:?}"
    );
    assert!(village < station_at && station_at < civil, "{names:?}");
    for not in ["黄静", "陈明", "刘敏", "王丽"] {
        assert!(pos(not).is_none(), "{not} is no keeper: {names:?}");
    }
    // Outside the station's township: 404; a bad code: 422 on the field.
    let far = app
        .get(
            &station,
            &format!("/api/v1/ledger/contact-persons?village_code={FULI}"),
        )
        .await;
    assert_error(&far, StatusCode::NOT_FOUND, "not_found");
    let bad = app
        .get(&station, "/api/v1/ledger/contact-persons?village_code=4503")
        .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(bad.1["error"]["field"], "village_code");

    // A PATCH naming legal aid is refused on the field; naming the
    // village's women's director sets her, with phones normalised.
    let path = format!("/api/v1/ledger/persons/{pid}");
    let legal = app.user_id("legalaid").await;
    let refused = app
        .patch_json(
            &station,
            &path,
            json!({"contact_person_user_id": legal, "version": 1}),
        )
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(refused.1["error"]["field"], "contact_person_user_id");
    let bad_phone = app
        .patch_json(&station, &path, json!({"phones": ["12345"], "version": 1}))
        .await;
    assert_error(
        &bad_phone,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(bad_phone.1["error"]["field"], "phones");
    let director = app.user_id("village").await;
    let (status, p) = app
        .patch_json(
            &station,
            &path,
            json!({"contact_person_user_id": director, "name": "黄秀英（改）",
                "phones": ["+86 138-1234-0051", "139 0000 0052"], "village_code": JIUXIAN, "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(
        p["error"]["field"], "contact_person_user_id",
        "遇龙村's director keeps no ledger of 旧县村: {p}"
    );
    let (status, p) = app
        .patch_json(
            &station,
            &path,
            json!({"contact_person_user_id": director, "name": "黄秀英（改）",
                "phones": ["+86 138-1234-0051", "139 0000 0052"], "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(
        p["contact_person"]["display_name"],
        "遇龙村村委会 妇女主任 蒋秀"
    );
    assert_eq!(p["name"], "黄秀英（改）");
    let (_, full) = app.get(&station, &format!("{path}?reveal=true")).await;
    let phones = full["phones"].as_array().unwrap();
    assert!(
        phones.iter().any(|x| x == "13812340051") && phones.len() == 2,
        "{full}"
    );
}
