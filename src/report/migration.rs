//! What `ztsim migrate` finds: each step of a rollout from one design to
//! another, at each rate, as plain data (`study::migrate` fills it in), and
//! its table, `migration.json` and `migration.csv` (one row per step, rate
//! and entry endpoint).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::slo::{Slo, Verdict};
use super::stats::Estimate;
use super::{csv_text, safe_name, write_atomic};

/// A rollout, step by step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Migration {
    /// Topology name.
    pub topology: String,
    /// The design every service runs before the first step.
    pub from: String,
    /// The design every service runs after the last.
    pub to: String,
    /// The objectives each step is judged against (all requests together).
    pub slos: Vec<Slo>,
    /// How the order was formed, in words.
    pub order: String,
    /// Why no order keeps every step within the SLOs, when `--order auto`
    /// found none (the steps are then the default order's).
    pub note: Option<String>,
    /// Step 0 (nothing moved) to the last (everything moved, strict).
    pub steps: Vec<Step>,
}

/// One step: what has moved so far, and how the system does at each rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// 0 for the starting point.
    pub index: u32,
    /// The services or namespaces this step moves (empty for step 0).
    pub moves: Vec<String>,
    /// Services under the target design after this step.
    pub moved: Vec<String>,
    /// Of them, those in strict mode (every caller has moved).
    pub strict: Vec<String>,
    /// The step at each rate, ascending.
    pub at: Vec<StepAt>,
}

/// One step at one offered rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepAt {
    /// Offered rate, requests per second.
    pub rate_rps: f64,
    /// Replications run (more when the first could not decide).
    pub replications: u32,
    /// Against every SLO together.
    pub verdict: Verdict,
    /// Whether the run saturated.
    pub saturated: bool,
    /// Each SLO's figure over all requests, in `slos` order (null when
    /// saturated).
    pub figures_ms: Vec<Option<Estimate>>,
    /// Each entry endpoint, in the workload's order.
    pub entries: Vec<EntryAt>,
    /// Highest rate meeting the SLOs: the capacity search's, or the cheaper
    /// bound (this rate over the busiest group's utilisation: where it
    /// would saturate), as `capacity` says.
    pub capacity_rps: Option<f64>,
    /// "search" or "bound" (or "none").
    pub capacity: String,
    /// Cores deployed (services, sidecars, policy sidecars, node proxies,
    /// waypoints).
    pub cores: f64,
    /// ... more than at step 0.
    pub cores_added: f64,
    /// Busy cores (CPU used) more than at step 0.
    pub busy_cores_added: f64,
    /// Calls per request refused by a strict callee.
    pub refused_per_request: f64,
}

/// One entry endpoint at one step and rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryAt {
    /// Entry endpoint.
    pub endpoint: String,
    /// p99 latency, ms (null when saturated).
    pub p99_ms: Option<Estimate>,
    /// Mean latency, ms (null when saturated).
    pub mean_ms: Option<Estimate>,
    /// Share of its requests that failed.
    pub failed_ratio: f64,
}

/// Where `ztsim migrate` writes by default: `output/migration/<topology>`.
pub fn migration_dir(root: &Path, topology_name: &str) -> PathBuf {
    root.join("migration").join(safe_name(topology_name))
}

fn num(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x:.6}"))
}

/// `migration.csv`: one row per step, rate and entry endpoint.
pub fn migration_csv(m: &Migration) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "step",
        "moves",
        "moved",
        "strict",
        "rate_rps",
        "entry",
        "p99_ms",
        "p99_ci95_ms",
        "mean_ms",
        "mean_ci95_ms",
        "failed_ratio",
        "verdict",
        "saturated",
        "capacity_rps",
        "capacity",
        "cores",
        "cores_added",
        "busy_cores_added",
        "refused_per_request",
        "replications",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in &m.slos {
        header.push(format!("all_{}_ms", s.statistic.name()));
    }
    w.write_record(&header)?;
    for step in &m.steps {
        for at in &step.at {
            for e in &at.entries {
                let mut rec = vec![
                    step.index.to_string(),
                    csv_text(&step.moves.join(";")),
                    csv_text(&step.moved.join(";")),
                    csv_text(&step.strict.join(";")),
                    format!("{}", at.rate_rps),
                    csv_text(&e.endpoint),
                    num(e.p99_ms.map(|x| x.mean)),
                    num(e.p99_ms.and_then(|x| x.ci95)),
                    num(e.mean_ms.map(|x| x.mean)),
                    num(e.mean_ms.and_then(|x| x.ci95)),
                    format!("{:.6}", e.failed_ratio),
                    verdict_name(at.verdict).to_string(),
                    at.saturated.to_string(),
                    num(at.capacity_rps),
                    at.capacity.clone(),
                    format!("{:.3}", at.cores),
                    format!("{:.3}", at.cores_added),
                    format!("{:.3}", at.busy_cores_added),
                    format!("{:.6}", at.refused_per_request),
                    at.replications.to_string(),
                ];
                rec.extend(at.figures_ms.iter().map(|f| num(f.map(|x| x.mean))));
                w.write_record(&rec)?;
            }
        }
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "met",
        Verdict::Missed => "missed",
        Verdict::Unsure => "unsure",
    }
}

