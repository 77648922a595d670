//! `workload.profile`: a time-varying open-loop rate, as piecewise-linear
//! points or a named shape; its file form and its located checks.

use serde::Deserialize;
use serde::de::{self, SeqAccess, Visitor};

use super::compiler::{Compiler, MAX_SIMULATED_NS};
use super::file::{ArrivalsFile, WorkloadFile};
use crate::config::diag::{KeyPath, did_you_mean};
use crate::model::profile::{MAX_POINTS, RateProfile};
use crate::units::{Dur, NANOS_PER_SEC, Nanos, parse_rate};

/// The named shapes.
const SHAPES: [&str; 1] = ["daily"];

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
    at: Dur,
    rate: f64,
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

impl Compiler<'_> {
    /// The rate profile of `w`, checked: Poisson arrivals only; points in
    /// time order with rates finite and not negative, not all zero; a known
    /// shape with `rate`. `span` is warm-up plus duration (a shape is laid
    /// out over it and a day more, for the drain).
    pub(super) fn profile(
        &mut self,
        w: &WorkloadFile,
        spec: &ProfileSpec,
        wp: &KeyPath,
        span: Nanos,
    ) -> Option<RateProfile> {
        let at = wp.key("profile");
        if !matches!(w.arrivals, ArrivalsFile::Poisson) {
            self.error(
                &at,
                "a rate profile drives Poisson arrivals: set arrivals = \"poisson\", or remove `profile`",
            );
            return None;
        }
        match spec {
            ProfileSpec::Shape(name) => self.shape(name, w.rate, &at, span),
            ProfileSpec::Points(points) => {
                if w.rate.is_some() {
                    self.error(
                        &wp.key("rate"),
                        "a profile's points carry their rates: remove `rate` (`ztsim run --rate` scales a profile to a mean over the window)",
                    );
                }
                self.points(points, &at)
            }
        }
    }

    fn shape(
        &mut self,
        name: &str,
        rate: Option<f64>,
        at: &KeyPath,
        span: Nanos,
    ) -> Option<RateProfile> {
        if !SHAPES.contains(&name) {
            let help = match did_you_mean(name, SHAPES) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "the shapes are: \"daily\"; or give points: [[\"0s\", 200], [\"1h\", 800]]"
                    .into(),
            };
            self.error_help(at, format!("unknown profile shape `{name}`"), Some(help));
            return None;
        }
        let Some(rate) = rate else {
            self.error(
                at,
                "the daily shape needs `rate`, its mean over a day, e.g. rate = 200",
            );
            return None;
        };
        // Checked by `arrivals` beside.
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        const DAY: Nanos = 86_400 * NANOS_PER_SEC;
        let days = span.min(MAX_SIMULATED_NS).div_ceil(DAY) + 2;
        Some(RateProfile::daily(rate, days))
    }

    fn points(&mut self, points: &[PointSpec], at: &KeyPath) -> Option<RateProfile> {
        if points.is_empty() {
            self.error(at, "a profile needs at least one point [time, rate], e.g. [[\"0s\", 200], [\"1h\", 800]]");
            return None;
        }
        if points.len() > MAX_POINTS {
            self.error(
                at,
                format!("a profile of {} points: at most {MAX_POINTS}", points.len()),
            );
            return None;
        }
        let errors = self.errors.len();
        for (i, p) in points.iter().enumerate() {
            let pp = at.index(i);
            if p.at.0 > MAX_SIMULATED_NS {
                self.error(
                    &pp.index(0),
                    "a profile point beyond 100 days, the longest a run may span",
                );
            }
            if i > 0 && p.at.0 < points[i - 1].at.0 {
                let line = self
                    .src
                    .locate(&at.index(i - 1).index(0))
                    .map_or(String::new(), |(l, _)| format!(" (line {l})"));
                self.error_help(
                    &pp.index(0),
                    format!(
                        "the profile goes back in time: {} s is before the previous point's {} s{line}",
                        p.at.0 as f64 * 1e-9,
                        points[i - 1].at.0 as f64 * 1e-9
                    ),
                    Some("list the points in time order (equal times make a step)".into()),
                );
            }
            if !(p.rate.is_finite() && p.rate >= 0.0) {
                self.error(
                    &pp.index(1),
                    format!("a profile's rate must be a number of requests per second, zero or more, got {}", p.rate),
                );
            }
        }
        if self.errors.len() > errors {
            return None;
        }
        if points.iter().all(|p| p.rate == 0.0) {
            self.error(
                at,
                "every rate of the profile is zero: no request would ever arrive",
            );
            return None;
        }
        let pts: Vec<(Nanos, f64)> = points.iter().map(|p| (p.at.0, p.rate)).collect();
        Some(RateProfile::new(&pts))
    }
}
