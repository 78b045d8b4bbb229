//! The `lianxin` binary: config → telemetry → command. `serve` (the
//! default) migrates and serves; the other commands are one-shot.
use std::io::Read;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lianxin::{
    admin::{self, NewUser},
    app::App,
    backup,
    clock::{Clock, SystemClock},
    config::Settings,
    db::Db,
    demo, ledger, regions, shutdown, telemetry,
    vocab::Role,
};

/// mimalloc instead of glibc's allocator: under intake load the server
/// spent about a quarter of its CPU in glibc `malloc`/`free` (perf).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "lianxin",
    about = "连心 Lianxin — case server for the 12338 women's rights hotline"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve (the default).
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load the demo province and print its logins.
    Demo,
    /// Manage the administrative division list.
    Regions {
        #[command(subcommand)]
        command: RegionsCommand,
    },
    /// The ledger of left-behind women.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// The working-day calendar (ops/calendar/YYYY.txt).
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Back up the database while the server runs (SQLite: VACUUM INTO;
    /// PostgreSQL: pg_dump custom format), encrypted with --key.
    Backup {
        #[arg(long)]
        to: std::path::PathBuf,
        /// 32 bytes, raw or as 64 hex digits.
        #[arg(long)]
        key: Option<std::path::PathBuf>,
    },
    /// Restore a backup into the configured (empty) database, then migrate.
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
        #[arg(long)]
        key: Option<std::path::PathBuf>,
        /// Check the restored database and print its counts as JSON.
        #[arg(long)]
        verify: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: Option<uuid::Uuid>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Import a screening file (CSV in UTF-8 or GB18030, or XLSX) for a
    /// county; prints the row report as JSON. The same file twice changes
    /// nothing.
    Import {
        file: std::path::PathBuf,
        /// The county (or township) division code the file is for.
        #[arg(long)]
        county: String,
    },
    /// Write a generated screening file (CSV) to standard output.
    Sample {
        #[arg(long, default_value_t = 300)]
        rows: usize,
        /// Village codes to spread the rows over (comma-separated; all
        /// in one county). Default: the demo province's 阳朔县 villages.
        #[arg(long)]
        villages: Option<String>,
        /// Number the generated persons from here (distinct files).
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
}

#[derive(Subcommand)]
enum RegionsCommand {
    /// Import `code,name` lines (the official division list); idempotent.
    Import { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Load a year's holidays and swapped working weekends; replaces the year.
    Import { file: std::path::PathBuf },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init_logging();
    let settings = Settings::load()?;
    let clock = std::sync::Arc::new(SystemClock);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = App::build(settings, clock).await?;
            let running = app.spawn()?;
            shutdown::os_signal().await;
            tracing::info!("shutting down: finishing requests in flight");
            running.stop().await?;
        }
        Command::Migrate => {
            let db = Db::connect(&settings).await?;
            db.migrate().await?;
            println!("migrations applied");
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    unit,
                    email,
                    display_name,
                },
        } => {
            let new = NewUser {
                username,
                display_name,
                password: None,
                role: Role::parse(&role).with_context(|| {
                    format!("unknown role {role}; use one of {}", Role::allowed())
                })?,
                unit_id: unit,
                email,
                active: Some(true),
            };
            add_user(&settings, clock.now(), new).await?;
        }
        Command::Demo => load_demo(&settings, clock.now()).await?,
        Command::Ledger { command } => ledger_command(&settings, clock.now(), command).await?,
        Command::Backup { to, key } => {
            let bytes = backup::backup(&settings, &to, key.as_deref()).await?;
            println!("backup written to {} ({bytes} bytes)", to.display());
        }
        Command::Restore { from, key, verify } => {
            match backup::restore(&settings, &from, key.as_deref(), verify).await? {
                Some(report) => println!("{report}"),
                None => println!("restored from {}", from.display()),
            }
        }
        Command::Calendar {
            command: CalendarCommand::Import { file },
        } => import_calendar(&settings, clock.now(), &file).await?,
        Command::Regions {
            command: RegionsCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let rows = regions::parse_csv(&text)?;
            let db = Db::connect(&settings).await?;
            db.migrate().await?;
            let txn = db.begin_write().await?;
            let report = regions::import(&*txn, &rows).await?;
            txn.commit().await?;
            println!("imported {} regions", report.imported);
        }
    }
    Ok(())
}

/// `lianxin user add`: the password from standard input.
async fn add_user(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    mut new: NewUser,
) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    new.password = Some(password.trim_end_matches(['\r', '\n']).to_string());
    let db = Db::connect(settings).await?;
    db.migrate().await?;
    let user = admin::create_user(&db, now, None, new).await?;
    println!("{}", user.id);
    Ok(())
}

/// `lianxin ledger import|sample`.
async fn ledger_command(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    command: LedgerCommand,
) -> anyhow::Result<()> {
    match command {
        LedgerCommand::Import { file, county } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let county = regions::RegionCode::parse(&county)
                .with_context(|| format!("{county} is not a 12-digit division code"))?;
            let db = Db::connect(settings).await?;
            db.migrate().await?;
            let by = ledger::import::ImportBy {
                county,
                importer: None,
                review_s: settings.deadlines.ledger_review_s,
            };
            let report = ledger::import::import(&db, now, &by, &bytes).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        LedgerCommand::Sample {
            rows,
            villages,
            offset,
        } => {
            let villages: Vec<String> = match villages {
                Some(v) => v.split(',').map(|s| s.trim().to_string()).collect(),
                None => ledger::sample::DEMO_VILLAGES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            };
            for v in &villages {
                ledger::record::check_village(v).map_err(|(_, _, m)| anyhow::anyhow!(m))?;
            }
            let refs: Vec<&str> = villages.iter().map(String::as_str).collect();
            print!("{}", ledger::sample::csv(&refs, rows, offset));
        }
    }
    Ok(())
}

/// `lianxin calendar import FILE`: one year, replaced whole.
async fn import_calendar(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let year = lianxin::calendar::file::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let db = Db::connect(settings).await?;
    db.migrate().await?;
    let txn = db.begin_write().await?;
    let n = lianxin::calendar::store::import(&*txn, &year, now).await?;
    txn.commit().await?;
    println!(
        "calendar {}: {n} days imported{}",
        year.year,
        if year.provisional {
            " (provisional)"
        } else {
            ""
        }
    );
    Ok(())
}

/// `lianxin demo`: the demo province and its logins.
async fn load_demo(settings: &Settings, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    let db = Db::connect(settings).await?;
    db.migrate().await?;
    let out = demo::load(&db, now).await?;
    let ledger = ledger::sample::load_demo(&db, now, settings.deadlines.ledger_review_s).await?;
    println!(
        "Demo province loaded ({} new users). Logins (password: {}):",
        out.created_users,
        demo::DEMO_PASSWORD
    );
    for (username, role, display) in out.logins {
        println!("  {username:<12} {:<15} {display}", role.as_str());
    }
    println!(
        "Ledger: {} persons created, {} already there.",
        ledger.created, ledger.unchanged
    );
    println!("Open http://{} after `lianxin serve`.", settings.listen);
    Ok(())
}
