//! Operations at scale (issue 20): the SQLite WAL kept bounded and
//! watched.
//!
//! Runs on SQLite by default and on PostgreSQL with
//! `LIANXIN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.
use std::time::{Duration, Instant};

use lianxin_tests::{spawn_app, StatusCode};
use sea_orm::{ConnectionTrait, Database, TransactionTrait};

const MIB: u64 = 1024 * 1024;

fn wal_bytes(ready: &serde_json::Value) -> u64 {
    ready["wal_bytes"].as_u64().unwrap_or(0)
}

fn warnings(ready: &serde_json::Value) -> Vec<String> {
    ready["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|x| x["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A reader that holds an old snapshot keeps a 70 MiB WAL alive: `/readyz`
/// still answers 200 but warns `wal_large`, and `/metrics` shows the size.
/// Once the reader lets go, the checkpointer cuts the WAL to (near) zero
/// within seconds, without a write of ours being refused meanwhile.
#[tokio::test]
async fn the_wal_is_watched_and_cut_back_once_readers_let_go() {
    let app = spawn_app().await;
    let (status, ready) = app.get("", "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    if app.is_postgres() {
        assert!(ready.get("wal_bytes").is_none(), "{ready}");
        return;
    }
    assert!(warnings(&ready).is_empty(), "{ready}");

    // A second connection, as a long report query would be: it reads
    // inside a transaction and so pins the snapshot it began with.
    let reader = Database::connect(app.db_url.as_str()).await.unwrap();
    let snapshot = reader.begin().await.unwrap();
    snapshot
        .execute_unprepared("SELECT count(*) FROM cases")
        .await
        .unwrap();

    let txn = app.state.db.begin_write().await.unwrap();
    txn.execute_unprepared("CREATE TABLE wal_pad (b BLOB)")
        .await
        .unwrap();
    for _ in 0..70 {
        txn.execute_unprepared("INSERT INTO wal_pad VALUES (zeroblob(1048576))")
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();

    // Writes go on while the WAL cannot be cut (the truncation gives up
    // after a second rather than stall them).
    let operator = app.login("operator").await;
    let (status, body) = app
        .post_json(
            &operator,
            "/api/v1/cases",
            serde_json::json!({"category": "neighbor_dispute", "region_code": "450321101201",
                "summary": "邻里纠纷，WAL 测试", "subject": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, ready) = app.get("", "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert!(wal_bytes(&ready) > 64 * MIB, "{ready}");
    assert_eq!(warnings(&ready), vec!["wal_large".to_string()], "{ready}");
    let message = ready["warnings"][0]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("SQLite 预写日志"), "{message}");

    snapshot.rollback().await.unwrap();
    reader.close().await.unwrap();

    let start = Instant::now();
    let ready = loop {
        let (_, ready) = app.get("", "/readyz").await;
        if wal_bytes(&ready) < 16 * MIB || start.elapsed() > Duration::from_secs(15) {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(wal_bytes(&ready) < 16 * MIB, "{ready}");
    assert!(warnings(&ready).is_empty(), "{ready}");

    let (_, metrics) = app.get("", "/metrics").await;
    let metrics = metrics.as_str().unwrap_or_default();
    assert!(metrics.contains("lianxin_sqlite_wal_bytes"), "{metrics}");
    // The log was restarted once the reader let go, and the file, over
    // 32 MiB, then cut back.
    for counter in [
        "lianxin_sqlite_wal_restarts_total",
        "lianxin_sqlite_wal_truncations_total",
    ] {
        assert!(metrics.contains(counter), "{counter}: {metrics}");
    }
}

/// The contract a client generator reads: every `{name}` in a path is a
/// declared path parameter, both the bearer token and the session cookie
/// are security schemes, every operation but login documents 401 and 503
/// with the error body, every operation with a path id documents 404, and
/// operation ids are unique.
#[tokio::test]
async fn the_openapi_document_is_complete_for_client_generators() {
    let app = spawn_app().await;
    let (status, doc) = app.get("", "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["cookie"]["in"], "cookie", "{schemes}");
    assert_eq!(schemes["cookie"]["name"], "lianxin_session", "{schemes}");
    let mut ids = std::collections::HashSet::new();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 40, "{}", paths.len());
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(ids.insert(id.clone()), "{what}: operationId {id} twice");
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            let named: Vec<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            let mut sorted = declared.clone();
            sorted.sort_unstable();
            let mut want = named.clone();
            want.sort_unstable();
            assert_eq!(sorted, want, "{what}: path parameters");
            let responses = &op["responses"];
            if path != "/api/v1/auth/login" {
                assert!(responses["401"].is_object(), "{what}: no 401");
            }
            assert_eq!(
                responses["503"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{what}: 503"
            );
            if !named.is_empty() {
                assert!(responses["404"].is_object(), "{what}: no 404");
            }
            if op.get("requestBody").is_some() {
                assert!(responses["422"].is_object(), "{what}: no 422");
            }
        }
    }
    let login = &doc["paths"]["/api/v1/auth/login"]["post"];
    assert_eq!(login["security"], serde_json::json!([]), "login is public");
}

/// The supervisor's export is in Chinese and one row per case: Chinese
/// headers, category and status names, Beijing time; and it streams (a
/// period of many pages arrives whole).
#[tokio::test]
async fn the_case_export_is_in_chinese_with_beijing_time() {
    let app = spawn_app().await;
    let op = app.login("operator").await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        let (status, case) = app
            .post_json(
                &op,
                "/api/v1/cases",
                serde_json::json!({"category": "neighbor_dispute", "region_code": "450321101201",
                    "summary": format!("邻里纠纷 {i}"), "subject": {"phone": "13900000000"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{case}");
        numbers.push(case["number"].as_str().unwrap().to_string());
    }
    let sup = app.login("supervisor").await;
    // The test clock stands still: the period ends an hour from now.
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!(
        "/api/v1/reports/cases.csv?from={}&to={}",
        fmt(app.now() - chrono::Duration::days(1)),
        fmt(app.now() + chrono::Duration::hours(1))
    );
    let resp = app
        .request(reqwest::Method::GET, &sup, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let text = resp.text().await.unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert!(
        lines[0].starts_with("\u{feff}案件编号,受理时间（北京时间）,类别,状态"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + numbers.len(), "{text}");
    for n in &numbers {
        let row = lines
            .iter()
            .find(|l| l.contains(n.as_str()))
            .expect("row per case");
        assert!(row.contains("\"邻里纠纷\""), "{row}");
        assert!(!row.contains("neighbor_dispute"), "{row}");
        assert!(
            !row.contains("13900000000") && !row.contains("邻里纠纷 "),
            "no phone or story: {row}"
        );
        // Beijing time: the opening time shifted by 8 hours, no offset.
        let created = app
            .now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
        assert!(
            row.contains(&created.format("%Y-%m-%d").to_string()),
            "{row}"
        );
        assert!(!row.contains("+00:00"), "{row}");
    }
}

/// Requests holding every pooled connection (a burst of slow writes) are
/// not a database that is down: the health check asks on a connection of
/// its own, so the API goes on answering instead of refusing everything
/// with 503 `database_unavailable` until the burst passes.
#[tokio::test]
async fn a_pool_busy_with_requests_is_not_taken_for_a_database_that_is_down() {
    let app = spawn_app().await;
    // Take pooled connections until none is left (the live feed's
    // listener keeps one on PostgreSQL).
    let mut held = Vec::new();
    loop {
        let wait = Duration::from_millis(300);
        match tokio::time::timeout(wait, app.state.db.conn.begin()).await {
            Ok(txn) => held.push(txn.unwrap_or_else(|e| panic!("begin: {e}"))),
            Err(_) => break,
        }
        assert!(held.len() <= 64, "the pool never ran out");
    }
    assert!(!held.is_empty());
    // Longer than a ping may wait: a ping that needed a pooled connection
    // would have timed out and marked the database down.
    let until = Instant::now() + 2 * lianxin::db::health::PING_TIMEOUT;
    while Instant::now() < until {
        assert!(
            app.state.db.health().is_up(),
            "a busy pool was taken for a database that is down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(held);
    let (status, ready) = app.get("", "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
}
