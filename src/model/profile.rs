//! A time-varying open-loop rate: a piecewise-linear function of simulated
//! time from the start of the run (warm-up included), holding its first
//! value before its first point and its last value after its last point.
//! Arrivals under it are a non-homogeneous Poisson process, generated
//! exactly by inverting the cumulative rate ([`Cursor::next`]).

use std::sync::Arc;

use crate::units::{NANOS_PER_SEC, Nanos};

/// Hours and relative rates of the `"daily"` shape, before normalisation to
/// a mean of 1 over the day: night trough, morning ramp to a plateau,
/// evening peak, back down at midnight. Linear between these points and
/// repeating every 24 hours.
pub const DAILY: [(u64, f64); 9] = [
    (0, 0.45),
    (4, 0.3),
    (6, 0.35),
    (9, 1.1),
    (12, 1.15),
    (17, 1.2),
    (20, 1.6),
    (22, 1.2),
    (24, 0.45),
];

/// Most points a profile may have (a daily shape repeated over 100 days is
/// about 800).
pub const MAX_POINTS: usize = 100_000;

const HOUR: Nanos = 3600 * NANOS_PER_SEC;

/// A piecewise-linear rate profile (requests per second against time).
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    /// (time from the start of the run in ns, rate), times non-decreasing
    /// (two equal times make a step); the first at time 0; never empty.
    points: Arc<[(Nanos, f64)]>,
}

impl RateProfile {
    /// The profile through `points` (checked by `config`: non-empty, times
    /// non-decreasing, rates finite and not negative). A first point after
    /// time 0 is held back to 0.
    pub fn new(points: &[(Nanos, f64)]) -> Self {
        let mut v = Vec::with_capacity(points.len() + 1);
        if points[0].0 > 0 {
            v.push((0, points[0].1));
        }
        v.extend_from_slice(points);
        Self { points: v.into() }
    }

    /// The daily shape scaled to a mean of `mean` over each day, repeated
    /// for `days` days from time 0.
    pub fn daily(mean: f64, days: u64) -> Self {
        let norm = daily_mean();
        let mut v = Vec::with_capacity(days as usize * DAILY.len());
        for d in 0..days.max(1) {
            for (i, &(h, r)) in DAILY.iter().enumerate() {
                if d > 0 && i == 0 {
                    continue;
                }
                v.push(((d * 24 + h) * HOUR, r / norm * mean));
            }
        }
        Self { points: v.into() }
    }

    /// Its points (the first at time 0).
    pub fn points(&self) -> &[(Nanos, f64)] {
        &self.points
    }

    /// The rate at `t` (after a step, the later value).
    pub fn at(&self, t: Nanos) -> f64 {
        let p = &self.points;
        let k = p.partition_point(|&(pt, _)| pt <= t);
        if k == p.len() {
            return p[k - 1].1;
        }
        // k >= 1: the first point is at 0 <= t.
        let (t0, r0) = p[k - 1];
        let (t1, r1) = p[k];
        r0 + (r1 - r0) * (t - t0) as f64 / (t1 - t0) as f64
    }

    /// Expected arrivals in [a, b): the integral of the rate.
    pub fn integral(&self, a: Nanos, b: Nanos) -> f64 {
        if b <= a {
            return 0.0;
        }
        let mut total = 0.0;
        let p = &self.points;
        for w in p.windows(2) {
            let (lo, hi) = (w[0].0.max(a), w[1].0.min(b));
            if hi > lo {
                total += (self.at_segment(w, lo) + self.at_segment(w, hi)) / 2.0 * secs(hi - lo);
            }
        }
        let (tl, rl) = p[p.len() - 1];
        if b > tl.max(a) {
            total += rl * secs(b - tl.max(a));
        }
        total
    }

    /// The mean rate over [a, b) (the rate at `a` if the span is empty).
    pub fn mean(&self, a: Nanos, b: Nanos) -> f64 {
        if b <= a {
            self.at(a)
        } else {
            self.integral(a, b) / secs(b - a)
        }
    }

    /// The highest rate anywhere.
    pub fn peak(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(0.0, f64::max)
    }

    /// The same shape with every rate multiplied by `k`.
    pub fn scaled(&self, k: f64) -> Self {
        Self {
            points: self.points.iter().map(|&(t, r)| (t, r * k)).collect(),
        }
    }

    fn at_segment(&self, w: &[(Nanos, f64)], t: Nanos) -> f64 {
        let ((t0, r0), (t1, r1)) = (w[0], w[1]);
        r0 + (r1 - r0) * (t - t0) as f64 / (t1 - t0) as f64
    }
}

