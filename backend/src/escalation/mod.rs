//! Safety escalations to the police: opened with the case (danger screen) or
//! by hand, sent to the police unit of the place, raised level by level when
//! nobody acknowledges, and worked by the police liaison (acknowledge,
//! actions, resolve). Every step is a case event in the same transaction,
//! with its emails queued in the outbox and its deadlines as rows.
pub mod mail;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::{
    auth::Principal,
    cases::{routing, scope},
    config::{DeadlinePolicy, EscalationPolicy},
    db::entities::{case, case_handler, escalation, escalation_action, unit, user},
    deadlines,
    error::{Error, Result},
    events::{self, Effects, NewEvent},
    notify::{self, Mail},
    regions::RegionCode,
    state::AppState,
    vocab::{ActionKind, EscalationStatus, Role, UnitKind, Urgency},
};

pub const ACK_DEADLINE: &str = "escalation.ack";
pub const ACTION_DEADLINE: &str = "escalation.action";
pub const TOP_LEVEL: i16 = 3;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    pub kind: ActionKind,
    pub notes: String,
    pub at: DateTime<Utc>,
    pub by: Uuid,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EscalationView {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
    pub urgency: Urgency,
    pub level: i16,
    pub status: EscalationStatus,
    pub police_unit_id: Option<Uuid>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub ack_due_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Uuid>,
    pub action_due_at: DateTime<Utc>,
    pub first_action_at: Option<DateTime<Utc>>,
    pub next_raise_at: Option<DateTime<Utc>>,
    pub actions: Vec<ActionView>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    /// True when the acknowledgement or first-action deadline has passed
    /// unmet.
    pub overdue: bool,
    pub version: i32,
}

fn view_of(
    e: &escalation::Model,
    case_number: &str,
    actions: Vec<ActionView>,
    now: DateTime<Utc>,
) -> EscalationView {
    let status = EscalationStatus::parse(&e.status).unwrap_or(EscalationStatus::Pending);
    let overdue = match status {
        EscalationStatus::Pending => now > e.ack_due_at,
        EscalationStatus::Acknowledged => e.first_action_at.is_none() && now > e.action_due_at,
        EscalationStatus::Resolved => false,
    };
    EscalationView {
        id: e.id,
        case_id: e.case_id,
        case_number: case_number.to_string(),
        urgency: Urgency::parse(&e.urgency).unwrap_or(Urgency::High),
        level: e.level,
        status,
        police_unit_id: e.police_unit_id,
        reason: e.reason.clone(),
        created_at: e.created_at,
        ack_due_at: e.ack_due_at,
        acknowledged_at: e.acknowledged_at,
        acknowledged_by: e.acknowledged_by,
        action_due_at: e.action_due_at,
        first_action_at: e.first_action_at,
        next_raise_at: e.next_raise_at,
        actions,
        resolved_at: e.resolved_at,
        resolution: e.resolution.clone(),
        overdue,
        version: e.version,
    }
}

async fn actions_of(conn: &impl ConnectionTrait, id: Uuid) -> Result<Vec<ActionView>> {
    Ok(escalation_action::Entity::find()
        .filter(escalation_action::Column::EscalationId.eq(id))
        .order_by_asc(escalation_action::Column::At)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| ActionView {
            kind: ActionKind::parse(&a.kind).unwrap_or(ActionKind::Other),
            notes: a.notes,
            at: a.at,
            by: a.by_user,
        })
        .collect())
}

pub async fn view(
    conn: &impl ConnectionTrait,
    e: &escalation::Model,
    case_number: &str,
    now: DateTime<Utc>,
) -> Result<EscalationView> {
    Ok(view_of(e, case_number, actions_of(conn, e.id).await?, now))
}

