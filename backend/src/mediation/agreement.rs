//! The agreement (People's Mediation Law arts. 28–31): its form, number,
//! facts and terms, each obligation with the party who owes it and its
//! time, and their performance; and the rule the case outcome follows —
//! a mediated case records `agreement` only with an agreement on file, and
//! the parties' confirmation window counts from its effective date.
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    clocks::{MEDIATION_KINDS, PERFORMANCE_DUE},
    entity::{mediation, obligation},
    read,
    rules::{self, AgreementBody, PerformedBody},
    steps::open_mediation,
    view::stored_parties,
};
use crate::{
    auth::Principal,
    cases::record::{event, text},
    db::entities::case,
    error::{Error, Result},
    vocab::{MediationStatus, OutcomeResult},
    work::Work,
};

/// Record the agreement: the mediation ends `agreed`, each obligation gets
/// its performance reminder row.
pub async fn record(
    w: &mut Work,
    p: &Principal,
    c: &case::Model,
    body: &AgreementBody,
) -> Result<mediation::Model> {
    let now = w.now;
    let (number, facts, terms, effective_at) = rules::agreement(body, now)?;
    let m = open_mediation(w, c).await?;
    let obligations = rules::obligations(&body.obligations, &stored_parties(&m)?)?;
    if read::sessions(&**w, m.id).await?.is_empty() {
        return Err(Error::InvalidTransition(
            "请先记录调解会，协议在调解之后达成 / record the mediation session first (an agreement follows a session)".into(),
        ));
    }
    let am = mediation::ActiveModel {
        status: Set(MediationStatus::Agreed),
        agreement_form: Set(Some(body.form)),
        agreement_number: Set(number.clone()),
        agreement_facts: Set(Some(facts)),
        agreement_terms: Set(Some(terms)),
        effective_at: Set(Some(effective_at)),
        agreed_at: Set(Some(now)),
        agreed_by: Set(Some(p.user_id)),
        ..Default::default()
    };
    let m = read::save(&**w, &m, am, now).await?;
    w.cancel(m.id, MEDIATION_KINDS).await?;
    let mut due = Vec::new();
    for (i, o) in obligations.iter().enumerate() {
        let row = obligation::ActiveModel {
            id: Set(crate::db::new_id()),
            mediation_id: Set(m.id),
            n: Set(i as i32 + 1),
            text: Set(o.text.clone()),
            party: Set(o.party.clone()),
            due_at: Set(o.due_at),
            performed_at: Set(None),
            performed_notes: Set(None),
            performed_recorded_by: Set(None),
            reminded_at: Set(None),
        }
        .insert(&**w)
        .await?;
        due.push((row.id, o.due_at));
    }
    let rows: Vec<(&str, Uuid, &str, chrono::DateTime<chrono::Utc>)> = due
        .iter()
        .map(|(id, at)| ("obligation", *id, PERFORMANCE_DUE, *at))
        .collect();
    if !rows.is_empty() {
        w.schedule_many(&rows).await?;
    }
    w.event(event(
        c,
        "mediation.agreement_recorded",
        Some(p.user_id),
        now,
        json!({
            "mediation_id": m.id,
            "form": body.form,
            "number": number,
            "effective_date": body.effective_date,
            "obligations": due.iter().enumerate()
                .map(|(i, (_, at))| json!({"n": i + 1, "due_at": at}))
                .collect::<Vec<_>>(),
        }),
    ));
    Ok(m)
}

/// Record that obligation `n` was performed; its reminder stops.
pub async fn performed(
    w: &mut Work,
    p: &Principal,
    c: &case::Model,
    n: i32,
    body: &PerformedBody,
) -> Result<()> {
    let now = w.now;
    rules::past("at", body.at, now)?;
    let notes = text("notes", &body.notes, 2000, false)?;
    let m = read::required(&**w, c.id).await?;
    if m.status != MediationStatus::Agreed {
        return Err(Error::InvalidTransition(
            "本调解尚无协议 / the mediation has no agreement whose obligations could be performed"
                .into(),
        ));
    }
    let o = obligation::Entity::find()
        .filter(obligation::Column::MediationId.eq(m.id))
        .filter(obligation::Column::N.eq(n))
        .one(&**w)
        .await?
        .ok_or(Error::NotFound("obligation"))?;
    if o.performed_at.is_some() {
        return Err(Error::InvalidTransition(format!(
            "第{n}项义务已记录为履行 / obligation {n} is already recorded as performed"
        )));
    }
    let on_time = body.at <= o.due_at;
    // Conditional on "not yet performed": of two at once, one wins.
    let res = obligation::Entity::update_many()
        .set(obligation::ActiveModel {
            performed_at: Set(Some(body.at)),
            performed_notes: Set(notes.clone()),
            performed_recorded_by: Set(Some(p.user_id)),
            ..Default::default()
        })
        .filter(obligation::Column::Id.eq(o.id))
        .filter(obligation::Column::PerformedAt.is_null())
        .exec(&**w)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    w.cancel(o.id, &[PERFORMANCE_DUE]).await?;
    w.event(event(
        c,
        "mediation.obligation_performed",
        Some(p.user_id),
        now,
        json!({
            "mediation_id": m.id, "n": n, "at": body.at, "on_time": on_time, "notes": notes,
        }),
    ));
    Ok(())
}

/// The outcome rule. On a case with a mediation, `agreement` needs the
/// agreement on file (422 `agreement`) and dates from its effective date
/// (a different `agreement_date` is 422); other cases keep what was sent.
pub async fn agreement_date_for_outcome(
    conn: &impl ConnectionTrait,
    case_id: Uuid,
    result: OutcomeResult,
    sent: Option<NaiveDate>,
) -> Result<Option<NaiveDate>> {
    if result != OutcomeResult::Agreement {
        return Ok(sent);
    }
    let Some(m) = read::of_case(conn, case_id).await? else {
        return Ok(sent);
    };
    let effective = match (m.status, m.effective_at) {
        (MediationStatus::Agreed, Some(at)) => at.date_naive(),
        _ => {
            return Err(Error::validation(
                "agreement",
                "本案在调解中，请先登记调解协议 / this case is in mediation: record the \
                 mediation agreement first (POST /cases/{id}/mediation/agreement)",
            ))
        }
    };
    match sent {
        Some(d) if d != effective => Err(Error::validation(
            "agreement_date",
            format!("须为调解协议的生效日期 {effective} / must be the agreement's effective date, {effective}"),
        )),
        _ => Ok(Some(effective)),
    }
}
