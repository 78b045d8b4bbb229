//! Mandatory reports at intake and who reads their reporter. A case opened
//! on channel `mandatory_report` needs its `reporter` (422 otherwise),
//! always opens an escalation (at least `high`), and keeps the reporter
//! apart (`reporter`). Only the hotline and the police units of the case
//! read it; anyone else gets 404, as for anything out of scope.
use uuid::Uuid;

use super::{
    model::PhoneNumber,
    record::{required, text},
    reporter::{self, ReporterInput, ReporterView},
    scope,
};
use crate::{
    auth::Principal,
    error::{Error, Result},
    state::AppState,
    vocab::{Channel, Role},
};

/// The reporter of a new case, checked: present exactly when the channel
/// is `mandatory_report`.
pub fn check(
    channel: Option<Channel>,
    input: Option<&ReporterInput>,
) -> Result<Option<ReporterInput>> {
    match (channel == Some(Channel::MandatoryReport), input) {
        (false, None) => Ok(None),
        (false, Some(_)) => Err(Error::validation(
            "reporter",
            "only a mandatory report (channel mandatory_report) has a reporter",
        )),
        (true, None) => Err(Error::validation(
            "reporter",
            "a mandatory report names its reporter",
        )),
        (true, Some(r)) => {
            let phone = match r.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(raw) => Some(
                    PhoneNumber::parse(raw)
                        .map_err(|m| Error::validation("reporter.phone", m))?
                        .as_str()
                        .to_string(),
                ),
                None => None,
            };
            Ok(Some(ReporterInput {
                org_type: r.org_type,
                org_name: required("reporter.org_name", &r.org_name, 256)?,
                person: match &r.person {
                    Some(p) => text("reporter.person", p, 128, false)?,
                    None => None,
                },
                phone,
            }))
        }
    }
}

/// `GET /cases/{id}/reporter`: the hotline, and police liaisons of a unit
/// that reads the case.
pub async fn get(state: &AppState, p: &Principal, case_id: Uuid) -> Result<ReporterView> {
    let conn = &state.db.conn;
    let (_, access) = scope::load(conn, p, case_id).await?;
    let allowed = match p.role {
        Role::Operator => access == scope::Access::Hotline,
        Role::PoliceLiaison => matches!(access, scope::Access::Handler | scope::Access::ReadOnly),
        _ => false,
    };
    if !allowed {
        return Err(Error::NotFound("reporter"));
    }
    reporter::get(conn, case_id)
        .await?
        .ok_or(Error::NotFound("reporter"))
}
