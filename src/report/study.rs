//! A study's results: one [`PointResult`] per grid point (design x load x
//! parameters), each with its replications aggregated. `results.json` is this
//! type serialised; `ztsim plot` reads it back to redraw the charts, so it
//! holds everything the charts need and nothing that needs a rerun.

use serde::{Deserialize, Serialize};

use super::review::setup::Setup;
use super::slo::Slo;
use crate::config::{MAX_RESULTS_BYTES, read_regular};

pub use super::distributions::{
    CDF_QUANTILES, CDF_TAIL_REQUESTS, CdfPoint, EntryResult, SeriesPoint, cdf, entries, series,
};
use super::summary::Summary;

/// A grid point's coordinates.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Coordinates {
    /// Design name.
    pub design: String,
    /// Offered load, requests per second (open loop), or None (closed loop).
    pub rate_rps: Option<f64>,
    /// Other swept parameters as (path, value) in grid order.
    pub params: Vec<(String, String)>,
}

/// One grid point, all its replications.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointResult {
    /// Index in the grid (the order points are listed in).
    pub index: usize,
    /// Where in the grid.
    pub at: Coordinates,
    /// Seed its replications derived their streams from (for a point
    /// `same_as` another, that point's seed).
    pub seed: u64,
    /// The point (grid index) this one is the same system as: a swept
    /// parameter that does not apply left the configuration unchanged, so it
    /// did not run and its results are that point's, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<usize>,
    /// Swept parameters whose values differ among the points that are one
    /// system with this one: they do not apply to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applying: Vec<String>,
    /// Aggregated over replications (95% CIs), as `ztsim run` reports it.
    pub summary: Summary,
    /// One summary per replication (written keys once, figures as arrays:
    /// `report::replications`).
    #[serde(with = "super::replications")]
    pub replications: Vec<Summary>,
    /// Latency CDF, all replications pooled (empty when saturated).
    pub cdf: Vec<CdfPoint>,
    /// Time series averaged over replications.
    pub series: Vec<SeriesPoint>,
    /// The latency CDF and time series of each entry endpoint, when the
    /// workload has several (charts are drawn per entry); absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<EntryResult>,
}

/// Everything a study produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StudyResults {
    /// ztsim version that produced it.
    pub ztsim_version: String,
    /// Study name (its output folder).
    pub name: String,
    /// The question it answers, for chart titles and the report.
    pub title: String,
    /// Topology name.
    pub topology: String,
    /// Designs in the order the study lists them.
    pub designs: Vec<String>,
    /// Offered loads swept (requests per second), ascending.
    pub rates: Vec<f64>,
    /// The load at which per-design charts (CDF, CPU, attribution, time
    /// series) are drawn.
    pub focus_rate: Option<f64>,
    /// The latency charts blend every entry endpoint's requests (asked for
    /// with `blend_entries`); otherwise a workload with several entries is
    /// drawn one panel per entry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blend_entries: bool,
    /// Names of the swept parameters other than design and load.
    pub params: Vec<String>,
    /// Replications per point.
    pub replications: u32,
    /// Latency objectives the report judges points against.
    #[serde(default)]
    pub slos: Vec<Slo>,
    /// The topology's shape and the designs' parameters, for the report.
    #[serde(default)]
    pub setup: Option<Setup>,
    /// Set only in an interrupted sweep's results: the study's number of
    /// points, of which `points` holds those finished. `plot` and `report`
    /// say so on every chart and in the report, and a resume that finishes
    /// writes the results without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_of: Option<usize>,
    /// The points, in grid order.
    pub points: Vec<PointResult>,
}

/// Fixed leading columns of `results.csv`; then one column per swept
/// parameter, then [`SAME_COLUMNS`] (when parameters are swept), then
/// [`METRIC_COLUMNS`], then per-service and per-proxy
/// utilisation columns (`util_<name>`).
pub const LEAD_COLUMNS: [&str; 4] = ["point", "design", "rate_rps", "replication"];

/// Columns of `results.csv` after the swept parameters' (only when the
/// study sweeps any): the point whose results a row's point shares, being the
/// same system (empty for a point that ran), and the swept parameters that
/// do not apply to it (`;`-separated).
pub const SAME_COLUMNS: [&str; 2] = ["same_as", "not_applying"];

