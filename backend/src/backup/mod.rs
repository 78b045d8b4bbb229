//! `lianxin backup` and `lianxin restore` (issue 20).
//!
//! A backup is taken while the server runs and takes writes:
//! - SQLite: `VACUUM INTO`, one read transaction's consistent snapshot
//!   written as a compact database file (writers go on meanwhile, WAL);
//! - PostgreSQL: `pg_dump --format=custom` (its own consistent snapshot),
//!   when `pg_dump` is on the `PATH`.
//!
//! With `--key FILE` the file is encrypted ([`crypt`]). A restore finds
//! the kind from the file's first bytes, decrypts with `--key`, refuses a
//! target database that already holds data, puts the data in place
//! (file copy, or `pg_restore`), then migrates it (an older backup gets
//! today's schema). `--verify` checks the result: SQLite's
//! `integrity_check`, the feed counter not behind the last event, and
//! the row counts of the main tables.
pub mod crypt;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::{config::Settings, db::Db};

/// The tables whose row counts a verification prints.
pub const COUNTED: &[&str] = &[
    "cases",
    "case_events",
    "calls",
    "escalations",
    "deadlines",
    "users",
    "units",
];

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PGDUMP_MAGIC: &[u8] = b"PGDMP";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    PgDump,
    Encrypted,
}

fn kind_of(path: &Path) -> Result<Kind> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let n = f.read(&mut head)?;
    let head = &head[..n];
    if head.starts_with(crypt::MAGIC) {
        Ok(Kind::Encrypted)
    } else if head.starts_with(SQLITE_MAGIC) {
        Ok(Kind::Sqlite)
    } else if head.starts_with(PGDUMP_MAGIC) {
        Ok(Kind::PgDump)
    } else {
        bail!("{} is not a Lianxin backup", path.display())
    }
}

/// A file beside `path` (same file system, so a rename is atomic).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Write a backup of the configured database to `to`.
pub async fn backup(settings: &Settings, to: &Path, key: Option<&Path>) -> Result<u64> {
    if to.exists() {
        bail!("{} exists; choose a new file", to.display());
    }
    let key = key.map(crypt::load_key).transpose()?;
    let db = Db::connect(settings).await?;
    let plain = if key.is_some() {
        beside(to, ".plain.partial")
    } else {
        beside(to, ".partial")
    };
    let _ = std::fs::remove_file(&plain);
    if db.is_postgres() {
        run_tool(
            "pg_dump",
            &[
                "--format=custom".as_ref(),
                "--file".as_ref(),
                plain.as_os_str(),
                "--dbname".as_ref(),
                db.url.as_ref(),
            ],
        )
        .await?;
    } else {
        let target = plain.to_string_lossy().replace('\'', "''");
        db.conn
            .execute_unprepared(&format!("VACUUM INTO '{target}'"))
            .await
            .context("VACUUM INTO failed")?;
    }
    db.conn.close_by_ref().await.ok();
    match key {
        Some(key) => {
            let partial = beside(to, ".partial");
            let outcome = crypt::encrypt(&key, &plain, &partial);
            let _ = std::fs::remove_file(&plain);
            outcome?;
            std::fs::rename(&partial, to)?;
        }
        None => {
            std::fs::File::open(&plain)?.sync_all()?;
            std::fs::rename(&plain, to)?;
        }
    }
    Ok(std::fs::metadata(to)?.len())
}

/// Run a PostgreSQL client tool; its error output becomes the error.
async fn run_tool(tool: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
    let out = tokio::process::Command::new(tool)
        .args(args)
        .output()
        .await
        .with_context(|| format!("cannot run {tool}: install the PostgreSQL client tools"))?;
    if !out.status.success() {
        bail!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The SQLite database file of a `sqlite:` URL.
fn sqlite_path(url: &str) -> Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .context("not a SQLite URL")?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        bail!("the configured SQLite database has no file");
    }
    Ok(PathBuf::from(path))
}

