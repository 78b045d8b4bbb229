//! Routing: category → unit kind, then the nearest unit of that kind whose
//! region contains the case's place (village → township → county → city →
//! province); nothing found → the hotline centre, status `new`, for manual
//! dispatch. A pure function: the caller loads the candidates.
use uuid::Uuid;

use crate::{
    regions::RegionCode,
    vocab::{Category, UnitKind},
};

#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    pub kind: UnitKind,
    pub name: String,
    pub region_code: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The unit chosen, or the hotline centre (or nobody) when `dispatched`
    /// is false.
    pub unit_id: Option<Uuid>,
    /// True when a unit of the wanted kind was found.
    pub dispatched: bool,
    pub unit_kind: UnitKind,
    /// The level (1 province … 5 village) of the region the unit was found
    /// at, when one was: the console renders the reason from this.
    pub level: Option<i16>,
    pub reason: String,
}

const LEVEL_NAMES: [&str; 5] = ["province", "city", "county", "township", "village"];
const LEVEL_NAMES_ZH: [&str; 5] = ["省", "市", "县", "乡镇", "村"];

/// The nearest unit of `kind` at or above `place`, with the level it sits at.
/// Ties at one level go to the unit whose name sorts first, so the choice is
/// stable.
pub fn nearest<'a>(
    kind: UnitKind,
    place: &RegionCode,
    units: &'a [Candidate],
) -> Option<(&'a Candidate, RegionCode)> {
    for level in place.self_and_ancestors() {
        let mut here: Vec<&Candidate> = units
            .iter()
            .filter(|u| u.kind == kind && u.region_code == level.as_str())
            .collect();
        here.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(first) = here.first() {
            return Some((first, level));
        }
    }
    None
}

pub fn route(
    category: Category,
    kind: UnitKind,
    place: &RegionCode,
    units: &[Candidate],
) -> Decision {
    if let Some((unit, level)) = nearest(kind, place, units) {
        return Decision {
            unit_id: Some(unit.id),
            dispatched: true,
            unit_kind: kind,
            level: Some(level.level()),
            // Chinese for the staff who read the timeline, English for logs
            // and outside systems.
            reason: format!(
                "{} → {}；覆盖事发地的最近单位：{}（{}级 {}） / {category} → {kind}; nearest {kind} containing {place}: {} ({} {})",
                category.zh(),
                kind.zh(),
                unit.name,
                LEVEL_NAMES_ZH[(level.level() - 1) as usize],
                level,
                unit.name,
                LEVEL_NAMES[(level.level() - 1) as usize],
                level
            ),
        };
    }
    let hotline = nearest(UnitKind::HotlineCenter, place, units);
    Decision {
        unit_id: hotline.map(|(u, _)| u.id),
        dispatched: false,
        unit_kind: kind,
        level: None,
        reason: format!(
            "{} → {}；事发地 {place} 无此类单位，留热线中心人工派单 / {category} → {kind}; no {kind} covers {place}: left with the hotline centre for manual dispatch",
            category.zh(),
            kind.zh()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(kind: UnitKind, name: &str, region: &str) -> Candidate {
        Candidate {
            id: Uuid::new_v4(),
            kind,
            name: name.into(),
            region_code: region.into(),
        }
    }

    fn place(code: &str) -> RegionCode {
        RegionCode::parse(code).unwrap()
    }

    #[test]
    fn nearest_unit_wins_from_village_upward() {
        let village_mc = unit(UnitKind::MediationCommittee, "遇龙村调委会", "450321101201");
        let town_mc = unit(UnitKind::MediationCommittee, "白沙镇调委会", "450321101000");
        let station = unit(UnitKind::RightsStation, "白沙镇维权站", "450321101000");
        let hotline = unit(UnitKind::HotlineCenter, "热线", "450000000000");
        let units = vec![
            village_mc.clone(),
            town_mc.clone(),
            station.clone(),
            hotline.clone(),
        ];

        let d = route(
            Category::LandRights,
            UnitKind::MediationCommittee,
            &place("450321101201"),
            &units,
        );
        assert_eq!(d.unit_id, Some(village_mc.id));
        assert!(d.dispatched);
        assert!(d.reason.contains("village"));

        // Another village of the same township falls back to the township.
        let d = route(
            Category::LandRights,
            UnitKind::MediationCommittee,
            &place("450321101202"),
            &units,
        );
        assert_eq!(d.unit_id, Some(town_mc.id));
        assert!(d.reason.contains("township"));

        let d = route(
            Category::DomesticViolence,
            UnitKind::RightsStation,
            &place("450321101201"),
            &units,
        );
        assert_eq!(d.unit_id, Some(station.id));
    }

    #[test]
    fn no_unit_of_the_kind_goes_to_the_hotline_undispatched() {
        let hotline = unit(UnitKind::HotlineCenter, "热线", "450000000000");
        let other_county = unit(UnitKind::Police, "灵川县指挥中心", "450323000000");
        let units = vec![hotline.clone(), other_county];
        let d = route(
            Category::SafetyThreat,
            UnitKind::Police,
            &place("450321101201"),
            &units,
        );
        assert_eq!(d.unit_id, Some(hotline.id));
        assert!(!d.dispatched);
        assert!(d.reason.contains("manual dispatch"));
        let d = route(
            Category::SafetyThreat,
            UnitKind::Police,
            &place("450321101201"),
            &[],
        );
        assert_eq!(d.unit_id, None);
    }
}
