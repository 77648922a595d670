//! The results of a sensitivity analysis (`ztsim sensitivity`): what each
//! variation measured, the knobs ranked by their effect on p99 latency and
//! on capacity, and their terminal table, `sensitivity.csv` and
//! `sensitivity.json` (fields documented in `output/README.md`).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::slo::Slo;
use super::stats::Estimate;
use super::words;

/// A parameter left out of the analysis, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// Parameter path.
    pub path: String,
    /// Why it does not apply to the base design.
    pub why: String,
}

/// A capacity measured for one variation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityOutcome {
    /// Highest rate found to meet the SLOs (or, by saturation rate, at which
    /// the bottleneck reaches 100%); None if not even the lowest rate tried.
    pub rps: Option<f64>,
    /// How far the true capacity may be from `rps`: the search's bracket or
    /// the estimate's 95% interval.
    pub uncertainty_rps: Option<f64>,
    /// What limits it: the busiest service or proxy group.
    pub bottleneck: Option<String>,
}

/// What one variation (or the base design) measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// p99 end-to-end latency in ms over replications; null when saturated.
    pub p99_ms: Option<Estimate>,
    /// p99 of each replication, in ms (for paired comparisons).
    pub p99_ms_replications: Vec<f64>,
    /// The bottleneck when the run saturated.
    pub saturated: Option<String>,
    /// Capacity, when an SLO was given.
    pub capacity: Option<CapacityOutcome>,
}

/// A knob's effect on one figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// Largest minus smallest of the figure over the low, base and high
    /// variations (|high - low| when the base lies between them); null when
    /// fewer than two of them have the figure.
    pub spread: Option<f64>,
    /// Some variation saturates (or has no capacity) where another does not:
    /// an effect larger than any spread.
    pub saturates: bool,
    /// Half-width of the 95% interval of the spread (paired over
    /// replications for latency; the search bracket for capacity).
    pub noise: Option<f64>,
    /// The spread is no larger than its noise; null when there is no
    /// interval (one replication).
    pub within_noise: Option<bool>,
    /// 1 for the largest effect.
    pub rank: usize,
}

/// The three outcomes of a knob, in order low, base, high.
fn three<'a>(low: &'a Outcome, base: &'a Outcome, high: &'a Outcome) -> [&'a Outcome; 3] {
    [low, base, high]
}

impl Effect {
    fn from_values(values: [Option<f64>; 3]) -> (Option<f64>, Option<(usize, usize)>, bool) {
        let present: Vec<(usize, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.filter(|x| x.is_finite()).map(|x| (i, x)))
            .collect();
        let saturates = !present.is_empty() && present.len() < 3;
        if present.len() < 2 {
            return (None, None, saturates);
        }
        // First extreme wins ties, so the result does not depend on float noise order.
        let mut lo = present[0];
        let mut hi = present[0];
        for &p in &present[1..] {
            if p.1 < lo.1 {
                lo = p;
            }
            if p.1 > hi.1 {
                hi = p;
            }
        }
        (Some(hi.1 - lo.1), Some((lo.0, hi.0)), saturates)
    }

    /// The effect on p99: the spread, and its noise from the paired
    /// per-replication differences between the extreme variations (common
    /// random numbers make them far tighter than the two intervals apart).
    pub fn p99(low: &Outcome, base: &Outcome, high: &Outcome) -> Effect {
        let os = three(low, base, high);
        let values = os.map(|o| o.p99_ms.map(|e| e.mean));
        let (spread, ends, saturates) = Effect::from_values(values);
        let noise = ends.and_then(|(a, b)| {
            let (x, y) = (&os[a].p99_ms_replications, &os[b].p99_ms_replications);
            if x.len() != y.len() || x.len() < 2 {
                return None;
            }
            let d: Vec<f64> = x.iter().zip(y).map(|(p, q)| q - p).collect();
            Estimate::of(&d).ci95
        });
        Effect {
            spread,
            saturates,
            noise,
            within_noise: match (spread, noise) {
                (Some(s), Some(n)) if !saturates => Some(s <= n),
                (_, _) if saturates => Some(false),
                _ => None,
            },
            rank: 0,
        }
    }

