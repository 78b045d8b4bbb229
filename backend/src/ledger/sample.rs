//! Generated screening files: `lianxin ledger sample --rows N`, the demo
//! ledger, `ops/samples/ledger-sample.csv` and the import benchmark. Row
//! `i` gets a unique ID number (birth day and sequence from `i`), a unique
//! mobile number, and flags from a fixed pseudo-random sequence, so a
//! file is the same every time it is made.
use chrono::{Duration, NaiveDate};

use super::parse::HEADER;

const SURNAMES: &[&str] = &[
    "李", "王", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "莫", "韦", "蒋", "覃", "廖",
];
const GIVEN: &[&str] = &[
    "秀英", "桂兰", "玉梅", "春花", "丽娟", "海燕", "金凤", "小红", "美玲", "翠萍", "月娥", "素芳",
];

/// GB 11643: the check character of 17 digits.
pub fn check_char(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b.wrapping_sub(b'0')) * w)
        .sum();
    char::from(b"10X98765432"[(sum % 11) as usize])
}

/// A valid ID number, unique for each `n` below 4,500,000: the birth day
/// is `(n / 500) · 37 mod 9000` days after 1966-01-01 (37 is prime to
/// 9000, so distinct), the sequence `n mod 500`.
pub fn id_number(county6: &str, n: usize) -> String {
    let base = NaiveDate::from_ymd_opt(1966, 1, 1).unwrap_or_default();
    let d = i64::try_from(n / 500).unwrap_or(0);
    let born = base + Duration::days(d * 37 % 9000);
    // Female: an even sequence digit.
    let first = format!("{county6}{}{:03}", born.format("%Y%m%d"), (n % 500) * 2);
    format!("{first}{}", check_char(&first))
}

fn pick(seed: u64, k: u64) -> u64 {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(k.wrapping_mul(1442695040888963407));
    x ^= x >> 33;
    x.wrapping_mul(0xff51afd7ed558ccd) >> 17
}

fn yn(b: bool) -> &'static str {
    if b {
        "是"
    } else {
        "否"
    }
}

/// One row of the sample for person `n` in `village`.
pub fn row(county6: &str, village: &str, n: usize) -> String {
    let s = n as u64;
    let name = format!(
        "{}{}",
        SURNAMES[(pick(s, 1) % SURNAMES.len() as u64) as usize],
        GIVEN[(pick(s, 2) % GIVEN.len() as u64) as usize]
    );
    let away = 2018 + pick(s, 3) % 8;
    let month = 1 + pick(s, 4) % 12;
    let f = |k: u64, pct: u64| yn(pick(s, k) % 100 < pct);
    format!(
        "{name},{},,13{:09},{village},{away}-{month:02},{},{},{},{},{},否,{},{}村委会,2026-{:02}-15",
        id_number(county6, n),
        n % 1_000_000_000,
        f(5, 90),
        f(6, 12),
        f(7, 8),
        f(8, 6),
        f(9, 5),
        f(10, 15),
        &village[9..],
        1 + pick(s, 11) % 11,
    )
}

/// A file of `rows` persons spread over `villages` (all in one county).
pub fn csv(villages: &[&str], rows: usize, offset: usize) -> String {
    let mut out = String::with_capacity(rows * 120 + 200);
    out.push_str(HEADER);
    out.push('\n');
    for i in 0..rows {
        let n = offset + i;
        let village = villages[i % villages.len().max(1)];
        out.push_str(&row(&village[..6], village, n));
        out.push('\n');
    }
    out
}

/// The villages of the demo province's 阳朔县 (`demo::REGIONS`).
pub const DEMO_VILLAGES: &[&str] = &["450321101201", "450321101202", "450321102201"];

/// `lianxin demo`: a few hundred generated persons in 阳朔县, imported
/// like a screening file (so running the demo twice changes nothing).
pub async fn load_demo(
    db: &crate::db::Db,
    now: chrono::DateTime<chrono::Utc>,
    review_s: i64,
) -> crate::error::Result<super::import::ImportReport> {
    let county = crate::regions::RegionCode::parse("450321000000")
        .ok_or_else(|| crate::error::Error::Internal("demo county".into()))?;
    let by = super::import::ImportBy {
        county,
        importer: None,
        review_s,
    };
    let file = csv(DEMO_VILLAGES, 300, 900_000);
    super::import::import(db, now, &by, file.as_bytes()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::model::IdNumber;

    #[test]
    fn generated_id_numbers_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..200_000 {
            let id = id_number("450321", n);
            assert!(IdNumber::parse(&id).is_ok(), "{id}");
            assert!(seen.insert(id));
        }
    }
}
