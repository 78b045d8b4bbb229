//! Who is told of a referral: the receiving unit (its address and its
//! users'), the sending unit, and the supervisors over the receiving
//! unit's place, level by level (a level is a region with a unit that has
//! active supervisors).
use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entity::referral;
use crate::{
    db::entities::{unit, user},
    error::Result,
    escalation::chain::unit_addresses,
    regions::RegionCode,
    vocab::Role,
};

/// The supervising levels over `region_code`, nearest first: each level's
/// region code and its active supervisors' addresses.
pub async fn supervisor_levels(
    conn: &impl ConnectionTrait,
    region_code: &str,
) -> Result<Vec<(String, Vec<String>)>> {
    let Some(place) = RegionCode::parse(region_code) else {
        return Ok(Vec::new());
    };
    let codes: Vec<String> = place
        .self_and_ancestors()
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let units: HashMap<Uuid, String> = unit::Entity::find()
        .filter(unit::Column::RegionCode.is_in(codes.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.region_code))
        .collect();
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let supervisors = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Supervisor.as_str()))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::UnitId.is_in(units.keys().copied().collect::<Vec<_>>()))
        .all(conn)
        .await?;
    let mut levels = Vec::new();
    for code in codes {
        let here: Vec<String> = supervisors
            .iter()
            .filter(|s| s.unit_id.and_then(|u| units.get(&u)) == Some(&code))
            .filter_map(|s| s.email.clone())
            .collect();
        let any = supervisors
            .iter()
            .any(|s| s.unit_id.and_then(|u| units.get(&u)) == Some(&code));
        if any {
            levels.push((code, here));
        }
    }
    Ok(levels)
}

/// The receiving unit, the sending unit, and the supervisors of the
/// nearest `levels` supervising levels over the receiving unit (0: none).
pub async fn receiver_side(
    conn: &impl ConnectionTrait,
    r: &referral::Model,
    levels: usize,
) -> Result<Vec<String>> {
    let mut to = unit_addresses(conn, r.to_unit_id).await?;
    if let Some(from) = r.from_unit_id {
        to.extend(unit_addresses(conn, from).await?);
    }
    if levels > 0 {
        for (_, emails) in supervisor_levels(conn, &r.to_region_code)
            .await?
            .into_iter()
            .take(levels)
        {
            to.extend(emails);
        }
    }
    Ok(to)
}
