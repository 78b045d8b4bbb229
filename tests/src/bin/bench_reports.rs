//! `bench_reports`: supervisors' reads at a million cases (issue 20).
//!
//! ```text
//! cargo build --release -p lianxin -p lianxin-tests
//! target/release/bench_reports --db sqlite|postgres [--cases 1000000] [--rounds 20] \
//!     [--server target/release/lianxin] [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
//! ```
//!
//! A fresh database (`lianxin_tests::bench::Scratch`; `BENCH_KEEP=1`
//! keeps it), `lianxin demo`, then `--cases` cases written by one
//! bulk SQL statement per 100,000 (spread evenly over the last 365 days,
//! all categories and statuses, the demo villages and units), each with
//! one counted deadline (one in ten missed). Then `lianxin serve` as its
//! own process and, as the supervisor, `--rounds` times each: the summary
//! for the default 30 days and for the whole year, the case list filtered
//! by category and status, a search by the beginning of a case number, the
//! summary narrowed to the county and to a village (both from the
//! counters, kept per village), and the 30-day CSV export (time, bytes, and the
//! server's PSS before and after). On PostgreSQL the seeding's counter
//! deltas are folded by the server before anything is timed (the time it
//! took is printed).
use lianxin_tests::{bench::Scratch, procfs::pss_mib};
use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

const CATEGORIES: &[&str] = &[
    "domestic_violence",
    "safety_threat",
    "marriage_family",
    "neighbor_dispute",
    "land_rights",
    "property",
    "legal_aid",
    "social_assistance",
    "counselling",
    "health",
    "employment",
    "family_education",
    "other",
];
const STATUSES: &[&str] = &["new", "assigned", "in_progress", "resolved", "closed"];
use lianxin_tests::bench::DEMO_VILLAGES as VILLAGES;
const CHUNK: u64 = 100_000;

struct Args {
    postgres: bool,
    cases: u64,
    rounds: usize,
    server: PathBuf,
    pg_url: String,
    /// Leave the directory and database behind (`--keep` or `BENCH_KEEP=1`).
    keep: bool,
}

fn args() -> Result<Args> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut a = Args {
        postgres: false,
        cases: 1_000_000,
        rounds: 20,
        server: root.join("target/release/lianxin"),
        pg_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
        keep: false,
    };
    a.keep = lianxin_tests::bench::flags(|flag, v| {
        match flag {
            "--db" => a.postgres = v == "postgres",
            "--cases" => a.cases = v.parse()?,
            "--rounds" => a.rounds = v.parse()?,
            "--server" => a.server = PathBuf::from(v),
            "--pg-url" => a.pg_url = v,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(a)
}

fn main() -> Result<()> {
    let args = args()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let pg_url = args.postgres.then_some(args.pg_url.as_str());
    let mut scratch = Scratch::new("reports", pg_url, &args.server).await?;
    scratch.keep = args.keep || std::env::var_os("BENCH_KEEP").is_some();
    bench(&args, &scratch).await
}

/// `CASE expr % n WHEN 0 THEN v0 … END` over `values` (already quoted).
fn pick(expr: &str, values: &[String]) -> String {
    let arms: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!(" WHEN {i} THEN {v}"))
        .collect();
    format!("(CASE {expr} % {} {arms} END)", values.len())
}

fn quoted(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| format!("'{x}'")).collect()
}

