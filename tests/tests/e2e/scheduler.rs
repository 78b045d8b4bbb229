//! The deadline engine and the cron jobs, on the real database with the
//! manual clock: a due deadline fires within a second, what fell due while
//! the server was down fires at start, two servers on one PostgreSQL fire
//! each deadline (and each job occurrence) once, the digest mails every
//! supervisor case numbers and counts only, the auditor spots missed
//! raises, and admins see the job runs.
use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use lianxin::{
    db::entities::{case, deadline, escalation, job_run, mail},
    deadlines,
};
use lianxin_tests::{spawn_app, spawn_app_with, StatusCode, TestApp, TestOptions};
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

/// A kind `fire` does not know: firing it only marks the row.
const TEST_KIND: &str = "test.ping";

async fn schedule(app: &TestApp, due: &[DateTime<Utc>]) -> Vec<Uuid> {
    let txn = app.state.db.begin_write().await.unwrap();
    let mut ids = Vec::new();
    for at in due {
        ids.push(
            deadlines::schedule(&*txn, app.now(), "test", Uuid::new_v4(), TEST_KIND, *at)
                .await
                .unwrap(),
        );
    }
    txn.commit().await.unwrap();
    app.state.deadline_wake.notify_one();
    ids
}

async fn rows(app: &TestApp, ids: &[Uuid]) -> Vec<deadline::Model> {
    let mut out = Vec::new();
    for chunk in ids.chunks(100) {
        out.extend(
            deadline::Entity::find()
                .filter(deadline::Column::Id.is_in(chunk.iter().copied()))
                .all(&app.state.db.conn)
                .await
                .unwrap(),
        );
    }
    out
}