/// Metric columns of `results.csv`, in order.
pub const METRIC_COLUMNS: [&str; 34] = [
    "saturated",
    "requests",
    "failed_ratio",
    "offered_rps",
    "completed_rps",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "latency_max_ms",
    "internal_call_mean_ms",
    "internal_calls_per_request",
    "cpu_business_ms_per_request",
    "cpu_handshake_ms_per_request",
    "cpu_bulk_crypto_ms_per_request",
    "cpu_jwt_ms_per_request",
    "cpu_authz_ms_per_request",
    "cpu_proxy_ms_per_request",
    "connections_opened_per_request",
    "connection_waits_per_request",
    "handshakes_full_per_request",
    "handshakes_resumed_per_request",
    "handshakes_zero_rtt_per_request",
    "resumption_rate",
    "authz_decisions_per_request",
    "authz_cache_hit_rate",
    "jwt_verifications_per_request",
    "token_fetches_per_request",
    "rotations_per_s",
    "refused_per_request",
    "bottleneck",
    "seed",
];

/// `results.csv`: one row per point and replication, then per point a
/// `mean` row and a `ci95` row (half-widths; only with two or more
/// replications). Empty cells: not applicable (e.g. latency when saturated).
pub fn results_csv(results: &StudyResults) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let groups: Vec<String> = results
        .points
        .first()
        .map(|p| {
            p.summary
                .services
                .iter()
                .map(|s| s.name.clone())
                .chain(p.summary.proxies.iter().map(|x| x.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut header: Vec<String> = LEAD_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.extend(results.params.iter().map(|p| super::csv_text(p)));
    let swept = !results.params.is_empty();
    if swept {
        header.extend(SAME_COLUMNS.iter().map(|s| s.to_string()));
    }
    header.extend(METRIC_COLUMNS.iter().map(|s| s.to_string()));
    header.extend(
        groups
            .iter()
            .map(|g| super::csv_text(&format!("util_{}", g.replace(' ', "_")))),
    );
    w.write_record(&header)?;
    for p in &results.points {
        let lead = |rep: &str| -> Vec<String> {
            let mut v = vec![
                p.index.to_string(),
                super::csv_text(&p.at.design),
                p.at.rate_rps.map_or(String::new(), |r| format!("{r}")),
                rep.to_string(),
            ];
            v.extend(p.at.params.iter().map(|(_, val)| super::csv_text(val)));
            if swept {
                v.push(p.same_as.map_or(String::new(), |i| i.to_string()));
                v.push(super::csv_text(&p.not_applying.join(";")));
            }
            v
        };
        for (i, s) in p.replications.iter().enumerate() {
            let mut row = lead(&(i + 1).to_string());
            row.extend(metric_cells(s, p.seed, &groups, |e| Some(e.mean)));
            w.write_record(&row)?;
        }
        let mut row = lead("mean");
        row.extend(metric_cells(&p.summary, p.seed, &groups, |e| Some(e.mean)));
        w.write_record(&row)?;
        if p.replications.len() > 1 {
            let mut row = lead("ci95");
            row.extend(metric_cells(&p.summary, p.seed, &groups, |e| e.ci95));
            w.write_record(&row)?;
        }
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// The metric cells of one row, taking `pick` (mean or half-width) of each
/// estimate.
fn metric_cells(
    s: &Summary,
    seed: u64,
    groups: &[String],
    pick: impl Fn(&super::stats::Estimate) -> Option<f64>,
) -> Vec<String> {
    let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.6}"));
    let e = |x: &super::stats::Estimate| num(pick(x));
    let lat = s.requests.latency_ms.as_ref();
    let lat_cell = |f: fn(&super::summary::LatencySummary) -> &super::stats::Estimate| {
        lat.map_or(String::new(), |l| e(f(l)))
    };
    let k = &s.security;
    let mut cells = vec![
        s.saturated.is_some().to_string(),
        e(&s.requests.requests),
        e(&s.requests.failed_ratio),
        e(&s.throughput.offered_rps),
        e(&s.throughput.completed_rps),
        lat_cell(|l| &l.mean),
        lat_cell(|l| &l.p50),
        lat_cell(|l| &l.p90),
        lat_cell(|l| &l.p95),
        lat_cell(|l| &l.p99),
        lat_cell(|l| &l.p999),
        lat_cell(|l| &l.max),
        s.internal_calls
            .latency_ms_mean
            .as_ref()
            .map_or(String::new(), e),
        e(&s.internal_calls.per_request),
    ];
    cells.extend(s.cpu_per_request.iter().map(|c| e(&c.ms)));
    cells.extend([
        e(&k.connections_opened),
        e(&k.connection_waits),
        e(&k.handshakes_full),
        e(&k.handshakes_resumed),
        e(&k.handshakes_zero_rtt),
        k.resumption_rate.as_ref().map_or(String::new(), e),
        e(&k.authz_decisions),
        k.authz_cache_hit_rate.as_ref().map_or(String::new(), e),
        e(&k.jwt_verifications),
        e(&k.token_fetches),
        e(&k.rotations_per_s),
        k.refused.as_ref().map_or("0".into(), e),
        super::csv_text(
            s.saturated
                .as_ref()
                .and_then(|x| x.bottleneck.as_deref())
                .unwrap_or_default(),
        ),
        seed.to_string(),
    ]);
    for g in groups {
        let util = s
            .services
            .iter()
            .find(|x| &x.name == g)
            .map(|x| &x.utilisation)
            .or_else(|| {
                s.proxies
                    .iter()
                    .find(|x| &x.name == g)
                    .map(|x| &x.utilisation)
            });
        cells.push(util.map_or(String::new(), e));
    }
    cells
}

/// Writes `results.json` (compact, or indented if `pretty`) and
/// `results.csv` into `dir` (atomically).
pub fn write_results(
    dir: &std::path::Path,
    results: &StudyResults,
    pretty: bool,
) -> std::io::Result<()> {
    super::output::create_dir(dir)?;
    let json = if pretty {
        serde_json::to_string_pretty(results)
    } else {
        serde_json::to_string(results)
    }
    .map_err(std::io::Error::other)?;
    super::write_atomic(&dir.join("results.json"), format!("{json}\n").as_bytes())?;
    super::write_atomic(&dir.join("results.csv"), &results_csv(results)?)
}

/// Reads a `results.json` back (for `ztsim plot`).
pub fn read_results(path: &std::path::Path) -> Result<StudyResults, String> {
    let text =
        read_regular(path, MAX_RESULTS_BYTES).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a ztsim results.json: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// The highest swept load at which `design` (with parameters `params`) did
/// not saturate, if any.
pub fn highest_stable_rate(
    results: &StudyResults,
    design: &str,
    params: &[(String, String)],
) -> Option<f64> {
    results
        .points
        .iter()
        .filter(|p| p.at.design == design && p.at.params == params && p.summary.saturated.is_none())
        .filter_map(|p| p.at.rate_rps)
        .max_by(f64::total_cmp)
}

/// The point of `design` at `rate` (first parameter combination).
pub fn point_at<'r>(
    results: &'r StudyResults,
    design: &str,
    rate: Option<f64>,
) -> Option<&'r PointResult> {
    let first = results
        .points
        .first()
        .map(|p| p.at.params.clone())
        .unwrap_or_default();
    results
        .points
        .iter()
        .find(|p| p.at.design == design && p.at.rate_rps == rate && p.at.params == first)
}

/// A terminal overview: p99 by design (and parameters) and load, and the
/// highest stable load of each.
pub fn overview(results: &StudyResults) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} ({}): p99 latency in ms by offered load; SAT = saturated",
        results.title, results.topology
    );
    let rates: Vec<Option<f64>> = if results.rates.is_empty() {
        vec![None]
    } else {
        results.rates.iter().map(|&r| Some(r)).collect()
    };
    let mut header = format!("{:<36}", "design");
    for r in &rates {
        header += &format!(" {:>8}", r.map_or("-".into(), |r| format!("{r}")));
    }
    header += "   highest stable load";
    let _ = writeln!(out, "{header}");
    let mut rows: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for p in &results.points {
        let key = (p.at.design.clone(), p.at.params.clone());
        if !rows.contains(&key) {
            rows.push(key);
        }
    }
    // A row whose every point is the same system as another row's is that
    // row: shown once, its parameters that do not apply as `any`.
    rows.retain(|(d, ps)| !row_points(results, d, ps).all(|p| p.same_as.is_some()));
    for (design, params) in &rows {
        let mut label = design.clone();
        for (k, v) in params {
            let any = row_points(results, design, params).all(|p| p.not_applying.contains(k));
            label += &format!(", {k}={}", if any { "any" } else { v });
        }
        let mut line = format!("{label:<36}");
        for r in &rates {
            let cell = results
                .points
                .iter()
                .find(|p| &p.at.design == design && &p.at.params == params && p.at.rate_rps == *r)
                .map_or("-".to_string(), |p| match &p.summary.requests.latency_ms {
                    _ if p.summary.saturated.is_some() => "SAT".to_string(),
                    Some(l) => format!("{:.1}", l.p99.mean),
                    None => "-".to_string(),
                });
            line += &format!(" {cell:>8}");
        }
        let stable = highest_stable_rate(results, design, params)
            // A profile's mean rate is no round number: one decimal.
            .map_or("none".to_string(), |r| {
                if r.fract() == 0.0 {
                    format!("{r} rps")
                } else {
                    format!("{r:.1} rps")
                }
            });
        let _ = writeln!(out, "{line}   {stable}");
    }
    for note in same_system_notes(&sameness(results)) {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// The points of one row of the overview: a design with its parameters.
fn row_points<'a>(
    results: &'a StudyResults,
    design: &'a str,
    params: &'a [(String, String)],
) -> impl Iterator<Item = &'a PointResult> + 'a {
    results
        .points
        .iter()
        .filter(move |p| p.at.design == design && p.at.params == params)
}

/// A point as [`same_system_notes`] sees it: a study's point before it runs
/// or a result after.
#[derive(Debug, Clone, Copy)]
pub struct Sameness<'a> {
    /// Grid index.
    pub index: usize,
    /// Design name.
    pub design: &'a str,
    /// Swept parameters and values.
    pub params: &'a [(String, String)],
    /// The point it is the same system as, if any.
    pub same_as: Option<usize>,
    /// Swept parameters that do not apply to it.
    pub not_applying: &'a [String],
}

