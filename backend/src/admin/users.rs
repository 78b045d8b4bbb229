//! Users: list, create (with the password policy), change role, unit,
//! active flag or password; each change ends the sessions it concerns.
use super::*;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    /// Absent: a temporary password is made, answered once as
    /// `temporary_password`, and must be changed at the first sign-in.
    pub password: Option<String>,
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
    let temporary = match new.password {
        Some(_) => None,
        None => Some(super::accounts::temporary_password(&username)),
    };
    let chosen = new
        .password
        .or_else(|| temporary.clone())
        .unwrap_or_default();
    let hash = password::hash(&username, chosen).await?;
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
        must_change_password: Set(temporary.is_some()),
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
    let mut view = UserView::from_model(&model)?;
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
    view.temporary_password = temporary;
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
