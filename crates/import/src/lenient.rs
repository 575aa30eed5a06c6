//! Record fields that never fail to deserialize.
//!
//! Spotify's exports changed their fields over the years (`skipped` is null for years, some old
//! files have numbers or strings where booleans belong). A field of an unexpected type must not
//! abort the array: it becomes [`Lenient::Invalid`], and the record normaliser decides whether
//! that field matters (`ts`, `ms_played`, URIs, names → malformed record) or not (device
//! details → unknown).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::flat_object::{Flat, FlatFields};

/// A field that was missing or null, had a usable value, or had an unusable one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Lenient<T> {
    /// Absent from the record, or `null`.
    #[default]
    Missing,
    Value(T),
    /// Present with a type that cannot be read as `T`.
    Invalid,
}

impl<T> Lenient<T> {
    /// The value, treating an unusable one like a missing one.
    pub(crate) fn ok(self) -> Option<T> {
        match self {
            Lenient::Value(v) => Some(v),
            Lenient::Missing | Lenient::Invalid => None,
        }
    }

    pub(crate) fn is_invalid(&self) -> bool {
        matches!(self, Lenient::Invalid)
    }
}

impl<'a> Lenient<Cow<'a, str>> {
    /// The text, unless missing, unusable, or blank (Spotify writes `""` for unknown names too).
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Lenient::Value(v) if !is_blank(v) => Some(v),
            _ => None,
        }
    }
}

impl<'a> From<Flat<'a>> for Lenient<Cow<'a, str>> {
    fn from(value: Flat<'a>) -> Self {
        match value {
            Flat::Str(s) => Lenient::Value(s),
            Flat::Null => Lenient::Missing,
            Flat::Int(_) | Flat::Float(_) | Flat::Bool(_) => Lenient::Invalid,
        }
    }
}

impl From<Flat<'_>> for Lenient<i64> {
    fn from(value: Flat<'_>) -> Self {
        match value {
            Flat::Int(n) => Lenient::Value(n),
            // Saturating cast: a float beyond i64 becomes an absurd value, caught later.
            Flat::Float(f) if f.is_finite() => Lenient::Value(f as i64),
            Flat::Str(s) => s.trim().parse().map_or(Lenient::Invalid, Lenient::Value),
            Flat::Null => Lenient::Missing,
            Flat::Float(_) | Flat::Bool(_) => Lenient::Invalid,
        }
    }
}

impl From<Flat<'_>> for Lenient<bool> {
    fn from(value: Flat<'_>) -> Self {
        match value {
            Flat::Bool(b) => Lenient::Value(b),
            Flat::Int(0) => Lenient::Value(false),
            Flat::Int(1) => Lenient::Value(true),
            Flat::Str(s) => {
                let s = s.trim();
                if s.eq_ignore_ascii_case("true") || s == "1" {
                    Lenient::Value(true)
                } else if s.eq_ignore_ascii_case("false") || s == "0" {
                    Lenient::Value(false)
                } else if s.is_empty() || s.eq_ignore_ascii_case("null") {
                    Lenient::Missing
                } else {
                    Lenient::Invalid
                }
            }
            Flat::Null => Lenient::Missing,
            Flat::Int(_) | Flat::Float(_) => Lenient::Invalid,
        }
    }
}

/// Reads any JSON value as a [`Flat`] scalar and converts it like the fast path does, so both
/// paths agree; sequences and maps are drained and unusable.
struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for LenientVisitor<T>
where
    Lenient<T>: From<Flat<'de>>,
{
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Flat::Str(Cow::Borrowed(v)).into())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Flat::Str(Cow::Owned(v.to_owned())).into())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Flat::Str(Cow::Owned(v)).into())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Flat::Bool(v).into())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Flat::Int(v).into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        // Beyond i64 the fast path reads a float; so does this.
        Ok(i64::try_from(v)
            .map_or(Flat::Float(v as f64), Flat::Int)
            .into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Flat::Float(v).into())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Flat::Null.into())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Flat::Null.into())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Lenient::Invalid)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Lenient::Invalid)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Lenient<Cow<'a, str>> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor::<Cow<'de, str>>(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Lenient<i64> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Lenient<bool> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor(PhantomData))
    }
}

/// Stores a fast-path value into a field unless the field was seen already (a repeated field
/// is for `serde_json` to judge).
pub(crate) fn put<'a, T>(field: &mut Lenient<T>, value: Flat<'a>) -> bool
where
    Lenient<T>: From<Flat<'a>>,
{
    if !matches!(field, Lenient::Missing) {
        return false;
    }
    *field = value.into();
    true
}

