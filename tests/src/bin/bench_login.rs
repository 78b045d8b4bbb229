//! `bench_login`: a burst of anonymous logins against the release server;
//! prints how they were answered and the server's peak RSS. Each argon2id
//! verification takes 19 MiB; `auth.max_concurrent_hashes` bounds how many
//! run at once (issue 12, item 8).
//!
//! ```text
//! cargo build --release -p lianxin -p lianxin-tests --bin lianxin --bin bench_login
//! target/release/bench_login [--logins 200] [--hashes 4] [--wait-ms 2000] \
//!     [--server target/release/lianxin] [--keep]
//! ```
//!
//! - The server runs as a separate process (`lianxin serve` on a free port,
//!   a fresh SQLite file in a temporary directory) so that its peak RSS
//!   (`VmHWM`) can be read from `/proc/PID/status`.
//! - Every login is for a different unknown username with a wrong
//!   password: the server verifies against its dummy hash (so timing does
//!   not tell who exists), which costs what a real verification costs.
//!   Failures per username never reach the throttle; the per-address limit
//!   is raised in the bench's config so that the hash gate is what is
//!   measured.
//! - `--hashes 1000` approximates the server before the gate.
use std::{path::PathBuf, process::Stdio, time::Duration, time::Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;
use uuid::Uuid;

struct Args {
    logins: usize,
    hashes: usize,
    wait_ms: u64,
    server: PathBuf,
    keep: bool,
}

fn args() -> Result<Args> {
    let mut a = Args {
        logins: 200,
        hashes: 4,
        wait_ms: 2000,
        server: PathBuf::from("target/release/lianxin"),
        keep: false,
    };
    a.keep = lianxin_tests::bench::flags(|flag, v| {
        match flag {
            "--logins" => a.logins = v.parse()?,
            "--hashes" => a.hashes = v.parse()?,
            "--wait-ms" => a.wait_ms = v.parse()?,
            "--server" => a.server = v.into(),
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

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

async fn run(args: Args) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("lianxin-bench-login-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let outcome = bench(&args, &dir).await;
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    outcome
}

async fn bench(args: &Args, dir: &std::path::Path) -> Result<()> {
    std::fs::write(
        dir.join("bench.toml"),
        format!(
            "[auth]\nmax_concurrent_hashes = {}\nhash_wait_ms = {}\n{}",
            args.hashes, args.wait_ms, ADDRESS_LIMIT
        ),
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = std::fs::File::create(dir.join("server.log"))?;
    let db_url = format!("sqlite://{}/lianxin.db?mode=rwc", dir.display());
    let mut child = tokio::process::Command::new(&args.server)
        .arg("serve")
        .env("LIANXIN_LISTEN", format!("127.0.0.1:{port}"))
        .env("LIANXIN_DATABASE_URL", &db_url)
        .env("LIANXIN_CONFIG", dir.join("bench.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!(
                "running {} (build it with cargo build --release -p lianxin)",
                args.server.display()
            )
        })?;
    let pid = child.id().ok_or_else(|| anyhow!("server exited at once"))?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !ready {
        bail!(
            "the server did not become ready; see {}/server.log",
            dir.display()
        );
    }
    let idle_kb = rss_kb(pid, "VmRSS:");
    println!(
        "bench_login: {} concurrent logins, auth.max_concurrent_hashes = {}, hash_wait_ms = {}",
        args.logins, args.hashes, args.wait_ms
    );

    let started = Instant::now();
    let attempts = (0..args.logins).map(|i| {
        let rb = http.post(format!("{base}/api/v1/auth/login")).json(
            &json!({"username": format!("nobody-{i}"), "password": format!("guess number {i}")}),
        );
        async move {
            match rb.send().await {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            }
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let took = started.elapsed();
    let hwm_kb = rss_kb(pid, "VmHWM:");
    let after_kb = rss_kb(pid, "VmRSS:");
    let mut counts = std::collections::BTreeMap::new();
    for s in statuses {
        *counts.entry(s).or_insert(0usize) += 1;
    }
    println!("answers: {counts:?} (0 = connection error) in {took:.2?}");
    println!(
        "server RSS: idle {:.1} MiB, peak (VmHWM) {:.1} MiB, after {:.1} MiB",
        idle_kb as f64 / 1024.0,
        hwm_kb as f64 / 1024.0,
        after_kb as f64 / 1024.0
    );
    let _ = child.kill().await;
    Ok(())
}

/// Raise the per-address login limit (item 7) so that every login of the
/// burst, all from 127.0.0.1, reaches the hash gate.
const ADDRESS_LIMIT: &str =
    "max_failures_per_address = 0\n[server]\nmax_connections_per_address = 0\n";
