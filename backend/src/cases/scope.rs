//! Who may see and do what with a case, and which of its events reach a
//! live feed. Anything out of scope is reported as not found, so a request
//! learns nothing about cases it may not see. The two scopes live together
//! and a test checks that they agree: the feed never sends an event of a
//! case its user could not read.
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func, Query, QueryStatementBuilder},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use crate::{
    auth::Principal,
    db::entities::{case, case_event, case_handler, escalation},
    error::{Error, Result},
    events::CaseEvent,
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
    // The roles that read by scope alone need not ask about handlers.
    let unit = p
        .unit_id()
        .filter(|_| !matches!(p.role, Role::Admin | Role::Operator | Role::Supervisor));
    let r = fetch(conn, unit, id, false).await?;
    let access = access(p, &r.case, r.handled).ok_or(Error::NotFound("case"))?;
    Ok((r.case, access))
}

/// A case as the case page reads it, whoever reads it; held by
/// `events::CaseCache` (which drops it when the case changes).
#[derive(Debug)]
pub struct CaseRecord {
    pub case: case::Model,
    /// Every unit in `case_handlers` for the case.
    pub handlers: Vec<Uuid>,
    /// Its latest escalation, if it was ever escalated.
    pub escalation: Option<crate::escalation::view::Latest>,
    /// The seq of its latest event.
    pub last_seq: Option<i64>,
}

impl CaseRecord {
    pub fn handled_by(&self, unit: Option<Uuid>) -> bool {
        unit.is_some_and(|u| self.handlers.contains(&u))
    }
}

impl crate::events::Held for CaseRecord {
    fn last_seq(&self) -> Option<i64> {
        self.last_seq
    }
}

/// Read a case as the case page reads it: its row and its
/// latest event's seq (one query), every unit that handled it, and its
/// latest escalation (a case never escalated costs no escalation query).
/// Kept by `events::CaseCache`; [`access_to`] decides who may read it.
pub async fn record(conn: &impl ConnectionTrait, id: Uuid) -> Result<CaseRecord> {
    let read = fetch(conn, None, id, true).await?;
    let handlers = case_handler::Entity::find()
        .select_only()
        .column(case_handler::Column::UnitId)
        .filter(case_handler::Column::CaseId.eq(id))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?;
    let escalation = if read.escalated {
        crate::escalation::view::latest_of_case(conn, id).await?
    } else {
        None
    };
    Ok(CaseRecord {
        case: read.case,
        handlers,
        escalation,
        last_seq: read.last_seq,
    })
}

/// The principal's access to a case read by [`record`], or `NotFound`.
pub fn access_to(p: &Principal, r: &CaseRecord) -> Result<Access> {
    access(p, &r.case, r.handled_by(p.unit_id())).ok_or(Error::NotFound("case"))
}

struct Fetched {
    case: case::Model,
    handled: bool,
    escalated: bool,
    last_seq: Option<i64>,
}

/// One query: the case row, whether `unit` is among its handlers, and (for
/// the case page) whether it has an escalation and its latest event's seq.
/// Round trips were most of the case page's cost.
async fn fetch(
    conn: &impl ConnectionTrait,
    unit: Option<Uuid>,
    id: Uuid,
    for_read: bool,
) -> Result<Fetched> {
    let mut q = case::Entity::find_by_id(id);
    if let Some(unit_id) = unit {
        let handled = Query::select()
            .expr(Expr::val(1))
            .from(case_handler::Entity)
            .and_where(
                Expr::col((case_handler::Entity, case_handler::Column::CaseId))
                    .equals((case::Entity, case::Column::Id)),
            )
            .and_where(case_handler::Column::UnitId.eq(unit_id))
            .to_owned();
        q = q.expr_as(Expr::exists(handled), "handled");
    }
    if for_read {
        let any = Query::select()
            .expr(Expr::val(1))
            .from(escalation::Entity)
            .and_where(
                Expr::col((escalation::Entity, escalation::Column::CaseId))
                    .equals((case::Entity, case::Column::Id)),
            )
            .to_owned();
        q = q.expr_as(Expr::exists(any), "escalated");
        // An index-only probe of `case_events_case (case_id, feed_seq)`.
        let last = Query::select()
            .expr(Func::max(Expr::col((
                case_event::Entity,
                case_event::Column::FeedSeq,
            ))))
            .from(case_event::Entity)
            .and_where(
                Expr::col((case_event::Entity, case_event::Column::CaseId))
                    .equals((case::Entity, case::Column::Id)),
            )
            .to_owned();
        q = q.expr_as(
            Expr::SubQuery(None, Box::new(last.into_sub_query_statement())),
            "last_seq",
        );
    }
    let row = conn
        .query_one_raw(q.build(conn.get_database_backend()))
        .await?
        .ok_or(Error::NotFound("case"))?;
    let c = case::Model::from_query_result(&row, "")?;
    let flag = |name: &str| -> Result<bool> { Ok(row.try_get::<bool>("", name)?) };
    let handled = unit.is_some() && flag("handled")?;
    let escalated = for_read && flag("escalated")?;
    let last_seq = if for_read {
        row.try_get::<Option<i64>>("", "last_seq")?
    } else {
        None
    };
    Ok(Fetched {
        case: c,
        handled,
        escalated,
        last_seq,
    })
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

/// The cases whose subject's phone number the principal may find by
/// search: exactly those it reads unmasked (`Access::may_unmask`) — the
/// hotline every case, a unit the cases assigned to it. `None` for the
/// roles that see numbers masked (supervisors, admins): a search by number
/// would let them probe a number they may not read.
pub fn unmasked_condition(p: &Principal) -> Option<Condition> {
    match p.role {
        Role::Operator => Some(Condition::all()),
        Role::Admin | Role::Supervisor => None,
        _ => p
            .unit_id()
            .map(|u| Condition::all().add(case::Column::AssignedUnitId.eq(u))),
    }
}

/// Which events a connection receives: exactly what its user could read
/// through `GET /api/v1/cases/{id}`, narrowed by "a transfer moves future
/// events to the new unit". One widening: a `referral.*` event names the
/// receiving unit in `prev_unit_id`, so that unit hears of its referral
/// (whose case header it reads masked) without reading the case.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedScope {
    All,
    Region(String),
    Unit(Uuid),
    Nothing,
}

