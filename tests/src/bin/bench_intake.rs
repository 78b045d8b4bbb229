//! `bench_intake`: how fast the real server opens cases, against the raw
//! durable-commit rate of the same disk, and how fast the screen pop answers
//! with a million calls on file.
//!
//! ```text
//! cargo run --release -p lianxin-tests --bin bench_intake -- \
//!     [--db sqlite|postgres] [--concurrency 32] [--cases 10000] [--calls 1000000] \
//!     [--mix simple|realistic] [--outlets files|network] [--smtp-connections N]
//! ```
//!
//! `--mix simple` (the default) is the mix every earlier figure was taken
//! with: sixteen categories drawn evenly, one case in sixteen a
//! `safety_threat` (an escalation), no danger screens. `--mix realistic`
//! is the hotline's day (issue 20): 60 % disputes (marriage and family,
//! neighbours, land, property, employment, family education), 30 %
//! domestic violence with a danger screen — two in three of them `high`
//! or `imminent`, so that 20 % of all cases open an escalation with its
//! deadlines, its mail to the police unit's address and liaisons, and a
//! text where the unit has a duty phone — and 10 % legal aid, assistance,
//! counselling and health. The report gives the escalations, mail and
//! texts the load queued, counted in the database, how many were still
//! unsent when the load ended and how long they then took to go out (with
//! the server CPU per case counting that work), and the server's peak
//! PSS and RSS (`/proc/PID/smaps_rollup`). `--outlets network` sends the
//! mail and texts where production sends them: to an SMTP relay and an
//! HTTP text gateway (`lianxin_tests::sinks`, on loopback in this
//! process), and reports what they received; with `files` (the default,
//! as every earlier figure) they are `.eml`/`.txt` files beside the
//! database; `--smtp-connections N` sets the server's `[smtp]
//! connections` (its default, 16, otherwise). `--db-set key=value` adds a
//! line to the server's `[database]` settings (e.g. `sqlite_mmap_mib=64`).
//!
//! What it does, in order:
//! 1. `cargo build --release -p lianxin` (skip with `--no-build`), then a
//!    fresh database: a SQLite file in a new temporary directory, or a new
//!    PostgreSQL database `lianxin_bench_<uuid>` on `--pg-url` (dropped at
//!    the end). `lianxin demo` loads the demo province; `lianxin serve` runs
//!    as a separate process on a free port; the bench logs in as `operator`.
//! 2. The raw durable-commit rate of the same engine and disk: SQLite, one
//!    writer, WAL + synchronous=FULL, two-insert transactions, in a second
//!    file in the same directory; PostgreSQL, `--concurrency` connections
//!    doing two-insert transactions (pgbench-like). Measured before and
//!    after the case load, so a noisy neighbour shows up as a mismatch.
//! 3. `--concurrency` clients each `POST /api/v1/cases` until `--cases` are
//!    open (after `--warmup` uncounted ones); cases/s, p50/p99 latency, and
//!    for SQLite the case rate as a % of the raw rate.
//! 4. `--calls` call rows bulk-inserted straight into the database
//!    (multi-row INSERTs, big transactions, phones spread over `--phones`
//!    numbers), then `--lookups` sequential `GET /api/v1/callers/{phone}`
//!    for random numbers: p50/p99.
//!
//! The load average is printed at each step: a compile beside the bench
//! cuts disk-bound figures tenfold, so rerun when the machine is quiet.
//! `--keep` leaves the directory (server log, databases) for a post-mortem;
//! `RUST_LOG` is passed to the server, whose log is `<dir>/server.log`.
use lianxin_tests::{procfs::loadavg, sinks};
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    str::FromStr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{
    sqlx::{
        self,
        postgres::PgConnection,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
        Connection,
    },
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement,
    TransactionTrait, Value as DbValue,
};
use serde_json::{json, Value};
use uuid::Uuid;

use lianxin_tests::bench::DEMO_VILLAGES as VILLAGES;

const CATEGORIES: &[&str] = &[
    "domestic_violence",
    "domestic_violence",
    "domestic_violence",
    "marriage_family",
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
    "safety_threat",
    "other",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
struct Args {
    db: Engine,
    concurrency: usize,
    cases: usize,
    warmup: usize,
    calls: usize,
    phones: u64,
    /// Persons on the ledger (`lianxin ledger sample | import`).
    persons: u64,
    lookups: usize,
    raw_secs: u64,
    pg_url: String,
    dir: Option<PathBuf>,
    client_threads: usize,
    /// A server binary to run instead of target/release/lianxin (A/B runs).
    server: Option<PathBuf>,
    mix: Mix,
    /// Where mail and texts go: files in the data directory, or the
    /// loopback sinks (`--outlets network`).
    network_outlets: bool,
    /// `[smtp] connections` for the server (its default when absent).
    smtp_connections: Option<u32>,
    /// `key = value` lines added to the server's `[database]` section.
    db_set: Vec<String>,
    build: bool,
    keep: bool,
}

const USAGE: &str =
    "usage: bench_intake [--db sqlite|postgres] [--concurrency 32] [--cases 10000] \
[--warmup 300] [--calls 1000000] [--phones 200000] [--persons 0] [--lookups 3000] [--raw-secs 5] \
[--pg-url postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable] [--dir PATH] [--client-threads 1] \
[--server PATH] [--mix simple|realistic] [--outlets files|network] [--smtp-connections N] [--db-set key=value]... \
[--no-build] [--keep]";

/// What the clients send (see the module comment).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mix {
    Simple,
    Realistic,
}

