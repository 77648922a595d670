//! Distributions of durations (CPU demand, RTT, think time), compiled from
//! their configured form into what sampling needs.

use rand::RngCore;
use rand_distr::{Distribution, StandardNormal};

use crate::engine::rng::unit_f64;
use crate::units::Nanos;

/// z such that P(Z <= z) = 0.99 for a standard normal: links a lognormal's
/// median and p99.
pub const Z_P99: f64 = 2.326_347_874_040_841;

/// A distribution of non-negative durations in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Constant(Nanos),
    /// Exponential with the given mean (ns).
    Exponential {
        /// Mean in nanoseconds.
        mean: f64,
    },
    /// exp(N(mu, sigma^2)), in nanoseconds.
    LogNormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Uniform on [low, high].
    Uniform {
        /// Smallest value.
        low: Nanos,
        /// Largest value.
        high: Nanos,
    },
    /// A histogram: a bin is picked by weight, then a value uniformly inside it.
    Histogram {
        /// Bin edges, ascending; bin i is [edges[i], edges[i+1]).
        edges: Vec<Nanos>,
        /// Cumulative bin weights normalised to end at 1.
        cumulative: Vec<f64>,
    },
    /// Observed values, each equally likely (e.g. from traces).
    Empirical {
        /// The values.
        values: Vec<Nanos>,
    },
}

impl Dist {
    /// The zero-cost distribution.
    pub const ZERO: Dist = Dist::Constant(0);

    /// Whether this is [`Dist::ZERO`] (cheaper than `==`, which compares
    /// whole distributions: it is asked once per call).
    #[inline]
    pub fn is_zero(&self) -> bool {
        matches!(self, Dist::Constant(0))
    }

    /// A lognormal with the given median and 99th percentile (p99 >= median).
    pub fn lognormal_median_p99(median: f64, p99: f64) -> Dist {
        Dist::LogNormal {
            mu: median.ln(),
            sigma: (p99 / median).ln() / Z_P99,
        }
    }

    /// A lognormal with the given mean and standard deviation.
    pub fn lognormal_mean_sd(mean: f64, sd: f64) -> Dist {
        let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
        Dist::LogNormal {
            mu: mean.ln() - sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        }
    }

    /// A histogram from bin edges and (unnormalised, non-negative) counts.
    pub fn histogram(edges: Vec<Nanos>, counts: &[f64]) -> Dist {
        let total: f64 = counts.iter().sum();
        let mut acc = 0.0;
        let cumulative = counts
            .iter()
            .map(|c| {
                acc += c;
                acc / total
            })
            .collect();
        Dist::Histogram { edges, cumulative }
    }

    /// Draws one value.
    #[inline]
    pub fn sample(&self, rng: &mut impl RngCore) -> Nanos {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => round(-mean * (1.0 - unit_f64(rng)).ln()),
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                round((mu + sigma * z).exp())
            }
            Dist::Uniform { low, high } => {
                low + round(unit_f64(rng) * (high - low) as f64).min(high - low)
            }
            Dist::Histogram { edges, cumulative } => {
                let u = unit_f64(rng);
                let bin = cumulative
                    .partition_point(|&c| c <= u)
                    .min(cumulative.len() - 1);
                let (lo, hi) = (edges[bin], edges[bin + 1]);
                lo + round(unit_f64(rng) * (hi - lo) as f64).min(hi - lo)
            }
            Dist::Empirical { values } => {
                let i = (unit_f64(rng) * values.len() as f64) as usize;
                values[i.min(values.len() - 1)]
            }
        }
    }

    /// The exact mean in nanoseconds.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v as f64,
            Dist::Exponential { mean } => *mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Uniform { low, high } => (*low as f64 + *high as f64) / 2.0,
            Dist::Histogram { edges, cumulative } => {
                let mut prev = 0.0;
                cumulative
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| {
                        let w = c - prev;
                        prev = c;
                        w * (edges[i] as f64 + edges[i + 1] as f64) / 2.0
                    })
                    .sum()
            }
            Dist::Empirical { values } => {
                values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64
            }
        }
    }

    /// The squared coefficient of variation (variance / mean^2), which the
    /// queueing formulas need; 0 for a constant.
    pub fn scv(&self) -> f64 {
        let m = self.mean();
        if m == 0.0 {
            return 0.0;
        }
        let second = match self {
            Dist::Constant(v) => (*v as f64).powi(2),
            Dist::Exponential { mean } => 2.0 * mean * mean,
            Dist::LogNormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            Dist::Uniform { low, high } => {
                let (a, b) = (*low as f64, *high as f64);
                (a * a + a * b + b * b) / 3.0
            }
            Dist::Histogram { edges, cumulative } => {
                let mut prev = 0.0;
                cumulative
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| {
                        let w = c - prev;
                        prev = c;
                        let (a, b) = (edges[i] as f64, edges[i + 1] as f64);
                        w * (a * a + a * b + b * b) / 3.0
                    })
                    .sum()
            }
            Dist::Empirical { values } => {
                values.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / values.len() as f64
            }
        };
        second / (m * m) - 1.0
    }
}

/// Nearest nanosecond of a non-negative duration. `x + 0.5` truncated is
/// round-half-up for x >= 0 without a libm call (`f64::round` is one on
/// baseline x86-64); the float-to-int cast saturates, so a huge tail draw caps
/// at u64::MAX rather than wrapping, and NaN becomes 0.
#[inline]
pub fn round(x: f64) -> Nanos {
    (x + 0.5) as Nanos
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::call_rng;

    fn moments(d: &Dist, n: usize) -> (f64, f64) {
        let mut r = call_rng(11);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut r) as f64).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        (m, v / (m * m))
    }

    #[test]
    fn sample_moments_match_the_closed_forms() {
        let cases = [
            Dist::Exponential { mean: 1e6 },
            Dist::lognormal_mean_sd(2e6, 1e6),
            Dist::lognormal_median_p99(1e6, 5e6),
            Dist::Uniform {
                low: 1000,
                high: 3000,
            },
            Dist::histogram(vec![0, 1000, 4000], &[1.0, 3.0]),
            Dist::Empirical {
                values: vec![10, 20, 60],
            },
        ];
        for d in &cases {
            let (m, scv) = moments(d, 400_000);
            assert!(
                (m / d.mean() - 1.0).abs() < 0.01,
                "{d:?}: mean {m} vs {}",
                d.mean()
            );
            assert!(
                (scv - d.scv()).abs() < 0.03 + 0.03 * d.scv(),
                "{d:?}: scv {scv} vs {}",
                d.scv()
            );
        }
    }

    #[test]
    fn lognormal_parameterisations_hit_their_targets() {
        let d = Dist::lognormal_mean_sd(3e6, 1.5e6);
        assert!((d.mean() - 3e6).abs() < 1.0);
        assert!((d.scv() - 0.25).abs() < 1e-9);
        if let Dist::LogNormal { mu, sigma } = Dist::lognormal_median_p99(1e6, 4e6) {
            assert!((mu.exp() - 1e6).abs() < 1e-3);
            assert!(((mu + sigma * Z_P99).exp() - 4e6).abs() < 1e-3);
        } else {
            unreachable!()
        }
    }

    #[test]
    fn constant_is_exact() {
        let mut r = call_rng(1);
        assert_eq!(Dist::Constant(1234).sample(&mut r), 1234);
        assert_eq!(Dist::Constant(1234).scv(), 0.0);
    }
}
