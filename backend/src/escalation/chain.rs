//! The police chain and who is told: the police unit for each level of an
//! escalation, the units that handled a case, and the mail addresses of a
//! unit, of the region's supervisors and of each level.
use std::collections::HashMap;

use sea_orm::{
    sea_query::{Expr, ExprTrait, IntoIden, Query, SelectStatement, UnionType},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::kinds::TOP_LEVEL;
use crate::{
    auth::Principal,
    cases::{directory::Directory, routing, routing::Candidate, scope},
    db::entities::{case, case_handler, escalation, unit, user},
    error::Error,
    error::Result,
    notify::sms::unit_phone,
    regions::RegionCode,
    vocab::{Role, UnitKind},
};

/// The police unit for `level` at `place`: level 1 the nearest police unit
/// up the region tree; level 2 the nearest strictly above level 1's unit
/// (county command). Level 3 has no police unit (supervisors).
///
/// The active police units come from the in-memory directory (as routing
/// does): intake opens escalations inside its batch, where every query
/// holds the writer.
pub async fn police_unit_for(
    directory: &Directory,
    conn: &impl ConnectionTrait,
    place: &RegionCode,
    level: i16,
) -> Result<Option<Uuid>> {
    let units = police_units(directory, conn, place).await?;
    Ok(police_at_level(&units, place, level))
}

/// The active police units at `place` and up its region tree.
pub async fn police_units(
    directory: &Directory,
    conn: &impl ConnectionTrait,
    place: &RegionCode,
) -> Result<Vec<Candidate>> {
    let mut units = directory.candidates(conn, UnitKind::Police, place).await?;
    units.retain(|u| u.kind == UnitKind::Police);
    Ok(units)
}

/// [`police_unit_for`] over police units already read.
pub fn police_at_level(units: &[Candidate], place: &RegionCode, level: i16) -> Option<Uuid> {
    let (first, at) = routing::nearest(UnitKind::Police, place, units)?;
    match level {
        1 => Some(first.id),
        2 => at
            .parent()
            .and_then(|up| routing::nearest(UnitKind::Police, &up, units))
            .map(|(u, _)| u.id),
        _ => None,
    }
}

/// Where an unacknowledged escalation climbs from `level` (held by
/// `police`): the next level with a police unit other than the current
/// one, else the top level (supervisors), keeping the current police unit
/// on the case. At the top it stays at the top.
pub fn next_level(
    level: i16,
    police: Option<Uuid>,
    police_at: impl Fn(i16) -> Option<Uuid>,
) -> (i16, Option<Uuid>) {
    let mut next = level;
    while next < TOP_LEVEL {
        next += 1;
        if next == TOP_LEVEL {
            break;
        }
        let p = police_at(next);
        if p.is_some() && p != police {
            return (next, p);
        }
    }
    (next, police)
}

pub async fn add_handler(conn: &impl ConnectionTrait, case_id: Uuid, unit_id: Uuid) -> Result<()> {
    let exists = case_handler::Entity::find_by_id((case_id, unit_id))
        .one(conn)
        .await?
        .is_some();
    if !exists {
        case_handler::Entity::insert(case_handler::ActiveModel {
            case_id: Set(case_id),
            unit_id: Set(unit_id),
        })
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Email addresses to notify at `level`: the police unit (unit address and
/// its liaisons) for 1 and 2; the region's supervisors and the hotline
/// centre for 3.
pub async fn recipients_for_level(
    conn: &impl ConnectionTrait,
    c: &case::Model,
    e: &escalation::Model,
    level: i16,
) -> Result<Vec<String>> {
    if level < TOP_LEVEL {
        return match e.police_unit_id {
            Some(u) => unit_addresses(conn, u).await,
            None => Ok(Vec::new()),
        };
    }
    let mut out = supervisor_addresses(conn, &c.region_code).await?;
    let hotline = unit::Entity::find()
        .filter(unit::Column::Kind.eq(UnitKind::HotlineCenter.as_str()))
        .filter(unit::Column::Active.eq(true))
        .all(conn)
        .await?;
    out.extend(hotline.into_iter().filter_map(|u| u.email));
    Ok(out)
}

/// The unit's own address and the addresses of its active users.
pub async fn unit_addresses(conn: &impl ConnectionTrait, unit_id: Uuid) -> Result<Vec<String>> {
    Ok(contacts_of(conn, &[unit_id])
        .await?
        .remove(&unit_id)
        .map(|c| c.addresses)
        .unwrap_or_default())
}

/// How a unit is told: its mail addresses (its own, then its active
/// users') and its duty phone.
#[derive(Default)]
pub struct Contacts {
    pub addresses: Vec<String>,
    pub duty_phone: Option<String>,
}

/// Where a row of [`contacts_of`] comes from.
const OWN_ADDRESS: i32 = 0;
const USER_ADDRESS: i32 = 1;
const DUTY_PHONE: i32 = 2;

/// One arm of [`contacts_of`]: `(unit_id, source, value)` from `table`, for
/// the rows of `units` whose `value` is set.
fn contact_rows<T, C>(
    table: T,
    unit_id: C,
    value: C,
    source: i32,
    units: &[Uuid],
) -> SelectStatement
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    Query::select()
        .expr_as(Expr::col((table, unit_id)), "unit_id")
        .expr_as(Expr::val(source), "source")
        .expr_as(Expr::col((table, value)), "value")
        .from(table)
        .and_where(Expr::col((table, unit_id)).is_in(units.iter().copied()))
        .and_where(Expr::col((table, value)).is_not_null())
        .to_owned()
}

/// The [`Contacts`] of `units` in one query (the units' own addresses, their
/// active users' and their duty phones): an intake batch reads them for its
/// escalations while it holds the writer, where every round trip counts.
pub async fn contacts_of(
    conn: &impl ConnectionTrait,
    units: &[Uuid],
) -> Result<HashMap<Uuid, Contacts>> {
    let mut out: HashMap<Uuid, Contacts> = HashMap::new();
    if units.is_empty() {
        return Ok(out);
    }
    let mut query = contact_rows(
        unit::Entity,
        unit::Column::Id,
        unit::Column::Email,
        OWN_ADDRESS,
        units,
    );
    let mut users = contact_rows(
        user::Entity,
        user::Column::UnitId,
        user::Column::Email,
        USER_ADDRESS,
        units,
    );
    users.and_where(user::Column::Active.eq(true));
    let phones = contact_rows(
        unit_phone::Entity,
        unit_phone::Column::UnitId,
        unit_phone::Column::DutyPhone,
        DUTY_PHONE,
        units,
    );
    query
        .union(UnionType::All, users)
        .union(UnionType::All, phones);
    let backend = conn.get_database_backend();
    let mut rows = Vec::new();
    for r in conn.query_all_raw(backend.build(&query)).await? {
        let unit: Uuid = r.try_get("", "unit_id")?;
        let source: i32 = r.try_get("", "source")?;
        let value: String = r.try_get("", "value")?;
        rows.push((source, unit, value));
    }
    // The unit's own address before its users'.
    rows.sort_by_key(|(source, _, _)| *source);
    for (source, unit, value) in rows {
        let c = out.entry(unit).or_default();
        if source == DUTY_PHONE {
            c.duty_phone = Some(value);
        } else {
            c.addresses.push(value);
        }
    }
    Ok(out)
}

/// Active supervisors whose unit's region contains `region_code`.
pub async fn supervisor_addresses(
    conn: &impl ConnectionTrait,
    region_code: &str,
) -> Result<Vec<String>> {
    let Some(place) = RegionCode::parse(region_code) else {
        return Ok(Vec::new());
    };
    let codes: Vec<String> = place
        .self_and_ancestors()
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let units: Vec<Uuid> = unit::Entity::find()
        .filter(unit::Column::RegionCode.is_in(codes))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    if units.is_empty() {
        return Ok(Vec::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Supervisor.as_str()))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::UnitId.is_in(units))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|u| u.email)
        .collect())
}