    /// The effect on capacity, if capacities were measured; its noise is the
    /// widest uncertainty of the variations compared.
    pub fn capacity(low: &Outcome, base: &Outcome, high: &Outcome) -> Option<Effect> {
        let os = three(low, base, high);
        let caps: Vec<&CapacityOutcome> = os.iter().filter_map(|o| o.capacity.as_ref()).collect();
        if caps.len() < 3 {
            return None;
        }
        let values = [caps[0].rps, caps[1].rps, caps[2].rps];
        let (spread, ends, saturates) = Effect::from_values(values);
        let noise = ends.map(|(a, b)| {
            caps[a]
                .uncertainty_rps
                .unwrap_or(0.0)
                .max(caps[b].uncertainty_rps.unwrap_or(0.0))
        });
        Some(Effect {
            spread,
            saturates,
            noise,
            within_noise: match (spread, noise) {
                _ if saturates => Some(false),
                (Some(s), Some(n)) => Some(s <= n),
                _ => None,
            },
            rank: 0,
        })
    }

    /// Larger effects first: saturation, then the spread (none last).
    fn order(&self, other: &Effect) -> std::cmp::Ordering {
        other.saturates.cmp(&self.saturates).then_with(|| {
            let key = |e: &Effect| e.spread.unwrap_or(f64::NEG_INFINITY);
            key(other).total_cmp(&key(self))
        })
    }
}

/// One knob: its settings, what each measured, and its effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnobResult {
    /// Parameter path.
    pub path: String,
    /// "numeric", "choice" or "explicit" (from --param).
    pub kind: String,
    /// Value in the base design.
    pub base_value: String,
    /// The low setting (first alternative for a choice).
    pub low_value: String,
    /// The high setting (second alternative, or the only one).
    pub high_value: String,
    /// Measured at the low setting.
    pub low: Outcome,
    /// Measured at the high setting.
    pub high: Outcome,
    /// Effect on p99 latency, ms.
    pub p99: Effect,
    /// Effect on capacity, rps (with an SLO).
    pub capacity: Option<Effect>,
}

/// Everything `sensitivity.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityResults {
    /// Version of ztsim that wrote it.
    pub ztsim_version: String,
    /// Topology name.
    pub topology: String,
    /// Base design name.
    pub design: String,
    /// Offered load of every latency run, rps.
    pub rate_rps: f64,
    /// Replications per run.
    pub replications: u32,
    /// The seed every variation shares.
    pub seed: u64,
    /// Warm-up, seconds.
    pub warmup_s: f64,
    /// Measured duration, seconds (null with a request count).
    pub duration_s: Option<f64>,
    /// Measured requests per replication (absent with a duration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// SLOs the capacity is measured against.
    pub slos: Vec<Slo>,
    /// How capacity was measured (null without an SLO).
    pub capacity_method: Option<String>,
    /// The base design's outcome.
    pub base: Outcome,
    /// Knobs, largest p99 effect first.
    pub knobs: Vec<KnobResult>,
    /// Parameters left out, with why.
    pub skipped: Vec<Skipped>,
}

impl SensitivityResults {
    /// Sorts the knobs by p99 effect (ties by path) and numbers both ranks.
    pub fn rank(&mut self) {
        self.knobs
            .sort_by(|a, b| a.p99.order(&b.p99).then_with(|| a.path.cmp(&b.path)));
        for (i, k) in self.knobs.iter_mut().enumerate() {
            k.p99.rank = i + 1;
        }
        let mut order: Vec<usize> = (0..self.knobs.len())
            .filter(|&i| self.knobs[i].capacity.is_some())
            .collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.knobs[a], &self.knobs[b]);
            let (ex, ey) = (x.capacity.as_ref(), y.capacity.as_ref());
            ex.zip(ey)
                .map_or(std::cmp::Ordering::Equal, |(ex, ey)| ex.order(ey))
                .then_with(|| x.path.cmp(&y.path))
        });
        for (r, i) in order.into_iter().enumerate() {
            if let Some(c) = self.knobs[i].capacity.as_mut() {
                c.rank = r + 1;
            }
        }
    }

    /// The knobs in capacity order.
    pub fn by_capacity(&self) -> Vec<&KnobResult> {
        let mut v: Vec<&KnobResult> = self.knobs.iter().filter(|k| k.capacity.is_some()).collect();
        v.sort_by_key(|k| k.capacity.as_ref().map_or(usize::MAX, |c| c.rank));
        v
    }
}

/// Columns of `sensitivity.csv`.
pub const CSV_COLUMNS: [&str; 26] = [
    "rank_p99",
    "parameter",
    "kind",
    "base_value",
    "low_value",
    "high_value",
    "p99_base_ms",
    "p99_low_ms",
    "p99_low_ci95",
    "p99_high_ms",
    "p99_high_ci95",
    "low_saturated",
    "high_saturated",
    "p99_spread_ms",
    "p99_noise_ms",
    "p99_saturates",
    "p99_within_noise",
    "rank_capacity",
    "capacity_base_rps",
    "capacity_low_rps",
    "capacity_high_rps",
    "capacity_spread_rps",
    "capacity_noise_rps",
    "capacity_saturates",
    "capacity_within_noise",
    "bottleneck_low_high",
];

