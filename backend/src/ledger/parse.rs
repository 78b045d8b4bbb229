//! A screening file read into rows: CSV in UTF-8 (with or without BOM) or
//! GB18030 (what Excel saves on a Chinese Windows), or an XLSX workbook's
//! first sheet. The header names the columns in Chinese (README, "Ledger
//! import"; English names are accepted too); each row becomes a checked
//! `PersonInput` or a refusal naming the field and the reason.
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::record::{
    birth_of, check_bool, check_date, check_id, check_name, check_phones, check_village,
    PersonInput, Refusal,
};
use crate::{error::Error, vocab::LedgerFlag};

/// A file's data rows: (row number as the user sees it, the cells).
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The columns, each with its accepted header names.
const COLUMNS: &[(&str, &[&str])] = &[
    ("name", &["姓名", "name"]),
    (
        "id_number",
        &["身份证号", "身份证号码", "公民身份号码", "id_number"],
    ),
    ("birth_date", &["出生日期", "birth_date"]),
    (
        "phones",
        &["联系电话", "电话", "手机号码", "phones", "phone"],
    ),
    (
        "village_code",
        &[
            "村（居）代码",
            "村(居)代码",
            "村代码",
            "行政区划代码",
            "village_code",
        ],
    ),
    (
        "husband_away_since",
        &["丈夫外出时间", "丈夫外出务工时间", "husband_away_since"],
    ),
    ("in_village", &["在村居住", "in_village"]),
    ("low_income", &["低保", "low_income"]),
    (
        "registered_poor",
        &["建档立卡", "建档立卡贫困户", "registered_poor"],
    ),
    ("disabled", &["残疾", "disabled"]),
    ("seriously_ill", &["重病", "重大疾病", "seriously_ill"]),
    ("rights_violated", &["权益受侵害", "rights_violated"]),
    ("care_burden", &["照料负担", "care_burden"]),
    ("screened_by", &["排查人", "screened_by"]),
    ("screened_at", &["排查日期", "screened_at"]),
];

/// The header row the README documents (and `ledger sample` writes).
pub const HEADER: &str = "姓名,身份证号,出生日期,联系电话,村（居）代码,丈夫外出时间,在村居住,低保,建档立卡,残疾,重病,权益受侵害,照料负担,排查人,排查日期";

pub fn read_table(bytes: &[u8]) -> Result<Table, Error> {
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes);
    }
    let text = decode(bytes);
    let mut lines = csv_records(&text).into_iter();
    let (_, header) = lines
        .next()
        .ok_or_else(|| Error::validation("file", "文件为空 / the file is empty"))?;
    Ok(Table {
        header,
        rows: lines.collect(),
    })
}

/// UTF-8 when it is (a BOM is dropped), else GB18030.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// RFC 4180 records: quoted fields may hold commas, quotes (`""`) and
/// line breaks. Each record with the line it starts on; blank lines are
/// skipped.
pub fn csv_records(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let (mut field, mut record) = (String::new(), Vec::new());
    let (mut quoted, mut line, mut start) = (false, 1usize, 1usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                if record.iter().any(|f| !f.trim().is_empty()) {
                    out.push((start, std::mem::take(&mut record)));
                }
                record.clear();
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    record.push(field);
    if record.iter().any(|f| !f.trim().is_empty()) {
        out.push((start, record));
    }
    out
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, Error> {
    let bad = |e: String| {
        Error::validation(
            "file",
            format!("无法读取 XLSX / cannot read the workbook: {e}"),
        )
    };
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|e| bad(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad("no sheet".into()))?
        .map_err(|e| bad(e.to_string()))?;
    let mut rows = range
        .rows()
        .enumerate()
        .map(|(i, r)| (i + 1, r.iter().map(cell_text).collect::<Vec<String>>()));
    let (_, header) = rows
        .next()
        .ok_or_else(|| Error::validation("file", "文件为空 / the file is empty"))?;
    Ok(Table {
        header,
        rows: rows
            .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
            .collect(),
    })
}

fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(_) => String::new(),
    }
}

/// Where each column is in the header; `name` and `village_code` must be.
pub struct Columns([Option<usize>; COLUMNS.len()]);

impl Columns {
    pub fn of(header: &[String]) -> Result<Columns, Error> {
        let mut at = [None; COLUMNS.len()];
        for (i, h) in header.iter().enumerate() {
            let h = h.trim().trim_start_matches('\u{feff}');
            if let Some(k) = COLUMNS.iter().position(|(_, names)| names.contains(&h)) {
                at[k] = Some(i);
            }
        }
        for required in ["name", "village_code"] {
            let k = COLUMNS
                .iter()
                .position(|(n, _)| *n == required)
                .unwrap_or(0);
            if at[k].is_none() {
                return Err(Error::validation(
                    "file",
                    format!(
                        "缺少列“{}” / the header has no {required} column",
                        COLUMNS[k].1[0]
                    ),
                ));
            }
        }
        Ok(Columns(at))
    }

    fn get<'a>(&self, row: &'a [String], name: &str) -> &'a str {
        COLUMNS
            .iter()
            .position(|(n, _)| *n == name)
            .and_then(|k| self.0[k])
            .and_then(|i| row.get(i))
            .map_or("", String::as_str)
    }

    /// One row checked into a `PersonInput`.
    pub fn person(&self, row: &[String]) -> Result<PersonInput, Refusal> {
        let name = check_name(self.get(row, "name"))?;
        let id = check_id(self.get(row, "id_number"))?;
        let birth = check_date("birth_date", self.get(row, "birth_date"))?
            .or_else(|| id.as_ref().and_then(birth_of));
        let phones = check_phones(self.get(row, "phones"))?;
        let village = check_village(self.get(row, "village_code"))?;
        let away = check_date("husband_away_since", self.get(row, "husband_away_since"))?;
        let in_village = match self.get(row, "in_village").trim() {
            "" => true,
            v => check_bool("in_village", v)?,
        };
        let mut flags = super::record::Flags::default();
        for f in LedgerFlag::ALL {
            flags.set(*f, check_bool(flag_field(*f), self.get(row, f.as_str()))?);
        }
        let screened_by = Some(self.get(row, "screened_by").trim())
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(64).collect::<String>());
        Ok(PersonInput {
            name,
            id_number: id.map(|i| i.as_str().to_string()),
            birth_date: birth,
            phones,
            village_code: village.as_str().to_string(),
            husband_away_since: away,
            in_village,
            flags,
            screened_by,
            screened_at: check_date("screened_at", self.get(row, "screened_at"))?,
        })
    }
}

fn flag_field(f: LedgerFlag) -> &'static str {
    f.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_and_gb18030_reads_back() {
        let recs = csv_records("a,\"b,c\",\"d\"\"e\"\r\n\r\n1,2,3\n");
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].1, vec!["a", "b,c", "d\"e"]);
        assert_eq!(recs[1].0, 3);
        let (gb, _, _) = encoding_rs::GB18030.encode("姓名,村代码");
        assert_eq!(decode(&gb), "姓名,村代码");
    }
}
