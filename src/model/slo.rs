//! Service-level objectives on end-to-end latency (`p99=50ms`): what users
//! write on the command line and in study files. Verdicts of runs against
//! them live in `report::slo`, beside the summaries they judge.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::units;

/// Which latency figure an SLO bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// Mean latency.
    Mean,
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
}

/// The names accepted for each statistic, for parsing and messages.
const STATISTICS: [(&str, Statistic); 6] = [
    ("mean", Statistic::Mean),
    ("p50", Statistic::P50),
    ("p90", Statistic::P90),
    ("p99", Statistic::P99),
    ("p999", Statistic::P999),
    ("p99.9", Statistic::P999),
];

impl Statistic {
    /// Its name as written in an SLO.
    pub fn name(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::P50 => "p50",
            Statistic::P90 => "p90",
            Statistic::P99 => "p99",
            Statistic::P999 => "p99.9",
        }
    }
}

/// An objective on the end-to-end latency of user requests (all entry
/// endpoints together): `statistic <= limit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// The bounded figure.
    pub statistic: Statistic,
    /// The bound in milliseconds.
    pub limit_ms: f64,
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} <= {}",
            self.statistic.name(),
            units::format_nanos(self.limit_ms * 1e6)
        )
    }
}

/// Several SLOs as one phrase: `p99 <= 50 ms, mean <= 10 ms`.
pub fn list(slos: &[Slo]) -> String {
    slos.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Slo {
    /// Parses `p99=50ms` (also `p99<=50ms`, `mean=2.5ms`, `p99.9=1s`).
    pub fn parse(text: &str) -> Result<Slo, String> {
        let valid = "write STATISTIC=LIMIT with STATISTIC one of mean, p50, p90, p99, p99.9 (or p999) and LIMIT a duration, e.g. p99=50ms";
        let (stat, limit) = text
            .split_once("<=")
            .or_else(|| text.split_once('='))
            .ok_or_else(|| format!("`{text}` is not an SLO; {valid}"))?;
        let stat = stat.trim().to_ascii_lowercase();
        let statistic = STATISTICS
            .iter()
            .find(|(n, _)| *n == stat)
            .map(|&(_, s)| s)
            .ok_or_else(|| format!("`{stat}` is not a latency statistic; {valid}"))?;
        let ns = units::parse_duration(limit.trim())
            .map_err(|e| format!("`{}` in `{text}`: {e}; {valid}", limit.trim()))?;
        if ns == 0 {
            return Err(format!("`{text}`: a limit of zero cannot be met; {valid}"));
        }
        Ok(Slo {
            statistic,
            limit_ms: ns as f64 * 1e-6,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_users_write() {
        let s = Slo::parse("p99=50ms").unwrap();
        assert_eq!(s.statistic, Statistic::P99);
        assert!((s.limit_ms - 50.0).abs() < 1e-12);
        assert_eq!(Slo::parse("P99.9<=1s").unwrap().statistic, Statistic::P999);
        assert!((Slo::parse("mean = 2.5ms").unwrap().limit_ms - 2.5).abs() < 1e-12);
        assert_eq!(Slo::parse("p99=50ms").unwrap().to_string(), "p99 <= 50 ms");
    }

    #[test]
    fn refuses_what_is_not_an_slo() {
        for bad in ["p99", "p98=5ms", "p99=50", "p99=fast", "p99=0ms", "=5ms"] {
            let e = Slo::parse(bad).unwrap_err();
            assert!(e.contains("p99=50ms"), "{bad}: {e}");
        }
    }
}
