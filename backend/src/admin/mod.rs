//! Administration of units, users and routing rules. Every change is one
//! transaction that also writes its audit row.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit,
    auth::{cache::Change, password, Principal, SessionCache, UserView},
    cases::directory::Directory,
    db::{
        entities::{routing_rule, unit, user},
        is_unique_violation, Db,
    },
    error::{Error, Result},
    regions,
    vocab::{Category, Role, UnitKind},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitView {
    pub id: Uuid,
    pub kind: UnitKind,
    pub name: String,
    pub region_code: String,
    pub email: Option<String>,
    pub active: bool,
}

impl UnitView {
    pub fn from_model(m: unit::Model) -> Result<UnitView> {
        Ok(UnitView {
            id: m.id,
            kind: m.kind,
            name: m.name,
            region_code: m.region_code,
            email: m.email,
            active: m.active,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    pub kind: UnitKind,
    pub name: String,
    pub region_code: String,
    pub email: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    pub kind: Option<UnitKind>,
    pub name: Option<String>,
    pub region_code: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub email: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    pub unit_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
}

/// In a PATCH, an absent key leaves a field alone and `null` clears it.
/// Plain serde reads both as `None`, so `null` would silently change nothing.
fn double_option<'de, T, D>(de: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoutingRuleView {
    pub category: Category,
    pub unit_kind: UnitKind,
    /// `true` when an admin changed the API.md default.
    pub customised: bool,
}

fn check_name(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::validation(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

pub fn check_email(field: &str, value: Option<&str>) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => {
            let ok = v.len() <= 254
                && v.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                })
                && !v.chars().any(|c| c.is_whitespace() || c == '<' || c == '>');
            if ok {
                Ok(Some(v.to_string()))
            } else {
                Err(Error::validation(field, "is not an email address"))
            }
        }
    }
}

pub async fn list_units(db: &Db) -> Result<Vec<UnitView>> {
    unit::Entity::find()
        .order_by_asc(unit::Column::RegionCode)
        .order_by_asc(unit::Column::Name)
        .all(&db.conn)
        .await?
        .into_iter()
        .map(UnitView::from_model)
        .collect::<Result<Vec<_>>>()
}

pub async fn get_unit(conn: &impl ConnectionTrait, id: Uuid) -> Result<UnitView> {
    unit::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(UnitView::from_model)
        .ok_or(Error::NotFound("unit"))?
}

