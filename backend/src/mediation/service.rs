//! The mediator's use cases, one unit of work each: register, record a
//! session, terminate (with the police escalation in the same
//! transaction), record the agreement, record a performance; and the
//! reads: the mediation, the agreement document (audited).
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    agreement, document, read,
    rules::{AgreementBody, PerformedBody, RegisterBody, SessionBody, TerminateBody},
    steps as mediation_core,
    view::{MediationView, Whole},
};
use crate::{
    audit,
    auth::Principal,
    cases::scope::{self, Access},
    db::entities::{case, unit},
    error::{Error, Result},
    escalation,
    state::AppState,
    vocab::{CaseStatus, RiskLevel, TerminationReason, UnitKind, Urgency},
    work::Work,
};

/// The units that mediate: committees, and the stations and women's homes
/// that hold mediations themselves.
fn mediates(kind: UnitKind) -> bool {
    matches!(
        kind,
        UnitKind::MediationCommittee | UnitKind::RightsStation | UnitKind::WomensHome
    )
}

/// The case, in scope (404), handled by the principal's unit (403), which
/// mediates (403), and in progress when `in_progress` (409).
async fn load_for_mediator(
    w: &Work,
    p: &Principal,
    id: Uuid,
    in_progress: bool,
) -> Result<case::Model> {
    let (c, access) = scope::load(&**w, p, id).await?;
    if access != Access::Handler {
        return Err(Error::Forbidden(
            "只有承办单位可以调解本案 / only the unit handling the case mediates it".into(),
        ));
    }
    if !p.unit.as_ref().is_some_and(|u| mediates(u.kind)) {
        return Err(Error::Forbidden(
            "只有人民调解委员会、妇女维权站或妇女之家可以调解 / only a mediation committee, a rights station or a women's home mediates".into(),
        ));
    }
    if in_progress && c.status != CaseStatus::InProgress {
        return Err(Error::InvalidTransition(format!(
            "案件须在办理中（请先接收）/ mediation happens while the case is in progress (accept it first); it is {}",
            c.status
        )));
    }
    Ok(c)
}

/// After the commit: the mediation as its handling unit sees it (masked).
async fn respond(state: &AppState, case_id: Uuid) -> Result<MediationView> {
    let conn = &state.db.conn;
    let c = case::Entity::find_by_id(case_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("case"))?;
    let m = read::required(conn, case_id).await?;
    read::whole(conn, c, m).await?.view(false)
}

/// `PUT /cases/{id}/mediation`: register the dispute, or correct the
/// registration while no session ended it.
pub async fn register(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: RegisterBody,
) -> Result<MediationView> {
    let mut w = state.work_at(state.now()).await?;
    let c = load_for_mediator(&w, p, id, true).await?;
    let open_escalation = escalation::open_one(&*w, c.id).await?.is_some();
    mediation_core::register(
        &mut w,
        &state.settings.deadlines,
        p,
        &c,
        open_escalation,
        &body,
    )
    .await?;
    w.commit().await?;
    respond(state, id).await
}

pub async fn record_session(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: SessionBody,
) -> Result<MediationView> {
    let mut w = state.work_at(state.now()).await?;
    let c = load_for_mediator(&w, p, id, true).await?;
    mediation_core::record_session(&mut w, p, &c, &body).await?;
    w.commit().await?;
    respond(state, id).await
}

/// End the mediation; `escalated_to_police` opens the police escalation
/// (or tightens the open one) in the same transaction: a dispute that may
/// turn criminal is reported (People's Mediation Law art. 25).
pub async fn terminate(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: TerminateBody,
) -> Result<MediationView> {
    let mut w = state.work_at(state.now()).await?;
    let c = load_for_mediator(&w, p, id, true).await?;
    mediation_core::terminate(&mut w, p, &c, &body).await?;
    if body.reason == TerminationReason::EscalatedToPolice {
        let why = format!(
            "调解终止，移送公安 / mediation ended, reported to the police: {}",
            body.notes.trim()
        );
        escalation::open_or_tighten(
            &mut w,
            &state.settings,
            &state.directory,
            &c,
            Urgency::High,
            why.trim_end_matches([':', ' ']),
            Some(p.user_id),
        )
        .await?;
        raise_risk_to_high(&w, &c).await?;
    }
    w.commit().await?;
    respond(state, id).await
}

