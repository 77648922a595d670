//! Axes: [`Axis`], a plotters coordinate with its own tick placement and
//! labels (linear, logarithmic, categories, fixed labels), and the number
//! format of ticks and notes ([`fmt_num`]).

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::text::text_width;

#[derive(Debug, Clone)]
pub(crate) enum Scale {
    Linear {
        decimals: usize,
    },
    Log,
    Category(Vec<String>),
    /// Linear, with the tick labels given.
    Fixed(Vec<(f64, String)>),
}

/// A numeric axis with its own tick placement and labels. Log axes hold
/// log10 of the data; [`Axis::to`] converts.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) scale: Scale,
    pub(crate) ticks: Vec<f64>,
    pub(crate) minor: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = (value - self.lo) / (self.hi - self.lo);
        let p = f64::from(limit.0) + f * f64::from(limit.1 - limit.0);
        if p.is_finite() {
            p.round().clamp(-100_000.0, 100_000.0) as i32
        } else {
            limit.0
        }
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

pub(crate) fn nice_step(span: f64, target: f64) -> f64 {
    let raw = span / target;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * mag)
}

/// Shortest readable form: up to three significant digits, no trailing zeros.
pub(crate) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let decimals = if a >= 100.0 || a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i64).clamp(0, 9) as usize
    };
    trim_zeros(format!("{v:.decimals$}"))
}

pub(crate) fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" { "0".into() } else { t.into() }
    } else {
        s
    }
}

/// One rule for every chart: a log scale once the figures span more than a
/// decade, where a linear one would crush the low lines into the floor.
pub(crate) const LOG_SPAN: f64 = 10.0;