pub async fn create_unit(
    db: &Db,
    directory: &Directory,
    now: DateTime<Utc>,
    actor: &Principal,
    new: NewUnit,
) -> Result<UnitView> {
    let name = check_name("name", &new.name, 200)?;
    let email = check_email("email", new.email.as_deref())?;
    let txn = db.begin_write().await?;
    let region = regions::require_known(&*txn, "region_code", &new.region_code).await?;
    let model = unit::ActiveModel {
        id: Set(Uuid::new_v4()),
        kind: Set(new.kind),
        name: Set(name),
        region_code: Set(region.as_str().to_string()),
        email: Set(email),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    let view = UnitView::from_model(model)?;
    audit::append(
        &*txn,
        now,
        Some(actor.user_id),
        "unit.create",
        format!("unit:{}", view.id),
        json!(view),
    )
    .await?;
    directory.commit_change(txn).await?;
    Ok(view)
}

pub async fn update_unit(
    db: &Db,
    directory: &Directory,
    sessions: &SessionCache,
    now: DateTime<Utc>,
    actor: &Principal,
    id: Uuid,
    patch: UnitPatch,
) -> Result<UnitView> {
    let txn = db.begin_write().await?;
    let current = unit::Entity::find_by_id(id)
        .one(&*txn)
        .await?
        .ok_or(Error::NotFound("unit"))?;
    let mut active: unit::ActiveModel = current.into();
    if let Some(kind) = patch.kind {
        active.kind = Set(kind);
    }
    if let Some(name) = &patch.name {
        active.name = Set(check_name("name", name, 200)?);
    }
    if let Some(code) = &patch.region_code {
        let region = regions::require_known(&*txn, "region_code", code).await?;
        active.region_code = Set(region.as_str().to_string());
    }
    if let Some(email) = &patch.email {
        active.email = Set(check_email("email", email.as_deref())?);
    }
    if let Some(a) = patch.active {
        active.active = Set(a);
    }
    active.updated_at = Set(now);
    let view = UnitView::from_model(active.update(&*txn).await?)?;
    audit::append(
        &*txn,
        now,
        Some(actor.user_id),
        "unit.update",
        format!("unit:{id}"),
        json!(view),
    )
    .await?;
    // A signed-in member's unit kind, place and active flag come with
    // their session.
    let change = Change::Unit(id);
    crate::db::notify_with_commit(&*txn, crate::auth::cache::NOTIFY_CHANNEL, &change.payload())
        .await?;
    directory.commit_change(txn).await?;
    sessions.invalidate_for(change);
    Ok(view)
}

pub async fn list_users(db: &Db) -> Result<Vec<UserView>> {
    user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(&db.conn)
        .await?
        .iter()
        .map(UserView::from_model)
        .collect::<Result<Vec<_>>>()
}

async fn check_unit_for_role(
    conn: &impl ConnectionTrait,
    role: Role,
    unit_id: Option<Uuid>,
) -> Result<()> {
    match unit_id {
        Some(id) => {
            unit::Entity::find_by_id(id)
                .one(conn)
                .await?
                .ok_or_else(|| Error::validation("unit_id", "no such unit"))?;
            Ok(())
        }
        None if role == Role::Admin || role == Role::Operator => Ok(()),
        None => Err(Error::validation(
            "unit_id",
            format!("the role {role} needs a unit"),
        )),
    }
}

/// Create a user; used by the admin API, the CLI and the demo loader.
/// `actor` is `None` when the CLI creates the account.
pub async fn create_user(
    db: &Db,
    now: DateTime<Utc>,
    actor: Option<&Principal>,
    new: NewUser,
) -> Result<UserView> {
    let username = check_name("username", &new.username, 64)?;
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(Error::validation(
            "username",
            "use letters, digits, '.', '_' or '-'",
        ));
    }
    let display_name = match &new.display_name {
        Some(d) => check_name("display_name", d, 128)?,
        None => username.clone(),
    };
    let email = check_email("email", new.email.as_deref())?;
    let hash = password::hash(&username, new.password).await?;
    let txn = db.begin_write().await?;
    check_unit_for_role(&*txn, new.role, new.unit_id).await?;
    let model = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        username: Set(username.clone()),
        display_name: Set(display_name),
        role: Set(new.role),
        unit_id: Set(new.unit_id),
        email: Set(email),
        password_hash: Set(hash),
        active: Set(new.active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::Conflict {
                code: "username_taken",
                message: format!("the username {username} is taken"),
            }
        } else {
            e.into()
        }
    })?;
    let view = UserView::from_model(&model)?;
    audit::append(
        &*txn,
        now,
        actor.map(|a| a.user_id),
        "user.create",
        format!("user:{}", view.id),
        json!(view),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// `actor_token_hash` is the session making the change: when admins reset
/// their own password, that session stays and every other one ends.
pub async fn update_user(
    db: &Db,
    sessions: &SessionCache,
    now: DateTime<Utc>,
    actor: &Principal,
    actor_token_hash: Option<&str>,
    id: Uuid,
    patch: UserPatch,
) -> Result<UserView> {
    // Hashed before the write transaction (it takes a while); the policy
    // needs the username.
    let new_hash = match patch.password.clone() {
        Some(p) => {
            let username = user::Entity::find_by_id(id)
                .one(&db.conn)
                .await?
                .ok_or(Error::NotFound("user"))?
                .username;
            Some(password::hash(&username, p).await?)
        }
        None => None,
    };
    let txn = db.begin_write().await?;
    let current = user::Entity::find_by_id(id)
        .one(&*txn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let role = patch.role.unwrap_or(current.role);
    let unit_id = patch.unit_id.unwrap_or(current.unit_id);
    check_unit_for_role(&*txn, role, unit_id).await?;
    if id == actor.user_id && (patch.active == Some(false) || role != Role::Admin) {
        return Err(Error::Conflict {
            code: "cannot_demote_self",
            message: "an admin cannot deactivate or demote their own account".into(),
        });
    }
    let mut active: user::ActiveModel = current.into();
    if let Some(d) = &patch.display_name {
        active.display_name = Set(check_name("display_name", d, 128)?);
    }
    if let Some(e) = &patch.email {
        active.email = Set(check_email("email", e.as_deref())?);
    }
    if let Some(a) = patch.active {
        active.active = Set(a);
    }
    if let Some(h) = new_hash {
        active.password_hash = Set(h);
    }
    active.role = Set(role);
    active.unit_id = Set(unit_id);
    active.updated_at = Set(now);
    let model = active.update(&*txn).await?;
    let view = UserView::from_model(&model)?;
    let mut detail = json!(view);
    detail["password_changed"] = json!(patch.password.is_some());
    if patch.password.is_some() {
        // A reset password ends the sessions opened with the old one.
        let keep = actor_token_hash.filter(|_| id == actor.user_id);
        let ended = crate::auth::revoke_sessions_of(&*txn, now, id, keep).await?;
        detail["sessions_ended"] = json!(ended);
    }
    audit::append(
        &*txn,
        now,
        Some(actor.user_id),
        "user.update",
        format!("user:{id}"),
        detail,
    )
    .await?;
    // Role, unit and the active flag are read with every session.
    sessions.commit_change(txn, Change::User(id)).await?;
    Ok(view)
}

pub async fn routing_rules(conn: &impl ConnectionTrait) -> Result<Vec<RoutingRuleView>> {
    let stored = routing_rule::Entity::find().all(conn).await?;
    Ok(Category::ALL
        .iter()
        .map(|&category| {
            let custom = stored
                .iter()
                .find(|r| r.category == category)
                .map(|r| r.unit_kind);
            RoutingRuleView {
                category,
                unit_kind: custom.unwrap_or_else(|| category.default_unit_kind()),
                customised: custom.is_some(),
            }
        })
        .collect())
}

pub async fn set_routing_rule(
    db: &Db,
    directory: &Directory,
    now: DateTime<Utc>,
    actor: &Principal,
    category: &str,
    unit_kind: UnitKind,
) -> Result<RoutingRuleView> {
    let category = Category::parse(category).ok_or(Error::NotFound("category"))?;
    let txn = db.begin_write().await?;
    routing_rule::Entity::delete_many()
        .filter(routing_rule::Column::Category.eq(category.as_str()))
        .exec(&*txn)
        .await?;
    routing_rule::Entity::insert(routing_rule::ActiveModel {
        category: Set(category),
        unit_kind: Set(unit_kind),
        updated_at: Set(now),
    })
    .exec_without_returning(&*txn)
    .await?;
    audit::append(
        &*txn,
        now,
        Some(actor.user_id),
        "routing_rule.set",
        format!("routing_rule:{category}"),
        json!({"category": category, "unit_kind": unit_kind}),
    )
    .await?;
    directory.commit_change(txn).await?;
    Ok(RoutingRuleView {
        category,
        unit_kind,
        customised: unit_kind != category.default_unit_kind(),
    })
}
