//! The `ztsim` command line: argument definitions and glue. The work lives in
//! the library; this file turns flags into validated settings, calls it, and
//! maps outcomes to exit codes (0 ok, 1 failure, 2 bad input).

// Diagnostics are large but travel only the cold error path (see lib.rs).
#![allow(clippy::result_large_err)]

mod bench;
mod cli_capacity;
mod cli_cluster;
mod cli_import;
mod cli_sensitivity;
mod cli_study;
mod cli_trace;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use ztsim::config::{self, Diagnostic};
use ztsim::model::topology::{Arrivals, Window};
use ztsim::model::{self, Design, Topology};
use ztsim::report;
use ztsim::units;

#[derive(Parser)]
#[command(
    name = "ztsim",
    version,
    about = "Discrete-event simulator of Zero Trust overhead: handshakes, policy checks and CPU saturation across call graphs.",
    long_about = "Discrete-event simulator of Zero Trust overhead.\n\nWith no command, runs the built-in default study (topologies/chatty.toml under six designs across loads) and writes its results and charts to output/default/.\n\nExit codes: 0 success, 1 failure (e.g. cannot write output), 2 bad input (files or flags)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a topology and report latency, throughput and utilisation.
    Run(RunArgs),
    /// Check topology and design files and report every problem found, with file, line and key.
    /// Designs are checked against each topology given with them.
    Validate {
        /// Files to check (topologies/*.toml, models/*.toml).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Sweep designs x loads x parameters in parallel; write results.csv, results.json and charts.
    Sweep(cli_study::SweepArgs),
    /// Combine the shard results of `ztsim sweep STUDY --shard I/N` into the study's results and charts.
    Merge(cli_cluster::MergeArgs),
    /// Vary each parameter of a design one at a time around it; rank their
    /// effect on p99 latency (and, with --slo, on capacity); draw tornado charts.
    Sensitivity(cli_sensitivity::SensitivityArgs),
    /// Redraw a study's charts from its results.json, without rerunning it.
    Plot {
        /// A results.json written by `ztsim sweep`.
        results: PathBuf,
        /// Folder for the charts [default: beside the results].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Write a study's design-review report: report.html (self-contained, charts inline) and report.md.
    #[command(
        long_about = "Write the design-review report of a finished study: report.html, one self-contained file (charts inline, no network needed) and report.md for pasting into a design document, with topology.svg beside it. `ztsim sweep` writes them at its end; use this to rewrite them, e.g. against other objectives.\n\nSections: the question, the topology as a diagram, the designs and their parameters, the charts, capacity per design (highest load within the SLOs), the attribution of added latency, the assumptions, and the sources of the default costs."
    )]
    Report {
        /// A study folder written by `ztsim sweep` (or its results.json).
        study: PathBuf,
        /// A latency objective, e.g. p99=50ms (repeatable); replaces the study's own.
        #[arg(long, value_name = "STAT=LIMIT")]
        slo: Vec<String>,
        /// Folder for the report [default: the study folder].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Build a topology from recorded traces (Jaeger, Zipkin or OTLP JSON) and
    /// write it with the recorded request arrivals.
    Import(cli_import::ImportArgs),
    /// Find each design's highest offered rate within SLOs (--slo p99=50ms), or size services for a rate (--target-rate).
    Capacity(cli_capacity::CapacityArgs),
    /// Measure the simulator's speed: events and calls per second, against a bare heap.
    Bench(bench::BenchArgs),
    /// Print the JSON Schema of a kind of input file, for editors that validate and complete TOML.
    #[command(
        long_about = "Print the JSON Schema (draft-07) of a kind of input file, so that editors with TOML schema support (Taplo, and VS Code's Even Better TOML, which uses it) validate and complete the files as you type.\n\nSave one schema per kind, e.g.\n  ztsim schema topology --out topology.schema.json\n  ztsim schema design --out design.schema.json\n  ztsim schema study --out study.schema.json\n\nthen point a file at its schema with a directive on its first line (the path is relative to the TOML file):\n  #:schema ../topology.schema.json\n\nor map files to schemas once in a .taplo.toml at the workspace root:\n  [[rule]]\n  include = [\"models/*.toml\"]\n  schema.path = \"./design.schema.json\"\n\nThe schema checks keys, value types, units and choices; `ztsim validate` also checks names, the call graph and everything that needs the whole file."
    )]
    Schema {
        /// Which file: topology (topologies/*.toml), design (models/*.toml) or study (*.study.toml).
        #[arg(value_enum)]
        kind: config::schema::SchemaKind,
        /// Write the schema to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Topology file (topologies/*.toml).
    topology: PathBuf,
    /// Zero Trust design (models/*.toml) [default: plaintext, the perimeter baseline].
    #[arg(long, short, value_name = "FILE")]
    model: Option<PathBuf>,
    /// With --model, skip the plaintext baseline run that the headline compares against.
    #[arg(long)]
    no_baseline: bool,
    /// Run even if the run's estimated size (events, memory) is beyond the guard's budget.
    #[arg(long)]
    no_guard: bool,
    /// Overwrite results already in the output folder (otherwise a new
    /// folder, name-2, name-3, ..., is used).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    overrides: Overrides,
    #[command(flatten)]
    replay: cli_trace::ReplayArgs,
    #[command(flatten)]
    export: cli_trace::ExportArgs,
    /// Folder for summary.json and latency.csv [default: output/runs/<topology name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads for replications [default: all cores]; results do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// Workload settings that override the topology file's.
#[derive(Args, Default)]
struct Overrides {
    /// Open-loop arrival rate, requests per second (e.g. 500, 1.5k).
    #[arg(long, value_name = "RPS")]
    rate: Option<String>,
    #[command(flatten)]
    window: WindowArgs,
    /// Independent replications (for confidence intervals).
    #[arg(long, value_name = "N")]
    replications: Option<u32>,
}

/// How long each replication measures, and on which seed: the flags shared
/// by every command that simulates a topology.
#[derive(Args, Default)]
pub(crate) struct WindowArgs {
    /// Measured duration after warm-up (e.g. 30s, 2m) [default: the topology's].
    #[arg(long, value_name = "DURATION", conflicts_with = "requests")]
    duration: Option<String>,
    /// Measure this many requests instead of a duration.
    #[arg(long, value_name = "N")]
    requests: Option<u64>,
    /// Warm-up excluded from the statistics (e.g. 2s) [default: the topology's].
    #[arg(long, value_name = "DURATION")]
    warmup: Option<String>,
    /// Base seed of all random streams [default: the topology's].
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
}

/// Why a command did not succeed.
pub(crate) enum Failure {
    /// Bad files or flags: exit 2.
    BadInput(Vec<Diagnostic>),
    /// Anything else: exit 1.
    Other(String),
    /// Stopped by Ctrl-C or SIGTERM after saving what was done: exit 130.
    Interrupted(String),
}

pub(crate) fn flag_error(flag: &str, message: impl Into<String>) -> Failure {
    Failure::BadInput(vec![Diagnostic {
        file: "command line".into(),
        line: None,
        column: None,
        key: None,
        message: format!("{flag}: {}", message.into()),
        help: None,
    }])
}

/// `--duration` (a measured span, above zero) or `--warmup` (may be zero):
/// a duration flag in nanoseconds.
pub(crate) fn duration_flag(flag: &str, text: &str, zero_ok: bool) -> Result<u64, Failure> {
    let d = units::parse_duration(text).map_err(|e| flag_error(flag, e.message))?;
    if d == 0 && !zero_ok {
        return Err(flag_error(flag, "must be above zero"));
    }
    Ok(d)
}

impl WindowArgs {
    /// Applies the flags given to `w`.
    pub(crate) fn apply(&self, w: &mut ztsim::model::topology::Workload) -> Result<(), Failure> {
        if let Some(d) = &self.duration {
            w.window = Window::Duration(duration_flag("--duration", d, false)?);
        }
        if let Some(n) = self.requests {
            if n == 0 {
                return Err(flag_error("--requests", "must be at least 1"));
            }
            w.window = Window::Requests(n);
        }
        if let Some(d) = &self.warmup {
            w.warmup = duration_flag("--warmup", d, true)?;
        }
        if let Some(s) = self.seed {
            w.seed = s;
        }
        Ok(())
    }
}

impl Overrides {
    fn apply(&self, topo: &mut Topology) -> Result<(), Failure> {
        let w = &mut topo.workload;
        if let Some(r) = &self.rate {
            let rate = units::parse_rate(r).map_err(|e| flag_error("--rate", e.message))?;
            match &mut w.arrivals {
                Arrivals::Poisson { rate: r } | Arrivals::Constant { rate: r } => *r = rate,
                Arrivals::Replay { .. } => {
                    return Err(flag_error(
                        "--rate",
                        "the workload replays recorded arrivals; play them faster or slower with --replay-speed",
                    ));
                }
                Arrivals::Closed { .. } => {
                    return Err(flag_error(
                        "--rate",
                        "the topology's workload is a closed loop (users and think time); --rate applies to open-loop arrivals",
                    ));
                }
            }
        }
        self.window.apply(w)?;
        if let Some(n) = self.replications {
            if n == 0 {
                return Err(flag_error("--replications", "must be at least 1"));
            }
            w.replications = n;
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        None => cli_study::default_study(),
        Some(Command::Sweep(args)) => cli_study::sweep_command(args),
        Some(Command::Merge(args)) => cli_cluster::merge_command(args),
        Some(Command::Sensitivity(args)) => cli_sensitivity::sensitivity_command(args),
        Some(Command::Plot { results, out }) => cli_study::plot_command(&results, out),
        Some(Command::Report { study, slo, out }) => cli_study::report_command(&study, &slo, out),
        Some(Command::Run(args)) => run(args),
        Some(Command::Import(args)) => cli_import::import_command(args),
        Some(Command::Capacity(args)) => cli_capacity::capacity_command(args),
        Some(Command::Validate { files }) => validate(&files),
        Some(Command::Schema { kind, out }) => {
            let text = config::schema::schema_json(kind);
            let written = match &out {
                None => std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes()),
                Some(path) => std::fs::write(path, text),
            };
            written.map_err(|e| {
                let to = out.map_or("standard output".into(), |p| p.display().to_string());
                Failure::Other(format!("cannot write the schema to {to}: {e}"))
            })
        }
        Some(Command::Bench(args)) if args.sweep => bench::sweep_speedup().map_err(Failure::Other),
        Some(Command::Bench(args)) => config::load_topology(bench::topology(&args))
            .map_err(Failure::BadInput)
            .and_then(|topo| {
                let designs = args
                    .model
                    .iter()
                    .map(|m| config::load_design(m, &topo))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(Failure::BadInput)?;
                bench::run(topo, &designs, args).map_err(Failure::Other)
            }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(diags)) => {
            for d in &diags {
                eprintln!("error: {d}");
            }
            ExitCode::from(2)
        }
        Err(Failure::Other(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Interrupted(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(130)
        }
    }
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let mut topo = config::load_topology(&args.topology).map_err(Failure::BadInput)?;
    args.overrides.apply(&mut topo)?;
    if args
        .replay
        .apply(&mut topo, args.overrides.window.warmup.is_some())?
    {
        // The replay's window was recomputed: --duration/--requests narrow it.
        args.overrides.apply(&mut topo)?;
    }
    if !args.no_guard {
        guard(&topo)?;
    }
    let design = match &args.model {
        Some(path) => config::load_design(path, &topo).map_err(Failure::BadInput)?,
        None => Design::plaintext(),
    };
    if let Some(n) = args.threads {
        set_threads(n)?;
    }
    let dir = args.out.unwrap_or_else(|| {
        let name = args.model.as_ref().map(|_| design.name.as_str());
        report::run_dir(Path::new(report::OUTPUT_ROOT), &topo.name, name)
    });
    // Results already there are kept unless --force: a new folder is used.
    let dir = if args.force {
        dir
    } else {
        report::unused_dir(&dir, "summary.json")
    };
    let baseline = args.model.is_some() && !args.no_baseline && design != Design::plaintext();
    let export = args.export.unused(args.force);
    simulate_and_report(&topo, &design, baseline, &dir, &export)
}

/// Refuses a run whose estimated size would explode, with the figure.
pub(crate) fn guard(topo: &Topology) -> Result<(), Failure> {
    match model::guard::Size::of(topo).refusal() {
        Some(why) => Err(Failure::BadInput(vec![Diagnostic::new(
            topo.name.clone(),
            why,
        )])),
        None => Ok(()),
    }
}

/// Sizes rayon's pool; results never depend on it.
pub(crate) fn set_threads(n: usize) -> Result<(), Failure> {
    if n == 0 {
        return Err(flag_error("--threads", "must be at least 1"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Failure::Other(format!("cannot start {n} threads: {e}")))
}

fn simulate_and_report(
    topo: &Topology,
    design: &Design,
    baseline: bool,
    dir: &Path,
    export: &cli_trace::ExportArgs,
) -> Result<(), Failure> {
    if let Some(rate) = topo.workload.arrivals.rate() {
        for (svc, rho) in topo.services.iter().zip(topo.offered_utilisation(rate)) {
            if rho >= 1.0 {
                eprintln!(
                    "warning: at {rate} rps, service `{}` is offered {:.0}% of its cores by business CPU alone: it will saturate",
                    svc.name,
                    rho * 100.0
                );
            }
        }
    }
    let mut exporter = cli_trace::Exporter::default();
    let runs = exporter.run(export, topo, design, None)?;
    let summary = report::summarize(topo, design, &runs);
    print!("{}", report::table::render(&summary));
    if baseline {
        // Same seeds, so the comparison sees common random numbers.
        let plain = Design::plaintext();
        let base_runs = exporter.run(export, topo, &plain, Some("baseline"))?;
        let base = report::summarize(topo, &plain, &base_runs);
        println!("\n{}", report::headline(&base, &summary));
    }
    report::write_run(dir, topo, &runs, &summary)
        .map_err(|e| Failure::Other(format!("cannot write results to {}: {e}", dir.display())))?;
    println!(
        "\nwrote {}/summary.json, latency.csv and timeseries.csv",
        dir.display()
    );
    Ok(())
}

fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    let mut problems = Vec::new();
    let mut topologies = Vec::new();
    let mut designs = Vec::new();
    for f in files {
        match config::file_kind(f) {
            Ok(config::FileKind::Design) => designs.push(f),
            Ok(config::FileKind::Study) => {
                match config::study::read_study(f).and_then(|spec| config::study::expand(&spec)) {
                    Ok(study) => println!(
                        "{}: ok (study: {} points x {} replications)",
                        f.display(),
                        study.points.len(),
                        study.replications
                    ),
                    Err(d) => problems.extend(d),
                }
            }
            Ok(config::FileKind::Topology) => match config::load_topology(f) {
                Ok(t) => {
                    println!(
                        "{}: ok ({} services, {} endpoints, {} call sites)",
                        f.display(),
                        t.services.len(),
                        t.endpoints.len(),
                        t.calls.len()
                    );
                    topologies.push(t);
                }
                Err(d) => problems.extend(d),
            },
            Err(d) => problems.extend(d),
        }
    }
    for f in designs {
        let against: Vec<Option<&Topology>> = if topologies.is_empty() {
            vec![None]
        } else {
            topologies.iter().map(Some).collect()
        };
        let mut ok = true;
        for t in against {
            if let Err(d) = config::check_design(f, t) {
                ok = false;
                problems.extend(d);
            }
        }
        if ok {
            println!("{}: ok (design)", f.display());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::BadInput(problems))
    }
}
