//! Email through the outbox, against a real SMTP server (aiosmtpd) and the
//! real database: delivery with a stable Message-ID and UTF-8 subject, an
//! outage that delays but never loses or duplicates mail, permanent
//! failures visible to admins and re-queued by them, a shutdown mid-pass
//! that gives back what it did not send, `.eml` files when no SMTP server
//! is configured, and two senders sharing one PostgreSQL.
use std::{collections::HashSet, time::Duration};

use lianxin::{
    db::entities::mail,
    notify::{self, Mail},
};
use lianxin_tests::{
    assert_error, smtp::SmtpServer, spawn_app_with, StatusCode, TestApp, TestOptions,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

fn with_smtp(smtp: &SmtpServer) -> TestOptions {
    let url = smtp.url();
    TestOptions::default().settings(move |s| {
        s.smtp.url = url.clone();
        s.smtp.retry_base_s = 1;
        s.smtp.max_attempts = 5;
    })
}

fn mail_to(recipient: &str, subject: &str) -> Mail {
    Mail {
        recipient: recipient.into(),
        subject: subject.into(),
        body: format!(
            "案件编号 2026-000123 已逾期。\n查看：http://127.0.0.1:8080/#/cases\n({subject})"
        ),
    }
}

/// Queue mail the way services do: in a write transaction, then wake.
async fn enqueue(app: &TestApp, mails: Vec<Mail>) -> Vec<mail::Model> {
    let subjects: Vec<String> = mails.iter().map(|m| m.subject.clone()).collect();
    let txn = app.state.db.begin_write().await.unwrap();
    notify::enqueue(&*txn, app.now(), mails).await.unwrap();
    txn.commit().await.unwrap();
    app.state.mail_wake.notify_one();
    let rows = mail::Entity::find()
        .filter(mail::Column::Subject.is_in(subjects.clone()))
        .all(&app.state.db.conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), subjects.len());
    rows
}

async fn row(app: &TestApp, id: Uuid) -> mail::Model {
    mail::Entity::find_by_id(id)
        .one(&app.state.db.conn)
        .await
        .unwrap()
        .expect("outbox row")
}

/// Poll the outbox until `done` holds for every row in `ids`.
async fn wait_rows(
    app: &TestApp,
    ids: &[Uuid],
    what: &str,
    done: impl Fn(&mail::Model) -> bool,
) -> Vec<mail::Model> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = mail::Entity::find()
            .filter(mail::Column::Id.is_in(ids.iter().copied()))
            .all(&app.state.db.conn)
            .await
            .unwrap();
        if rows.len() == ids.len() && rows.iter().all(&done) {
            return rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}: {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn queued_mail_arrives_with_its_message_id_and_chinese_subject() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(with_smtp(&smtp)).await;
    let subject = "连心 12338：案件 2026-000123 受理期限已过";
    let rows = enqueue(&app, vec![mail_to("bs-station@demo.lianxin", subject)]).await;
    let queued = &rows[0];

    let got = delivered(&app, &smtp, 1).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.message_id, queued.message_id);
    assert_eq!(m.subject, subject);
    assert!(
        m.raw_subject.to_ascii_lowercase().starts_with("=?utf-8?"),
        "non-ASCII subject must be RFC 2047 encoded on the wire: {}",
        m.raw_subject
    );
    assert_eq!(m.to, "bs-station@demo.lianxin");
    assert_eq!(m.rcpt_tos, "bs-station@demo.lianxin");
    assert!(m.from.contains("noreply@lianxin.local"), "{}", m.from);
    assert!(m.content_type.contains("utf-8"), "{}", m.content_type);
    assert!(m.body.contains("案件编号 2026-000123 已逾期"), "{}", m.body);

    let sent = wait_rows(&app, &[queued.id], "sent", |r| r.sent_at.is_some()).await;
    assert_eq!(sent[0].attempts, 1);
    assert!(sent[0].last_error.is_none());

    // Admins see it as sent.
    let admin = app.login("admin").await;
    let (status, list) = app.get(&admin, "/api/v1/admin/outbox?status=sent").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let item = find_item(&list, queued.id);
    assert_eq!(item["status"], "sent");
    assert_eq!(item["message_id"], queued.message_id.as_str());
    assert_eq!(item["subject"], subject);
    assert!(item["sent_at"].is_string());
    let (_, pending) = app.get(&admin, "/api/v1/admin/outbox?status=pending").await;
    assert!(pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["id"] != queued.id.to_string()));

    let (_, metrics) = app.get("", "/metrics").await;
    let metrics = metrics.as_str().unwrap_or_default();
    assert!(metrics.contains("lianxin_mail_sent_total"), "{metrics}");
    assert!(metrics.contains("lianxin_mail_outbox_backlog"), "{metrics}");
}

