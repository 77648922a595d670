//! The time series of a run: what each interval of simulated time saw,
//! and how wide the intervals are. A run's series aims at about 600
//! intervals whatever its length, so its memory stays flat.

use super::interval::IntervalLatency;
use super::topology::{Window, Workload};
use crate::units::{NANOS_PER_SEC, Nanos};

/// One interval of the time series (the whole run, warm-up included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesBucket {
    /// User requests finished in the interval.
    pub requests: u64,
    /// ... of which failed.
    pub failed: u64,
    /// Sum of their latencies (ns).
    pub latency_sum: u64,
    /// Slowest of them (ns).
    pub latency_max: u64,
    /// Connections opened in the interval.
    pub connections_opened: u64,
    /// Full handshakes in the interval.
    pub handshakes_full: u64,
    /// The latencies of its requests, for its p99.
    pub latency: IntervalLatency,
}

impl SeriesBucket {
    /// Adds a finished request.
    pub fn record(&mut self, latency: Nanos, ok: bool) {
        self.requests += 1;
        self.failed += u64::from(!ok);
        self.latency_sum += latency;
        self.latency_max = self.latency_max.max(latency);
        self.latency.record(latency);
    }
}

/// Most intervals a run's series aims at: a longer run takes coarser ones.
pub const SERIES_INTERVALS: u64 = 600;

/// Interval widths (s) a long run's series chooses from, the first that
/// keeps it within [`SERIES_INTERVALS`].
const LONG_INTERVALS_S: [u64; 12] = [2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/// The time a run's series is sized for: a window of time's warm-up and
/// window; a window of requests', its warm-up and the time its open-loop
/// arrivals take to send them at their rate, at least 20 s (a closed loop's
/// is not known ahead: 20 s). Sized for 20 s, 10 million requests at 1,500
/// per second kept 6,667 one-second intervals per entry (tens of MB).
pub(crate) fn series_span(w: &Workload) -> Nanos {
    match w.window {
        Window::Duration(d) => w.warmup.saturating_add(d),
        Window::Requests(n) => {
            let sending = w.arrivals.rate().filter(|&r| r > 0.0).map_or(0, |r| {
                // Saturating: a float past the range converts to its end.
                (n as f64 / r * NANOS_PER_SEC as f64) as Nanos
            });
            w.warmup.saturating_add(sending).max(20 * NANOS_PER_SEC)
        }
    }
}

/// Width of the series' intervals: a twentieth of runs shorter than 20 s,
/// one second up to [`SERIES_INTERVALS`] seconds, then the first of 2 s,
/// 5 s, 10 s, 15 s, 30 s, 1 min, 2 min, 5 min, 10 min, 15 min, 30 min and
/// 1 h that keeps the run within that many intervals (a 24-hour run: 5 min).
/// The run's length is [`series_span`].
pub fn series_interval(w: &Workload) -> Nanos {
    let span = series_span(w);
    if span <= SERIES_INTERVALS * NANOS_PER_SEC {
        return (span / 20).clamp(1_000_000, NANOS_PER_SEC);
    }
    let s = LONG_INTERVALS_S
        .iter()
        .copied()
        .find(|&s| span <= SERIES_INTERVALS * s * NANOS_PER_SEC)
        .unwrap_or(3600);
    s * NANOS_PER_SEC
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_take_coarser_intervals() {
        use crate::model::topology::Arrivals;
        let w = |d: u64| Workload {
            arrivals: Arrivals::Poisson { rate: 1.0 },
            entries: vec![],
            client_zone: 0,
            client_cores: None,
            client_cpu: crate::model::dist::Dist::ZERO,
            client_cpu_off_path: crate::model::dist::Dist::ZERO,
            client_pauses: None,
            warmup: 0,
            window: Window::Duration(d * NANOS_PER_SEC),
            timeout: None,
            stop_when_saturated: true,
            seed: 1,
            replications: 1,
            recording: None,
        };
        assert_eq!(series_interval(&w(10)), NANOS_PER_SEC / 2);
        assert_eq!(series_interval(&w(600)), NANOS_PER_SEC);
        assert_eq!(series_interval(&w(3600)), 10 * NANOS_PER_SEC);
        assert_eq!(series_interval(&w(86_400)), 300 * NANOS_PER_SEC);
        assert_eq!(series_interval(&w(100 * 86_400)), 3600 * NANOS_PER_SEC);
        // A window of requests: as long as its arrivals take to send them.
        let n = |n: u64, arrivals: Arrivals| Workload {
            window: Window::Requests(n),
            arrivals,
            ..w(0)
        };
        let poisson = |rate| Arrivals::Poisson { rate };
        assert_eq!(
            series_interval(&n(100_000, poisson(1_000.0))),
            NANOS_PER_SEC
        );
        assert_eq!(series_interval(&n(1_000, poisson(1_000.0))), NANOS_PER_SEC);
        assert_eq!(
            series_interval(&n(10_000_000, poisson(1_500.0))),
            15 * NANOS_PER_SEC
        );
        assert_eq!(
            series_interval(&n(u64::MAX, poisson(1e-9))),
            3600 * NANOS_PER_SEC
        );
        let closed = Arrivals::Closed {
            users: 10,
            think: crate::model::dist::Dist::ZERO,
        };
        assert_eq!(series_span(&n(10_000_000, closed)), 20 * NANOS_PER_SEC);
        let warm = Workload {
            warmup: 3_600 * NANOS_PER_SEC,
            ..n(1_000, poisson(1_000.0))
        };
        assert_eq!(series_interval(&warm), 10 * NANOS_PER_SEC);
    }
}
