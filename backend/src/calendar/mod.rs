//! The working-day calendar (issue 18): which days the hotline and the
//! units work, in Beijing time — weekends off, public holidays off, and
//! the weekends worked instead (调休) on — from the yearly files under
//! `ops/calendar/` (`file.rs`), kept in the database and in memory
//! (`store.rs`). Non-urgent clocks count working days with it; safety
//! clocks never do (`[calendar] working_days` chooses). Pure and
//! unit-tested; `store.rs` is the part that reads the database.
pub mod file;
pub mod store;

use std::collections::HashMap;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Offset, Utc, Weekday,
};

const DAY_S: i64 = 24 * 3600;

/// Beijing time, where every working day begins and ends.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

/// The days that differ from the weekly rule, and the office hours.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// `true`: a weekend day worked (调休上班); `false`: a day off.
    exceptions: HashMap<NaiveDate, bool>,
    /// Office hours on a working day, Beijing time.
    open: NaiveTime,
    close: NaiveTime,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar::new(std::iter::empty(), OFFICE_DEFAULT.0, OFFICE_DEFAULT.1)
    }
}

/// 08:30–17:30, the usual office day of a county federation.
pub const OFFICE_DEFAULT: (NaiveTime, NaiveTime) = (
    match NaiveTime::from_hms_opt(8, 30, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    },
    match NaiveTime::from_hms_opt(17, 30, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    },
);

/// `"HH:MM-HH:MM"`, opening before closing.
pub fn parse_office_hours(s: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (a, b) = s.split_once('-')?;
    let open = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let close = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
    (open < close).then_some((open, close))
}

impl Calendar {
    pub fn new(
        days: impl IntoIterator<Item = (NaiveDate, bool)>,
        open: NaiveTime,
        close: NaiveTime,
    ) -> Calendar {
        Calendar {
            exceptions: days.into_iter().collect(),
            open,
            close,
        }
    }

