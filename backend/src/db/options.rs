//! Connection options: a pool's size and, on SQLite, the pragmas every
//! connection needs (WAL, synchronous, checkpoints left to the
//! checkpointer, the memory map and page cache).
use std::time::Duration;

use sea_orm::ConnectOptions;

use crate::config::Settings;

use super::wal;

/// A pooled PostgreSQL connection idle this long is pinged before use.
const PG_PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A pool's size and, on SQLite, each connection's page cache.
pub(super) struct Pool {
    pub max: u32,
    pub min: u32,
    pub cache_mib: u64,
}

/// Pool options for `url`, and on SQLite the pragmas every connection
/// needs.
pub(super) fn options(settings: &Settings, url: &str, pool: Pool) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_string());
    let mmap = (settings.database.sqlite_mmap_mib * 1024 * 1024).to_string();
    // A negative cache_size is in KiB.
    let cache = format!("-{}", pool.cache_mib * 1024);
    opts.max_connections(pool.max)
        .min_connections(pool.min)
        .acquire_timeout(Duration::from_secs(settings.database.acquire_timeout_s))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // sqlx pings a pooled connection before every use by default. A
        // SQLite file cannot hang up, and on SQLite each ping is a round
        // trip to the connection's worker thread: as many thread
        // handoffs as the query itself (a case read, 2 queries, paid 4).
        opts.test_before_acquire(false);
    } else {
        // PostgreSQL: ping only a connection idle for a while. sqlx also
        // pings every connection as it goes back to the pool and drops it
        // when that fails, so a connection in use when the server went
        // away is dropped after its one failed statement; one idle through
        // a restart is found here before it is handed out. A ping on every
        // use was one more round trip to the server per statement
        // (`ops/pg-restart-drill.py` checks the recovery).
        opts.test_before_acquire_if_idle_for(PG_PING_IF_IDLE_FOR);
    }
    opts.map_sqlx_sqlite_opts(move |o| {
        // WAL + synchronous=FULL: a committed case is on disk before
        // the client hears about it, even across a power cut (NORMAL only
        // inside `Db::begin_write_relaxed`).
        o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .create_if_missing(true)
            // Checkpoints run beside the writers, not inside the
            // commit that happens to cross the WAL's size limit
            // (`wal::run_checkpointer`), which also keeps it bounded.
            .pragma("wal_autocheckpoint", "0")
            .pragma("journal_size_limit", wal::JOURNAL_SIZE_LIMIT.to_string())
            // Reads through a memory map and a page cache per
            // connection (`[database] sqlite_*`; README, Performance:
            // "Memory").
            .pragma("mmap_size", mmap.clone())
            .pragma("cache_size", cache.clone())
            // A statement that writes many rows (an intake batch's
            // multi-row inserts) keeps a statement journal, to undo
            // itself alone on a constraint error; past 64 KiB SQLite
            // spills it to a temporary file, a file opened, written and
            // deleted inside the writer's turn. In memory it stays.
            .pragma("temp_store", "memory")
    });
    opts
}
