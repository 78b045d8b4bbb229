//! Administration of units, users and routing rules. Every change is one
//! transaction that also writes its audit row.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

mod accounts;
mod units;
mod users;

pub use accounts::*;
pub use units::*;
pub use users::*;

use crate::{
    audit,
    auth::{cache::Change, password, Principal, SessionCache, UserView},
    cases::directory::Directory,
    db::{
        entities::{routing_rule, unit, user},
        is_unique_violation, Db,
    },
    error::{Error, Result},
    patch::double_option,
    regions,
    vocab::{Category, Role, UnitKind},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitView {
    pub id: Uuid,
    pub kind: UnitKind,
    pub name: String,
    pub region_code: String,
    pub email: Option<String>,
    pub active: bool,
}

impl UnitView {
    pub fn from_model(m: unit::Model) -> Result<UnitView> {
        Ok(UnitView {
            id: m.id,
            kind: m.kind,
            name: m.name,
            region_code: m.region_code,
            email: m.email,
            active: m.active,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    pub kind: UnitKind,
    pub name: String,
    pub region_code: String,
    pub email: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    pub kind: Option<UnitKind>,
    pub name: Option<String>,
    pub region_code: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoutingRuleView {
    pub category: Category,
    pub unit_kind: UnitKind,
    /// `true` when an admin changed the API.md default.
    pub customised: bool,
}

fn check_name(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::validation(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

pub fn check_email(field: &str, value: Option<&str>) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => {
            let ok = v.len() <= 254
                && v.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                })
                && !v.chars().any(|c| c.is_whitespace() || c == '<' || c == '>');
            if ok {
                Ok(Some(v.to_string()))
            } else {
                Err(Error::validation(field, "is not an email address"))
            }
        }
    }
}
