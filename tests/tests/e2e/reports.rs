//! The supervisor summary's counters (issue 20): the counts the database
//! keeps per Beijing day and region code (`report_counts`, plus
//! PostgreSQL's pending `report_count_deltas`) agree with a recount of the
//! cases and deadlines after opens, transfers, resolves, missed deadlines
//! and a reopen, and under many concurrent writers; the summary over whole
//! days plus partial edges, for her county and narrowed to one village,
//! answers what a recount of the period says. Both engines.
use std::collections::{BTreeMap, BTreeSet};
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

/// (Beijing day, region code, dim, value) → n: what `report_counts` keeps.
type Key = (String, String, String, String);
type Counts = BTreeMap<Key, i64>;

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

/// What the counters and their pending deltas hold (zero rows left
/// out; unit ids in one spelling).
async fn counters(app: &TestApp) -> Counts {
    let conn = &app.state.db.conn;
    let sql = "SELECT day, region_code, dim, value, CAST(SUM(n) AS BIGINT) AS n FROM \
        (SELECT day, region_code, dim, value, n FROM report_counts \
        UNION ALL SELECT day, region_code, dim, value, n FROM report_count_deltas) x \
        GROUP BY day, region_code, dim, value";
    let mut out = BTreeMap::new();
    for r in conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
    {
        let n: i64 = r.try_get("", "n").unwrap();
        let dim: String = r.try_get("", "dim").unwrap();
        let mut value: String = r.try_get("", "value").unwrap();
        if dim == "unit" && !value.is_empty() {
            value = Uuid::parse_str(&value).unwrap().simple().to_string();
        }
        if n != 0 {
            let key = (
                r.try_get("", "day").unwrap(),
                r.try_get("", "region_code").unwrap(),
                dim,
                value,
            );
            out.insert(key, n);
        }
    }
    out
}

/// The same counts, recounted from every case and deadline.
async fn recount(app: &TestApp) -> Counts {
    let conn = &app.state.db.conn;
    let all = case::Entity::find().all(conn).await.unwrap();
    let mut out = BTreeMap::new();
    let mut add = |day: &str, region: &str, dim: &str, value: String, n: i64| {
        if n != 0 {
            *out.entry((day.to_string(), region.to_string(), dim.to_string(), value))
                .or_insert(0) += n;
        }
    };
    for c in &all {
        let day = beijing_day(c.created_at);
        let unit = c.assigned_unit_id.map(|u| u.simple().to_string());
        add(&day, &c.region_code, "category", c.category.to_string(), 1);
        add(&day, &c.region_code, "status", c.status.to_string(), 1);
        add(&day, &c.region_code, "unit", unit.unwrap_or_default(), 1);
        add(
            &day,
            &c.region_code,
            "overdue",
            String::new(),
            i64::from(c.overdue),
        );
    }
    let by_id: BTreeMap<Uuid, &case::Model> = all.iter().map(|c| (c.id, c)).collect();
    let esc: BTreeMap<Uuid, Uuid> = escalation::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.case_id))
        .collect();
    for d in deadline::Entity::find().all(conn).await.unwrap() {
        let case_id = esc.get(&d.subject_id).copied().unwrap_or(d.subject_id);
        let Some(c) = by_id.get(&case_id) else {
            continue;
        };
        let day = beijing_day(c.created_at);
        let missed = d.fired_at.is_some();
        let met = !missed && d.cancelled_at.is_some_and(|at| at <= d.due_at);
        let settled = missed || d.cancelled_at.is_some();
        for (dim, yes) in [("met", met), ("missed", missed), ("settled", settled)] {
            add(&day, &c.region_code, dim, d.kind.clone(), i64::from(yes));
        }
    }
    out
}

async fn assert_counters_agree(app: &TestApp, when: &str) {
    let (kept, counted) = (counters(app).await, recount(app).await);
    assert_eq!(kept, counted, "counters after {when}");
    assert!(!kept.is_empty());
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
    assert_counters_agree(&app, "missed deadlines and a reopen").await;
    let counted = recount(&app).await;
    for dim in ["met", "missed"] {
        assert!(
            counted.keys().any(|k| k.2 == dim),
            "{dim} deadlines counted: {counted:?}"
        );
    }

    // The supervisor's summary over partial edges and whole days answers
    // what a recount of her county's cases in the period says, and so
    // does the summary narrowed to one of its villages (its other village
    // and the county next door left out).
    let from = start_time() - Duration::hours(3);
    let to = app.now() + Duration::hours(2);
    assert_summary_is_a_recount(&app, from, to, None, &counted).await;
    let village = assert_summary_is_a_recount(&app, from, to, Some(YULONG), &counted).await;
    assert_eq!(village["total"], 2, "{village}");
}

