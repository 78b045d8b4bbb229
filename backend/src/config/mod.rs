//! Typed settings: defaults, then the TOML file named by `LIANXIN_CONFIG`,
//! then environment variables. This is the only module that reads the
//! environment, so every knob is visible in one place and in
//! `ops/config/lianxin.example.toml`.
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::Deserialize;

mod deadlines;
mod hotline;

pub use deadlines::{DeadlinePolicy, EscalationPolicy};
pub use hotline::{CalendarSettings, CallbackSettings, WORKING_DAY_KINDS};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: String,
        source: toml::de::Error,
    },
    #[error("invalid value for {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on (`LIANXIN_LISTEN`).
    pub listen: String,
    /// Public base URL used in email links.
    pub public_url: String,
    /// Directory for the SQLite file and `.eml` files when SMTP is off.
    pub data_dir: PathBuf,
    /// Directory of the console's static files.
    pub static_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub smtp: SmtpSettings,
    pub cti: CtiSettings,
    pub live: LiveSettings,
    pub deadlines: DeadlinePolicy,
    pub jobs: JobSettings,
    pub sms: crate::notify::sms_settings::SmsSettings,
    pub measures: crate::measures::settings::MeasureSettings,
    /// `[calendar]`: working days and office hours (issue 18).
    pub calendar: CalendarSettings,
    /// `[callbacks]`: the hotline's callbacks (issue 18).
    pub callbacks: CallbackSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Seconds a client has to send a request's headers; also how long an
    /// idle keep-alive connection stays open (`server.rs`).
    pub header_timeout_s: u64,
    /// Open connections (live feeds included) from one address; 0: no
    /// limit. `auth.trusted_proxies` are exempt.
    pub max_connections_per_address: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            header_timeout_s: 10,
            max_connections_per_address: 64,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://...` or `postgres://...`; empty means `<data_dir>/lianxin.db`.
    pub url: String,
    pub max_connections: u32,
    pub min_connections: u32,
    /// Seconds to wait for a pooled connection.
    pub acquire_timeout_s: u64,
    /// SQLite: MiB of the database file read through a memory map; 0 (the
    /// default) reads with `pread` into each connection's page cache. In
    /// WAL mode SQLite unmaps the whole map at the start of every read
    /// transaction that follows another connection's commit, so under
    /// writes a map costs an `munmap`, a TLB shootdown and fresh page
    /// faults per read (perf: ~9 % of the server's CPU in the screen pop;
    /// its p50 went from ~2.0 to ~1.1 ms without it, README
    /// "Performance").
    pub sqlite_mmap_mib: u64,
    /// SQLite: the page cache of each pooled (reading) connection, MiB.
    /// 2 by default: with 16 it was most of the server's PSS under load
    /// (each connection keeps its own copy of the pages it read; 440 MiB
    /// after ten minutes of `bench_wal`, 212–215 MiB at 4, 152–154 MiB at
    /// 2), and reads were no faster with more (`bench_reads`, README
    /// "Performance").
    pub sqlite_cache_mib: u64,
    /// SQLite: the page cache of the one writing connection, MiB.
    pub sqlite_writer_cache_mib: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Session lifetime in seconds.
    pub session_ttl_s: u64,
    /// Failed logins for one username before each further attempt waits
    /// (see `auth/throttle.rs`).
    pub max_failures: u32,
    /// Failures older than this many seconds are forgotten.
    pub failure_window_s: u64,
    /// The wait after `max_failures` failures, in seconds; it doubles with
    /// each further failure…
    pub lockout_base_s: u64,
    /// …up to this many seconds.
    pub lockout_max_s: u64,
    /// Failed logins from one client address (any usernames) within
    /// `address_window_s` before its attempts get 429; 0 disables.
    pub max_failures_per_address: u32,
    pub address_window_s: u64,
    /// Peers (exact IP addresses, e.g. the nginx host) whose
    /// `X-Forwarded-For` is believed: the client address is then its last
    /// entry. Anyone else's header is ignored.
    pub trusted_proxies: Vec<String>,
    /// Origins allowed to open the live feed with a session cookie.
    pub allowed_origins: Vec<String>,
    /// Set the `Secure` flag on the session cookie (always set when
    /// `public_url` is https).
    pub secure_cookie: bool,
    /// argon2id computations (19 MiB each) allowed at once; more logins
    /// wait for a slot.
    pub max_concurrent_hashes: usize,
    /// How long a login waits for a hash slot, in ms, before 503 `busy`
    /// with `Retry-After`.
    pub hash_wait_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    /// `smtp://host:port` (`LIANXIN_SMTP_URL`); empty writes `.eml` files.
    pub url: String,
    pub from: String,
    /// Attempts before a message is given up and shown to admins as failed.
    pub max_attempts: i32,
    /// First retry delay in seconds; doubles each attempt.
    pub retry_base_s: u64,
    /// SMTP connections kept open to the relay, and so messages sent at
    /// once (1–50). Each message waits ~40 ms on the relay's delayed ACK,
    /// so 16 carry ~400 messages a second. Every server process opens its
    /// own; Postfix refuses a client's 51st by default
    /// (`smtpd_client_connection_count_limit`).
    pub connections: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CtiSettings {
    /// Shared secret for `POST /api/v1/cti/events` (`LIANXIN_CTI_SECRET`);
    /// empty disables the endpoint.
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSettings {
    /// Seconds between server pings.
    pub ping_interval_s: u64,
    /// Seconds of client silence before the connection is dropped.
    pub idle_timeout_s: u64,
    /// Frames queued per connection before a slow client is cut off.
    pub queue_capacity: usize,
    /// Largest client frame in bytes.
    pub max_frame_bytes: usize,
    /// Fallback poll of the shared log when no NOTIFY arrives, in ms.
    pub poll_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Cron expression (with seconds) for the supervisors' daily digest.
    pub digest: String,
    /// Cron expression for the escalation auditor.
    pub auditor: String,
    /// Cron expression for purging expired sessions and old login failures.
    pub cleanup: String,
    /// Cron expression for the weekly mail of ledger reviews due.
    pub ledger_reviews: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            static_dir: PathBuf::from("frontend-dist"),
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            auth: AuthSettings::default(),
            smtp: SmtpSettings::default(),
            cti: CtiSettings::default(),
            live: LiveSettings::default(),
            deadlines: DeadlinePolicy::default(),
            jobs: JobSettings::default(),
            sms: Default::default(),
            measures: Default::default(),
            calendar: Default::default(),
            callbacks: Default::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: String::new(),
            max_connections: 16,
            min_connections: 1,
            acquire_timeout_s: 10,
            sqlite_mmap_mib: 0,
            sqlite_cache_mib: 2,
            sqlite_writer_cache_mib: 16,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_ttl_s: 12 * 3600,
            max_failures: 5,
            failure_window_s: 24 * 3600,
            lockout_base_s: 60,
            lockout_max_s: 15 * 60,
            max_failures_per_address: 30,
            address_window_s: 15 * 60,
            trusted_proxies: Vec::new(),
            allowed_origins: vec![
                "http://127.0.0.1:8080".into(),
                "http://localhost:8080".into(),
            ],
            secure_cookie: false,
            max_concurrent_hashes: 4,
            hash_wait_ms: 2000,
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            url: String::new(),
            from: "Lianxin 12338 <noreply@lianxin.local>".into(),
            max_attempts: 8,
            retry_base_s: 30,
            connections: 16,
        }
    }
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            ping_interval_s: 20,
            idle_timeout_s: 60,
            queue_capacity: 1024,
            max_frame_bytes: 4096,
            poll_interval_ms: 1000,
        }
    }
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            digest: "0 0 8 * * *".into(),
            auditor: "0 * * * * *".into(),
            cleanup: "0 17 3 * * *".into(),
            ledger_reviews: "0 0 9 * * Mon".into(),
        }
    }
}