/// Wait for `n` messages at the SMTP server; on a timeout, show what the
/// outbox says about the missing ones.
async fn delivered(
    app: &TestApp,
    smtp: &SmtpServer,
    n: usize,
) -> Vec<lianxin_tests::smtp::Received> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while smtp.count() < n && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if smtp.count() < n {
        let unsent = mail::Entity::find()
            .filter(mail::Column::SentAt.is_null())
            .all(&app.state.db.conn)
            .await
            .unwrap();
        panic!(
            "{} of {n} messages arrived; unsent at {}: {unsent:#?}",
            smtp.count(),
            app.now()
        );
    }
    smtp.messages()
}

/// After a moment for a duplicate to show up: every queued message
/// arrived, and each exactly once (by its Message-ID).
async fn each_arrived_once(smtp: &SmtpServer, rows: &[mail::Model]) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = smtp.messages();
    assert_eq!(got.len(), rows.len(), "each message exactly once: {got:#?}");
    let received: HashSet<String> = got.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(received.len(), rows.len(), "no Message-ID twice");
    let queued: HashSet<String> = rows.iter().map(|r| r.message_id.clone()).collect();
    assert_eq!(received, queued);
}

fn find_item(list: &Value, id: Uuid) -> Value {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|i| i["id"] == id.to_string())
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_and_every_message_arrives_exactly_once() {
    let mut smtp = SmtpServer::start().await;
    let app = spawn_app_with(with_smtp(&smtp)).await;
    smtp.stop().await;

    let mails: Vec<Mail> = (0..20)
        .map(|i| {
            mail_to(
                &format!("unit{i}@demo.lianxin"),
                &format!("停机测试 第{i}封"),
            )
        })
        .collect();
    let rows = enqueue(&app, mails).await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();

    // Each message is tried, fails (connection refused), and waits.
    let failed = wait_rows(&app, &ids, "a failed first attempt", |r| {
        r.attempts >= 1 && r.last_error.is_some()
    })
    .await;
    for r in &failed {
        assert!(r.sent_at.is_none() && r.failed_at.is_none(), "{r:?}");
        assert!(
            r.next_attempt_at > app.now(),
            "backoff pushes the next attempt out: {r:?}"
        );
    }
    assert!(smtp.messages().is_empty());

    // Time passes during the outage: more attempts, still nothing lost.
    app.clock.advance(chrono::Duration::seconds(2));
    wait_rows(&app, &ids, "a second attempt", |r| r.attempts >= 2).await;
    let r = row(&app, ids[0]).await;
    assert!(
        r.next_attempt_at >= app.now() + chrono::Duration::seconds(2),
        "backoff doubles: {r:?}"
    );

    // The server comes back; the retries go through.
    smtp.start_again().await;
    app.clock.advance(chrono::Duration::seconds(10));
    delivered(&app, &smtp, 20).await;
    wait_rows(&app, &ids, "sent", |r| {
        r.sent_at.is_some() && r.failed_at.is_none()
    })
    .await;
    // Give a duplicate the chance to show up.
    app.clock.advance(chrono::Duration::minutes(10));
    each_arrived_once(&smtp, &rows).await;
}

/// A server stopped in the middle of a mail pass gives back the messages
/// the pass had claimed but not sent: the next server sends them at once,
/// not when their five-minute claim runs out, and none twice.
#[tokio::test]
async fn a_shutdown_mid_pass_gives_back_the_mail_it_did_not_send() {
    let smtp = SmtpServer::start().await;
    let mut app = spawn_app_with(with_smtp(&smtp)).await;
    // More than a pass sends at once (16), half a second each.
    let mails: Vec<Mail> = (0..40)
        .map(|i| {
            mail_to(
                &format!("slow{i}@demo.lianxin"),
                &format!("关机测试 第{i}封"),
            )
        })
        .collect();
    let rows = enqueue(&app, mails).await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();

    // Half a second a message: stop while the pass is on its first ones.
    delivered(&app, &smtp, 1).await;
    app.stop().await;
    let sent_then = smtp.count();
    assert!(sent_then < 40, "the pass was cut short: {sent_then} sent");
    let now = app.now();
    for id in &ids {
        let r = row(&app, *id).await;
        if r.sent_at.is_none() {
            assert!(
                r.next_attempt_at <= now,
                "an unsent message is due again at once, not at its claim's end: {r:?}"
            );
        }
    }

    // The next server (same database, same clock: no claim can run out)
    // sends the rest.
    app.start().await;
    app.state.mail_wake.notify_one();
    delivered(&app, &smtp, 40).await;
    wait_rows(&app, &ids, "sent", |r| r.sent_at.is_some()).await;
    each_arrived_once(&smtp, &rows).await;
}

