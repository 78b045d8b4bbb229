//! The ledger's writes, one unit of work each: change a person (version
//! checked), record a visit (which sets the next review and moves its
//! deadline row), link a case to a person, import a file.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, EntityTrait, QueryFilter,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    contacts,
    entity::{person, visit},
    import::{self, ImportBy, ImportReport},
    kinds::REVIEW,
    link,
    query::{self, DetailQuery},
    record::{check_name, check_phones, check_village, Flags, Refusal},
    scope, store,
    view::{PersonDetail, VisitView},
};
use crate::{
    audit,
    auth::Principal,
    cases::{contact_safety::SafeContact, model::IdNumber, record::text, scope as case_scope},
    error::{Error, Result},
    patch::double_option,
    regions::{self, RegionCode},
    state::AppState,
    vocab::{Role, VisitKind},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    pub name: Option<String>,
    /// Set when she had none on file (checked by GB 11643).
    pub id_number: Option<String>,
    pub phones: Option<Vec<String>>,
    pub village_code: Option<String>,
    /// Absent: unchanged; `null`: cleared (her husband is not away);
    /// a date: set. `left_behind` follows.
    #[serde(default, deserialize_with = "double_option")]
    pub husband_away_since: Option<Option<NaiveDate>>,
    pub in_village: Option<bool>,
    pub flags: Option<Flags>,
    /// Absent: unchanged; `null`: cleared (no contact person); a user:
    /// set, if she keeps the ledger of her village.
    #[serde(default, deserialize_with = "double_option")]
    pub contact_person_user_id: Option<Option<Uuid>>,
    pub safe_contact: Option<SafeContact>,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVisit {
    pub at: DateTime<Utc>,
    pub kind: VisitKind,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PersonLinkBody)]
pub struct LinkBody {
    pub person_id: Uuid,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = PersonLinkView)]
pub struct LinkView {
    pub case_id: Uuid,
    pub person_id: Uuid,
    /// True when this link set the person's `rights_violated` flag.
    pub rights_violated_set: bool,
}

impl PersonPatch {
    /// The fields this change clears (sent as `null`), for the audit row.
    fn cleared(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if matches!(self.husband_away_since, Some(None)) {
            out.push("husband_away_since");
        }
        if matches!(self.contact_person_user_id, Some(None)) {
            out.push("contact_person_user_id");
        }
        out
    }
}

fn refused(r: Refusal) -> Error {
    Error::validation(r.0, r.2)
}

fn writer(r: scope::Reader) -> Result<()> {
    if r.may_write() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "supervisors read the ledger; its keepers change it".into(),
        ))
    }
}

pub async fn patch(
    state: &AppState,
    p: &Principal,
    id: Uuid,
    body: PersonPatch,
) -> Result<PersonDetail> {
    let now = state.now();
    let w = state.work_at(now).await?;
    let (cur, r) = query::load(&*w, p, id).await?;
    writer(r)?;
    if body.version.is_some_and(|v| v != cur.version) {
        return Err(Error::VersionConflict);
    }
    use person::Column as C;
    let mut q = person::Entity::update_many()
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::Version, Expr::value(cur.version + 1));
    if let Some(n) = &body.name {
        q = q.col_expr(C::Name, Expr::value(check_name(n).map_err(refused)?));
    }
    if let Some(raw) = &body.id_number {
        let idn = new_id_number(&*w, &cur, raw).await?;
        q = q.col_expr(C::IdNumber, Expr::value(idn.as_str()));
    }
    let mut village = RegionCode::parse(&cur.village_code);
    if let Some(v) = &body.village_code {
        let code = check_village(v).map_err(refused)?;
        regions::require_known(&*w, "village_code", code.as_str()).await?;
        scope::check(
            p,
            &person::Model {
                village_code: code.as_str().to_string(),
                ..cur.clone()
            },
        )
        .map_err(|_| Error::validation("village_code", "outside your region"))?;
        q = q.col_expr(C::VillageCode, Expr::value(code.as_str()));
        village = Some(code);
    }
    if let Some(Some(u)) = body.contact_person_user_id {
        let v = village
            .as_ref()
            .ok_or_else(|| Error::Internal("a person's village code is not a code".into()))?;
        contacts::check(&*w, v, u).await?;
    }
    let q = simple_fields(q, &body)?;
    let done = q
        .filter(C::Id.eq(id))
        .filter(C::Version.eq(cur.version))
        .exec(&*w)
        .await?;
    if done.rows_affected != 1 {
        return Err(Error::VersionConflict);
    }
    if let Some(phones) = &body.phones {
        let list = check_phones(&phones.join(";")).map_err(refused)?;
        store::replace_phones(&*w, id, &list).await?;
    }
    audit::append(
        &*w,
        now,
        Some(p.user_id),
        "ledger.update",
        format!("ledger_person:{id}"),
        json!({"version": cur.version + 1, "cleared": body.cleared()}),
    )
    .await?;
    w.commit().await?;
    query::detail(state, p, id, DetailQuery { reveal: None }).await
}

