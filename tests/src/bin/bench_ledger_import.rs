//! `bench_ledger_import`: how long a county's screening file takes to
//! import, the same file again, and the file with 1% of its rows changed.
//!
//! ```text
//! cargo run --release -p lianxin-tests --bin bench_ledger_import -- \
//!     [--rows 100000] [--db-url postgres://postgres@127.0.0.1:5432/DB]
//! ```
//!
//! In process, against a fresh SQLite file in a temporary directory (or the
//! PostgreSQL database named, which must be empty): the demo province's
//! regions, then `ledger::import` of `--rows` generated persons over the
//! demo villages of 阳朔县 (`ledger::sample`), the same bytes again (a
//! SHA-256 hit), and a copy whose every 100th row has one flag flipped.
use std::time::Instant;

use anyhow::{bail, Result};
use lianxin::clock::{Clock, SystemClock};
use lianxin::{
    config::Settings,
    db::Db,
    ledger::{
        import::{import, ImportBy, ImportReport},
        sample,
    },
    regions::RegionCode,
};

fn line(r: &ImportReport) -> String {
    format!(
        "created {} updated {} unchanged {} rejected {}{}",
        r.created,
        r.updated,
        r.unchanged,
        r.rejected,
        if r.repeated { " (repeated file)" } else { "" }
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut rows = 100_000usize;
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rows" => rows = args.next().unwrap_or_default().parse()?,
            "--db-url" => url = args.next(),
            other => bail!(
                "unknown argument {other}; usage: bench_ledger_import [--rows N] [--db-url URL]"
            ),
        }
    }
    let dir = std::env::temp_dir().join(format!(
        "lianxin-bench-ledger-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir)?;
    let mut settings = Settings {
        data_dir: dir.clone(),
        ..Settings::default()
    };
    settings.database.url =
        url.unwrap_or_else(|| format!("sqlite://{}/lianxin.db?mode=rwc", dir.display()));
    println!("database {}", settings.database.url);
    let db = Db::connect(&settings).await?;
    db.migrate().await?;
    lianxin::demo::load(&db, SystemClock.now()).await?;
    let Some(county) = RegionCode::parse("450321000000") else {
        bail!("county code");
    };
    let by = ImportBy {
        county,
        importer: None,
        review_s: settings.deadlines.ledger_review_s,
    };

    let file = sample::csv(sample::DEMO_VILLAGES, rows, 0);
    println!(
        "file: {rows} rows, {:.1} MiB",
        file.len() as f64 / 1048576.0
    );
    let t = Instant::now();
    let r = import(&db, SystemClock.now(), &by, file.as_bytes()).await?;
    println!(
        "first import:   {:>8.3} s  {}",
        t.elapsed().as_secs_f64(),
        line(&r)
    );

    let t = Instant::now();
    let r = import(&db, SystemClock.now(), &by, file.as_bytes()).await?;
    println!(
        "same file:      {:>8.3} s  {}",
        t.elapsed().as_secs_f64(),
        line(&r)
    );

    let changed: String = file
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = if i > 0 && i % 100 == 0 {
                // Flip the last flag column (照料负担) of every 100th row.
                let mut cells: Vec<&str> = l.split(',').collect();
                let k = cells.len() - 3;
                cells[k] = if cells[k] == "是" { "否" } else { "是" };
                cells.join(",")
            } else {
                l.to_string()
            };
            l + "\n"
        })
        .collect();
    let t = Instant::now();
    let r = import(&db, SystemClock.now(), &by, changed.as_bytes()).await?;
    println!(
        "1% rows changed:{:>8.3} s  {}",
        t.elapsed().as_secs_f64(),
        line(&r)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
