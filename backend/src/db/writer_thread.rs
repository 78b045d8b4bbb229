//! The writers' own thread: a one-thread runtime for the work that holds
//! the write lock for many statements in a row — an intake batch, the
//! senders' claims and delivery records. Each statement is a round trip
//! (to SQLite's worker thread, or to the PostgreSQL server); on the
//! server's runtime every reply waited its turn behind the requests that
//! runtime was serving, while the lock was held. Here each reply wakes the
//! work at once. On PostgreSQL that work writes on a connection opened on
//! the thread ([`super::Db::begin_write_on_thread`]). Started by its first
//! use; it ends when the last clone of the [`Db`] is dropped.
//!
//! [`Db`]: super::Db
use std::{future::Future, sync::OnceLock};

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use tokio::{runtime::Handle, sync::oneshot, task::JoinHandle};

#[derive(Default)]
pub struct WriterThread {
    /// The runtime's handle, and the sender whose drop ends the thread;
    /// `None` when the thread could not be started.
    started: OnceLock<Option<(Handle, oneshot::Sender<()>)>>,
    connection: tokio::sync::OnceCell<DatabaseConnection>,
}

impl std::fmt::Debug for WriterThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let started = self.started.get().map(Option::is_some);
        f.debug_struct("WriterThread")
            .field("started", &started)
            .finish()
    }
}

impl WriterThread {
    /// The thread's runtime, started the first time; `None` when it could
    /// not be started.
    fn handle(&self) -> Option<Handle> {
        self.started
            .get_or_init(start)
            .as_ref()
            .map(|(h, _)| h.clone())
    }

    /// Start `work` on the thread (on the caller's runtime when there is
    /// none): a task of its own, which dropping the handle does not cancel.
    pub fn spawn<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> JoinHandle<T> {
        match self.handle() {
            Some(thread) => thread.spawn(work),
            None => tokio::spawn(work),
        }
    }

    /// Run `work` on the thread and wait for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, DbErr>> + Send + 'static,
    ) -> Result<T, DbErr> {
        self.spawn(work)
            .await
            .map_err(|e| DbErr::Custom(format!("the writer thread's task failed: {e}")))?
    }

    /// On PostgreSQL, the thread's own connection (a pool of one), opened
    /// the first time from `options`: opened on the thread, its socket is
    /// polled by the thread's runtime, and a reply wakes the work there
    /// without crossing threads.
    pub(super) async fn connection(
        &self,
        options: &ConnectOptions,
    ) -> Result<&DatabaseConnection, DbErr> {
        self.connection
            .get_or_try_init(|| Database::connect(options.clone()))
            .await
    }
}

fn start() -> Option<(Handle, oneshot::Sender<()>)> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "no writer thread; writing on the server's runtime");
            return None;
        }
    };
    let handle = runtime.handle().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let started = std::thread::Builder::new()
        .name("lianxin-writer".into())
        .spawn(move || {
            let _ = runtime.block_on(stopped);
        });
    match started {
        Ok(_) => Some((handle, stop)),
        Err(e) => {
            tracing::warn!(error = %e, "no writer thread; writing on the server's runtime");
            None
        }
    }
}