/// An ID number for a person who had none, not on file for another.
async fn new_id_number(
    conn: &impl sea_orm::ConnectionTrait,
    cur: &person::Model,
    raw: &str,
) -> Result<IdNumber> {
    let idn = IdNumber::parse(raw).map_err(|m| Error::validation("id_number", m))?;
    if cur.id_number.as_deref().is_some_and(|s| s != idn.as_str()) {
        return Err(Error::validation(
            "id_number",
            "an ID number on file is not changed",
        ));
    }
    let taken = person::Entity::find()
        .filter(person::Column::IdNumber.eq(idn.as_str()))
        .filter(person::Column::Id.ne(cur.id))
        .one(conn)
        .await?;
    if taken.is_some() {
        return Err(Error::Conflict {
            code: "id_number_on_file",
            message: "this ID number is on file for another person".into(),
        });
    }
    Ok(idn)
}

/// The fields that need no look-up.
fn simple_fields(
    mut q: sea_orm::UpdateMany<person::Entity>,
    body: &PersonPatch,
) -> Result<sea_orm::UpdateMany<person::Entity>> {
    use person::Column as C;
    if let Some(d) = body.husband_away_since {
        q = q.col_expr(C::HusbandAwaySince, Expr::value(d));
    }
    if let Some(b) = body.in_village {
        q = q.col_expr(C::InVillage, Expr::value(b));
    }
    if let Some(f) = body.flags {
        q = q
            .col_expr(C::LowIncome, Expr::value(f.low_income))
            .col_expr(C::RegisteredPoor, Expr::value(f.registered_poor))
            .col_expr(C::Disabled, Expr::value(f.disabled))
            .col_expr(C::SeriouslyIll, Expr::value(f.seriously_ill))
            .col_expr(C::RightsViolated, Expr::value(f.rights_violated))
            .col_expr(C::CareBurden, Expr::value(f.care_burden));
    }
    if let Some(u) = body.contact_person_user_id {
        q = q.col_expr(C::ContactPersonUserId, Expr::value(u));
    }
    if let Some(sc) = body.safe_contact.clone() {
        let sc = sc
            .normalised()
            .map_err(|(f, m)| Error::validation(format!("safe_contact.{f}"), m))?;
        let v = serde_json::to_value(sc).map_err(|e| Error::Internal(e.to_string()))?;
        q = q.col_expr(C::SafeContact, Expr::value(v));
    }
    Ok(q)
}

