//! Verdicts of runs against service-level objectives. A verdict respects
//! the confidence interval over replications: a point meets an SLO only when
//! the whole interval is within it, and misses it only when the whole
//! interval is beyond it; otherwise the replications cannot tell.

use serde::{Deserialize, Serialize};

use super::stats::Estimate;
use super::summary::{LatencySummary, Summary};
pub use crate::model::slo::{Slo, Statistic};

impl Statistic {
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
