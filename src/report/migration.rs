//! What `ztsim migrate` finds: each step of a rollout from one design to
//! another, at each rate, as plain data (`study::migrate` fills it in), and
//! its table, `migration.json` and `migration.csv` (one row per step, rate
//! and entry endpoint).

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::review::{Block, Document, Section, Table};
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
    /// Price of one vCPU for one hour, if given (`--price-per-vcpu-hour`).
    pub price_per_vcpu_hour: Option<f64>,
    /// Step 0 (nothing moved) to the last (everything moved, strict).
    pub steps: Vec<Step>,
}

impl Migration {
    /// What the cores added at a step cost per month (730 hours), at
    /// `price_per_vcpu_hour`.
    pub fn monthly_cost_added(&self, at: &StepAt) -> Option<f64> {
        self.price_per_vcpu_hour
            .map(|p| p * at.cores_added * super::capacity::HOURS_PER_MONTH)
    }
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
    /// Each SLO's figure over the requests it bounds (all of them, or those
    /// of the entry endpoint it names), in `slos` order (null when
    /// saturated).
    pub figures_ms: Vec<Option<Estimate>>,
    /// Each entry endpoint, in the workload's order.
    pub entries: Vec<EntryAt>,
    /// Highest rate meeting the SLOs: the capacity search's, or the cheaper
    /// bound (this rate over the busiest group's utilisation: where it
    /// would saturate), as `capacity` says.
    pub capacity_rps: Option<f64>,
    /// Which figure `capacity_rps` is.
    pub capacity: Capacity,
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

/// What capacity a step reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capacity {
    /// None.
    None,
    /// The rate over the busiest group's utilisation: where it saturates
    /// (an upper bound on the capacity within the SLOs), from the step's run.
    Bound,
    /// The capacity search of `ztsim capacity`.
    Search,
}

