//! A person of the ledger as input (`PersonInput`, parsed once: name, ID
//! number checked by GB 11643, phones normalised, a village-level code),
//! her flags, and whether she is left behind as of a given day (husband
//! away six months or more in a row, she lives in the village).
use chrono::{DateTime, Duration, Months, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::entity::person;
use crate::{
    cases::model::{IdNumber, PhoneNumber},
    regions::RegionCode,
    vocab::LedgerFlag,
};

/// The flags of 一(五): hardship, disability, serious illness, and what
/// the ledger learnt from cases and care.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Flags {
    #[serde(default)]
    pub low_income: bool,
    #[serde(default)]
    pub registered_poor: bool,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub seriously_ill: bool,
    #[serde(default)]
    pub rights_violated: bool,
    #[serde(default)]
    pub care_burden: bool,
}

impl Flags {
    pub fn of(m: &person::Model) -> Flags {
        Flags {
            low_income: m.low_income,
            registered_poor: m.registered_poor,
            disabled: m.disabled,
            seriously_ill: m.seriously_ill,
            rights_violated: m.rights_violated,
            care_burden: m.care_burden,
        }
    }

    pub fn has(&self, f: LedgerFlag) -> bool {
        match f {
            LedgerFlag::LowIncome => self.low_income,
            LedgerFlag::RegisteredPoor => self.registered_poor,
            LedgerFlag::Disabled => self.disabled,
            LedgerFlag::SeriouslyIll => self.seriously_ill,
            LedgerFlag::RightsViolated => self.rights_violated,
            LedgerFlag::CareBurden => self.care_burden,
        }
    }

    pub fn set(&mut self, f: LedgerFlag, v: bool) {
        match f {
            LedgerFlag::LowIncome => self.low_income = v,
            LedgerFlag::RegisteredPoor => self.registered_poor = v,
            LedgerFlag::Disabled => self.disabled = v,
            LedgerFlag::SeriouslyIll => self.seriously_ill = v,
            LedgerFlag::RightsViolated => self.rights_violated = v,
            LedgerFlag::CareBurden => self.care_burden = v,
        }
    }
}

/// The day in Beijing (the ledger's dates are local days).
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(8)).date_naive()
}

/// A screened person's first review: `review_s` after her screening day
/// (from its start in Beijing; a day after `now` counts as `now`), else
/// after `now`.
pub fn first_review(
    screened_at: Option<NaiveDate>,
    now: DateTime<Utc>,
    review_s: i64,
) -> DateTime<Utc> {
    let from = screened_at
        .map(|d| d.and_time(NaiveTime::MIN).and_utc() - Duration::hours(8))
        .map_or(now, |d| d.min(now));
    from + Duration::seconds(review_s)
}

/// Left behind on `today`: her husband has been away six months or more
/// and she lives in the village.
pub fn left_behind(away_since: Option<NaiveDate>, in_village: bool, today: NaiveDate) -> bool {
    in_village
        && away_since
            .and_then(|s| s.checked_add_months(Months::new(6)))
            .is_some_and(|six| six <= today)
}

/// A person as a file row or a request gives her, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonInput {
    pub name: String,
    pub id_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub phones: Vec<String>,
    pub village_code: String,
    pub husband_away_since: Option<NaiveDate>,
    pub in_village: bool,
    pub flags: Flags,
    pub screened_by: Option<String>,
    pub screened_at: Option<NaiveDate>,
}

/// Why a value was refused: (field, reason code, message).
pub type Refusal = (&'static str, &'static str, String);

pub fn check_name(raw: &str) -> Result<String, Refusal> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(("name", "missing", "姓名不能为空 / name is required".into()));
    }
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err((
            "name",
            "invalid",
            "姓名过长或含控制字符 / name too long".into(),
        ));
    }
    Ok(name.to_string())
}

pub fn check_id(raw: &str) -> Result<Option<IdNumber>, Refusal> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    IdNumber::parse(raw).map(Some).map_err(|m| {
        (
            "id_number",
            "bad_id_checksum",
            format!("身份证号校验不通过 / ID number {m}"),
        )
    })
}

/// Phones separated by `;`, `；`, `、`, `/` or `,`; each normalised.
pub fn check_phones(raw: &str) -> Result<Vec<String>, Refusal> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.split([';', '；', '、', '/', ',', '，']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let p = PhoneNumber::parse(part).map_err(|m| {
            (
                "phones",
                "bad_phone",
                format!("电话号码无效 / phone {part:?} {m}"),
            )
        })?;
        if !out.iter().any(|o| o == p.as_str()) {
            out.push(p.as_str().to_string());
        }
    }
    if out.len() > 5 {
        return Err((
            "phones",
            "invalid",
            "最多五个号码 / at most 5 phones".into(),
        ));
    }
    Ok(out)
}

