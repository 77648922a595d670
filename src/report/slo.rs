//! Service-level objectives on end-to-end latency (`p99=50ms`) and the
//! verdict of a run against them. A verdict respects the confidence
//! interval over replications: a point meets an SLO only when the whole
//! interval is within it, and misses it only when the whole interval is
//! beyond it; otherwise the replications cannot tell.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::stats::Estimate;
use super::summary::{LatencySummary, Summary};
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

    /// The figure in a latency summary.
    pub fn of(self, l: &LatencySummary) -> Estimate {
        match self {
            Statistic::Mean => l.mean,
            Statistic::P50 => l.p50,
            Statistic::P90 => l.p90,
            Statistic::P99 => l.p99,
            Statistic::P999 => l.p999,
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

/// What the replications say about a point against an SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The whole 95% interval is within the limit.
    Met,
    /// The whole interval is beyond the limit, or the point saturated.
    Missed,
    /// The interval straddles the limit (or there is no interval: one
    /// replication): more replications would tell.
    Unsure,
}

impl Slo {
    /// The verdict on an estimate of the bounded figure, in ms.
    pub fn judge(&self, e: Estimate) -> Verdict {
        let Some(half) = e.ci95 else {
            return Verdict::Unsure;
        };
        if e.mean + half <= self.limit_ms {
            Verdict::Met
        } else if e.mean - half > self.limit_ms {
            Verdict::Missed
        } else {
            Verdict::Unsure
        }
    }

    /// The verdict on a run: a saturated run (or one with failed requests
    /// beyond 1%, whose latency hides timeouts) misses every SLO.
    pub fn verdict(&self, s: &Summary) -> Verdict {
        if s.saturated.is_some() || s.requests.failed_ratio.mean > 0.01 {
            return Verdict::Missed;
        }
        match &s.requests.latency_ms {
            Some(l) => self.judge(self.statistic.of(l)),
            None => Verdict::Missed,
        }
    }
}

/// The verdict on a run against every SLO: met only if each is met, missed
/// if any is missed.
pub fn verdict_all(slos: &[Slo], s: &Summary) -> Verdict {
    let vs: Vec<Verdict> = slos.iter().map(|o| o.verdict(s)).collect();
    if vs.contains(&Verdict::Missed) {
        Verdict::Missed
    } else if vs.iter().all(|&v| v == Verdict::Met) {
        Verdict::Met
    } else {
        Verdict::Unsure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, ci95: Option<f64>) -> Estimate {
        Estimate { mean, ci95 }
    }

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

    #[test]
    fn a_verdict_needs_the_whole_interval() {
        let s = Slo::parse("p99=10ms").unwrap();
        assert_eq!(s.judge(est(9.0, Some(0.5))), Verdict::Met);
        assert_eq!(s.judge(est(9.0, Some(1.0))), Verdict::Met);
        assert_eq!(s.judge(est(9.0, Some(1.5))), Verdict::Unsure);
        assert_eq!(s.judge(est(11.0, Some(0.5))), Verdict::Missed);
        assert_eq!(s.judge(est(10.5, Some(1.0))), Verdict::Unsure);
        assert_eq!(s.judge(est(1.0, None)), Verdict::Unsure);
    }
}