/// Views of many escalations with two queries in all (their actions and
/// their case numbers), for lists.
pub async fn views(
    conn: &impl ConnectionTrait,
    rows: Vec<escalation::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<EscalationView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let mut actions: std::collections::HashMap<Uuid, Vec<ActionView>> = Default::default();
    for a in escalation_action::Entity::find()
        .filter(escalation_action::Column::EscalationId.is_in(ids))
        .order_by_asc(escalation_action::Column::At)
        .all(conn)
        .await?
    {
        actions
            .entry(a.escalation_id)
            .or_default()
            .push(ActionView {
                kind: ActionKind::parse(&a.kind).unwrap_or(ActionKind::Other),
                notes: a.notes,
                at: a.at,
                by: a.by_user,
            });
    }
    let case_ids: Vec<Uuid> = rows.iter().map(|e| e.case_id).collect();
    let numbers: std::collections::HashMap<Uuid, String> = case::Entity::find()
        .filter(case::Column::Id.is_in(case_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.number))
        .collect();
    Ok(rows
        .iter()
        .map(|e| {
            let number = numbers
                .get(&e.case_id)
                .map(String::as_str)
                .unwrap_or_default();
            view_of(e, number, actions.remove(&e.id).unwrap_or_default(), now)
        })
        .collect())
}

/// The most recent escalation of each case, keyed by case id (for case
/// lists: three queries whatever the page size).
pub async fn latest_for_cases(
    conn: &impl ConnectionTrait,
    case_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<Uuid, EscalationView>> {
    if case_ids.is_empty() {
        return Ok(Default::default());
    }
    let mut latest: std::collections::HashMap<Uuid, escalation::Model> = Default::default();
    for e in escalation::Entity::find()
        .filter(escalation::Column::CaseId.is_in(case_ids.to_vec()))
        .order_by_asc(escalation::Column::CreatedAt)
        .all(conn)
        .await?
    {
        latest.insert(e.case_id, e);
    }
    Ok(views(conn, latest.into_values().collect(), now)
        .await?
        .into_iter()
        .map(|v| (v.case_id, v))
        .collect())
}

/// The most recent escalation of a case, for the case view.
pub async fn latest_for_case(
    conn: &impl ConnectionTrait,
    c: &case::Model,
    now: DateTime<Utc>,
) -> Result<Option<EscalationView>> {
    let e = escalation::Entity::find()
        .filter(escalation::Column::CaseId.eq(c.id))
        .order_by_desc(escalation::Column::CreatedAt)
        .one(conn)
        .await?;
    match e {
        Some(e) => Ok(Some(view(conn, &e, &c.number, now).await?)),
        None => Ok(None),
    }
}

pub fn policy_for(policy: &DeadlinePolicy, urgency: Urgency) -> EscalationPolicy {
    match urgency {
        Urgency::Imminent => policy.imminent.clone(),
        Urgency::High => policy.high.clone(),
    }
}

async fn police_units(
    conn: &impl ConnectionTrait,
    place: &RegionCode,
) -> Result<Vec<routing::Candidate>> {
    let codes: Vec<String> = place
        .self_and_ancestors()
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    Ok(unit::Entity::find()
        .filter(unit::Column::Kind.eq(UnitKind::Police.as_str()))
        .filter(unit::Column::Active.eq(true))
        .filter(unit::Column::RegionCode.is_in(codes))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| routing::Candidate {
            id: u.id,
            kind: UnitKind::Police,
            name: u.name,
            region_code: u.region_code,
        })
        .collect())
}

/// The police unit for `level` at `place`: level 1 the nearest police unit
/// up the region tree; level 2 the nearest strictly above level 1's unit
/// (county command). Level 3 has no police unit (supervisors).
pub async fn police_unit_for(
    conn: &impl ConnectionTrait,
    place: &RegionCode,
    level: i16,
) -> Result<Option<Uuid>> {
    let units = police_units(conn, place).await?;
    let Some((first, at)) = routing::nearest(UnitKind::Police, place, &units) else {
        return Ok(None);
    };
    match level {
        1 => Ok(Some(first.id)),
        2 => Ok(at
            .parent()
            .and_then(|up| routing::nearest(UnitKind::Police, &up, &units))
            .map(|(u, _)| u.id)),
        _ => Ok(None),
    }
}

/// What opening or raising produced, to be appended by the caller's
/// transaction.
#[derive(Default)]
pub struct Produced {
    pub events: Vec<NewEvent>,
    pub mails: Vec<Mail>,
}