/// Writes `migration.json` and `migration.csv` into `dir`.
pub fn write_migration(dir: &Path, m: &Migration) -> io::Result<()> {
    super::output::create_dir(dir)?;
    let json = serde_json::to_string_pretty(m).map_err(io::Error::other)?;
    write_atomic(&dir.join("migration.json"), format!("{json}\n").as_bytes())?;
    write_atomic(&dir.join("migration.csv"), &migration_csv(m)?)
}

fn ms(e: &Option<Estimate>) -> String {
    e.map_or("saturated".into(), |x| match x.ci95 {
        Some(c) => format!("{:.1} ±{:.1}", x.mean, c),
        None => format!("{:.1}", x.mean),
    })
}

/// The terminal table: a block per step, a line per rate and entry.
pub fn render_migration(m: &Migration) -> String {
    let mut out = String::new();
    let slos: Vec<String> = m.slos.iter().map(|s| s.to_string()).collect();
    let _ = writeln!(
        out,
        "{}: from {} to {}, {} (SLO {})",
        m.topology,
        m.from,
        m.to,
        m.order,
        if slos.is_empty() {
            "none".into()
        } else {
            slos.join(", ")
        }
    );
    if let Some(n) = &m.note {
        let _ = writeln!(out, "{n}");
    }
    for step in &m.steps {
        let what = if step.index == 0 {
            format!("step 0: every service under {}", m.from)
        } else {
            format!(
                "step {}: moves {}; strict: {}",
                step.index,
                step.moves.join(", "),
                if step.strict.is_empty() {
                    "none".into()
                } else {
                    step.strict.join(", ")
                }
            )
        };
        let _ = writeln!(out, "\n{what}");
        let _ = writeln!(
            out,
            "  {:>8} {:<24} {:>14} {:>14} {:>7} {:>8} {:>10} {:>8} {:>10}",
            "rps", "entry", "p99 ms", "mean ms", "failed", "SLO", "capacity", "+cores", "+busy"
        );
        for at in &step.at {
            for (i, e) in at.entries.iter().enumerate() {
                let first = i == 0;
                let _ = writeln!(
                    out,
                    "  {:>8} {:<24} {:>14} {:>14} {:>6.1}% {:>8} {:>10} {:>8} {:>10}",
                    if first {
                        format!("{}", at.rate_rps)
                    } else {
                        String::new()
                    },
                    e.endpoint,
                    ms(&e.p99_ms),
                    ms(&e.mean_ms),
                    100.0 * e.failed_ratio,
                    if first { verdict_name(at.verdict) } else { "" },
                    if first {
                        // A bound is where the busiest cores saturate: at most.
                        let at_most = if at.capacity == "bound" { "<=" } else { "" };
                        at.capacity_rps
                            .map_or("-".into(), |c| format!("{at_most}{c:.0}"))
                    } else {
                        String::new()
                    },
                    if first {
                        format!("{:+.1}", at.cores_added)
                    } else {
                        String::new()
                    },
                    if first {
                        format!("{:+.2}", at.busy_cores_added)
                    } else {
                        String::new()
                    },
                );
            }
            if at.refused_per_request > 0.0 {
                let _ = writeln!(
                    out,
                    "  refused: {:.3} calls per request by strict callees",
                    at.refused_per_request
                );
            }
        }
    }
    out
}
