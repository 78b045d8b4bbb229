//! Mediation figures for supervisors, scoped like case lists: disputes
//! registered in the period, agreed, terminated by reason, agreements
//! performed on time, and the parties' applications for judicial
//! confirmation.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::entity::{mediation, obligation};
use crate::{
    auth::Principal,
    cases::scope,
    db::entities::case,
    error::{Error, Result},
    regions,
    state::AppState,
    vocab::{MediationStatus, Role},
};

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct MediationReportQuery {
    /// Start of the period (inclusive); default 30 days before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End of the period (exclusive); default now.
    pub to: Option<DateTime<Utc>>,
    /// Narrow to a region (within the supervisor's own).
    pub region_code: Option<String>,
}

#[derive(Debug, Serialize, Default, utoipa::ToSchema)]
pub struct MediationFigures {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub region_code: Option<String>,
    /// Disputes registered in the period.
    pub registered: u64,
    /// Of those, ended with an agreement.
    pub agreed: u64,
    pub terminated: u64,
    pub terminated_by_reason: BTreeMap<String, u64>,
    /// Agreements whose obligations due so far were all performed by their
    /// due time (an agreement without obligations counts as performed).
    pub agreements_performed_on_time: u64,
    pub obligations: u64,
    pub obligations_performed_on_time: u64,
    pub obligations_performed_late: u64,
    /// Agreements whose parties applied for judicial confirmation (status
    /// `applied`, `confirmed` or `rejected`).
    pub confirmation_applied: u64,
}

pub async fn figures(
    state: &AppState,
    p: &Principal,
    q: MediationReportQuery,
) -> Result<MediationFigures> {
    p.require(&[Role::Supervisor, Role::Admin])?;
    let now = state.now();
    let to = q.to.unwrap_or(now);
    let from = q.from.unwrap_or(to - Duration::days(30));
    if from >= to || to - from > Duration::days(5 * 366) {
        return Err(Error::validation(
            "from",
            "须早于 to，最长5年 / must be before `to`, at most 5 years",
        ));
    }
    let mut cond = scope::list_condition(p);
    let region = match q.region_code.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => {
            let code = regions::parse_field("region_code", r)?;
            cond = cond.add(case::Column::RegionCode.starts_with(code.prefix()));
            Some(code.as_str().to_string())
        }
        None => None,
    };
    let conn = &state.db.conn;
    let all = mediation::Entity::find()
        .filter(mediation::Column::RegisteredAt.gte(from))
        .filter(mediation::Column::RegisteredAt.lt(to))
        .all(conn)
        .await?;
    let mut out = MediationFigures {
        from,
        to,
        region_code: region,
        ..Default::default()
    };
    for chunk in all.chunks(500) {
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|m| m.case_id).collect();
        let cases: BTreeMap<uuid::Uuid, case::Model> = case::Entity::find()
            .filter(cond.clone())
            .filter(case::Column::Id.is_in(ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mine: Vec<&mediation::Model> = chunk
            .iter()
            .filter(|m| cases.contains_key(&m.case_id))
            .collect();
        let obligations = obligation::Entity::find()
            .filter(
                obligation::Column::MediationId
                    .is_in(mine.iter().map(|m| m.id).collect::<Vec<_>>()),
            )
            .all(conn)
            .await?;
        for m in mine {
            let c = cases.get(&m.case_id);
            count(&mut out, m, c, &obligations, now);
        }
    }
    Ok(out)
}

fn count(
    out: &mut MediationFigures,
    m: &mediation::Model,
    c: Option<&case::Model>,
    obligations: &[obligation::Model],
    now: DateTime<Utc>,
) {
    out.registered += 1;
    match m.status {
        MediationStatus::Agreed => out.agreed += 1,
        MediationStatus::Terminated => {
            out.terminated += 1;
            if let Some(r) = m.termination_reason {
                *out.terminated_by_reason
                    .entry(r.as_str().into())
                    .or_insert(0) += 1;
            }
        }
        MediationStatus::Registered => {}
    }
    if m.status != MediationStatus::Agreed {
        return;
    }
    let mut all_on_time = true;
    for o in obligations.iter().filter(|o| o.mediation_id == m.id) {
        out.obligations += 1;
        match o.performed_at {
            Some(at) if at <= o.due_at => out.obligations_performed_on_time += 1,
            Some(_) => {
                out.obligations_performed_late += 1;
                all_on_time = false;
            }
            None => all_on_time &= o.due_at > now,
        }
    }
    if all_on_time {
        out.agreements_performed_on_time += 1;
    }
    let applied = c
        .and_then(|c| c.confirmation.as_ref())
        .and_then(|v| v.get("status"))
        .and_then(|s| s.as_str())
        .is_some_and(|s| matches!(s, "applied" | "confirmed" | "rejected"));
    if applied {
        out.confirmation_applied += 1;
    }
}
