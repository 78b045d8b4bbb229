//! The SQLite write-ahead log kept bounded.
//!
//! Every [`CHECKPOINT_INTERVAL`] a passive checkpoint copies committed
//! pages into the database file, off the writers' path (SQLite's own
//! automatic checkpoint would run inside the commit that crosses its
//! limit, under the write lock every queued writer waits on). A passive
//! checkpoint never restarts the log while a reader still uses its
//! frames, and under sustained load some reader always does: 100,000
//! cases at full speed left a 2.5 GiB WAL beside a 230 MiB database
//! (issue 20). So when the log holds more than [`RESTART_ABOVE`] (its
//! frames, as the passive checkpoint reports them), the checkpointer takes
//! the process's write lock (no writer of ours waits on SQLite's busy
//! handler meanwhile) and runs a `RESTART` checkpoint: it waits for the
//! readers of old frames to finish (new readers read the database file
//! once every frame is copied) and copies the rest, so that the next
//! commit writes the log from its start again.
//!
//! The file keeps its length: commits write over blocks the file already
//! has, and a commit's `fdatasync` has no file size to journal. Cutting
//! the log to zero (`TRUNCATE`, as this did first) made every commit after
//! it grow the file, and under the realistic load a batch's COMMIT took
//! 2.7–2.9 ms against 1.9–2.2 ms now (README, Performance). A file larger
//! than [`JOURNAL_SIZE_LIMIT`] (a reader held the log for long) is cut
//! back with `TRUNCATE`, and SQLite itself trims a restarted log to that
//! limit.
//!
//! The WAL's size is the gauge `lianxin_sqlite_wal_bytes`; `/readyz`
//! warns `wal_large` above [`WARN_ABOVE`]. Durability never depends on
//! any of this: a commit is fsynced in the WAL (`synchronous=FULL`)
//! before it returns.
use std::{path::PathBuf, time::Duration};

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

use super::Db;

/// How often the checkpointer copies the WAL into the database.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);
/// A log holding more than this is restarted (`RESTART` checkpoint).
pub const RESTART_ABOVE: u64 = 16 * 1024 * 1024;
/// A log frame: SQLite's default page (4 KiB, never changed here) and its
/// 24-byte header.
const FRAME_BYTES: u64 = 4096 + 24;
/// `PRAGMA journal_size_limit`: what a restarted WAL may keep on disk; a
/// larger file is checkpointed with `TRUNCATE`.
pub const JOURNAL_SIZE_LIMIT: u64 = 32 * 1024 * 1024;
/// `/readyz` reports `wal_large` above this.
pub const WARN_ABOVE: u64 = 64 * 1024 * 1024;

/// The database file's path on SQLite (from `PRAGMA database_list`);
/// `None` on PostgreSQL or for an in-memory database.
pub async fn database_file(conn: &impl ConnectionTrait) -> Result<Option<PathBuf>, DbErr> {
    if conn.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(None);
    }
    let row = conn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT file FROM pragma_database_list WHERE name = 'main'",
        ))
        .await?;
    let file: Option<String> = match row {
        Some(r) => r.try_get("", "file")?,
        None => None,
    };
    Ok(file.filter(|f| !f.is_empty()).map(PathBuf::from))
}

impl Db {
    /// The WAL's size in bytes on SQLite (0 when absent); `None` on
    /// PostgreSQL.
    pub fn wal_bytes(&self) -> Option<u64> {
        let file = self.sqlite_file.as_ref()?;
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        Some(std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0))
    }

    /// A `mode` checkpoint (`RESTART`: the whole log copied, the next
    /// commit writes it from its start; `TRUNCATE`: also cut to zero),
    /// holding the process's write lock so that no writer of ours queues
    /// on SQLite's busy handler meanwhile. Returns SQLite's answer
    /// `(busy, log frames, checkpointed frames)`.
    async fn checkpoint_locked(&self, mode: &str) -> Result<(i64, i64, i64), DbErr> {
        let _guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let held = std::time::Instant::now();
        let conn = self.writer.as_ref().unwrap_or(&self.conn);
        // A reader that holds old frames for long must not stall every
        // writer for the full busy timeout: give up after a second, the
        // next round tries again.
        conn.execute_unprepared("PRAGMA busy_timeout = 1000")
            .await?;
        let answer = wal_checkpoint(conn, mode).await;
        conn.execute_unprepared("PRAGMA busy_timeout = 10000")
            .await?;
        // How long every writer of ours waited on it.
        metrics::histogram!("lianxin_sqlite_checkpoint_seconds", "mode" => mode.to_string())
            .record(held.elapsed().as_secs_f64());
        answer
    }
}

/// `PRAGMA wal_checkpoint(mode)` on `conn`: SQLite's answer `(busy, log
/// frames, checkpointed frames)`.
async fn wal_checkpoint(conn: &impl ConnectionTrait, mode: &str) -> Result<(i64, i64, i64), DbErr> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            format!("PRAGMA wal_checkpoint({mode})"),
        ))
        .await?;
    let Some(row) = row else {
        return Ok((0, 0, 0));
    };
    Ok((
        row.try_get_by_index(0)?,
        row.try_get_by_index(1)?,
        row.try_get_by_index(2)?,
    ))
}

/// One round: a passive checkpoint; then a restart if the log holds more
/// than [`RESTART_ABOVE`] and has been written since the last restart
/// (`restarted`: the log's frames then), or a truncation if the file is
/// over [`JOURNAL_SIZE_LIMIT`]. Returns the WAL file's size afterwards.
pub async fn checkpoint_once(db: &Db, restarted: &mut Option<i64>) -> u64 {
    let frames = match wal_checkpoint(&db.conn, "PASSIVE").await {
        Ok((_, log, _)) => Some(log),
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed");
            None
        }
    };
    let size = db.wal_bytes().unwrap_or(0);
    let written_since = frames.is_some() && frames != *restarted;
    let held = frames.unwrap_or(0).max(0) as u64 * FRAME_BYTES;
    let (mode, counter) = if held > RESTART_ABOVE && written_since {
        ("RESTART", "lianxin_sqlite_wal_restarts_total")
    } else if size > JOURNAL_SIZE_LIMIT {
        ("TRUNCATE", "lianxin_sqlite_wal_truncations_total")
    } else {
        return size;
    };
    match db.checkpoint_locked(mode).await {
        Ok((busy, log, done)) => {
            metrics::counter!(counter).increment(1);
            if busy != 0 {
                tracing::warn!(
                    size,
                    log,
                    done,
                    mode,
                    "WAL checkpoint was blocked by a reader"
                );
            } else if mode == "RESTART" {
                *restarted = Some(log);
            }
        }
        Err(e) => tracing::warn!(error = %e, size, mode, "WAL checkpoint failed"),
    }
    db.wal_bytes().unwrap_or(0)
}

/// On SQLite: [`checkpoint_once`] every [`CHECKPOINT_INTERVAL`] until
/// shutdown, then a last one; records `lianxin_sqlite_wal_bytes`.
pub async fn run_checkpointer(db: Db, mut shutdown: crate::shutdown::Shutdown) {
    if db.backend() != DatabaseBackend::Sqlite {
        return;
    }
    let mut restarted = None;
    loop {
        let stop = tokio::select! {
            _ = tokio::time::sleep(CHECKPOINT_INTERVAL) => false,
            _ = shutdown.wait() => true,
        };
        let size = checkpoint_once(&db, &mut restarted).await;
        metrics::gauge!("lianxin_sqlite_wal_bytes").set(size as f64);
        if stop {
            return;
        }
    }
}
