//! Reading a mediation back: the row of a case, everything recorded about
//! it, and the compare-and-set update every change goes through.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::{
    entity::{mediation, obligation, session},
    view::Whole,
};
use crate::{
    db::entities::case,
    error::{Error, Result},
};

/// The mediation registered on a case, if any.
pub async fn of_case(
    conn: &impl ConnectionTrait,
    case_id: Uuid,
) -> Result<Option<mediation::Model>> {
    Ok(mediation::Entity::find()
        .filter(mediation::Column::CaseId.eq(case_id))
        .one(conn)
        .await?)
}

/// The mediation of a case, or 404 `mediation` when none is registered.
pub async fn required(conn: &impl ConnectionTrait, case_id: Uuid) -> Result<mediation::Model> {
    of_case(conn, case_id)
        .await?
        .ok_or(Error::NotFound("mediation"))
}

pub async fn sessions(conn: &impl ConnectionTrait, id: Uuid) -> Result<Vec<session::Model>> {
    Ok(session::Entity::find()
        .filter(session::Column::MediationId.eq(id))
        .order_by_asc(session::Column::N)
        .all(conn)
        .await?)
}

pub async fn obligations(conn: &impl ConnectionTrait, id: Uuid) -> Result<Vec<obligation::Model>> {
    Ok(obligation::Entity::find()
        .filter(obligation::Column::MediationId.eq(id))
        .order_by_asc(obligation::Column::N)
        .all(conn)
        .await?)
}

/// Everything recorded about the mediation `m` of case `c`.
pub async fn whole(
    conn: &impl ConnectionTrait,
    c: case::Model,
    m: mediation::Model,
) -> Result<Whole> {
    let sessions = sessions(conn, m.id).await?;
    let obligations = obligations(conn, m.id).await?;
    Ok(Whole {
        case: c,
        mediation: m,
        sessions,
        obligations,
    })
}

/// Conditional update on version: the loser of a race gets 409.
pub async fn save(
    conn: &impl ConnectionTrait,
    m: &mediation::Model,
    mut am: mediation::ActiveModel,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<mediation::Model> {
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let res = mediation::Entity::update_many()
        .set(am)
        .filter(mediation::Column::Id.eq(m.id))
        .filter(mediation::Column::Version.eq(m.version))
        .exec(conn)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    mediation::Entity::find_by_id(m.id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound("mediation"))
}
