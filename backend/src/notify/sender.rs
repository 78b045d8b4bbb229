//! The mail sender (filled in by the escalation work).
