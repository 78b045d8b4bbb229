//! What a mediator sends, checked once at the edge of the domain: the
//! parties with their numbers normalised, the session, the termination, the
//! agreement with its obligations. Pure functions of the input and the
//! time, unit-tested below; errors name the field (`parties[1].phone`).
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    cases::{
        model::{IdNumber, PhoneNumber},
        record::{required, text},
    },
    error::{Error, Result},
    vocab::{AgreementForm, PartyRole, TerminationReason},
};

/// A party as sent and as stored (numbers in full; masked on the way out).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub role: PartyRole,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub parties: Vec<Party>,
    /// Mediation is voluntary: the parties' consent must be on record.
    #[serde(default)]
    pub consent_recorded: bool,
    /// The dispute as the parties put it.
    pub dispute: String,
    /// Required on a case at `high`/`imminent` risk or with an open police
    /// escalation: why mediation goes ahead anyway (audited).
    pub override_reason: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    pub at: DateTime<Utc>,
    pub place: String,
    /// User ids of the mediators present (members of the handling unit).
    pub mediators: Vec<Uuid>,
    #[serde(default)]
    pub attendees: String,
    pub summary: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateBody {
    pub reason: TerminationReason,
    /// The parties were told of their other remedies (court, arbitration,
    /// administrative bodies).
    pub remedies_informed: bool,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObligationInput {
    /// What is to be done, and how (the performance method).
    pub text: String,
    /// The registered party who owes it, by name.
    pub party: String,
    /// By when (the performance time).
    pub due_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    pub form: AgreementForm,
    /// The committee's number for the agreement (required when written).
    #[serde(default)]
    pub number: String,
    /// The facts of the dispute as established.
    pub facts: String,
    /// The terms the parties agreed.
    pub terms: String,
    #[serde(default)]
    pub obligations: Vec<ObligationInput>,
    /// When the agreement takes effect; the parties' 30-day judicial
    /// confirmation window counts from it.
    pub effective_date: NaiveDate,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformedBody {
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub notes: String,
}

fn opt_text(field: &str, v: &Option<String>, max: usize) -> Result<Option<String>> {
    match v {
        Some(s) => text(field, s, max, false),
        None => Ok(None),
    }
}

/// The parties, checked: names required, numbers normalised, at least one
/// applicant and one respondent, at most 20.
pub fn parties(input: &[Party]) -> Result<Vec<Party>> {
    if input.len() > 20 {
        return Err(Error::validation(
            "parties",
            "当事人最多20人 / at most 20 parties",
        ));
    }
    let mut out = Vec::with_capacity(input.len());
    for (i, p) in input.iter().enumerate() {
        let f = |k: &str| format!("parties[{i}].{k}");
        let phone = match opt_text(&f("phone"), &p.phone, 32)? {
            Some(raw) => Some(
                PhoneNumber::parse(&raw)
                    .map_err(|m| Error::validation(f("phone"), m))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let id_number = match opt_text(&f("id_number"), &p.id_number, 18)? {
            Some(raw) => Some(
                IdNumber::parse(&raw)
                    .map_err(|m| Error::validation(f("id_number"), m))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        out.push(Party {
            role: p.role,
            name: required(&f("name"), &p.name, 64)?,
            phone,
            id_number,
            address: opt_text(&f("address"), &p.address, 200)?,
        });
    }
    for role in [PartyRole::Applicant, PartyRole::Respondent] {
        if !out.iter().any(|p| p.role == role) {
            return Err(Error::validation(
                "parties",
                format!("调解须有申请人和被申请人 / a mediation needs at least one {role}"),
            ));
        }
    }
    Ok(out)
}

/// Registration's own checks: consent, dispute, parties.
pub fn registration(b: &RegisterBody) -> Result<(Vec<Party>, String, Option<String>)> {
    if !b.consent_recorded {
        return Err(Error::validation(
            "consent_recorded",
            "mediation is voluntary: record the parties' consent first \
             (调解须当事人自愿，请先记录双方同意)",
        ));
    }
    let dispute = required("dispute", &b.dispute, 10000)?;
    let override_reason = opt_text("override_reason", &b.override_reason, 2000)?;
    Ok((parties(&b.parties)?, dispute, override_reason))
}

/// A time the mediator reports as past (a session held, an obligation
/// performed): not more than a day ahead of the server's clock.
pub fn past(field: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if at > now + Duration::days(1) {
        return Err(Error::validation(
            field,
            "不能晚于当前时间 / cannot be in the future",
        ));
    }
    Ok(())
}

/// The obligations, checked against the registered parties' names.
pub fn obligations(input: &[ObligationInput], parties: &[Party]) -> Result<Vec<ObligationInput>> {
    if input.len() > 50 {
        return Err(Error::validation(
            "obligations",
            "履行事项最多50项 / at most 50 obligations",
        ));
    }
    input
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let party = required(&format!("obligations[{i}].party"), &o.party, 64)?;
            if !parties.iter().any(|p| p.name == party) {
                return Err(Error::validation(
                    format!("obligations[{i}].party"),
                    "须为已登记当事人的姓名 / must be the name of a registered party",
                ));
            }
            Ok(ObligationInput {
                text: required(&format!("obligations[{i}].text"), &o.text, 2000)?,
                party,
                due_at: o.due_at,
            })
        })
        .collect()
}

/// The agreement's texts: number (required when written), facts, terms;
/// the effective date is not in the future.
pub fn agreement(
    b: &AgreementBody,
    now: DateTime<Utc>,
) -> Result<(Option<String>, String, String, DateTime<Utc>)> {
    let number = text("number", &b.number, 64, b.form == AgreementForm::Written)?;
    let facts = required("facts", &b.facts, 20000)?;
    let terms = required("terms", &b.terms, 20000)?;
    let effective = b
        .effective_date
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| Error::validation("effective_date", "日期无效 / is not a date"))?;
    if effective > now + Duration::days(1) {
        return Err(Error::validation(
            "effective_date",
            "生效日期不能晚于今天 / cannot be in the future",
        ));
    }
    Ok((number, facts, terms, effective))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(role: PartyRole, name: &str) -> Party {
        Party {
            role,
            name: name.into(),
            phone: None,
            id_number: None,
            address: None,
        }
    }

    #[test]
    fn a_mediation_needs_both_sides_and_valid_numbers() -> Result<()> {
        let both = [
            party(PartyRole::Applicant, "李秀英"),
            party(PartyRole::Respondent, "王建国"),
        ];
        assert_eq!(parties(&both)?.len(), 2);
        let one = [party(PartyRole::Applicant, "李秀英")];
        assert!(
            matches!(parties(&one), Err(Error::Validation { field, .. }) if field == "parties")
        );
        let mut bad = both.clone();
        bad[1].phone = Some("12".into());
        assert!(
            matches!(parties(&bad), Err(Error::Validation { field, .. }) if field == "parties[1].phone")
        );
        let mut ok = both.clone();
        ok[0].phone = Some("13812345678".into());
        assert_eq!(parties(&ok)?[0].phone.as_deref(), Some("13812345678"));
        Ok(())
    }

    #[test]
    fn consent_is_required() {
        let b = RegisterBody {
            parties: vec![],
            consent_recorded: false,
            dispute: "x".into(),
            override_reason: None,
        };
        assert!(
            matches!(registration(&b), Err(Error::Validation { field, .. }) if field == "consent_recorded")
        );
    }

    #[test]
    fn an_obligation_is_owed_by_a_registered_party() {
        let ps = [
            party(PartyRole::Applicant, "甲"),
            party(PartyRole::Respondent, "乙"),
        ];
        let o = |p: &str| ObligationInput {
            text: "支付补偿款".into(),
            party: p.into(),
            due_at: DateTime::<Utc>::UNIX_EPOCH,
        };
        assert!(obligations(&[o("乙")], &ps).is_ok());
        assert!(
            matches!(obligations(&[o("乙"), o("丙")], &ps), Err(Error::Validation { field, .. }) if field == "obligations[1].party")
        );
    }
}
