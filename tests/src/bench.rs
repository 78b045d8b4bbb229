//! The benchmark programs' set-up, in one place: a fresh database for an
//! engine (a SQLite file in a new temporary directory, or a new
//! PostgreSQL database beside it), the `lianxin` CLI run against it
//! (`demo`, imports), `lianxin serve` as its own process on a free port,
//! waited for and logged in to. Dropping the [`Scratch`] removes the
//! directory and drops the database (unless kept), also when the bench
//! failed half-way; dropping a [`Server`] kills it.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use lianxin_tests::bench::Scratch;
//! let scratch = Scratch::new("reports", None, "target/release/lianxin".as_ref()).await?;
//! scratch.write_config("")?;
//! scratch.cli(&["demo"]).await?;
//! let server = scratch.serve().await?;
//! let token = server.login("supervisor").await?;
//! # Ok(()) }
//! ```
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context, Result};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};

/// A fresh database and directory for one bench run.
pub struct Scratch {
    /// The run's directory: config, SQLite file, server log.
    pub dir: PathBuf,
    /// The database URL the server and the bench use.
    pub url: String,
    /// The `lianxin` binary run.
    pub server: PathBuf,
    /// PostgreSQL: the URL of the server's admin database and the name of
    /// the database made for this run (dropped with the scratch).
    pg: Option<(String, String)>,
    /// Leave the directory and the database behind (for a post-mortem).
    pub keep: bool,
}

impl Scratch {
    /// A new directory `lianxin-bench-<tag>-<id>` and, when `pg_url` names
    /// a PostgreSQL server (its admin database), a new database on it;
    /// otherwise a SQLite file in the directory.
    pub async fn new(tag: &str, pg_url: Option<&str>, server: &Path) -> Result<Scratch> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("lianxin-bench-{tag}-{id}"));
        std::fs::create_dir_all(&dir)?;
        let mut scratch = Scratch {
            url: format!("sqlite://{}/lianxin.db?mode=rwc", dir.display()),
            dir,
            server: server.to_path_buf(),
            pg: None,
            keep: false,
        };
        if let Some(admin_url) = pg_url {
            let name = format!("lianxin_bench_{id}");
            let admin = Database::connect(admin_url)
                .await
                .with_context(|| format!("connecting to {admin_url}"))?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await?;
            admin.close().await?;
            let mut url = reqwest::Url::parse(admin_url)?;
            url.set_path(&format!("/{name}"));
            scratch.url = url.to_string();
            scratch.pg = Some((admin_url.to_string(), name));
        }
        Ok(scratch)
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Writes the config file every command reads: `data_dir` (the
    /// scratch directory), then `extra` (TOML lines, sections last).
    pub fn write_config(&self, extra: &str) -> Result<()> {
        let data_dir = self.dir.display().to_string();
        std::fs::write(
            self.dir.join("bench.toml"),
            format!("data_dir = {data_dir:?}\n{extra}"),
        )?;
        Ok(())
    }

    /// `lianxin` with the scratch's config and database; `RUST_LOG`
    /// defaults to `warn`. Killed when dropped.
    pub fn command(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.server);
        c.env("LIANXIN_CONFIG", self.dir.join("bench.toml"))
            .env("LIANXIN_DATABASE_URL", &self.url)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .kill_on_drop(true);
        c
    }

    /// Runs `lianxin <args>` to its end; an error with its stderr if it
    /// failed.
    pub async fn cli(&self, args: &[&str]) -> Result<()> {
        let out = self.command().args(args).output().await.with_context(|| {
            format!(
                "running {} (cargo build --release -p lianxin)",
                self.server.display()
            )
        })?;
        if !out.status.success() {
            bail!(
                "lianxin {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// `lianxin serve` on a free port (its output in `server.log`), once
    /// `/readyz` answers 200.
    pub async fn serve(&self) -> Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(self.dir.join("server.log"))?;
        let mut child = self
            .command()
            .arg("serve")
            .env("LIANXIN_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("running {}", self.server.display()))?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow!("the server exited at once"))?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "the server exited with {status}; see {}/server.log",
                    self.dir.display()
                );
            }
            if matches!(http.get(format!("{base}/readyz")).send().await, Ok(r) if r.status().is_success())
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!(
                    "server not ready in 120 s; see {}/server.log",
                    self.dir.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Server {
            child,
            pid,
            port,
            base,
            http,
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            println!("kept {} ({})", self.dir.display(), self.url);
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let Some((admin_url, name)) = self.pg.take() else {
            return;
        };
        // Drop runs on the bench's runtime, which cannot wait on itself:
        // the database is dropped from a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || -> Result<()> {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(async {
                    let admin = Database::connect(admin_url.as_str()).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await?;
                    admin.close().await?;
                    Ok(())
                })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the bench database: {e}"),
            Err(_) => eprintln!("could not drop the bench database"),
        }
    }
}

/// A running `lianxin serve`; killed when dropped.
pub struct Server {
    pub child: tokio::process::Child,
    pub pid: u32,
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub http: reqwest::Client,
}

impl Server {
    /// A bearer token for a demo user.
    pub async fn login(&self, user: &str) -> Result<String> {
        let r = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": user, "password": crate::DEMO_PASSWORD}))
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await?;
        if !status.is_success() {
            bail!("login as {user}: {status} {body}");
        }
        body["token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow!("login as {user}: no token in {body}"))
    }
}

/// The command line every bench reads: `--keep` alone (returned), every
/// other flag with one value, handed to `set(flag, value)`, which returns
/// `false` for a flag it does not know.
pub fn flags(mut set: impl FnMut(&str, String) -> Result<bool>) -> Result<bool> {
    let mut keep = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--keep" {
            keep = true;
            continue;
        }
        let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        if !set(&flag, value)? {
            bail!("unknown argument {flag}");
        }
    }
    Ok(keep)
}

/// `--db-set key=value` as the `key = value` line it adds to the server's
/// `[database]` settings.
pub fn db_set_line(kv: &str) -> Result<String> {
    let (k, v) = kv
        .split_once('=')
        .ok_or_else(|| anyhow!("--db-set needs key=value, not {kv:?}"))?;
    Ok(format!("{} = {}", k.trim(), v.trim()))
}

/// Villages of the demo province (`lianxin demo`) the benches spread
/// their cases over: three of 阳朔县 (two townships), one of 灵川县, one
/// of 融安县.
pub const DEMO_VILLAGES: &[&str] = &[
    "450321101201",
    "450321101202",
    "450321102201",
    "450323101201",
    "450224100201",
];

/// The values of `names` in the server's `/metrics` (each a metric name
/// with its labels as the exporter prints them, `name{label="v"}`), 0 for
/// one absent or a page that cannot be read.
pub async fn metric_values<const N: usize>(
    http: &reqwest::Client,
    base: &str,
    names: [&str; N],
) -> [f64; N] {
    let text = match http.get(format!("{base}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    names.map(|name| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0.0)
    })
}
