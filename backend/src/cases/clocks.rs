//! The clocks of a case and what a fired one means.
//!
//! Every clock is a row in `deadlines` (kinds below). A missed dispatch,
//! accept or resolve deadline marks the case `overdue`, appends
//! `deadline.missed`, mails the unit that must act and the nearest
//! supervisors, and schedules a reminder (`*.remind`) every
//! `case_remind_every_s`; each further miss tells the supervisors one
//! region level further up. The reminders stop when the case moves on
//! (the use case cancels them, or they fire as no-ops).
//!
//! The judicial-confirmation window of a mediation agreement belongs to the
//! parties (People's Mediation Law art. 33): its day-20 reminder asks the
//! mediator to advise them, and its close is a timeline event — never a
//! missed deadline, never `overdue`, never in the deadline figures.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;

use super::record::event;
use crate::{
    calendar::Calendar,
    config::{DeadlinePolicy, Settings},
    db::entities::{case, deadline, unit, user},
    deadlines::Deadline,
    error::Result,
    escalation::{chain, mail},
    regions::RegionCode,
    vocab::{CaseStatus, Category, Priority, Role, UnitKind},
    work::Work,
};

pub const DISPATCH: &str = "case.dispatch";
pub const DISPATCH_REMIND: &str = "case.dispatch.remind";
pub const ACCEPT: &str = "case.accept";
pub const ACCEPT_REMIND: &str = "case.accept.remind";
pub const RESOLVE: &str = "case.resolve";
pub const RESOLVE_REMIND: &str = "case.resolve.remind";
pub const FOLLOW_UP: &str = "case.follow_up";
pub const CONFIRMATION_REMINDER: &str = "case.confirmation_reminder";
pub const CONFIRMATION: &str = "case.confirmation";

/// Every kind this module fires.
pub const KINDS: &[&str] = &[
    DISPATCH,
    DISPATCH_REMIND,
    ACCEPT,
    ACCEPT_REMIND,
    RESOLVE,
    RESOLVE_REMIND,
    FOLLOW_UP,
    CONFIRMATION_REMINDER,
    CONFIRMATION,
];
pub const DISPATCH_KINDS: &[&str] = &[DISPATCH, DISPATCH_REMIND];
pub const ACCEPT_KINDS: &[&str] = &[ACCEPT, ACCEPT_REMIND];
pub const RESOLVE_KINDS: &[&str] = &[RESOLVE, RESOLVE_REMIND];
pub const CONFIRMATION_KINDS: &[&str] = &[CONFIRMATION_REMINDER, CONFIRMATION];
/// What no longer applies once a case is closed. The parties' confirmation
/// window stays: it runs whatever the case's status.
pub const ON_CLOSE: &[&str] = &[
    DISPATCH,
    DISPATCH_REMIND,
    ACCEPT,
    ACCEPT_REMIND,
    RESOLVE,
    RESOLVE_REMIND,
    FOLLOW_UP,
];

/// Whether a deadline of this kind counts in the met/missed figures: the
/// first miss does, its reminders do not, and the parties' confirmation
/// window is no deadline of ours.
pub fn counts_in_figures(kind: &str) -> bool {
    !matches!(
        kind,
        DISPATCH_REMIND | ACCEPT_REMIND | RESOLVE_REMIND | CONFIRMATION_REMINDER | CONFIRMATION
    )
}

pub fn accept_window(policy: &DeadlinePolicy, p: Priority) -> Duration {
    Duration::seconds(match p {
        Priority::Urgent => policy.accept_urgent_s,
        Priority::High => policy.accept_high_s,
        Priority::Normal => policy.accept_normal_s,
        Priority::Low => policy.accept_low_s,
    })
}

pub fn resolve_window(policy: &DeadlinePolicy, c: Category) -> Duration {
    Duration::seconds(if c.is_mediation() {
        policy.resolve_mediation_s
    } else {
        policy.resolve_s
    })
}