pub async fn visit(state: &AppState, p: &Principal, id: Uuid, body: NewVisit) -> Result<VisitView> {
    let now = state.now();
    if body.at > now + Duration::minutes(5) {
        return Err(Error::validation("at", "is in the future"));
    }
    let notes = match &body.notes {
        Some(n) => text("notes", n, 2000, false)?,
        None => None,
    };
    let mut w = state.work_at(now).await?;
    let (m, r) = query::load(&*w, p, id).await?;
    writer(r)?;
    let v = visit::ActiveModel {
        id: sea_orm::Set(crate::db::new_id()),
        person_id: sea_orm::Set(m.id),
        at: sea_orm::Set(body.at),
        kind: sea_orm::Set(body.kind),
        notes: sea_orm::Set(notes),
        unit_id: sea_orm::Set(p.unit_id()),
        recorded_by: sea_orm::Set(p.user_id),
        created_at: sea_orm::Set(now),
    };
    let v = sea_orm::ActiveModelTrait::insert(v, &*w).await?;
    let last = m.last_visit_at.map_or(body.at, |l| Ord::max(l, body.at));
    let due = last + Duration::seconds(state.settings.deadlines.ledger_review_s);
    person::Entity::update_many()
        .col_expr(person::Column::LastVisitAt, Expr::value(last))
        .col_expr(person::Column::ReviewDueAt, Expr::value(due))
        .col_expr(person::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            person::Column::Version,
            Expr::col(person::Column::Version).add(1),
        )
        .filter(person::Column::Id.eq(m.id))
        .exec(&*w)
        .await?;
    w.cancel(m.id, &[REVIEW]).await?;
    w.schedule("ledger_person", m.id, REVIEW, due).await?;
    w.commit().await?;
    Ok(VisitView::of(v))
}

/// `POST /cases/{id}/person`: whoever may work the case (the hotline, its
/// handling unit) links it to a person on the ledger.
pub async fn link_case(
    state: &AppState,
    p: &Principal,
    case_id: Uuid,
    body: LinkBody,
) -> Result<LinkView> {
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let (c, access) = case_scope::load(&*w, p, case_id).await?;
    if !matches!(
        access,
        case_scope::Access::Hotline | case_scope::Access::Handler
    ) {
        return Err(Error::Forbidden(
            "the hotline or the handling unit links a case".into(),
        ));
    }
    if person::Entity::find_by_id(body.person_id)
        .one(&*w)
        .await?
        .is_none()
    {
        return Err(Error::validation(
            "person_id",
            "no such person on the ledger",
        ));
    }
    let taken = link::take_safe_contact(&*w, now, &c, body.person_id, Some(p.user_id)).await?;
    if let Some(contact) = taken {
        link::took_safe_contact(&mut w, p.user_id, &c, &contact).await?;
    }
    let set = link::link(&*w, now, &c, body.person_id, "manual", Some(p.user_id)).await?;
    audit::append(
        &*w,
        now,
        Some(p.user_id),
        "ledger.link",
        format!("case:{case_id}"),
        json!({"person_id": body.person_id, "rights_violated_set": set}),
    )
    .await?;
    w.commit().await?;
    Ok(LinkView {
        case_id,
        person_id: body.person_id,
        rights_violated_set: set,
    })
}

/// `POST /ledger/imports?county=`: the keepers of a county or township
/// (rows outside their region are refused), administrators for the
/// county they name.
pub async fn import_file(
    state: &AppState,
    p: &Principal,
    county: Option<&str>,
    bytes: &[u8],
) -> Result<ImportReport> {
    let region = match p.role {
        Role::Admin => {
            let raw =
                county.ok_or_else(|| Error::validation("county", "name the county (12 digits)"))?;
            regions::parse_field("county", raw)?
        }
        Role::Operator | Role::PoliceLiaison | Role::Supervisor => {
            return Err(Error::Forbidden(
                "civil affairs and rights stations import the ledger".into(),
            ))
        }
        _ => match scope::reader(p)? {
            (scope::Reader::Keeper, Some(r)) if (3..=4).contains(&r.level()) => r,
            _ => {
                return Err(Error::Forbidden(
                    "a county or township unit imports the ledger".into(),
                ))
            }
        },
    };
    let by = ImportBy {
        county: RegionCode::parse(region.as_str()).unwrap_or(region),
        importer: Some(p.user_id),
        review_s: state.settings.deadlines.ledger_review_s,
    };
    import::import(&state.db, state.now(), &by, bytes).await
}
