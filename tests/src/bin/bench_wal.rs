//! `bench_wal`: the SQLite write-ahead log's size over time under
//! sustained intake with readers beside it (issue 20).
//!
//! ```text
//! cargo build --release -p lianxin -p lianxin-tests
//! target/release/bench_wal [--minutes 10] [--concurrency 16] [--readers 4] \
//!     [--sample-secs 30] [--server target/release/lianxin] \
//!     [--db-set key=value]... [--keep]
//! ```
//!
//! A fresh SQLite database in a new temporary directory, `lianxin demo`,
//! `lianxin serve` as its own process; `--concurrency` clients open cases
//! as fast as the server takes them for `--minutes`, while `--readers`
//! clients list cases and one reads the supervisor's summary (readers
//! that keep SQLite from restarting its log with passive checkpoints
//! alone). Every `--sample-secs` it prints the WAL's and the database's
//! size, cases open, the rate of the interval and the server's PSS/RSS
//! (`/proc/PID/smaps_rollup`); at the end the largest WAL seen (sampled
//! every 100 ms).
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

const PASSWORD: &str = lianxin_tests::DEMO_PASSWORD;
const MIB: f64 = 1024.0 * 1024.0;

struct Args {
    minutes: f64,
    concurrency: usize,
    readers: usize,
    sample_secs: u64,
    server: PathBuf,
    /// `key = value` lines added to the server's `[database]` section.
    db_set: Vec<String>,
    keep: bool,
}

fn args() -> Result<Args> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut a = Args {
        minutes: 10.0,
        concurrency: 16,
        readers: 4,
        sample_secs: 30,
        server: root.join("target/release/lianxin"),
        db_set: Vec::new(),
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--minutes" => a.minutes = value()?.parse()?,
            "--concurrency" => a.concurrency = value()?.parse()?,
            "--readers" => a.readers = value()?.parse()?,
            "--sample-secs" => a.sample_secs = value()?.parse()?,
            "--server" => a.server = PathBuf::from(value()?),
            "--db-set" => a.db_set.push(lianxin_tests::bench::db_set_line(&value()?)?),
            "--keep" => a.keep = true,
            other => bail!("unknown argument {other}"),
        }
    }
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

/// `(PSS, RSS)` in KiB from `/proc/PID/smaps_rollup`: PSS counts a page
/// shared by n mappings (the SQLite file mapped by every pooled
/// connection) as 1/n, so it is what the process really costs.
pub fn pss_rss_kib(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    };
    (field("Pss:"), field("Rss:"))
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

async fn run(args: Args) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("lianxin-bench-wal-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let outcome = bench(&args, &dir).await;
    if args.keep {
        println!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    outcome
}

fn lianxin(args: &Args, dir: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(&args.server);
    c.env("LIANXIN_CONFIG", dir.join("bench.toml"))
        .env(
            "LIANXIN_DATABASE_URL",
            format!("sqlite://{}/lianxin.db?mode=rwc", dir.display()),
        )
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        );
    c
}

async fn bench(args: &Args, dir: &Path) -> Result<()> {
    std::fs::write(
        dir.join("bench.toml"),
        format!(
            "data_dir = {:?}\n[database]\n{}\n",
            dir.display().to_string(),
            args.db_set.join("\n")
        ),
    )?;
    let out = lianxin(args, dir)
        .arg("demo")
        .output()
        .await
        .with_context(|| format!("running {}", args.server.display()))?;
    if !out.status.success() {
        bail!("lianxin demo: {}", String::from_utf8_lossy(&out.stderr));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = std::fs::File::create(dir.join("server.log"))?;
    let child = lianxin(args, dir)
        .arg("serve")
        .env("LIANXIN_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or_else(|| anyhow!("server exited at once"))?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_ready(&http, &base).await?;
    let operator = login(&http, &base, "operator").await?;
    let supervisor = login(&http, &base, "supervisor").await?;

    let stop = Arc::new(AtomicBool::new(false));
    let opened = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..args.concurrency {
        let (http, base, token) = (http.clone(), base.clone(), operator.clone());
        let (stop, opened, errors) = (stop.clone(), opened.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = i as u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({"category": "neighbor_dispute", "region_code": "450321101201",
                    "summary": "bench_wal: 邻里纠纷", "subject": {"phone": format!("139{:08}", n % 100_000_000)}});
                let ok = http
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16() == 201)
                    .unwrap_or(false);
                let counter = if ok { &opened } else { &errors };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for i in 0..=args.readers {
        let path = if i == 0 {
            "/api/v1/reports/summary".to_string()
        } else {
            "/api/v1/cases?limit=50".to_string()
        };
        let token = if i == 0 { &supervisor } else { &operator }.clone();
        let (http, base, stop) = (http.clone(), base.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let _ = http
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await;
            }
        }));
    }
    sample(args, dir, pid, &opened, &errors).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// Print a line every `--sample-secs` until `--minutes` are over; the
/// WAL's size is read every 100 ms for its maximum.
async fn sample(args: &Args, dir: &Path, pid: u32, opened: &AtomicU64, errors: &AtomicU64) {
    let (db, wal) = (dir.join("lianxin.db"), dir.join("lianxin.db-wal"));
    let started = Instant::now();
    let end = Duration::from_secs_f64(args.minutes * 60.0);
    let mut next = Duration::from_secs(args.sample_secs);
    let (mut max_wal, mut last_n, mut last_t, mut max_pss) = (0u64, 0u64, Duration::ZERO, 0u64);
    println!("load {}", loadavg());
    println!("   t s | WAL MiB | max WAL MiB | db MiB |   cases | cases/s | PSS MiB | RSS MiB");
    while started.elapsed() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
        max_wal = max_wal.max(file_len(&wal));
        let t = started.elapsed();
        if t < next {
            continue;
        }
        next += Duration::from_secs(args.sample_secs);
        let n = opened.load(Ordering::Relaxed);
        let rate = (n - last_n) as f64 / (t - last_t).as_secs_f64();
        let (pss, rss) = pss_rss_kib(pid);
        max_pss = max_pss.max(pss);
        println!(
            "{:>6.0} | {:>7.1} | {:>11.1} | {:>6.1} | {:>7} | {:>7.0} | {:>7.0} | {:>7.0}",
            t.as_secs_f64(),
            file_len(&wal) as f64 / MIB,
            max_wal as f64 / MIB,
            file_len(&db) as f64 / MIB,
            n,
            rate,
            pss as f64 / 1024.0,
            rss as f64 / 1024.0
        );
        (last_n, last_t) = (n, t);
    }
    let n = opened.load(Ordering::Relaxed);
    println!(
        "{n} cases in {:.0} s ({:.0}/s), {} errors; largest WAL {:.1} MiB; largest PSS {:.0} MiB; load {}",
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64(),
        errors.load(Ordering::Relaxed),
        max_wal as f64 / MIB,
        max_pss as f64 / 1024.0,
        loadavg()
    );
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

async fn wait_ready(http: &reqwest::Client, base: &str) -> Result<()> {
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not become ready")
}

async fn login(http: &reqwest::Client, base: &str, user: &str) -> Result<String> {
    let v: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    v["token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow!("no token for {user}: {v}"))
}
