//! A real SMTP server for tests: Python's `aiosmtpd` on a free loopback
//! port, storing what it receives in a Maildir that the test reads back
//! (parsed by Python's `email` package, so encoded subjects and bodies are
//! checked the way a mail client would decode them).
//!
//! The handler is aiosmtpd's `Mailbox` with one addition, so tests can
//! provoke the failures a real relay gives: a recipient whose local part
//! starts with `reject` gets `550` (permanent), one starting with `busy`
//! gets `451` (temporary), one starting with `slow` is accepted after half
//! a second (a relay that takes its time), one starting with `stall` after
//! three. Everything else is accepted and stored.
//!
//! Needs `python3` with `aiosmtpd` (`pip install aiosmtpd`; `.ci/run`
//! installs it). The process is killed when the [`SmtpServer`] is dropped.
//!
//! ```no_run
//! # async fn demo() {
//! let mut smtp = lianxin_tests::smtp::SmtpServer::start().await;
//! let url = smtp.url(); // smtp://127.0.0.1:PORT for settings.smtp.url
//! smtp.stop().await;    // an outage: connections are refused
//! smtp.start_again().await; // same port, same Maildir
//! let mails = smtp.wait_for(1, std::time::Duration::from_secs(10)).await;
//! # }
//! ```
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde::Deserialize;

const HANDLER: &str = r#"
import asyncio

from aiosmtpd.handlers import Mailbox


class Handler(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("busy"):
            return "451 4.3.0 try again later"
        if local.startswith("slow"):
            await asyncio.sleep(0.5)
        if local.startswith("stall"):
            await asyncio.sleep(3)
        envelope.rcpt_tos.append(address)
        return "250 OK"
"#;

const READER: &str = r#"
import email, email.policy, json, os, re, sys


def raw_subject(raw):
    m = re.search(rb"(?mi)^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", raw)
    return m.group(1).decode("ascii", "replace").strip() if m else ""


def arrival(name):
    # Maildir names are "<seconds>.M<microseconds>P<pid>Q<count>.<host>",
    # none of the numbers zero-padded: sorted as text, M95000 (0.095 s)
    # came after M120000 (0.12 s) of the same second, and Q10 before Q2.
    m = re.match(r"(\d+)\.M(\d+)P(\d+)Q(\d+)", name)
    return tuple(int(g) for g in m.groups()) if m else (float("inf"), name)


out = []
root = sys.argv[1]
for sub in ("new", "cur"):
    d = os.path.join(root, sub)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d), key=arrival):
        with open(os.path.join(d, name), "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        out.append({
            "file": name,
            "message_id": str(msg.get("Message-ID", "")),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "rcpt_tos": str(msg.get("X-RcptTo", "")),
            "subject": str(msg.get("Subject", "")),
            "raw_subject": raw_subject(raw),
            "content_type": str(msg.get("Content-Type", "")),
            "body": body.get_content() if body is not None else "",
        })
print(json.dumps(out))
"#;

/// A message as the SMTP server stored it, headers decoded.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    pub file: String,
    pub message_id: String,
    pub from: String,
    pub to: String,
    /// The envelope recipients aiosmtpd recorded.
    pub rcpt_tos: String,
    /// Decoded (UTF-8) subject.
    pub subject: String,
    /// The subject as it was on the wire (RFC 2047 encoded when not ASCII).
    pub raw_subject: String,
    pub content_type: String,
    /// Decoded text body.
    pub body: String,
}

pub struct SmtpServer {
    pub port: u16,
    /// The Maildir (`new/`, `cur/`, `tmp/`).
    pub maildir: PathBuf,
    /// Holds the handler module and the Maildir; removed on drop.
    root: PathBuf,
    child: Option<Child>,
}

/// Install aiosmtpd with pip once per test process when it is missing, so
/// `cargo test --workspace` works on a fresh machine that has Python.
fn ensure_aiosmtpd() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let present = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !present {
            let _ = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "aiosmtpd"])
                .status();
        }
    });
}

impl SmtpServer {
    /// Start on a free port. Panics (failing the test) if it cannot.
    pub async fn start() -> SmtpServer {
        ensure_aiosmtpd();
        let root =
            std::env::temp_dir().join(format!("lianxin-smtp-{}", uuid::Uuid::new_v4().simple()));
        let maildir = root.join("maildir");
        for sub in ["new", "cur", "tmp"] {
            let d = maildir.join(sub);
            std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {d:?}: {e}"));
        }
        std::fs::write(root.join("lianxin_smtp_handler.py"), HANDLER)
            .unwrap_or_else(|e| panic!("write the SMTP handler: {e}"));
        let mut server = SmtpServer {
            port: 0,
            maildir,
            root,
            child: None,
        };
        for _ in 0..5 {
            server.port = free_port();
            if server.spawn().await {
                return server;
            }
        }
        panic!("could not start aiosmtpd (is it installed? `pip install aiosmtpd`)");
    }

    /// `smtp://127.0.0.1:PORT`, for `settings.smtp.url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Kill the server (an outage: connections are refused until
    /// [`SmtpServer::start_again`]). Received mail stays in the Maildir.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && self.accepts().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Start again on the same port and Maildir.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the SMTP server is already running");
        for _ in 0..50 {
            if self.spawn().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("could not restart aiosmtpd on port {}", self.port);
    }

    /// Everything received so far, in file-name order.
    pub fn messages(&self) -> Vec<Received> {
        let out = Command::new("python3")
            .arg("-c")
            .arg(READER)
            .arg(&self.maildir)
            .output()
            .unwrap_or_else(|e| panic!("run python3 to read the Maildir: {e}"));
        assert!(
            out.status.success(),
            "reading the Maildir failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("parse the Maildir listing: {e}"))
    }

    /// How many messages have arrived (cheap: counts Maildir files).
    pub fn count(&self) -> usize {
        ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .count()
            })
            .sum()
    }

    /// Wait until at least `n` messages have arrived; returns them all.
    /// Panics after `timeout` with what did arrive.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        while self.count() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let got = self.messages();
        if got.len() < n {
            panic!(
                "expected {n} message(s) within {timeout:?}, got {}: {got:#?}",
                got.len()
            );
        }
        got
    }

    async fn accepts(&self) -> bool {
        tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_ok()
    }

    /// Spawn aiosmtpd and wait until it accepts connections.
    async fn spawn(&mut self) -> bool {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "lianxin_smtp_handler.Handler"])
            .arg(&self.maildir)
            .env("PYTHONPATH", python_path(&self.root))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => panic!("spawn python3 -m aiosmtpd: {e}"),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false; // exited: port taken, or aiosmtpd missing
            }
            if self.accepts().await {
                self.child = Some(child);
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

fn python_path(root: &Path) -> String {
    match std::env::var("PYTHONPATH") {
        Ok(p) if !p.is_empty() => format!("{}:{p}", root.display()),
        _ => root.display().to_string(),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("find a free port: {e}"))
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
