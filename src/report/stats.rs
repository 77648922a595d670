//! Confidence intervals across replications (Student's t).

use serde::{Deserialize, Serialize};

/// Two-sided 95% Student t quantiles for 1..=30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// t quantile for a 95% two-sided interval with `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T95[df - 1],
        // Cornish-Fisher style correction of the normal quantile; within
        // 0.001 of the exact value beyond 30 degrees of freedom.
        _ => {
            let z: f64 = 1.959_964;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// Significant digits a confidence half-width keeps. From a handful of
/// replications the half-width is itself uncertain by tens of percent, so
/// more digits are noise; 17 of them were 6% of a study's `results.json`.
const CI_DIGITS: usize = 3;

/// `x` rounded to [`CI_DIGITS`] significant digits (as decimal text reads).
fn round_ci(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.*e}", CI_DIGITS - 1).parse().unwrap_or(x)
}

/// A figure over replications: its mean and the half-width of its 95%
/// confidence interval (null with a single replication), the half-width to
/// three significant digits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean over replications.
    pub mean: f64,
    /// Half-width of the 95% confidence interval; absent with one replication.
    pub ci95: Option<f64>,
}

/// An estimate as written: an object, or a bare number where a single
/// replication's figure has no interval (`results.json`'s replications).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawEstimate {
    Bare(f64),
    Full {
        mean: Option<f64>,
        ci95: Option<f64>,
    },
}

impl RawEstimate {
    /// The estimate, its mean NaN where `null` (not measured).
    pub(crate) fn estimate(self) -> Estimate {
        match self {
            RawEstimate::Bare(mean) => Estimate { mean, ci95: None },
            RawEstimate::Full { mean, ci95 } => Estimate {
                mean: mean.unwrap_or(f64::NAN),
                ci95,
            },
        }
    }
}

impl<'de> Deserialize<'de> for Estimate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match RawEstimate::deserialize(d)? {
            RawEstimate::Full { mean: None, .. } => Err(serde::de::Error::custom(
                "an estimate's mean must be a number",
            )),
            raw => Ok(raw.estimate()),
        }
    }
}

impl Estimate {
    /// From per-replication values (at least one).
    pub fn of(values: &[f64]) -> Estimate {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let ci95 = (n > 1).then(|| {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            round_ci(t95(n - 1) * (var / n as f64).sqrt())
        });
        Estimate { mean, ci95 }
    }

    /// `f` of each replication in `runs` (at least one), as an estimate.
    pub fn over<R>(runs: &[R], f: impl Fn(&R) -> f64) -> Estimate {
        Estimate::of(&runs.iter().map(f).collect::<Vec<_>>())
    }

    /// A figure that was not measured (NaN, no interval): judged undecided.
    pub fn unknown() -> Estimate {
        Estimate {
            mean: f64::NAN,
            ci95: None,
        }
    }

    /// Applies `f` to the mean and the half-width (a change of unit).
    pub fn scaled(self, factor: f64) -> Estimate {
        Estimate {
            mean: self.mean * factor,
            ci95: self.ci95.map(|c| round_ci(c * factor)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_a_hand_computation() {
        // mean 2, sample sd 1, n 3: half-width = 4.303 * 1 / sqrt(3).
        let e = Estimate::of(&[1.0, 2.0, 3.0]);
        assert_eq!(e.mean, 2.0);
        assert_eq!(e.ci95, Some(2.48)); // 4.303 / sqrt(3) = 2.4843...
        assert_eq!(Estimate::of(&[5.0]).ci95, None);
        // Three significant digits at any scale, written as short as that.
        let ci = |values: &[f64]| Estimate::of(values).ci95.unwrap();
        assert_eq!(ci(&[1e-6, 2e-6, 3e-6]), 2.48e-6);
        assert_eq!(ci(&[1000.0, 2000.0, 3000.0]), 2480.0);
        assert_eq!(ci(&[7.0, 7.0]), 0.0);
        assert_eq!(e.scaled(1e-3).ci95, Some(0.00248));
        assert_eq!(
            serde_json::to_string(&e.scaled(1e-3)).unwrap(),
            r#"{"mean":0.002,"ci95":0.00248}"#
        );
    }

    #[test]
    fn t_quantiles_are_continuous_past_the_table() {
        assert!((t95(31) - 2.040).abs() < 0.001);
        assert!((t95(1000) - 1.962).abs() < 0.001);
    }
}