/// Empty or only whitespace. Checked for every field of every record, so a name starting with
/// a visible ASCII character (nearly all) is decided from its first byte.
fn is_blank(text: &str) -> bool {
    match text.as_bytes().first() {
        None => true,
        Some(&b) if b.is_ascii_graphic() => false,
        Some(_) => text.trim().is_empty(),
    }
}

/// A record that must be a JSON object. `serde_json` would also fill a struct from an array,
/// positionally; an array element is not a record, so it must fail (and be counted malformed).
#[derive(Debug)]
pub(crate) struct ObjectOnly<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = ObjectOnly<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(ObjectOnly)
            }
        }

        d.deserialize_map(ObjectVisitor(PhantomData))
    }
}

impl<'a, T: FlatFields<'a>> FlatFields<'a> for ObjectOnly<T> {
    fn field(&mut self, key: &str, value: Flat<'a>) -> bool {
        self.0.field(key, value)
    }
}

impl<T: Default> Default for ObjectOnly<T> {
    fn default() -> Self {
        ObjectOnly(T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Probe<'a> {
        #[serde(default, borrow)]
        text: Lenient<Cow<'a, str>>,
        #[serde(default)]
        int: Lenient<i64>,
        #[serde(default)]
        flag: Lenient<bool>,
    }

    fn probe(json: &str) -> Probe<'_> {
        serde_json::from_str(json).expect("lenient fields never fail")
    }

    #[test]
    fn every_json_type_is_accepted_without_error() {
        for value in [
            "null",
            "true",
            "0",
            "-3",
            "1.5",
            "18446744073709551615",
            "\"x\"",
            "[1,[2]]",
            "{\"a\":{\"b\":1}}",
        ] {
            let json = format!(r#"{{"text":{value},"int":{value},"flag":{value}}}"#);
            let _ = probe(&json);
        }
    }

    #[test]
    fn text_borrows_when_unescaped_and_rejects_non_strings() {
        let p = probe(r#"{"text":"Sigur Rós"}"#);
        assert!(matches!(p.text, Lenient::Value(Cow::Borrowed("Sigur Rós"))));
        let p = probe(r#"{"text":"say \"hi\""}"#);
        assert_eq!(p.text.text(), Some("say \"hi\""));
        assert!(probe(r#"{"text":5}"#).text.is_invalid());
        assert_eq!(probe(r#"{"text":null}"#).text, Lenient::Missing);
        assert_eq!(probe(r#"{"text":"  "}"#).text.text(), None);
    }

    #[test]
    fn integers_accept_numbers_floats_and_numeric_strings() {
        assert_eq!(probe(r#"{"int":42}"#).int, Lenient::Value(42));
        assert_eq!(probe(r#"{"int":42.9}"#).int, Lenient::Value(42));
        assert_eq!(probe(r#"{"int":" 42 "}"#).int, Lenient::Value(42));
        assert_eq!(probe(r#"{"int":"forty"}"#).int, Lenient::Invalid);
        assert_eq!(probe(r#"{"int":true}"#).int, Lenient::Invalid);
        assert_eq!(probe(r#"{}"#).int, Lenient::Missing);
    }

    #[test]
    fn only_objects_are_records() {
        let ok: ObjectOnly<Probe<'_>> = serde_json::from_str(r#"{"int":1}"#).unwrap();
        assert_eq!(ok.0.int, Lenient::Value(1));
        for not_object in ["[1,2,3]", "[]", "\"x\"", "5", "null"] {
            let e = serde_json::from_str::<ObjectOnly<Probe<'_>>>(not_object).unwrap_err();
            assert!(e.is_data(), "{not_object}: {e}");
        }
    }

    #[test]
    fn booleans_accept_the_shapes_old_exports_used() {
        assert_eq!(probe(r#"{"flag":true}"#).flag, Lenient::Value(true));
        assert_eq!(probe(r#"{"flag":0}"#).flag, Lenient::Value(false));
        assert_eq!(probe(r#"{"flag":"True"}"#).flag, Lenient::Value(true));
        assert_eq!(probe(r#"{"flag":"0"}"#).flag, Lenient::Value(false));
        assert_eq!(probe(r#"{"flag":null}"#).flag, Lenient::Missing);
        assert_eq!(probe(r#"{"flag":7}"#).flag, Lenient::Invalid);
        assert_eq!(probe(r#"{"flag":"maybe"}"#).flag, Lenient::Invalid);
    }
}
