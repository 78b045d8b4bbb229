//! The referral core, on the caller's unit of work: send one (routed by
//! kind and place like a case when no unit is named), the co-operating
//! referrals a routing category opens with every case, the transitions,
//! the compare-and-set save, urging, and what a case's close needs to
//! know. Every step records its case event and mail on the work.
use chrono::Datelike;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    entity::referral,
    kinds::{ACCEPT, SUBJECT, URGING},
    mail::{self, Notice},
    recipients::{receiver_side, supervisor_levels},
    record::{event, save},
    view::{json as to_json, urgings_of, Consent, Urging},
};
use crate::{
    calendar::Calendar,
    cases::{directory::Directory, routing},
    config::Settings,
    db::entities::{case, unit},
    error::{Error, Result},
    escalation::chain::unit_addresses,
    events,
    regions::RegionCode,
    vocab::{LegalBasis, ReferralStatus},
    work::Work,
};

/// A referral about to be sent.
pub struct Outgoing {
    pub kind: String,
    pub to_unit_id: Option<Uuid>,
    pub request: String,
    pub legal_basis: LegalBasis,
    pub consent: Option<Consent>,
    pub from_unit_id: Option<Uuid>,
    pub actor: Option<Uuid>,
}

/// The receiving unit: the one named (active), else the nearest active
/// unit of the kind's unit kind at or above the case's place.
async fn receiver(
    w: &Work,
    settings: &Settings,
    directory: &Directory,
    c: &case::Model,
    kind: &str,
    named: Option<Uuid>,
) -> Result<unit::Model> {
    let found = match named {
        Some(id) => Some(id),
        None => {
            let wanted = settings
                .deadlines
                .referrals
                .kind(kind)
                .ok_or_else(|| {
                    Error::validation(
                        "kind",
                        format!("must be one of {}", settings.deadlines.referrals.allowed()),
                    )
                })?
                .unit_kind;
            let place = RegionCode::parse(&c.region_code).ok_or(Error::NotFound("region"))?;
            let mut units = directory.candidates(&**w, wanted, &place).await?;
            units.retain(|u| u.kind == wanted);
            routing::nearest(wanted, &place, &units).map(|(u, _)| u.id)
        }
    };
    let Some(id) = found else {
        return Err(Error::validation(
            "to_unit_id",
            "没有覆盖事发地的此类单位，请指定接收单位 / no active unit of this kind covers the place; name to_unit_id",
        ));
    };
    unit::Entity::find_by_id(id)
        .one(&**w)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| Error::validation("to_unit_id", "no such active unit"))
}

/// Send a referral: insert it, start its accept clock, record
/// `referral.sent` and tell the receiving unit.
pub async fn send(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    cal: &Calendar,
    c: &case::Model,
    out: Outgoing,
) -> Result<referral::Model> {
    let policy = &settings.deadlines.referrals;
    if policy.kind(&out.kind).is_none() {
        return Err(Error::validation(
            "kind",
            format!("must be one of {}", policy.allowed()),
        ));
    }
    let to = receiver(w, settings, directory, c, &out.kind, out.to_unit_id).await?;
    if out.from_unit_id == Some(to.id) {
        return Err(Error::validation(
            "to_unit_id",
            "不能转介给本单位 / a referral cannot go to one's own unit",
        ));
    }
    let now = w.now;
    let n = events::bump_counter(&**w, &format!("referral_number:{}", now.year()), 1).await?;
    let r = referral::ActiveModel {
        id: Set(crate::db::new_id()),
        number: Set(format!("ZJ{}-{n:06}", now.year())),
        case_id: Set(c.id),
        region_code: Set(c.region_code.clone()),
        from_unit_id: Set(out.from_unit_id),
        to_unit_id: Set(to.id),
        to_region_code: Set(to.region_code.clone()),
        kind: Set(out.kind.clone()),
        request: Set(out.request.clone()),
        legal_basis: Set(out.legal_basis),
        consent: Set(out.consent.as_ref().map(to_json).transpose()?),
        status: Set(ReferralStatus::Sent),
        created_by: Set(out.actor),
        created_at: Set(now),
        accept_due_at: Set(settings.calendar.due(cal, ACCEPT, now, policy.accept_s)),
        accepted_at: Set(None),
        accepted_by: Set(None),
        reply_due_at: Set(None),
        reply: Set(None),
        replied_at: Set(None),
        decline: Set(None),
        withdrawal: Set(None),
        urgings: Set(json!([])),
        overdue: Set(false),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&**w)
    .await?;
    w.schedule(SUBJECT, r.id, ACCEPT, r.accept_due_at).await?;
    w.event(event(
        c,
        &r,
        "referral.sent",
        out.actor,
        now,
        json!({
            "to_unit_name": to.name,
            "legal_basis": out.legal_basis,
            "consent": out.consent.is_some(),
            "accept_due_at": r.accept_due_at,
            "status": r.status,
        }),
    ));
    let to_addr = unit_addresses(&**w, to.id).await?;
    w.mail(mail::notice(
        &settings.public_url,
        c,
        &r,
        Notice::Sent,
        Some(r.accept_due_at),
        &to_addr,
    ));
    Ok(r)
}

