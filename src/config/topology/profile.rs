//! `workload.profile`: a time-varying open-loop rate, as piecewise-linear
//! points or a named shape; its file form (its checks are `workload.rs`'s).

use serde::Deserialize;
use serde::de::{self, SeqAccess, Visitor};

use crate::units::{Dur, parse_rate};

/// The named shapes.
pub(super) const SHAPES: [&str; 1] = ["daily"];

/// `profile = [["0s", 200], ["1h", 800]]` or `profile = "daily"`.
#[derive(Debug)]
pub(in crate::config) enum ProfileSpec {
    /// A named shape.
    Shape(String),
    /// (time from the start of the run, rate) points.
    Points(Vec<PointSpec>),
}

/// One point: a duration and a rate (a number, or a rate string "1.5k").
#[derive(Debug)]
pub(in crate::config) struct PointSpec {
    pub(super) at: Dur,
    pub(super) rate: f64,
}

impl schemars::JsonSchema for ProfileSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RateProfile".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::ProfileSpec").into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A time-varying rate for Poisson arrivals: points [time from the start of the run (warm-up included), requests per second], linear between points, the first value held before the first point and the last after the last; or the shape \"daily\" (with `rate`, its mean over a day).",
            "anyOf": [
                { "enum": SHAPES },
                {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "array",
                        "items": [
                            generator.subschema_for::<Dur>(),
                            { "anyOf": [{ "type": "number", "minimum": 0 }, { "type": "string" }] }
                        ],
                        "additionalItems": false,
                        "minItems": 2
                    }
                }
            ],
        })
    }
}

impl<'de> Deserialize<'de> for ProfileSpec {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProfileSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of [time, rate] points such as [[\"0s\", 200], [\"1h\", 800]], or a shape name such as \"daily\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ProfileSpec, E> {
                Ok(ProfileSpec::Shape(s.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ProfileSpec, A::Error> {
                let mut points = Vec::new();
                while let Some(p) = seq.next_element::<PointSpec>()? {
                    points.push(p);
                }
                Ok(ProfileSpec::Points(points))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for PointSpec {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PointSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a point [time, rate] such as [\"1h\", 800]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PointSpec, A::Error> {
                let missing =
                    || de::Error::custom("a point is [time, rate], such as [\"1h\", 800]");
                let at: Dur = seq.next_element()?.ok_or_else(missing)?;
                let rate: RateValue = seq.next_element()?.ok_or_else(missing)?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(missing());
                }
                Ok(PointSpec { at, rate: rate.0 })
            }
        }
        d.deserialize_seq(V)
    }
}

/// A rate in a point: a number (zero allowed) or a rate string.
struct RateValue(f64);

impl<'de> Deserialize<'de> for RateValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RateValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a rate in requests per second, such as 800 or \"1.5k\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RateValue, E> {
                Ok(RateValue(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RateValue, E> {
                Ok(RateValue(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RateValue, E> {
                Ok(RateValue(v))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RateValue, E> {
                parse_rate(s).map(RateValue).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}