/// Wait until every deadline in `ids` has fired; returns the rows and how
/// long (real time) that took.
async fn wait_fired(
    app: &TestApp,
    ids: &[Uuid],
    timeout: Duration,
) -> (Vec<deadline::Model>, Duration) {
    let started = Instant::now();
    loop {
        let got = rows(app, ids).await;
        if got.len() == ids.len() && got.iter().all(|d| d.fired_at.is_some()) {
            return (got, started.elapsed());
        }
        let fired = got.iter().filter(|d| d.fired_at.is_some()).count();
        assert!(
            started.elapsed() < timeout,
            "only {fired} of {} deadlines fired within {timeout:?}",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_due_deadline_fires_within_a_second() {
    let app = spawn_app().await;
    let due = app.now() + chrono::Duration::seconds(30);
    let ids = schedule(&app, &[due]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        rows(&app, &ids).await[0].fired_at.is_none(),
        "not before it is due"
    );

    app.clock.advance(chrono::Duration::seconds(30));
    let (fired, took) = wait_fired(&app, &ids, Duration::from_secs(3)).await;
    assert!(took < Duration::from_secs(1), "fired after {took:?}");
    let d = &fired[0];
    assert_eq!(
        d.fired_at,
        Some(due),
        "fired at the clock's time, which is the due time"
    );
    assert_eq!(d.claimed_by.as_deref(), Some(&*app.state.node_id));

    let (_, metrics) = app.get("", "/metrics").await;
    assert!(metrics
        .as_str()
        .unwrap_or_default()
        .contains("lianxin_deadline_engine_lag_seconds"));
}

#[tokio::test]
async fn a_nearer_deadline_written_later_wakes_the_engine() {
    let app = spawn_app().await;
    let far = schedule(&app, &[app.now() + chrono::Duration::hours(1)]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let near = schedule(&app, &[app.now() - chrono::Duration::seconds(1)]).await;
    let (_, took) = wait_fired(&app, &near, Duration::from_secs(3)).await;
    assert!(took < Duration::from_secs(1), "fired after {took:?}");
    assert!(rows(&app, &far).await[0].fired_at.is_none());
}

#[tokio::test]
async fn deadlines_that_fell_due_while_the_server_was_down_fire_at_start() {
    let mut app = spawn_app().await;
    let now = app.now();
    let due: Vec<_> = (1..=5)
        .map(|i| now + chrono::Duration::minutes(10 * i))
        .collect();
    let ids = schedule(&app, &due).await;
    let cancelled = schedule(&app, &[now + chrono::Duration::minutes(5)]).await;
    {
        let txn = app.state.db.begin_write().await.unwrap();
        let subject = rows(&app, &cancelled).await[0].subject_id;
        deadlines::cancel(&*txn, now, subject, &[TEST_KIND])
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }

    app.stop().await;
    app.clock.advance(chrono::Duration::hours(2));
    app.start().await;
    let (fired, took) = wait_fired(&app, &ids, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(2), "fired {took:?} after start");
    for d in &fired {
        assert_eq!(
            d.claimed_by.as_deref(),
            Some(&*app.state.node_id),
            "the new process fired it"
        );
        assert!(d.fired_at.unwrap() >= d.due_at);
    }
    assert!(
        rows(&app, &cancelled).await[0].fired_at.is_none(),
        "a cancelled deadline never fires"
    );
}

#[tokio::test]
async fn two_servers_on_one_postgresql_database_fire_each_deadline_once() {
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
    let now = a.now();
    let due: Vec<_> = (0..200)
        .map(|i| now + chrono::Duration::milliseconds(1000 + 20 * i))
        .collect();
    let ids = schedule(&a, &due).await;
    b.state.deadline_wake.notify_one();

    // 09:00:10, and on to 09:01:01 so the auditor's first occurrence passes.
    a.clock.advance(chrono::Duration::seconds(10));
    let (fired, _) = wait_fired(&a, &ids, Duration::from_secs(20)).await;
    let nodes: HashSet<&str> = [&*a.state.node_id, &*b.state.node_id].into_iter().collect();
    let mut by_a = 0;
    for d in &fired {
        let node = d.claimed_by.as_deref().expect("claimed");
        assert!(nodes.contains(node), "claimed by an unknown node {node}");
        if node == &*a.state.node_id {
            by_a += 1;
        }
    }
    eprintln!("server A fired {by_a}, server B {}", fired.len() - by_a);
    let total = deadline::Entity::find()
        .filter(deadline::Column::Kind.eq(TEST_KIND))
        .filter(deadline::Column::FiredAt.is_not_null())
        .count(&a.state.db.conn)
        .await
        .unwrap();
    assert_eq!(total, 200);

    a.clock.advance(chrono::Duration::seconds(51));
    wait_job(&a, "auditor", Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let runs = job_run::Entity::find()
        .filter(job_run::Column::Job.eq("auditor"))
        .count(&a.state.db.conn)
        .await
        .unwrap();
    assert_eq!(runs, 1, "one run per occurrence across both servers");
}

async fn wait_job(app: &TestApp, job: &str, timeout: Duration) -> job_run::Model {
    let started = Instant::now();
    loop {
        let done = job_run::Entity::find()
            .filter(job_run::Column::Job.eq(job))
            .filter(job_run::Column::Result.ne("running"))
            .all(&app.state.db.conn)
            .await
            .unwrap();
        if let Some(run) = done.into_iter().next() {
            return run;
        }
        assert!(
            started.elapsed() < timeout,
            "job {job} did not run within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const YULONG: &str = "450321101201"; // 遇龙村, 白沙镇, 阳朔县

async fn open_case(app: &TestApp, body: Value) -> Value {
    let op = app.login("operator").await;
    let (status, case) = app.post_json(&op, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    case
}

#[tokio::test]
async fn the_digest_mails_each_supervisor_numbers_and_counts_only() {
    // The manual clock starts at 09:00 UTC; the digest runs at 09:30.
    let app =
        spawn_app_with(TestOptions::default().settings(|s| s.jobs.digest = "0 30 9 * * *".into()))
            .await;
    let admin = app.login("admin").await;
    let region_unit = app.unit_id("自治区妇联").await;
    let (status, user) = app
        .post_json(
            &admin,
            "/api/v1/users",
            json!({"username": "sup-province", "display_name": "自治区妇联 督办", "password": "correct horse battery",
                   "role": "supervisor", "unit_id": region_unit, "email": "sup-province@demo.lianxin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");

    let secret_name = "王秀英";
    let secret_story = "丈夫外出务工三年，婆家强占承包地";
    let case = open_case(
        &app,
        json!({"category": "land_rights", "region_code": YULONG, "summary": secret_story,
               "description": secret_story, "subject": {"name": secret_name, "phone": "13812345678"}}),
    )
    .await;
    let number = case["number"].as_str().unwrap().to_string();
    // Overdue cases are listed by number (the flag is the cases work's).
    let case_id: Uuid = case["id"].as_str().unwrap().parse().unwrap();
    case::Entity::update_many()
        .col_expr(case::Column::Overdue, Expr::value(true))
        .filter(case::Column::Id.eq(case_id))
        .exec(&app.state.db.conn)
        .await
        .unwrap();

    app.clock.advance(chrono::Duration::minutes(30));
    let run = wait_job(&app, "digest", Duration::from_secs(5)).await;
    assert!(run.ok, "{run:?}");
    assert_eq!(run.result, "2 digest mail(s) queued");

    let digests = mail::Entity::find()
        .filter(mail::Column::Subject.contains("每日汇总"))
        .all(&app.state.db.conn)
        .await
        .unwrap();
    let recipients: HashSet<&str> = digests.iter().map(|m| m.recipient.as_str()).collect();
    assert_eq!(
        recipients,
        HashSet::from(["supervisor@demo.lianxin", "sup-province@demo.lianxin"])
    );
    for m in &digests {
        assert!(m.body.contains(&number), "{}", m.body);
        assert!(m.body.contains("在办 1 件，逾期 1 件"), "{}", m.body);
        assert!(
            m.body.contains(&format!("逾期案件：{number}")),
            "{}",
            m.body
        );
        for secret in [secret_name, secret_story, "13812345678"] {
            assert!(
                !m.body.contains(secret) && !m.subject.contains(secret),
                "leaks {secret}: {}",
                m.body
            );
        }
    }

    // Admins see the run and the next one.
    let (status, jobs) = app.get(&admin, "/api/v1/admin/jobs").await;
    assert_eq!(status, StatusCode::OK, "{jobs}");
    let digest = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job"] == "digest")
        .cloned()
        .unwrap();
    assert_eq!(digest["expression"], "0 30 9 * * *");
    assert_eq!(digest["next_run_at"], "2026-11-30T09:30:00Z");
    assert_eq!(digest["last_run"]["ok"], true);
    assert_eq!(digest["last_run"]["result"], "2 digest mail(s) queued");
    assert!(digest["last_run"]["finished_at"].is_string());
    let names: HashSet<&str> = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["job"].as_str())
        .collect();
    assert_eq!(
        names,
        HashSet::from(["digest", "auditor", "cleanup", "ledger_reviews"])
    );
    let op = app.login("operator").await;
    assert_eq!(
        app.get(&op, "/api/v1/admin/jobs").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_auditor_reports_a_raise_that_did_not_happen() {
    let app = spawn_app().await;
    let case = open_case(
        &app,
        json!({"category": "safety_threat", "region_code": YULONG, "summary": "来电称对方持刀威胁",
               "subject": {}, "danger_screen": {"in_progress": true, "answers": vec![false; 11], "screener_concern": false}}),
    )
    .await;
    let case_id: Uuid = case["id"].as_str().unwrap().parse().unwrap();
    // Pretend the engine missed the raise: it was due five minutes ago.
    let stale = app.now() - chrono::Duration::minutes(5);
    let n = escalation::Entity::update_many()
        .col_expr(escalation::Column::NextRaiseAt, Expr::value(stale))
        .filter(escalation::Column::CaseId.eq(case_id))
        .exec(&app.state.db.conn)
        .await
        .unwrap()
        .rows_affected;
    assert_eq!(n, 1, "the danger screen opened an escalation");

    app.clock.advance(chrono::Duration::seconds(60));
    let run = wait_job(&app, "auditor", Duration::from_secs(5)).await;
    assert!(run.ok, "{run:?}");
    assert_eq!(run.result, "1 missed raise(s)");
    let (_, metrics) = app.get("", "/metrics").await;
    assert!(metrics
        .as_str()
        .unwrap_or_default()
        .contains("lianxin_escalation_missed_raises_total"));
}

#[tokio::test]
async fn cleanup_runs_from_its_cron_expression_and_prunes_old_job_runs() {
    let app =
        spawn_app_with(TestOptions::default().settings(|s| s.jobs.cleanup = "0 5 9 * * *".into()))
            .await;
    let old = app.now() - chrono::Duration::days(40);
    job_run::Entity::insert(job_run::ActiveModel {
        id: sea_orm::ActiveValue::Set(Uuid::new_v4()),
        job: sea_orm::ActiveValue::Set("auditor".into()),
        started_at: sea_orm::ActiveValue::Set(old),
        finished_at: sea_orm::ActiveValue::Set(old),
        ok: sea_orm::ActiveValue::Set(true),
        result: sea_orm::ActiveValue::Set("0 missed raise(s)".into()),
    })
    .exec_without_returning(&app.state.db.conn)
    .await
    .unwrap();

    app.clock.advance(chrono::Duration::minutes(4));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let early = job_run::Entity::find()
        .filter(job_run::Column::Job.eq("cleanup"))
        .count(&app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(early, 0, "not before its time");

    app.clock.advance(chrono::Duration::minutes(1));
    let run = wait_job(&app, "cleanup", Duration::from_secs(5)).await;
    assert!(run.ok, "{run:?}");
    assert!(run.result.contains("1 old job run(s)"), "{}", run.result);
    let left = job_run::Entity::find()
        .filter(job_run::Column::StartedAt.lt(app.now() - chrono::Duration::days(30)))
        .count(&app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
