//! The case export (`GET /reports/cases.csv`), in Chinese and streamed:
//! one row per case, headers and category/status/priority/risk names in
//! Chinese, times in Beijing time (UTC+8, `YYYY-MM-DD HH:MM:SS`), no names,
//! phone or ID numbers and no stories. Rows are read in pages of
//! [`PAGE`] by (created_at, id) and written as they come, so the server's
//! memory stays flat however many cases the period holds.
use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use futures_util::Stream;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{
    db::entities::{case, unit},
    error::Result,
    vocab::{CaseStatus, Priority, RiskLevel},
};

pub const PAGE: u64 = 2000;

const HEADER: &str = "\u{feff}案件编号,受理时间（北京时间）,类别,状态,优先级,风险等级,地区代码,承办单位,是否超期,办结时间（北京时间）,结案时间（北京时间）\r\n";

fn status_zh(s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::New => "待分派",
        CaseStatus::Assigned => "已分派",
        CaseStatus::InProgress => "办理中",
        CaseStatus::Resolved => "已办结",
        CaseStatus::Closed => "已结案",
    }
}

fn priority_zh(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "特急",
        Priority::High => "紧急",
        Priority::Normal => "一般",
        Priority::Low => "低",
    }
}

fn risk_zh(r: RiskLevel) -> &'static str {
    match r {
        RiskLevel::None => "无",
        RiskLevel::Elevated => "较高",
        RiskLevel::High => "高",
        RiskLevel::Imminent => "紧迫",
    }
}

fn beijing(t: DateTime<Utc>) -> String {
    const FORMAT: &str = "%Y-%m-%d %H:%M:%S";
    match FixedOffset::east_opt(8 * 3600) {
        Some(east8) => t.with_timezone(&east8).format(FORMAT).to_string(),
        None => t.format(FORMAT).to_string(),
    }
}

pub fn field(s: &str) -> String {
    // Quote everything and neutralise spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn row(c: &case::Model, units: &BTreeMap<Uuid, String>) -> String {
    let fields = [
        c.number.clone(),
        beijing(c.created_at),
        c.category.zh().to_string(),
        status_zh(c.status).to_string(),
        priority_zh(c.priority).to_string(),
        risk_zh(c.risk_level).to_string(),
        c.region_code.clone(),
        c.assigned_unit_id
            .and_then(|u| units.get(&u).cloned())
            .unwrap_or_default(),
        if c.overdue { "是" } else { "否" }.to_string(),
        c.resolved_at.map(beijing).unwrap_or_default(),
        c.closed_at.map(beijing).unwrap_or_default(),
    ];
    let mut line = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

struct Cursor {
    conn: sea_orm::DatabaseConnection,
    cond: Condition,
    units: BTreeMap<Uuid, String>,
    after: Option<(DateTime<Utc>, Uuid)>,
    header: bool,
    done: bool,
}

async fn next_page(mut cur: Cursor) -> Option<(std::io::Result<String>, Cursor)> {
    if cur.done {
        return None;
    }
    if !cur.header {
        cur.header = true;
        return Some((Ok(HEADER.to_string()), cur));
    }
    let mut cond = cur.cond.clone();
    if let Some((at, id)) = cur.after {
        cond = cond.add(
            Condition::any().add(case::Column::CreatedAt.gt(at)).add(
                Condition::all()
                    .add(case::Column::CreatedAt.eq(at))
                    .add(case::Column::Id.gt(id)),
            ),
        );
    }
    let rows = case::Entity::find()
        .filter(cond)
        .order_by_asc(case::Column::CreatedAt)
        .order_by_asc(case::Column::Id)
        .limit(PAGE)
        .all(&cur.conn)
        .await;
    match rows {
        Err(e) => {
            tracing::error!(error = %e, "case export stopped");
            cur.done = true;
            Some((
                Err(std::io::Error::other("the database stopped answering")),
                cur,
            ))
        }
        Ok(rows) => {
            if (rows.len() as u64) < PAGE {
                cur.done = true;
            }
            cur.after = rows.last().map(|c| (c.created_at, c.id));
            let text: String = rows.iter().map(|c| row(c, &cur.units)).collect();
            Some((Ok(text), cur))
        }
    }
}

/// The export's bytes, page by page; `cond` selects the cases (period and
/// scope, already checked).
pub async fn stream(
    conn: &sea_orm::DatabaseConnection,
    cond: Condition,
) -> Result<impl Stream<Item = std::io::Result<String>> + Send + 'static> {
    let units: BTreeMap<Uuid, String> = unit::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let cur = Cursor {
        conn: conn.clone(),
        cond,
        units,
        after: None,
        header: false,
        done: false,
    };
    Ok(futures_util::stream::unfold(cur, next_page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_and_quoting() {
        let t = DateTime::parse_from_rfc3339("2026-12-02T17:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap();
        assert_eq!(beijing(t), "2026-12-03 01:30:00");
        assert_eq!(field("a\"b"), "\"a\"\"b\"");
        assert_eq!(field("=cmd"), "\"'=cmd\"");
    }
}
