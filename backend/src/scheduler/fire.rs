//! What a fired deadline means. Runs inside the engine's claim transaction,
//! so the claim, the events, the overdue flag and the emails commit
//! together or not at all. A deadline whose condition was met in the
//! meantime (the case was accepted, the escalation acknowledged) fires as a
//! no-op; unknown kinds are ignored.
use crate::{
    cases::clocks,
    db::WriteTxn,
    deadlines::Deadline,
    error::Result,
    escalation::{self, Produced, ACK_DEADLINE, ACTION_DEADLINE},
    events::{self, Effects},
    notify,
    state::AppState,
};

/// Apply the effects of `deadline` inside `txn`, the transaction that
/// claimed it. Unknown kinds are ignored.
pub async fn fire(state: &AppState, txn: &WriteTxn, deadline: &Deadline) -> Result<Effects> {
    let now = state.now();
    let mut out = Produced::default();
    let fired = match deadline.kind.as_str() {
        ACK_DEADLINE => {
            escalation::raise(&**txn, state, now, deadline.subject_id, &mut out).await?
        }
        ACTION_DEADLINE => {
            escalation::action_missed(&**txn, state, now, deadline.subject_id, &mut out).await?
        }
        kind if clocks::KINDS.contains(&kind) => {
            clocks::fire(&**txn, state, now, deadline, &mut out).await?
        }
        _ => false,
    };
    if !fired {
        return Ok(Effects::default());
    }
    let mail = !out.mails.is_empty();
    notify::enqueue(&**txn, now, out.mails).await?;
    let events = !out.events.is_empty();
    events::append(&**txn, &state.node_id, out.events).await?;
    Ok(Effects {
        events,
        deadlines: true,
        mail,
    })
}
