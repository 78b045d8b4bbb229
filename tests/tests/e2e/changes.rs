//! Every change to a case is told: the transaction that writes a case row,
//! one of its escalations, their actions or its handlers also records an
//! event of that case. The timeline, the live feed (a police liaison hears
//! of a change only through its event), the case page's timeline cache and
//! its whole-case cache (`events::CaseCache`) rely on it. Test-only triggers, added to this test's
//! database, log each such row change and each event with its case; after
//! every step the test asks for changes that came without an event.
//! Other modules' workflow tests (mediation, measures, referrals, the
//! callback loop) install the same log and check it at their end.
use chrono::Duration as Span;
use lianxin_tests::{spawn_app, StatusCode, TestApp};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::common::{self, wait_timeline, YULONG};

/// The tables whose rows the case page shows, besides its events.
const SQLITE_LOG: &[&str] = &[
    "CREATE TABLE test_touches (id INTEGER PRIMARY KEY AUTOINCREMENT, case_id NOT NULL, what TEXT NOT NULL)",
    "CREATE TRIGGER test_touch_cases_i AFTER INSERT ON cases BEGIN INSERT INTO test_touches (case_id, what) VALUES (NEW.id, 'cases'); END",
    "CREATE TRIGGER test_touch_cases_u AFTER UPDATE ON cases BEGIN INSERT INTO test_touches (case_id, what) VALUES (NEW.id, 'cases'); END",
    "CREATE TRIGGER test_touch_esc_i AFTER INSERT ON escalations BEGIN INSERT INTO test_touches (case_id, what) VALUES (NEW.case_id, 'escalations'); END",
    "CREATE TRIGGER test_touch_esc_u AFTER UPDATE ON escalations BEGIN INSERT INTO test_touches (case_id, what) VALUES (NEW.case_id, 'escalations'); END",
    "CREATE TRIGGER test_touch_handlers_i AFTER INSERT ON case_handlers BEGIN INSERT INTO test_touches (case_id, what) VALUES (NEW.case_id, 'case_handlers'); END",
    "CREATE TRIGGER test_touch_handlers_d AFTER DELETE ON case_handlers BEGIN INSERT INTO test_touches (case_id, what) VALUES (OLD.case_id, 'case_handlers'); END",
    "CREATE TRIGGER test_touch_actions AFTER INSERT ON escalation_actions BEGIN INSERT INTO test_touches (case_id, what) SELECT case_id, 'escalation_actions' FROM escalations WHERE id = NEW.escalation_id; END",
    "CREATE TRIGGER test_touch_events AFTER INSERT ON case_events BEGIN INSERT INTO test_touches (case_id, what) VALUES (NEW.case_id, 'event'); END",
];

/// On PostgreSQL each logged row carries its transaction: the check is
/// exact, per transaction.
const POSTGRES_LOG: &[&str] = &[
    "CREATE TABLE test_touches (id bigserial PRIMARY KEY, txn bigint NOT NULL DEFAULT txid_current(), case_id uuid NOT NULL, what text NOT NULL)",
    "CREATE FUNCTION test_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
       IF TG_OP = 'DELETE' THEN INSERT INTO test_touches (case_id, what) VALUES (OLD.case_id, TG_TABLE_NAME); \
       ELSIF TG_TABLE_NAME = 'cases' THEN INSERT INTO test_touches (case_id, what) VALUES (NEW.id, 'cases'); \
       ELSIF TG_TABLE_NAME = 'case_events' THEN INSERT INTO test_touches (case_id, what) VALUES (NEW.case_id, 'event'); \
       ELSIF TG_TABLE_NAME = 'escalation_actions' THEN INSERT INTO test_touches (case_id, what) SELECT case_id, TG_TABLE_NAME FROM escalations WHERE id = NEW.escalation_id; \
       ELSE INSERT INTO test_touches (case_id, what) VALUES (NEW.case_id, TG_TABLE_NAME); \
       END IF; RETURN NULL; END $$",
    "CREATE TRIGGER test_touch_cases AFTER INSERT OR UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION test_touch()",
    "CREATE TRIGGER test_touch_esc AFTER INSERT OR UPDATE ON escalations FOR EACH ROW EXECUTE FUNCTION test_touch()",
    "CREATE TRIGGER test_touch_handlers AFTER INSERT OR DELETE ON case_handlers FOR EACH ROW EXECUTE FUNCTION test_touch()",
    "CREATE TRIGGER test_touch_actions AFTER INSERT ON escalation_actions FOR EACH ROW EXECUTE FUNCTION test_touch()",
    "CREATE TRIGGER test_touch_events AFTER INSERT ON case_events FOR EACH ROW EXECUTE FUNCTION test_touch()",
];