pub fn dispatch_window(policy: &DeadlinePolicy, p: Priority) -> Duration {
    Duration::seconds(match p {
        Priority::Urgent => policy.dispatch_urgent_s,
        _ => policy.dispatch_s,
    })
}

/// The accept due time: working days if `[calendar]` says so (hours: 24×7).
pub fn accept_due(
    settings: &Settings,
    cal: &Calendar,
    p: Priority,
    from: DateTime<Utc>,
) -> DateTime<Utc> {
    let secs = accept_window(&settings.deadlines, p).num_seconds();
    settings.calendar.due(cal, ACCEPT, from, secs)
}

/// The resolve due time, as `accept_due`.
pub fn resolve_due(
    settings: &Settings,
    cal: &Calendar,
    c: Category,
    from: DateTime<Utc>,
) -> DateTime<Utc> {
    let secs = resolve_window(&settings.deadlines, c).num_seconds();
    settings.calendar.due(cal, RESOLVE, from, secs)
}

/// One of the three clocks that repeat and climb.
struct Clock {
    /// `dispatch`, `accept` or `resolve`: the `kind` of `deadline.missed`.
    name: &'static str,
    base: &'static str,
    remind: &'static str,
    /// The due time of the current window (a reminder after it belongs to
    /// it; one before it to an earlier window).
    window_due: Option<DateTime<Utc>>,
}

/// The repeating clock a kind belongs to, and whether the case still owes it.
fn clock_of(kind: &str, c: &case::Model, status: CaseStatus) -> Option<(Clock, bool)> {
    use CaseStatus::*;
    Some(match kind {
        DISPATCH | DISPATCH_REMIND => (
            Clock {
                name: "dispatch",
                base: DISPATCH,
                remind: DISPATCH_REMIND,
                window_due: c.dispatch_due_at,
            },
            status == New,
        ),
        ACCEPT | ACCEPT_REMIND => (
            Clock {
                name: "accept",
                base: ACCEPT,
                remind: ACCEPT_REMIND,
                window_due: c.accept_due_at,
            },
            matches!(status, New | Assigned),
        ),
        RESOLVE | RESOLVE_REMIND => (
            Clock {
                name: "resolve",
                base: RESOLVE,
                remind: RESOLVE_REMIND,
                window_due: c.resolve_due_at,
            },
            matches!(status, New | Assigned | InProgress),
        ),
        _ => return None,
    })
}

/// Apply a fired case deadline inside the engine's claim transaction.
/// Returns false when its condition was met in the meantime (a no-op).
pub async fn fire(w: &mut Work, settings: &Settings, d: &Deadline) -> Result<bool> {
    let now = w.now;
    let Some(c) = case::Entity::find_by_id(d.subject_id).one(&**w).await? else {
        return Ok(false);
    };
    let status = c.status;
    use CaseStatus::*;
    let (clock, still_due) = match d.kind.as_str() {
        CONFIRMATION_REMINDER => return confirmation_reminder(w, settings, &c).await,
        CONFIRMATION => return Ok(confirmation_window_closed(w, &c, d)),
        FOLLOW_UP => {
            if status != Resolved {
                return Ok(false);
            }
            let to = unit_and_supervisors(&**w, &c, 0).await?;
            missed(w, settings, &c, d, "follow_up", 1, None, &to);
            mark_overdue(&**w, &c).await?;
            return Ok(true);
        }
        kind => match clock_of(kind, &c, status) {
            Some(found) => found,
            None => return Ok(false),
        },
    };
    if !still_due {
        return Ok(false);
    }
    let miss = if d.kind == clock.base {
        1
    } else {
        // This reminder is claimed already, so it is among those counted.
        let mut q = deadline::Entity::find()
            .filter(deadline::Column::SubjectId.eq(c.id))
            .filter(deadline::Column::Kind.eq(clock.remind))
            .filter(deadline::Column::FiredAt.is_not_null());
        if let Some(w) = clock.window_due {
            q = q.filter(deadline::Column::DueAt.gt(w));
        }
        1 + q.count(&**w).await? as usize
    };
    let to = if clock.name == "dispatch" {
        let mut to = hotline_addresses(&**w, &c).await?;
        to.extend(supervisors_up_to(&**w, &c.region_code, miss - 1).await?);
        to
    } else {
        unit_and_supervisors(&**w, &c, miss - 1).await?
    };
    let every = Duration::seconds(Ord::max(settings.deadlines.case_remind_every_s, 60));
    let next = now + every;
    w.schedule("case", c.id, clock.remind, next).await?;
    mark_overdue(&**w, &c).await?;
    missed(w, settings, &c, d, clock.name, miss, Some(next), &to);
    Ok(true)
}

