//! `bench_live`: the live feed under load. N WebSocket clients spread over
//! many units, cases opened through the HTTP API at a steady rate; prints
//! the delivery latency (POST returned → `case.opened` frame received)
//! p50/p99/max, events lost or duplicated, and the server's RSS.
//!
//! ```text
//! cargo build --release -p lianxin -p lianxin-tests --bin lianxin --bin bench_live
//! target/release/bench_live [--connections 10000] [--rate 200] [--duration 30] \
//!     [--units 100] [--all-share 0.015] [--db sqlite|postgres] \
//!     [--pg-url postgres://postgres@127.0.0.1:5432/postgres] [--server target/release/lianxin] [--keep]
//! ```
//!
//! - `--rate` is feed events per second: each case opened appends two
//!   (`case.opened`, `case.assigned`), so cases are opened at rate/2 per
//!   second, open loop (a fixed schedule, not "next when the last returned").
//! - The server runs as a separate process (`lianxin demo`, a region import,
//!   then `lianxin serve` on a free port) so its RSS is read from
//!   `/proc/PID/status`. Its database is fresh: a SQLite file in a temporary
//!   directory, or a new PostgreSQL database (dropped at the end).
//! - Units: `--units` township rights stations (one township each, with
//!   a village; regions imported for them), one station worker per unit.
//!   Connections: `--all-share` of them hotline operators and county
//!   supervisors (who see every case), the rest spread evenly over the
//!   station workers (who see their township's cases). One login per user,
//!   shared by all its connections.
//! - Open files: each connection is a socket in the bench and in the server.
//!   The bench raises its own soft RLIMIT_NOFILE to the hard limit with
//!   `prlimit` (the server inherits it); if the hard limit is below
//!   connections + 512 it says so and stops (raise it: `ulimit -Hn`).
//! - Lost/duplicated: every connection must receive `case.opened` for
//!   exactly the cases its user may see (from the POST answers:
//!   `assigned_unit_id`), each once, with seqs strictly increasing.
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use lianxin_tests::bench::Scratch;
use serde_json::{json, Value};
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::{
    client::IntoClientRequest, protocol::WebSocketConfig, Message,
};

const PASSWORD: &str = lianxin_tests::DEMO_PASSWORD;
/// 阳朔县: the demo supervisor's county; bench townships are created in it.
const COUNTY: &str = "450321";

struct Args {
    connections: usize,
    rate: f64,
    duration: u64,
    units: usize,
    all_share: f64,
    db: String,
    pg_url: String,
    server: PathBuf,
    keep: bool,
}

