//! What a call came to (issue 18): most calls to a 12338 line are
//! consultations answered on the spot; the operator records that, and the
//! topics, when she ends a call without opening a case, so the figures
//! count every answered call. Recorded again, it replaces the earlier one
//! (the operator corrects herself); audited either way.
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::CallView;
use crate::{
    audit,
    auth::Principal,
    cases::record::text,
    db::entities::call,
    error::{Error, Result},
    state::AppState,
    vocab::{CallTopic, Disposition, Role},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositionBody {
    pub kind: Disposition,
    #[serde(default)]
    pub topics: Vec<CallTopic>,
    pub notes: Option<String>,
}

pub async fn record(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: DispositionBody,
) -> Result<CallView> {
    p.require(&[Role::Operator, Role::Admin])?;
    let notes = match &body.notes {
        Some(n) => text("notes", n, 2000, false)?,
        None => None,
    };
    let mut topics = body.topics.clone();
    topics.sort_by_key(|t| t.as_str());
    topics.dedup();
    if body.kind == Disposition::ConsultationAnswered && topics.is_empty() {
        return Err(Error::validation(
            "topics",
            "name at least one topic of an answered consultation",
        ));
    }
    let now = state.now();
    let w = state.work_at(now).await?;
    let c = call::Entity::find_by_id(id)
        .one(&*w)
        .await?
        .ok_or(Error::NotFound("call"))?;
    if body.kind == Disposition::WorkOrder && c.case_id.is_none() {
        return Err(Error::validation(
            "kind",
            "a work order is a call with a case; open the case from the call",
        ));
    }
    let m = call::ActiveModel {
        id: Set(c.id),
        disposition: Set(Some(body.kind)),
        topics: Set(Some(serde_json::to_value(&topics).unwrap_or_default())),
        disposition_notes: Set(notes),
        disposed_by: Set(Some(p.user_id)),
        disposed_at: Set(Some(now)),
        answered_at: Set(Some(c.answered_at.unwrap_or(now))),
        ..Default::default()
    }
    .update(&*w)
    .await?;
    audit::append(
        &*w,
        now,
        Some(p.user_id),
        "call.disposition",
        format!("call:{id}"),
        json!({"kind": body.kind, "topics": topics, "replaced": c.disposition}),
    )
    .await?;
    w.commit().await?;
    CallView::from_model(m)
}