fn num(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or(String::new(), |x| format!("{x:.decimals$}"))
}

fn opt_bool(b: Option<bool>) -> String {
    b.map_or(String::new(), |b| b.to_string())
}

/// `sensitivity.csv`: one row per knob, in p99 rank order.
pub fn csv(r: &SensitivityResults) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)?;
    let cap = |o: &Outcome| o.capacity.as_ref().and_then(|c| c.rps);
    for k in &r.knobs {
        let c = k.capacity.as_ref();
        let bottleneck = |o: &Outcome| {
            o.capacity
                .as_ref()
                .and_then(|c| c.bottleneck.clone())
                .or_else(|| o.saturated.clone())
                .unwrap_or_default()
        };
        w.write_record([
            k.p99.rank.to_string(),
            super::csv_text(&k.path),
            super::csv_text(&k.kind),
            super::csv_text(&k.base_value),
            super::csv_text(&k.low_value),
            super::csv_text(&k.high_value),
            num(r.base.p99_ms.map(|e| e.mean), 6),
            num(k.low.p99_ms.map(|e| e.mean), 6),
            num(k.low.p99_ms.and_then(|e| e.ci95), 6),
            num(k.high.p99_ms.map(|e| e.mean), 6),
            num(k.high.p99_ms.and_then(|e| e.ci95), 6),
            k.low.saturated.is_some().to_string(),
            k.high.saturated.is_some().to_string(),
            num(k.p99.spread, 6),
            num(k.p99.noise, 6),
            k.p99.saturates.to_string(),
            opt_bool(k.p99.within_noise),
            c.map_or(String::new(), |c| c.rank.to_string()),
            num(cap(&r.base), 3),
            num(cap(&k.low), 3),
            num(cap(&k.high), 3),
            num(c.and_then(|c| c.spread), 3),
            num(c.and_then(|c| c.noise), 3),
            c.map_or(String::new(), |c| c.saturates.to_string()),
            opt_bool(c.and_then(|c| c.within_noise)),
            super::csv_text(&format!("{} / {}", bottleneck(&k.low), bottleneck(&k.high))),
        ])?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn ms(e: Option<Estimate>, saturated: &Option<String>) -> String {
    match (e, saturated) {
        (Some(e), _) => match e.ci95 {
            Some(c) => format!("{:.2} ±{:.2}", e.mean, c),
            None => format!("{:.2}", e.mean),
        },
        (None, Some(_)) => "saturated".into(),
        (None, None) => "-".into(),
    }
}

fn verdict(e: &Effect) -> &'static str {
    match e.within_noise {
        _ if e.saturates => "saturates",
        Some(true) => "within noise",
        Some(false) => "",
        None => "(no CI)",
    }
}

/// A saturating knob's spread over the runs that did not saturate says
/// nothing of its effect: shown as a dash.
fn spread_text(e: &Effect, decimals: usize) -> String {
    if e.saturates {
        "-".into()
    } else {
        num(e.spread, decimals)
    }
}

fn noise_text(e: &Effect, decimals: usize) -> String {
    if e.saturates {
        "-".into()
    } else {
        num(e.noise, decimals)
    }
}

fn cap_text(o: &Outcome) -> String {
    o.capacity
        .as_ref()
        .and_then(|c| c.rps)
        .map_or("none".into(), |v| format!("{v:.0}"))
}

/// Widths of the table's parameter and value columns.
struct Columns {
    width: usize,
    vw: usize,
}

impl Columns {
    fn of(r: &SensitivityResults) -> Columns {
        let width = r
            .knobs
            .iter()
            .map(|k| k.path.len())
            .max()
            .unwrap_or(9)
            .max(9);
        let vw = r
            .knobs
            .iter()
            .map(|k| k.low_value.len().max(k.high_value.len()))
            .max()
            .unwrap_or(4)
            .clamp(4, 28);
        Columns { width, vw }
    }

    /// A setting cut to the value column.
    fn clip(&self, s: &str) -> String {
        if s.chars().count() > self.vw {
            s.chars().take(self.vw - 1).collect::<String>() + "…"
        } else {
            s.to_string()
        }
    }
}