/// The mean of [`DAILY`] over its 24 hours (trapezoids).
pub fn daily_mean() -> f64 {
    let area: f64 = DAILY
        .windows(2)
        .map(|w| (w[0].1 + w[1].1) / 2.0 * (w[1].0 - w[0].0) as f64)
        .sum();
    area / 24.0
}

fn secs(ns: Nanos) -> f64 {
    ns as f64 / NANOS_PER_SEC as f64
}

/// Where a replication's arrival process is along its profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cursor {
    /// The segment (index of its first point) holding the last arrival.
    segment: usize,
    /// The last arrival, seconds since the start (kept unrounded).
    t: f64,
}

impl Cursor {
    /// The next arrival after the last one, given `e`, a draw of the unit
    /// exponential (the cumulative rate between two arrivals of a
    /// non-homogeneous Poisson process is Exp(1)); None if the rate stays
    /// at zero from here on, or past `horizon`.
    pub fn next(&mut self, profile: &RateProfile, mut e: f64, horizon: Nanos) -> Option<Nanos> {
        let p = profile.points();
        loop {
            let (t0, r0) = p[self.segment];
            let start = secs(t0);
            let x0 = self.t - start;
            let Some(&(t1, r1)) = p.get(self.segment + 1) else {
                // The last value, held for ever.
                if r0 <= 0.0 {
                    return None;
                }
                self.t += e / r0;
                break;
            };
            let len = secs(t1 - t0);
            let b = if len > 0.0 { (r1 - r0) / len } else { 0.0 };
            let rate_x0 = r0 + b * x0;
            // Arrivals expected from here to the segment's end.
            let rest = (rate_x0 + r1) / 2.0 * (len - x0).max(0.0);
            if e > rest || len == 0.0 || rest == 0.0 {
                e -= rest.min(e);
                self.segment += 1;
                self.t = secs(t1);
                continue;
            }
            // Solve rate_x0 * d + b / 2 * d^2 = e for d >= 0, in the form
            // that does not cancel when b is small or negative.
            let disc = (rate_x0 * rate_x0 + 2.0 * b * e).max(0.0);
            let d = 2.0 * e / (rate_x0 + disc.sqrt());
            self.t = (self.t + d.min(len - x0)).max(self.t);
            break;
        }
        let ns = self.t * NANOS_PER_SEC as f64;
        (ns.is_finite() && ns <= horizon as f64).then(|| ns.round() as Nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_is_exact_on_a_ramp_and_a_hold() {
        let p = RateProfile::new(&[(0, 100.0), (10 * NANOS_PER_SEC, 300.0)]);
        assert!((p.integral(0, 10 * NANOS_PER_SEC) - 2000.0).abs() < 1e-9);
        assert!((p.integral(10 * NANOS_PER_SEC, 20 * NANOS_PER_SEC) - 3000.0).abs() < 1e-9);
        assert!((p.at(5 * NANOS_PER_SEC) - 200.0).abs() < 1e-9);
        assert!((p.mean(0, 20 * NANOS_PER_SEC) - 250.0).abs() < 1e-9);
    }

    #[test]
    fn a_step_takes_the_later_value() {
        let s = NANOS_PER_SEC;
        let p = RateProfile::new(&[(s, 10.0), (5 * s, 10.0), (5 * s, 50.0)]);
        assert_eq!(p.points()[0], (0, 10.0));
        assert_eq!(p.at(5 * s), 50.0);
        assert!((p.integral(0, 10 * s) - 300.0).abs() < 1e-9);
    }

    #[test]
    fn the_daily_shape_averages_its_rate() {
        let p = RateProfile::daily(200.0, 2);
        let day = 24 * HOUR;
        assert!((p.mean(0, day) - 200.0).abs() < 1e-9);
        assert!((p.mean(day, 2 * day) - 200.0).abs() < 1e-9);
        assert_eq!(p.points().len(), 2 * DAILY.len() - 1);
    }

    #[test]
    fn the_cursor_inverts_the_cumulative_rate() {
        // Unit steps of cumulative rate land where the integral says.
        let s = NANOS_PER_SEC;
        let p = RateProfile::new(&[(0, 0.0), (10 * s, 0.0), (20 * s, 2.0), (20 * s, 0.0)]);
        let mut c = Cursor::default();
        let mut n = 0;
        while let Some(t) = c.next(&p, 1.0, u64::MAX) {
            n += 1;
            assert!(
                (p.integral(0, t) - n as f64).abs() < 1e-6,
                "arrival {n} at {t}"
            );
        }
        assert_eq!(n, 10);
    }
}
