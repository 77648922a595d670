//! The value forms the three formats share: integers written as numbers or
//! strings, attribute values of any JSON type, attribute keys the importer
//! reads, and attribute lists in either of the formats' shapes.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::trace::span::{AttrKey, Attributes};

/// A non-negative integer written as a number or a string (OTLP writes 64-bit
/// integers as strings).
pub(super) fn number<'de, D: de::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a non-negative integer (a number or a string of digits)")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("a time cannot be negative, got {v}")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            whole(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            let t = v.trim();
            match (t.parse::<u64>(), t.parse::<f64>()) {
                (Ok(n), _) => Ok(n),
                // `1.5e9` and `"1500000000.0"` are whole enough; a float
                // beyond u64 or negative is refused by `whole`, not clamped.
                (Err(_), Ok(f)) => whole(f),
                (Err(_), Err(_)) => Err(E::custom(format!("expected an integer, got \"{v}\""))),
            }
        }
    }
    d.deserialize_any(V)
}

/// A float time or count as an integer, if it is one: finite, not negative,
/// and below 2^64 (a float past it would saturate silently).
fn whole<E: de::Error>(v: f64) -> Result<u64, E> {
    // 2^64 exactly: `u64::MAX as f64` rounds up to it.
    const LIMIT: f64 = 18_446_744_073_709_551_616.0;
    if v.is_finite() && v >= 0.0 && v.round() < LIMIT {
        Ok(v.round() as u64)
    } else {
        Err(E::custom(format!(
            "expected a non-negative integer below 2^64 (18446744073709551616), got {v}"
        )))
    }
}

/// An optional [`number`].
pub(super) fn opt_number<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    number(d).map(Some)
}

/// A scalar attribute value: Jaeger writes it bare (`"value": 12`), OTLP as
/// an `AnyValue` object (`"value": {"intValue": "12"}`).
#[derive(Default)]
pub(super) struct Value {
    pub(super) text: Option<String>,
    pub(super) number: Option<i64>,
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_owned()),
                    number: v.trim().parse().ok(),
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_string()),
                    number: Some(v),
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_string()),
                    number: i64::try_from(v).ok(),
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_string()),
                    number: (v.is_finite() && v >= 0.0).then_some(v.round() as i64),
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_string()),
                    number: None,
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                // OTLP's AnyValue: exactly one of these keys.
                let mut out = Value::default();
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "stringValue" | "intValue" | "doubleValue" | "boolValue"
                        | "string_value" | "int_value" | "double_value" | "bool_value" => {
                            out = map.next_value()?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// An attribute key, classified as it is read (no allocation).
pub(super) struct KeyOf(pub(super) AttrKey);

impl<'de> Deserialize<'de> for KeyOf {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyOf;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute key (a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyOf, E> {
                Ok(KeyOf(AttrKey::of(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A list of `{key, value}` pairs (Jaeger tags, OTLP attributes), keeping
/// only the attributes the importer reads.
impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of {\"key\": ..., \"value\": ...} objects")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Attributes, E> {
                Ok(Attributes::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Attributes, A::Error> {
                let mut attrs = Attributes::default();
                while seq.next_element_seed(Pair(&mut attrs))?.is_some() {}
                Ok(attrs)
            }
        }
        struct Pair<'a>(&'a mut Attributes);
        impl<'de> DeserializeSeed<'de> for Pair<'_> {
            type Value = ();
            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_map(self)
            }
        }
        impl<'de> Visitor<'de> for Pair<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a {\"key\": ..., \"value\": ...} object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                #[derive(Deserialize)]
                #[serde(field_identifier, rename_all = "lowercase")]
                enum Field {
                    Key,
                    Value,
                    #[serde(other)]
                    Other,
                }
                let mut key: Option<AttrKey> = None;
                let mut value: Option<Value> = None;
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Key => key = Some(map.next_value::<KeyOf>()?.0),
                        // Values of keys already known to be unused are
                        // skipped without being kept.
                        Field::Value if key != Some(AttrKey::Other) => {
                            value = Some(map.next_value()?);
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if let (Some(k), Some(v)) = (key, value) {
                    self.0.take(k, v.text.as_deref(), v.number);
                }
                Ok(())
            }
        }
        d.deserialize_any(List)
    }
}