async fn seed(db: &DatabaseConnection, postgres: bool, n: u64) -> Result<()> {
    let backend = db.get_database_backend();
    let one = |sql: &str| Statement::from_string(backend, sql.to_string());
    let mut units = Vec::new();
    for r in db
        .query_all_raw(one("SELECT id FROM units ORDER BY name"))
        .await?
    {
        let id: uuid::Uuid = r.try_get("", "id")?;
        units.push(if postgres {
            format!("'{id}'::uuid")
        } else {
            format!("x'{}'", id.simple())
        });
    }
    let admin = db
        .query_one_raw(one("SELECT id FROM users WHERE username = 'admin'"))
        .await?
        .ok_or_else(|| anyhow!("no admin user"))?;
    let admin: uuid::Uuid = admin.try_get("", "id")?;
    let admin = if postgres {
        format!("'{admin}'::uuid")
    } else {
        format!("x'{}'", admin.simple())
    };
    let span = 365 * 86_400 / n.max(1);
    let started = Instant::now();
    let mut from = 0;
    while from < n {
        let to = (from + CHUNK).min(n);
        // Numbers `YYYY-NNNNNN` as the server writes them, in years
        // before the demo's: 2025-000000…, then 2024-…
        let (series, id, ts, number) = if postgres {
            (
                format!("SELECT i FROM generate_series({from}, {}) AS s(i)", to - 1),
                "gen_random_uuid()".to_string(),
                format!("now() - make_interval(secs => i * {span})"),
                "(2025 - i / 1000000)::text || '-' || lpad((i % 1000000)::text, 6, '0')"
                    .to_string(),
            )
        } else {
            (
                format!("WITH RECURSIVE s(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM s WHERE i + 1 < {to}) SELECT i FROM s"),
                "randomblob(16)".to_string(),
                format!("strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || (i * {span}) || ' seconds') || '.' || printf('%06d', i % 1000000) || '+00:00'"),
                "(2025 - i / 1000000) || '-' || printf('%06d', i % 1000000)".to_string(),
            )
        };
        let sql = format!(
            "INSERT INTO cases (id, number, category, status, priority, risk_level, region_code, summary, \
             assigned_unit_id, created_by, created_at, updated_at, version, overdue) \
             SELECT {id}, {number}, {cat}, {st}, 'normal', 'none', {reg}, 'bench', {unit}, {admin}, {ts}, {ts}, 1, \
             (i % 17 = 0) FROM ({series}) AS q",
            cat = pick("i", &quoted(CATEGORIES)),
            st = pick("(i / 13)", &quoted(STATUSES)),
            reg = pick("(i / 3)", &quoted(VILLAGES)),
            unit = pick("i", &units),
        );
        db.execute_raw(one(&sql)).await.context("seeding cases")?;
        from = to;
        println!("  {to} cases ({:.0} s)", started.elapsed().as_secs_f64());
    }
    let id = if postgres {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    db.execute_raw(one(&format!(
        "INSERT INTO deadlines (id, subject_kind, subject_id, kind, due_at, fired_at, cancelled_at, created_at) \
         SELECT {id}, 'case', id, 'accept', created_at, \
         CASE WHEN number LIKE '%7' THEN created_at END, \
         CASE WHEN number LIKE '%7' THEN NULL ELSE created_at END, created_at FROM cases WHERE summary = 'bench'"
    )))
    .await
    .context("seeding deadlines")?;
    db.execute_unprepared("ANALYZE").await?;
    println!(
        "seeded {n} cases and deadlines in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct Timing {
    name: &'static str,
    ms: Vec<f64>,
    bytes: usize,
}

impl Timing {
    fn report(&mut self) {
        self.ms.sort_by(f64::total_cmp);
        let p = |q: f64| self.ms[((self.ms.len() - 1) as f64 * q).round() as usize];
        println!(
            "{:<44} median {:>8.1} ms  p95 {:>8.1} ms  max {:>8.1} ms  ({} bytes)",
            self.name,
            p(0.5),
            p(0.95),
            p(1.0),
            self.bytes
        );
    }
}

async fn time(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    name: &'static str,
    path: &str,
    rounds: usize,
) -> Result<Timing> {
    let mut t = Timing {
        name,
        ms: Vec::new(),
        bytes: 0,
    };
    for _ in 0..rounds {
        let start = Instant::now();
        let resp = http
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        t.ms.push(start.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            bail!("{path}: {status} {}", String::from_utf8_lossy(&body));
        }
        t.bytes = body.len();
    }
    Ok(t)
}

/// PostgreSQL: the seeding's counter deltas are folded by the server
/// (every 2 s); time it and wait until none is pending.
async fn fold_wait(url: &str) -> Result<()> {
    let db = Database::connect(url).await?;
    let started = Instant::now();
    let before = scalar(&db, "SELECT COUNT(*) AS n FROM report_count_deltas").await?;
    while scalar(&db, "SELECT COUNT(*) AS n FROM report_count_deltas").await? > 0 {
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("counter deltas not folded");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "the server folded {before} counter deltas in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Then its vacuum gives the emptied pages back (`reports::counters`);
    // until it has, every summary scans them.
    let size = "SELECT pg_relation_size('report_count_deltas') AS n";
    while scalar(&db, size).await? > 8 * 1024 * 1024 {
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("counter delta table not vacuumed");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    db.execute_unprepared("ANALYZE report_counts").await?;
    println!(
        "… and gave the delta table's pages back {:.1} s after the seeding",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The bigint `n` of a one-row query.
async fn scalar(db: &DatabaseConnection, sql: &str) -> Result<i64> {
    let r = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_string(),
        ))
        .await?
        .ok_or_else(|| anyhow!("no row for {sql}"))?;
    Ok(r.try_get::<i64>("", "n")?)
}

async fn bench(args: &Args, scratch: &Scratch) -> Result<()> {
    scratch.write_config("")?;
    scratch.cli(&["demo"]).await?;
    {
        let db = Database::connect(&scratch.url).await?;
        seed(&db, args.postgres, args.cases).await?;
    }
    let server = scratch.serve().await?;
    if args.postgres {
        fold_wait(&scratch.url).await?;
    }
    let (http, base, pid) = (&server.http, server.base.as_str(), server.pid);
    let token = &server.login("supervisor").await?;
    // The server's clock, not ours: the `to` of a default summary.
    let first: serde_json::Value = http
        .get(format!("{base}/api/v1/reports/summary"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let to: chrono::DateTime<chrono::Utc> = serde_json::from_value(first["to"].clone())?;
    let year_ago =
        (to - chrono::Duration::days(366)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let engine = if args.postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "{engine}, {} cases, {} rounds each, as the demo supervisor (her region's cases)",
        args.cases, args.rounds
    );
    let year = format!("from={}", year_ago.replace('+', "%2B"));
    // The beginning of a seeded number (up to 100 cases share it).
    let number = format!("2025-{:06}", args.cases / 2)[..9].to_string();
    let reads: [(&'static str, String); 8] = [
        ("GET /reports/summary (30 days)", String::new()),
        ("GET /reports/summary (365 days)", year.clone()),
        (
            "GET /reports/summary (365 d, county filter)",
            format!("region_code=450321000000&{year}"),
        ),
        (
            "GET /reports/summary (30 d, village filter)",
            "region_code=450321101201".into(),
        ),
        (
            "GET /reports/summary (365 d, village filter)",
            format!("region_code=450321101201&{year}"),
        ),
        (
            "GET /cases?category=&status= (first page)",
            "category=land_rights&status=resolved".into(),
        ),
        (
            "GET /cases?q=YYYY-NNNN (number prefix)",
            format!("q={number}"),
        ),
        (
            "GET /cases?region_code=village",
            "region_code=450321101201".into(),
        ),
    ];
    let mut results = Vec::new();
    for (name, query) in reads {
        let path = if name.starts_with("GET /reports") {
            format!("/api/v1/reports/summary?{query}")
        } else {
            format!("/api/v1/cases?{query}")
        };
        results.push(time(http, base, token, name, &path, args.rounds).await?);
    }
    for t in &mut results {
        t.report();
    }
    let before = pss_mib(pid);
    let mut csv = time(
        http,
        base,
        token,
        "GET /reports/cases.csv (30 days)",
        "/api/v1/reports/cases.csv",
        3,
    )
    .await?;
    csv.report();
    println!(
        "server PSS {before:.1} MiB before the exports, {:.1} MiB after",
        pss_mib(pid)
    );
    Ok(())
}