impl Args {
    fn parse() -> Result<Args> {
        let mut a = Args {
            db: Engine::Sqlite,
            concurrency: 32,
            cases: 10_000,
            warmup: 300,
            calls: 1_000_000,
            phones: 200_000,
            persons: 0,
            lookups: 3_000,
            raw_secs: 5,
            // Loopback: TLS would only cost CPU on both ends (sqlx's default
            // `sslmode=prefer` takes it when the server offers it; that
            // halved the intake rate here).
            pg_url: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into(),
            dir: None,
            client_threads: 1,
            server: None,
            mix: Mix::Simple,
            network_outlets: false,
            smtp_connections: None,
            db_set: Vec::new(),
            build: true,
            keep: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .ok_or_else(|| anyhow!("{flag} needs a value\n{USAGE}"))
            };
            match flag.as_str() {
                "--db" => {
                    a.db = match value()?.as_str() {
                        "sqlite" => Engine::Sqlite,
                        "postgres" | "postgresql" | "pg" => Engine::Postgres,
                        other => bail!("unknown --db {other}\n{USAGE}"),
                    }
                }
                "--concurrency" => a.concurrency = value()?.parse()?,
                "--cases" => a.cases = value()?.parse()?,
                "--warmup" => a.warmup = value()?.parse()?,
                "--calls" => a.calls = value()?.parse()?,
                "--phones" => a.phones = value()?.parse()?,
                "--persons" => a.persons = value()?.parse()?,
                "--lookups" => a.lookups = value()?.parse()?,
                "--raw-secs" => a.raw_secs = value()?.parse()?,
                "--pg-url" => a.pg_url = value()?,
                "--dir" => a.dir = Some(PathBuf::from(value()?)),
                "--client-threads" => a.client_threads = value()?.parse()?,
                "--server" => a.server = Some(PathBuf::from(value()?)),
                "--mix" => {
                    a.mix = match value()?.as_str() {
                        "simple" => Mix::Simple,
                        "realistic" => Mix::Realistic,
                        other => bail!("unknown --mix {other}\n{USAGE}"),
                    }
                }
                "--outlets" => {
                    a.network_outlets = match value()?.as_str() {
                        "files" => false,
                        "network" => true,
                        other => bail!("unknown --outlets {other}\n{USAGE}"),
                    }
                }
                "--smtp-connections" => a.smtp_connections = Some(value()?.parse()?),
                "--db-set" => a.db_set.push(lianxin_tests::bench::db_set_line(&value()?)?),
                "--no-build" => a.build = false,
                "--keep" => a.keep = true,
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other}\n{USAGE}"),
            }
        }
        if a.concurrency == 0 || a.client_threads == 0 || a.phones == 0 {
            bail!("--concurrency, --client-threads and --phones must be positive");
        }
        Ok(a)
    }
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

/// SplitMix64: enough randomness for picking numbers, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The k-th caller's number: mainland mobiles, canonical form.
fn phone(k: u64) -> String {
    format!("1{}", 3_800_000_000u64 + k * 37)
}

fn say(what: &str) {
    println!("[load {}] {what}", loadavg());
}

/// CPU seconds used so far by process `pid` (user + system), from
/// `/proc/<pid>/stat` (Linux; 100 ticks a second).
fn process_cpu_s(pid: Option<u32>) -> f64 {
    let Some(pid) = pid else { return 0.0 };
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

/// (busy, total) jiffies of the whole machine, from `/proc/stat`.
fn machine_cpu() -> (f64, f64) {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?;
            let v: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            let total: f64 = v.iter().take(8).sum();
            let idle = v.get(3)? + v.get(4)?;
            Some((total - idle, total))
        })
        .unwrap_or((0.0, 0.0))
}

struct Latencies(Vec<u32>);

impl Latencies {
    fn pct(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i.min(self.0.len() - 1)] as f64 / 1000.0
    }

    fn summary(mut self) -> (f64, f64, f64, f64) {
        self.0.sort_unstable();
        let mean = if self.0.is_empty() {
            0.0
        } else {
            self.0.iter().map(|&v| v as f64).sum::<f64>() / self.0.len() as f64 / 1000.0
        };
        let max = self.0.last().map(|&v| v as f64 / 1000.0).unwrap_or(0.0);
        (self.pct(0.50), self.pct(0.99), mean, max)
    }
}

