//! Connection set-up, the write-transaction wrapper and error mapping.
//!
//! SQLite allows one writer at a time; two deferred transactions that both
//! try to upgrade fail with `SQLITE_BUSY` instead of waiting. So on SQLite
//! every write transaction first takes an in-process async lock
//! ([`Db::begin_write`]): writers queue in memory instead of failing, and
//! readers run freely beside them (WAL). On PostgreSQL the lock is absent.
pub mod bulk;
pub mod entities;
pub mod health;
pub mod keyset;
mod options;
mod relaxed;
pub mod wal;
pub mod writer_thread;

use std::{sync::Arc, time::Duration};

use sea_orm::{
    ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::config::Settings;
use options::{options, Pool};

#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    /// Serialises writers on SQLite; `None` on PostgreSQL.
    write_lock: Option<Arc<Mutex<()>>>,
    /// On SQLite, the one connection every write transaction uses (a pool
    /// of one). Writers take turns anyway; on one connection they find its
    /// prepared statements and its page cache warm, where a pooled
    /// connection that last wrote many transactions ago had to prepare
    /// again and, the database having changed, start its cache over.
    writer: Option<DatabaseConnection>,
    /// On SQLite, set while the writer's connection may be at
    /// `synchronous=NORMAL` ([`Db::begin_write_relaxed`]): the next
    /// durable write sets it back to FULL first.
    writer_relaxed: Arc<std::sync::atomic::AtomicBool>,
    /// The database file on SQLite (its WAL is this path + `-wal`).
    sqlite_file: Option<std::path::PathBuf>,
    /// Kept current by `health::run`: writes fail fast while it is down.
    health: Arc<health::Health>,
    /// The health check's own connection (a pool of one): a pool busy
    /// with requests must not read as a database that is down.
    pinger: DatabaseConnection,
    pub url: String,
    /// Where the work that holds the write lock for many statements runs.
    pub writer_thread: Arc<writer_thread::WriterThread>,
    /// On PostgreSQL, how the writers' thread opens its own connection
    /// ([`Db::begin_write_on_thread`]).
    thread_options: Option<sea_orm::ConnectOptions>,
}

/// A write transaction; dropping it without [`WriteTxn::commit`] rolls back.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
    /// A relaxed transaction on SQLite: the writer's connection, set back
    /// to `synchronous=FULL` after the commit, before the lock is let go.
    relaxed: Option<(DatabaseConnection, Arc<std::sync::atomic::AtomicBool>)>,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        if let Some((writer, flag)) = self.relaxed {
            // Committed either way: a failure here leaves the flag set,
            // and the next durable write raises the level first.
            if let Err(e) = relaxed::synchronous(&writer, &flag, "FULL", false).await {
                tracing::warn!(error = %e, "synchronous=FULL not restored after a relaxed commit; the next write restores it");
            }
        }
        Ok(())
    }
}

/// A new row id for the tables that grow with every call and case (cases,
/// calls, case events, deadlines, escalations, mail, audit): UUID version
/// 7, which begins with its creation time in milliseconds, so that rows
/// written together sit together in every index keyed by id. With random
/// (version 4) ids each intake batch dirtied a page of each such index
/// per row, and SQLite wrote every dirty page to the WAL at commit. The
/// remaining 74 bits are random: ids stay unguessable, and every read is
/// checked for scope anyway. An id reveals when its row was created,
/// which every such row records in the clear beside it.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// On PostgreSQL, a notice on `channel` carrying `payload`, sent inside
/// the transaction `conn` is in: delivered to every listening process when,
/// and only if, that transaction commits. SQLite has no other server
/// process to tell; a no-op there.
pub async fn notify_with_commit(
    conn: &impl ConnectionTrait,
    channel: &str,
    payload: &str,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            "SELECT pg_notify($1, $2)",
            [channel.into(), payload.into()],
        ))
        .await?;
    }
    Ok(())
}

impl Db {
    pub async fn connect(settings: &Settings) -> Result<Db, DbErr> {
        let url = settings.database_url();
        if url.starts_with("sqlite:") {
            if let Err(e) = std::fs::create_dir_all(&settings.data_dir) {
                return Err(DbErr::Custom(format!(
                    "cannot create data directory {}: {e}",
                    settings.data_dir.display()
                )));
            }
        }
        let d = &settings.database;
        let pool = Pool {
            max: d.max_connections,
            min: d.min_connections,
            cache_mib: d.sqlite_cache_mib,
        };
        let conn = Database::connect(options(settings, &url, pool)).await?;
        let one = |cache_mib| Pool {
            max: 1,
            min: 1,
            cache_mib,
        };
        let postgres = conn.get_database_backend() == DatabaseBackend::Postgres;
        let thread_options = postgres.then(|| options(settings, &url, one(1)));
        let (write_lock, writer) = match conn.get_database_backend() {
            DatabaseBackend::Sqlite => {
                let writer = options(settings, &url, one(d.sqlite_writer_cache_mib));
                (
                    Some(Arc::new(Mutex::new(()))),
                    Some(Database::connect(writer).await?),
                )
            }
            _ => (None, None),
        };
        let sqlite_file = wal::database_file(&conn).await?;
        let pinger = Database::connect(options(settings, &url, one(1))).await?;
        Ok(Db {
            conn,
            write_lock,
            writer,
            writer_relaxed: Arc::default(),
            sqlite_file,
            health: Arc::default(),
            pinger,
            url,
            writer_thread: Arc::default(),
            thread_options,
        })
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DatabaseBackend::Postgres
    }

