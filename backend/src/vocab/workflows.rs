//! The enumerations of the workflows beside the case: protective
//! measures and mandatory reports (issue 15), referrals (issue 14) and
//! mediation (issue 16). Declared with the same `string_enum!` as the
//! core vocabulary, so each is also the sea-orm active enum of its column.
use serde::{Deserialize, Serialize};

// ---- the police loop (issue 15) -------------------------------------------

string_enum!(
    /// A protective measure (Anti-Domestic Violence Law arts. 16–17, 23–32).
    MeasureKind {
    WarningLetter => "warning_letter",
    ProtectionOrder => "protection_order",
    Shelter => "shelter",
    InjuryAssessment => "injury_assessment",
});

string_enum!(Applicant {
    Victim => "victim",
    Relative => "relative",
    Police => "police",
    WomensFederation => "womens_federation",
    VillageCommittee => "village_committee",
    Other => "other",
});

string_enum!(MeasureOutcome {
    Pending => "pending",
    Granted => "granted",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});

string_enum!(
    /// What a measure is in force for, as the list filters it (derived,
    /// never stored).
    MeasureStatus {
    Pending => "pending",
    InForce => "in_force",
    Expired => "expired",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});

string_enum!(
    /// The terms of a protection order (art. 29).
    ProtectiveTerm {
    NoContact => "no_contact",
    NoHarassment => "no_harassment",
    MoveOut => "move_out",
    Other => "other",
});

string_enum!(
    /// Who makes a follow-up visit (查访) after a written warning (art. 17).
    VisitParty {
    VillageCommittee => "village_committee",
    Police => "police",
});

string_enum!(
    /// The bodies bound to report (Anti-Domestic Violence Law art. 14).
    ReporterOrg {
    School => "school",
    Kindergarten => "kindergarten",
    Medical => "medical",
    VillageCommittee => "village_committee",
    ResidentsCommittee => "residents_committee",
    SocialWork => "social_work",
    ReliefAgency => "relief_agency",
    WelfareInstitution => "welfare_institution",
    Other => "other",
});

string_enum!(
    /// Why a body may receive her data with a referral (PIPL).
    LegalBasis {
    Consent => "consent",
    StatutoryDuty => "statutory_duty",
    Emergency => "emergency",
});

string_enum!(ReferralStatus {
    Sent => "sent",
    Accepted => "accepted",
    Declined => "declined",
    Replied => "replied",
    Closed => "closed",
    Withdrawn => "withdrawn",
});

impl ReferralStatus {
    /// Still owed an answer: blocks the case's close.
    pub fn is_open(self) -> bool {
        matches!(self, ReferralStatus::Sent | ReferralStatus::Accepted)
    }
}

string_enum!(ReplyResult {
    Provided => "provided",
    Approved => "approved",
    Rejected => "rejected",
    NotEligible => "not_eligible",
    InProgress => "in_progress",
    ReferredOn => "referred_on",
});

string_enum!(DeclineReason {
    WrongPlace => "wrong_place",
    WrongRemit => "wrong_remit",
    Duplicate => "duplicate",
    Other => "other",
});

// ---- mediation (issue 16) ---------------------------------------------------

string_enum!(
    /// Where a mediation stands: registered (sessions may follow), ended
    /// with an agreement, or terminated without one.
    MediationStatus {
    Registered => "registered",
    Agreed => "agreed",
    Terminated => "terminated",
});

string_enum!(PartyRole {
    Applicant => "applicant",
    Respondent => "respondent",
    Other => "other",
});

string_enum!(
    /// Why a mediation ended without an agreement (People's Mediation Law
    /// arts. 26, 31: a party may refuse; a dispute that may turn criminal
    /// goes to the police).
    TerminationReason {
    PartyRefused => "party_refused",
    NoAgreement => "no_agreement",
    EscalatedToPolice => "escalated_to_police",
    Withdrawn => "withdrawn",
});

string_enum!(AgreementForm {
    Written => "written",
    Oral => "oral",
});