pub fn check_village(raw: &str) -> Result<RegionCode, Refusal> {
    let code = RegionCode::parse(raw).ok_or((
        "village_code",
        "bad_code",
        format!(
            "{:?} 不是12位区划代码 / is not a 12-digit division code",
            raw.trim()
        ),
    ))?;
    if code.level() != 5 {
        return Err((
            "village_code",
            "not_village",
            format!("{code} 不是村级代码 / is not a village-level code"),
        ));
    }
    Ok(code)
}

/// `2024-03-01`, `2024/3/1`, `2024.03.01`, `20240301`, or a month
/// (`2024-03`, its first day).
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim().replace(['/', '.', '年', '月'], "-");
    let s = s.trim_end_matches(['日', '-']);
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(s, "%Y%m%d").ok();
    }
    let parts: Vec<&str> = s.split('-').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.trim().parse::<u32>().ok());
    let year = i32::try_from(num(0)?).ok()?;
    match parts.len() {
        2 => NaiveDate::from_ymd_opt(year, num(1)?, 1),
        3 => NaiveDate::from_ymd_opt(year, num(1)?, num(2)?),
        _ => None,
    }
}

pub fn check_date(field: &'static str, raw: &str) -> Result<Option<NaiveDate>, Refusal> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse_date(raw).map(Some).ok_or((
        field,
        "bad_date",
        format!("日期无效 / {:?} is not a date (YYYY-MM-DD)", raw.trim()),
    ))
}

/// 是/否, 1/0, Y/N, true/false, √; empty is no.
pub fn check_bool(field: &'static str, raw: &str) -> Result<bool, Refusal> {
    match raw.trim().to_lowercase().as_str() {
        "" | "否" | "0" | "n" | "no" | "false" | "无" | "×" => Ok(false),
        "是" | "1" | "y" | "yes" | "true" | "有" | "√" => Ok(true),
        other => Err((
            field,
            "bad_flag",
            format!("应为“是”或“否” / {other:?} is not yes or no"),
        )),
    }
}

/// The birth date an ID number carries.
pub fn birth_of(id: &IdNumber) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&id.as_str()[6..14], "%Y%m%d").ok()
}

impl PersonInput {
    /// What the import compares: every field the file gives, in one
    /// canonical text, hashed.
    pub fn hash(&self) -> String {
        let f = &self.flags;
        let text = format!(
            "{}|{}|{:?}|{}|{}|{:?}|{}|{}{}{}{}{}{}|{}|{:?}",
            self.name,
            self.id_number.as_deref().unwrap_or(""),
            self.birth_date,
            self.phones.join(";"),
            self.village_code,
            self.husband_away_since,
            self.in_village,
            u8::from(f.low_income),
            u8::from(f.registered_poor),
            u8::from(f.disabled),
            u8::from(f.seriously_ill),
            u8::from(f.rights_violated),
            u8::from(f.care_burden),
            self.screened_by.as_deref().unwrap_or(""),
            self.screened_at,
        );
        let digest = Sha256::digest(text.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key that finds her again: the ID number, else village and name.
    pub fn key(&self) -> String {
        match &self.id_number {
            Some(id) => id.clone(),
            None => format!("{}|{}", self.village_code, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn the_first_review_counts_from_the_screening_day() {
        let now = "2026-11-29T09:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let day = 180 * 86_400;
        assert_eq!(
            first_review(Some(d(2026, 3, 15)), now, day).to_rfc3339(),
            "2026-09-10T16:00:00+00:00"
        );
        assert_eq!(first_review(None, now, day), now + Duration::days(180));
        assert_eq!(
            first_review(Some(d(2027, 1, 1)), now, day),
            now + Duration::days(180)
        );
    }

    #[test]
    fn left_behind_needs_six_months_away_and_living_in_the_village() {
        let today = d(2026, 12, 3);
        assert!(left_behind(Some(d(2026, 6, 3)), true, today));
        assert!(!left_behind(Some(d(2026, 6, 4)), true, today));
        assert!(!left_behind(Some(d(2020, 1, 1)), false, today));
        assert!(!left_behind(None, true, today));
    }

    #[test]
    fn dates_phones_and_flags_parse_in_the_forms_files_use() {
        assert_eq!(parse_date("2024/3/1"), Some(d(2024, 3, 1)));
        assert_eq!(parse_date("20240301"), Some(d(2024, 3, 1)));
        assert_eq!(parse_date("2024年3月"), Some(d(2024, 3, 1)));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(
            check_phones("138 1234 5678；+86 139-0000-0000、13812345678").ok(),
            Some(vec!["13812345678".to_string(), "13900000000".to_string()])
        );
        assert!(check_phones("12345").is_err());
        assert_eq!(check_bool("low_income", "是").ok(), Some(true));
        assert!(check_bool("low_income", "maybe").is_err());
        assert!(check_village("450321101000").is_err());
        assert!(check_village("450321101201").is_ok());
    }
}
