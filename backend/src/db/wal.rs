//! The SQLite write-ahead log kept bounded.
//!
//! Every [`CHECKPOINT_INTERVAL`] a passive checkpoint copies committed
//! pages into the database file, off the writers' path (SQLite's own
//! automatic checkpoint would run inside the commit that crosses its
//! limit, under the write lock every queued writer waits on). A passive
//! checkpoint never restarts the log while a reader still uses its
//! frames, and under sustained load some reader always does: 100,000
//! cases at full speed left a 2.5 GiB WAL beside a 230 MiB database
//! (issue 20). So when the WAL file passes [`TRUNCATE_ABOVE`], the
//! checkpointer takes the process's write lock (no writer of ours waits
//! on SQLite's busy handler meanwhile) and runs a `TRUNCATE` checkpoint:
//! it waits for the readers of old frames to finish (new readers read the
//! database file once every frame is copied), copies the rest and cuts
//! the file to zero bytes. `journal_size_limit` ([`JOURNAL_SIZE_LIMIT`])
//! bounds what a restarted log keeps on disk if a truncation fails.
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
/// A WAL larger than this is checkpointed with `TRUNCATE`.
pub const TRUNCATE_ABOVE: u64 = 16 * 1024 * 1024;
/// `PRAGMA journal_size_limit`: what a restarted WAL may keep on disk.
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

    /// Copy the whole WAL into the database and cut the file to zero,
    /// holding the process's write lock so that no writer of ours queues
    /// on SQLite's busy handler meanwhile. Returns SQLite's answer
    /// `(busy, log frames, checkpointed frames)`.
    pub async fn checkpoint_truncate(&self) -> Result<(i64, i64, i64), DbErr> {
        let _guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let conn = self.writer.as_ref().unwrap_or(&self.conn);
        // A reader that holds old frames for long must not stall every
        // writer for the full busy timeout: give up after a second, the
        // next round tries again.
        conn.execute_unprepared("PRAGMA busy_timeout = 1000")
            .await?;
        let row = conn
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ))
            .await;
        conn.execute_unprepared("PRAGMA busy_timeout = 10000")
            .await?;
        let row = row?;
        let Some(row) = row else {
            return Ok((0, 0, 0));
        };
        Ok((
            row.try_get_by_index(0)?,
            row.try_get_by_index(1)?,
            row.try_get_by_index(2)?,
        ))
    }
}

/// One round: a passive checkpoint, then a truncating one if the WAL is
/// still over [`TRUNCATE_ABOVE`]. Returns the WAL's size afterwards.
pub async fn checkpoint_once(db: &Db) -> u64 {
    if let Err(e) = db
        .conn
        .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
        .await
    {
        tracing::warn!(error = %e, "WAL checkpoint failed");
    }
    let size = db.wal_bytes().unwrap_or(0);
    if size <= TRUNCATE_ABOVE {
        return size;
    }
    match db.checkpoint_truncate().await {
        Ok((busy, log, done)) => {
            metrics::counter!("lianxin_sqlite_wal_truncations_total").increment(1);
            if busy != 0 {
                tracing::warn!(size, log, done, "WAL truncation was blocked by a reader");
            }
        }
        Err(e) => tracing::warn!(error = %e, size, "WAL truncation failed"),
    }
    db.wal_bytes().unwrap_or(0)
}

/// On SQLite: [`checkpoint_once`] every [`CHECKPOINT_INTERVAL`] until
/// shutdown, then a last one; records `lianxin_sqlite_wal_bytes`.
pub async fn run_checkpointer(db: Db, mut shutdown: crate::shutdown::Shutdown) {
    if db.backend() != DatabaseBackend::Sqlite {
        return;
    }
    loop {
        let stop = tokio::select! {
            _ = tokio::time::sleep(CHECKPOINT_INTERVAL) => false,
            _ = shutdown.wait() => true,
        };
        let size = checkpoint_once(&db).await;
        metrics::gauge!("lianxin_sqlite_wal_bytes").set(size as f64);
        if stop {
            return;
        }
    }
}
