//! The live feed hub: one pump per process reads newly committed events from
//! the shared log and fans them out, pre-encoded, to the bounded queue of
//! every connection whose scope sees them.
//!
//! **Boundary:** the hub holds no authoritative state. It learns of commits
//! by a local wake (same process), PostgreSQL `NOTIFY lianxin_feed` (other
//! processes) or a fallback poll, and always reads the log itself. Before
//! it fans an event out it drops the event's case from the case cache
//! (`events::CaseCache`), so a client that reloads a case on hearing its
//! event reads the change.
//!
//! **Invariant (replay/live boundary):** a connection registers and reads
//! the hub's head under the same lock the pump holds while fanning out, so
//! every event is either at or below that head (the connection replays it
//! from the database) or above it (the pump queues it) — never both, never
//! neither.
pub mod wire;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use tokio::sync::{mpsc, Notify};
use uuid::Uuid;

use crate::{
    auth::{self, Principal, SessionCache},
    cases::directory::{self, Directory},
    db::Db,
    events,
    events::CaseEvent,
    shutdown::Shutdown,
    vocab::Role,
};

pub use crate::cases::scope::FeedScope;

/// A frame for one connection. Event frames are encoded once and shared.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Event { seq: i64, text: Arc<str> },
    Ringing(Arc<str>),
}

struct Client {
    scope: FeedScope,
    user_id: Uuid,
    role: Role,
    tx: mpsc::Sender<Outgoing>,
}

struct Registry {
    clients: HashMap<u64, Client>,
    /// Highest seq fanned out (or known at start).
    head: i64,
}

struct HubInner {
    registry: Mutex<Registry>,
    wake: Arc<Notify>,
    next_id: AtomicU64,
    connections: AtomicI64,
    capacity: usize,
    /// The cases held for the case page: dropped when their events are
    /// read, before a client hears of them.
    cases: Arc<dyn events::Forget>,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

/// Held by a connection; unregisters it when dropped.
pub struct Subscription {
    pub id: u64,
    pub head: i64,
    pub rx: mpsc::Receiver<Outgoing>,
    hub: Hub,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(self.id);
    }
}

impl Hub {
    /// Woken by `signals.feed` (commits notify it); drops cases from
    /// `signals.cases`.
    pub fn new(head: i64, capacity: usize, signals: &crate::work::Signals) -> Hub {
        Hub {
            inner: Arc::new(HubInner {
                registry: Mutex::new(Registry {
                    clients: HashMap::new(),
                    head,
                }),
                wake: signals.feed.clone(),
                next_id: AtomicU64::new(1),
                connections: AtomicI64::new(0),
                capacity,
                cases: signals.cases.clone(),
            }),
        }
    }

    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    pub fn connections(&self) -> i64 {
        self.inner.connections.load(Ordering::Relaxed)
    }

    pub fn subscribe(&self, p: &Principal) -> Subscription {
        let (tx, rx) = mpsc::channel(self.inner.capacity);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let head = match self.inner.registry.lock() {
            Ok(mut reg) => {
                reg.clients.insert(
                    id,
                    Client {
                        scope: FeedScope::of(p),
                        user_id: p.user_id,
                        role: p.role,
                        tx,
                    },
                );
                reg.head
            }
            Err(_) => 0,
        };
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("lianxin_live_connections").increment(1.0);
        Subscription {
            id,
            head,
            rx,
            hub: self.clone(),
        }
    }

    fn remove(&self, id: u64) {
        if let Ok(mut reg) = self.inner.registry.lock() {
            if reg.clients.remove(&id).is_some() {
                self.inner.connections.fetch_sub(1, Ordering::Relaxed);
                metrics::gauge!("lianxin_live_connections").decrement(1.0);
            }
        }
    }

