//! The escalation's deadline kinds and its top level (supervisors).
/// The acknowledgement deadline; a miss raises a level.
pub const ACK_DEADLINE: &str = "escalation.ack";
/// The first-action deadline.
pub const ACTION_DEADLINE: &str = "escalation.action";
/// Level 3: the region's supervisors and the hotline centre.
pub const TOP_LEVEL: i16 = 3;
