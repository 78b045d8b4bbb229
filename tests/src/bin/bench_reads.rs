//! `bench_reads`: how many times a second the release server answers
//! `GET /api/v1/cases/{id}` (issue 20: ≥ 10,000/s with p99 < 10 ms at 16
//! connections, on both engines), beside the machine's ceiling for a
//! trivial request in the same run.
//!
//! ```text
//! cargo build --release -p lianxin -p lianxin-tests --bin lianxin --bin bench_reads
//! target/release/bench_reads [--db sqlite|postgres] [--cases 10000] [--connections 16] \
//!     [--secs 10] [--client-threads 1] [--server target/release/lianxin] \
//!     [--pg-url postgres://postgres@127.0.0.1:5432/postgres] \
//!     [--db-set key=value]... [--keep]
//! ```
//!
//! `--db-set key=value` adds a line to the server's `[database]` settings
//! (e.g. `sqlite_cache_mib=4`).
//!
//! 1. A fresh database (a SQLite file in a new temporary directory, or a
//!    new PostgreSQL database dropped at the end), `lianxin demo`, then
//!    `lianxin serve` as its own process on a free port.
//! 2. `--cases` cases opened through the API by the operator (16 at a
//!    time; the demo villages and a spread of categories, so some are
//!    routed to the 白沙镇 station, some escalated).
//! 3. Three loads of `--secs` seconds each (after 1 s uncounted), each over
//!    `--connections` keep-alive HTTP/1.1 connections written by hand (a
//!    minimal client, so that the load generator, which shares the
//!    machine, costs as little as it can):
//!    - `trivial`: `GET /healthz` — the ceiling of the HTTP stack and the
//!      middleware on this machine at this moment;
//!    - `operator`: the hotline reads random cases among all of them;
//!    - `station`: the 白沙镇 station reads random cases among those it
//!      sees (listed through `GET /cases`), the handling unit's read.
//!
//!    For each: requests/s, p50/p99/max latency, non-200 answers, the
//!    server's CPU seconds per 1,000 requests and its PSS
//!    (`/proc/PID/smaps_rollup`). The load average is printed with each:
//!    rerun when the machine is busy.
use lianxin_tests::{
    bench::Scratch,
    procfs::{cpu_s, loadavg, pss_mib},
};
use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Result};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream},
    net::TcpStream,
};

use lianxin_tests::bench::DEMO_VILLAGES as VILLAGES;
const CATEGORIES: &[&str] = &[
    "marriage_family",
    "neighbor_dispute",
    "domestic_violence",
    "land_rights",
    "property",
    "legal_aid",
    "counselling",
    "employment",
];

struct Args {
    postgres: bool,
    cases: usize,
    connections: usize,
    secs: f64,
    client_threads: usize,
    server: PathBuf,
    pg_url: String,
    /// `key = value` lines added to the server's `[database]` section.
    db_set: Vec<String>,
    keep: bool,
}

