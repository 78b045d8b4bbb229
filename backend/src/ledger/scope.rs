//! Who reads a person of the ledger: the rights station, civil affairs,
//! women's home, township government and village committee whose region
//! holds her village (so a township's station reads its township, county
//! civil affairs its county, a village committee its village), and
//! supervisors by region; administrators read all. Operators get the
//! screen-pop summary only and the police nothing: 403 on a full read.
//! A unit that keeps no ledger (legal aid, mediation, …) is refused the
//! same way (403, on the list too: never an empty list); a keeper of
//! another place: 404 for her.
use sea_orm::{ColumnTrait, Condition};

use super::entity::person;
use crate::{
    auth::Principal,
    error::{Error, Result},
    regions::RegionCode,
    vocab::{Role, UnitKind},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Administrators: read all, write.
    Admin,
    /// Supervisors: read their region.
    Supervisor,
    /// A unit of the place that keeps the ledger: read and write.
    Keeper,
}

impl Reader {
    pub fn may_write(self) -> bool {
        matches!(self, Reader::Admin | Reader::Keeper)
    }
}

/// The units that keep the ledger where they are.
pub fn keeps_ledger(kind: UnitKind) -> bool {
    matches!(
        kind,
        UnitKind::RightsStation
            | UnitKind::CivilAffairs
            | UnitKind::WomensHome
            | UnitKind::VillageCommittee
            | UnitKind::TownshipGovernment
    )
}

/// What the principal may read of the ledger at all, and the region it
/// is limited to (`None`: everywhere). 403 for operators, the police and
/// units that keep no ledger.
pub fn reader(p: &Principal) -> Result<(Reader, Option<RegionCode>)> {
    match p.role {
        Role::Admin => return Ok((Reader::Admin, None)),
        Role::Operator | Role::PoliceLiaison => {
            return Err(Error::Forbidden(
                "operators and the police see the screen-pop summary of the ledger only".into(),
            ))
        }
        _ => {}
    }
    let place = p
        .unit
        .as_ref()
        .and_then(|u| RegionCode::parse(&u.region_code).map(|r| (u.kind, r)));
    match place {
        Some((_, region)) if p.role == Role::Supervisor => Ok((Reader::Supervisor, Some(region))),
        Some((kind, region)) if keeps_ledger(kind) && region.level() >= 3 => {
            Ok((Reader::Keeper, Some(region)))
        }
        // Legal aid, mediation, health…: no ledger at all, whoever she is.
        _ => Err(Error::Forbidden(
            "the ledger is read by the units that keep it and supervisors".into(),
        )),
    }
}

/// May `p` read this person? 404 when she is outside their place.
pub fn check(p: &Principal, m: &person::Model) -> Result<Reader> {
    let (r, region) = reader(p)?;
    let inside = region.is_none_or(|reg| m.village_code.starts_with(reg.prefix()));
    if inside {
        Ok(r)
    } else {
        Err(Error::NotFound("ledger person"))
    }
}

/// The list condition for `p`'s place.
pub fn condition(region: Option<&RegionCode>) -> Condition {
    match region {
        Some(r) => Condition::all().add(person::Column::VillageCode.starts_with(r.prefix())),
        None => Condition::all(),
    }
}