struct Fixture {
    dir: PathBuf,
    /// (admin URL, database name) to drop at the end.
    pg: Option<(String, String)>,
    db_url: String,
    config: PathBuf,
    server: Option<tokio::process::Child>,
    base: String,
    /// The SMTP relay and text gateway with `--outlets network`.
    sinks: Option<[sinks::Sink; 2]>,
}

async fn run(args: Args) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("no workspace root"))?;
    say(&format!("bench_intake {args:?}"));
    if args.build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--release", "-p", "lianxin"])
            .current_dir(&root)
            .status()
            .context("running cargo build")?;
        if !status.success() {
            bail!("cargo build --release -p lianxin failed");
        }
    }
    let server_bin = match &args.server {
        Some(p) => p.clone(),
        None => server_binary(&root)?,
    };

    let id = Uuid::new_v4().simple().to_string();
    let dir = match &args.dir {
        Some(d) => d.join(format!("lianxin-bench-{id}")),
        None => std::env::temp_dir().join(format!("lianxin-bench-{id}")),
    };
    std::fs::create_dir_all(&dir)?;
    let (db_url, pg) = match args.db {
        Engine::Sqlite => (
            format!("sqlite://{}/lianxin.db?mode=rwc", dir.display()),
            None,
        ),
        Engine::Postgres => {
            let name = format!("lianxin_bench_{id}");
            let admin = Database::connect(args.pg_url.as_str())
                .await
                .with_context(|| format!("connecting to {}", args.pg_url))?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await?;
            admin.close().await?;
            let mut url = reqwest::Url::parse(&args.pg_url)?;
            url.set_path(&format!("/{name}"));
            (url.to_string(), Some((args.pg_url.clone(), name)))
        }
    };
    let mut fx = Fixture {
        dir: dir.clone(),
        pg,
        db_url,
        config: dir.join("lianxin.toml"),
        server: None,
        base: String::new(),
        sinks: None,
    };
    let result = bench(&args, &root, &server_bin, &mut fx).await;
    if let Err(e) = &result {
        eprintln!("bench failed: {e:#}");
    }
    cleanup(&args, &mut fx).await;
    result
}

fn server_binary(root: &Path) -> Result<PathBuf> {
    // The bench itself lives in target/release; the server beside it.
    let mut candidates = Vec::new();
    if let Ok(me) = std::env::current_exe() {
        if let Some(d) = me.parent() {
            candidates.push(d.join("lianxin"));
        }
    }
    if let Ok(t) = std::env::var("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(t).join("release/lianxin"));
    }
    candidates.push(root.join("target/release/lianxin"));
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        anyhow!("target/release/lianxin not found: cargo build --release -p lianxin")
    })
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn lianxin(server_bin: &Path, fx: &Fixture) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(server_bin);
    cmd.env("LIANXIN_CONFIG", &fx.config)
        .env_remove("LIANXIN_DATABASE_URL")
        .env_remove("LIANXIN_LISTEN")
        .env_remove("LIANXIN_SMTP_URL")
        .current_dir(&fx.dir);
    cmd
}

