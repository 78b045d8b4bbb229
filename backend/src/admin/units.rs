//! Units and routing rules; each change commits through the directory so
//! intake routes by it at once.
use super::*;

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
