//! Writes whose commit does not wait for the disk
//! ([`Db::begin_write_relaxed`]), and the senders' batches of them.
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use sea_orm::{
    sea_query::UpdateStatement, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryTrait, TransactionTrait,
};
use uuid::Uuid;

use super::{Db, WriteTxn};

impl Db {
    /// A write transaction whose commit does not wait for the disk: for
    /// the record that someone looked (the screen pop's `caller.lookup`
    /// audit row), written on every ringing call, where the fsync was most
    /// of the answer's time and its p99 followed the disk's; and the
    /// senders' claims and delivery records ([`Db::update_all`]). Nothing a
    /// user writes, and nothing a user is told is saved, goes through it.
    ///
    /// What a power cut or an operating-system crash may lose: on SQLite
    /// (WAL, `synchronous=NORMAL` for this transaction) the rows written
    /// since the last synced commit — the next intake batch or checkpoint
    /// syncs them, since the log is one file; a crash of the process alone
    /// loses nothing. On PostgreSQL (`SET LOCAL synchronous_commit = off`)
    /// at most three `wal_writer_delay`s (600 ms by default) of them, also
    /// on a crash of the database server. Either way the database stays
    /// consistent.
    ///
    /// On SQLite it runs on the writer's own connection, lowered to
    /// NORMAL and raised to FULL again after the commit (or, when that
    /// did not happen, before the next durable write begins). A second
    /// connection for it cost every intake batch after one of its commits
    /// the writer's whole page cache: SQLite drops a connection's cache
    /// when another connection has written.
    pub async fn begin_write_relaxed(&self) -> Result<WriteTxn, DbErr> {
        let Some(writer) = &self.writer else {
            let txn = self.begin_write().await?;
            if self.is_postgres() {
                txn.execute_unprepared("SET LOCAL synchronous_commit = off")
                    .await?;
            }
            return Ok(txn);
        };
        let guard = self.writers_turn().await?;
        synchronous(writer, &self.writer_relaxed, "NORMAL", true).await?;
        Ok(WriteTxn {
            txn: writer.begin().await?,
            _guard: guard,
            relaxed: Some((writer.clone(), self.writer_relaxed.clone())),
        })
    }

    /// `updates` in one write transaction, one commit that does not wait
    /// for the disk ([`Db::begin_write_relaxed`]): the rows each changed,
    /// in order. For the senders' claims and delivery records, which took
    /// a commit (and, on SQLite, the writer) per message, then a synced
    /// commit per pass. Such a commit is seen by every other writer and
    /// process at once; what a power cut may lose of it is a claim or a
    /// "sent" mark, and then a message goes twice (with the same
    /// Message-ID), never not at all — as after a crash between sending
    /// and recording, which the senders accept anyway.
    ///
    /// On SQLite the transaction runs on the writers' own thread
    /// ([`super::writer_thread`]): a pass's delivery records are a
    /// statement a message, and on the server's busy runtime the lock was
    /// held between them for as long as each reply waited its turn, while
    /// intake waited for the lock.
    pub async fn update_all<E: EntityTrait>(
        &self,
        updates: Vec<sea_orm::UpdateMany<E>>,
    ) -> Result<Vec<u64>, DbErr> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.clone();
        let work = async move {
            let txn = db.begin_write_relaxed().await?;
            let mut changed = Vec::with_capacity(updates.len());
            for update in updates {
                changed.push(update.exec(&*txn).await?.rows_affected);
            }
            txn.commit().await?;
            Ok(changed)
        };
        self.on_writers_thread(work).await
    }

    /// `update` (an `UPDATE … WHERE id IN …` that claims rows) in one
    /// relaxed write transaction, as [`Db::update_all`]: the ids of the rows
    /// it changed. One statement for a pass's claims, where a statement a
    /// row held the writer for a round trip each.
    pub async fn update_returning_ids<E: EntityTrait>(
        &self,
        update: sea_orm::UpdateMany<E>,
        id: E::Column,
    ) -> Result<Vec<Uuid>, DbErr> {
        let mut stmt: UpdateStatement = update.into_query();
        stmt.returning_col(id);
        let db = self.clone();
        let work = async move {
            let txn = db.begin_write_relaxed().await?;
            let built = txn.get_database_backend().build(&stmt);
            let rows = txn.query_all_raw(built).await?;
            let ids = rows
                .iter()
                .map(|r| r.try_get_by_index::<Uuid>(0))
                .collect::<Result<Vec<_>, _>>()?;
            txn.commit().await?;
            Ok(ids)
        };
        self.on_writers_thread(work).await
    }

    /// `work` on the writers' thread on SQLite; on PostgreSQL where it is
    /// (its relaxed commits take no process-wide lock).
    async fn on_writers_thread<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = Result<T, DbErr>> + Send + 'static,
    ) -> Result<T, DbErr> {
        if self.is_postgres() {
            work.await
        } else {
            self.writer_thread.run(work).await
        }
    }
}

/// Set the writer connection's `synchronous` level and, once it is set,
/// the flag that says whether it may be below FULL (set before lowering,
/// cleared after raising: a failure between leaves it set).
pub(super) async fn synchronous(
    writer: &DatabaseConnection,
    flag: &AtomicBool,
    level: &str,
    relaxed: bool,
) -> Result<(), DbErr> {
    if relaxed {
        flag.store(true, SeqCst);
    }
    writer
        .execute_unprepared(&format!("PRAGMA synchronous = {level}"))
        .await?;
    if !relaxed {
        flag.store(false, SeqCst);
    }
    Ok(())
}