/// The co-operating referrals of a new case: one per kind its category's
/// co-handling rule names, legal basis `statutory_duty`. A kind no unit
/// covers (or that would go to the handling unit itself) is skipped: the
/// handler can still refer by hand.
pub async fn co_handle(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    cal: &Calendar,
    c: &case::Model,
) -> Result<usize> {
    // From the in-memory directory: intake writes its batch holding the
    // writer, where every query counts.
    let kinds = directory.co_handling(&**w, c.category).await?;
    if kinds.is_empty() {
        return Ok(0);
    }
    let category = c.category;
    let mut sent = 0;
    for kind in kinds {
        let out = Outgoing {
            kind: kind.clone(),
            to_unit_id: None,
            request: format!(
                "{}案件依职责协同处置（{}） / co-handling of a {} case by statutory duty ({})",
                category.zh(),
                kind,
                category,
                kind
            ),
            legal_basis: LegalBasis::StatutoryDuty,
            consent: None,
            from_unit_id: c.assigned_unit_id,
            actor: None,
        };
        match send(w, settings, directory, cal, c, out).await {
            Ok(_) => sent += 1,
            Err(Error::Validation { message, .. }) => {
                tracing::info!(case = %c.number, kind = %kind, %message, "co-handling referral skipped");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Who urges: a user (id, name), or nobody for the automatic urging.
pub type Urger = Option<(Uuid, String)>;

/// Record an urging opinion with its own reply deadline, `referral.urged`
/// on the timeline, and mail to the receiver, the sender and the
/// supervisors it is addressed to. An automatic urging (`by` none) is
/// addressed to the supervisors one region level above the receiver's.
pub async fn urge(
    w: &mut Work,
    settings: &Settings,
    cal: &Calendar,
    c: &case::Model,
    r: &referral::Model,
    opinion: &str,
    by: Urger,
) -> Result<referral::Model> {
    let now = w.now;
    let automatic = by.is_none();
    let levels = supervisor_levels(&**w, &r.to_region_code).await?;
    let level = if automatic { 1 } else { 0 };
    let addressed = levels.get(level).or(levels.last());
    let urging = Urging {
        id: crate::db::new_id(),
        opinion: opinion.to_string(),
        by: by.as_ref().map(|b| b.0),
        by_name: by.as_ref().map(|b| b.1.clone()),
        automatic,
        addressed_to: addressed.map(|l| l.0.clone()),
        at: now,
        reply_due_at: settings.calendar.due(
            cal,
            URGING,
            now,
            settings.deadlines.referrals.urging_reply_s,
        ),
        missed: false,
    };
    let mut all = urgings_of(r)?;
    all.push(urging.clone());
    let updated = save(
        &**w,
        r,
        referral::ActiveModel {
            urgings: Set(to_json(&all)?),
            ..Default::default()
        },
        now,
    )
    .await?;
    w.schedule(SUBJECT, r.id, URGING, urging.reply_due_at)
        .await?;
    w.event(event(
        c,
        &updated,
        "referral.urged",
        urging.by,
        now,
        json!({
            "urging_id": urging.id,
            "opinion": urging.opinion,
            "automatic": automatic,
            "addressed_to": urging.addressed_to,
            "reply_due_at": urging.reply_due_at,
            "by_name": urging.by_name,
        }),
    ));
    let mut to = receiver_side(&**w, r, 0).await?;
    if let Some((_, emails)) = addressed {
        to.extend(emails.iter().cloned());
    }
    w.mail(mail::notice(
        &settings.public_url,
        c,
        &updated,
        Notice::Urged,
        Some(urging.reply_due_at),
        &to,
    ));
    Ok(updated)
}

/// The case's referrals still owed an answer (`sent`, `accepted`).
pub async fn open_on_case(
    conn: &impl ConnectionTrait,
    case_id: Uuid,
) -> Result<Vec<referral::Model>> {
    Ok(referral::Entity::find()
        .filter(referral::Column::CaseId.eq(case_id))
        .filter(referral::Column::Status.is_in([
            ReferralStatus::Sent.as_str(),
            ReferralStatus::Accepted.as_str(),
        ]))
        .all(conn)
        .await?)
}

/// A case with referrals still `sent` or `accepted` may not close (409
/// `open_referrals`): withdraw them or have them answered first.
pub async fn may_close(conn: &impl ConnectionTrait, case_id: Uuid) -> Result<()> {
    let open = open_on_case(conn, case_id).await?;
    if open.is_empty() {
        return Ok(());
    }
    let numbers: Vec<&str> = open.iter().map(|r| r.number.as_str()).collect();
    Err(Error::Conflict {
        code: "open_referrals",
        message: format!(
            "案件尚有未答复的转介（{}），请先撤回或等待答复 / the case has referrals still sent or \
             accepted ({}); withdraw them or have them answered first",
            numbers.join("、"),
            numbers.join(", ")
        ),
    })
}

/// The case closes: its answered referrals close with it.
pub async fn close_answered(w: &Work, case_id: Uuid) -> Result<u64> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Ok(referral::Entity::update_many()
        .col_expr(
            referral::Column::Status,
            Expr::value(ReferralStatus::Closed.as_str()),
        )
        .col_expr(
            referral::Column::Version,
            Expr::col(referral::Column::Version).add(1),
        )
        .col_expr(referral::Column::UpdatedAt, Expr::value(w.now))
        .filter(referral::Column::CaseId.eq(case_id))
        .filter(referral::Column::Status.eq(ReferralStatus::Replied.as_str()))
        .exec(&**w)
        .await?
        .rows_affected)
}
