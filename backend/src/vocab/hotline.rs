//! The hotline's own loop (issue 18): what a call was, callbacks and their
//! results, extensions and links between cases.
use serde::{Deserialize, Serialize};

string_enum!(
    /// What an answered call came to (the operator's disposition).
    Disposition {
    ConsultationAnswered => "consultation_answered",
    WorkOrder => "work_order",
    ReferredTo110 => "referred_to_110",
    ReferredTo12345 => "referred_to_12345",
    Silent => "silent",
    Harassment => "harassment",
    WrongNumber => "wrong_number",
});

string_enum!(
    /// What a consultation was about.
    CallTopic {
    Legal => "legal",
    MarriageFamily => "marriage_family",
    Psychological => "psychological",
    Health => "health",
    Employment => "employment",
    Other => "other",
});

string_enum!(CallbackKind {
    MissedCall => "missed_call",
    FollowUp => "follow_up",
    Satisfaction => "satisfaction",
});

string_enum!(CallbackStatus {
    Open => "open",
    Done => "done",
    Unreachable => "unreachable",
    Cancelled => "cancelled",
});

string_enum!(Satisfaction {
    Satisfied => "satisfied",
    BasicallySatisfied => "basically_satisfied",
    Unsatisfied => "unsatisfied",
    Declined => "declined",
});

string_enum!(
    /// Why she is not satisfied: `handling` (the unit's work) reopens the
    /// case for re-handling (重办).
    DissatisfactionReason {
    Handling => "handling",
    Policy => "policy",
    Other => "other",
});

string_enum!(ExtensionStatus {
    Pending => "pending",
    Approved => "approved",
    Refused => "refused",
});

string_enum!(LinkKind {
    Duplicate => "duplicate",
    Related => "related",
});