/// The terminal table: the knobs ranked by p99 effect, then (with an SLO)
/// by capacity effect, then the parameters left out.
pub fn table(r: &SensitivityResults, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sensitivity of {} under {} at {} rps: {}, {} each on seed {}; base p99 {} ms",
        r.topology,
        r.design,
        r.rate_rps,
        words::count(r.knobs.len(), "knob"),
        words::count(r.replications as usize, "replication"),
        r.seed,
        ms(r.base.p99_ms, &r.base.saturated)
    );
    let cols = Columns::of(r);
    p99_rows(&mut out, r, top, &cols);
    capacity_rows(&mut out, r, top, &cols);
    skipped_rows(&mut out, r);
    out
}

fn p99_rows(out: &mut String, r: &SensitivityResults, top: usize, cols: &Columns) {
    let (width, vw) = (cols.width, cols.vw);
    let _ = writeln!(
        out,
        "\n{:>4}  {:<width$}  {:>vw$}  {:>vw$}  {:>16}  {:>16}  {:>9}  {:>7}  note",
        "rank", "parameter", "low", "high", "p99 low ms", "p99 high ms", "spread", "noise"
    );
    let shown = r.knobs.len().min(top);
    for k in &r.knobs[..shown] {
        let _ = writeln!(
            out,
            "{:>4}  {:<width$}  {:>vw$}  {:>vw$}  {:>16}  {:>16}  {:>9}  {:>7}  {}",
            k.p99.rank,
            k.path,
            cols.clip(&k.low_value),
            cols.clip(&k.high_value),
            ms(k.low.p99_ms, &k.low.saturated),
            ms(k.high.p99_ms, &k.high.saturated),
            spread_text(&k.p99, 2),
            noise_text(&k.p99, 2),
            verdict(&k.p99)
        );
    }
    if shown < r.knobs.len() {
        let quiet = r.knobs[shown..]
            .iter()
            .filter(|k| k.p99.within_noise == Some(true))
            .count();
        let _ = writeln!(
            out,
            "      ... and {} more ({quiet} of them within noise): sensitivity.csv has them all",
            r.knobs.len() - shown
        );
    }
}

fn capacity_rows(out: &mut String, r: &SensitivityResults, top: usize, cols: &Columns) {
    let (width, vw) = (cols.width, cols.vw);
    let caps = r.by_capacity();
    if caps.is_empty() {
        return;
    }
    let slos = crate::model::slo::list(&r.slos);
    let _ = writeln!(
        out,
        "\ncapacity, the highest rate meeting {} ({}): base {} rps",
        slos,
        r.capacity_method.as_deref().unwrap_or(""),
        cap_text(&r.base)
    );
    let _ = writeln!(
        out,
        "{:>4}  {:<width$}  {:>vw$}  {:>vw$}  {:>9}  {:>9}  {:>9}  {:>7}  note",
        "rank", "parameter", "low", "high", "low rps", "high rps", "spread", "noise"
    );
    for k in caps.iter().take(top) {
        let c = k.capacity.as_ref().expect("filtered on capacity");
        let _ = writeln!(
            out,
            "{:>4}  {:<width$}  {:>vw$}  {:>vw$}  {:>9}  {:>9}  {:>9}  {:>7}  {}",
            c.rank,
            k.path,
            cols.clip(&k.low_value),
            cols.clip(&k.high_value),
            cap_text(&k.low),
            cap_text(&k.high),
            spread_text(c, 0),
            noise_text(c, 0),
            verdict(c)
        );
    }
}

fn skipped_rows(out: &mut String, r: &SensitivityResults) {
    if r.skipped.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nnot varied:");
    let mut whys: Vec<&str> = Vec::new();
    for s in &r.skipped {
        if !whys.contains(&s.why.as_str()) {
            whys.push(&s.why);
        }
    }
    for why in whys {
        let paths: Vec<&str> = r
            .skipped
            .iter()
            .filter(|s| s.why == why)
            .map(|s| s.path.as_str())
            .collect();
        let _ = writeln!(out, "  {}: {why}", paths.join(", "));
    }
}

/// Writes `sensitivity.csv` and `sensitivity.json` into `dir` (created if
/// missing), each atomically; returns the paths written. The tornado charts
/// beside them are `crate::charts::tornado`'s.
pub fn write(r: &SensitivityResults, dir: &Path) -> io::Result<Vec<PathBuf>> {
    super::output::create_dir(dir)?;
    let csv_path = dir.join("sensitivity.csv");
    super::write_atomic(&csv_path, &csv(r)?)?;
    let json_path = dir.join("sensitivity.json");
    let json = serde_json::to_string_pretty(r).map_err(io::Error::other)?;
    super::write_atomic(&json_path, format!("{json}\n").as_bytes())?;
    Ok(vec![csv_path, json_path])
}
