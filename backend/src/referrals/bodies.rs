//! The request bodies of the referral use cases, and her consent as the
//! sender records it.
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::view::Consent;
use crate::{
    auth::Principal,
    cases::record::{required, text},
    error::{Error, Result},
    vocab::{DeclineReason, LegalBasis, ReplyResult},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Who gave it: herself, or who for her.
    pub given_by: String,
    /// When; now if absent.
    pub at: Option<DateTime<Utc>>,
    /// What may be shared, and with whom.
    pub scope: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferral {
    /// One of the configured kinds (`[deadlines.referrals]`).
    pub kind: String,
    /// Without it, routed by kind and place like a case.
    pub to_unit_id: Option<Uuid>,
    pub request: String,
    pub legal_basis: LegalBasis,
    /// Required when `legal_basis` is `consent`.
    pub consent: Option<ConsentInput>,
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    pub reason_code: DeclineReason,
    pub reason: String,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    pub result: ReplyResult,
    pub details: String,
    pub reference: Option<String>,
    /// When the receiver decided; now if absent.
    pub decided_at: Option<DateTime<Utc>>,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    pub reason: String,
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UrgeBody {
    pub opinion: String,
    pub version: Option<i32>,
}

pub fn consent_of(
    p: &Principal,
    now: DateTime<Utc>,
    basis: LegalBasis,
    input: Option<ConsentInput>,
) -> Result<Option<Consent>> {
    let Some(ci) = input else {
        if basis == LegalBasis::Consent {
            return Err(Error::validation(
                "consent",
                "以本人同意为依据的转介须记录同意情况 / the consent basis needs her consent: given_by, at",
            ));
        }
        return Ok(None);
    };
    let at = ci.at.unwrap_or(now);
    if at > now + Duration::minutes(5) {
        return Err(Error::validation("consent.at", "cannot be in the future"));
    }
    Ok(Some(Consent {
        given_by: required("consent.given_by", &ci.given_by, 200)?,
        at,
        recorded_by: p.user_id,
        scope: match &ci.scope {
            Some(s) => text("consent.scope", s, 2000, false)?,
            None => None,
        },
    }))
}