/// The log of one test's database, and (SQLite) how far it was checked.
pub(crate) struct Touches<'a> {
    app: &'a TestApp,
    checked: i64,
}

impl<'a> Touches<'a> {
    pub(crate) async fn install(app: &'a TestApp) -> Touches<'a> {
        let ddl = if app.is_postgres() {
            POSTGRES_LOG
        } else {
            SQLITE_LOG
        };
        for sql in ddl {
            app.state
                .db
                .conn
                .execute_unprepared(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        Touches { app, checked: 0 }
    }

    async fn rows(&self, sql: &str) -> Vec<sea_orm::QueryResult> {
        let conn = &self.app.state.db.conn;
        conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Changes without an event of their case: on PostgreSQL in the same
    /// transaction, ever; on SQLite (one writer, so the log's ids follow
    /// the commits) since the last check.
    async fn untold(&mut self) -> Vec<String> {
        let sql = if self.app.is_postgres() {
            "SELECT t.what || ' ' || t.case_id::text AS change FROM test_touches t \
             WHERE t.what <> 'event' AND NOT EXISTS (SELECT 1 FROM test_touches e \
             WHERE e.what = 'event' AND e.txn = t.txn AND e.case_id = t.case_id)"
                .to_string()
        } else {
            let upto = self
                .rows("SELECT COALESCE(MAX(id), 0) AS m FROM test_touches")
                .await[0]
                .try_get::<i64>("", "m")
                .unwrap_or_else(|e| panic!("{e}"));
            let (from, to) = (self.checked, upto);
            self.checked = upto;
            format!(
                "SELECT t.what || ' ' || lower(hex(t.case_id)) AS change FROM test_touches t \
                 WHERE t.id > {from} AND t.id <= {to} AND t.what <> 'event' AND NOT EXISTS \
                 (SELECT 1 FROM test_touches e WHERE e.what = 'event' AND e.case_id = t.case_id \
                 AND e.id > {from} AND e.id <= {to})"
            )
        };
        self.rows(&sql)
            .await
            .iter()
            .map(|r| {
                r.try_get::<String>("", "change")
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    }

    pub(crate) async fn check(&mut self, step: &str) {
        let untold = self.untold().await;
        assert!(
            untold.is_empty(),
            "{step}: changed without an event of the case: {untold:?}"
        );
    }
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, v) = app.post_json(token, path, body).await;
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

#[tokio::test]
async fn every_change_to_a_case_its_escalation_or_its_handlers_is_in_its_timeline() {
    let app = spawn_app().await;
    let mut log = Touches::install(&app).await;
    let (station, police, op) = (
        app.login("station").await,
        app.login("police").await,
        app.login("operator").await,
    );

    let danger = json!({"in_progress": false, "answers": [true, false, false, false, false, false, false, false, false, false, false], "screener_concern": false});
    let case = common::open_case(
        &app,
        json!({"category": "domestic_violence", "region_code": YULONG, "summary": "丈夫持刀威胁",
               "subject": {}, "danger_screen": danger}),
    )
    .await;
    let id = case["id"].as_str().unwrap().to_string();
    let esc = case["escalation"]["id"].as_str().unwrap().to_string();
    log.check("a dangerous case opened with its escalation")
        .await;
    let late = common::open_case(
        &app,
        json!({"category": "domestic_violence", "region_code": YULONG, "summary": "求助",
               "subject": {}, "priority": "urgent"}),
    )
    .await;
    let late = late["id"].as_str().unwrap().to_string();
    log.check("an urgent case opened").await;

    let case_url = |a: &str| format!("/api/v1/cases/{id}/{a}");
    let esc_url = |a: &str| format!("/api/v1/escalations/{esc}/{a}");
    let legal_aid = app.unit_id("阳朔县法律援助中心").await;
    for (what, body, step) in [
        ("accept", json!({}), "accepted"),
        ("notes", json!({"body": "已联系当事人"}), "a note"),
    ] {
        post(&app, &station, &case_url(what), body).await;
        log.check(step).await;
    }
    for (what, body) in [
        ("acknowledge", json!({})),
        ("actions", json!({"kind": "dispatched", "notes": "出警"})),
        ("resolve", json!({"summary": "已告诫"})),
    ] {
        post(&app, &police, &esc_url(what), body).await;
        log.check(&format!("the escalation: {what}")).await;
    }
    for (what, body, step) in [
        (
            "risk",
            json!({"risk_level": "imminent", "reason": "再次受到威胁"}),
            "the risk raised by hand",
        ),
        (
            "outcome",
            json!({"result": "resolved", "details": "已安置"}),
            "the outcome",
        ),
        (
            "close",
            json!({"follow_up": "回访正常", "override_reason": "派出所已电话确认处置完毕"}),
            "closed over an open escalation",
        ),
        ("reopen", json!({"reason": "再次来电"}), "reopened"),
        (
            "transfer",
            json!({"unit_id": legal_aid, "reason": "需要法律援助"}),
            "transferred",
        ),
    ] {
        post(&app, &station, &case_url(what), body).await;
        log.check(step).await;
    }
    let legalaid = app.login("legalaid").await;
    post(
        &app,
        &legalaid,
        &case_url("decline"),
        json!({"reason": "不属于法律援助范围"}),
    )
    .await;
    log.check("declined back to the hotline").await;

    // The deadline engine's changes: the urgent case misses its accept
    // clock and goes overdue; accepting it late clears the flag.
    app.clock.advance(Span::hours(1) + Span::seconds(1));
    wait_timeline(&app, &late, "accept deadline", |tl| {
        common::count(tl, "deadline.missed", |_| true) == 1
    })
    .await;
    // The escalation the imminent risk opened was never acknowledged: it
    // climbs a level.
    let before = wait_timeline(&app, &id, "the imminent risk's escalation", |_| true).await;
    let raised = common::count(&before, "escalation.raised", |_| true);
    log.check("a missed accept deadline").await;
    app.clock.advance(Span::minutes(16));
    wait_timeline(&app, &id, "the escalation climbing", |tl| {
        common::count(tl, "escalation.raised", |_| true) > raised
    })
    .await;
    log.check("a missed acknowledgement: the escalation climbs")
        .await;
    let (status, v) = app
        .post_json(&station, &format!("/api/v1/cases/{late}/accept"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["overdue"], false);
    log.check("accepted late").await;
    let due: chrono::DateTime<chrono::Utc> = v["deadlines"]["resolve_due_at"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no resolve due in {v}"));
    let ext = post(
        &app,
        &station,
        &format!("/api/v1/cases/{late}/extension"),
        json!({"until": due + Span::days(7), "reason": "等待法律援助中心出具意见"}),
    )
    .await;
    log.check("an extension asked").await;
    let ext = ext["id"].as_str().unwrap();
    post(
        &app,
        &op,
        &format!("/api/v1/extensions/{ext}/approve"),
        json!({"note": "同意"}),
    )
    .await;
    log.check("the extension approved (the deadline moved)")
        .await;

    // A duplicate is closed into its original.
    let dup = common::open_case(
        &app,
        json!({"category": "marriage_family", "region_code": YULONG, "summary": "再次来电", "subject": {}}),
    )
    .await;
    let dup = dup["id"].as_str().unwrap();
    post(
        &app,
        &op,
        &format!("/api/v1/cases/{dup}/link"),
        json!({"other_case_id": late, "kind": "duplicate"}),
    )
    .await;
    log.check("a duplicate closed into its original").await;

    let seen = log
        .rows("SELECT DISTINCT what FROM test_touches ORDER BY what")
        .await;
    let seen: Vec<String> = seen
        .iter()
        .map(|r| {
            r.try_get::<String>("", "what")
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    assert_eq!(
        seen,
        [
            "case_handlers",
            "cases",
            "escalation_actions",
            "escalations",
            "event"
        ]
    );

    // The check itself: a case row changed behind the application's back,
    // with no event, is found.
    let (status, detail) = app.get(&op, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["number"], case["number"]);
    let number = case["number"].as_str().unwrap().to_string();
    app.state
        .db
        .conn
        .execute_unprepared(&format!(
            "UPDATE cases SET summary = summary || '。' WHERE number = '{number}'"
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let untold = log.untold().await;
    assert_eq!(untold.len(), 1, "{untold:?}");
    assert!(untold[0].starts_with("cases "), "{untold:?}");
}
