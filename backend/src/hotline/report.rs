//! The hotline's figures (issue 18): every call and what it came to, the
//! callbacks, and satisfaction — the figures leaders watch ("every call
//! gets an answer", satisfaction). Calls are the hotline's own (not split
//! by place); callbacks and satisfaction follow the case's place, and a
//! supervisor sees her region's.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use super::entity::callback;
use crate::{
    auth::Principal,
    db::entities::call,
    error::{Error, Result},
    state::AppState,
    vocab::{CallbackStatus, DissatisfactionReason, Role, Satisfaction},
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HotlineReportQuery {
    /// Start (inclusive); default 30 days before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive); default now.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct CallFigures {
    pub total: u64,
    pub answered: u64,
    /// Never answered (each became a callback when the number was known).
    pub missed: u64,
    /// Answered calls by disposition; a call linked to a case without one
    /// counts as `work_order`, any other as `undisposed`.
    pub dispositions: BTreeMap<String, u64>,
    pub topics: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SatisfactionFigures {
    pub asked: u64,
    pub by_answer: BTreeMap<String, u64>,
    /// (satisfied + basically satisfied) / answers other than `declined`.
    pub rate: Option<f64>,
    /// Unsatisfied with the handling: reopened for re-handling.
    pub reopened: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HotlineReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub calls: CallFigures,
    /// Callbacks created in the period: kind → status → count.
    pub callbacks: BTreeMap<String, BTreeMap<String, u64>>,
    pub satisfaction: SatisfactionFigures,
    /// Satisfaction by county (6-digit region prefix).
    pub satisfaction_by_county: BTreeMap<String, SatisfactionFigures>,
}

fn period(now: DateTime<Utc>, q: &HotlineReportQuery) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    for (field, v) in [("from", q.from), ("to", q.to)] {
        if v.is_some_and(|v| !(2000..=2100).contains(&v.year())) {
            return Err(Error::validation(
                field,
                "must lie in the years 2000 to 2100",
            ));
        }
    }
    let to = q.to.unwrap_or(now);
    let from = q.from.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(Error::validation("from", "must be before `to`"));
    }
    if to - from > Duration::days(5 * 365 + 2) {
        return Err(Error::validation("from", "a report covers at most 5 years"));
    }
    Ok((from, to))
}

fn add_answer(f: &mut SatisfactionFigures, cb: &callback::Model) {
    let Some(s) = cb.satisfaction else { return };
    f.asked += 1;
    *f.by_answer.entry(s.as_str().to_string()).or_default() += 1;
    if s == Satisfaction::Unsatisfied && cb.reason == Some(DissatisfactionReason::Handling) {
        f.reopened += 1;
    }
    let get = |k: Satisfaction| f.by_answer.get(k.as_str()).copied().unwrap_or(0);
    let good = get(Satisfaction::Satisfied) + get(Satisfaction::BasicallySatisfied);
    let counted = f.asked - get(Satisfaction::Declined);
    f.rate = (counted > 0).then(|| good as f64 / counted as f64);
}

async fn call_figures(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<CallFigures> {
    type Row = (
        Option<DateTime<Utc>>,
        Option<String>,
        Option<uuid::Uuid>,
        Option<serde_json::Value>,
    );
    let rows: Vec<Row> = call::Entity::find()
        .select_only()
        .column(call::Column::AnsweredAt)
        .column(call::Column::Disposition)
        .column(call::Column::CaseId)
        .column(call::Column::Topics)
        .filter(call::Column::ReceivedAt.gte(from))
        .filter(call::Column::ReceivedAt.lt(to))
        .into_tuple()
        .all(&state.db.conn)
        .await?;
    let mut f = CallFigures::default();
    for (answered, disposition, case_id, topics) in rows {
        f.total += 1;
        if answered.is_none() && disposition.is_none() {
            f.missed += 1;
            continue;
        }
        f.answered += 1;
        let d = disposition.unwrap_or_else(|| {
            if case_id.is_some() {
                "work_order"
            } else {
                "undisposed"
            }
            .to_string()
        });
        *f.dispositions.entry(d).or_default() += 1;
        let topics: Vec<String> = topics
            .and_then(|t| serde_json::from_value(t).ok())
            .unwrap_or_default();
        for t in topics {
            *f.topics.entry(t).or_default() += 1;
        }
    }
    Ok(f)
}

pub async fn hotline(
    state: &AppState,
    p: &Principal,
    q: HotlineReportQuery,
) -> Result<HotlineReport> {
    p.require(&[Role::Operator, Role::Supervisor, Role::Admin])?;
    let (from, to) = period(state.now(), &q)?;
    let mut cbs = callback::Entity::find()
        .filter(callback::Column::CreatedAt.gte(from))
        .filter(callback::Column::CreatedAt.lt(to));
    if let Some(region) = super::view::reader_region(p)? {
        cbs = cbs.filter(callback::Column::RegionCode.starts_with(region.prefix()));
    }
    let cbs = cbs.all(&state.db.conn).await?;
    let mut callbacks: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut satisfaction = SatisfactionFigures::default();
    let mut by_county: BTreeMap<String, SatisfactionFigures> = BTreeMap::new();
    for cb in &cbs {
        *callbacks
            .entry(cb.kind.as_str().to_string())
            .or_default()
            .entry(cb.status.as_str().to_string())
            .or_default() += 1;
        if cb.status == CallbackStatus::Done {
            add_answer(&mut satisfaction, cb);
            if let Some(r) = cb.region_code.as_deref().filter(|r| r.len() >= 6) {
                add_answer(by_county.entry(r[..6].to_string()).or_default(), cb);
            }
        }
    }
    by_county.retain(|_, f| f.asked > 0);
    let calls = if p.role == Role::Supervisor {
        CallFigures::default()
    } else {
        call_figures(state, from, to).await?
    };
    Ok(HotlineReport {
        from,
        to,
        calls,
        callbacks,
        satisfaction,
        satisfaction_by_county: by_county,
    })
}