impl FeedScope {
    pub fn of(p: &Principal) -> FeedScope {
        match (p.role, &p.unit) {
            (Role::Admin | Role::Operator, _) => FeedScope::All,
            (Role::Supervisor, Some(u)) => RegionCode::parse(&u.region_code)
                .map(|c| FeedScope::Region(c.prefix().to_string()))
                .unwrap_or(FeedScope::Nothing),
            (_, Some(u)) => FeedScope::Unit(u.id),
            (_, None) => FeedScope::Nothing,
        }
    }

    pub fn sees(&self, e: &CaseEvent) -> bool {
        match self {
            FeedScope::All => true,
            FeedScope::Region(prefix) => e.region_code.starts_with(prefix.as_str()),
            FeedScope::Unit(id) => {
                e.unit_id == Some(*id)
                    || e.prev_unit_id == Some(*id)
                    || e.police_unit_id == Some(*id)
            }
            FeedScope::Nothing => false,
        }
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
            must_change_password: false,
        }
    }

    fn case_at(region: &str, unit: Option<Uuid>) -> case::Model {
        case::Model {
            number: "n".into(),
            category: crate::vocab::Category::Other,
            region_code: region.into(),
            assigned_unit_id: unit,
            ..case::sample()
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

    /// Phone search reaches exactly the cases a user reads unmasked.
    #[test]
    fn phone_search_follows_unmasking() {
        let station = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let c = case_at("450321101201", Some(station));
        let people = [
            (who(Role::Operator, None), false),
            (who(Role::Admin, None), false),
            (who(Role::Supervisor, Some((other, "450321000000"))), false),
            (
                who(Role::StationWorker, Some((station, "450321101000"))),
                true,
            ),
            (
                who(Role::StationWorker, Some((other, "450321101000"))),
                true,
            ),
        ];
        for (p, handled) in &people {
            let unmasks = access(p, &c, *handled).is_some_and(Access::may_unmask);
            let searches = match unmasked_condition(p) {
                None => false,
                Some(_) if p.role == Role::Operator => true,
                Some(_) => c.assigned_unit_id == p.unit_id(),
            };
            assert_eq!(unmasks, searches, "{:?} of unit {:?}", p.role, p.unit_id());
        }
    }

    /// An event of case `c` as the log would carry it while the case is
    /// with `unit`, after a transfer from `prev`, escalated to `police`.
    fn event_of(c: &case::Model, prev: Option<Uuid>, police: Option<Uuid>) -> CaseEvent {
        CaseEvent {
            seq: 1,
            id: Uuid::nil(),
            case_id: c.id,
            case_number: c.number.clone(),
            event: "case.noted".into(),
            actor_id: None,
            unit_id: c.assigned_unit_id,
            prev_unit_id: prev,
            police_unit_id: police,
            region_code: c.region_code.clone(),
            at: c.created_at,
            data: serde_json::Value::Null,
        }
    }

    /// The case scope and the feed scope agree: for each kind of user, an
    /// event reaches the feed exactly when the user could read the case
    /// the moment it happened. The feed is narrower only for a former
    /// handler, who keeps reading the case (read-only) but hears no event
    /// after the transfer that took it away.
    #[test]
    fn the_feed_sends_exactly_the_events_of_cases_the_user_may_read() {
        let station = Uuid::from_u128(1);
        let former = Uuid::from_u128(2);
        let police = Uuid::from_u128(3);
        let stranger = Uuid::from_u128(4);
        let c = case_at("450321101201", Some(station));
        let people = [
            (who(Role::Operator, None), false),
            (who(Role::Admin, None), false),
            (
                who(Role::Supervisor, Some((stranger, "450321000000"))),
                false,
            ),
            (
                who(Role::Supervisor, Some((stranger, "450224000000"))),
                false,
            ),
            (who(Role::Supervisor, None), false),
            (
                who(Role::StationWorker, Some((station, "450321101000"))),
                true,
            ),
            (
                who(Role::PoliceLiaison, Some((police, "450321101000"))),
                true,
            ),
            (who(Role::Mediator, Some((stranger, "450321101000"))), false),
            (who(Role::Department, None), false),
        ];
        // While escalated to `police`, after a transfer from `former`.
        let during = event_of(&c, Some(former), Some(police));
        for (p, handled) in &people {
            let reads = access(p, &c, *handled).is_some();
            let hears = FeedScope::of(p).sees(&during);
            assert_eq!(reads, hears, "{:?} of unit {:?}", p.role, p.unit_id());
        }
        // The transfer event reaches the unit that lost the case, which
        // still reads it; a later event does not.
        let gone = who(Role::StationWorker, Some((former, "450321101000")));
        assert_eq!(access(&gone, &c, true), Some(Access::ReadOnly));
        assert!(FeedScope::of(&gone).sees(&during));
        assert!(!FeedScope::of(&gone).sees(&event_of(&c, None, None)));
        // No event ever reaches a feed whose user could not read the case.
        for (p, handled) in &people {
            for e in [event_of(&c, None, None), event_of(&c, None, Some(police))] {
                if FeedScope::of(p).sees(&e) {
                    assert!(access(p, &c, *handled).is_some(), "{:?}", p.role);
                }
            }
        }
    }
}