/// `--persons` on the ledger: a generated screening file over the demo
/// villages of 阳朔县, imported with the CLI before the server starts.
/// Person `n` has the phone `13{n:09}` (`ledger::sample`).
async fn ledger(args: &Args, server_bin: &Path, fx: &Fixture) -> Result<()> {
    let file = fx.dir.join("ledger.csv");
    let csv = lianxin::ledger::sample::csv(
        lianxin::ledger::sample::DEMO_VILLAGES,
        usize::try_from(args.persons)?,
        0,
    );
    std::fs::write(&file, csv)?;
    say(&format!("ledger: importing {} persons", args.persons));
    let t = Instant::now();
    let out = lianxin(server_bin, fx)
        .args(["ledger", "import"])
        .arg(&file)
        .args(["--county", "450321000000"])
        .output()
        .await
        .context("running lianxin ledger import")?;
    if !out.status.success() {
        bail!(
            "ledger import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!("  imported in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// The number a screen pop asks for: every other one a ledger phone when
/// there are persons on the ledger.
fn lookup_phone(args: &Args, rng: &mut Rng, k: usize) -> String {
    if args.persons > 0 && k % 2 == 1 {
        format!("13{:09}", rng.below(args.persons))
    } else {
        phone(rng.below(args.phones))
    }
}

async fn bench(args: &Args, root: &Path, server_bin: &Path, fx: &mut Fixture) -> Result<()> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    fx.base = format!("http://{listen}");
    let config = format!(
        "listen = {listen:?}\npublic_url = {base:?}\ndata_dir = {data:?}\nstatic_dir = {stat:?}\n\
         [server]\nmax_connections_per_address = 0\n[database]\nurl = {url:?}\n",
        base = fx.base,
        data = fx.dir.display().to_string(),
        stat = root.join("frontend-dist").display().to_string(),
        url = fx.db_url,
    );
    let config = format!(
        "{config}{}",
        args.db_set
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    // After the `[database]` lines: mail and texts to the loopback sinks.
    let config = if args.network_outlets {
        let outlets = [sinks::smtp().await?, sinks::gateway().await?];
        let connections = args
            .smtp_connections
            .map(|n| format!("connections = {n}\n"))
            .unwrap_or_default();
        let config = format!(
            "{config}[smtp]\nurl = \"smtp://{}\"\n{connections}[sms]\nurl = \"http://{}/sms\"\n",
            outlets[0].addr, outlets[1].addr
        );
        fx.sinks = Some(outlets);
        config
    } else {
        config
    };
    std::fs::write(&fx.config, config)?;
    println!("directory {}", fx.dir.display());
    println!("database  {}", fx.db_url);

    let out = lianxin(server_bin, fx)
        .arg("demo")
        .output()
        .await
        .context("running lianxin demo")?;
    if !out.status.success() {
        bail!(
            "lianxin demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if args.persons > 0 {
        ledger(args, server_bin, fx).await?;
    }
    let log = std::fs::File::create(fx.dir.join("server.log"))?;
    let child = lianxin(server_bin, fx)
        .arg("serve")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .context("starting lianxin serve")?;
    println!("server    pid {:?} on {}", child.id(), fx.base);
    fx.server = Some(child);

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .timeout(Duration::from_secs(120))
        .build()?;
    let base = fx.base.clone();
    wait_ready(&client, &base, fx).await?;
    let token = login(&client, &fx.base, "operator").await?;

    // Raw durable-commit rate, before the load.
    say("raw commit rate (before)");
    let raw_before = raw_commit_rate(args, fx).await?;
    println!("  raw two-insert tx/s: {raw_before:.0}");

    // Warm-up: connections, page cache, prepared statements.
    let mut rng = Rng(0x1233_8000);
    if args.warmup > 0 {
        say(&format!("warm-up: {} cases", args.warmup));
        let _ = open_cases(args, &client, &fx.base, &token, args.warmup, &mut rng).await?;
    }
    say(&format!(
        "intake: {} cases, concurrency {}",
        args.cases, args.concurrency
    ));
    let server_pid = fx.server.as_ref().and_then(|c| c.id());
    let (cpu0, m0) = (process_cpu_s(server_pid), machine_cpu());
    let batches0 = batch_stats(&client, &fx.base).await;
    let queued0 = queued(fx).await?;
    let memory = MemoryPeak::start(server_pid);
    let (rate, lat, errors) =
        open_cases(args, &client, &fx.base, &token, args.cases, &mut rng).await?;
    let (cpu1, m1) = (process_cpu_s(server_pid), machine_cpu());
    let (rss, pss) = memory.finish().await;
    let batches1 = batch_stats(&client, &fx.base).await;
    let queued1 = queued(fx).await?;
    let server_ms_per_case = 1000.0 * (cpu1 - cpu0) / args.cases.max(1) as f64;
    let machine_busy = 100.0 * (m1.0 - m0.0) / (m1.1 - m0.1).max(1.0);
    let (p50, p99, mean, max) = lat.summary();
    // The mail and texts the load queued are part of its work: a server
    // that falls behind on them looks faster per case while the police's
    // mail waits. How much was left, and how long it took to go out.
    let left = unsent(fx).await?;
    let drain_started = Instant::now();
    let mut after = left;
    while after != [0, 0] && drain_started.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = unsent(fx).await?;
    }
    let drained_s = drain_started.elapsed().as_secs_f64();
    let cpu2 = process_cpu_s(server_pid);
    say("raw commit rate (after)");
    let raw_after = raw_commit_rate(args, fx).await?;
    println!("  raw two-insert tx/s: {raw_after:.0}");

    let raw = (raw_before + raw_after) / 2.0;
    println!();
    println!(
        "== intake ({:?}, {:?} mix, concurrency {}) ==",
        args.db, args.mix, args.concurrency
    );
    println!(
        "  cases/s {rate:.0}   p50 {p50:.1} ms   p99 {p99:.1} ms   mean {mean:.1} ms   max {max:.1} ms   errors {errors}"
    );
    if args.mix == Mix::Realistic {
        // Issue 20's targets for this mix (at 16 connections).
        let floor = match args.db {
            Engine::Sqlite => 2500.0,
            Engine::Postgres => 2000.0,
        };
        let met = rate >= floor && p99 < 50.0 && errors == 0;
        println!(
            "  target (realistic mix): >= {floor:.0} cases/s with p99 < 50 ms: {}",
            if met { "met" } else { "NOT met" }
        );
    }
    println!(
        "  server CPU {server_ms_per_case:.2} ms per case; whole machine {machine_busy:.0}% busy during the load"
    );
    let [esc, mails, texts] = [0, 1, 2].map(|i| queued1[i] - queued0[i]);
    println!(
        "  queued with the cases ({:?} mix): {esc} escalations ({:.1} % of cases), {mails} mail, {texts} texts",
        args.mix,
        100.0 * esc as f64 / args.cases.max(1) as f64
    );
    println!(
        "  unsent when the load ended: {} mail, {} texts; all out {drained_s:.1} s later{}; \
         server CPU {:.2} ms per case with them",
        left[0],
        left[1],
        if after == [0, 0] {
            ""
        } else {
            " (NOT all: gave up waiting)"
        },
        1000.0 * (cpu2 - cpu0) / args.cases.max(1) as f64
    );
    if let Some([smtp, gateway]) = &fx.sinks {
        println!(
            "  the SMTP relay received {} messages, the text gateway {} texts (all the server sent, warm-up included)",
            smtp.received(),
            gateway.received()
        );
    }
    println!(
        "  server memory, peak of 200 ms samples during the load: PSS {pss:.0} MiB, RSS {rss:.0} MiB (target PSS < 200 MiB)"
    );
    let [b, c, t, wait, statements, commit, numbers, rows, links, commits, outbox, events, commit_only, restarts, restarts_s] =
        std::array::from_fn(|i| batches1[i] - batches0[i]);
    if b > 0.0 {
        println!(
            "  group commit: {b:.0} batches, {:.1} cases and {:.1} ms per batch on average",
            c / b,
            1000.0 * t / b
        );
        println!(
            "  a batch's phases on average: waiting for the writer {:.2} ms, its statements {:.2} ms, \
             the commit (staged deadlines and escalations, mail, texts, events, COMMIT) {:.2} ms",
            1000.0 * wait / b,
            1000.0 * statements / b,
            1000.0 * commit / b
        );
        println!(
            "  its statements: case numbers {:.2} ms, rows (cases, handlers; escalations planned) {:.2} ms, \
             what opens with them (calls, referrals, links, the escalations' mail) {:.2} ms",
            1000.0 * numbers / b,
            1000.0 * rows / b,
            1000.0 * links / b
        );
    }
    if commits > 0.0 {
        println!(
            "  every unit of work's commit ({commits:.0} during the load): outbox rows {:.2} ms, \
             events {:.2} ms, COMMIT {:.2} ms on average",
            1000.0 * outbox / commits,
            1000.0 * events / commits,
            1000.0 * commit_only / commits
        );
    }
    if restarts > 0.0 {
        println!(
            "  the SQLite log restarted {restarts:.0} times during the load, holding the write lock {:.1} ms each",
            1000.0 * restarts_s / restarts
        );
    }
    match args.db {
        Engine::Sqlite => println!(
            "  raw durable commits (1 writer, WAL, synchronous=FULL): before {raw_before:.0}/s, after {raw_after:.0}/s; cases/s = {:.0}% of their mean (simple-mix target >= 50%)",
            100.0 * rate / raw.max(1.0)
        ),
        Engine::Postgres => println!(
            "  raw two-insert tx/s at concurrency {}: before {raw_before:.0}, after {raw_after:.0} (cases/s = {:.0}% of it; simple-mix target 1500 cases/s, p99 < 50 ms)",
            args.concurrency,
            100.0 * rate / raw.max(1.0)
        ),
    }
    println!();

    if args.calls > 0 {
        say(&format!(
            "bulk insert: {} calls over {} numbers",
            args.calls, args.phones
        ));
        let t = Instant::now();
        bulk_insert_calls(args, fx).await?;
        println!("  inserted in {:.1} s", t.elapsed().as_secs_f64());
    }
    if args.lookups > 0 {
        say(&format!("screen pop: {} lookups", args.lookups));
        let memory = MemoryPeak::start(server_pid);
        let (lat, calls_seen, cases_seen) =
            screen_pops(args, &client, &fx.base, &token, &mut rng).await?;
        let (rss, pss) = memory.finish().await;
        let (p50, p99, mean, max) = lat.summary();
        println!();
        println!(
            "== screen pop ({:?}, {} calls, {} ledger persons on file) ==",
            args.db, args.calls, args.persons
        );
        println!(
            "  GET /api/v1/callers/{{phone}}: p50 {p50:.2} ms   p99 {p99:.2} ms   mean {mean:.2} ms   max {max:.1} ms   (avg {:.1} calls, {:.2} cases per answer; target p99 < 5 ms)",
            calls_seen as f64 / args.lookups as f64,
            cases_seen as f64 / args.lookups as f64,
        );
        println!("  server memory, peak during the lookups: PSS {pss:.0} MiB, RSS {rss:.0} MiB");
        println!();
    }
    say("done");
    Ok(())
}

/// Intake batches, cases written in them, seconds spent writing them, and
/// the seconds of the batches' phases (waiting for the writer, statements,
/// commit), from the server's `/metrics` (zeros if it cannot be read).
async fn batch_stats(client: &reqwest::Client, base: &str) -> [f64; 15] {
    lianxin_tests::bench::metric_values(
        client,
        base,
        [
            "lianxin_intake_batches_total",
            "lianxin_intake_cases_total",
            "lianxin_intake_batch_seconds_sum",
            "lianxin_intake_batch_phase_seconds_sum{phase=\"writer_wait\"}",
            "lianxin_intake_batch_phase_seconds_sum{phase=\"statements\"}",
            "lianxin_intake_batch_phase_seconds_sum{phase=\"commit\"}",
            "lianxin_intake_batch_phase_seconds_sum{phase=\"statements_numbers\"}",
            "lianxin_intake_batch_phase_seconds_sum{phase=\"statements_rows\"}",
            "lianxin_intake_batch_phase_seconds_sum{phase=\"statements_links\"}",
            "lianxin_work_commit_step_seconds_count{step=\"commit\"}",
            "lianxin_work_commit_step_seconds_sum{step=\"outbox\"}",
            "lianxin_work_commit_step_seconds_sum{step=\"events\"}",
            "lianxin_work_commit_step_seconds_sum{step=\"commit\"}",
            "lianxin_sqlite_checkpoint_seconds_count{mode=\"RESTART\"}",
            "lianxin_sqlite_checkpoint_seconds_sum{mode=\"RESTART\"}",
        ],
    )
    .await
}

async fn wait_ready(client: &reqwest::Client, base: &str, fx: &mut Fixture) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(child) = fx.server.as_mut() {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "the server exited with {status}; see {}",
                    fx.dir.join("server.log").display()
                );
            }
        }
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("the server did not become ready in 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn login(client: &reqwest::Client, base: &str, user: &str) -> Result<String> {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": lianxin::demo::DEMO_PASSWORD}))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await?;
    if !status.is_success() {
        bail!("login as {user} failed: {status} {body}");
    }
    body["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("login answer without a token: {body}"))
}

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len() as u64) as usize]
}