/// The supervisor's summary of `[from, to)` (her county, or narrowed to
/// `village`) against a recount of the cases and `counted`; the summary.
async fn assert_summary_is_a_recount(
    app: &TestApp,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    village: Option<&str>,
    counted: &Counts,
) -> Value {
    let region = village.unwrap_or("450321");
    let sup = app.login_fresh("supervisor").await;
    let at = |t: DateTime<Utc>| t.to_rfc3339().replace('+', "%2B");
    let mut q = format!("/api/v1/reports/summary?from={}&to={}", at(from), at(to));
    if let Some(v) = village {
        q.push_str(&format!("&region_code={v}"));
    }
    let (status, summary) = app.get(&sup, &q).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let all = case::Entity::find().all(&app.state.db.conn).await.unwrap();
    let mine: Vec<_> = all
        .iter()
        .filter(|c| c.region_code.starts_with(region))
        .collect();
    assert_eq!(summary["total"], mine.len(), "{summary}");
    let (mut by_status, mut by_category) = (BTreeMap::new(), BTreeMap::new());
    let mut by_unit: BTreeMap<String, u64> = BTreeMap::new();
    for c in &mine {
        *by_status.entry(c.status.to_string()).or_insert(0) += 1;
        *by_category.entry(c.category.to_string()).or_insert(0) += 1;
        let unit = c.assigned_unit_id.map(|u| u.to_string());
        *by_unit.entry(unit.unwrap_or_default()).or_insert(0) += 1;
    }
    assert_eq!(summary["by_status"], json!(by_status), "{summary}");
    assert_eq!(summary["by_category"], json!(by_category), "{summary}");
    let units: BTreeMap<String, u64> = summary["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let id = u["unit_id"].as_str().unwrap_or_default().to_string();
            (id, u["count"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(units, by_unit, "{summary}");
    assert_eq!(
        summary["overdue"],
        mine.iter().filter(|c| c.overdue).count(),
        "{summary}"
    );
    let mine = |k: &Key, dim: &str| {
        k.1.starts_with(region) && k.2 == dim && lianxin::cases::clocks::counts_in_figures(&k.3)
    };
    let sum = |dim: &str| -> i64 {
        counted
            .iter()
            .filter(|(k, _)| mine(k, dim))
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(summary["deadlines"]["met"], sum("met"), "{summary}");
    assert_eq!(summary["deadlines"]["missed"], sum("missed"), "{summary}");
    assert!(sum("missed") > 0, "{summary}");
    // Every kind with a deadline that fell due is listed, met or not.
    let kinds: BTreeSet<&String> = counted
        .keys()
        .filter(|k| mine(k, "settled"))
        .map(|k| &k.3)
        .collect();
    let listed: BTreeSet<&String> = summary["deadlines_by_kind"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(listed, kinds, "{summary}");
    summary
}

/// Many writers at once — opens, accepts, deadlines firing — never fail
/// (the PostgreSQL counters once deadlocked here) and leave the counters
/// equal to a recount.
#[tokio::test]
async fn counters_stay_exact_under_concurrent_writers() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let body = |i: usize| {
        let village = if i.is_multiple_of(2) { YULONG } else { JIUXIAN };
        json!({"category": "domestic_violence", "region_code": village, "summary": "并发统计", "subject": {}})
    };
    let opened = futures_util::future::join_all(
        (0..40).map(|i| app.post_json(&op, "/api/v1/cases", body(i))),
    )
    .await;
    let ids: Vec<String> = opened
        .iter()
        .map(|(status, c)| {
            assert_eq!(*status, StatusCode::CREATED, "{c}");
            c["id"].as_str().unwrap().to_string()
        })
        .collect();
    // Accept deadlines of the other half fire while cases are accepted
    // and more are opened.
    app.clock.advance(Duration::days(3));
    let (op, station) = (
        app.login_fresh("operator").await,
        app.login_fresh("station").await,
    );
    let accepts = ids[..20].iter().map(|id| {
        let path = format!("/api/v1/cases/{id}/accept");
        let station = station.clone();
        let app = &app;
        async move { app.post_json(&station, &path, json!({})).await }
    });
    let opens = (40..80).map(|i| app.post_json(&op, "/api/v1/cases", body(i)));
    let (accepted, opened) = tokio::join!(
        futures_util::future::join_all(accepts),
        futures_util::future::join_all(opens)
    );
    for (status, v) in accepted.iter().chain(opened.iter()) {
        assert!(status.is_success(), "{status}: {v}");
    }
    wait_missed(&app).await;
    // The scheduler may still be firing: the two must meet within 20 s.
    let started = Instant::now();
    loop {
        let (kept, counted) = (counters(&app).await, recount(&app).await);
        if kept == counted {
            assert!(counted.keys().any(|k| k.2 == "missed"), "{counted:?}");
            break;
        }
        assert!(
            started.elapsed() < StdDuration::from_secs(20),
            "counters {kept:?}\nrecount {counted:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    // The summary folds what is pending and answers the same total.
    let sup = app.login_fresh("supervisor").await;
    let at = |t: DateTime<Utc>| t.to_rfc3339().replace('+', "%2B");
    let (from, to) = (
        at(start_time() - Duration::days(2)),
        at(app.now() + Duration::hours(1)),
    );
    let (status, summary) = app
        .get(
            &sup,
            &format!("/api/v1/reports/summary?from={from}&to={to}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["total"], 80, "{summary}");
}
