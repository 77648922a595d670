//! Results out: the summary (aggregated over replications with confidence
//! intervals), the terminal table, `summary.json` and `latency.csv`. This is
//! the one place that knows the output folder layout.

pub mod article;
pub mod capacity;
pub mod columns;
mod cores;
pub mod distributions;
pub mod figures;
mod headline;
pub mod migration;
pub mod outages;
pub mod output;
pub mod pools;
pub mod published;
pub mod queues;
mod replications;
pub mod review;
pub mod sensitivity;
pub mod slo;
pub mod stats;
pub mod study;
pub mod summary;
pub mod table;
pub mod testbed;
pub mod traces;
pub mod words;

pub use headline::headline;
pub use output::write_atomic;

use std::io;
use std::path::{Path, PathBuf};

use crate::model::Replication;
use crate::model::replication::{LatencyFigures, OutcomeFigures};
use crate::model::topology::Topology;
pub use summary::{Summary, summarize};

/// The default root of everything ztsim writes.
pub const OUTPUT_ROOT: &str = "output";

/// Where `ztsim run` writes a topology's results (under a design, if one was
/// named) unless told otherwise.
pub fn run_dir(root: &Path, topology_name: &str, design_name: Option<&str>) -> PathBuf {
    let name = match design_name {
        Some(d) => format!("{topology_name}-{d}"),
        None => topology_name.to_string(),
    };
    root.join("runs").join(safe_name(&name))
}

/// Where `ztsim sensitivity` writes a topology's analysis under a base
/// design unless told otherwise.
pub fn sensitivity_dir(root: &Path, topology_name: &str, design_name: &str) -> PathBuf {
    root.join("sensitivity")
        .join(safe_name(&format!("{topology_name}-{design_name}")))
}

/// Where a study writes unless told otherwise.
pub fn study_dir(root: &Path, study_name: &str) -> PathBuf {
    root.join(safe_name(study_name))
}

/// A file-name-safe form of a name taken from an input file: letters, digits,
/// `-`, `_` and `.` kept (but no leading dot), anything else replaced by `_`,
/// so a name can never climb out of the output folder.
pub fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.');
    if s.is_empty() {
        "unnamed".into()
    } else {
        s.into()
    }
}