fn case_body(args: &Args, rng: &mut Rng) -> Vec<u8> {
    let mut body = json!({
        "category": pick(rng, CATEGORIES),
        "region_code": pick(rng, VILLAGES),
        "summary": "bench: caller reports repeated threats from her husband",
        "subject": {"phone": phone(rng.below(args.phones))},
    });
    if args.mix == Mix::Realistic {
        realistic(rng, &mut body);
    }
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Disputes of the realistic mix (marriage and family twice as often).
const DISPUTES: &[&str] = &[
    "marriage_family",
    "marriage_family",
    "neighbor_dispute",
    "land_rights",
    "property",
    "employment",
    "family_education",
];

/// The rest of the realistic mix: help that opens no escalation.
const OTHERS: &[&str] = &["legal_aid", "social_assistance", "counselling", "health"];

/// A danger screen: `in_progress`, the questions answered yes (1-based).
fn screen(in_progress: bool, yes: &[usize]) -> Value {
    let answers: Vec<bool> = (1..=11).map(|q| yes.contains(&q)).collect();
    json!({"in_progress": in_progress, "answers": answers, "screener_concern": false})
}

/// The realistic mix over 100 slots: 60 disputes; 30 domestic violence
/// with a screen (5 imminent, 15 high — the 20 % that escalate — and 10
/// elevated); 10 other help.
fn realistic(rng: &mut Rng, body: &mut Value) {
    let slot = rng.below(100);
    let (category, summary, screen) = match slot {
        0..=59 => (
            pick(rng, DISPUTES),
            "bench: dispute with relatives over the family land",
            None,
        ),
        60..=64 => (
            "domestic_violence",
            "bench: he is beating her now",
            Some(screen(true, &[])),
        ),
        65..=79 => (
            "domestic_violence",
            "bench: he threatened to kill her",
            Some(screen(false, &[2, 5])),
        ),
        80..=89 => (
            "domestic_violence",
            "bench: he shouts and breaks things",
            Some(screen(false, &[5])),
        ),
        _ => (
            pick(rng, OTHERS),
            "bench: asks where to get legal help",
            None,
        ),
    };
    body["category"] = json!(category);
    body["summary"] = json!(summary);
    if let Some(s) = screen {
        body["danger_screen"] = s;
    }
}

/// Escalations, mail and texts on file (the load's share is the
/// difference before and after it).
async fn queued(fx: &Fixture) -> Result<[i64; 3]> {
    counts(
        fx,
        "SELECT (SELECT COUNT(*) FROM escalations), (SELECT COUNT(*) FROM mail_outbox), \
         (SELECT COUNT(*) FROM sms_outbox)",
    )
    .await
}

/// Mail and texts neither sent nor given up.
async fn unsent(fx: &Fixture) -> Result<[i64; 2]> {
    counts(
        fx,
        "SELECT (SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL), \
         (SELECT COUNT(*) FROM sms_outbox WHERE sent_at IS NULL AND failed_at IS NULL)",
    )
    .await
}

/// The `N` counts one `SELECT` returns, on a connection of its own.
async fn counts<const N: usize>(fx: &Fixture, sql: &str) -> Result<[i64; N]> {
    let db = connect_app_db(fx).await?;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| anyhow!("no counts"))?;
    let mut out = [0i64; N];
    for (i, v) in out.iter_mut().enumerate() {
        *v = row.try_get_by_index::<i64>(i)?;
    }
    db.close().await?;
    Ok(out)
}

