//! Who may be a person's contact person (联系人): an active user of an
//! active unit that keeps the ledger where she lives — her village's
//! committee or women's home, her township's station, civil affairs or
//! government, her county's civil affairs. `GET
//! /ledger/contact-persons?village_code=` lists them for the person page;
//! a PATCH naming anyone else is refused on `contact_person_user_id`.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{record::check_village, scope};
use crate::{
    auth::Principal,
    db::entities::{unit, user},
    error::{Error, Result},
    regions::{self, RegionCode},
    state::AppState,
    vocab::{Role, UnitKind},
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// Her village (12 digits, village level).
    pub village_code: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = LedgerContactCandidate)]
pub struct ContactCandidate {
    pub user_id: Uuid,
    pub display_name: String,
    pub unit_id: Uuid,
    pub unit_name: String,
    pub unit_kind: UnitKind,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LedgerContactCandidates)]
pub struct ContactList {
    /// Nearest unit first (village, township, county), then by name.
    pub items: Vec<ContactCandidate>,
}

/// The keepers' users for `village`, nearest unit first; `only`: that
/// one user (the PATCH check).
async fn eligible(
    conn: &impl ConnectionTrait,
    village: &RegionCode,
    only: Option<Uuid>,
) -> Result<Vec<ContactCandidate>> {
    let places: Vec<String> = village
        .self_and_ancestors()
        .into_iter()
        .filter(|r| r.level() >= 3)
        .map(|r| r.as_str().to_string())
        .collect();
    let units: Vec<unit::Model> = unit::Entity::find()
        .filter(unit::Column::RegionCode.is_in(places))
        .filter(unit::Column::Active.eq(true))
        .all(conn)
        .await?
        .into_iter()
        .filter(|u| scope::keeps_ledger(u.kind))
        .collect();
    let mut q = user::Entity::find()
        .filter(user::Column::UnitId.is_in(units.iter().map(|u| u.id)))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.is_not_in([Role::Supervisor, Role::Admin]));
    if let Some(id) = only {
        q = q.filter(user::Column::Id.eq(id));
    }
    let users = q.order_by_asc(user::Column::DisplayName).all(conn).await?;
    let mut out: Vec<(usize, ContactCandidate)> = users
        .into_iter()
        .filter_map(|u| {
            let unit = units.iter().find(|x| Some(x.id) == u.unit_id)?;
            Some((
                // Longer region code prefix: nearer her.
                usize::MAX - RegionCode::parse(&unit.region_code).map_or(0, |r| r.prefix().len()),
                ContactCandidate {
                    user_id: u.id,
                    display_name: u.display_name,
                    unit_id: unit.id,
                    unit_name: unit.name.clone(),
                    unit_kind: unit.kind,
                },
            ))
        })
        .collect();
    out.sort_by_key(|(near, _)| *near);
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// The PATCH check: `user_id` may be her contact person in `village`.
pub async fn check(conn: &impl ConnectionTrait, village: &RegionCode, user_id: Uuid) -> Result<()> {
    if eligible(conn, village, Some(user_id)).await?.is_empty() {
        return Err(Error::validation(
            "contact_person_user_id",
            "not a user of a unit that keeps the ledger of her village",
        ));
    }
    Ok(())
}

/// `GET /ledger/contact-persons?village_code=`: for readers of the
/// ledger, within their region (404 outside it).
pub async fn list(state: &AppState, p: &Principal, q: ContactQuery) -> Result<ContactList> {
    let (_, mine) = scope::reader(p)?;
    let village =
        check_village(&q.village_code).map_err(|r| Error::validation("village_code", r.2))?;
    let conn = &state.db.conn;
    regions::require_known(conn, "village_code", village.as_str()).await?;
    if mine.as_ref().is_some_and(|m| !m.contains(&village)) {
        return Err(Error::NotFound("village"));
    }
    Ok(ContactList {
        items: eligible(conn, &village, None).await?,
    })
}
