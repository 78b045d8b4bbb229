//! Co-handling (牵头/配合): a routing category may name co-operating
//! referral kinds; every case opened in it then sends those referrals
//! (legal basis `statutory_duty`), each to the unit its kind names. Admins
//! set them beside the routing rule; each change is audited.
use chrono::{DateTime, Utc};
use sea_orm::{sea_query::OnConflict, ActiveValue::Set, EntityTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::entity::co_handling;
use crate::{
    audit,
    auth::Principal,
    error::{Error, Result},
    state::AppState,
    vocab::{Category, Role},
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CoHandlingRule {
    pub category: Category,
    /// Referral kinds sent with every case of the category.
    pub kinds: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoHandlingBody {
    pub kinds: Vec<String>,
}

fn rule_of(m: co_handling::Model) -> Result<CoHandlingRule> {
    Ok(CoHandlingRule {
        category: m.category,
        kinds: serde_json::from_value(m.kinds)
            .map_err(|e| Error::Internal(format!("stored co-handling kinds: {e}")))?,
        updated_at: m.updated_at,
    })
}

pub async fn list(state: &AppState) -> Result<Vec<CoHandlingRule>> {
    co_handling::Entity::find()
        .all(&state.db.conn)
        .await?
        .into_iter()
        .map(rule_of)
        .collect()
}

pub async fn set(
    state: &AppState,
    p: &Principal,
    category: &str,
    body: CoHandlingBody,
) -> Result<CoHandlingRule> {
    p.require(&[Role::Admin])?;
    let category = Category::parse(category).ok_or(Error::NotFound("category"))?;
    let policy = &state.settings.deadlines.referrals;
    let mut kinds: Vec<String> = Vec::new();
    for (i, k) in body.kinds.iter().enumerate() {
        if policy.kind(k).is_none() {
            return Err(Error::validation(
                format!("kinds[{i}]"),
                format!("must be one of {}", policy.allowed()),
            ));
        }
        if !kinds.contains(k) {
            kinds.push(k.clone());
        }
    }
    let now = state.now();
    let txn = state.db.begin_write().await?;
    co_handling::Entity::insert(co_handling::ActiveModel {
        category: Set(category),
        kinds: Set(json!(kinds)),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(co_handling::Column::Category)
            .update_columns([co_handling::Column::Kinds, co_handling::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(&*txn)
    .await?;
    audit::append(
        &*txn,
        now,
        Some(p.user_id),
        "routing_rule.co_handling",
        format!("routing_rule:{category}"),
        json!({ "category": category, "kinds": kinds }),
    )
    .await?;
    // Through the directory, which intake reads the rules from.
    state.directory.commit_change(txn).await?;
    Ok(CoHandlingRule {
        category,
        kinds,
        updated_at: now,
    })
}
