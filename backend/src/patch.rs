//! PATCH bodies: an absent key leaves a field alone, `null` clears it, a
//! value sets it. Plain serde reads both absent and `null` as `None`, so a
//! clearable field is `Option<Option<T>>` with
//! `#[serde(default, deserialize_with = "double_option")]`: `None` absent,
//! `Some(None)` null, `Some(Some(v))` a value.
use serde::{Deserialize, Deserializer};

/// Reads a present key (value or `null`) as `Some(..)`; `#[serde(default)]`
/// leaves an absent one `None`.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "double_option")]
        date: Option<Option<String>>,
    }

    fn read(s: &str) -> serde_json::Result<Option<Option<String>>> {
        serde_json::from_str::<Body>(s).map(|b| b.date)
    }

    #[test]
    fn absent_null_and_value_are_three_things() -> serde_json::Result<()> {
        assert_eq!(read("{}")?, None);
        assert_eq!(read(r#"{"date": null}"#)?, Some(None));
        assert_eq!(
            read(r#"{"date": "2024-01-01"}"#)?,
            Some(Some("2024-01-01".into()))
        );
        Ok(())
    }
}
