//! Keyset paging for lists ordered newest first by `(created_at, id)`:
//! the cursor is `<created_at micros>.<id>`, the position after the last
//! item shown, and every list reads one row more than it shows to know
//! whether a next page exists.
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The cursor for the row at `(at, id)`.
pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}.{}", at.timestamp_micros(), id.simple())
}

/// A cursor read back; anything else is 422 `field: cursor`.
pub fn decode(s: &str) -> Result<(DateTime<Utc>, Uuid)> {
    let bad = || Error::validation("cursor", "is not a cursor from this list");
    let (t, id) = s.split_once('.').ok_or_else(bad)?;
    let micros: i64 = t.parse().map_err(|_| bad())?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// The rows after `cursor` in `(created, id)` descending order.
pub fn after<C: ColumnTrait>(created: C, id: C, cursor: &str) -> Result<Condition> {
    let (at, last) = decode(cursor)?;
    Ok(Condition::any()
        .add(created.lt(at))
        .add(Condition::all().add(created.eq(at)).add(id.lt(last))))
}

/// The page size asked for, 50 by default, within 1..=200.
pub fn limit(asked: Option<u64>) -> u64 {
    asked.unwrap_or(50).clamp(1, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written_and_garbage_is_a_field_error() -> Result<()> {
        let at = DateTime::<Utc>::from_timestamp_micros(1_764_000_000_123_456)
            .ok_or_else(|| Error::Internal("time".into()))?;
        let id = Uuid::from_u128(7);
        assert_eq!(decode(&encode(at, id))?, (at, id));
        assert!(matches!(decode("x.y"), Err(Error::Validation { .. })));
        assert_eq!(
            (limit(None), limit(Some(0)), limit(Some(999))),
            (50, 1, 200)
        );
        Ok(())
    }
}