async fn mark_overdue(conn: &impl ConnectionTrait, c: &case::Model) -> Result<()> {
    case::Entity::update_many()
        .col_expr(case::Column::Overdue, Expr::value(true))
        .filter(case::Column::Id.eq(c.id))
        .exec(conn)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn missed(
    w: &mut Work,
    settings: &Settings,
    c: &case::Model,
    d: &Deadline,
    kind: &'static str,
    miss: usize,
    next_reminder_at: Option<DateTime<Utc>>,
    to: &[String],
) {
    w.event(event(
        c,
        "deadline.missed",
        None,
        w.now,
        json!({
            "kind": kind,
            "due_at": d.due_at,
            "status": c.status,
            "miss": miss,
            "next_reminder_at": next_reminder_at,
        }),
    ));
    w.mail(mail::deadline_missed_mails(
        &settings.public_url,
        c,
        kind,
        d.due_at,
        to,
    ));
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => kind).increment(1);
}

async fn unit_and_supervisors(
    conn: &impl ConnectionTrait,
    c: &case::Model,
    climb: usize,
) -> Result<Vec<String>> {
    let mut to = match c.assigned_unit_id {
        Some(u) => chain::unit_addresses(conn, u).await?,
        None => Vec::new(),
    };
    to.extend(supervisors_up_to(conn, &c.region_code, climb).await?);
    Ok(to)
}

/// Who must dispatch a case left `new`: the hotline centre it sits with,
/// or every active hotline centre when it sits with none.
async fn hotline_addresses(conn: &impl ConnectionTrait, c: &case::Model) -> Result<Vec<String>> {
    if let Some(u) = c.assigned_unit_id {
        return chain::unit_addresses(conn, u).await;
    }
    let mut to = Vec::new();
    for h in unit::Entity::find()
        .filter(unit::Column::Kind.eq(UnitKind::HotlineCenter.as_str()))
        .filter(unit::Column::Active.eq(true))
        .all(conn)
        .await?
    {
        to.extend(chain::unit_addresses(conn, h.id).await?);
    }
    Ok(to)
}

/// Active supervisors of the nearest supervising level over `region_code`
/// and of `climb` levels above it (a level is a region that has a unit with
/// active supervisors in it).
pub async fn supervisors_up_to(
    conn: &impl ConnectionTrait,
    region_code: &str,
    climb: usize,
) -> Result<Vec<String>> {
    let Some(place) = RegionCode::parse(region_code) else {
        return Ok(Vec::new());
    };
    let codes: Vec<String> = place
        .self_and_ancestors()
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let units: std::collections::HashMap<uuid::Uuid, String> = unit::Entity::find()
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
    // `codes` runs from the place up, so its order is nearest first.
    let mut levels: Vec<&String> = codes
        .iter()
        .filter(|code| {
            supervisors
                .iter()
                .any(|s| s.unit_id.and_then(|u| units.get(&u)) == Some(*code))
        })
        .collect();
    levels.truncate(climb + 1);
    Ok(supervisors
        .into_iter()
        .filter(|s| {
            s.unit_id
                .and_then(|u| units.get(&u))
                .is_some_and(|code| levels.contains(&code))
        })
        .filter_map(|s| s.email)
        .collect())
}

