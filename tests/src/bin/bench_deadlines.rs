//! Deadline engine benchmark: N pending deadlines (default 100,000) due
//! evenly over a span (default 10 minutes) of real time; a real server
//! with the system clock fires them. Prints the firing lateness
//! (`fired_at − due_at`) percentiles and the process CPU time used while
//! firing.
//!
//! ```text
//! cargo run --release -p lianxin-tests --bin bench_deadlines -- --db sqlite
//! cargo run --release -p lianxin-tests --bin bench_deadlines -- --db postgres [--url postgres://postgres@127.0.0.1:5432/test]
//!     [--count 100000] [--span-secs 600] [--lead-secs 30]
//! ```
//!
//! The deadlines are of a kind `fire` ignores, so the figures are the
//! engine's own cost: read due rows, claim each in its own transaction,
//! commit. On PostgreSQL a fresh database is created and dropped.
use std::{sync::Arc, time::Duration};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use lianxin::{
    app::App,
    clock::{Clock, SystemClock},
    config::Settings,
    db::entities::deadline,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect,
};
use uuid::Uuid;

struct Args {
    db: String,
    url: String,
    count: usize,
    span_secs: i64,
    lead_secs: i64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        db: "sqlite".into(),
        url: "postgres://postgres@127.0.0.1:5432/test".into(),
        count: 100_000,
        span_secs: 600,
        lead_secs: 30,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => args.db = value()?,
            "--url" => args.url = value()?,
            "--count" => args.count = value()?.parse()?,
            "--span-secs" => args.span_secs = value()?.parse()?,
            "--lead-secs" => args.lead_secs = value()?.parse()?,
            "-h" | "--help" => {
                println!("bench_deadlines --db sqlite|postgres [--url URL] [--count N] [--span-secs S] [--lead-secs S]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if args.db != "sqlite" && args.db != "postgres" {
        bail!("--db must be sqlite or postgres");
    }
    Ok(args)
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses).
    let Some(rest) = stat.rsplit(')').next() else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12
    // after the state field that follows the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let hz = 100.0; // USER_HZ on Linux
    (ticks(11) + ticks(12)) / hz
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let clock = Arc::new(SystemClock);
    let dir = std::env::temp_dir().join(format!("lianxin-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;

    let (db_url, pg_drop) = if args.db == "postgres" {
        let name = format!("lianxin_bench_{}", Uuid::new_v4().simple());
        let admin = Database::connect(args.url.as_str()).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        admin.close().await?;
        let mut url = reqwest::Url::parse(&args.url)?;
        url.set_path(&format!("/{name}"));
        (url.to_string(), Some(name))
    } else {
        (
            format!("sqlite://{}/lianxin.db?mode=rwc", dir.display()),
            None,
        )
    };

    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        ..Settings::default()
    };
    settings.database.url = db_url.clone();

    // Schema first, rows next, then the server: the engine starts with
    // every deadline already in the table.
    let conn = {
        let app = App::build(settings.clone(), clock.clone()).await?;
        app.state.db.conn.clone()
    };
    let t0 = clock.now() + chrono::Duration::seconds(args.lead_secs);
    let span_ms = args.span_secs * 1000;
    println!(
        "engine: {}  deadlines: {}  due over {} s from {}",
        args.db, args.count, args.span_secs, t0
    );
    let insert_started = std::time::Instant::now();
    let created = clock.now();
    for chunk_start in (0..args.count).step_by(1000) {
        let models: Vec<deadline::ActiveModel> = (chunk_start
            ..(chunk_start + 1000).min(args.count))
            .map(|i| {
                let offset = (i as i64 * span_ms) / args.count as i64;
                deadline::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    subject_kind: Set("bench".into()),
                    subject_id: Set(Uuid::new_v4()),
                    kind: Set("bench.tick".into()),
                    due_at: Set(t0 + chrono::Duration::milliseconds(offset)),
                    fired_at: Set(None),
                    cancelled_at: Set(None),
                    claimed_by: Set(None),
                    created_at: Set(created),
                }
            })
            .collect();
        deadline::Entity::insert_many(models)
            .exec_without_returning(&conn)
            .await?;
    }
    println!(
        "inserted in {:.1} s",
        insert_started.elapsed().as_secs_f64()
    );
    if args.db == "postgres" {
        // What autovacuum does after a bulk load (it is off on some test
        // servers). Without statistics the planner takes the partial
        // `deadlines_pending` index for by-id lookups: ~20 ms each.
        conn.execute_unprepared("ANALYZE deadlines").await?;
    }
    if clock.now() >= t0 {
        bail!("inserting took longer than --lead-secs; raise it");
    }

    let running = App::build(settings.clone(), clock.clone()).await?.spawn()?;
    let cpu_start = cpu_seconds();
    let wall_start = std::time::Instant::now();
    let end = t0 + chrono::Duration::seconds(args.span_secs);
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let pending = deadline::Entity::find()
            .filter(deadline::Column::FiredAt.is_null())
            .count(&conn)
            .await?;
        let now = clock.now();
        println!("{}  pending {pending}", now.format("%H:%M:%S"));
        if pending == 0 && now >= end {
            break;
        }
        if now > end + chrono::Duration::seconds(120) {
            println!(
                "giving up: {pending} deadlines still pending two minutes after the last was due"
            );
            break;
        }
    }
    let cpu = cpu_seconds() - cpu_start;
    let wall = wall_start.elapsed().as_secs_f64();
    running.stop().await?;

    let rows: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = deadline::Entity::find()
        .select_only()
        .column(deadline::Column::DueAt)
        .column(deadline::Column::FiredAt)
        .into_tuple()
        .all(&conn)
        .await?;
    let mut late: Vec<f64> = rows
        .iter()
        .filter_map(|(due, fired)| {
            fired.map(|f| (f - *due).num_microseconds().unwrap_or(0) as f64 / 1e6)
        })
        .collect();
    late.sort_by(|a, b| a.total_cmp(b));
    let unfired = rows.len() - late.len();
    println!();
    println!(
        "fired {} of {} ({} unfired)",
        late.len(),
        rows.len(),
        unfired
    );
    println!(
        "lateness  p50 {:.3} s  p99 {:.3} s  max {:.3} s  (min {:.3} s)",
        percentile(&late, 50.0),
        percentile(&late, 99.0),
        late.last().copied().unwrap_or(f64::NAN),
        late.first().copied().unwrap_or(f64::NAN),
    );
    println!(
        "process CPU while firing: {cpu:.1} s over {wall:.0} s wall ({:.1}% of one core)",
        100.0 * cpu / wall
    );
    conn.close().await?;
    if let Some(name) = pg_drop {
        let admin = Database::connect(args.url.as_str()).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await?;
        admin.close().await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
