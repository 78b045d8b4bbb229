#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `lianxin` binary as deployment scripts use it: `migrate`, `demo`,
//! `user add` (password on standard input, the new id on standard output)
//! and `regions import FILE`, against a SQLite file in a temporary
//! directory.
use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use chrono::TimeZone;
use lianxin::{auth, config::Settings, db::Db};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("lianxin-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn db_url(&self) -> String {
        format!("sqlite://{}/cli.db?mode=rwc", self.0.display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run `lianxin ARGS` in `dir` with the database there, feeding `stdin`.
fn lianxin(dir: &TempDir, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(args)
        .current_dir(&dir.0)
        .env("LIANXIN_DATABASE_URL", dir.db_url())
        .env_remove("LIANXIN_CONFIG")
        .env_remove("LIANXIN_LISTEN")
        .env_remove("LIANXIN_SMTP_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

async fn open(dir: &TempDir) -> Db {
    let mut settings = Settings {
        data_dir: dir.0.clone(),
        ..Settings::default()
    };
    settings.database.url = dir.db_url();
    Db::connect(&settings).await.unwrap()
}

fn login_policy() -> auth::LoginPolicy {
    auth::LoginPolicy {
        max_failures: 5,
        window: chrono::Duration::minutes(15),
        session_ttl: chrono::Duration::hours(12),
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 29, 9, 0, 0)
        .single()
        .unwrap()
}

#[test]
fn migrate_creates_the_database_and_can_run_twice() {
    let dir = TempDir::new();
    let out = lianxin(&dir, &["migrate"], "");
    assert_ok(&out);
    assert!(
        stdout(&out).contains("migrations applied"),
        "{}",
        stdout(&out)
    );
    assert!(dir.0.join("cli.db").exists());
    assert_ok(&lianxin(&dir, &["migrate"], ""));
}

#[tokio::test]
async fn demo_prints_the_logins_and_is_idempotent() {
    let dir = TempDir::new();
    let out = lianxin(&dir, &["demo"], "");
    assert_ok(&out);
    let text = stdout(&out);
    let created = format!("{} new users", lianxin::demo::USERS.len());
    assert!(text.contains(&created), "{text}");
    assert!(text.contains(lianxin::demo::DEMO_PASSWORD), "{text}");
    for (username, _, role, _) in lianxin::demo::USERS {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(username))
            .unwrap_or_else(|| panic!("no login line for {username}:\n{text}"));
        assert!(line.contains(role.as_str()), "{line}");
    }
    // A second run changes nothing and still prints the logins.
    let out = lianxin(&dir, &["demo"], "");
    assert_ok(&out);
    assert!(stdout(&out).contains("0 new users"), "{}", stdout(&out));

    // The printed logins work.
    let db = open(&dir).await;
    let ok = auth::login(
        &db,
        now(),
        &login_policy(),
        "station",
        lianxin::demo::DEMO_PASSWORD,
    )
    .await
    .unwrap();
    assert_eq!(ok.user.role.as_str(), "station_worker");
    assert_eq!(
        auth::count_users(&db).await.unwrap(),
        lianxin::demo::USERS.len() as u64
    );
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin_and_prints_only_the_id() {
    let dir = TempDir::new();
    let out = lianxin(
        &dir,
        &["user", "add", "--username", "x", "--role", "operator"],
        "correct horse battery\n",
    );
    assert_ok(&out);
    // Scripts do `ID=$(lianxin user add ...)`: the id alone on stdout.
    let printed = stdout(&out);
    let id: uuid::Uuid = printed
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: stdout was {printed:?}"));

    let db = open(&dir).await;
    // The trailing newline is not part of the password.
    let ok = auth::login(&db, now(), &login_policy(), "x", "correct horse battery")
        .await
        .unwrap();
    assert_eq!(ok.user.id, id);
    assert_eq!(ok.user.role.as_str(), "operator");

    // A user with a unit and email.
    let units = lianxin::admin::list_units(&db).await.unwrap();
    assert!(units.is_empty());
    drop(db);
    assert_ok(&lianxin(&dir, &["demo"], ""));
    let db = open(&dir).await;
    let station = lianxin::admin::list_units(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name == "白沙镇妇女维权站")
        .unwrap();
    let unit = station.id.to_string();
    let out = lianxin(
        &dir,
        &[
            "user",
            "add",
            "--username",
            "bs.wu",
            "--role",
            "station_worker",
            "--unit",
            &unit,
            "--email",
            "wu@demo.lianxin",
        ],
        "another secret",
    );
    assert_ok(&out);
    let ok = auth::login(&db, now(), &login_policy(), "bs.wu", "another secret")
        .await
        .unwrap();
    assert_eq!(ok.user.unit_id, Some(station.id));
    assert_eq!(ok.user.email.as_deref(), Some("wu@demo.lianxin"));

    // Mistakes fail with a message and a non-zero exit.
    let out = lianxin(
        &dir,
        &["user", "add", "--username", "x", "--role", "operator"],
        "long enough pw\n",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("taken"), "{}", stderr(&out));
    let out = lianxin(
        &dir,
        &["user", "add", "--username", "y", "--role", "chief"],
        "long enough pw\n",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("station_worker"), "{}", stderr(&out));
    let out = lianxin(
        &dir,
        &["user", "add", "--username", "z", "--role", "mediator"],
        "long enough pw\n",
    );
    assert!(!out.status.success(), "a mediator needs a unit");
    assert!(stdout(&out).trim().is_empty());
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn regions_import_reads_the_official_list_and_is_idempotent() {
    let dir = TempDir::new();
    let file = write(
        &dir.0,
        "regions.csv",
        "code,name\n450000000000,广西壮族自治区\n450300000000,桂林市\n450321000000,阳朔县\n450321101000,白沙镇\n",
    );
    let out = lianxin(&dir, &["regions", "import", &file], "");
    assert_ok(&out);
    assert!(
        stdout(&out).contains("imported 4 regions"),
        "{}",
        stdout(&out)
    );
    assert_ok(&lianxin(&dir, &["regions", "import", &file], ""));

    let db = open(&dir).await;
    let towns = lianxin::regions::children(&db, Some("450321000000"))
        .await
        .unwrap();
    assert_eq!(towns.len(), 1);
    assert_eq!(towns[0].name, "白沙镇");
    assert_eq!(towns[0].parent_code.as_deref(), Some("450321000000"));

    let bad = write(&dir.0, "bad.csv", "450321102000,福利镇\nnonsense\n");
    let out = lianxin(&dir, &["regions", "import", &bad], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
    // Nothing of the bad file was written.
    assert!(lianxin::regions::get(&db.conn, "450321102000")
        .await
        .unwrap()
        .is_none());
    let out = lianxin(&dir, &["regions", "import", "/no/such/file.csv"], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

/// `lianxin serve` as systemd runs it: logs on stderr without colour codes,
/// answers `/readyz`, and on SIGTERM finishes and exits 0.
#[test]
fn serve_answers_and_stops_cleanly_on_sigterm() {
    use std::{
        io::{BufRead, BufReader, Read},
        net::TcpStream,
        sync::mpsc,
        time::{Duration, Instant},
    };
    let dir = TempDir::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .arg("serve")
        .current_dir(&dir.0)
        .env("LIANXIN_DATABASE_URL", dir.db_url())
        .env("LIANXIN_LISTEN", "127.0.0.1:0")
        .env_remove("LIANXIN_CONFIG")
        .env_remove("LIANXIN_SMTP_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let addr = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("no 'lianxin listening' line; stderr so far:\n{seen:#?}")
            });
        assert!(
            !line.contains('\u{1b}'),
            "colour codes in the log: {line:?}"
        );
        if line.contains("lianxin listening") {
            let addr = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
                .unwrap()
                .to_string();
            break addr;
        }
        seen.push(line);
    };

    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("lianxin did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.trim().is_empty(), "serve printed to stdout: {out}");
    reader.join().unwrap();
}
