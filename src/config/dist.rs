//! The configured form of a duration distribution: a plain duration string
//! ("2ms", a constant) or a table tagged by `dist`.

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use super::diag::{Diagnostic, KeyPath, Source};
use crate::model::dist::Dist;
use crate::units::{Dur, Nanos, parse_duration};

/// Largest mean a duration distribution may have: about 11.6 days.
pub const MAX_MEAN_NS: f64 = 1e15;
/// Largest squared coefficient of variation (variance / mean^2): a lognormal
/// with sigma ~4.3, p99 about 20,000 x the median.
pub const MAX_SCV: f64 = 1e8;

/// A distribution as written in a file.
#[derive(Debug, Clone, PartialEq)]
pub enum DistSpec {
    /// A bare duration string.
    Constant(Nanos),
    /// A `{ dist = ... }` table.
    Table(DistTable),
}

/// The tagged forms: a table whose `dist` key names the distribution and
/// whose other keys are its parameters.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum DistTable {
    /// `{ dist = "constant", value = "1ms" }`
    Constant {
        /// The value, every time.
        value: Dur,
    },
    /// `{ dist = "exponential", mean = "1ms" }`
    Exponential {
        /// The mean (above zero).
        mean: Dur,
    },
    /// `{ dist = "lognormal", median = "1ms", p99 = "8ms" }` or `{ ..., mean = "2ms", sd = "1ms" }`
    #[schemars(extend("oneOf" = [
        { "required": ["median", "p99"], "not": { "anyOf": [{ "required": ["mean"] }, { "required": ["sd"] }] } },
        { "required": ["mean", "sd"], "not": { "anyOf": [{ "required": ["median"] }, { "required": ["p99"] }] } },
    ]))]
    Lognormal {
        /// Median (with p99).
        median: Option<Dur>,
        /// 99th percentile (with median).
        p99: Option<Dur>,
        /// Mean (with sd).
        mean: Option<Dur>,
        /// Standard deviation (with mean).
        sd: Option<Dur>,
    },
    /// `{ dist = "uniform", min = "1ms", max = "3ms" }`
    Uniform {
        /// Smallest value.
        min: Dur,
        /// Largest value.
        max: Dur,
    },
    /// `{ dist = "histogram", edges = ["0ms", "1ms", "5ms"], counts = [70, 30] }`
    Histogram {
        /// Bin edges: n+1 durations, strictly increasing.
        #[schemars(length(min = 2))]
        edges: Vec<Dur>,
        /// Observations per bin: n non-negative numbers (one fewer than edges), not all zero.
        counts: Vec<f64>,
    },
    /// `{ dist = "empirical", values = ["1ms", "1.2ms", "4ms"] }`
    Empirical {
        /// Observed values, equally likely; at least one.
        #[schemars(length(min = 1))]
        values: Vec<Dur>,
    },
}

/// A duration string or a `dist` table, as the deserializer below accepts.
impl schemars::JsonSchema for DistSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Distribution".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::DistSpec").into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A distribution of durations: a duration string for a constant (\"2ms\"), or a table tagged by `dist`: constant (value), exponential (mean), lognormal (median and p99, or mean and sd), uniform (min, max), histogram (edges, counts), empirical (values).",
            "anyOf": [
                generator.subschema_for::<Dur>(),
                generator.subschema_for::<DistTable>(),
            ],
        })
    }
}

impl<'de> Deserialize<'de> for DistSpec {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DistSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a duration such as \"2ms\", or a table such as { dist = \"exponential\", mean = \"2ms\" }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DistSpec, E> {
                parse_duration(s).map(DistSpec::Constant).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DistSpec, A::Error> {
                DistTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(DistSpec::Table)
            }
        }
        d.deserialize_any(V)
    }
}