fn args() -> Result<Args> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut a = Args {
        postgres: false,
        cases: 10_000,
        connections: 16,
        secs: 10.0,
        client_threads: 1,
        server: root.join("target/release/lianxin"),
        pg_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
        db_set: Vec::new(),
        keep: false,
    };
    a.keep = lianxin_tests::bench::flags(|flag, v| {
        match flag {
            "--db" => a.postgres = v == "postgres",
            "--cases" => a.cases = v.parse()?,
            "--connections" => a.connections = v.parse()?,
            "--secs" => a.secs = v.parse()?,
            "--client-threads" => a.client_threads = v.parse()?,
            "--server" => a.server = PathBuf::from(v),
            "--pg-url" => a.pg_url = v,
            "--db-set" => a.db_set.push(lianxin_tests::bench::db_set_line(&v)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(a)
}

fn main() -> Result<()> {
    let args = args()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let pg_url = args.postgres.then_some(args.pg_url.as_str());
    let mut scratch = Scratch::new("reads", pg_url, &args.server).await?;
    scratch.keep = args.keep;
    bench(&args, &scratch).await
}

async fn bench(args: &Args, scratch: &Scratch) -> Result<()> {
    scratch.write_config(&format!(
        "[server]\nmax_connections_per_address = 0\n[database]\n{}\n",
        args.db_set.join("\n")
    ))?;
    scratch.cli(&["demo"]).await?;
    let server = scratch.serve().await?;
    let (http, base, pid) = (&server.http, server.base.as_str(), server.pid);
    let operator = server.login("operator").await?;
    let station = server.login("station").await?;
    let started = Instant::now();
    let all = open_cases(http, base, &operator, args.cases).await?;
    let mine = visible(http, base, &station).await?;
    let engine = if args.postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "{engine}: {} cases opened in {:.1} s, {} of them seen by the station; \
         {} connections, {} s a load",
        all.len(),
        started.elapsed().as_secs_f64(),
        mine.len(),
        args.connections,
        args.secs
    );
    let addr = format!("127.0.0.1:{}", server.port);
    let loads: [(&str, &str, &[String]); 3] = [
        ("trivial  GET /healthz", "", &[]),
        ("operator GET /cases/{id}", &operator, &all),
        ("station  GET /cases/{id}", &station, &mine),
    ];
    for (name, token, ids) in loads {
        let cached = cache_counts(http, base).await;
        let before = cpu_s(pid);
        let load = Load {
            addr: &addr,
            token,
            ids,
            connections: args.connections,
        };
        let r = load.run(args.secs).await?;
        let cpu_per_k = (cpu_s(pid) - before) / (r.count as f64 / 1000.0).max(1e-9);
        r.report(name, cpu_per_k, pss_mib(pid));
        let (hits, misses) = cache_counts(http, base).await;
        if hits + misses > cached.0 + cached.1 {
            println!(
                "    case cache: {} hits, {} misses (the first 1 s included)",
                hits - cached.0,
                misses - cached.1
            );
        }
    }
    Ok(())
}

/// The server's case cache counters so far (0 for a build without the
/// cache).
async fn cache_counts(http: &reqwest::Client, base: &str) -> (u64, u64) {
    let [hits, misses] = lianxin_tests::bench::metric_values(
        http,
        base,
        [
            "lianxin_case_cache_total{result=\"hit\"}",
            "lianxin_case_cache_total{result=\"miss\"}",
        ],
    )
    .await;
    (hits as u64, misses as u64)
}

/// `n` cases opened by 16 clients; their ids.
async fn open_cases(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    n: usize,
) -> Result<Vec<String>> {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (http, url, token, next) = (
            http.clone(),
            format!("{base}/api/v1/cases"),
            token.to_string(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(ids);
                }
                let body = json!({
                    "category": CATEGORIES[i % CATEGORIES.len()],
                    "region_code": VILLAGES[(i / 3) % VILLAGES.len()],
                    "summary": "bench: caller asks about her rights after the divorce",
                    "subject": {"name": "张某", "phone": format!("1{}", 3_800_000_000u64 + i as u64 * 37)},
                });
                let r = http.post(&url).bearer_auth(&token).json(&body).send().await?;
                let status = r.status();
                let v: Value = r.json().await?;
                if status.as_u16() != 201 {
                    bail!("opening a case: {status} {v}");
                }
                let id = v["id"].as_str().or_else(|| v["case"]["id"].as_str());
                ids.push(id.ok_or_else(|| anyhow!("no id in {v}"))?.to_string());
            }
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for t in tasks {
        ids.extend(t.await??);
    }
    Ok(ids)
}

/// Every case id the user's case list shows.
async fn visible(http: &reqwest::Client, base: &str, token: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = http
            .get(format!("{base}/api/v1/cases?limit=200&cursor={cursor}"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        let items = page["items"]
            .as_array()
            .ok_or_else(|| anyhow!("case list: {page}"))?;
        ids.extend(
            items
                .iter()
                .filter_map(|c| c["id"].as_str().map(String::from)),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => return Ok(ids),
        }
    }
}

struct Load<'a> {
    addr: &'a str,
    token: &'a str,
    /// Empty: the trivial request.
    ids: &'a [String],
    connections: usize,
}

struct Outcome {
    count: usize,
    secs: f64,
    micros: Vec<u32>,
    errors: usize,
    first_error: Option<String>,
}

impl Load<'_> {
    async fn run(&self, secs: f64) -> Result<Outcome> {
        let warm_until = Instant::now() + Duration::from_secs(1);
        let until = warm_until + Duration::from_secs_f64(secs);
        let requests: std::sync::Arc<Vec<Vec<u8>>> = std::sync::Arc::new(if self.ids.is_empty() {
            vec![request("/healthz", "")]
        } else {
            self.ids
                .iter()
                .map(|id| request(&format!("/api/v1/cases/{id}"), self.token))
                .collect()
        });
        let mut tasks = Vec::new();
        for k in 0..self.connections {
            let (addr, requests) = (self.addr.to_string(), requests.clone());
            tasks.push(tokio::spawn(async move {
                connection(&addr, &requests, k as u64, warm_until, until).await
            }));
        }
        let mut out = Outcome {
            count: 0,
            secs,
            micros: Vec::new(),
            errors: 0,
            first_error: None,
        };
        for t in tasks {
            let (micros, errors, first) = t.await??;
            out.micros.extend(micros);
            out.errors += errors;
            out.first_error = out.first_error.or(first);
        }
        out.count = out.micros.len() + out.errors;
        Ok(out)
    }
}

impl Outcome {
    fn report(mut self, name: &str, cpu_per_k: f64, pss: f64) {
        self.micros.sort_unstable();
        let at = |q: f64| {
            let i = ((self.micros.len().max(1) - 1) as f64 * q).round() as usize;
            self.micros.get(i).copied().unwrap_or(0) as f64 / 1000.0
        };
        println!(
            "[load {}] {name:<26} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  \
             non-200 {}  server CPU {:.3} s/1,000  PSS {:.1} MiB",
            loadavg(),
            self.count as f64 / self.secs,
            at(0.5),
            at(0.99),
            at(1.0),
            self.errors,
            cpu_per_k,
            pss
        );
        if let Some(e) = self.first_error {
            println!("    first error: {e}");
        }
    }
}

fn request(path: &str, token: &str) -> Vec<u8> {
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("authorization: Bearer {token}\r\n")
    };
    format!("GET {path} HTTP/1.1\r\nhost: bench\r\n{auth}accept: application/json\r\n\r\n")
        .into_bytes()
}

