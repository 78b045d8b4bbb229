//! The enumerations of the ledger of left-behind women (issue 17).
use serde::{Deserialize, Serialize};

string_enum!(
    /// How a person came onto the ledger.
    LedgerSource {
    Screening => "screening",
    Case => "case",
    Manual => "manual",
});

string_enum!(
    /// A visit to a person on the ledger (二(三): periodic attention).
    VisitKind {
    HomeVisit => "home_visit",
    Phone => "phone",
    Activity => "activity",
});

string_enum!(
    /// A flag of the ledger (一(五): hardship, disability, serious illness).
    LedgerFlag {
    LowIncome => "low_income",
    RegisteredPoor => "registered_poor",
    Disabled => "disabled",
    SeriouslyIll => "seriously_ill",
    RightsViolated => "rights_violated",
    CareBurden => "care_burden",
});