impl DistSpec {
    /// Checks the parameters and builds the sampling form; errors point at `path`.
    pub fn compile(&self, src: &Source, path: &KeyPath) -> Result<Dist, Diagnostic> {
        let dist = self.compile_unchecked(src, path)?;
        // A mean or spread beyond any real service time (overflowing
        // nanoseconds, or a lognormal tail so heavy its moments explode)
        // would make every figure meaningless: refuse it here.
        let (mean, scv) = (dist.mean(), dist.scv());
        if !(mean.is_finite() && mean <= MAX_MEAN_NS) {
            return Err(src.error(
                path,
                format!(
                    "this distribution's mean is {}: beyond {} days, no service or network takes that long; check its units",
                    if mean.is_finite() { format!("{:.3e} s", mean * 1e-9) } else { "infinite".into() },
                    (MAX_MEAN_NS / 86_400e9).round()
                ),
            ));
        }
        if !scv.is_finite() || scv > MAX_SCV {
            return Err(src.error(
                path,
                format!("this distribution's variance is {} times its squared mean: its tail is too heavy for any percentile to settle (at most {MAX_SCV:.0e}); narrow it (e.g. a smaller p99)", if scv.is_finite() { format!("{scv:.3e}") } else { "infinitely many".into() }),
            ));
        }
        Ok(dist)
    }

    fn compile_unchecked(&self, src: &Source, path: &KeyPath) -> Result<Dist, Diagnostic> {
        let err = |key: &str, msg: String| Err(src.error(&path.key(key), msg));
        let table = match self {
            DistSpec::Constant(v) => return Ok(Dist::Constant(*v)),
            DistSpec::Table(t) => t,
        };
        Ok(match table {
            DistTable::Constant { value } => Dist::Constant(value.0),
            DistTable::Exponential { mean } => {
                if mean.0 == 0 {
                    return err(
                        "mean",
                        "an exponential needs a mean above zero, e.g. \"1ms\"".into(),
                    );
                }
                Dist::Exponential {
                    mean: mean.0 as f64,
                }
            }
            DistTable::Lognormal {
                median,
                p99,
                mean,
                sd,
            } => match (median, p99, mean, sd) {
                (Some(m), Some(p), None, None) => {
                    if m.0 == 0 {
                        return err("median", "a lognormal needs a median above zero".into());
                    }
                    if p.0 < m.0 {
                        return err("p99", "p99 must be at least the median".into());
                    }
                    Dist::lognormal_median_p99(m.0 as f64, p.0 as f64)
                }
                (None, None, Some(m), Some(s)) => {
                    if m.0 == 0 {
                        return err("mean", "a lognormal needs a mean above zero".into());
                    }
                    Dist::lognormal_mean_sd(m.0 as f64, s.0 as f64)
                }
                _ => {
                    return Err(src.error(
                        path,
                        "a lognormal takes either `median` and `p99`, or `mean` and `sd` (exactly one pair)",
                    ));
                }
            },
            DistTable::Uniform { min, max } => {
                if max.0 < min.0 {
                    return err("max", "`max` must be at least `min`".into());
                }
                Dist::Uniform {
                    low: min.0,
                    high: max.0,
                }
            }
            DistTable::Histogram { edges, counts } => {
                if edges.len() < 2 || counts.len() + 1 != edges.len() {
                    return err(
                        "counts",
                        format!(
                            "a histogram needs n+1 `edges` for n `counts` (got {} edges, {} counts)",
                            edges.len(),
                            counts.len()
                        ),
                    );
                }
                if let Some(i) = edges.windows(2).position(|w| w[1].0 <= w[0].0) {
                    return Err(src.error(
                        &path.key("edges").index(i + 1),
                        "edges must increase strictly",
                    ));
                }
                if let Some(i) = counts.iter().position(|c| !c.is_finite() || *c < 0.0) {
                    return Err(src.error(
                        &path.key("counts").index(i),
                        "counts must be finite and not negative",
                    ));
                }
                let total = counts.iter().sum::<f64>();
                if total <= 0.0 {
                    return err("counts", "at least one count must be above zero".into());
                }
                if total.is_infinite() {
                    // Counts are relative: only their ratios matter.
                    return err(
                        "counts",
                        "the counts sum beyond the largest number: they are relative, so scale them down (e.g. to percentages)".into(),
                    );
                }
                Dist::histogram(edges.iter().map(|e| e.0).collect(), counts)
            }
            DistTable::Empirical { values } => {
                if values.is_empty() {
                    return err(
                        "values",
                        "an empirical distribution needs at least one value".into(),
                    );
                }
                Dist::Empirical {
                    values: values.iter().map(|v| v.0).collect(),
                }
            }
        })
    }
}
