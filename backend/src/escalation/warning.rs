//! The action `warning_issued` records the written warning as a measure
//! (`measures`), with its follow-up visits, in the action's unit of work.
use crate::{
    auth::Principal, db::entities::case, error::Result, measures::recording::from_warning,
    state::AppState, work::Work,
};

pub(super) async fn warning_measure(
    w: &mut Work,
    state: &AppState,
    c: &case::Model,
    number: Option<String>,
    p: &Principal,
) -> Result<()> {
    from_warning(w, &state.settings, &state.directory, c, number, p).await
}
