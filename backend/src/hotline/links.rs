//! Links between cases (issue 18): a woman who calls twice about the same
//! thing gets one case. A `duplicate` is closed into its original (whose
//! timeline notes it); `related` only links. The other case is named by its
//! id or its number. The screen pop shows linked cases together.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{entity::link, schedule};
use crate::{
    auth::Principal,
    cases::{
        moves,
        record::event,
        scope::{self, Access},
    },
    db::entities::case,
    error::{Error, Result},
    state::AppState,
    vocab::LinkKind,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CaseLinkBody)]
pub struct LinkBody {
    /// The other case: its id or its number.
    pub other_case_id: String,
    pub kind: LinkKind,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = CaseLinkView)]
pub struct LinkView {
    pub case_id: Uuid,
    pub case_number: String,
    pub kind: LinkKind,
    /// `duplicate_of` (this case is the duplicate), `original_of`, `related`.
    pub role: &'static str,
    pub created_at: DateTime<Utc>,
}

async fn find_other(
    conn: &impl ConnectionTrait,
    p: &Principal,
    named: &str,
) -> Result<case::Model> {
    let named = named.trim();
    let found = match Uuid::parse_str(named) {
        Ok(id) => case::Entity::find_by_id(id).one(conn).await?,
        Err(_) => {
            case::Entity::find()
                .filter(case::Column::Number.eq(named))
                .one(conn)
                .await?
        }
    };
    let c =
        found.ok_or_else(|| Error::validation("other_case_id", "no such case (id or number)"))?;
    scope::load(conn, p, c.id)
        .await
        .map_err(|_| Error::validation("other_case_id", "no such case (id or number)"))?;
    Ok(c)
}

/// Links among `ids` in either direction: one query.
pub async fn links_of(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<link::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(link::Entity::find()
        .filter(
            Condition::any()
                .add(link::Column::CaseId.is_in(ids.to_vec()))
                .add(link::Column::OtherCaseId.is_in(ids.to_vec())),
        )
        .all(conn)
        .await?)
}

pub async fn link(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: LinkBody,
) -> Result<Vec<LinkView>> {
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (c, access) = scope::load(&*w, p, case_id).await?;
    if !matches!(access, Access::Hotline | Access::Supervisor | Access::Admin) {
        return Err(Error::Forbidden(
            "the hotline or a supervisor links cases".into(),
        ));
    }
    let other = find_other(&*w, p, &body.other_case_id).await?;
    if other.id == c.id {
        return Err(Error::validation("other_case_id", "is this case itself"));
    }
    if !links_of(&*w, &[c.id])
        .await?
        .iter()
        .all(|l| l.case_id != other.id && l.other_case_id != other.id)
    {
        return Err(Error::Conflict {
            code: "already_linked",
            message: format!("{} and {} are linked already", c.number, other.number),
        });
    }
    link::ActiveModel {
        case_id: Set(c.id),
        other_case_id: Set(other.id),
        kind: Set(body.kind),
        created_by: Set(p.user_id),
        created_at: Set(now),
    }
    .insert(&*w)
    .await?;
    for (this, that) in [(&c, &other), (&other, &c)] {
        w.event(event(
            this,
            "case.linked",
            Some(p.user_id),
            now,
            json!({"other_case_id": that.id, "other_case_number": that.number, "kind": body.kind}),
        ));
    }
    if body.kind == LinkKind::Duplicate {
        moves::close_as_duplicate(&mut w, &c, &other, p.user_id).await?;
        schedule::cancel_open(&mut w, c.id).await?;
    }
    w.commit().await?;
    of_case(state, p, case_id).await
}

/// The cases linked to one case.
pub async fn of_case(state: &AppState, p: &Principal, case_id: Uuid) -> Result<Vec<LinkView>> {
    let conn = &state.db.conn;
    scope::load(conn, p, case_id).await?;
    let links = links_of(conn, &[case_id]).await?;
    let others: Vec<Uuid> = links
        .iter()
        .map(|l| {
            if l.case_id == case_id {
                l.other_case_id
            } else {
                l.case_id
            }
        })
        .collect();
    let numbers: std::collections::HashMap<Uuid, String> = case::Entity::find()
        .filter(case::Column::Id.is_in(others))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.number))
        .collect();
    Ok(links
        .into_iter()
        .map(|l| {
            let mine = l.case_id == case_id;
            let other = if mine { l.other_case_id } else { l.case_id };
            LinkView {
                case_id: other,
                case_number: numbers.get(&other).cloned().unwrap_or_default(),
                kind: l.kind,
                role: match (l.kind, mine) {
                    (LinkKind::Duplicate, true) => "duplicate_of",
                    (LinkKind::Duplicate, false) => "original_of",
                    (LinkKind::Related, _) => "related",
                },
                created_at: l.created_at,
            }
        })
        .collect())
}