    /// The health check's connection, apart from the pool.
    pub(crate) fn pinger(&self) -> &DatabaseConnection {
        &self.pinger
    }

    /// The shared health flag (`health::run` keeps it current).
    pub fn health(&self) -> &Arc<health::Health> {
        &self.health
    }

    /// A write transaction; fails at once while the health check finds
    /// the database down (503 to the client, nothing saved).
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        let asked = std::time::Instant::now();
        let guard = self.writers_turn().await?;
        let locked = std::time::Instant::now();
        let writer = self.writer.as_ref().unwrap_or(&self.conn);
        if self
            .writer_relaxed
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            relaxed::synchronous(writer, &self.writer_relaxed, "FULL", false).await?;
        }
        let txn = writer.begin().await?;
        let step = |name: &'static str, secs: Duration| {
            metrics::histogram!("lianxin_db_begin_write_seconds", "step" => name)
                .record(secs.as_secs_f64());
        };
        step("lock", locked - asked);
        step("begin", locked.elapsed());
        Ok(WriteTxn {
            txn,
            _guard: guard,
            relaxed: None,
        })
    }

    /// A write transaction for work running on the writers' thread
    /// ([`writer_thread`]): on PostgreSQL on the thread's own connection,
    /// opened there the first time; on SQLite as [`Db::begin_write`].
    pub async fn begin_write_on_thread(&self) -> Result<WriteTxn, DbErr> {
        let Some(options) = &self.thread_options else {
            return self.begin_write().await;
        };
        let guard = self.writers_turn().await?;
        let conn = self.writer_thread.connection(options).await?;
        Ok(WriteTxn {
            txn: conn.begin().await?,
            _guard: guard,
            relaxed: None,
        })
    }

    /// Fails at once while the database is down; on SQLite, waits for the
    /// write lock.
    pub(super) async fn writers_turn(&self) -> Result<Option<OwnedMutexGuard<()>>, DbErr> {
        if !self.health.is_up() {
            return Err(health::unavailable());
        }
        Ok(match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        })
    }

    pub async fn migrate(&self) -> Result<(), DbErr> {
        use migration::MigratorTrait;
        migration::Migrator::up(&self.conn, None).await
    }

    /// A ping bounded by `health::PING_TIMEOUT`; fails at once while the
    /// health check finds the database down.
    pub async fn ping(&self) -> Result<(), DbErr> {
        if !self.health.is_up() {
            return Err(health::unavailable());
        }
        health::ping_once(self).await
    }
}

pub use wal::{run_checkpointer, CHECKPOINT_INTERVAL};

/// True when the error is a unique-constraint violation.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `PRAGMA synchronous` where `conn` runs: 2 FULL, 1 NORMAL.
    async fn sync_level(conn: &impl ConnectionTrait) -> Result<i64, DbErr> {
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA synchronous",
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("no answer".into()))?;
        row.try_get_by_index(0)
    }

    #[tokio::test]
    async fn only_a_relaxed_transaction_commits_without_a_sync() -> Result<(), DbErr> {
        let dir = std::env::temp_dir().join(format!("lianxin-db-test-{}", uuid::Uuid::new_v4()));
        let settings = Settings {
            data_dir: dir.clone(),
            ..Settings::default()
        };
        let db = Db::connect(&settings).await?;
        db.conn
            .execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await?;
        let mut levels = vec![sync_level(&db.conn).await?];
        let txn = db.begin_write().await?;
        levels.push(sync_level(&*txn).await?);
        txn.commit().await?;
        let txn = db.begin_write_relaxed().await?;
        levels.push(sync_level(&*txn).await?);
        txn.execute_unprepared("INSERT INTO t VALUES (7)").await?;
        txn.commit().await?;
        let txn = db.begin_write().await?;
        levels.push(sync_level(&*txn).await?);
        txn.commit().await?;
        // A relaxed transaction given up without its commit: the next
        // durable write still syncs.
        let txn = db.begin_write_relaxed().await?;
        levels.push(sync_level(&*txn).await?);
        drop(txn);
        let txn = db.begin_write().await?;
        levels.push(sync_level(&*txn).await?);
        txn.commit().await?;
        let seen = db
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT v FROM t",
            ))
            .await?
            .map(|r| r.try_get_by_index::<i64>(0))
            .transpose()?;
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            levels,
            [2, 2, 1, 2, 1, 2],
            "FULL for the readers and every write but the relaxed ones"
        );
        assert_eq!(seen, Some(7), "the relaxed commit is seen by readers");
        Ok(())
    }
}
