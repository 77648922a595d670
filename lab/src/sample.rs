//! Sampling: warm-up discarded, every loop bounded in count and in time, and
//! the summary of what was kept.

use std::time::{Duration, Instant};

use crate::LabError;

/// How much to measure for each figure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Samples kept per figure.
    pub samples: usize,
    /// Samples run first and discarded (caches, branch predictors, lazy
    /// initialisation in the libraries).
    pub warmup: usize,
    /// Wall-clock limit per figure; sampling stops early when it is reached.
    pub time_limit: Duration,
}

impl Budget {
    /// The full run: 1,000 samples per figure after 100 discarded.
    pub fn full() -> Budget {
        Budget {
            samples: 1_000,
            warmup: 100,
            time_limit: Duration::from_secs(20),
        }
    }

    /// `--quick`: 100 samples per figure after 10 discarded.
    pub fn quick() -> Budget {
        Budget {
            samples: 100,
            warmup: 10,
            time_limit: Duration::from_secs(2),
        }
    }
}

/// Fewest samples a figure may rest on, however short its time limit.
const MIN_SAMPLES: usize = 10;

/// The samples of one figure (nanoseconds each), summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Samples kept (after the warm-up).
    pub samples: usize,
    /// Arithmetic mean, ns.
    pub mean_ns: f64,
    /// Median, ns.
    pub median_ns: f64,
    /// 99th percentile (nearest rank), ns.
    pub p99_ns: f64,
    /// Smallest sample, ns.
    pub min_ns: f64,
}

impl Summary {
    /// Summarises samples in nanoseconds; None when there are none.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let rank = |q: f64| s[((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
        Some(Summary {
            samples: s.len(),
            mean_ns: s.iter().sum::<f64>() / s.len() as f64,
            median_ns: rank(0.5),
            p99_ns: rank(0.99),
            min_ns: s[0],
        })
    }

    /// The lognormal's sigma fitted through the median and p99
    /// (ln(p99 / median) / z(0.99)); 0 for a constant.
    pub fn lognormal_sigma(&self) -> f64 {
        (self.p99_ns / self.median_ns).ln().max(0.0) / 2.326_347_874
    }
}

/// Runs `once` for the warm-up, then until `budget.samples` are kept or the
/// time limit passes (with at least [`MIN_SAMPLES`] kept). Each call returns
/// the nanoseconds it measured, so it times exactly its own work.
pub fn measure(
    budget: &Budget,
    mut once: impl FnMut() -> Result<f64, LabError>,
) -> Result<Summary, LabError> {
    let start = Instant::now();
    for _ in 0..budget.warmup {
        once()?;
        if start.elapsed() > budget.time_limit / 4 {
            break;
        }
    }
    let mut kept = Vec::with_capacity(budget.samples);
    let start = Instant::now();
    while kept.len() < budget.samples
        && (kept.len() < MIN_SAMPLES.min(budget.samples) || start.elapsed() < budget.time_limit)
    {
        kept.push(once()?);
    }
    Summary::of(&kept).ok_or_else(|| LabError("no samples were requested".into()))
}

/// A reading of this thread's CPU clock (CLOCK_THREAD_CPUTIME_ID): the time
/// the thread itself ran, so a figure measured while other processes share
/// the cores counts the work and not the time it waited to be scheduled.
/// Elsewhere than on Unix, the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuTime(u64);

impl CpuTime {
    #[cfg(unix)]
    pub(crate) fn now() -> CpuTime {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a
        // constant every Unix libc defines.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        debug_assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is always available");
        CpuTime(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
    }

    #[cfg(not(unix))]
    pub(crate) fn now() -> CpuTime {
        use std::sync::OnceLock;
        static START: OnceLock<Instant> = OnceLock::new();
        CpuTime(START.get_or_init(Instant::now).elapsed().as_nanos() as u64)
    }
}

/// This thread's CPU nanoseconds since `t`.
pub(crate) fn since(t: CpuTime) -> f64 {
    CpuTime::now().0.saturating_sub(t.0) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_ranks_are_nearest_rank() {
        let v: Vec<f64> = (1..=200).map(f64::from).collect();
        let s = Summary::of(&v).unwrap();
        assert_eq!((s.median_ns, s.p99_ns, s.min_ns), (100.0, 198.0, 1.0));
        assert!((s.mean_ns - 100.5).abs() < 1e-9);
    }

    #[test]
    fn sampling_stops_at_the_count_and_discards_the_warmup() {
        let mut calls = 0;
        let b = Budget {
            samples: 50,
            warmup: 5,
            time_limit: Duration::from_secs(5),
        };
        let s = measure(&b, || {
            calls += 1;
            Ok(f64::from(calls))
        })
        .unwrap();
        assert_eq!(calls, 55);
        assert_eq!(s.samples, 50);
        assert_eq!(s.min_ns, 6.0);
    }
}
