//! What happens to a measure after it is recorded: the court's decision
//! (a granted order is served on the police and the village committee,
//! with its expiry notice), an extension, a violation (the escalation
//! reopens or tightens to `imminent`), a follow-up visit done. Domain
//! core on the caller's unit of work; a concurrent change wins by version.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    entity::{measure, violation, visit},
    kinds::{DECISION, EXPIRY_NOTICE, VISIT},
    mail::Notice,
    recording::{check_validity, event, places, readers, tell},
    view::served_of,
};
use crate::{
    cases::directory::Directory,
    config::Settings,
    db::entities::case,
    error::{Error, Result},
    escalation::{chain::add_handler, tighten::open_or_tighten},
    vocab::{MeasureKind, MeasureOutcome, ProtectiveTerm, RiskLevel, Urgency},
    work::Work,
};

/// A decision as the use case checked it.
#[derive(Debug, Clone)]
pub struct Decision {
    pub outcome: MeasureOutcome,
    pub decided_at: DateTime<Utc>,
    pub number: Option<String>,
    pub effective_from: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub terms: Option<Vec<ProtectiveTerm>>,
}

/// Compare-and-set on version.
async fn save(
    w: &Work,
    m: &measure::Model,
    mut am: measure::ActiveModel,
) -> Result<measure::Model> {
    am.version = Set(m.version + 1);
    am.updated_at = Set(w.now);
    let res = measure::Entity::update_many()
        .set(am)
        .filter(measure::Column::Id.eq(m.id))
        .filter(measure::Column::Version.eq(m.version))
        .exec(&**w)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    measure::Entity::find_by_id(m.id)
        .one(&**w)
        .await?
        .ok_or(Error::NotFound("measure"))
}

/// The checks of a decision that need the stored measure: 409 on a
/// withdrawn or decided one, 422 for times and the six-month rule.
fn check_decision(settings: &Settings, m: &measure::Model, d: &Decision) -> Result<()> {
    if m.outcome != MeasureOutcome::Pending {
        return Err(Error::InvalidTransition(format!(
            "this application is {} already",
            m.outcome
        )));
    }
    if d.outcome == MeasureOutcome::Pending {
        return Err(Error::validation(
            "outcome",
            "a decision is granted, rejected or withdrawn",
        ));
    }
    if m.applied_at.is_some_and(|a| d.decided_at < a) {
        return Err(Error::validation("decided_at", "is before applied_at"));
    }
    if d.outcome == MeasureOutcome::Granted && m.kind == MeasureKind::ProtectionOrder {
        let from = d.effective_from.unwrap_or(d.decided_at);
        let until = d.expires_at.ok_or_else(|| {
            Error::validation("expires_at", "a granted protection order has an expiry")
        })?;
        check_validity(from, until, settings.measures.max_months)?;
    }
    Ok(())
}

pub async fn decide(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    c: &case::Model,
    m: &measure::Model,
    d: Decision,
    actor: Uuid,
) -> Result<measure::Model> {
    check_decision(settings, m, &d)?;
    let at = places(directory, &**w, c).await?;
    let granted = d.outcome == MeasureOutcome::Granted;
    let mut served = served_of(m)?;
    if granted {
        served.extend(at.police.iter().chain(at.village.iter()).copied());
        served.sort();
        served.dedup();
    }
    let mut am = measure::ActiveModel {
        outcome: Set(d.outcome),
        decided_at: Set(Some(d.decided_at)),
        served_to: Set(json!(served)),
        ..Default::default()
    };
    if let Some(n) = &d.number {
        am.number = Set(Some(n.clone()));
    }
    if let Some(t) = &d.terms {
        am.terms = Set(json!(t));
    }
    if granted {
        am.effective_from = Set(Some(d.effective_from.unwrap_or(d.decided_at)));
        am.expires_at = Set(d.expires_at);
    }
    let fresh = save(w, m, am).await?;
    w.cancel(m.id, &[DECISION]).await?;
    if granted {
        for u in &served {
            add_handler(&**w, c.id, *u).await?;
        }
        schedule_expiry(w, settings, &fresh).await?;
        tell(
            w,
            settings,
            c,
            fresh.kind,
            &Notice::Served,
            &served,
            Vec::new(),
        )
        .await?;
    }
    let seen = readers(directory, &**w, c).await?;
    w.event(event(
        c,
        &seen,
        "measure.decided",
        Some(actor),
        w.now,
        json!({
            "measure_id": m.id, "kind": m.kind, "outcome": fresh.outcome,
            "decided_at": fresh.decided_at, "effective_from": fresh.effective_from,
            "expires_at": fresh.expires_at, "served_to": served,
        }),
    ));
    Ok(fresh)
}