/// Whether `unit` is the escalation's police unit now or was at one of
/// the levels below the current one (the chain `raise` walks: level 1 the
/// nearest police unit of the place, level 2 the one above it).
pub async fn in_chain(
    directory: &Directory,
    conn: &impl ConnectionTrait,
    unit: Uuid,
    e: &escalation::Model,
    c: &case::Model,
) -> Result<bool> {
    if e.police_unit_id == Some(unit) {
        return Ok(true);
    }
    let Some(place) = RegionCode::parse(&c.region_code) else {
        return Ok(false);
    };
    for level in 1..=Ord::min(e.level, TOP_LEVEL - 1) {
        if police_unit_for(directory, conn, &place, level).await? == Some(unit) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Police liaisons of a unit in the chain may work it: the unit it is
/// addressed to now, or one it was addressed to at an earlier level. At
/// level 3 the region's supervisors may too. (Whoever cannot read it got
/// 404 from `load_visible` already; this answers 403.)
pub async fn may_work(
    directory: &Directory,
    conn: &impl ConnectionTrait,
    p: &Principal,
    e: &escalation::Model,
    c: &case::Model,
    access: scope::Access,
) -> Result<()> {
    let allowed = match p.role {
        Role::PoliceLiaison => match p.unit_id() {
            Some(unit) => in_chain(directory, conn, unit, e, c).await?,
            None => false,
        },
        Role::Supervisor => e.level >= TOP_LEVEL && access == scope::Access::Supervisor,
        _ => false,
    };
    if allowed {
        Ok(())
    } else if p.role == Role::PoliceLiaison {
        Err(Error::Forbidden(
            "only the police units this escalation was sent to may work it".into(),
        ))
    } else {
        Err(Error::Forbidden(format!(
            "the role {} may not work escalations",
            p.role
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn police(id: u128, region: &str) -> Candidate {
        Candidate {
            id: Uuid::from_u128(id),
            kind: UnitKind::Police,
            name: format!("police {id}"),
            region_code: region.into(),
        }
    }

    const VILLAGE: &str = "450321101201";
    const TOWNSHIP: &str = "450321101000";
    const COUNTY: &str = "450321000000";
    const CITY: &str = "450300000000";

    fn walk(units: &[Candidate], from: i16, held: Option<Uuid>) -> (i16, Option<Uuid>) {
        let place = RegionCode::parse(VILLAGE).unwrap_or_else(|| unreachable!());
        next_level(from, held, |l| police_at_level(units, &place, l))
    }

    #[test]
    fn level_one_is_the_nearest_station_and_level_two_the_command_above_it() {
        let units = [police(1, TOWNSHIP), police(2, COUNTY), police(3, CITY)];
        let place = RegionCode::parse(VILLAGE).unwrap_or_else(|| unreachable!());
        assert_eq!(police_at_level(&units, &place, 1), Some(Uuid::from_u128(1)));
        assert_eq!(police_at_level(&units, &place, 2), Some(Uuid::from_u128(2)));
        assert_eq!(
            police_at_level(&units, &place, 3),
            None,
            "level 3 is supervisors"
        );
    }

    #[test]
    fn a_miss_at_level_one_goes_to_the_county_command_then_the_supervisors() {
        let units = [police(1, TOWNSHIP), police(2, COUNTY)];
        let one = Some(Uuid::from_u128(1));
        let two = Some(Uuid::from_u128(2));
        assert_eq!(walk(&units, 1, one), (2, two));
        assert_eq!(
            walk(&units, 2, two),
            (3, two),
            "the top keeps the last police unit"
        );
        assert_eq!(walk(&units, 3, two), (3, two), "at the top it stays");
    }

    #[test]
    fn no_command_above_the_station_skips_straight_to_the_supervisors() {
        let units = [police(1, COUNTY)];
        let one = Some(Uuid::from_u128(1));
        assert_eq!(walk(&units, 1, one), (3, one));
    }

    #[test]
    fn no_police_at_all_climbs_to_the_supervisors_without_a_unit() {
        assert_eq!(walk(&[], 1, None), (3, None));
    }
}
