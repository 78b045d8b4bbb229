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
    Arc,
};

use anyhow::Result;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// A running sink: where it listens and how many messages it accepted.
#[derive(Clone)]
pub struct Sink {
    pub addr: std::net::SocketAddr,
    received: Arc<AtomicU64>,
}

impl Sink {
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// Serve `session` on every connection to a new loopback port.
async fn serve<F, Fut>(session: F) -> Result<Sink>
where
    F: Fn(TcpStream, Arc<AtomicU64>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let sink = Sink {
        addr: listener.local_addr()?,
        received: Arc::default(),
    };
    let received = sink.received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(session(stream, received.clone()));
        }
    });
    Ok(sink)
}

/// An SMTP relay that accepts every message (`smtp://ADDR`).
pub async fn smtp() -> Result<Sink> {
    serve(smtp_session).await
}

async fn smtp_session(stream: TcpStream, received: Arc<AtomicU64>) -> std::io::Result<()> {
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
                received.fetch_add(1, Ordering::Relaxed);
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

/// An HTTP gateway that answers 200 to every POST (`http://ADDR/sms`).
pub async fn gateway() -> Result<Sink> {
    serve(http_session).await
}

async fn http_session(stream: TcpStream, received: Arc<AtomicU64>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = String::new();
    loop {
        // The request line and headers, up to the empty line.
        let mut length = 0usize;
        let mut first = true;
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            if line == "\r\n" || line == "\n" {
                if first {
                    continue;
                }
                break;
            }
            first = false;
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        lines.read_exact(&mut body).await?;
        received.fetch_add(1, Ordering::Relaxed);
        write
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await?;
    }
}
