//! The enumerations of the public API (API.md, "Enumerations"), each parsed
//! once at the edge and stored as its `snake_case` name.
use serde::{Deserialize, Serialize};

/// Declares a string enum with `as_str`, `parse`, `ALL` and serde in
/// `snake_case`, so the stored form, the JSON form and the list of allowed
/// values cannot drift apart.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
            sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
        )]
        #[serde(rename_all = "snake_case")]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name { $(#[sea_orm(string_value = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// A value read back from the database: one no release wrote is
            /// an error (fail closed), never a default.
            pub fn stored(s: &str) -> crate::error::Result<$name> {
                $name::parse(s).ok_or_else(|| {
                    crate::error::Error::Internal(format!(
                        "unknown stored {} {:?}",
                        stringify!($name),
                        s
                    ))
                })
            }

            /// The allowed values, for error messages.
            pub fn allowed() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(Role {
    Operator => "operator",
    StationWorker => "station_worker",
    Mediator => "mediator",
    PoliceLiaison => "police_liaison",
    Department => "department",
    Supervisor => "supervisor",
    Admin => "admin",
});

string_enum!(UnitKind {
    HotlineCenter => "hotline_center",
    RightsStation => "rights_station",
    WomensHome => "womens_home",
    MediationCommittee => "mediation_committee",
    Police => "police",
    LegalAid => "legal_aid",
    CivilAffairs => "civil_affairs",
    Health => "health",
    HumanResources => "human_resources",
    WomensFederation => "womens_federation",
    VillageCommittee => "village_committee",
    SocialOrganization => "social_organization",
    Agriculture => "agriculture",
    DisabledPersonsFederation => "disabled_persons_federation",
    JusticeOffice => "justice_office",
    TownshipGovernment => "township_government",
});

string_enum!(Category {
    DomesticViolence => "domestic_violence",
    SafetyThreat => "safety_threat",
    MarriageFamily => "marriage_family",
    NeighborDispute => "neighbor_dispute",
    LandRights => "land_rights",
    Property => "property",
    LegalAid => "legal_aid",
    SocialAssistance => "social_assistance",
    Counselling => "counselling",
    Health => "health",
    Employment => "employment",
    FamilyEducation => "family_education",
    Other => "other",
});

impl Category {
    /// The seed's division of duties (API.md); admins may override it in
    /// `routing_rules`.
    pub fn default_unit_kind(self) -> UnitKind {
        use Category::*;
        match self {
            DomesticViolence | Other => UnitKind::RightsStation,
            SafetyThreat => UnitKind::Police,
            MarriageFamily | NeighborDispute | LandRights | Property => {
                UnitKind::MediationCommittee
            }
            LegalAid => UnitKind::LegalAid,
            SocialAssistance | Counselling => UnitKind::CivilAffairs,
            Health => UnitKind::Health,
            Employment => UnitKind::HumanResources,
            FamilyEducation => UnitKind::WomensFederation,
        }
    }

    /// Mediation categories get the longer resolve deadline.
    pub fn is_mediation(self) -> bool {
        matches!(
            self,
            Category::MarriageFamily
                | Category::NeighborDispute
                | Category::LandRights
                | Category::Property
        )
    }
}

impl Category {
    /// The name staff read, for texts the server writes (routing reasons).
    pub fn zh(self) -> &'static str {
        use Category::*;
        match self {
            DomesticViolence => "家庭暴力",
            SafetyThreat => "人身安全威胁",
            MarriageFamily => "婚姻家庭纠纷",
            NeighborDispute => "邻里纠纷",
            LandRights => "土地权益",
            Property => "财产纠纷",
            LegalAid => "法律援助",
            SocialAssistance => "社会救助",
            Counselling => "心理疏导",
            Health => "卫生健康",
            Employment => "就业培训",
            FamilyEducation => "家庭教育",
            Other => "其他",
        }
    }
}

