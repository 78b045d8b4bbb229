//! The yearly calendar file (`ops/calendar/YYYY.txt`): `year N`, an
//! optional `provisional`, then `DATE[..DATE] off|work NAME` lines, `#`
//! comments. Parsed whole or refused with the line that is wrong. Pure.
use chrono::{Datelike, NaiveDate, Weekday};

#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub day: NaiveDate,
    /// `true`: a weekend day worked (调休上班); `false`: a day off.
    pub working: bool,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YearFile {
    pub year: i32,
    /// The year's notice was not published when the file was written.
    pub provisional: bool,
    pub days: Vec<Day>,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The file, or `line N: what is wrong`.
pub fn parse(text: &str) -> Result<YearFile, String> {
    let mut year = None;
    let mut provisional = false;
    let mut days: Vec<Day> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let bad = |m: &str| format!("line {}: {m}: {raw:?}", i + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(y) = line.strip_prefix("year ") {
            year = Some(y.trim().parse::<i32>().map_err(|_| bad("bad year"))?);
            continue;
        }
        if line == "provisional" {
            provisional = true;
            continue;
        }
        let y = year.ok_or_else(|| bad("`year N` must come first"))?;
        let mut parts = line.splitn(3, char::is_whitespace);
        let span = parts.next().unwrap_or("");
        let kind = parts.next().unwrap_or("").trim();
        let name = parts.next().unwrap_or("").trim();
        let working = match kind {
            "off" => false,
            "work" => true,
            _ => return Err(bad("expected `off` or `work` after the date")),
        };
        if name.is_empty() || name.chars().count() > 64 {
            return Err(bad("a name of 1 to 64 characters is required"));
        }
        let (from, to) = match span.split_once("..") {
            Some((a, b)) => (date(a), date(b)),
            None => (date(span), date(span)),
        };
        let (Some(from), Some(to)) = (from, to) else {
            return Err(bad("dates are YYYY-MM-DD"));
        };
        if from > to || from.year() != y || to.year() != y {
            return Err(bad("the dates must lie in the file's year, in order"));
        }
        let mut d = from;
        while d <= to {
            if working && !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                return Err(bad("a `work` day must be a Saturday or Sunday"));
            }
            if days.iter().any(|x| x.day == d) {
                return Err(bad("this day is listed twice"));
            }
            days.push(Day {
                day: d,
                working,
                name: name.to_string(),
            });
            d = match d.succ_opt() {
                Some(n) => n,
                None => break,
            };
        }
    }
    let year = year.ok_or("no `year N` line")?;
    Ok(YearFile {
        year,
        provisional,
        days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_files_parse() {
        let y26 = parse(include_str!("../../../ops/calendar/2026.txt")).unwrap();
        assert_eq!(y26.year, 2026);
        assert!(!y26.provisional);
        assert_eq!(y26.days.iter().filter(|d| !d.working).count(), 33);
        assert_eq!(y26.days.iter().filter(|d| d.working).count(), 6);
        let y27 = parse(include_str!("../../../ops/calendar/2027.txt")).unwrap();
        assert!(y27.provisional);
    }

    #[test]
    fn mistakes_name_their_line() {
        assert!(parse("2026-01-01 off x").unwrap_err().contains("line 1"));
        let e = parse("year 2026\n2026-01-05 work 周一").unwrap_err();
        assert!(e.contains("line 2") && e.contains("Saturday"), "{e}");
        assert!(parse("year 2026\n2027-01-01 off 元旦").is_err());
        assert!(parse("year 2026\n2026-01-01 holiday 元旦").is_err());
        assert!(parse("year 2026\n2026-01-01 off 元旦\n2026-01-01 off 元旦").is_err());
    }
}