/// The case's risk follows the escalation up (as a hand escalation's does),
/// never down: a later registration then meets the safety check.
async fn raise_risk_to_high(w: &Work, c: &case::Model) -> Result<()> {
    if c.risk_level.rank() >= RiskLevel::High.rank() {
        return Ok(());
    }
    case::Entity::update_many()
        .col_expr(
            case::Column::RiskLevel,
            Expr::value(RiskLevel::High.as_str()),
        )
        .col_expr(
            case::Column::Version,
            Expr::col(case::Column::Version).add(1),
        )
        .col_expr(case::Column::UpdatedAt, Expr::value(w.now))
        .filter(case::Column::Id.eq(c.id))
        .exec(&**w)
        .await?;
    Ok(())
}

pub async fn record_agreement(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: AgreementBody,
) -> Result<MediationView> {
    let mut w = state.work_at(state.now()).await?;
    let c = load_for_mediator(&w, p, id, true).await?;
    agreement::record(&mut w, p, &c, &body).await?;
    w.commit().await?;
    respond(state, id).await
}

/// Performance goes on after the case is resolved or closed.
pub async fn performed(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    n: i32,
    body: PerformedBody,
) -> Result<MediationView> {
    let mut w = state.work_at(state.now()).await?;
    let c = load_for_mediator(&w, p, id, false).await?;
    agreement::performed(&mut w, p, &c, n, &body).await?;
    w.commit().await?;
    respond(state, id).await
}

/// The mediation of a case, for anyone who may read the case; the parties'
/// numbers in full only for the handling unit that asks (audited).
pub async fn get(state: &AppState, p: &Principal, id: Uuid, reveal: bool) -> Result<MediationView> {
    let conn = &state.db.conn;
    let (c, access) = scope::load(conn, p, id).await?;
    if reveal && access != Access::Handler {
        return Err(Error::Forbidden(
            "只有承办单位可以查看当事人完整的电话和身份证号码 / only the handling unit may see the parties' full phone and ID numbers".into(),
        ));
    }
    let m = read::required(conn, id).await?;
    let whole = read::whole(conn, c, m).await?;
    if reveal {
        audit_read(state, p, &whole, "mediation.reveal").await?;
    }
    whole.view(reveal)
}

/// The 人民调解协议书 as HTML: numbers in full only for the handling unit;
/// every download is audited.
pub async fn agreement_document(state: &AppState, p: &Principal, id: Uuid) -> Result<String> {
    let conn = &state.db.conn;
    let (c, access) = scope::load(conn, p, id).await?;
    let m = read::required(conn, id).await?;
    if m.agreement_form.is_none() {
        return Err(Error::InvalidTransition(
            "本案尚未登记调解协议 / no mediation agreement is recorded on this case".into(),
        ));
    }
    let committee = unit::Entity::find_by_id(m.unit_id)
        .one(conn)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let full = access == Access::Handler;
    let whole = read::whole(conn, c, m).await?;
    audit_read(state, p, &whole, "mediation.agreement_document").await?;
    document::render(&committee, &whole.view(full)?)
}

async fn audit_read(state: &AppState, p: &Principal, whole: &Whole, action: &str) -> Result<()> {
    let now = state.now();
    let w = state.work_at(now).await?;
    audit::append(
        &*w,
        now,
        Some(p.user_id),
        action,
        format!("case:{}", whole.case.id),
        json!({
            "case_number": whole.case.number,
            "mediation_id": whole.mediation.id,
        }),
    )
    .await?;
    w.commit().await?;
    Ok(())
}
