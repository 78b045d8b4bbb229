//! The HTTP/1.1 accept loop (instead of `axum::serve`, which has no knobs):
//!
//! - **Header timeout:** a client has `server.header_timeout_s` to send a
//!   request's headers. hyper starts that timer whenever it waits for a
//!   request, so it is also the idle timeout of a keep-alive connection.
//!   Without it a client could hold a connection (and its memory) forever
//!   by sending half a request line.
//! - **Connections per address:** at most `server.max_connections_per_address`
//!   open connections (live feeds included) from one peer address; more
//!   are answered 503 and closed. Peers listed in `auth.trusted_proxies`
//!   (nginx, which carries everybody's connections) are exempt.
//! - The peer address reaches handlers as `ConnectInfo<SocketAddr>`.
//! - Graceful shutdown: stop accepting, let each connection finish its
//!   request, then return once every connection task has ended.
use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Request},
    Router,
};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{io::AsyncWriteExt, net::TcpListener, sync::watch};
use tower::ServiceExt;

use crate::shutdown::Shutdown;

#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    /// 0: no limit.
    pub max_per_address: usize,
    /// Peers the limit does not apply to.
    pub exempt: Vec<IpAddr>,
}

#[derive(Default, Clone)]
struct Counts(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One open connection of an address; dropping it frees the place. Also in
/// each request's extensions, so that a live feed holds it after the
/// upgrade (the HTTP connection task ends there).
#[derive(Clone)]
pub struct ConnSlot(#[allow(dead_code)] Arc<Slot>);

pub struct Slot {
    counts: Counts,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.counts.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl Counts {
    fn take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = map.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            counts: self.clone(),
            ip,
        })
    }
}

const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
connection: close\r\nretry-after: 5\r\ncontent-length: 96\r\n\r\n\
{\"error\":{\"code\":\"too_many_connections\",\"message\":\"too many connections from your address\"}}\n";

pub async fn serve(listener: TcpListener, router: Router, limits: Limits, mut shutdown: Shutdown) {
    let counts = Counts::default();
    let (close_tx, close_rx) = watch::channel(());
    loop {
        let (mut stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.wait() => break,
        };
        let slot = if limits.max_per_address == 0 || limits.exempt.contains(&peer.ip()) {
            None
        } else {
            match counts.take(peer.ip(), limits.max_per_address) {
                Some(s) => Some(ConnSlot(Arc::new(s))),
                None => {
                    metrics::counter!("lianxin_connections_refused_total").increment(1);
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(1), async {
                            let _ = stream.write_all(REFUSED).await;
                            let _ = stream.shutdown().await;
                        })
                        .await;
                    });
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let conn_slot = slot.clone();
        let service = router.clone().map_request(move |req: Request<Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            if let Some(s) = &conn_slot {
                req.extensions_mut().insert(s.clone());
            }
            req
        });
        let service = TowerToHyperService::new(service);
        let mut stop = shutdown.clone();
        let close_rx = close_rx.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.wait() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(close_rx);
        });
    }
    drop(close_rx);
    drop(listener);
    close_tx.closed().await;
}