/// The expiry notice, `expiry_notice_s` before the order ends (at once
/// when that is past already).
async fn schedule_expiry(w: &mut Work, settings: &Settings, m: &measure::Model) -> Result<()> {
    if let Some(until) = m.expires_at {
        let at = Ord::max(
            until - Duration::seconds(settings.measures.expiry_notice_s),
            w.now,
        );
        w.schedule("measure", m.id, EXPIRY_NOTICE, at).await?;
    }
    Ok(())
}

pub async fn extend(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    c: &case::Model,
    m: &measure::Model,
    expires_at: DateTime<Utc>,
    actor: Uuid,
) -> Result<measure::Model> {
    let (MeasureOutcome::Granted, Some(current)) = (m.outcome, m.expires_at) else {
        return Err(Error::InvalidTransition(
            "only a granted measure with an expiry can be extended".into(),
        ));
    };
    // Each extension runs at most the same limit from the current expiry.
    check_validity(current, expires_at, settings.measures.max_months)?;
    let fresh = save(
        w,
        m,
        measure::ActiveModel {
            expires_at: Set(Some(expires_at)),
            ..Default::default()
        },
    )
    .await?;
    w.cancel(m.id, &[EXPIRY_NOTICE]).await?;
    schedule_expiry(w, settings, &fresh).await?;
    let at = readers(directory, &**w, c).await?;
    w.event(event(
        c,
        &at,
        "measure.extended",
        Some(actor),
        w.now,
        json!({"measure_id": m.id, "from": current, "expires_at": expires_at}),
    ));
    Ok(fresh)
}

/// A violation: recorded, and the case's escalation reopened (a new one)
/// or tightened to `imminent`, in the same unit of work; the case's risk
/// goes to `imminent`.
#[allow(clippy::too_many_arguments)]
pub async fn violation(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    c: &case::Model,
    m: &measure::Model,
    when: DateTime<Utc>,
    notes: &str,
    actor: Uuid,
) -> Result<Uuid> {
    let v = violation::ActiveModel {
        id: Set(crate::db::new_id()),
        measure_id: Set(m.id),
        at: Set(when),
        notes: Set(notes.to_string()),
        recorded_by: Set(actor),
        created_at: Set(w.now),
    }
    .insert(&**w)
    .await?;
    let at = readers(directory, &**w, c).await?;
    w.event(event(
        c,
        &at,
        "measure.violated",
        Some(actor),
        w.now,
        json!({"measure_id": m.id, "kind": m.kind, "violation_id": v.id, "at": when}),
    ));
    let reason = format!(
        "{} violated ({})",
        m.kind,
        m.number.as_deref().unwrap_or("-")
    );
    open_or_tighten(
        w,
        settings,
        directory,
        c,
        Urgency::Imminent,
        &reason,
        Some(actor),
    )
    .await?;
    if c.risk_level.rank() < RiskLevel::Imminent.rank() {
        case::Entity::update_many()
            .col_expr(
                case::Column::RiskLevel,
                Expr::value(RiskLevel::Imminent.as_str()),
            )
            .col_expr(
                case::Column::Version,
                Expr::col(case::Column::Version).add(1),
            )
            .col_expr(case::Column::UpdatedAt, Expr::value(w.now))
            .filter(case::Column::Id.eq(c.id))
            .exec(&**w)
            .await?;
    }
    Ok(v.id)
}

/// A follow-up visit done (409 when it was done already).
pub async fn visit_done(
    w: &mut Work,
    directory: &Directory,
    c: &case::Model,
    v: &visit::Model,
    when: DateTime<Utc>,
    notes: Option<String>,
    actor: Uuid,
) -> Result<()> {
    let res = visit::Entity::update_many()
        .col_expr(visit::Column::DoneAt, Expr::value(when))
        .col_expr(visit::Column::DoneBy, Expr::value(actor))
        .col_expr(visit::Column::Notes, Expr::value(notes))
        .filter(visit::Column::Id.eq(v.id))
        .filter(visit::Column::DoneAt.is_null())
        .exec(&**w)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::InvalidTransition(
            "this visit is recorded already".into(),
        ));
    }
    w.cancel(v.id, &[VISIT]).await?;
    let at = readers(directory, &**w, c).await?;
    w.event(event(
        c,
        &at,
        "measure.visit_done",
        Some(actor),
        w.now,
        json!({"measure_id": v.measure_id, "visit_id": v.id, "party": v.party, "at": when,
               "due_at": v.due_at, "late": when > v.due_at}),
    ));
    Ok(())
}
