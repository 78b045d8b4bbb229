//! What a fired deadline means. Runs inside the engine's claim transaction,
//! so the claim, the events, the overdue flag and the emails commit
//! together or not at all. A deadline whose condition was met in the
//! meantime (the case was accepted, the escalation acknowledged) fires as a
//! no-op. A kind no domain owns (a row written by a later release, say)
//! is logged and left as fired, never guessed at.
use crate::{
    calendar::Calendar,
    cases::{clocks, directory::Directory},
    config::Settings,
    deadlines::Deadline,
    error::Result,
    escalation::{self, ACK_DEADLINE, ACTION_DEADLINE},
    hotline, ledger, measures,
    mediation::clocks as mediation_clocks,
    referrals::clocks as referral_clocks,
    work::Work,
};

/// Which domain a deadline kind belongs to.
#[derive(Debug, PartialEq, Eq)]
enum Owner {
    /// An unacknowledged escalation climbs a level.
    EscalationRaise,
    /// An escalation's first action is overdue.
    EscalationAction,
    /// A case clock (`cases::clocks`).
    Case,
    /// A referral's accept, reply or urging clock (`referrals::clocks`).
    Referral,
    /// A mediation clock (`mediation::clocks`).
    Mediation,
    /// A protective measure's clock (`measures::clocks`).
    Measure,
    /// A ledger person's review (`ledger::clocks`).
    LedgerReview,
    /// A follow-up callback's time (`hotline::schedule`).
    Callback,
}

fn owner(kind: &str) -> Option<Owner> {
    match kind {
        ACK_DEADLINE => Some(Owner::EscalationRaise),
        ACTION_DEADLINE => Some(Owner::EscalationAction),
        kind if clocks::KINDS.contains(&kind) => Some(Owner::Case),
        kind if referral_clocks::KINDS.contains(&kind) => Some(Owner::Referral),
        kind if mediation_clocks::KINDS.contains(&kind) => Some(Owner::Mediation),
        kind if measures::clocks::KINDS.contains(&kind) => Some(Owner::Measure),
        kind if ledger::clocks::KINDS.contains(&kind) => Some(Owner::LedgerReview),
        kind if hotline::schedule::KINDS.contains(&kind) => Some(Owner::Callback),
        _ => None,
    }
}

/// Apply the effects of `deadline` on `w`, the unit of work that claimed
/// it. Returns false (and records nothing) when its condition was met in
/// the meantime or the kind is unknown.
pub async fn fire(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    cal: &Calendar,
    deadline: &Deadline,
) -> Result<bool> {
    let id = deadline.subject_id;
    match owner(&deadline.kind) {
        Some(Owner::EscalationRaise) => escalation::raise(w, settings, directory, id).await,
        Some(Owner::EscalationAction) => escalation::action_missed(w, settings, id).await,
        Some(Owner::Case) => clocks::fire(w, settings, deadline).await,
        Some(Owner::Referral) => referral_clocks::fire(w, settings, cal, deadline).await,
        Some(Owner::Mediation) => mediation_clocks::fire(w, settings, deadline).await,
        Some(Owner::Measure) => measures::clocks::fire(w, settings, directory, deadline).await,
        Some(Owner::LedgerReview) => ledger::clocks::fire(w, deadline).await,
        Some(Owner::Callback) => hotline::schedule::fire(w, deadline).await,
        None => {
            tracing::warn!(kind = %deadline.kind, deadline = %deadline.id, "a deadline of an unknown kind fired; nothing done");
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_a_domain_schedules_has_an_owner() {
        assert_eq!(owner(ACK_DEADLINE), Some(Owner::EscalationRaise));
        assert_eq!(owner(ACTION_DEADLINE), Some(Owner::EscalationAction));
        for kind in clocks::KINDS {
            assert_eq!(owner(kind), Some(Owner::Case), "{kind}");
        }
        for kind in referral_clocks::KINDS {
            assert_eq!(owner(kind), Some(Owner::Referral), "{kind}");
        }
        for kind in mediation_clocks::KINDS {
            assert_eq!(owner(kind), Some(Owner::Mediation), "{kind}");
        }
        for kind in measures::clocks::KINDS {
            assert_eq!(owner(kind), Some(Owner::Measure), "{kind}");
        }
        for kind in ledger::clocks::KINDS {
            assert_eq!(owner(kind), Some(Owner::LedgerReview), "{kind}");
        }
        for kind in hotline::schedule::KINDS {
            assert_eq!(owner(kind), Some(Owner::Callback), "{kind}");
        }
        assert_eq!(owner("referral.nonsense"), None);
    }
}
