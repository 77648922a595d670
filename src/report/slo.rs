//! Verdicts of runs against service-level objectives. A verdict respects
//! the confidence interval over replications: a point meets an SLO only when
//! the whole interval is within it, and misses it only when the whole
//! interval is beyond it; otherwise the replications cannot tell.

use serde::{Deserialize, Serialize};

use super::stats::Estimate;
use super::summary::{LatencySummary, RequestSummary, Summary};

/// Share of an objective's requests that may fail before it is missed
/// whatever its latency: a latency that leaves out failed requests, or
/// counts them at their timeout, flatters the run.
const MAX_FAILED: f64 = 0.01;
pub use crate::model::slo::{Slo, Statistic};

impl Statistic {
    /// The figure in a latency summary.
    pub fn of(self, l: &LatencySummary) -> Estimate {
        match self {
            Statistic::Mean => l.mean,
            Statistic::P50 => l.p50,
            Statistic::P90 => l.p90,
            Statistic::P95 => l.p95,
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

    /// The requests it bounds in a run: all of them, or its entry
    /// endpoint's (None if the run has no such entry endpoint).
    pub fn scope<'a>(&self, s: &'a Summary) -> Option<&'a RequestSummary> {
        match &self.endpoint {
            None => Some(&s.requests),
            Some(name) => s.endpoints.iter().find(|e| &e.name == name),
        }
    }

    /// Its figure in a run, in ms (None when saturated or unmeasured).
    pub fn figure(&self, s: &Summary) -> Option<Estimate> {
        let l = self.scope(s)?.latency_ms.as_ref()?;
        Some(self.statistic.of(l))
    }

    /// Whether more than 1% of its requests failed in a run that did not
    /// saturate: it is then missed whatever its latency (which hides the
    /// timeouts).
    pub fn missed_by_failures(&self, s: &Summary) -> bool {
        s.saturated.is_none()
            && self
                .scope(s)
                .is_some_and(|r| r.failed_ratio.mean > MAX_FAILED)
    }

    /// The verdict on a run: a saturated run (or one whose bounded requests
    /// failed beyond 1%, whose latency hides timeouts) misses every SLO.
    pub fn verdict(&self, s: &Summary) -> Verdict {
        let Some(r) = self.scope(s) else {
            return Verdict::Missed;
        };
        if s.saturated.is_some() || self.missed_by_failures(s) {
            return Verdict::Missed;
        }
        match &r.latency_ms {
            Some(l) => self.judge(self.statistic.of(l)),
            None => Verdict::Missed,
        }
    }
}

/// The objective that binds in a run: the first one missed because its
/// requests failed, else the one with the least headroom ([`binding`]).
pub fn binding_in(slos: &[Slo], s: &Summary) -> Option<usize> {
    slos.iter()
        .position(|o| o.missed_by_failures(s))
        .or_else(|| {
            let figures: Vec<_> = slos.iter().map(|o| o.figure(s)).collect();
            binding(slos, &figures)
        })
}

/// The objective that binds among `slos` given each one's figure (in the
/// same order): the one with the least headroom, its figure's mean the
/// largest share of its limit (None when no figure is known).
pub fn binding(slos: &[Slo], figures: &[Option<Estimate>]) -> Option<usize> {
    slos.iter()
        .zip(figures)
        .enumerate()
        .filter_map(|(i, (s, f))| f.map(|e| (i, e.mean / s.limit_ms)))
        .filter(|(_, r)| r.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
}

/// Whether any of `slos` names an entry endpoint.
pub fn any_scoped(slos: &[Slo]) -> bool {
    slos.iter().any(|s| s.endpoint.is_some())
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

    #[test]
    fn results_without_a_p95_still_read_and_judge_it_unsure() {
        let e = r#"{"mean":1.0,"ci95":0.1}"#;
        let old = format!(r#"{{"mean":{e},"p50":{e},"p90":{e},"p99":{e},"p999":{e},"max":{e}}}"#);
        let l: LatencySummary = serde_json::from_str(&old).unwrap();
        assert!(l.p95.mean.is_nan());
        let p95 = Slo::parse("p95=5ms").unwrap();
        assert_eq!(p95.judge(Statistic::P95.of(&l)), Verdict::Unsure);
        // Written again (its mean null) and read back.
        let text = serde_json::to_string(&l).unwrap();
        assert!(
            text.contains(r#""p95":{"mean":null,"ci95":null}"#),
            "{text}"
        );
        let again: LatencySummary = serde_json::from_str(&text).unwrap();
        assert!(again.p95.mean.is_nan());
        assert_eq!(again.p99, l.p99);
    }

    #[test]
    fn the_binding_objective_has_the_least_headroom() {
        let slos = [
            Slo::parse("p99=100ms").unwrap(),
            Slo::parse("a.b:p99=10ms").unwrap(),
            Slo::parse("a.c:mean=5ms").unwrap(),
        ];
        // 60% of its limit, 90%, 80%: the second binds.
        let f = [
            Some(est(60.0, None)),
            Some(est(9.0, None)),
            Some(est(4.0, None)),
        ];
        assert_eq!(binding(&slos, &f), Some(1));
        // Unknown figures do not bind; ties go to the first listed.
        let f = [Some(est(50.0, None)), None, Some(est(2.5, None))];
        assert_eq!(binding(&slos, &f), Some(0));
        assert_eq!(binding(&slos, &[None, None, None]), None);
    }
}