/// One keep-alive connection sending `requests` picked at random until
/// `until`; latencies (µs) of the 200s after `warm_until`, and the others.
async fn connection(
    addr: &str,
    requests: &[Vec<u8>],
    seed: u64,
    warm_until: Instant,
    until: Instant,
) -> Result<(Vec<u32>, usize, Option<String>)> {
    let mut stream = BufStream::new(TcpStream::connect(addr).await?);
    stream.get_ref().set_nodelay(true)?;
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let (mut micros, mut errors, mut first) = (Vec::new(), 0, None);
    let mut body = Vec::new();
    loop {
        let now = Instant::now();
        if now >= until {
            return Ok((micros, errors, first));
        }
        // xorshift64: enough to pick a case.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let req = &requests[(rng % requests.len() as u64) as usize];
        stream.write_all(req).await?;
        stream.flush().await?;
        let status = response(&mut stream, &mut body).await?;
        if now < warm_until {
            continue;
        }
        if status == 200 {
            micros.push(now.elapsed().as_micros().min(u32::MAX as u128) as u32);
        } else {
            errors += 1;
            first.get_or_insert_with(|| format!("{status} {}", String::from_utf8_lossy(&body)));
        }
    }
}

/// Read one response (status line, headers, a `content-length` body).
async fn response(stream: &mut BufStream<TcpStream>, body: &mut Vec<u8>) -> Result<u16> {
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {line:?}"))?;
    let mut length = None;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            bail!("connection closed in the headers");
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse::<usize>().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                bail!("a chunked answer; this client reads content-length only");
            }
        }
    }
    let n = length.ok_or_else(|| anyhow!("an answer without content-length"))?;
    body.resize(n, 0);
    stream.read_exact(body).await?;
    Ok(status)
}