/// Open an escalation inside the caller's transaction (the case intake
/// transaction, or a hand escalation).
#[allow(clippy::too_many_arguments)]
pub async fn open(
    conn: &impl ConnectionTrait,
    state: &AppState,
    now: DateTime<Utc>,
    c: &case::Model,
    urgency: Urgency,
    reason: &str,
    actor: Option<Uuid>,
    out: &mut Produced,
) -> Result<escalation::Model> {
    let open = escalation::Entity::find()
        .filter(escalation::Column::CaseId.eq(c.id))
        .filter(escalation::Column::Status.ne(EscalationStatus::Resolved.as_str()))
        .one(conn)
        .await?;
    if open.is_some() {
        return Err(Error::Conflict {
            code: "escalation_open",
            message: "this case already has an open escalation".into(),
        });
    }
    let place = RegionCode::parse(&c.region_code).ok_or(Error::NotFound("region"))?;
    let policy = policy_for(&state.settings.deadlines, urgency);
    let police = police_unit_for(conn, &place, 1).await?;
    let level: i16 = if police.is_some() { 1 } else { TOP_LEVEL };
    let ack_due = now + Duration::seconds(policy.acknowledge_s);
    let model = escalation::ActiveModel {
        id: Set(crate::db::new_id()),
        case_id: Set(c.id),
        urgency: Set(urgency.as_str().to_string()),
        level: Set(level),
        status: Set(EscalationStatus::Pending.as_str().to_string()),
        police_unit_id: Set(police),
        reason: Set(reason.to_string()),
        created_by: Set(actor),
        created_at: Set(now),
        ack_due_at: Set(ack_due),
        acknowledged_at: Set(None),
        acknowledged_by: Set(None),
        action_due_at: Set(now + Duration::seconds(policy.first_action_s)),
        first_action_at: Set(None),
        next_raise_at: Set(Some(ack_due)),
        resolved_at: Set(None),
        resolution: Set(None),
        policy: Set(json!(policy)),
        version: Set(1),
    }
    .insert(conn)
    .await?;
    if let Some(p) = police {
        add_handler(conn, c.id, p).await?;
    }
    deadlines::schedule(conn, now, "escalation", model.id, ACK_DEADLINE, ack_due).await?;
    deadlines::schedule(
        conn,
        now,
        "escalation",
        model.id,
        ACTION_DEADLINE,
        model.action_due_at,
    )
    .await?;
    out.events.push(event(
        c,
        &model,
        "escalation.raised",
        actor,
        now,
        json!({
            "escalation_id": model.id,
            "urgency": urgency,
            "level": level,
            "police_unit_id": police,
            "reason": reason,
            "ack_due_at": model.ack_due_at,
            "action_due_at": model.action_due_at,
            "opened": true,
        }),
    ));
    let recipients = recipients_for_level(conn, c, &model, level).await?;
    out.mails.extend(mail::escalation_mails(
        &state.settings.public_url,
        c,
        &model,
        &recipients,
        false,
    ));
    Ok(model)
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

fn event(
    c: &case::Model,
    e: &escalation::Model,
    kind: &'static str,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    data: serde_json::Value,
) -> NewEvent {
    NewEvent {
        case_id: c.id,
        case_number: c.number.clone(),
        kind,
        actor_id: actor,
        unit_id: c.assigned_unit_id,
        prev_unit_id: None,
        police_unit_id: e.police_unit_id,
        region_code: c.region_code.clone(),
        at,
        data,
    }
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
    let mut out = Vec::new();
    if let Some(u) = unit::Entity::find_by_id(unit_id).one(conn).await? {
        out.extend(u.email);
    }
    let users = user::Entity::find()
        .filter(user::Column::UnitId.eq(unit_id))
        .filter(user::Column::Active.eq(true))
        .all(conn)
        .await?;
    out.extend(users.into_iter().filter_map(|u| u.email));
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

/// A missed acknowledgement: raise one level (or, at the top, remind),
/// notify the new level and keep the earlier ones informed, and schedule
/// the next raise. Called by the deadline engine inside its claim
/// transaction.
pub async fn raise(
    conn: &impl ConnectionTrait,
    state: &AppState,
    now: DateTime<Utc>,
    id: Uuid,
    out: &mut Produced,
) -> Result<bool> {
    let Some(e) = escalation::Entity::find_by_id(id).one(conn).await? else {
        return Ok(false);
    };
    if e.status != EscalationStatus::Pending.as_str() {
        return Ok(false);
    }
    let Some(c) = case::Entity::find_by_id(e.case_id).one(conn).await? else {
        return Ok(false);
    };
    let place = RegionCode::parse(&c.region_code).ok_or(Error::NotFound("region"))?;
    let policy: EscalationPolicy = serde_json::from_value(e.policy.clone()).unwrap_or_else(|_| {
        policy_for(
            &state.settings.deadlines,
            Urgency::parse(&e.urgency).unwrap_or(Urgency::High),
        )
    });
    // Everyone told so far: each police level reached, and level 3 once
    // it has been reached.
    let mut earlier = Vec::new();
    for level in 1..=Ord::min(e.level, TOP_LEVEL - 1) {
        if let Some(p) = police_unit_for(conn, &place, level).await? {
            earlier.extend(unit_addresses(conn, p).await?);
        }
    }
    if e.level >= TOP_LEVEL {
        earlier.extend(recipients_for_level(conn, &c, &e, TOP_LEVEL).await?);
    }
    let mut new_level = e.level;
    let mut new_police = e.police_unit_id;
    while new_level < TOP_LEVEL {
        new_level += 1;
        if new_level == TOP_LEVEL {
            break;
        }
        let p = police_unit_for(conn, &place, new_level).await?;
        if p.is_some() && p != e.police_unit_id {
            new_police = p;
            break;
        }
    }
    let next_raise = now + Duration::seconds(Ord::max(policy.raise_every_s, 1));
    let raised = new_level != e.level;
    let updated = escalation::Entity::update_many()
        .col_expr(escalation::Column::Level, Expr::value(new_level))
        .col_expr(escalation::Column::PoliceUnitId, Expr::value(new_police))
        .col_expr(escalation::Column::NextRaiseAt, Expr::value(next_raise))
        .col_expr(
            escalation::Column::Version,
            Expr::col(escalation::Column::Version).add(1),
        )
        .filter(escalation::Column::Id.eq(e.id))
        .filter(escalation::Column::Status.eq(EscalationStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(false);
    }
    if let Some(p) = new_police {
        add_handler(conn, c.id, p).await?;
    }
    deadlines::schedule(conn, now, "escalation", e.id, ACK_DEADLINE, next_raise).await?;
    let fresh = escalation::Model {
        level: new_level,
        police_unit_id: new_police,
        next_raise_at: Some(next_raise),
        ..e.clone()
    };
    let mut current = recipients_for_level(conn, &c, &fresh, new_level).await?;
    if raised {
        out.events.push(event(
            &c,
            &fresh,
            "escalation.raised",
            None,
            now,
            json!({
                "escalation_id": e.id,
                "urgency": e.urgency,
                "level": new_level,
                "from_level": e.level,
                "police_unit_id": new_police,
                "reason": "acknowledgement deadline missed",
                "ack_due_at": e.ack_due_at,
                "next_raise_at": next_raise,
            }),
        ));
    }
    // Notify the new level; keep the earlier ones informed.
    current.append(&mut earlier);
    out.mails.extend(mail::escalation_mails(
        &state.settings.public_url,
        &c,
        &fresh,
        &current,
        true,
    ));
    Ok(true)
}

/// The first-action deadline passed with no action recorded.
pub async fn action_missed(
    conn: &impl ConnectionTrait,
    state: &AppState,
    now: DateTime<Utc>,
    id: Uuid,
    out: &mut Produced,
) -> Result<bool> {
    let Some(e) = escalation::Entity::find_by_id(id).one(conn).await? else {
        return Ok(false);
    };
    if e.first_action_at.is_some() || e.status == EscalationStatus::Resolved.as_str() {
        return Ok(false);
    }
    let Some(c) = case::Entity::find_by_id(e.case_id).one(conn).await? else {
        return Ok(false);
    };
    out.events.push(event(
        &c,
        &e,
        "deadline.missed",
        None,
        now,
        json!({
            "kind": "escalation_action",
            "escalation_id": e.id,
            "due_at": e.action_due_at,
        }),
    ));
    let mut to = match e.police_unit_id {
        Some(u) => unit_addresses(conn, u).await?,
        None => Vec::new(),
    };
    to.extend(supervisor_addresses(conn, &c.region_code).await?);
    out.mails.extend(mail::deadline_missed_mails(
        &state.settings.public_url,
        &c,
        "escalation_action",
        e.action_due_at,
        &to,
    ));
    metrics::counter!("lianxin_deadlines_missed_total", "kind" => "escalation_action").increment(1);
    Ok(true)
}

// ---- police liaison actions -------------------------------------------------

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub kind: ActionKind,
    #[serde(default)]
    pub notes: String,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    pub summary: String,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEscalation {
    pub urgency: Urgency,
    pub reason: String,
}

/// May the principal see this escalation? Police: their unit is in the
/// chain (case handlers); supervisors: region; hotline and admin: all;
/// case handlers: read.
async fn load_visible(
    conn: &impl ConnectionTrait,
    p: &Principal,
    id: Uuid,
) -> Result<(escalation::Model, case::Model, scope::Access)> {
    let e = escalation::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("escalation"))?;
    let (c, access) = scope::load(conn, p, e.case_id)
        .await
        .map_err(|_| Error::NotFound("escalation"))?;
    Ok((e, c, access))
}

/// Police liaisons of a unit in the chain may work it: the unit it is
/// addressed to now, or one it was addressed to at an earlier level. At
/// level 3 the region's supervisors may too. (Whoever cannot read it got
/// 404 from `load_visible` already; this answers 403.)
async fn may_work(
    conn: &impl ConnectionTrait,
    p: &Principal,
    e: &escalation::Model,
    c: &case::Model,
    access: scope::Access,
) -> Result<()> {
    let allowed = match p.role {
        Role::PoliceLiaison => match p.unit_id() {
            Some(unit) => in_chain(conn, unit, e, c).await?,
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

/// Whether `unit` is the escalation's police unit now or was at one of
/// the levels below the current one (the chain `raise` walks: level 1 the
/// nearest police unit of the place, level 2 the one above it).
async fn in_chain(
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
        if police_unit_for(conn, &place, level).await? == Some(unit) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn check_version(e: &escalation::Model, version: Option<i32>) -> Result<()> {
    match version {
        Some(v) if v != e.version => Err(Error::VersionConflict),
        _ => Ok(()),
    }
}

async fn cas_update(
    conn: &impl ConnectionTrait,
    e: &escalation::Model,
    mut am: escalation::ActiveModel,
) -> Result<escalation::Model> {
    // Compare-and-set on version: a concurrent change wins, this one gets 409.
    am.version = Set(e.version + 1);
    let res = escalation::Entity::update_many()
        .set(am)
        .filter(escalation::Column::Id.eq(e.id))
        .filter(escalation::Column::Version.eq(e.version))
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    escalation::Entity::find_by_id(e.id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("escalation"))
}

impl Produced {
    /// Queue the mail, append the events (last: they take the feed-order
    /// lock), commit, then wake the hub, the engine and the sender.
    pub async fn commit(
        self,
        state: &AppState,
        txn: crate::db::WriteTxn,
        now: DateTime<Utc>,
        deadlines_changed: bool,
    ) -> Result<()> {
        let mail = !self.mails.is_empty();
        notify::enqueue(&*txn, now, self.mails).await?;
        events::append(&*txn, &state.node_id, self.events).await?;
        txn.commit().await?;
        state.after_commit(Effects {
            events: true,
            deadlines: deadlines_changed,
            mail,
        });
        Ok(())
    }
}

pub async fn acknowledge(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: VersionBody,
) -> Result<EscalationView> {
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let (e, c, access) = load_visible(&*txn, p, id).await?;
    may_work(&*txn, p, &e, &c, access).await?;
    check_version(&e, body.version)?;
    if e.status != EscalationStatus::Pending.as_str() {
        return Err(Error::InvalidTransition(format!(
            "the escalation is already {}",
            e.status
        )));
    }
    let updated = cas_update(
        &*txn,
        &e,
        escalation::ActiveModel {
            status: Set(EscalationStatus::Acknowledged.as_str().to_string()),
            acknowledged_at: Set(Some(now)),
            acknowledged_by: Set(Some(p.user_id)),
            next_raise_at: Set(None),
            ..Default::default()
        },
    )
    .await?;
    deadlines::cancel(&*txn, now, e.id, &[ACK_DEADLINE]).await?;
    let mut out = Produced::default();
    out.events.push(event(
        &c,
        &updated,
        "escalation.acknowledged",
        Some(p.user_id),
        now,
        json!({
            "escalation_id": e.id,
            "level": e.level,
            "by": p.user_id,
            "by_name": p.display_name,
            "seconds_to_acknowledge": (now - e.created_at).num_seconds(),
        }),
    ));
    metrics::histogram!("lianxin_escalation_time_to_acknowledge_seconds", "urgency" => e.urgency.clone())
        .record((now - e.created_at).num_milliseconds() as f64 / 1000.0);
    out.commit(state, txn, now, true).await?;
    view(&state.db.conn, &updated, &c.number, now).await
}

pub async fn record_action(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ActionBody,
) -> Result<EscalationView> {
    let now = state.now();
    if body.notes.chars().count() > 4000 {
        return Err(Error::validation("notes", "at most 4000 characters"));
    }
    let txn = state.db.begin_write().await?;
    let (e, c, access) = load_visible(&*txn, p, id).await?;
    may_work(&*txn, p, &e, &c, access).await?;
    check_version(&e, body.version)?;
    if e.status != EscalationStatus::Acknowledged.as_str() {
        return Err(Error::InvalidTransition(format!(
            "actions are recorded on an acknowledged escalation; this one is {}",
            e.status
        )));
    }
    escalation_action::Entity::insert(escalation_action::ActiveModel {
        id: Set(crate::db::new_id()),
        escalation_id: Set(e.id),
        kind: Set(body.kind.as_str().to_string()),
        notes: Set(body.notes.trim().to_string()),
        at: Set(now),
        by_user: Set(p.user_id),
    })
    .exec_without_returning(&*txn)
    .await?;
    let updated = cas_update(
        &*txn,
        &e,
        escalation::ActiveModel {
            first_action_at: Set(Some(e.first_action_at.unwrap_or(now))),
            ..Default::default()
        },
    )
    .await?;
    deadlines::cancel(&*txn, now, e.id, &[ACTION_DEADLINE]).await?;
    let mut out = Produced::default();
    out.events.push(event(
        &c,
        &updated,
        "escalation.action_recorded",
        Some(p.user_id),
        now,
        json!({
            "escalation_id": e.id,
            "kind": body.kind,
            "notes": body.notes.trim(),
        }),
    ));
    out.commit(state, txn, now, true).await?;
    view(&state.db.conn, &updated, &c.number, now).await
}

pub async fn resolve(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: ResolveBody,
) -> Result<EscalationView> {
    let now = state.now();
    let summary = body.summary.trim();
    if summary.is_empty() {
        return Err(Error::validation("summary", "must not be empty"));
    }
    let txn = state.db.begin_write().await?;
    let (e, c, access) = load_visible(&*txn, p, id).await?;
    may_work(&*txn, p, &e, &c, access).await?;
    check_version(&e, body.version)?;
    if e.status != EscalationStatus::Acknowledged.as_str() {
        return Err(Error::InvalidTransition(format!(
            "only an acknowledged escalation can be resolved; this one is {}",
            e.status
        )));
    }
    let updated = cas_update(
        &*txn,
        &e,
        escalation::ActiveModel {
            status: Set(EscalationStatus::Resolved.as_str().to_string()),
            resolved_at: Set(Some(now)),
            resolution: Set(Some(summary.to_string())),
            ..Default::default()
        },
    )
    .await?;
    deadlines::cancel(&*txn, now, e.id, &[ACK_DEADLINE, ACTION_DEADLINE]).await?;
    let mut out = Produced::default();
    out.events.push(event(
        &c,
        &updated,
        "escalation.resolved",
        Some(p.user_id),
        now,
        json!({
            "escalation_id": e.id,
            "summary": summary,
        }),
    ));
    out.commit(state, txn, now, true).await?;
    view(&state.db.conn, &updated, &c.number, now).await
}

pub async fn get(state: &AppState, p: &Principal, id: Uuid) -> Result<EscalationView> {
    let (e, c, _) = load_visible(&state.db.conn, p, id).await?;
    view(&state.db.conn, &e, &c.number, state.now()).await
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct ListQuery {
    pub status: Option<String>,
    pub overdue: Option<bool>,
    pub limit: Option<u64>,
}

pub async fn list(state: &AppState, p: &Principal, q: ListQuery) -> Result<Vec<EscalationView>> {
    let now = state.now();
    let conn = &state.db.conn;
    let mut query = escalation::Entity::find()
        .filter(
            escalation::Column::CaseId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(case::Column::Id)
                    .from(case::Entity)
                    .cond_where(scope::list_condition(p))
                    .to_owned(),
            ),
        )
        .order_by_desc(escalation::Column::CreatedAt);
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let status = EscalationStatus::parse(s).ok_or_else(|| {
            Error::validation(
                "status",
                format!("must be one of {}", EscalationStatus::allowed()),
            )
        })?;
        query = query.filter(escalation::Column::Status.eq(status.as_str()));
    }
    if q.overdue == Some(true) {
        query = query.filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(escalation::Column::Status.eq(EscalationStatus::Pending.as_str()))
                        .add(escalation::Column::AckDueAt.lt(now)),
                )
                .add(
                    sea_orm::Condition::all()
                        .add(escalation::Column::Status.eq(EscalationStatus::Acknowledged.as_str()))
                        .add(escalation::Column::FirstActionAt.is_null())
                        .add(escalation::Column::ActionDueAt.lt(now)),
                ),
        );
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let rows = query.limit(limit).all(conn).await?;
    views(conn, rows, now).await
}

/// `POST /cases/{id}/escalations`: an operator, or the station worker or
/// mediator handling the case (a dispute that may turn into a crime must be
/// reported to the police).
pub async fn escalate_by_hand(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: NewEscalation,
) -> Result<EscalationView> {
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(Error::validation("reason", "must not be empty"));
    }
    let now = state.now();
    let txn = state.db.begin_write().await?;
    let (c, access) = scope::load(&*txn, p, case_id).await?;
    let allowed = match p.role {
        Role::Operator => true,
        Role::StationWorker | Role::Mediator | Role::Department => access == scope::Access::Handler,
        Role::Supervisor => access == scope::Access::Supervisor,
        _ => false,
    };
    if !allowed {
        return Err(Error::Forbidden(format!(
            "the role {} may not escalate this case",
            p.role
        )));
    }
    if c.status == crate::vocab::CaseStatus::Closed.as_str() {
        return Err(Error::InvalidTransition(
            "cannot escalate a closed case".into(),
        ));
    }
    let mut out = Produced::default();
    let e = open(
        &*txn,
        state,
        now,
        &c,
        body.urgency,
        reason,
        Some(p.user_id),
        &mut out,
    )
    .await?;
    // The case's risk follows the escalation up, never down.
    let wanted = match body.urgency {
        Urgency::Imminent => crate::vocab::RiskLevel::Imminent,
        Urgency::High => crate::vocab::RiskLevel::High,
    };
    let current =
        crate::vocab::RiskLevel::parse(&c.risk_level).unwrap_or(crate::vocab::RiskLevel::None);
    if wanted.rank() > current.rank() {
        case::Entity::update_many()
            .col_expr(case::Column::RiskLevel, Expr::value(wanted.as_str()))
            .col_expr(
                case::Column::Version,
                Expr::col(case::Column::Version).add(1),
            )
            .col_expr(case::Column::UpdatedAt, Expr::value(now))
            .filter(case::Column::Id.eq(c.id))
            .exec(&*txn)
            .await?;
    }
    out.commit(state, txn, now, true).await?;
    view(&state.db.conn, &e, &c.number, now).await
}