impl UnitKind {
    pub fn zh(self) -> &'static str {
        use UnitKind::*;
        match self {
            HotlineCenter => "热线中心",
            RightsStation => "妇女维权站",
            WomensHome => "妇女之家",
            MediationCommittee => "人民调解委员会",
            Police => "公安",
            LegalAid => "法律援助",
            CivilAffairs => "民政",
            Health => "卫生健康",
            HumanResources => "人力资源和社会保障",
            WomensFederation => "妇联",
            VillageCommittee => "村（居）民委员会",
            SocialOrganization => "社会工作服务机构",
            Agriculture => "农业农村",
            DisabledPersonsFederation => "残联",
            JusticeOffice => "司法所",
            TownshipGovernment => "乡镇人民政府",
        }
    }
}

string_enum!(CaseStatus {
    New => "new",
    Assigned => "assigned",
    InProgress => "in_progress",
    Resolved => "resolved",
    Closed => "closed",
});

string_enum!(Priority {
    Urgent => "urgent",
    High => "high",
    Normal => "normal",
    Low => "low",
});

string_enum!(RiskLevel {
    None => "none",
    Elevated => "elevated",
    High => "high",
    Imminent => "imminent",
});

impl RiskLevel {
    pub fn rank(self) -> u8 {
        match self {
            RiskLevel::None => 0,
            RiskLevel::Elevated => 1,
            RiskLevel::High => 2,
            RiskLevel::Imminent => 3,
        }
    }
}

string_enum!(Channel {
    Hotline => "hotline",
    WalkIn => "walk_in",
    Online => "online",
    Referral => "referral",
    MandatoryReport => "mandatory_report",
});

string_enum!(OutcomeResult {
    Resolved => "resolved",
    Agreement => "agreement",
    NoAgreement => "no_agreement",
    Referred => "referred",
    Withdrawn => "withdrawn",
});

string_enum!(
    /// The parties' application for judicial confirmation of a mediation
    /// agreement (People's Mediation Law art. 33).
    ConfirmationStatus {
    Applied => "applied",
    Confirmed => "confirmed",
    Rejected => "rejected",
    NotNeeded => "not_needed",
});

string_enum!(EscalationStatus {
    Pending => "pending",
    Acknowledged => "acknowledged",
    Resolved => "resolved",
});

string_enum!(Urgency {
    Imminent => "imminent",
    High => "high",
});

impl Urgency {
    /// Stricter clocks rank higher.
    pub fn rank(self) -> u8 {
        match self {
            Urgency::High => 1,
            Urgency::Imminent => 2,
        }
    }
}

impl Priority {
    pub fn rank(self) -> u8 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }
}

string_enum!(
    #[allow(non_camel_case_types)]
    ActionKind {
    Dispatched => "dispatched",
    VictimContacted => "victim_contacted",
    WarningIssued => "warning_issued",
    ProtectionOrderAssisted => "protection_order_assisted",
    Detained => "detained",
    Referred => "referred",
    Other => "other",
    // `ReportedTo_110` so that serde's snake_case is "reported_to_110".
    ReportedTo_110 => "reported_to_110",
});

mod ledger;
mod workflows;
pub use ledger::*;
pub use workflows::*;
mod hotline;
pub use hotline::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_value_no_release_wrote_is_an_error_not_a_default() {
        assert_eq!(Role::stored("operator").ok(), Some(Role::Operator));
        assert!(Role::stored("superuser").is_err());
        assert!(CaseStatus::stored("").is_err());
        assert!(Urgency::stored("soon").is_err());
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
        assert_eq!(Role::parse("police_liaison"), Some(Role::PoliceLiaison));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn default_routing_follows_api_md() {
        assert_eq!(Category::SafetyThreat.default_unit_kind(), UnitKind::Police);
        assert_eq!(
            Category::LandRights.default_unit_kind(),
            UnitKind::MediationCommittee
        );
        assert_eq!(
            Category::FamilyEducation.default_unit_kind(),
            UnitKind::WomensFederation
        );
    }
}
