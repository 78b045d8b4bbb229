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
    assert!(
        metrics.contains("lianxin_sqlite_wal_truncations_total"),
        "{metrics}"
    );
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