/// Restore `from` into the configured database, which must be empty;
/// migrates it afterwards. Returns the verification when `verify`.
pub async fn restore(
    settings: &Settings,
    from: &Path,
    key: Option<&Path>,
    verify: bool,
) -> Result<Option<serde_json::Value>> {
    let url = settings.database_url();
    let mut source = from.to_path_buf();
    let mut decrypted = None;
    if kind_of(from)? == Kind::Encrypted {
        let key = crypt::load_key(key.context("this backup is encrypted: give --key FILE")?)?;
        let dir = if url.starts_with("sqlite:") {
            sqlite_path(&url)?
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        } else {
            std::env::temp_dir()
        };
        std::fs::create_dir_all(&dir)?;
        let plain = dir.join(format!("restore-{}.partial", uuid::Uuid::new_v4().simple()));
        crypt::decrypt(&key, from, &plain)?;
        source = plain.clone();
        decrypted = Some(plain);
    }
    let outcome = put_in_place(settings, &url, &source).await;
    if let Some(p) = decrypted {
        let _ = std::fs::remove_file(p);
    }
    outcome?;
    let db = Db::connect(settings).await?;
    db.migrate().await?;
    if !verify {
        return Ok(None);
    }
    Ok(Some(check(&db).await?))
}

async fn put_in_place(settings: &Settings, url: &str, source: &Path) -> Result<()> {
    match (kind_of(source)?, url.starts_with("sqlite:")) {
        (Kind::Sqlite, true) => {
            let target = sqlite_path(url)?;
            if std::fs::metadata(&target)
                .map(|m| m.len() > 0)
                .unwrap_or(false)
            {
                bail!(
                    "{} exists and holds data; restore into a new database",
                    target.display()
                );
            }
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir)?;
            }
            for stale in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(beside(&target, stale));
            }
            let partial = beside(&target, ".partial");
            std::fs::copy(source, &partial)?;
            std::fs::File::open(&partial)?.sync_all()?;
            std::fs::rename(&partial, &target)?;
            Ok(())
        }
        (Kind::PgDump, false) => {
            let db = Db::connect(settings).await?;
            let tables = count(
                &db,
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .await?;
            db.conn.close_by_ref().await.ok();
            if tables > 0 {
                bail!("the target database holds {tables} tables; restore into a new database");
            }
            run_tool(
                "pg_restore",
                &[
                    "--no-owner".as_ref(),
                    "--no-privileges".as_ref(),
                    "--exit-on-error".as_ref(),
                    "--dbname".as_ref(),
                    url.as_ref(),
                    source.as_os_str(),
                ],
            )
            .await
        }
        (Kind::Sqlite, false) => bail!("a SQLite backup restores into a SQLite database only"),
        (Kind::PgDump, true) => bail!("a PostgreSQL backup restores into PostgreSQL only"),
        (Kind::Encrypted, _) => bail!("the backup is encrypted twice"),
    }
}

async fn count(db: &Db, sql: &str) -> Result<i64> {
    let row = db
        .conn
        .query_one_raw(Statement::from_string(db.backend(), sql))
        .await?
        .context("no answer")?;
    Ok(row.try_get_by_index(0)?)
}

/// The checks of `restore --verify`; fails when one does not hold.
pub async fn check(db: &Db) -> Result<serde_json::Value> {
    if db.backend() == DatabaseBackend::Sqlite {
        let row = db
            .conn
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await?
            .context("no answer")?;
        let answer: String = row.try_get_by_index(0)?;
        if answer != "ok" {
            bail!("integrity check failed: {answer}");
        }
    }
    let feed = count(db, "SELECT value FROM counters WHERE name = 'feed'").await?;
    let last = count(db, "SELECT COALESCE(MAX(feed_seq), 0) FROM case_events").await?;
    if feed < last {
        bail!("the feed counter ({feed}) is behind the last event ({last})");
    }
    let mut counts = serde_json::Map::new();
    for table in COUNTED {
        counts.insert(
            (*table).into(),
            count(db, &format!("SELECT count(*) FROM {table}"))
                .await?
                .into(),
        );
    }
    Ok(serde_json::json!({"verified": true, "feed_head": feed, "counts": counts}))
}
