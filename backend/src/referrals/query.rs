//! Scoped reads: one referral (the receiver's masked view before it
//! accepts; an audited reveal after), and the list with filters and a
//! keyset cursor, like cases.
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    entity::referral,
    scope::{self, Side},
    view::{self, Masking, ReferralView},
};
use crate::{
    audit,
    auth::Principal,
    db::keyset,
    error::{Error, Result},
    state::AppState,
    vocab::ReferralStatus,
};

/// The receiver sees her name only once it accepted; everyone else who
/// may read the referral sees the name and the numbers masked.
fn masking_for(side: Side, status: ReferralStatus) -> Masking {
    use ReferralStatus::*;
    match (side, status) {
        (Side::Receiver, Accepted | Replied | Closed) => Masking::Numbers,
        (Side::Receiver, _) => Masking::Full,
        _ => Masking::Numbers,
    }
}

pub async fn get(state: &AppState, p: &Principal, id: Uuid, reveal: bool) -> Result<ReferralView> {
    let conn = &state.db.conn;
    let (r, c, side) = scope::load(conn, p, id).await?;
    let mut masking = masking_for(side, r.status);
    if reveal {
        if side != Side::Receiver || masking == Masking::Full {
            return Err(Error::Forbidden(
                "只有已接收转介的单位可在此查看完整号码 / only the receiving unit, once it accepted, \
                 may see her full numbers here (the handling unit and the hotline use the case)"
                    .into(),
            ));
        }
        let now = state.now();
        let w = state.work_at(now).await?;
        audit::append(
            &*w,
            now,
            Some(p.user_id),
            "referral.reveal",
            format!("case:{}", c.id),
            json!({
                "case_number": c.number, "referral_id": r.id, "referral_number": r.number,
                "legal_basis": r.legal_basis, "fields": ["subject.phone", "subject.id_number"],
            }),
        )
        .await?;
        w.commit().await?;
        masking = Masking::None;
    }
    view::detail(conn, &r, &c, masking).await
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct ListQuery {
    /// `incoming` (to the caller's unit) or `outgoing` (from it).
    pub direction: Option<String>,
    /// One status or several, comma-separated.
    pub status: Option<String>,
    pub kind: Option<String>,
    pub overdue: Option<bool>,
    pub case_id: Option<Uuid>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

pub struct Page {
    pub items: Vec<ReferralView>,
    pub next_cursor: Option<String>,
}

fn filters(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Condition> {
    let mut cond = Condition::all().add(scope::list_condition(p));
    let mine = p.unit_id().unwrap_or_else(Uuid::nil);
    match q.direction.as_deref().filter(|s| !s.is_empty()) {
        None => {}
        Some("incoming") => cond = cond.add(referral::Column::ToUnitId.eq(mine)),
        Some("outgoing") => cond = cond.add(referral::Column::FromUnitId.eq(mine)),
        Some(_) => {
            return Err(Error::validation(
                "direction",
                "须为 incoming（收到）或 outgoing（发出） / must be incoming or outgoing",
            ))
        }
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        let mut any = Condition::any();
        for part in s.split(',') {
            let st = ReferralStatus::parse(part.trim()).ok_or_else(|| {
                Error::validation(
                    "status",
                    format!("must be one of {}", ReferralStatus::allowed()),
                )
            })?;
            any = any.add(referral::Column::Status.eq(st.as_str()));
        }
        cond = cond.add(any);
    }
    if let Some(k) = q.kind.as_deref().filter(|s| !s.is_empty()) {
        let policy = &state.settings.deadlines.referrals;
        if policy.kind(k).is_none() {
            return Err(Error::validation(
                "kind",
                format!("must be one of {}", policy.allowed()),
            ));
        }
        cond = cond.add(referral::Column::Kind.eq(k));
    }
    if let Some(o) = q.overdue {
        cond = cond.add(referral::Column::Overdue.eq(o));
    }
    if let Some(id) = q.case_id {
        cond = cond.add(referral::Column::CaseId.eq(id));
    }
    if let Some(cursor) = q.cursor.as_deref().filter(|s| !s.is_empty()) {
        cond = cond.add(keyset::after(
            referral::Column::CreatedAt,
            referral::Column::Id,
            cursor,
        )?);
    }
    Ok(cond)
}

pub async fn list(state: &AppState, p: &Principal, q: ListQuery) -> Result<Page> {
    let conn = &state.db.conn;
    let cond = filters(state, p, &q)?;
    let limit = keyset::limit(q.limit);
    let mut rows = referral::Entity::find()
        .filter(cond)
        .order_by_desc(referral::Column::CreatedAt)
        .order_by_desc(referral::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| keyset::encode(r.created_at, r.id))
    } else {
        None
    };
    Ok(Page {
        items: view::views(conn, &rows).await?,
        next_cursor,
    })
}
