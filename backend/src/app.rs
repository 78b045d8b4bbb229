//! Wiring: build the state, bind the listener, start the background tasks,
//! serve until the shutdown signal, then wait for the tasks to stop.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    clock::SharedClock,
    config::Settings,
    db::Db,
    events, http,
    realtime::{self, Hub},
    shutdown::{self, Shutdown, ShutdownTrigger},
    state::AppState,
    telemetry::Metrics,
    work::Signals,
};

pub struct App {
    pub state: AppState,
    listener: TcpListener,
    trigger: ShutdownTrigger,
    shutdown: Shutdown,
}

/// A running app (tests hold this to stop it).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    trigger: ShutdownTrigger,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stop and wait until every task has finished.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.trigger.trigger();
        self.handle.await?
    }

    /// Stop without waiting for open connections (a crash, as far as the
    /// clients can tell).
    pub fn abort(self) {
        self.trigger.trigger();
        self.handle.abort();
    }
}

impl App {
    /// Connect, migrate and bind. Nothing runs until [`App::run`].
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<App> {
        let db = Db::connect(&settings).await?;
        db.migrate().await?;
        {
            let txn = db.begin_write().await?;
            crate::calendar::store::ensure_shipped(&*txn, clock.now()).await?;
            txn.commit().await?;
        }
        let office = crate::calendar::parse_office_hours(&settings.calendar.office_hours)
            .unwrap_or(crate::calendar::OFFICE_DEFAULT);
        let head = events::head(&db.conn).await?;
        let cases = Arc::new(events::CaseCache::new(events::CASE_CACHE_CASES));
        let signals = Signals::new(cases.clone());
        let hub = Hub::new(head, settings.live.queue_capacity, &signals);
        let listener = TcpListener::bind(&settings.listen).await?;
        let (trigger, shutdown) = shutdown::channel();
        let node_id: Arc<str> = Arc::from(format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().to_string()[..8]
        ));
        let hash_gate = Arc::new(crate::auth::password::HashGate::new(
            settings.auth.max_concurrent_hashes,
            Duration::from_millis(settings.auth.hash_wait_ms),
        ));
        let state = AppState::from(crate::state::Inner {
            hash_gate,
            settings: Arc::new(settings),
            db,
            clock,
            hub,
            metrics: Metrics::install(),
            deadline_wake: signals.deadlines.clone(),
            deadline_plan: signals.plan.clone(),
            mail_wake: signals.mail.clone(),
            signals,
            node_id,
            shutdown: shutdown.clone(),
            intake: Arc::default(),
            directory: Arc::default(),
            sessions: Arc::default(),
            calendar: Arc::new(crate::calendar::store::Shared::new(office)),
            timelines: crate::events::TimelineCache::new(crate::events::TIMELINE_CACHE_EVENTS),
            cases,
        });
        Ok(App {
            state,
            listener,
            trigger,
            shutdown,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Run in the background; for tests and embedding.
    pub fn spawn(self) -> anyhow::Result<Running> {
        let addr = self.local_addr()?;
        let state = self.state.clone();
        let trigger = ShutdownTrigger::clone_of(&self.trigger);
        let handle = tokio::spawn(self.run());
        Ok(Running {
            addr,
            state,
            trigger,
            handle,
        })
    }

    /// Serve until SIGTERM/Ctrl-C (see `main`) or the trigger fires.
    pub async fn run(self) -> anyhow::Result<()> {
        let App {
            state,
            listener,
            trigger,
            shutdown,
        } = self;
        let tasks = start_background(&state, &shutdown);
        let router = http::router(state.clone());
        tracing::info!(addr = %listener.local_addr()?, node = %state.node_id, "lianxin listening");
        let limits = crate::server::Limits {
            header_timeout: Duration::from_secs(state.settings.server.header_timeout_s.max(1)),
            max_per_address: state.settings.server.max_connections_per_address,
            exempt: state
                .settings
                .auth
                .trusted_proxies
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect(),
        };
        crate::server::serve(listener, router, limits, shutdown.clone()).await;
        trigger.trigger();
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        Ok(())
    }
}

fn start_background(state: &AppState, shutdown: &Shutdown) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    let poll = Duration::from_millis(state.settings.live.poll_interval_ms.max(10));
    tasks.push(tokio::spawn(state.hub.clone().run_pump(
        state.db.clone(),
        poll,
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(crate::notify::sender::run(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(crate::notify::sms_sender::run(
        state.clone(),
        shutdown.clone(),
    )));
    tasks.extend(crate::scheduler::start(state, shutdown));
    tasks.push(tokio::spawn(crate::db::health::run(
        state.db.clone(),
        state.db.health().clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(crate::reports::run_folder(
        state.db.clone(),
        shutdown.clone(),
    )));
    tasks.push(tokio::spawn(crate::db::run_checkpointer(
        state.db.clone(),
        shutdown.clone(),
    )));
    if state.db.is_postgres() {
        tasks.push(tokio::spawn(realtime::listen_postgres(
            state.db.clone(),
            state.hub.clone(),
            state.directory.clone(),
            state.sessions.clone(),
            state.node_id.clone(),
            shutdown.clone(),
        )));
    }
    tasks
}