/// The server's resident (RSS) and proportional (PSS) memory in KiB, from
/// `/proc/PID/smaps_rollup`. PSS charges each shared page to the
/// processes mapping it in shares: the database file mapped by every
/// pooled SQLite connection counts once, where RSS counts it per mapping.
fn smaps_rollup(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
    };
    Some((field("Rss:")?, field("Pss:")?))
}

/// The largest RSS and PSS seen while a load runs, sampled every 200 ms.
struct MemoryPeak {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<(u64, u64)>,
}

impl MemoryPeak {
    fn start(pid: Option<u32>) -> MemoryPeak {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut peak = (0u64, 0u64);
            loop {
                if let Some((rss, pss)) = pid.and_then(smaps_rollup) {
                    peak = (peak.0.max(rss), peak.1.max(pss));
                }
                if flag.load(Ordering::Relaxed) {
                    return peak;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        MemoryPeak { stop, task }
    }

    /// (RSS, PSS) peaks in MiB.
    async fn finish(self) -> (f64, f64) {
        self.stop.store(true, Ordering::Relaxed);
        let (rss, pss) = self.task.await.unwrap_or((0, 0));
        (rss as f64 / 1024.0, pss as f64 / 1024.0)
    }
}

/// `total` cases from `concurrency` clients; returns (cases/s, latencies,
/// errors).
async fn open_cases(
    args: &Args,
    client: &reqwest::Client,
    base: &str,
    token: &str,
    total: usize,
    rng: &mut Rng,
) -> Result<(f64, Latencies, usize)> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new((0..total).map(|_| case_body(args, rng)).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("{base}/api/v1/cases");
    let auth = format!("Bearer {token}");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, url, auth, bodies, next) = (
            client.clone(),
            url.clone(),
            auth.clone(),
            bodies.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut first_error = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("authorization", &auth)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let ok = match res {
                    Ok(r) => {
                        let status = r.status();
                        let text = r.bytes().await.unwrap_or_default();
                        if status.as_u16() == 201 {
                            true
                        } else {
                            first_error.get_or_insert_with(|| {
                                format!("{status} {}", String::from_utf8_lossy(&text))
                            });
                            false
                        }
                    }
                    Err(e) => {
                        first_error.get_or_insert_with(|| e.to_string());
                        false
                    }
                };
                if ok {
                    lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                } else {
                    errors += 1;
                }
            }
            (lat, errors, first_error)
        }));
    }
    let mut all = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (lat, e, first) = t.await?;
        all.extend(lat);
        errors += e;
        if let Some(msg) = first {
            eprintln!("  error: {msg}");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = all.len();
    Ok((ok as f64 / secs, Latencies(all), errors))
}