impl Axis {
    /// Linear over `lo..hi`, ticks at round steps; `snap` widens the range to
    /// whole steps.
    pub(crate) fn linear(lo: f64, hi: f64, snap: bool) -> Axis {
        let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
            (lo.min(hi), lo.max(hi))
        } else {
            (0.0, 1.0)
        };
        if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo, hi) = if lo >= 0.0 && lo - d < 0.0 {
                (0.0, hi + d)
            } else {
                (lo - d, hi + d)
            };
        }
        let step = nice_step(hi - lo, 6.0);
        if snap {
            lo = (lo / step).floor() * step;
            hi = (hi / step).ceil() * step;
        }
        let first = (lo / step - 1e-9).ceil() as i64;
        let last = (hi / step + 1e-9).floor() as i64;
        let ticks: Vec<f64> = (first..=last.min(first + 40))
            .map(|k| k as f64 * step)
            .collect();
        let minor = (first - 1..=last.min(first + 40))
            .map(|k| (k as f64 + 0.5) * step)
            .filter(|t| *t > lo && *t < hi)
            .collect();
        let decimals = (-(step.log10().floor()) as i64
            + i64::from(step / 10f64.powf(step.log10().floor()) == 2.5))
        .clamp(0, 9) as usize;
        Axis {
            lo,
            hi,
            scale: Scale::Linear { decimals },
            ticks,
            minor,
        }
    }

    /// Logarithmic over the positive `lo..hi` (data units).
    pub(crate) fn log(lo: f64, hi: f64) -> Axis {
        let (lo, hi) = if lo > 0.0 && hi.is_finite() && lo.is_finite() {
            (lo.min(hi), lo.max(hi))
        } else {
            (1.0, 10.0)
        };
        let (a, b) = (lo.log10(), hi.log10());
        let pad = ((b - a) * 0.04).max(0.03);
        let (tlo, thi) = (a - pad, b + pad);
        let decades = thi - tlo;
        let mults: &[f64] = if decades > 5.0 {
            &[1.0]
        } else if decades > 1.3 {
            &[1.0, 2.0, 5.0]
        } else {
            // About a decade: 6, 8 and 9 crowd the decade's top label (90
            // and 100 overlapped), and 1.5 labels a curve just above it.
            &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0]
        };
        let k0 = tlo.floor() as i64;
        let k1 = (thi.ceil() as i64).min(k0 + 60);
        let grid = |ms: &[f64]| -> Vec<f64> {
            (k0..=k1)
                .flat_map(|k| ms.iter().map(move |m| m.log10() + k as f64))
                .filter(|t| *t >= tlo && *t <= thi)
                .collect()
        };
        let mut ticks = grid(mults);
        if ticks.len() > 12 {
            let keep = ticks.len().div_ceil(10);
            ticks = ticks.into_iter().step_by(keep).collect();
        }
        if ticks.len() < 3 {
            // A narrow range: round linear steps, placed on the log axis.
            let (dlo, dhi) = (10f64.powf(tlo), 10f64.powf(thi));
            let step = nice_step(dhi - dlo, 5.0);
            ticks = ((dlo / step).ceil() as i64..=(dhi / step).floor() as i64)
                .map(|k| k as f64 * step)
                .filter(|v| *v > 0.0)
                .map(f64::log10)
                .collect();
        }
        let minor = if decades <= 5.0 {
            grid(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
        } else {
            Vec::new()
        };
        Axis {
            lo: tlo,
            hi: thi,
            scale: Scale::Log,
            ticks,
            minor,
        }
    }

    /// Linear from zero (or log when the positive values span more than
    /// [`LOG_SPAN`]), with headroom above the largest value.
    pub(crate) fn values(values: &[f64], zero_based: bool, headroom: f64) -> Axis {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let (min, max) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if v.is_empty() {
            return Axis::linear(0.0, 1.0, true);
        }
        if min > 0.0 && max / min > LOG_SPAN {
            return Axis::log(min, max);
        }
        let lo = if zero_based { min.min(0.0) } else { min };
        Axis::linear(lo, max + (max - lo).abs() * headroom, true)
    }

    /// Like [`Axis::values`], the log-or-linear choice made on `decide`
    /// alone and the range covering `range` too.
    pub(crate) fn scaled(decide: &[f64], range: &[f64], headroom: f64) -> Axis {
        let pos = |v: &[f64]| -> (f64, f64) {
            v.iter()
                .copied()
                .filter(|x| x.is_finite() && *x > 0.0)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                })
        };
        let (dmin, dmax) = pos(decide);
        let (_, rmax) = pos(range);
        if !dmin.is_finite() {
            return Axis::linear(0.0, 1.0, true);
        }
        let max = dmax.max(rmax);
        if dmax / dmin > LOG_SPAN {
            Axis::log(dmin, max)
        } else {
            Axis::linear(0.0, max * (1.0 + headroom), true)
        }
    }

    /// `n` categories, the first at the top.
    pub(crate) fn categories(names: Vec<String>) -> Axis {
        let n = names.len().max(1) as f64;
        Axis {
            lo: 0.0,
            hi: n,
            ticks: (0..names.len()).map(|i| n - i as f64 - 0.5).collect(),
            minor: Vec::new(),
            scale: Scale::Category(names),
        }
    }

    /// Centre of category `i`.
    pub(crate) fn slot(&self, i: usize) -> f64 {
        self.hi - i as f64 - 0.5
    }

    pub(crate) fn is_log(&self) -> bool {
        matches!(self.scale, Scale::Log)
    }

    /// Data value to axis coordinate.
    pub(crate) fn to(&self, v: f64) -> f64 {
        if self.is_log() {
            if v > 0.0 { v.log10() } else { self.lo - 1.0 }
        } else {
            v
        }
    }

    /// Axis coordinate back to data value.
    pub(crate) fn from(&self, t: f64) -> f64 {
        if self.is_log() { 10f64.powf(t) } else { t }
    }

    /// Clamps a data value into the axis' range (for bands and bars).
    pub(crate) fn clamp(&self, v: f64) -> f64 {
        self.to(v).clamp(self.lo, self.hi)
    }

    pub(crate) fn label(&self, t: f64) -> String {
        match &self.scale {
            Scale::Linear { decimals } => trim_zeros(format!("{t:.decimals$}")),
            Scale::Log => fmt_num(10f64.powf(t)),
            Scale::Fixed(labels) => labels
                .iter()
                .find(|(v, _)| (v - t).abs() < 1e-6)
                .map(|(_, l)| l.clone())
                .unwrap_or_default(),
            Scale::Category(names) => {
                let i = (self.hi - 0.5 - t).round();
                if i >= 0.0 && (self.hi - 0.5 - t - i).abs() < 0.25 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
        }
    }

    /// The widest tick label in pixels at `size`.
    pub(crate) fn label_width(&self, size: f64) -> u32 {
        self.ticks
            .iter()
            .map(|t| text_width(&self.label(*t), size))
            .max()
            .unwrap_or(0)
    }
}
