//! Who sees a referral and from which side. The receiving unit, the
//! sending unit and the unit handling the case see it; supervisors whose
//! region holds the case's place or the receiving unit; the hotline and
//! admins all. Anything else is 404, as for cases.
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait,
};
use uuid::Uuid;

use super::entity::referral;
use crate::{
    auth::Principal,
    db::entities::case,
    error::{Error, Result},
    regions::RegionCode,
    vocab::Role,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Admin,
    Hotline,
    Supervisor,
    /// A member of the receiving unit: accepts, declines, replies.
    Receiver,
    /// A member of the sending unit: withdraws.
    Sender,
    /// A member of the unit handling the case (if it did not send it).
    CaseHandler,
}

fn region_of(p: &Principal) -> Option<RegionCode> {
    p.unit
        .as_ref()
        .and_then(|u| RegionCode::parse(&u.region_code))
}

pub fn side(p: &Principal, r: &referral::Model, c: &case::Model) -> Option<Side> {
    match p.role {
        Role::Admin => Some(Side::Admin),
        Role::Operator => Some(Side::Hotline),
        Role::Supervisor => {
            let region = region_of(p)?;
            let holds = |code: &str| RegionCode::parse(code).is_some_and(|c| region.contains(&c));
            (holds(&r.region_code) || holds(&r.to_region_code)).then_some(Side::Supervisor)
        }
        _ => {
            let unit = p.unit_id()?;
            if r.to_unit_id == unit {
                Some(Side::Receiver)
            } else if r.from_unit_id == Some(unit) {
                Some(Side::Sender)
            } else if c.assigned_unit_id == Some(unit) {
                Some(Side::CaseHandler)
            } else {
                None
            }
        }
    }
}

/// The referral, its case and the caller's side, or 404.
pub async fn load(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
) -> Result<(referral::Model, case::Model, Side)> {
    let r = referral::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("referral"))?;
    let c = case::Entity::find_by_id(r.case_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("referral"))?;
    let side = side(p, &r, &c).ok_or(Error::NotFound("referral"))?;
    Ok((r, c, side))
}

/// The list filter for the caller's scope.
pub fn list_condition(p: &Principal) -> Condition {
    match p.role {
        Role::Admin | Role::Operator => Condition::all(),
        Role::Supervisor => match region_of(p) {
            Some(region) => Condition::any()
                .add(referral::Column::RegionCode.starts_with(region.prefix()))
                .add(referral::Column::ToRegionCode.starts_with(region.prefix())),
            None => Condition::all().add(Expr::value(false)),
        },
        _ => match p.unit_id() {
            Some(unit) => Condition::any()
                .add(referral::Column::ToUnitId.eq(unit))
                .add(referral::Column::FromUnitId.eq(unit))
                .add(
                    referral::Column::CaseId.in_subquery(
                        Query::select()
                            .column(case::Column::Id)
                            .from(case::Entity)
                            .and_where(case::Column::AssignedUnitId.eq(unit))
                            .to_owned(),
                    ),
                ),
            None => Condition::all().add(Expr::value(false)),
        },
    }
}