impl Settings {
    /// Defaults → TOML file (`LIANXIN_CONFIG`) → environment.
    pub fn load() -> Result<Settings, ConfigError> {
        let mut settings = match std::env::var("LIANXIN_CONFIG") {
            Ok(path) if !path.is_empty() => Settings::from_file(&path)?,
            _ => Settings::default(),
        };
        settings.apply_env(|key| std::env::var(key).ok());
        settings.validate()?;
        Ok(settings)
    }

    pub fn from_file(path: &str) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_string(),
            source,
        })
    }

    /// Environment overrides; `get` is injected so tests need not touch the
    /// process environment.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        if let Some(v) = get("LIANXIN_LISTEN").filter(|v| !v.is_empty()) {
            self.listen = v;
        }
        if let Some(v) = get("LIANXIN_DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database.url = v;
        }
        if let Some(v) = get("LIANXIN_SMTP_URL") {
            self.smtp.url = v;
        }
        if let Some(v) = get("LIANXIN_CTI_SECRET") {
            self.cti.secret = v;
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen
            .parse::<SocketAddr>()
            .map_err(|e| ConfigError::Invalid {
                key: "listen",
                message: e.to_string(),
            })?;
        for (key, expr) in [
            ("jobs.digest", &self.jobs.digest),
            ("jobs.auditor", &self.jobs.auditor),
            ("jobs.cleanup", &self.jobs.cleanup),
            ("jobs.ledger_reviews", &self.jobs.ledger_reviews),
        ] {
            expr.parse::<cron::Schedule>()
                .map_err(|e| ConfigError::Invalid {
                    key,
                    message: e.to_string(),
                })?;
        }
        let smtp = &self.smtp.url;
        if !(smtp.is_empty() || smtp.starts_with("smtp://") || smtp.starts_with("smtps://")) {
            return Err(ConfigError::Invalid {
                key: "smtp.url",
                message: "must start with smtp:// or smtps:// (or be empty to write .eml files)"
                    .into(),
            });
        }
        if !(1..=50).contains(&self.smtp.connections) {
            return Err(ConfigError::Invalid {
                key: "smtp.connections",
                message:
                    "must be 1 to 50 (a relay such as Postfix refuses a client's 51st connection)"
                        .into(),
            });
        }
        self.sms.check().map_err(|message| ConfigError::Invalid {
            key: "sms.url",
            message,
        })?;
        self.calendar
            .check()
            .map_err(|message| ConfigError::Invalid {
                key: "calendar",
                message,
            })?;
        if self.auth.session_ttl_s == 0 {
            return Err(ConfigError::Invalid {
                key: "auth.session_ttl_s",
                message: "must be positive".into(),
            });
        }
        Ok(())
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}/lianxin.db?mode=rwc", self.data_dir.display())
        } else {
            self.database.url.clone()
        }
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.session_ttl_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_and_defaults() {
        let mut s: Settings =
            toml::from_str("listen = \"0.0.0.0:9000\"\n[auth]\nsession_ttl_s = 60\n").unwrap();
        assert_eq!(s.listen, "0.0.0.0:9000");
        assert_eq!(s.auth.session_ttl_s, 60);
        assert_eq!(s.auth.max_failures, 5);
        s.apply_env(|k| (k == "LIANXIN_LISTEN").then(|| "127.0.0.1:1".to_string()));
        assert_eq!(s.listen, "127.0.0.1:1");
        assert!(s.validate().is_ok());
    }

    #[test]
    fn a_partial_escalation_table_keeps_its_own_defaults() {
        let s: Settings = toml::from_str("[deadlines.imminent]\nacknowledge_s = 60\n").unwrap();
        assert_eq!(s.deadlines.imminent.acknowledge_s, 60);
        assert_eq!(s.deadlines.imminent.first_action_s, 30 * 60);
        assert_eq!(s.deadlines.imminent.raise_every_s, 5 * 60);
        assert_eq!(s.deadlines.high, EscalationPolicy::HIGH);
        assert!(toml::from_str::<Settings>("[deadlines.high]\nack = 1\n").is_err());
    }

    #[test]
    fn unknown_keys_and_bad_cron_are_refused() {
        assert!(toml::from_str::<Settings>("lisen = \"x\"").is_err());
        let s = Settings {
            jobs: JobSettings {
                digest: "not cron".into(),
                ..JobSettings::default()
            },
            ..Settings::default()
        };
        assert!(s.validate().is_err());
    }

    #[test]
    fn smtp_connections_stay_within_what_a_relay_accepts() {
        let with = |connections| Settings {
            smtp: SmtpSettings {
                connections,
                ..SmtpSettings::default()
            },
            ..Settings::default()
        };
        assert!(with(16).validate().is_ok());
        assert!(with(50).validate().is_ok());
        assert!(with(0).validate().is_err());
        assert!(with(51).validate().is_err());
        let s: Settings = toml::from_str("[smtp]\nconnections = 32\n").unwrap_or_default();
        assert_eq!(s.smtp.connections, 32);
    }
}
