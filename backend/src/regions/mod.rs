//! Administrative divisions: the 12-digit region code, containment (a
//! region contains another when its significant prefix matches), the
//! picker query and the idempotent import of the official list.
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::{
    db::{entities::region, Db},
    error::{Error, Result},
};

/// A syntactically valid 12-digit division code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

/// Significant digits per level: province, city, county, township, village.
const PREFIX: [usize; 5] = [2, 4, 6, 9, 12];

impl RegionCode {
    pub fn parse(s: &str) -> Option<RegionCode> {
        let s = s.trim();
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) && &s[..2] != "00" {
            Some(RegionCode(s.to_string()))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 1 province … 5 village.
    pub fn level(&self) -> i16 {
        for (i, &len) in PREFIX.iter().enumerate() {
            if self.0[len..].bytes().all(|b| b == b'0') {
                return i as i16 + 1;
            }
        }
        5
    }

    /// The significant digits: what every region inside this one starts with.
    pub fn prefix(&self) -> &str {
        &self.0[..PREFIX[(self.level() - 1) as usize]]
    }

    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(self.prefix())
    }

    /// This region and every region above it, nearest first.
    pub fn self_and_ancestors(&self) -> Vec<RegionCode> {
        let level = self.level() as usize;
        (0..level)
            .rev()
            .map(|i| {
                let len = PREFIX[i];
                RegionCode(format!("{:0<12}", &self.0[..len]))
            })
            .collect()
    }

    pub fn parent(&self) -> Option<RegionCode> {
        self.self_and_ancestors().into_iter().nth(1)
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionView {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub level: i16,
    /// Search results only: the names from the province down to this
    /// place, so the operator sees which 东村 is which.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
}

impl From<region::Model> for RegionView {
    fn from(m: region::Model) -> Self {
        RegionView {
            code: m.code,
            name: m.name,
            parent_code: m.parent_code,
            level: m.level,
            path: Vec::new(),
        }
    }
}

/// Parse a code from input, naming `field` when it is wrong.
pub fn parse_field(field: &str, raw: &str) -> Result<RegionCode> {
    RegionCode::parse(raw)
        .ok_or_else(|| Error::validation(field, "must be a 12-digit administrative division code"))
}

/// The code must exist in the regions table.
pub async fn require_known(
    conn: &impl ConnectionTrait,
    field: &str,
    raw: &str,
) -> Result<RegionCode> {
    let code = parse_field(field, raw)?;
    if region::Entity::find_by_id(code.as_str().to_string())
        .one(conn)
        .await?
        .is_none()
    {
        return Err(Error::validation(
            field,
            format!("unknown region code {code}"),
        ));
    }
    Ok(code)
}

/// Children of `parent`, or the top level when `parent` is `None`.
pub async fn children(db: &Db, parent: Option<&str>) -> Result<Vec<RegionView>> {
    let q = region::Entity::find();
    let q = match parent {
        Some(p) => {
            let code = parse_field("parent", p)?;
            q.filter(region::Column::ParentCode.eq(code.as_str()))
        }
        None => q.filter(region::Column::ParentCode.is_null()),
    };
    Ok(q.order_by_asc(region::Column::Code)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(RegionView::from)
        .collect())
}

/// Places at county level or below whose name contains `text`, villages
/// first, at most `SEARCH_LIMIT`, each with its path of names.
pub async fn search(db: &Db, text: &str) -> Result<Vec<RegionView>> {
    let text: String = text
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if text.chars().count() > 40 {
        return Err(Error::validation("q", "at most 40 characters"));
    }
    let hits = region::Entity::find()
        .filter(region::Column::Name.contains(text))
        .filter(region::Column::Level.gte(3))
        .order_by_desc(region::Column::Level)
        .order_by_asc(region::Column::Code)
        .limit(SEARCH_LIMIT)
        .all(&db.conn)
        .await?;
    let mut above: Vec<String> = hits
        .iter()
        .filter_map(|m| RegionCode::parse(&m.code))
        .flat_map(|c| c.self_and_ancestors())
        .map(|c| c.as_str().to_string())
        .collect();
    above.sort();
    above.dedup();
    let names: std::collections::HashMap<String, String> = region::Entity::find()
        .filter(region::Column::Code.is_in(above))
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|m| (m.code, m.name))
        .collect();
    Ok(hits
        .into_iter()
        .map(|m| {
            let mut v = RegionView::from(m);
            if let Some(code) = RegionCode::parse(&v.code) {
                let mut chain = code.self_and_ancestors();
                chain.reverse();
                v.path = chain
                    .iter()
                    .filter_map(|c| names.get(c.as_str()).cloned())
                    .collect();
            }
            v
        })
        .collect())
}

const SEARCH_LIMIT: u64 = 20;

pub async fn get(conn: &impl ConnectionTrait, code: &str) -> Result<Option<RegionView>> {
    Ok(region::Entity::find_by_id(code.to_string())
        .one(conn)
        .await?
        .map(RegionView::from))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: usize,
}

/// Parse `code,name` lines (a header line and blank lines are skipped).
pub fn parse_csv(text: &str) -> Result<Vec<(RegionCode, String)>> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || (i == 0 && line.to_ascii_lowercase().starts_with("code")) {
            continue;
        }
        let (code, name) = line.split_once(',').ok_or_else(|| {
            Error::validation("csv", format!("line {}: expected code,name", i + 1))
        })?;
        let code = RegionCode::parse(code.trim_matches('"')).ok_or_else(|| {
            Error::validation(
                "csv",
                format!("line {}: {code:?} is not a 12-digit code", i + 1),
            )
        })?;
        let name = name.trim().trim_matches('"').to_string();
        if name.is_empty() {
            return Err(Error::validation(
                "csv",
                format!("line {}: empty name", i + 1),
            ));
        }
        rows.push((code, name));
    }
    if rows.is_empty() {
        return Err(Error::validation("csv", "no regions in the file"));
    }
    Ok(rows)
}