/// Two-insert transactions as fast as the engine commits them durably.
async fn raw_commit_rate(args: &Args, fx: &Fixture) -> Result<f64> {
    match args.db {
        Engine::Sqlite => raw_sqlite(args, &fx.dir).await,
        Engine::Postgres => raw_postgres(args, &fx.db_url).await,
    }
}

async fn raw_sqlite(args: &Args, dir: &Path) -> Result<f64> {
    let path = dir.join("raw.db");
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS raw_a (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)",
    )
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS raw_b (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)",
    )
    .execute(&mut conn)
    .await?;
    let payload = "x".repeat(200);
    let end = Instant::now() + Duration::from_secs(args.raw_secs);
    let started = Instant::now();
    let mut n = 0u64;
    while Instant::now() < end {
        let mut tx = conn.begin().await?;
        let k = Uuid::new_v4().to_string();
        sqlx::query("INSERT INTO raw_a (k, v) VALUES (?, ?)")
            .bind(&k)
            .bind(&payload)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO raw_b (k, v) VALUES (?, ?)")
            .bind(&k)
            .bind(&payload)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

async fn raw_postgres(args: &Args, url: &str) -> Result<f64> {
    {
        let mut c = PgConnection::connect(url).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS raw_a (id BIGSERIAL PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)",
        )
        .execute(&mut c)
        .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS raw_b (id BIGSERIAL PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)",
        )
        .execute(&mut c)
        .await?;
        c.close().await?;
    }
    let mut conns = Vec::new();
    for _ in 0..args.concurrency {
        conns.push(PgConnection::connect(url).await?);
    }
    let end = Instant::now() + Duration::from_secs(args.raw_secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut conn in conns {
        tasks.push(tokio::spawn(async move {
            let payload = "x".repeat(200);
            let mut n = 0u64;
            while Instant::now() < end {
                let mut tx = conn.begin().await?;
                let k = Uuid::new_v4().to_string();
                sqlx::query("INSERT INTO raw_a (k, v) VALUES ($1, $2)")
                    .bind(&k)
                    .bind(&payload)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO raw_b (k, v) VALUES ($1, $2)")
                    .bind(&k)
                    .bind(&payload)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                n += 1;
            }
            conn.close().await?;
            Ok::<u64, anyhow::Error>(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

async fn connect_app_db(fx: &Fixture) -> Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(fx.db_url.clone());
    opts.max_connections(1)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
        });
    Ok(Database::connect(opts).await?)
}

/// `args.calls` rows in multi-row INSERTs, 50,000 rows per transaction,
/// received over the last two years, phones spread over `args.phones`.
async fn bulk_insert_calls(args: &Args, fx: &Fixture) -> Result<()> {
    const ROWS: usize = 1000;
    const PER_TXN: usize = 50;
    let db = connect_app_db(fx).await?;
    let backend = db.get_database_backend();
    // The server runs on the system clock; so do the calls on file.
    let now = lianxin::clock::Clock::now(&lianxin::clock::SystemClock);
    let start: DateTime<Utc> = Utc
        .timestamp_opt(now.timestamp() - 2 * 365 * 24 * 3600, 0)
        .single()
        .unwrap_or(now);
    let span = (now - start).num_seconds().max(1) as u64;
    let mut rng = Rng(0xCA11_5000);
    let mut done = 0usize;
    while done < args.calls {
        let txn = db.begin().await?;
        for _ in 0..PER_TXN {
            let n = ROWS.min(args.calls - done);
            if n == 0 {
                break;
            }
            let mut sql = String::with_capacity(n * 80 + 200);
            sql.push_str(
                "INSERT INTO calls (id, phone, channel, received_at, duration_s, operator_id, \
                 case_id, cti_ref, summary, created_at) VALUES ",
            );
            let mut values: Vec<DbValue> = Vec::with_capacity(n * 4);
            for r in 0..n {
                if r > 0 {
                    sql.push(',');
                }
                let at = start + chrono::Duration::seconds(rng.below(span) as i64);
                values.push(Uuid::new_v4().into());
                values.push(phone(rng.below(args.phones)).into());
                values.push(at.into());
                values.push(at.into());
                let dur = 30 + rng.below(1800);
                match backend {
                    DatabaseBackend::Postgres => {
                        let b = r * 4;
                        sql.push_str(&format!(
                            "(${}, ${}, 'hotline', ${}, {dur}, NULL, NULL, NULL, NULL, ${})",
                            b + 1,
                            b + 2,
                            b + 3,
                            b + 4
                        ));
                    }
                    _ => sql.push_str(&format!(
                        "(?, ?, 'hotline', ?, {dur}, NULL, NULL, NULL, NULL, ?)"
                    )),
                }
            }
            txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?;
            done += n;
        }
        txn.commit().await?;
    }
    // A server that has taken these calls over two years has long since
    // settled: autovacuum (PostgreSQL) and the checkpointer (SQLite) would
    // do this within a minute of a bulk load. Do it now, so that the
    // lookups do not share the machine with it and the figures do not
    // depend on when it runs.
    match backend {
        DatabaseBackend::Postgres => db.execute_unprepared("VACUUM ANALYZE calls").await?,
        _ => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?
        }
    };
    db.close().await?;
    Ok(())
}

async fn screen_pops(
    args: &Args,
    client: &reqwest::Client,
    base: &str,
    token: &str,
    rng: &mut Rng,
) -> Result<(Latencies, usize, usize)> {
    let auth = format!("Bearer {token}");
    // A few uncounted requests first (connection set-up).
    for _ in 0..20 {
        let _ = client
            .get(format!(
                "{base}/api/v1/callers/{}",
                phone(rng.below(args.phones))
            ))
            .header("authorization", &auth)
            .send()
            .await?
            .bytes()
            .await?;
    }
    let mut lat = Vec::with_capacity(args.lookups);
    let (mut calls, mut cases) = (0usize, 0usize);
    for k in 0..args.lookups {
        let url = format!("{base}/api/v1/callers/{}", lookup_phone(args, rng, k));
        let t = Instant::now();
        let r = client
            .get(&url)
            .header("authorization", &auth)
            .send()
            .await?;
        let status = r.status();
        let body = r.bytes().await?;
        lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
        if !status.is_success() {
            bail!(
                "screen pop {url}: {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        let v: Value = serde_json::from_slice(&body)?;
        calls += v["calls"].as_array().map_or(0, Vec::len);
        cases += v["cases"].as_array().map_or(0, Vec::len);
    }
    Ok((Latencies(lat), calls, cases))
}

async fn cleanup(args: &Args, fx: &mut Fixture) {
    if let Some(mut child) = fx.server.take() {
        // SIGTERM for a graceful stop, then make sure.
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        if tokio::time::timeout(Duration::from_secs(15), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }
    if args.keep {
        println!("kept {}", fx.dir.display());
        if let Some((_, name)) = &fx.pg {
            println!("kept database {name}");
        }
        return;
    }
    if let Some((admin_url, name)) = fx.pg.take() {
        match Database::connect(admin_url.as_str()).await {
            Ok(admin) => {
                if let Err(e) = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                {
                    eprintln!("could not drop {name}: {e}");
                }
                let _ = admin.close().await;
            }
            Err(e) => eprintln!("could not drop {name}: {e}"),
        }
    }
    let _ = std::fs::remove_dir_all(&fx.dir);
}