fn args() -> Result<Args> {
    let mut a = Args {
        connections: 10_000,
        rate: 200.0,
        duration: 30,
        units: 100,
        all_share: 0.015,
        db: "sqlite".into(),
        pg_url: "postgres://postgres@127.0.0.1:5432/postgres".into(),
        server: PathBuf::from("target/release/lianxin"),
        keep: false,
    };
    a.keep = lianxin_tests::bench::flags(|flag, v| {
        match flag {
            "--connections" => a.connections = v.parse()?,
            "--rate" => a.rate = v.parse()?,
            "--duration" => a.duration = v.parse()?,
            "--units" => a.units = v.parse()?,
            "--all-share" => a.all_share = v.parse()?,
            "--db" => a.db = v,
            "--pg-url" => a.pg_url = v,
            "--server" => a.server = v.into(),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if a.units == 0 || a.units > 499 {
        bail!("--units must be 1..=499");
    }
    Ok(a)
}

fn main() -> Result<()> {
    let args = args()?;
    raise_nofile(args.connections)?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(args))
}

/// Soft RLIMIT_NOFILE → hard, via `prlimit` (no unsafe code here).
fn raise_nofile(connections: usize) -> Result<()> {
    let pid = std::process::id().to_string();
    let hard = std::fs::read_to_string("/proc/self/limits")?
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4).map(str::to_string))
        .ok_or_else(|| anyhow!("cannot read Max open files"))?;
    let hard_n: usize = hard.parse().unwrap_or(usize::MAX);
    if hard_n < connections + 512 {
        bail!(
            "the hard limit on open files is {hard}; {connections} connections need {} (ulimit -Hn)",
            connections + 512
        );
    }
    let status = std::process::Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={hard}:{hard}")])
        .status()
        .context("prlimit (util-linux) is needed to raise the open-file limit")?;
    if !status.success() {
        bail!("prlimit failed; run `ulimit -n {hard}` first");
    }
    Ok(())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn township(i: usize) -> String {
    format!("{COUNTY}{:03}000", 200 + i)
}

fn village(i: usize) -> String {
    format!("{COUNTY}{:03}201", 200 + i)
}

/// What one connection sees.
#[derive(Clone, Copy, PartialEq)]
enum Sees {
    All,
    Unit(usize),
}

struct Delivered {
    sees: Sees,
    /// (case number, µs since the bench's epoch) of each `case.opened`.
    opened: Vec<(u32, u64)>,
    frames: u64,
    /// A seq not above the previous one.
    disorder: u64,
    /// How the connection ended before the bench stopped it, if it did.
    ended: Option<String>,
}

/// Case number → (µs when its POST was sent, µs when it returned, the
/// bench unit it was routed to).
type Commits = Arc<Mutex<HashMap<u32, (u64, u64, Option<usize>)>>>;

async fn run(args: Args) -> Result<()> {
    let pg_url = (args.db == "postgres").then_some(args.pg_url.as_str());
    let mut scratch = Scratch::new("live", pg_url, &args.server).await?;
    scratch.keep = args.keep;
    println!("bench_live: {} connections, {} events/s ({} cases/s) for {} s, {} units, {:.1}% see everything, {}; dir {}",
        args.connections, args.rate, args.rate / 2.0, args.duration, args.units, args.all_share * 100.0, args.db, scratch.dir.display());
    println!("load average: {}", load());
    bench(&args, &scratch).await
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> Result<Value> {
    let mut rb = http.request(method, &url).json(&body);
    if !token.is_empty() {
        rb = rb.bearer_auth(token);
    }
    let resp = rb.send().await?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{url}: {status} {v}");
    }
    Ok(v)
}

async fn login(http: &reqwest::Client, base: &str, user: &str) -> Result<String> {
    let v = call(
        http,
        reqwest::Method::POST,
        format!("{base}/api/v1/auth/login"),
        "",
        json!({"username": user, "password": PASSWORD}),
    )
    .await?;
    v["token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow!("no token for {user}"))
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

/// `"seq":N`, whether the event is `case.opened`, and its case number's
/// counter (`2026-000123` → 123), read from the head of the frame without
/// a JSON parse (the bench shares the two cores with the server).
fn scan(t: &str) -> Option<(i64, Option<u32>)> {
    let head = &t.as_bytes()[..t.len().min(320)];
    let find = |pat: &[u8]| {
        head.windows(pat.len())
            .position(|w| w == pat)
            .map(|i| i + pat.len())
    };
    let s = find(b"\"seq\":")?;
    let seq: i64 = head[s..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0, |n, b| n * 10 + i64::from(b - b'0'));
    let e = find(b"\"event\":\"")?;
    if !head[e..].starts_with(b"case.opened\"") {
        return Some((seq, None));
    }
    let c = find(b"\"case_number\":\"")?;
    let dash = head[c..].iter().position(|b| *b == b'-')?;
    let n = head[c + dash + 1..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    Some((seq, Some(n)))
}

async fn bench(args: &Args, scratch: &Scratch) -> Result<()> {
    let dir = scratch.dir.as_path();
    let max_conn = if args.db == "postgres" { 40 } else { 16 };
    // Every client comes from 127.0.0.1: no per-address cap.
    scratch.write_config(&format!(
        "[server]\nmax_connections_per_address = 0\n[database]\nmax_connections = {max_conn}\n"
    ))?;
    scratch.cli(&["demo"]).await?;
    let mut csv = String::from("code,name\n");
    for i in 0..args.units {
        csv.push_str(&format!(
            "{},基准镇{i}\n{},基准镇{i}第一村\n",
            township(i),
            village(i)
        ));
    }
    std::fs::write(dir.join("regions.csv"), csv)?;
    scratch
        .cli(&[
            "regions",
            "import",
            &dir.join("regions.csv").display().to_string(),
        ])
        .await?;
    let mut server = scratch.serve().await?;
    let base = server.base.clone();
    let ws = format!("ws://127.0.0.1:{}/api/v1/live", server.port);
    println!(
        "server RSS at start: {} MB",
        rss_kb(server.pid, "VmRSS:") / 1024
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    // Units and their station workers.
    let admin = login(&http, &base, "admin").await?;
    let mut unit_ids = Vec::new();
    let mut tokens = Vec::new();
    let setup = Instant::now();
    for i in 0..args.units {
        let u = call(&http, reqwest::Method::POST, format!("{base}/api/v1/units"), &admin,
            json!({"kind": "rights_station", "name": format!("基准镇{i}妇女维权站"), "region_code": township(i)})).await?;
        let uid = u["id"]
            .as_str()
            .ok_or_else(|| anyhow!("unit without id: {u}"))?
            .to_string();
        call(&http, reqwest::Method::POST, format!("{base}/api/v1/users"), &admin,
            json!({"username": format!("bench{i}"), "password": PASSWORD, "role": "station_worker", "unit_id": uid})).await?;
        tokens.push(login(&http, &base, &format!("bench{i}")).await?);
        unit_ids.push(uid);
    }
    let operator = login(&http, &base, "operator").await?;
    let supervisor = login(&http, &base, "supervisor").await?;
    println!(
        "set-up: {} units with a user each in {:.1?}; server RSS {} MB (logins hash with argon2, m=19 MiB, on the blocking pool)",
        args.units,
        setup.elapsed(),
        rss_kb(server.pid, "VmRSS:") / 1024
    );

    // Connections.
    let n_all = ((args.connections as f64) * args.all_share).round() as usize;
    let plan: Vec<(Sees, String)> = (0..args.connections)
        .map(|i| {
            if i < n_all {
                (
                    Sees::All,
                    if i % 2 == 0 {
                        operator.clone()
                    } else {
                        supervisor.clone()
                    },
                )
            } else {
                let u = (i - n_all) % args.units;
                (Sees::Unit(u), tokens[u].clone())
            }
        })
        .collect();
    let epoch = Instant::now();
    let (stop_tx, stop_rx) = watch::channel(false);
    let ready = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(128));
    let mut conns = Vec::with_capacity(args.connections);
    let connecting = Instant::now();
    for (sees, token) in plan {
        let url = ws.clone();
        let mut stop = stop_rx.clone();
        let ready = ready.clone();
        let gate = gate.clone();
        conns.push(tokio::spawn(async move {
            let mut d = Delivered {
                sees,
                opened: Vec::new(),
                frames: 0,
                disorder: 0,
                ended: None,
            };
            let permit = gate.acquire_owned().await;
            let mut req = match url.into_client_request() {
                Ok(r) => r,
                Err(e) => {
                    d.ended = Some(format!("request: {e}"));
                    return d;
                }
            };
            if let Ok(v) = format!("Bearer {token}").parse() {
                req.headers_mut().insert("authorization", v);
            }
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0);
            let mut ws =
                match tokio_tungstenite::connect_async_with_config(req, Some(config), true).await {
                    Ok((ws, _)) => ws,
                    Err(e) => {
                        d.ended = Some(format!("connect: {e}"));
                        return d;
                    }
                };
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.contains("\"hello\"") => {}
                other => {
                    d.ended = Some(format!("no hello: {other:?}"));
                    return d;
                }
            }
            drop(permit);
            ready.fetch_add(1, Ordering::Relaxed);
            let mut last = 0i64;
            loop {
                tokio::select! {
                    m = ws.next() => match m {
                        Some(Ok(Message::Text(t))) => {
                            let at = epoch.elapsed().as_micros() as u64;
                            d.frames += 1;
                            if let Some((seq, opened)) = scan(&t) {
                                if seq <= last {
                                    d.disorder += 1;
                                }
                                last = seq;
                                if let Some(n) = opened {
                                    d.opened.push((n, at));
                                }
                            }
                        }
                        Some(Ok(Message::Close(c))) => {
                            d.ended = Some(format!("closed by the server: {c:?}"));
                            return d;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => {
                            d.ended = Some(format!("error: {e}"));
                            return d;
                        }
                        None => {
                            d.ended = Some("ended".into());
                            return d;
                        }
                    },
                    _ = stop.changed() => return d,
                }
            }
        }));
    }
    while ready.load(Ordering::Relaxed) < args.connections {
        if conns.iter().any(|h| h.is_finished()) {
            bail!(
                "a connection failed while connecting; see {}/server.log",
                dir.display()
            );
        }
        if connecting.elapsed() > Duration::from_secs(300) {
            bail!(
                "only {} of {} connected after 300 s",
                ready.load(Ordering::Relaxed),
                args.connections
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "{} connections open in {:.1?}; server RSS {} MB (idle)",
        args.connections,
        connecting.elapsed(),
        rss_kb(server.pid, "VmRSS:") / 1024
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = rss_kb(server.pid, "VmRSS:");

    // Load: open loop at rate/2 cases per second.
    println!("load average before the load: {}", load());
    let cases_per_s = args.rate / 2.0;
    let total = (cases_per_s * args.duration as f64).round() as usize;
    let commits: Commits = Arc::new(Mutex::new(HashMap::new()));
    let post_lat: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicUsize::new(0));
    let inflight = Arc::new(Semaphore::new(64));
    let unit_index: Arc<HashMap<String, usize>> = Arc::new(
        unit_ids
            .iter()
            .enumerate()
            .map(|(i, u)| (u.clone(), i))
            .collect(),
    );
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / cases_per_s));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut rss_peak = rss_idle;
    let mut last_sample = Instant::now();
    let load_start = Instant::now();
    let mut posts = Vec::with_capacity(total);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for k in 0..total {
        tick.tick().await;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let t = (seed % args.units as u64) as usize;
        let permit = inflight.clone().acquire_owned().await?;
        let (http, base, operator) = (http.clone(), base.clone(), operator.clone());
        let (commits, post_lat, errors, unit_index) = (
            commits.clone(),
            post_lat.clone(),
            errors.clone(),
            unit_index.clone(),
        );
        posts.push(tokio::spawn(async move {
            let sent = Instant::now();
            let sent_us = epoch.elapsed().as_micros() as u64;
            let r = call(
                &http,
                reqwest::Method::POST,
                format!("{base}/api/v1/cases"),
                &operator,
                json!({"category": "domestic_violence", "region_code": village(t),
                       "summary": format!("bench case {k}"), "subject": {}}),
            )
            .await;
            let returned = epoch.elapsed().as_micros() as u64;
            drop(permit);
            match r {
                Ok(c) => {
                    let n = c["number"]
                        .as_str()
                        .and_then(|s| s.split('-').nth(1))
                        .and_then(|s| s.parse::<u32>().ok());
                    let unit = c["assigned_unit_id"]
                        .as_str()
                        .and_then(|u| unit_index.get(u).copied());
                    if unit != Some(t) {
                        eprintln!(
                            "case {k} was routed to {:?}, expected unit {t}",
                            c["assigned_unit_id"]
                        );
                    }
                    if let (Some(n), Ok(mut m)) = (n, commits.lock()) {
                        m.insert(n, (sent_us, returned, unit));
                    }
                    if let Ok(mut l) = post_lat.lock() {
                        l.push(sent.elapsed().as_micros() as u64);
                    }
                }
                Err(e) => {
                    if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("POST failed: {e}");
                    }
                }
            }
        }));
        if last_sample.elapsed() >= Duration::from_secs(1) {
            rss_peak = rss_peak.max(rss_kb(server.pid, "VmRSS:"));
            last_sample = Instant::now();
        }
    }
    for p in posts {
        let _ = p.await;
    }
    let load_took = load_start.elapsed();
    println!("load average after the load: {}", load());
    // Let the last frames arrive.
    let expected_total: usize = {
        let m = commits.lock().map_err(|_| anyhow!("poisoned"))?;
        m.values()
            .map(|(_, _, unit)| {
                n_all
                    + unit.map_or(0, |u| {
                        (args.connections - n_all) / args.units
                            + usize::from(u < (args.connections - n_all) % args.units)
                    })
            })
            .sum()
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    rss_peak = rss_peak.max(rss_kb(server.pid, "VmRSS:"));
    let hwm = rss_kb(server.pid, "VmHWM:");
    let _ = stop_tx.send(true);
    let mut results = Vec::with_capacity(conns.len());
    for h in conns {
        results.push(h.await?);
    }

    // Verdict.
    let commits = commits.lock().map_err(|_| anyhow!("poisoned"))?.clone();
    let mut lat = Vec::new();
    let mut lat_sent = Vec::new();
    let (mut lost, mut dup, mut foreign, mut disorder, mut early, mut frames) =
        (0usize, 0usize, 0usize, 0u64, 0usize, 0u64);
    let mut ended = Vec::new();
    for d in &results {
        frames += d.frames;
        disorder += d.disorder;
        if let Some(e) = &d.ended {
            ended.push(e.clone());
        }
        let mut seen: HashMap<u32, u32> = HashMap::new();
        for (n, at) in &d.opened {
            *seen.entry(*n).or_default() += 1;
            match commits.get(n) {
                Some((sent, committed, unit)) => {
                    let visible = match d.sees {
                        Sees::All => true,
                        Sees::Unit(u) => *unit == Some(u),
                    };
                    if !visible {
                        foreign += 1;
                    }
                    if at < committed {
                        early += 1;
                    }
                    lat.push(at.saturating_sub(*committed));
                    lat_sent.push(at.saturating_sub(*sent));
                }
                None => foreign += 1,
            }
        }
        dup += seen
            .values()
            .map(|c| (*c as usize).saturating_sub(1))
            .sum::<usize>();
        for (n, (_, _, unit)) in &commits {
            let visible = match d.sees {
                Sees::All => true,
                Sees::Unit(u) => *unit == Some(u),
            };
            if visible && !seen.contains_key(n) {
                lost += 1;
            }
        }
    }
    lat.sort_unstable();
    lat_sent.sort_unstable();
    let mut pl = post_lat.lock().map_err(|_| anyhow!("poisoned"))?.clone();
    pl.sort_unstable();
    let cases = commits.len();
    println!();
    println!("cases opened: {cases} in {:.1?} = {:.0} cases/s = {:.0} feed events/s ({} POST errors); POST p50 {} p99 {}",
        load_took, cases as f64 / load_took.as_secs_f64(), 2.0 * cases as f64 / load_took.as_secs_f64(),
        errors.load(Ordering::Relaxed), ms(percentile(&pl, 0.5)), ms(percentile(&pl, 0.99)));
    println!("frames received: {frames} ({:.0}/s); case.opened deliveries: {} of {expected_total} expected",
        frames as f64 / load_took.as_secs_f64(), lat.len());
    println!("latency POST returned → case.opened received: p50 {} p99 {} p99.9 {} max {} ({early} frames arrived before their POST returned, counted as 0)",
        ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)), ms(percentile(&lat, 0.999)), ms(lat.last().copied().unwrap_or(0)));
    println!(
        "upper bound, POST sent → case.opened received: p50 {} p99 {} max {}",
        ms(percentile(&lat_sent, 0.5)),
        ms(percentile(&lat_sent, 0.99)),
        ms(lat_sent.last().copied().unwrap_or(0))
    );
    println!("lost: {lost}  duplicated: {dup}  out of scope: {foreign}  seq disorder: {disorder}  connections ended early: {}", ended.len());
    for e in ended.iter().take(5) {
        println!("  ended: {e}");
    }
    println!(
        "server RSS: idle with {} connections {} MB; peak sampled {} MB; VmHWM {} MB",
        args.connections,
        rss_idle / 1024,
        rss_peak / 1024,
        hwm / 1024
    );
    let _ = server.child.start_kill();
    let _ = server.child.wait().await;
    if lost + dup + foreign + disorder as usize > 0 || !ended.is_empty() {
        bail!("the feed lost, duplicated, misrouted or reordered events");
    }
    Ok(())
}