    /// Queue `events` (in seq order, all above the current head) to every
    /// client that sees them. A client whose queue is full is dropped from
    /// the registry; its connection notices the closed queue and closes
    /// with `TOO_SLOW`.
    pub fn fan_out(&self, events: &[CaseEvent]) {
        let Ok(mut reg) = self.inner.registry.lock() else {
            return;
        };
        let mut dropped = Vec::new();
        for e in events {
            if e.seq <= reg.head {
                continue;
            }
            let text: Arc<str> = Arc::from(wire::event_frame(e));
            for (id, client) in reg.clients.iter() {
                if client.scope.sees(e)
                    && client
                        .tx
                        .try_send(Outgoing::Event {
                            seq: e.seq,
                            text: text.clone(),
                        })
                        .is_err()
                {
                    dropped.push(*id);
                }
            }
            reg.head = e.seq;
        }
        for id in dropped {
            if reg.clients.remove(&id).is_some() {
                self.inner.connections.fetch_sub(1, Ordering::Relaxed);
                metrics::gauge!("lianxin_live_connections").decrement(1.0);
                metrics::counter!("lianxin_live_slow_client_drops_total").increment(1);
            }
        }
    }

    /// Push a screen pop to one operator (by user id) or to every connected
    /// operator. Returns how many connections got it.
    pub fn push_ringing(&self, to: Option<Uuid>, text: String) -> usize {
        let text: Arc<str> = Arc::from(text);
        let Ok(reg) = self.inner.registry.lock() else {
            return 0;
        };
        let mut n = 0;
        for client in reg.clients.values() {
            let addressed = match to {
                Some(u) => client.user_id == u,
                None => client.role == Role::Operator,
            };
            if addressed && client.tx.try_send(Outgoing::Ringing(text.clone())).is_ok() {
                n += 1;
            }
        }
        n
    }

    fn head(&self) -> i64 {
        self.inner.registry.lock().map(|r| r.head).unwrap_or(0)
    }

    /// The pump: read what was committed after the head and fan it out.
    pub async fn run_pump(self, db: Db, poll: Duration, mut shutdown: Shutdown) {
        loop {
            match self.pump_once(&db).await {
                Ok(more) if more => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "live feed pump could not read the log"),
            }
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.wait() => return,
            }
        }
    }

    /// Returns true when a full batch was read (there may be more).
    async fn pump_once(&self, db: &Db) -> Result<bool, sea_orm::DbErr> {
        const BATCH: u64 = 1000;
        let events = events::read_after(&db.conn, self.head(), BATCH).await?;
        let full = events.len() as u64 == BATCH;
        for e in &events {
            self.inner.cases.heard(e.case_id, e.seq);
        }
        if !events.is_empty() {
            self.fan_out(&events);
        }
        Ok(full)
    }
}

/// On PostgreSQL: wake the hub whenever any process commits events, and
/// reload intake's directory whenever one changes units or routing rules,
/// and forget cached sessions whenever one changes a session, user or unit.
pub async fn listen_postgres(
    db: Db,
    hub: Hub,
    directory: Arc<Directory>,
    sessions: Arc<SessionCache>,
    node_id: Arc<str>,
    mut shutdown: Shutdown,
) {
    loop {
        let pool = db.conn.get_postgres_connection_pool().clone();
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener
                    .listen_all([
                        events::NOTIFY_CHANNEL,
                        directory::NOTIFY_CHANNEL,
                        auth::cache::NOTIFY_CHANNEL,
                    ])
                    .await
                {
                    tracing::warn!(error = %e, "LISTEN failed");
                } else {
                    // Whatever was committed before LISTEN took effect
                    // (at start, or while the connection was down) sent
                    // its NOTIFY to nobody: read it now, not at the next poll.
                    hub.wake();
                    directory.invalidate();
                    sessions.invalidate();
                    loop {
                        tokio::select! {
                            n = listener.recv() => match n {
                                Ok(n) if n.channel() == directory::NOTIFY_CHANNEL => {
                                    directory.invalidate()
                                }
                                Ok(n) if n.channel() == auth::cache::NOTIFY_CHANNEL => {
                                    sessions.invalidate_for(auth::cache::Change::parse(n.payload()))
                                }
                                // This process's own commits woke its hub.
                                Ok(n) if n.payload() == &*node_id => {}
                                Ok(_) => hub.wake(),
                                Err(e) => {
                                    tracing::warn!(error = %e, "LISTEN connection lost; polling until it is back");
                                    break;
                                }
                            },
                            _ = shutdown.wait() => return,
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot open LISTEN connection"),
        }
        hub.wake();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.wait() => return,
        }
    }
}
