//! What every case use case shares: the case event constructor, text
//! checks, and the errors intake and lifecycle both answer with. Pure; it
//! imports no use case, so intake, the clocks and the lifecycle can all
//! use it without importing one another.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    db::entities::case,
    error::{Error, Result},
    events::NewEvent,
};

pub fn text(field: &str, value: &str, max: usize, required: bool) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return if required {
            Err(Error::validation(field, "must not be empty"))
        } else {
            Ok(None)
        };
    }
    if v.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(Some(v.to_string()))
}

pub fn required(field: &str, value: &str, max: usize) -> Result<String> {
    text(field, value, max, true)?.ok_or_else(|| Error::validation(field, "must not be empty"))
}

pub fn event(
    c: &case::Model,
    kind: &'static str,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    data: serde_json::Value,
) -> NewEvent {
    NewEvent {
        case_id: c.id,
        case_number: c.number.clone(),
        kind,
        actor_id: actor,
        unit_id: c.assigned_unit_id,
        prev_unit_id: None,
        police_unit_id: None,
        region_code: c.region_code.clone(),
        at,
        data,
    }
}

pub fn call_already_linked() -> Error {
    Error::Conflict {
        code: "call_already_linked",
        message: "this call already belongs to a case".into(),
    }
}