/// A relay slow to accept one recipient does not hold up the mail queued
/// behind it: the police's escalation mail goes out beside a stalled
/// message, not three seconds after it.
#[tokio::test]
async fn a_stalled_message_does_not_hold_up_the_mail_behind_it() {
    let (subjects, first) = stalled_then_urgent(None).await;
    assert_eq!(
        first, subjects[1],
        "the urgent message arrived while the stalled one was still being accepted"
    );
}

/// `[smtp] connections = 1`: one connection to the relay, so what it is
/// slow to accept holds up the rest — the setting is what it says.
#[tokio::test]
async fn with_one_smtp_connection_the_mail_goes_one_at_a_time() {
    let (subjects, first) = stalled_then_urgent(Some(1)).await;
    assert_eq!(first, subjects[0], "the urgent message waited its turn");
}

/// Queue a message the relay stalls on (3 s), then an urgent one, for one
/// pass of a sender with `connections` (the default when `None`); the
/// two subjects, and the subject that arrived first.
async fn stalled_then_urgent(connections: Option<u32>) -> ([String; 2], String) {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(with_smtp(&smtp).settings({
        let url = smtp.url();
        move |s| {
            s.smtp.url = url.clone();
            if let Some(n) = connections {
                s.smtp.connections = n;
            }
        }
    }))
    .await;
    let stalled = mail_to("stall@demo.lianxin", "迟迟未被接收的邮件");
    let urgent = mail_to("police@demo.lianxin", "紧急：安全威胁升级");
    let subjects = [stalled.subject.clone(), urgent.subject.clone()];
    // One pass, the stalled message first in its order.
    let txn = app.state.db.begin_write().await.unwrap();
    notify::enqueue(&*txn, app.now(), vec![stalled, urgent])
        .await
        .unwrap();
    mail::Entity::update_many()
        .col_expr(
            mail::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(app.now() - chrono::Duration::seconds(1)),
        )
        .filter(mail::Column::Subject.eq(subjects[0].as_str()))
        .exec(&*txn)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    app.state.mail_wake.notify_one();

    let first = delivered(&app, &smtp, 1).await[0].subject.clone();
    let both = delivered(&app, &smtp, 2).await;
    assert_eq!(both.len(), 2, "the stalled message arrives too: {both:#?}");
    (subjects, first)
}

