//! The 110 side of an escalation: its `external_ref` (the 110 incident or
//! dispatch record number), set by the police working it or the hotline;
//! and `reported_to_110`, the action an operator records when she called
//! 110 herself (DOMAIN.md: the escalation adds to that call, it does not
//! replace it). One unit of work each.
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    chain::may_work,
    engine::event,
    service::{cas_update, check_version, load_visible},
    view::{view, EscalationView},
};
use crate::{
    auth::Principal,
    cases::record::text,
    db::entities::{escalation, escalation_action},
    error::{Error, Result},
    state::AppState,
    vocab::{ActionKind, EscalationStatus, Role},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalRefBody {
    /// The 110 incident number or the dispatch record number; empty clears.
    pub external_ref: String,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedTo110Body {
    pub external_ref: Option<String>,
    #[serde(default)]
    pub notes: String,
    pub version: Option<i32>,
}

fn reference(raw: &str) -> Result<Option<String>> {
    let r = text("external_ref", raw, 64, false)?;
    if r.as_deref()
        .is_some_and(|r| r.chars().any(char::is_control))
    {
        return Err(Error::validation("external_ref", "no control characters"));
    }
    Ok(r)
}

/// `POST /escalations/{id}/external-ref`: the police who may work it, or
/// the hotline.
pub async fn set_external_ref(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ExternalRefBody,
) -> Result<EscalationView> {
    let r = reference(&body.external_ref)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (e, c, access) = load_visible(&*w, p, id).await?;
    if p.role != Role::Operator {
        may_work(&state.directory, &*w, p, &e, &c, access).await?;
    }
    check_version(&e, body.version)?;
    let updated = cas_update(
        &*w,
        &e,
        escalation::ActiveModel {
            external_ref: Set(r.clone()),
            ..Default::default()
        },
    )
    .await?;
    w.event(event(
        &c,
        &updated,
        "escalation.external_ref_set",
        Some(p.user_id),
        now,
        json!({"escalation_id": e.id, "external_ref": r}),
    ));
    w.commit().await?;
    view(&state.db.conn, &updated, &c.number, now).await
}

/// `POST /escalations/{id}/reported-to-110`: an operator called 110.
pub async fn reported_to_110(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ReportedTo110Body,
) -> Result<EscalationView> {
    p.require(&[Role::Operator])?;
    let r = match &body.external_ref {
        Some(raw) => reference(raw)?,
        None => None,
    };
    let notes = text("notes", &body.notes, 4000, false)?.unwrap_or_default();
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (e, c, _) = load_visible(&*w, p, id).await?;
    check_version(&e, body.version)?;
    if e.status == EscalationStatus::Resolved {
        return Err(Error::InvalidTransition(
            "the escalation is resolved".into(),
        ));
    }
    escalation_action::Entity::insert(escalation_action::ActiveModel {
        id: Set(crate::db::new_id()),
        escalation_id: Set(e.id),
        kind: Set(ActionKind::ReportedTo_110),
        notes: Set(notes.clone()),
        at: Set(now),
        by_user: Set(p.user_id),
    })
    .exec_without_returning(&*w)
    .await?;
    let updated = cas_update(
        &*w,
        &e,
        escalation::ActiveModel {
            external_ref: Set(r.clone().or(e.external_ref.clone())),
            ..Default::default()
        },
    )
    .await?;
    w.event(event(
        &c,
        &updated,
        "escalation.action_recorded",
        Some(p.user_id),
        now,
        json!({"escalation_id": e.id, "kind": ActionKind::ReportedTo_110, "notes": notes,
               "external_ref": updated.external_ref}),
    ));
    w.commit().await?;
    view(&state.db.conn, &updated, &c.number, now).await
}
