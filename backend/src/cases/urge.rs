//! A supervisor urges the unit that holds a case (督办): the opinion on the
//! timeline (`case.urged`), an audit entry, and a 【督办】 mail to the unit
//! and its staff — one unit of work. The mail names the case and links to
//! it; the opinion stays in the console (it may repeat her story).
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::record::{event, required};
use super::{
    model::Action,
    scope::Access,
    service::{begin_change, respond, save},
    view::CaseView,
};
use crate::{
    audit,
    auth::Principal,
    db::entities::{case, unit},
    error::{Error, Result},
    escalation::{chain::unit_addresses, mail},
    notify::Mail,
    state::AppState,
};
use sea_orm::EntityTrait;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CaseUrgeBody)]
pub struct UrgeBody {
    /// What the unit is asked to do, and by when.
    pub opinion: String,
    pub version: Option<i32>,
}

pub async fn urge(state: &AppState, p: &Principal, id: Uuid, body: UrgeBody) -> Result<CaseView> {
    let opinion = required("opinion", &body.opinion, 2000)?;
    let now = state.now();
    let mut w = state.work_at(now).await?;
    let ch = begin_change(
        &*w,
        p,
        id,
        Action::Note,
        body.version,
        &[Access::Supervisor],
    )
    .await?;
    let unit = match ch.case.assigned_unit_id {
        Some(u) => unit::Entity::find_by_id(u).one(&*w).await?,
        None => None,
    }
    .ok_or_else(|| Error::InvalidTransition("no unit holds the case to urge".into()))?;
    let c = save(
        &*w,
        &ch.case,
        <case::ActiveModel as Default>::default(),
        now,
    )
    .await?;
    w.event(event(
        &c,
        "case.urged",
        Some(p.user_id),
        now,
        json!({
            "opinion": opinion, "by": p.user_id, "by_name": p.display_name,
            "unit_id": unit.id, "unit_name": unit.name,
        }),
    ));
    audit::append(
        &*w,
        now,
        Some(p.user_id),
        "case.urge",
        format!("case:{}", c.id),
        json!({"case_number": c.number, "unit_id": unit.id}),
    )
    .await?;
    let to = unit_addresses(&*w, unit.id).await?;
    w.mail(urge_mails(
        &state.settings.public_url,
        &c,
        &p.display_name,
        &to,
    ));
    w.commit().await?;
    respond(state, &c).await
}

fn urge_mails(public_url: &str, c: &case::Model, by: &str, to: &[String]) -> Vec<Mail> {
    let subject = format!(
        "【督办】案件 {} 请尽快办理 — Supervisor's urging, case {}",
        c.number, c.number
    );
    let body = format!(
        "{by} 对案件 {number} 提出督办意见，请登录查看并尽快办理：{link}\n\n\
{by} urged case {number}; open it to read the opinion: {link}\n\n\
本邮件不含当事人信息。This email carries no personal details.\n",
        number = c.number,
        link = mail::link(public_url, c),
    );
    let mut seen = std::collections::HashSet::new();
    to.iter()
        .filter(|a| seen.insert(a.to_lowercase()))
        .map(|recipient| Mail {
            recipient: recipient.clone(),
            subject: subject.clone(),
            body: body.clone(),
        })
        .collect()
}
