//! Outlets for the benchmarks, as production has them: an SMTP relay and
//! an HTTP text-message gateway on loopback that accept everything and
//! count what they got. With them the server's senders do a production
//! sender's work (lettre's pooled SMTP sessions, a POST per text) instead
//! of writing `.eml` and `.txt` files beside the database, where every new
//! file's inode went into the journal the database's next commit synced.
//!
//! Both speak only as much of their protocol as the server's clients use
//! (lettre: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; reqwest: HTTP/1.1
//! POST with `Content-Length`, keep-alive). They run on the bench's own
//! runtime, so their CPU is counted on this machine like the client's.
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex,
};

use anyhow::Result;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// A running sink: where it listens, how many messages it accepted and,
/// when it keeps them, what they were.
#[derive(Clone)]
pub struct Sink {
    pub addr: std::net::SocketAddr,
    state: Arc<State>,
}

/// What a sink's sessions share.
#[derive(Default)]
struct State {
    received: AtomicU64,
    /// The gateway's answer to its first request, when not 200 (later
    /// ones get 200).
    first_status: Option<u16>,
    /// Every request (head, empty line, body), when kept.
    kept: Option<Mutex<Vec<String>>>,
}

impl Sink {
    pub fn received(&self) -> u64 {
        self.state.received.load(Ordering::Relaxed)
    }

    /// The requests a keeping sink got, in order (empty when it keeps none).
    pub fn requests(&self) -> Vec<String> {
        match &self.state.kept {
            Some(kept) => kept.lock().map(|k| k.clone()).unwrap_or_default(),
            None => Vec::new(),
        }
    }
}

/// Serve `session` on every connection to a new loopback port.
async fn serve<F, Fut>(state: State, session: F) -> Result<Sink>
where
    F: Fn(TcpStream, Arc<State>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let sink = Sink {
        addr: listener.local_addr()?,
        state: Arc::new(state),
    };
    let state = sink.state.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(session(stream, state.clone()));
        }
    });
    Ok(sink)
}

/// An SMTP relay that accepts every message (`smtp://ADDR`).
pub async fn smtp() -> Result<Sink> {
    serve(State::default(), smtp_session).await
}

async fn smtp_session(stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 bench sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-bench sink\r\n250 8BITMIME\r\n",
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
            "DATA" => {
                write.write_all(b"354 end with .\r\n").await?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                }
                state.received.fetch_add(1, Ordering::Relaxed);
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not here\r\n",
        };
        write.write_all(answer).await?;
    }
}

/// An HTTP gateway that answers 200 to every POST (`http://ADDR/sms`)
/// and counts them.
pub async fn gateway() -> Result<Sink> {
    serve(State::default(), http_session).await
}

/// An HTTP gateway that answers its first request with `first_status`
/// (an outage, say), the rest with 200, and keeps every request.
pub async fn keeping_gateway(first_status: u16) -> Result<Sink> {
    serve(
        State {
            first_status: Some(first_status),
            kept: Some(Mutex::default()),
            ..State::default()
        },
        http_session,
    )
    .await
}

async fn http_session(stream: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = String::new();
    loop {
        // The request line and headers, up to the empty line.
        let mut length = 0usize;
        let mut head = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if line == "\r\n" || line == "\n" {
                if head.is_empty() {
                    continue;
                }
                break;
            }
            head.push_str(&line);
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        lines.read_exact(&mut body).await?;
        if let Some(kept) = &state.kept {
            let request = format!("{head}\r\n{}", String::from_utf8_lossy(&body));
            if let Ok(mut kept) = kept.lock() {
                kept.push(request);
            }
        }
        let status = match state.received.fetch_add(1, Ordering::Relaxed) {
            0 => state.first_status.unwrap_or(200),
            _ => 200,
        };
        let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
        write.write_all(answer.as_bytes()).await?;
    }
}