/// Upsert the rows. Parents are derived from the codes: the nearest
/// ancestor that is in the file or already stored.
pub async fn import(
    conn: &impl ConnectionTrait,
    rows: &[(RegionCode, String)],
) -> Result<ImportReport> {
    let mut known: std::collections::HashSet<String> =
        rows.iter().map(|(c, _)| c.0.clone()).collect();
    // Ancestors already stored count as known parents too.
    let mut wanted: Vec<String> = rows
        .iter()
        .flat_map(|(c, _)| c.self_and_ancestors().into_iter().skip(1).map(|a| a.0))
        .filter(|a| !known.contains(a))
        .collect();
    wanted.sort();
    wanted.dedup();
    for chunk in wanted.chunks(500) {
        let found = region::Entity::find()
            .filter(region::Column::Code.is_in(chunk.iter().cloned()))
            .all(conn)
            .await?;
        known.extend(found.into_iter().map(|r| r.code));
    }
    let models: Vec<region::ActiveModel> = rows
        .iter()
        .map(|(code, name)| {
            let parent = code
                .self_and_ancestors()
                .into_iter()
                .skip(1)
                .find(|a| known.contains(&a.0))
                .map(|a| a.0);
            region::ActiveModel {
                code: Set(code.0.clone()),
                name: Set(name.clone()),
                parent_code: Set(parent),
                level: Set(code.level()),
            }
        })
        .collect();
    for chunk in models.chunks(200) {
        region::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(region::Column::Code)
                    .update_columns([
                        region::Column::Name,
                        region::Column::ParentCode,
                        region::Column::Level,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(ImportReport {
        imported: rows.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_prefixes_and_containment() {
        let province = RegionCode::parse("450000000000").unwrap();
        let county = RegionCode::parse("450321000000").unwrap();
        let township = RegionCode::parse("450321101000").unwrap();
        let village = RegionCode::parse("450321101201").unwrap();
        assert_eq!(province.level(), 1);
        assert_eq!(county.level(), 3);
        assert_eq!(township.level(), 4);
        assert_eq!(village.level(), 5);
        assert!(province.contains(&village));
        assert!(township.contains(&village));
        assert!(!RegionCode::parse("450322000000")
            .unwrap()
            .contains(&village));
        assert_eq!(
            village
                .self_and_ancestors()
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            vec![
                "450321101201",
                "450321101000",
                "450321000000",
                "450300000000",
                "450000000000"
            ]
        );
        assert_eq!(township.parent().unwrap().as_str(), "450321000000");
        assert!(province.parent().is_none());
    }

    #[test]
    fn bad_codes_are_refused() {
        for bad in ["", "45", "4503211012011", "45032110120a", "000000000000"] {
            assert!(RegionCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn csv_parsing_reports_the_line() {
        let rows = parse_csv("code,name\n450000000000,广西\n\n450300000000,\"桂林市\"\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].1, "桂林市");
        let err = parse_csv("450000000000,广西\nabc,x\n").unwrap_err();
        assert!(err.to_string().contains("line 2"));
    }
}