#[tokio::test]
async fn a_permanent_failure_is_shown_to_admins_and_can_be_retried() {
    let mut smtp = SmtpServer::start().await;
    let app = spawn_app_with(with_smtp(&smtp).settings({
        let url = smtp.url();
        move |s| {
            s.smtp.url = url.clone();
            s.smtp.retry_base_s = 1;
            s.smtp.max_attempts = 2;
        }
    }))
    .await;
    let admin = app.login("admin").await;

    // 550 from the server: given up at once.
    let rejected = enqueue(
        &app,
        vec![mail_to("reject-me@demo.lianxin", "被拒收的邮件")],
    )
    .await[0]
        .clone();
    let r = wait_rows(&app, &[rejected.id], "given up", |r| r.failed_at.is_some()).await;
    assert_eq!(r[0].attempts, 1);
    assert!(r[0].sent_at.is_none());
    let (status, list) = app.get(&admin, "/api/v1/admin/outbox?status=failed").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let item = find_item(&list, rejected.id);
    assert_eq!(item["status"], "failed");
    assert_eq!(item["recipient"], "reject-me@demo.lianxin");
    assert_eq!(item["attempts"], 1);
    assert!(item["failed_at"].is_string());
    assert!(
        item["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("550"),
        "{item}"
    );
    let (_, metrics) = app.get("", "/metrics").await;
    assert!(metrics
        .as_str()
        .unwrap_or_default()
        .contains("lianxin_mail_failed_total"));

    // Too many temporary failures: given up after max_attempts (2).
    smtp.stop().await;
    let stuck = enqueue(
        &app,
        vec![mail_to("ys-fulian@demo.lianxin", "停机期间的邮件")],
    )
    .await[0]
        .clone();
    wait_rows(&app, &[stuck.id], "a first attempt", |r| r.attempts == 1).await;
    app.clock.advance(chrono::Duration::seconds(2));
    let r = wait_rows(&app, &[stuck.id], "given up", |r| r.failed_at.is_some()).await;
    assert_eq!(r[0].attempts, 2);
    assert!(
        r[0].last_error
            .as_deref()
            .unwrap_or_default()
            .contains("gave up after 2 attempts"),
        "{:?}",
        r[0]
    );

    // Only admins may look or retry.
    let op = app.login("operator").await;
    let (status, _) = app.get(&op, "/api/v1/admin/outbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let got = app
        .post_json(
            &op,
            &format!("/api/v1/admin/outbox/{}/retry", stuck.id),
            Value::Null,
        )
        .await;
    assert_eq!(got.0, StatusCode::FORBIDDEN);

    // The server is back; the admin re-queues the message and it arrives.
    smtp.start_again().await;
    let (status, item) = app
        .send(app.request(
            lianxin_tests::Method::POST,
            &admin,
            &format!("/api/v1/admin/outbox/{}/retry", stuck.id),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert_eq!(item["status"], "pending");
    assert_eq!(item["attempts"], 0);
    let got = delivered(&app, &smtp, 1).await;
    assert_eq!(got[0].message_id, stuck.message_id);
    wait_rows(&app, &[stuck.id], "sent", |r| r.sent_at.is_some()).await;
    assert!(app
        .audit_log()
        .await
        .iter()
        .any(|a| a.action == "mail.retry" && a.target.contains(&stuck.id.to_string())));

    // A sent message cannot be retried; an unknown one is not found.
    let again = app
        .send(app.request(
            lianxin_tests::Method::POST,
            &admin,
            &format!("/api/v1/admin/outbox/{}/retry", stuck.id),
        ))
        .await;
    assert_error(&again, StatusCode::CONFLICT, "invalid_transition");
    let missing = app
        .send(app.request(
            lianxin_tests::Method::POST,
            &admin,
            &format!("/api/v1/admin/outbox/{}/retry", Uuid::new_v4()),
        ))
        .await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn outbox_list_pages_with_a_cursor() {
    let app = spawn_app_with(TestOptions::default()).await;
    let mails: Vec<Mail> = (0..7)
        .map(|i| mail_to(&format!("page{i}@demo.lianxin"), &format!("分页 {i}")))
        .collect();
    let rows = enqueue(&app, mails).await;
    let ids: HashSet<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let admin = app.login("admin").await;
    let mut seen = HashSet::new();
    let mut path = "/api/v1/admin/outbox?limit=3".to_string();
    for _ in 0..10 {
        let (status, page) = app.get(&admin, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        for i in items {
            assert!(
                seen.insert(i["id"].as_str().unwrap().to_string()),
                "duplicate {i}"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/admin/outbox?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert!(ids.is_subset(&seen), "every message listed once");
    let bad = app.get(&admin, "/api/v1/admin/outbox?status=lost").await;
    assert_eq!(bad.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.1);
    let bad = app
        .get(&admin, "/api/v1/admin/outbox?cursor=nonsense")
        .await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn without_smtp_mail_is_written_as_eml_files_in_the_data_dir() {
    let app = spawn_app_with(TestOptions::default()).await;
    assert!(app.settings.smtp.url.is_empty());
    let subject = "连心：调解协议司法确认期限提醒";
    let rows = enqueue(
        &app,
        vec![
            mail_to("mediation@demo.lianxin", subject),
            mail_to("ys-fulian@demo.lianxin", "每日汇总"),
        ],
    )
    .await;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    wait_rows(&app, &ids, "written", |r| r.sent_at.is_some()).await;
    for r in &rows {
        let path = app
            .settings
            .data_dir
            .join("mail")
            .join(format!("{}.eml", r.id));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert!(
            text.contains(&format!("Message-ID: {}", r.message_id)),
            "{text}"
        );
        assert!(text.contains(&format!("To: {}", r.recipient)), "{text}");
        assert!(
            text.contains("Content-Type: text/plain; charset=utf-8"),
            "{text}"
        );
        assert!(text.contains("Subject: "), "{text}");
    }
    // The encoded subject decodes back to the Chinese text.
    let first = rows.iter().find(|r| r.subject == subject).unwrap();
    let path = app
        .settings
        .data_dir
        .join("mail")
        .join(format!("{}.eml", first.id));
    assert_eq!(decode_subject_with_python(&path), subject);
}

fn decode_subject_with_python(path: &std::path::Path) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import email,email.policy,sys;print(email.message_from_binary_file(open(sys.argv[1],'rb'),policy=email.policy.default)['Subject'])",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn two_senders_on_one_postgresql_database_send_each_message_once() {
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
    let smtp = SmtpServer::start().await;
    let a = spawn_app_with(with_smtp(&smtp)).await;
    let url = smtp.url();
    let b = spawn_app_with(a.same_database().settings(move |s| {
        s.smtp.url = url.clone();
        s.smtp.retry_base_s = 1;
    }))
    .await;
    let mails: Vec<Mail> = (0..60)
        .map(|i| mail_to(&format!("both{i}@demo.lianxin"), &format!("双进程 {i}")))
        .collect();
    let rows = enqueue(&a, mails).await;
    b.state.mail_wake.notify_one();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    delivered(&a, &smtp, 60).await;
    wait_rows(&a, &ids, "sent", |r| r.sent_at.is_some()).await;
    each_arrived_once(&smtp, &rows).await;
}
