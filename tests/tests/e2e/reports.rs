//! The supervisor summary's daily counters (issue 20): the counts the
//! database keeps per Beijing day (`case_daily_counts`,
//! `deadline_daily_counts`) agree with a recount of the cases and
//! deadlines after opens, transfers, resolves, missed deadlines and a
//! reopen, and the summary over whole days plus partial edges answers
//! what a recount of the period says. (The counters are kept on SQLite
//! only; on PostgreSQL the summary part checks the index path.)
use std::collections::BTreeMap;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use lianxin::db::entities::{case, deadline, escalation};
use lianxin_tests::*;
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use serde_json::{json, Value};
use uuid::Uuid;

const YULONG: &str = "450321101201"; // 遇龙村, 白沙镇, 阳朔县
const JIUXIAN: &str = "450321101202"; // 旧县村, 白沙镇, 阳朔县
const XIONGCUN: &str = "450323101201"; // 熊村, 灵川县: outside the supervisor's county

type CaseKey = (String, String, String, String, Option<Uuid>, bool);
type DeadlineKey = (String, String, String);

fn beijing_day(t: DateTime<Utc>) -> String {
    let off = FixedOffset::east_opt(8 * 3600).unwrap();
    t.with_timezone(&off).format("%Y-%m-%d").to_string()
}

