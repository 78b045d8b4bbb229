//! Who may see and do what with a case. Anything out of scope is reported
//! as not found, so a request learns nothing about cases it may not see.
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait,
};
use uuid::Uuid;

use crate::{
    auth::Principal,
    db::entities::{case, case_handler},
    error::{Error, Result},
    regions::RegionCode,
    vocab::Role,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Administrators: read everything, masked.
    Admin,
    /// Hotline operators: all hotline intake; may unmask, transfer, note.
    Hotline,
    /// Supervisors of a region that contains the case.
    Supervisor,
    /// A member of the unit the case is assigned to: works it, may unmask.
    Handler,
    /// A unit that handled the case before a transfer, or a police unit an
    /// escalation went to: read-only.
    ReadOnly,
}

impl Access {
    pub fn may_unmask(self) -> bool {
        matches!(self, Access::Hotline | Access::Handler)
    }
}

/// Decide access to one case; `handled` says whether the principal's unit is
/// in `case_handlers` for it.
pub fn access(p: &Principal, c: &case::Model, handled: bool) -> Option<Access> {
    match p.role {
        Role::Admin => Some(Access::Admin),
        Role::Operator => Some(Access::Hotline),
        Role::Supervisor => {
            let unit = p.unit.as_ref()?;
            let region = RegionCode::parse(&unit.region_code)?;
            let place = RegionCode::parse(&c.region_code)?;
            region.contains(&place).then_some(Access::Supervisor)
        }
        _ => {
            let unit = p.unit.as_ref()?;
            if c.assigned_unit_id == Some(unit.id) {
                Some(Access::Handler)
            } else if handled {
                Some(Access::ReadOnly)
            } else {
                None
            }
        }
    }
}

/// Load a case the principal may see, or `NotFound`.
pub async fn load(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
) -> Result<(case::Model, Access)> {
    let c = case::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("case"))?;
    let handled = match p.unit_id() {
        Some(unit_id) if !matches!(p.role, Role::Admin | Role::Operator | Role::Supervisor) => {
            case_handler::Entity::find_by_id((id, unit_id))
                .one(conn)
                .await?
                .is_some()
        }
        _ => false,
    };
    let access = access(p, &c, handled).ok_or(Error::NotFound("case"))?;
    Ok((c, access))
}

/// The list filter for the principal's scope.
pub fn list_condition(p: &Principal) -> Condition {
    match p.role {
        Role::Admin | Role::Operator => Condition::all(),
        Role::Supervisor => match p
            .unit
            .as_ref()
            .and_then(|u| RegionCode::parse(&u.region_code))
        {
            Some(region) => {
                Condition::all().add(case::Column::RegionCode.starts_with(region.prefix()))
            }
            None => Condition::all().add(Expr::value(false)),
        },
        _ => match p.unit_id() {
            Some(unit_id) => Condition::all().add(
                case::Column::Id.in_subquery(
                    Query::select()
                        .column(case_handler::Column::CaseId)
                        .from(case_handler::Entity)
                        .and_where(case_handler::Column::UnitId.eq(unit_id))
                        .to_owned(),
                ),
            ),
            None => Condition::all().add(Expr::value(false)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::UnitKind;

    fn who(role: Role, unit: Option<(Uuid, &str)>) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            username: "u".into(),
            display_name: "u".into(),
            role,
            email: None,
            unit: unit.map(|(id, region)| crate::auth::UnitRef {
                id,
                kind: UnitKind::RightsStation,
                region_code: region.into(),
            }),
            session_expires_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        }
    }

    fn case_at(region: &str, unit: Option<Uuid>) -> case::Model {
        let at = chrono::DateTime::<chrono::Utc>::MIN_UTC;
        case::Model {
            id: Uuid::nil(),
            number: "n".into(),
            category: crate::vocab::Category::Other,
            status: crate::vocab::CaseStatus::Assigned,
            priority: crate::vocab::Priority::Normal,
            risk_level: crate::vocab::RiskLevel::None,
            region_code: region.into(),
            summary: "x".into(),
            description: None,
            subject_name: None,
            subject_phone: None,
            subject_id_number: None,
            assigned_unit_id: unit,
            assignee_id: None,
            created_by: Uuid::nil(),
            created_at: at,
            updated_at: at,
            version: 1,
            accept_due_at: None,
            resolve_due_at: None,
            follow_up_due_at: None,
            confirmation_due_at: None,
            overdue: false,
            outcome: None,
            resolved_at: None,
            closed_at: None,
            danger_screen: None,
            dispatch_due_at: None,
            confirmation: None,
        }
    }

    #[test]
    fn who_sees_a_case() {
        let station = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let c = case_at("450321101201", Some(station));
        assert_eq!(
            access(&who(Role::Operator, None), &c, false),
            Some(Access::Hotline)
        );
        assert_eq!(
            access(&who(Role::Admin, None), &c, false),
            Some(Access::Admin)
        );
        let county = who(Role::Supervisor, Some((other, "450321000000")));
        assert_eq!(access(&county, &c, false), Some(Access::Supervisor));
        let elsewhere = who(Role::Supervisor, Some((other, "450224000000")));
        assert_eq!(
            access(&elsewhere, &c, false),
            None,
            "another county: not found"
        );
        let handler = who(Role::StationWorker, Some((station, "450321101000")));
        assert_eq!(access(&handler, &c, false), Some(Access::Handler));
        assert!(Access::Handler.may_unmask() && Access::Hotline.may_unmask());
        let former = who(Role::StationWorker, Some((other, "450321101000")));
        assert_eq!(access(&former, &c, true), Some(Access::ReadOnly));
        assert_eq!(access(&former, &c, false), None);
        assert!(!Access::ReadOnly.may_unmask() && !Access::Supervisor.may_unmask());
        assert_eq!(
            access(&who(Role::Mediator, None), &c, true),
            None,
            "no unit, nothing"
        );
    }
}