    pub fn is_working(&self, d: NaiveDate) -> bool {
        match self.exceptions.get(&d) {
            Some(working) => *working,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    fn at(d: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
        d.and_time(t)
            .and_local_timezone(beijing())
            .single()
            .map(|l| l.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_time(t).and_utc())
    }

    /// The same time of day on the `n`-th working day after `from`'s day
    /// (Beijing time): Friday + 1 is Monday, a holiday is skipped.
    pub fn add_working_days(&self, from: DateTime<Utc>, n: i64) -> DateTime<Utc> {
        let local = from.with_timezone(&beijing());
        let mut day = local.date_naive();
        let mut left = n;
        // A year of holidays could not need more than this.
        for _ in 0..(n * 4 + 400) {
            if left <= 0 {
                break;
            }
            day = day.succ_opt().unwrap_or(day);
            if self.is_working(day) {
                left -= 1;
            }
        }
        Calendar::at(day, local.time())
    }

    /// A window of `secs` from `from`: whole days count as working days
    /// when `working` is set and the window is at least a day (the rest of
    /// it runs on the clock); anything shorter runs 24×7.
    pub fn add_window(&self, from: DateTime<Utc>, secs: i64, working: bool) -> DateTime<Utc> {
        if !working || secs < DAY_S {
            return from + Duration::seconds(secs);
        }
        self.add_working_days(from, secs / DAY_S) + Duration::seconds(secs % DAY_S)
    }

    /// `secs` of office time from `from`: a missed call at night is due two
    /// office hours after the office opens, not at 2 a.m.
    pub fn add_office_time(&self, from: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        let mut t = from;
        let mut left = Duration::seconds(secs.max(0));
        for _ in 0..800 {
            let local = t.with_timezone(&beijing());
            let (day, time) = (local.date_naive(), local.time());
            if !self.is_working(day) || time >= self.close {
                t = self.next_opening(day);
                continue;
            }
            if time < self.open {
                t = Calendar::at(day, self.open);
                continue;
            }
            let until_close = Calendar::at(day, self.close) - t;
            if left <= until_close {
                return t + left;
            }
            left -= until_close;
            t = self.next_opening(day);
        }
        t + left
    }

    /// The opening of the first working day after `day`.
    fn next_opening(&self, day: NaiveDate) -> DateTime<Utc> {
        let mut d = day;
        for _ in 0..400 {
            d = d.succ_opt().unwrap_or(d);
            if self.is_working(d) {
                break;
            }
        }
        Calendar::at(d, self.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        beijing()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn cal_2026() -> Calendar {
        let f = file::parse(include_str!("../../../ops/calendar/2026.txt")).unwrap();
        Calendar::new(
            f.days.iter().map(|d| (d.day, d.working)),
            OFFICE_DEFAULT.0,
            OFFICE_DEFAULT.1,
        )
    }

    #[test]
    fn weekends_holidays_and_swapped_weekends() {
        let c = cal_2026();
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert!(c.is_working(d(12, 4)), "a Friday");
        assert!(!c.is_working(d(12, 5)), "a Saturday");
        assert!(!c.is_working(d(10, 1)), "National Day");
        assert!(c.is_working(d(10, 10)), "the Saturday worked for it");
        assert!(
            c.is_working(d(2, 14)),
            "the Saturday before Spring Festival"
        );
    }

    /// `(from, then, what)` triples: each `then` must equal what `from` came to.
    fn check(
        cases: &[(DateTime<Utc>, DateTime<Utc>, &str)],
        step: impl Fn(DateTime<Utc>) -> DateTime<Utc>,
    ) {
        for (from, want, what) in cases {
            assert_eq!(step(*from), *want, "{what}");
        }
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let c = cal_2026();
        check(
            &[
                (
                    bj(2026, 12, 4, 10, 0),
                    bj(2026, 12, 7, 10, 0),
                    "Friday + 1 is Monday",
                ),
                // The holiday runs to 7 Oct, 8 Oct is a Thursday.
                (
                    bj(2026, 9, 30, 15, 0),
                    bj(2026, 10, 8, 15, 0),
                    "30 Sep (Wed) + 1",
                ),
                (
                    bj(2026, 10, 9, 9, 0),
                    bj(2026, 10, 10, 9, 0),
                    "9 Oct (Fri) + 1 is the Saturday worked",
                ),
            ],
            |from| c.add_working_days(from, 1),
        );
        assert_eq!(
            c.add_window(bj(2026, 12, 4, 10, 0), 3600, true),
            bj(2026, 12, 4, 11, 0),
            "less than a day runs on the clock"
        );
        assert_eq!(
            c.add_window(bj(2026, 12, 4, 10, 0), DAY_S, false),
            bj(2026, 12, 5, 10, 0),
            "24×7 when the kind is not on working days"
        );
    }

    #[test]
    fn office_time_waits_for_the_office() {
        let c = cal_2026();
        check(
            &[
                (
                    bj(2026, 12, 3, 10, 0),
                    bj(2026, 12, 3, 12, 0),
                    "within the day",
                ),
                (
                    bj(2026, 12, 4, 16, 30),
                    bj(2026, 12, 7, 9, 30),
                    "16:30 Friday: one hour Friday, one Monday",
                ),
                (
                    bj(2026, 12, 3, 2, 0),
                    bj(2026, 12, 3, 10, 30),
                    "02:00 at night: two hours after opening",
                ),
            ],
            |from| c.add_office_time(from, 7200),
        );
        assert_eq!(
            c.add_office_time(bj(2026, 10, 3, 11, 0), 3600),
            bj(2026, 10, 8, 9, 30),
            "during the National Day holiday: after it"
        );
    }

    #[test]
    fn office_hours_parse() {
        assert_eq!(parse_office_hours("08:30-17:30"), Some(OFFICE_DEFAULT));
        assert_eq!(parse_office_hours("18:00-08:00"), None);
        assert_eq!(parse_office_hours("nine to five"), None);
    }
}
