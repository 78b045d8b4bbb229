//! `GET /reports/ledger?region_code=&from=&to=`: persons on the ledger of
//! a region by area one level down × flag, how many are left behind
//! today, visits in the period and reviews due. For supervisors and the
//! ledger's keepers, within their region.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    sea_query::Query, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::{
    entity::{person, visit},
    record::{left_behind, today},
    scope,
};
use crate::{
    auth::Principal,
    error::{Error, Result},
    regions::{self, RegionCode},
    state::AppState,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Default: the reader's own region.
    pub region_code: Option<String>,
    /// Visits from (default 30 days ago) …
    pub from: Option<DateTime<Utc>>,
    /// … to (default now).
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagCounts {
    pub low_income: u64,
    pub registered_poor: u64,
    pub disabled: u64,
    pub seriously_ill: u64,
    pub rights_violated: u64,
    pub care_burden: u64,
}

#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct AreaFigures {
    pub region_code: String,
    pub persons: u64,
    pub left_behind: u64,
    pub flags: FlagCounts,
    pub reviews_due: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LedgerReport {
    #[serde(flatten)]
    pub total: AreaFigures,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Visits recorded in the period.
    pub visits: u64,
    /// One level down (counties, townships or villages).
    pub areas: Vec<AreaFigures>,
}

type Row = (
    String,
    Option<NaiveDate>,
    bool,
    bool,
    bool,
    bool,
    bool,
    bool,
    bool,
    Option<DateTime<Utc>>,
);

fn add(a: &mut AreaFigures, r: &Row, today: NaiveDate, now: DateTime<Utc>) {
    a.persons += 1;
    a.left_behind += u64::from(left_behind(r.1, r.2, today));
    a.flags.low_income += u64::from(r.3);
    a.flags.registered_poor += u64::from(r.4);
    a.flags.disabled += u64::from(r.5);
    a.flags.seriously_ill += u64::from(r.6);
    a.flags.rights_violated += u64::from(r.7);
    a.flags.care_burden += u64::from(r.8);
    a.reviews_due += u64::from(r.9.is_some_and(|d| d <= now));
}

/// The significant digits one level below `region`.
fn child_len(region: &RegionCode) -> usize {
    match region.level() {
        1 => 4,
        2 => 6,
        3 => 9,
        _ => 12,
    }
}

pub async fn report(state: &AppState, p: &Principal, q: ReportQuery) -> Result<LedgerReport> {
    let (_, mine) = scope::reader(p)?;
    let region = match (q.region_code.as_deref().filter(|s| !s.is_empty()), &mine) {
        (Some(raw), _) => regions::parse_field("region_code", raw)?,
        (None, Some(r)) => r.clone(),
        (None, None) => return Err(Error::validation("region_code", "name a region")),
    };
    if mine.as_ref().is_some_and(|m| !m.contains(&region)) {
        return Err(Error::NotFound("region"));
    }
    let now = state.now();
    let to = q.to.unwrap_or(now);
    let from = q.from.unwrap_or(to - Duration::days(30));
    if from > to {
        return Err(Error::validation("from", "is after to"));
    }
    use person::Column as C;
    let conn = &state.db.conn;
    let rows: Vec<Row> = person::Entity::find()
        .select_only()
        .columns([
            C::VillageCode,
            C::HusbandAwaySince,
            C::InVillage,
            C::LowIncome,
            C::RegisteredPoor,
            C::Disabled,
            C::SeriouslyIll,
            C::RightsViolated,
            C::CareBurden,
            C::ReviewDueAt,
        ])
        .filter(C::VillageCode.starts_with(region.prefix()))
        .into_tuple()
        .all(conn)
        .await?;
    let day = today(now);
    let len = child_len(&region);
    let mut total = AreaFigures {
        region_code: region.as_str().to_string(),
        ..Default::default()
    };
    let mut areas: BTreeMap<String, AreaFigures> = BTreeMap::new();
    for r in &rows {
        add(&mut total, r, day, now);
        let code = format!("{:0<12}", r.0.get(..len).unwrap_or(&r.0));
        let a = areas.entry(code.clone()).or_insert_with(|| AreaFigures {
            region_code: code,
            ..Default::default()
        });
        add(a, r, day, now);
    }
    let persons = Query::select()
        .column(C::Id)
        .from(person::Entity)
        .and_where(C::VillageCode.starts_with(region.prefix()))
        .to_owned();
    let visits = visit::Entity::find()
        .filter(visit::Column::PersonId.in_subquery(persons))
        .filter(visit::Column::At.gte(from))
        .filter(visit::Column::At.lt(to))
        .count(conn)
        .await?;
    Ok(LedgerReport {
        total,
        from,
        to,
        visits,
        areas: areas.into_values().collect(),
    })
}