/// The points of `results` as [`same_system_notes`] sees them.
pub fn sameness(results: &StudyResults) -> Vec<Sameness<'_>> {
    results
        .points
        .iter()
        .map(|p| Sameness {
            index: p.index,
            design: &p.at.design,
            params: &p.at.params,
            same_as: p.same_as,
            not_applying: &p.not_applying,
        })
        .collect()
}

/// One line per design and set of parameters that do not apply to it, saying
/// which, how many of their values are one system, and whose seed that
/// system ran with, e.g. "plaintext: resumption.ticket_ttl does not apply;
/// its 3 values are one system, run once with the seed of
/// resumption.ticket_ttl=1m".
pub fn same_system_notes(points: &[Sameness]) -> Vec<String> {
    let mut size: std::collections::BTreeMap<usize, usize> = Default::default();
    for p in points {
        if let Some(j) = p.same_as {
            *size.entry(j).or_insert(1) += 1;
        }
    }
    let mut seen: Vec<(&str, &[String])> = Vec::new();
    let mut notes = Vec::new();
    for p in points.iter().filter(|p| p.same_as.is_none()) {
        let Some(&n) = size.get(&p.index) else {
            continue;
        };
        if seen.contains(&(p.design, p.not_applying)) {
            continue;
        }
        seen.push((p.design, p.not_applying));
        let values: Vec<String> = p
            .params
            .iter()
            .filter(|(k, _)| p.not_applying.contains(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        notes.push(match p.not_applying {
            [] => format!(
                "{}: {n} points with the same parameter values are one system, run once",
                p.design
            ),
            [one] => format!(
                "{}: {one} does not apply; its {n} values are one system, run once with the seed of {}",
                p.design,
                values.join(", ")
            ),
            several => format!(
                "{}: {} do not apply; their {n} combinations are one system, run once with the seed of {}",
                p.design,
                several.join(" and "),
                values.join(", ")
            ),
        });
    }
    notes
}

/// Where a study keeps its finished points while it runs.
pub fn points_dir(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("points")
}

/// What a study folder was started for: resuming into it requires the same.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// `Study::fingerprint()` of the study.
    pub fingerprint: String,
    /// Number of points in its grid.
    pub points: usize,
    /// Study name.
    pub name: String,
}

/// Starts (or restarts) the point store of a study folder.
pub fn write_manifest(dir: &std::path::Path, manifest: &Manifest) -> std::io::Result<()> {
    let pd = points_dir(dir);
    super::output::create_dir(&pd)?;
    let json = serde_json::to_string_pretty(manifest).map_err(std::io::Error::other)?;
    super::write_atomic(&pd.join("manifest.json"), json.as_bytes())
}

/// The manifest of a study folder, if it has one.
pub fn read_manifest(dir: &std::path::Path) -> Option<Manifest> {
    let text = read_regular(&points_dir(dir).join("manifest.json"), MAX_RESULTS_BYTES).ok()?;
    serde_json::from_str(&text).ok()
}

/// Saves one finished point, atomically (temporary file, then rename), so an
/// interrupted sweep keeps every point it finished and never half a point.
pub fn write_point(dir: &std::path::Path, point: &PointResult) -> std::io::Result<()> {
    let json = serde_json::to_string(point).map_err(std::io::Error::other)?;
    super::write_atomic(
        &points_dir(dir).join(format!("{:06}.json", point.index)),
        json.as_bytes(),
    )
}

/// The points saved in a study folder; once a study has finished, those of
/// its `results.json` (which holds them exactly; the saved points are
/// removed). Second, why each unreadable point file is: a resume simply
/// recomputes those points, a merge names the files.
pub fn read_points(dir: &std::path::Path) -> (Vec<PointResult>, Vec<String>) {
    let mut points = Vec::new();
    let mut unreadable = Vec::new();
    for path in saved_points(dir) {
        let at = path.display();
        let point = read_regular(&path, MAX_RESULTS_BYTES)
            .map_err(|e| format!("{at}: {e}"))
            .and_then(|text| {
                serde_json::from_str::<PointResult>(&text).map_err(|e| {
                    format!(
                        "{at}:{}:{}: not a valid point file: {e}",
                        e.line(),
                        e.column()
                    )
                })
            });
        match point {
            Ok(p) => points.push(p),
            Err(e) => unreadable.push(e),
        }
    }
    if points.is_empty() && unreadable.is_empty() {
        let points =
            read_results(&dir.join("results.json")).map_or_else(|_| Vec::new(), |r| r.points);
        return (points, unreadable);
    }
    points.sort_by_key(|p| p.index);
    (points, unreadable)
}

/// The files of saved points in a study folder (`NNNNNN.json`, as
/// [`write_point`] names them; not its manifest, nor anything else a user
/// put there). None through a planted link: `points/` must be a folder.
fn saved_points(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let pd = points_dir(dir);
    if !std::fs::symlink_metadata(&pd).is_ok_and(|m| m.is_dir()) {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(pd) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect()
}

/// Empties a study folder's point store for a fresh start: its saved points
/// and manifest, the only files ztsim writes there (anything else is the
/// user's and stays).
pub fn clear_point_store(dir: &std::path::Path) {
    remove_saved_points(dir);
    let pd = points_dir(dir);
    if std::fs::symlink_metadata(&pd).is_ok_and(|m| m.is_dir()) {
        let _ = std::fs::remove_file(pd.join("manifest.json"));
    }
}

/// Removes a finished study's saved points (its `results.json`, just
/// written, holds them exactly), keeping the manifest a resume checks.
pub fn remove_saved_points(dir: &std::path::Path) {
    for p in saved_points(dir) {
        let _ = std::fs::remove_file(p);
    }
}

impl StudyResults {
    /// "12 of 48 points" for an interrupted sweep's results.
    pub fn partial(&self) -> Option<String> {
        self.partial_of
            .map(|of| format!("{} of {of} points", self.points.len()))
    }

    /// Whether the latency charts are drawn one panel per entry endpoint:
    /// the workload has several and the study did not ask them blended.
    pub fn per_entry_charts(&self) -> bool {
        !self.blend_entries && self.points.iter().any(|p| p.entries.len() > 1)
    }

    /// Everything but the points, as JSON: what a shard stores of its study
    /// so that a merge rebuilds the results field for field, including
    /// fields added to this type later.
    pub fn metadata(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(StudyResults {
            points: Vec::new(),
            ..self.clone()
        })
        .expect("study results serialise to JSON");
        if let Some(map) = v.as_object_mut() {
            map.remove("points");
        }
        v
    }

    /// The results made of a study's [`metadata`](Self::metadata) and its
    /// points (in grid order).
    pub fn from_metadata(
        metadata: &serde_json::Value,
        points: Vec<PointResult>,
    ) -> Result<StudyResults, String> {
        let mut v = metadata.clone();
        let map = v
            .as_object_mut()
            .ok_or("the study's metadata is not a JSON object")?;
        map.insert("points".into(), serde_json::Value::Array(Vec::new()));
        let mut results: StudyResults =
            serde_json::from_value(v).map_err(|e| format!("the study's metadata: {e}"))?;
        results.points = points;
        Ok(results)
    }
}

/// The manifest of a shard result folder.
pub const SHARD_MANIFEST: &str = "shard.json";

/// `shard.json`: what a shard result folder holds. Its finished points are
/// in `points/` as in any study folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardManifest {
    /// ztsim version that wrote it; a merge needs the same.
    pub ztsim_version: String,
    /// Hash of the study's resolved inputs (every point's topology, design,
    /// coordinates and seed) and of its metadata: shards merge only with
    /// shards of the same fingerprint.
    pub fingerprint: String,
    /// Study name.
    pub name: String,
    /// This shard's index, 0-based.
    pub shard: usize,
    /// Number of shards the study is split into.
    pub shards: usize,
    /// Points in the whole study.
    pub study_points: usize,
    /// Grid indices of the points this shard owns, ascending.
    pub points: Vec<usize>,
    /// The command line that wrote the shard (`ztsim` first), to say how to
    /// finish it or run a missing one.
    pub command: Vec<String>,
    /// The study's results without the points ([`StudyResults::metadata`]).
    pub study: serde_json::Value,
}

/// Writes a shard result's manifest (atomically).
pub fn write_shard_manifest(
    dir: &std::path::Path,
    manifest: &ShardManifest,
) -> std::io::Result<()> {
    super::output::create_dir(dir)?;
    let json = serde_json::to_string_pretty(manifest).map_err(std::io::Error::other)?;
    super::write_atomic(&dir.join(SHARD_MANIFEST), format!("{json}\n").as_bytes())
}

/// The shard manifest of `dir`: `Ok(None)` when it has none, an error when
/// it has one that cannot be read.
pub fn read_shard_manifest(dir: &std::path::Path) -> Result<Option<ShardManifest>, String> {
    let path = dir.join(SHARD_MANIFEST);
    if let Err(e) = std::fs::symlink_metadata(&path)
        && e.kind() == std::io::ErrorKind::NotFound
    {
        return Ok(None);
    }
    let text =
        read_regular(&path, MAX_RESULTS_BYTES).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map(Some).map_err(|e| {
        format!(
            "{}:{}:{}: not a ztsim shard manifest: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// Two loads that are the same point of a grid (a profile's mean over the
/// window carries float noise).
pub fn same_rate(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

/// The focus load, at which the per-design charts are drawn and the report
/// speaks: the study's `focus_rate` if
/// some point has it; otherwise the highest load at which no design
/// saturated; otherwise the lowest load. None for closed-loop studies (points
/// without a rate), and when there are no points.
pub fn focus_rate(results: &StudyResults) -> Option<f64> {
    if let Some(f) = results.focus_rate
        && results
            .points
            .iter()
            .any(|p| same_rate(p.at.rate_rps, Some(f)))
    {
        return Some(f);
    }
    let mut rates: Vec<f64> = results
        .points
        .iter()
        .filter_map(|p| p.at.rate_rps)
        .filter(|r| r.is_finite())
        .collect();
    rates.sort_by(f64::total_cmp);
    rates.dedup_by(|a, b| same_rate(Some(*a), Some(*b)));
    let stable = rates.iter().rev().find(|&&r| {
        results
            .points
            .iter()
            .filter(|p| same_rate(p.at.rate_rps, Some(r)))
            .all(|p| p.summary.saturated.is_none())
    });
    stable.or(rates.first()).copied()
}
