//! Lenient field readers for the A360 document.
//!
//! The original sender writes numbers as strings now and then, `null` where a value is unknown,
//! the string `"None"` for unset labels, and omits keys freely. These readers accept all of that
//! for *values*; the document's shape (objects vs arrays) is still checked by serde.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Any JSON scalar, read without caring about its JSON type.
enum Scalar {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    /// An array or object where a scalar was expected.
    Composite,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON scalar")
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Composite)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Composite)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

/// A number given as a JSON number or a numeric string; `null`, `""` and `"None"` read as absent.
pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match scalar(d)? {
        Scalar::Null | Scalar::Composite => Ok(None),
        Scalar::Bool(_) => Err(de::Error::custom("expected a number, found a boolean")),
        Scalar::I64(v) => Ok(Some(v as f64)),
        Scalar::U64(v) => Ok(Some(v as f64)),
        Scalar::F64(v) => Ok(Some(v)),
        Scalar::Str(s) => parse_num_str(&s),
    }
}

fn parse_num_str<E: de::Error>(s: &str) -> Result<Option<f64>, E> {
    let t = s.trim();
    if t.is_empty() || t == "None" || t.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(E::custom(format!(
            "expected a number, found the string {s:?}"
        ))),
    }
}

/// An integer given as a number (integral floats accepted) or a numeric string.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = match scalar(d)? {
        Scalar::Null | Scalar::Composite => return Ok(None),
        Scalar::Bool(_) => return Err(de::Error::custom("expected an integer, found a boolean")),
        Scalar::I64(v) => return Ok(Some(v)),
        Scalar::U64(v) => {
            return i64::try_from(v)
                .map(Some)
                .map_err(|_| de::Error::custom(format!("integer {v} is out of range")))
        }
        Scalar::F64(v) => v,
        Scalar::Str(s) => match parse_num_str(&s)? {
            Some(v) => v,
            None => return Ok(None),
        },
    };
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Ok(Some(v as i64))
    } else {
        Err(de::Error::custom(format!("expected an integer, found {v}")))
    }
}

/// A boolean given as `true`/`false`, `"true"`/`"True"`/`"false"`, or 0/1.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match scalar(d)? {
        Scalar::Null | Scalar::Composite => Ok(None),
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::I64(v) => Ok(Some(v != 0)),
        Scalar::U64(v) => Ok(Some(v != 0)),
        Scalar::F64(v) => Ok(Some(v != 0.0)),
        Scalar::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Some(true)),
            "false" | "no" | "0" => Ok(Some(false)),
            "" | "none" | "null" => Ok(None),
            _ => Err(de::Error::custom(format!(
                "expected a boolean, found the string {s:?}"
            ))),
        },
    }
}

/// Text; numbers and booleans are kept as their JSON text, `null` reads as absent.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::Null | Scalar::Composite => None,
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::I64(v) => Some(v.to_string()),
        Scalar::U64(v) => Some(v.to_string()),
        Scalar::F64(v) => Some(v.to_string()),
        Scalar::Str(s) => Some(s),
    })
}

/// A label the sender sets to the string `"None"` when unset: that, `null` and `""` read as absent.
pub fn label<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(string(d)?.filter(|s| {
        let t = s.trim();
        !t.is_empty() && t != "None"
    }))
}

/// A list; `null` reads as empty.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A list of strings whose items may be numbers or nulls (nulls are dropped).
pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Item(#[serde(deserialize_with = "string")] Option<String>);
    let items: Vec<Item> = list(d)?;
    Ok(items.into_iter().filter_map(|i| i.0).collect())
}

/// A category the sender writes as an object on success and as `[]` when its collector failed.
///
/// Reads `{...}` as `Some`, and `[]`, `null` or a missing key as `None` ("not collected").
/// A non-empty array or a scalar is a shape error. The object is read in place (no
/// intermediate `Value`), so errors inside it keep their full path.
pub fn object_or_empty<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectOrEmpty<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOrEmpty<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object (or [] when not collected)")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
            match seq.next_element::<IgnoredAny>()? {
                None => Ok(None),
                Some(_) => Err(de::Error::custom(
                    "expected an object (or [] when not collected), found a non-empty array",
                )),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
    }

    d.deserialize_any(ObjectOrEmpty(std::marker::PhantomData))
}

/// A short name of a JSON value's type, for error messages.
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a non-empty array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Serialises `None` of an object-or-empty category as `[]`, as the sender does on failure.
pub fn ser_object_or_empty<S, T>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    T: Serialize,
{
    match v {
        Some(v) => v.serialize(s),
        None => Vec::<()>::new().serialize(s),
    }
}

/// Per-type lenient reading, so that record structs can name one `deserialize_with` for every
/// field and let the field's type pick the rule.
pub trait Lenient: Sized {
    /// Reads `Self` leniently (see the module docs).
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

impl Lenient for Option<f64> {
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64(d)
    }
}
impl Lenient for Option<i64> {
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64(d)
    }
}
impl Lenient for Option<bool> {
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bool(d)
    }
}
impl Lenient for Option<String> {
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string(d)
    }
}
impl Lenient for Vec<String> {
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string_list(d)
    }
}
impl Lenient for serde_json::Value {
    fn de<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d)
    }
}

/// Implements [`Lenient`] for lists of records (`null` reads as empty) and optional records.
macro_rules! lenient_records {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::lenient::Lenient for Vec<$t> {
            fn de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::lenient::list(d)
            }
        }
        impl $crate::lenient::Lenient for Option<$t> {
            fn de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <Option<$t> as serde::Deserialize>::deserialize(d)
            }
        }
        impl $crate::lenient::Lenient for Option<Vec<$t>> {
            /// A list that may be absent: only a missing key (serde's default) is `None`;
            /// a present key is a list, `null` reading as empty as for every other list.
            fn de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::lenient::list(d).map(Some)
            }
        }
    )*};
}
pub(crate) use lenient_records;

/// Declares a record of the A360 document: every field optional and read leniently.
///
/// Field names are the document's keys, so their meaning is documented in the A360 spec
/// rather than field by field.
macro_rules! record {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[allow(missing_docs)]
        pub struct $name {
            $(
                #[serde(default, deserialize_with = "crate::lenient::Lenient::de")]
                $(#[$fmeta])*
                pub $field: $ty,
            )*
        }
        $crate::lenient::lenient_records!($name);
    };
}
pub(crate) use record;