/// A text cell of a CSV file, safe to open in a spreadsheet: a cell that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read
/// as a formula, so it gets a leading `'` (OWASP's advice against CSV
/// injection). A number (`-5`, `+1e3`) is left as it is. Every CSV writer
/// passes every text cell that can hold a name from input through it.
pub fn csv_text(cell: &str) -> String {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = cell.trim().parse::<f64>().is_ok_and(f64::is_finite);
    if formula && !number {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// Writes `summary.json` and `latency.csv` for a run into `dir`.
pub fn write_run(
    dir: &Path,
    topo: &Topology,
    runs: &[Replication],
    summary: &Summary,
) -> io::Result<()> {
    output::create_dir(dir)?;
    let json = serde_json::to_string_pretty(summary).map_err(io::Error::other)?;
    write_atomic(&dir.join("summary.json"), format!("{json}\n").as_bytes())?;
    write_atomic(&dir.join("latency.csv"), &latency_csv(topo, runs, summary)?)?;
    write_atomic(&dir.join("timeseries.csv"), &timeseries_csv(runs)?)
}

/// Columns of `timeseries.csv`.
pub const TIMESERIES_CSV_COLUMNS: [&str; 10] = [
    "replication",
    "t_start_s",
    "t_end_s",
    "requests_per_s",
    "failed",
    "mean_ms",
    "p99_ms",
    "max_ms",
    "connections_opened",
    "full_handshakes",
];

/// Requests, latency and handshakes per interval of simulated time, from time
/// zero (warm-up included, so start-up and rotation storms show).
fn timeseries_csv(runs: &[Replication]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(TIMESERIES_CSV_COLUMNS)?;
    for (rep, run) in runs.iter().enumerate() {
        let width = run.series_interval as f64 * 1e-9;
        for (i, b) in run.series.iter().enumerate() {
            let mean = if b.requests == 0 {
                String::new()
            } else {
                format!("{:.6}", b.latency_sum as f64 / b.requests as f64 * 1e-6)
            };
            let p99 = b
                .latency
                .quantile(0.99)
                .map_or(String::new(), |v| format!("{:.6}", v as f64 * 1e-6));
            let max = if b.requests == 0 {
                String::new()
            } else {
                format!("{:.6}", b.latency_max as f64 * 1e-6)
            };
            w.write_record([
                (rep + 1).to_string(),
                format!("{:.3}", i as f64 * width),
                format!("{:.3}", (i + 1) as f64 * width),
                format!("{:.3}", b.requests as f64 / width),
                b.failed.to_string(),
                mean,
                p99,
                max,
                b.connections_opened.to_string(),
                b.handshakes_full.to_string(),
            ])?;
        }
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Columns of `latency.csv`.
pub const LATENCY_CSV_COLUMNS: [&str; 13] = [
    "scope",
    "name",
    "replication",
    "count",
    "failed",
    "mean_ms",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "saturated",
];

/// One row per entry endpoint (scope `endpoint`) and per edge (scope `edge`,
/// named `caller -> callee`) and replication, then a `mean` and a `ci95` row
/// from the summary.
fn latency_csv(topo: &Topology, runs: &[Replication], summary: &Summary) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(LATENCY_CSV_COLUMNS)?;
    let saturated = summary.saturated.is_some().to_string();
    let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{:.6}", x * 1e-6));
    type Pick = Box<dyn Fn(&Replication) -> &OutcomeFigures>;
    let mut rows: Vec<(&str, String, Pick)> = Vec::new();
    for (i, &(ep, _)) in topo.workload.entries.iter().enumerate() {
        rows.push((
            "endpoint",
            csv_text(&topo.endpoints[ep as usize].name),
            Box::new(move |r| &r.endpoints[i]),
        ));
    }
    for (i, &(a, b)) in topo.edges.iter().enumerate() {
        let name = format!(
            "{} -> {}",
            topo.endpoints[a as usize].name, topo.endpoints[b as usize].name
        );
        rows.push(("edge", csv_text(&name), Box::new(move |r| &r.edges[i])));
    }
    for (k, (scope, name, get)) in rows.iter().enumerate() {
        for (rep, run) in runs.iter().enumerate() {
            let o = get(run);
            let h: &LatencyFigures = &o.latency;
            let mut rec = vec![scope.to_string(), name.clone(), (rep + 1).to_string()];
            rec.push(h.count().to_string());
            rec.push(o.failed.to_string());
            rec.push(num(h.mean()));
            rec.extend(summary::QUANTILES.iter().map(|&(_, q)| num(h.quantile(q))));
            rec.push(num(h.max().map(|m| m as f64)));
            rec.push(saturated.clone());
            w.write_record(&rec)?;
        }
        let l = if k < topo.workload.entries.len() {
            summary.endpoints[k].latency_ms.as_ref()
        } else {
            summary.edges[k - topo.workload.entries.len()]
                .latency_ms
                .as_ref()
        };
        if let Some(l) = l {
            let cells = [l.mean, l.p50, l.p90, l.p95, l.p99, l.p999, l.max];
            for (label, pick) in [("mean", false), ("ci95", true)] {
                if pick && runs.len() < 2 {
                    continue;
                }
                let mut rec = vec![
                    scope.to_string(),
                    name.clone(),
                    label.to_string(),
                    String::new(),
                    String::new(),
                ];
                rec.extend(cells.iter().map(|e| {
                    let v = if pick {
                        e.ci95.unwrap_or(f64::NAN)
                    } else {
                        e.mean
                    };
                    format!("{v:.6}")
                }));
                rec.push(saturated.clone());
                w.write_record(&rec)?;
            }
        }
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::csv_text;

    #[test]
    fn formula_cells_are_quoted_and_numbers_kept() {
        for cell in [
            "=1+1", "+cmd", "-2+3", "@SUM(1)", "\tx", "\rx", "-inf", "=", "-",
        ] {
            assert_eq!(csv_text(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["-5", "+1e3", "-0.25", "cart", "a=b", "", " =x"] {
            assert_eq!(csv_text(cell), cell, "{cell:?}");
        }
    }
}
