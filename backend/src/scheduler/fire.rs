//! What a fired deadline means. Runs inside the engine's claim transaction,
//! so the claim, the events, the overdue flag and the emails commit
//! together or not at all. A deadline whose condition was met in the
//! meantime (the case was accepted, the escalation acknowledged) fires as a
//! no-op; unknown kinds are ignored.
use crate::{
    cases::{clocks, directory::Directory},
    config::Settings,
    deadlines::Deadline,
    error::Result,
    escalation::{self, ACK_DEADLINE, ACTION_DEADLINE},
    referrals::clocks as referral_clocks,
    work::Work,
};

/// Apply the effects of `deadline` on `w`, the unit of work that claimed
/// it. Returns false (and records nothing) when its condition was met in
/// the meantime or the kind is unknown.
pub async fn fire(
    w: &mut Work,
    settings: &Settings,
    directory: &Directory,
    deadline: &Deadline,
) -> Result<bool> {
    match deadline.kind.as_str() {
        ACK_DEADLINE => escalation::raise(w, settings, directory, deadline.subject_id).await,
        ACTION_DEADLINE => escalation::action_missed(w, settings, deadline.subject_id).await,
        kind if clocks::KINDS.contains(&kind) => clocks::fire(w, settings, deadline).await,
        kind if referral_clocks::KINDS.contains(&kind) => {
            referral_clocks::fire(w, settings, deadline).await
        }
        _ => Ok(false),
    }
}