impl Capacity {
    /// The name in `migration.csv` (as in the JSON).
    pub fn name(self) -> &'static str {
        match self {
            Capacity::None => "none",
            Capacity::Bound => "bound",
            Capacity::Search => "search",
        }
    }
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
        "monthly_cost_added",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for s in &m.slos {
        // `all_p99_ms` over all requests, `gateway.balance_p99_ms` on one
        // entry endpoint.
        let scope = if s.endpoint.is_some() { "" } else { "all_" };
        header.push(format!("{scope}{}_ms", s.column()));
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
                    at.capacity.name().into(),
                    format!("{:.3}", at.cores),
                    format!("{:.3}", at.cores_added),
                    format!("{:.3}", at.busy_cores_added),
                    format!("{:.6}", at.refused_per_request),
                    at.replications.to_string(),
                    m.monthly_cost_added(at)
                        .map_or(String::new(), |c| format!("{c:.2}")),
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
                        let at_most = if at.capacity == Capacity::Bound {
                            "<="
                        } else {
                            ""
                        };
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
            if let Some(c) = m.monthly_cost_added(at) {
                let _ = writeln!(
                    out,
                    "  cores added cost ${c:.0} a month at ${} per vCPU-hour",
                    m.price_per_vcpu_hour.unwrap_or_default()
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

/// The design-review report of a rollout (`report.html`, `report.md`): the
/// question, the steps, the chart (`migration.png`, already in the folder),
/// how steps are formed, and what the figures assume.
pub fn document(m: &Migration) -> Document {
    let top = m.steps[0].at.last().map_or(0.0, |a| a.rate_rps);
    let slos: Vec<String> = m.slos.iter().map(|s| s.to_string()).collect();
    let slo_text = if slos.is_empty() {
        "no latency objective was given".to_string()
    } else {
        format!("the objectives are {}", slos.join(" and "))
    };
    let mut question = vec![Block::Text(format!(
        "What does each step of moving `{}` from `{}` to `{}` cost, and does every step keep the latency objectives? Steps are formed {}; {slo_text} ({}).",
        m.topology,
        m.from,
        m.to,
        m.order,
        if super::slo::any_scoped(&m.slos) {
            "each on all user requests together, or on the entry endpoint it names"
        } else {
            "on all user requests together"
        }
    ))];
    if let Some(n) = &m.note {
        question.push(Block::Text(n.clone()));
    }
    let section = |id, heading: &str, blocks| Section {
        id,
        heading: heading.to_string(),
        blocks,
    };
    Document {
        title: format!("Migrating {} from {} to {}", m.topology, m.from, m.to),
        subtitle: format!(
            "ztsim {} migration review of topology `{}`",
            env!("CARGO_PKG_VERSION"),
            m.topology
        ),
        sections: vec![
            section("question", "The question", question),
            section("steps", "The steps", vec![Block::Table(steps_table(m))]),
            section(
                "chart",
                "By step",
                vec![Block::Figure {
                    stem: "migration".into(),
                    title: "p99 and cores added by step".into(),
                    caption: format!(
                        "At {top} rps: the p99 of each entry endpoint by step, with the p99 objective dashed (top), and the cores deployed and busy beyond step 0 (bottom)."
                    ),
                }],
            ),
            section(
                "method",
                "How the steps are formed",
                vec![Block::List(vec![
                    format!("Step 0: every service runs `{}`.", m.from),
                    format!("Each later step moves a namespace (or a service, or what the order file names) to `{}` in permissive mode: callers still outside reach it in plaintext.", m.to),
                    "A moved service turns strict in the step its last caller moves (the user's client moves with the entry service), so no step refuses a call.".into(),
                    "Each step runs on the same seeds (common random numbers), with more replications while its 95% intervals straddle an objective.".into(),
                ])],
            ),
            section(
                "assumptions",
                "Assumptions",
                vec![Block::List(vec![
                    "Each hop takes what its caller owns (connections, tickets offered, outbound proxy) from the caller's design and what its callee owns (handshake figures, inbound proxy, token and policy checks) from the callee's (docs/design.md, Services under different designs).".into(),
                    "Capacity is the bound where the busiest group of cores would saturate unless the column says `search` (the highest rate within the objectives, by the capacity search).".into(),
                    "Cores added count every core deployed (services, sidecars, policy sidecars, node proxies, waypoints); busy cores are the CPU used, both beyond step 0.".into(),
                ])],
            ),
        ],
        footer: "Written by ztsim migrate from the same inputs as migration.json; regenerate by running the command again.".into(),
    }
}

fn steps_table(m: &Migration) -> Table {
    let mut header: Vec<String> = ["step", "moves", "strict", "rps"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let entries: Vec<String> = m.steps[0].at[0]
        .entries
        .iter()
        .map(|e| e.endpoint.clone())
        .collect();
    for e in &entries {
        header.push(format!("{e} p99 ms"));
        header.push(format!("{e} mean ms"));
    }
    header.extend(
        [
            "SLO",
            "capacity rps",
            "cores added",
            "busy cores added",
            "failed",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let mut rows = Vec::new();
    for s in &m.steps {
        for at in &s.at {
            let mut row = vec![
                s.index.to_string(),
                if s.index == 0 {
                    format!("(all {})", m.from)
                } else {
                    s.moves.join(", ")
                },
                s.strict.len().to_string() + " services",
                format!("{}", at.rate_rps),
            ];
            for e in &at.entries {
                row.push(ms(&e.p99_ms));
                row.push(ms(&e.mean_ms));
            }
            let failed = at
                .entries
                .iter()
                .map(|e| e.failed_ratio)
                .fold(0.0, f64::max);
            row.extend([
                verdict_name(at.verdict).to_string(),
                at.capacity_rps.map_or("-".into(), |c| {
                    if at.capacity == Capacity::Bound {
                        format!("<= {c:.0}")
                    } else {
                        format!("{c:.0}")
                    }
                }),
                format!("{:+.1}", at.cores_added),
                format!("{:+.2}", at.busy_cores_added),
                format!("{:.1}%", 100.0 * failed),
            ]);
            rows.push(row);
        }
    }
    Table { header, rows }
}