async fn open(app: &TestApp, category: &str, region: &str) -> String {
    let op = app.login("operator").await;
    let (status, case) = app
        .post_json(
            &op,
            "/api/v1/cases",
            json!({"category": category, "region_code": region, "summary": "统计核对", "subject": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case["id"].as_str().unwrap().to_string()
}

/// Transfer the case to the first of `units` it is not with.
async fn transfer(app: &TestApp, id: &str, units: &[Uuid]) {
    let op = app.login("operator").await;
    let (_, c) = app.get(&op, &format!("/api/v1/cases/{id}")).await;
    let to = units
        .iter()
        .find(|u| c["assigned_unit_id"] != json!(u.to_string()))
        .unwrap();
    ok(
        app,
        "operator",
        format!("/api/v1/cases/{id}/transfer"),
        json!({"unit_id": to, "reason": "转办"}),
    )
    .await;
}

async fn ok(app: &TestApp, user: &str, path: String, body: Value) {
    let token = app.login(user).await;
    let (status, v) = app.post_json(&token, &path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {v}");
}

/// What the counters hold (zero rows left out).
async fn counters(app: &TestApp) -> (BTreeMap<CaseKey, i64>, BTreeMap<DeadlineKey, (i64, i64)>) {
    let conn = &app.state.db.conn;
    let backend = conn.get_database_backend();
    let sql = |s: &str| Statement::from_string(backend, s.to_string());
    let mut cases = BTreeMap::new();
    for r in conn
        .query_all_raw(sql(
            "SELECT day, region_code, category, status, unit_id, overdue, n FROM case_daily_counts",
        ))
        .await
        .unwrap()
    {
        let n: i64 = r.try_get("", "n").unwrap();
        let unit: Uuid = r.try_get("", "unit_id").unwrap();
        if n != 0 {
            let key = (
                r.try_get("", "day").unwrap(),
                r.try_get("", "region_code").unwrap(),
                r.try_get("", "category").unwrap(),
                r.try_get("", "status").unwrap(),
                (!unit.is_nil()).then_some(unit),
                r.try_get("", "overdue").unwrap(),
            );
            cases.insert(key, n);
        }
    }
    let mut deadlines = BTreeMap::new();
    for r in conn
        .query_all_raw(sql(
            "SELECT day, region_code, kind, met, missed FROM deadline_daily_counts",
        ))
        .await
        .unwrap()
    {
        let (met, missed): (i64, i64) = (
            r.try_get("", "met").unwrap(),
            r.try_get("", "missed").unwrap(),
        );
        if met != 0 || missed != 0 {
            let key = (
                r.try_get("", "day").unwrap(),
                r.try_get("", "region_code").unwrap(),
                r.try_get("", "kind").unwrap(),
            );
            deadlines.insert(key, (met, missed));
        }
    }
    (cases, deadlines)
}

/// The same counts, recounted from every case and deadline.
async fn recount(app: &TestApp) -> (BTreeMap<CaseKey, i64>, BTreeMap<DeadlineKey, (i64, i64)>) {
    let conn = &app.state.db.conn;
    let all = case::Entity::find().all(conn).await.unwrap();
    let mut cases = BTreeMap::new();
    for c in &all {
        let key = (
            beijing_day(c.created_at),
            c.region_code.clone(),
            c.category.to_string(),
            c.status.to_string(),
            c.assigned_unit_id,
            c.overdue,
        );
        *cases.entry(key).or_insert(0) += 1;
    }
    let by_id: BTreeMap<Uuid, &case::Model> = all.iter().map(|c| (c.id, c)).collect();
    let esc: BTreeMap<Uuid, Uuid> = escalation::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.case_id))
        .collect();
    let mut deadlines = BTreeMap::new();
    for d in deadline::Entity::find().all(conn).await.unwrap() {
        let case_id = esc.get(&d.subject_id).copied().unwrap_or(d.subject_id);
        let Some(c) = by_id.get(&case_id) else {
            continue;
        };
        let missed = d.fired_at.is_some();
        let met = !missed && d.cancelled_at.is_some_and(|at| at <= d.due_at);
        if met || missed {
            let e = deadlines
                .entry((
                    beijing_day(c.created_at),
                    c.region_code.clone(),
                    d.kind.clone(),
                ))
                .or_insert((0, 0));
            e.0 += i64::from(met);
            e.1 += i64::from(missed);
        }
    }
    (cases, deadlines)
}

async fn assert_counters_agree(app: &TestApp, when: &str) {
    if app.is_postgres() {
        return; // counters are kept on SQLite only
    }
    let (kept, counted) = (counters(app).await, recount(app).await);
    assert_eq!(kept.0, counted.0, "case counters after {when}");
    assert_eq!(kept.1, counted.1, "deadline counters after {when}");
    assert!(!kept.0.is_empty());
}

async fn wait_missed(app: &TestApp) {
    let started = Instant::now();
    loop {
        let fired = deadline::Entity::find()
            .all(&app.state.db.conn)
            .await
            .unwrap()
            .iter()
            .filter(|d| d.fired_at.is_some())
            .count();
        if fired > 0 {
            return;
        }
        assert!(
            started.elapsed() < StdDuration::from_secs(20),
            "no deadline fired"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn daily_counters_agree_with_a_recount_and_the_summary_reads_them() {
    let app = spawn_app().await;
    // Sunday 17:00 Beijing: three cases, one outside the county.
    let beaten = open(&app, "domestic_violence", YULONG).await;
    let neighbours = open(&app, "neighbor_dispute", JIUXIAN).await;
    open(&app, "land_rights", XIONGCUN).await;
    assert_counters_agree(&app, "opens").await;

    // 01:00 the next Beijing day: another case; a transfer; a resolve.
    app.clock.advance(Duration::hours(8));
    let marriage = open(&app, "marriage_family", YULONG).await;
    let mediation = app.unit_id("白沙镇人民调解委员会").await;
    let county = app.unit_id("阳朔县妇联").await;
    transfer(&app, &neighbours, &[mediation, county]).await;
    ok(
        &app,
        "station",
        format!("/api/v1/cases/{beaten}/accept"),
        json!({}),
    )
    .await;
    ok(
        &app,
        "station",
        format!("/api/v1/cases/{beaten}/outcome"),
        json!({"result": "resolved", "details": "已协助申请保护令"}),
    )
    .await;
    assert_counters_agree(&app, "a transfer and a resolve").await;

    // Days pass: accept deadlines are missed (fired, overdue), then the
    // resolved case is reopened.
    app.clock.advance(Duration::days(3));
    wait_missed(&app).await;
    ok(
        &app,
        "supervisor",
        format!("/api/v1/cases/{beaten}/reopen"),
        json!({"reason": "回访不满意，重新处理"}),
    )
    .await;
    transfer(&app, &marriage, &[county, mediation]).await;
    let counted = recount(&app).await;
    if !app.is_postgres() {
        let kept = counters(&app).await;
        assert_eq!(
            kept, counted,
            "counters after missed deadlines and a reopen"
        );
    }
    assert!(
        counted.1.values().any(|(_, missed)| *missed > 0)
            && counted.1.values().any(|(met, _)| *met > 0),
        "met and missed deadlines both counted: {:?}",
        counted.1
    );

    // The supervisor's summary over partial edges and whole days answers
    // what a recount of her county's cases in the period says.
    let from = start_time() - Duration::hours(3);
    let to = app.now() + Duration::hours(2);
    let sup = app.login_fresh("supervisor").await;
    let q = format!(
        "/api/v1/reports/summary?from={}&to={}",
        from.to_rfc3339().replace('+', "%2B"),
        to.to_rfc3339().replace('+', "%2B")
    );
    let (status, summary) = app.get(&sup, &q).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let all = case::Entity::find().all(&app.state.db.conn).await.unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|c| c.region_code.starts_with("450321"))
        .collect();
    assert_eq!(summary["total"], mine.len(), "{summary}");
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for c in &mine {
        *by_status.entry(c.status.to_string()).or_insert(0) += 1;
    }
    assert_eq!(summary["by_status"], json!(by_status), "{summary}");
    assert_eq!(
        summary["overdue"],
        mine.iter().filter(|c| c.overdue).count(),
        "{summary}"
    );
    let (met, missed) = counted
        .1
        .iter()
        .filter(|((_, region, kind), _)| {
            region.starts_with("450321") && lianxin::cases::clocks::counts_in_figures(kind)
        })
        .fold((0, 0), |(a, b), (_, (m, x))| (a + m, b + x));
    assert_eq!(summary["deadlines"]["met"], met, "{summary}");
    assert_eq!(summary["deadlines"]["missed"], missed, "{summary}");
    assert!(missed > 0, "{summary}");
}