/// Day 20 of the window: remind the mediator to advise the parties.
async fn confirmation_reminder(w: &mut Work, settings: &Settings, c: &case::Model) -> Result<bool> {
    let (Some(due), None) = (c.confirmation_due_at, &c.confirmation) else {
        return Ok(false);
    };
    let to = match c.assigned_unit_id {
        Some(u) => chain::unit_addresses(&**w, u).await?,
        None => Vec::new(),
    };
    let now = w.now;
    w.event(event(
        c,
        "mediation.confirmation_reminder",
        None,
        now,
        json!({ "confirmation_due_at": due }),
    ));
    w.mail(mail::deadline_missed_mails(
        &settings.public_url,
        c,
        "confirmation_reminder",
        due,
        &to,
    ));
    Ok(true)
}

/// Day 30: the parties' window has closed. A timeline event only.
fn confirmation_window_closed(w: &mut Work, c: &case::Model, d: &Deadline) -> bool {
    if c.confirmation.is_some() {
        return false;
    }
    let now = w.now;
    w.event(event(
        c,
        "mediation.confirmation_window_closed",
        None,
        now,
        json!({ "closed_at": d.due_at }),
    ));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_in(status: CaseStatus) -> case::Model {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        case::Model {
            status,
            accept_due_at: Some(at),
            resolve_due_at: Some(at),
            dispatch_due_at: Some(at),
            ..case::sample()
        }
    }

    /// Which clock each case status still owes: a reminder that fires after
    /// the case moved on is a no-op.
    #[test]
    fn each_clock_is_owed_only_while_the_case_waits_for_it() {
        use CaseStatus::*;
        let owed = |kind: &str, s: CaseStatus| clock_of(kind, &case_in(s), s).map(|(_, due)| due);
        for s in CaseStatus::ALL.iter().copied() {
            assert_eq!(owed(DISPATCH, s), Some(s == New), "dispatch, {s}");
            assert_eq!(
                owed(DISPATCH_REMIND, s),
                Some(s == New),
                "dispatch reminder, {s}"
            );
            assert_eq!(
                owed(ACCEPT, s),
                Some(matches!(s, New | Assigned)),
                "accept, {s}"
            );
            assert_eq!(
                owed(RESOLVE_REMIND, s),
                Some(matches!(s, New | Assigned | InProgress)),
                "resolve reminder, {s}"
            );
        }
        assert!(owed(FOLLOW_UP, Resolved).is_none(), "not a repeating clock");
        assert!(owed("escalation.ack", New).is_none());
    }

    #[test]
    fn reminders_and_the_parties_window_stay_out_of_the_figures() {
        for kind in [DISPATCH, ACCEPT, RESOLVE, FOLLOW_UP] {
            assert!(counts_in_figures(kind), "{kind}");
        }
        for kind in [
            DISPATCH_REMIND,
            ACCEPT_REMIND,
            RESOLVE_REMIND,
            CONFIRMATION,
            CONFIRMATION_REMINDER,
        ] {
            assert!(!counts_in_figures(kind), "{kind}");
        }
        for kind in ON_CLOSE {
            assert!(
                !CONFIRMATION_KINDS.contains(kind),
                "closing keeps the parties' window"
            );
        }
    }

    #[test]
    fn an_urgent_case_is_dispatched_sooner() {
        let p = DeadlinePolicy::default();
        assert_eq!(dispatch_window(&p, Priority::Urgent), Duration::minutes(15));
        assert_eq!(dispatch_window(&p, Priority::Normal), Duration::hours(1));
        assert_eq!(resolve_window(&p, Category::LandRights), Duration::days(30));
        assert_eq!(
            resolve_window(&p, Category::DomesticViolence),
            Duration::days(15)
        );
    }
}
