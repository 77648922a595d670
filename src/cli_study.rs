//! `ztsim sweep`, `ztsim plot` and the built-in default study: flags and
//! study files into a resolved [`Study`], a progress bar, and the files.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use ztsim::charts::{self, Chart};
use ztsim::config::Diagnostic;
use ztsim::config::study::{self, Input, StudySpec};
use ztsim::model::slo::{Slo, Statistic};
use ztsim::report::study::{
    Manifest, ShardManifest, StudyResults, read_manifest, read_points, read_results,
    read_shard_manifest, write_manifest, write_point, write_results, write_shard_manifest,
};
use ztsim::report::{self, review};
use ztsim::shard::Shard;
use ztsim::{sweep, units};

use crate::{Failure, flag_error};

/// The topology and designs of the default study, compiled in so that
/// `cargo run --release` works from any folder.
const DEFAULT_TOPOLOGY: (&str, &str) = (
    "topologies/chatty.toml",
    include_str!("../topologies/chatty.toml"),
);
const DEFAULT_DESIGNS: [(&str, &str); 6] = [
    (
        "models/plaintext.toml",
        include_str!("../models/plaintext.toml"),
    ),
    (
        "models/tls-edge.toml",
        include_str!("../models/tls-edge.toml"),
    ),
    (
        "models/naive-mtls.toml",
        include_str!("../models/naive-mtls.toml"),
    ),
    (
        "models/istio-sidecar.toml",
        include_str!("../models/istio-sidecar.toml"),
    ),
    (
        "models/istio-ambient.toml",
        include_str!("../models/istio-ambient.toml"),
    ),
    (
        "models/grpc-mtls-local-policy.toml",
        include_str!("../models/grpc-mtls-local-policy.toml"),
    ),
];
/// Loads of the default study (requests per second): from well below the
/// naive design's knee to the plaintext system's.
const DEFAULT_RATES: [f64; 8] = [100.0, 150.0, 200.0, 300.0, 500.0, 700.0, 900.0, 1050.0];

/// The default study's objectives: the seed article's system answers a page
/// view in well under 50 ms at p99 before Zero Trust.
const DEFAULT_SLO: Slo = Slo {
    statistic: Statistic::P99,
    limit_ms: 50.0,
};

/// Flags of `ztsim sweep`.
#[derive(Args)]
pub struct SweepArgs {
    /// Study file (TOML): topology, designs, rates, params; flags override it.
    study: Option<PathBuf>,
    /// Topology file (replaces the study's).
    #[arg(long, value_name = "FILE")]
    topology: Option<PathBuf>,
    /// Design file; repeat for several (replaces the study's list).
    #[arg(long = "model", short, value_name = "FILE")]
    models: Vec<PathBuf>,
    /// Offered loads, comma-separated (e.g. 100,200,400) (replaces the study's).
    #[arg(long, value_name = "RPS,...", value_delimiter = ',')]
    rate: Vec<String>,
    /// A parameter to sweep, path=value,value (e.g. resumption.ticket_ttl=1m,5m,30m
    /// or services.cart.replicas=2,4,8); repeatable.
    #[arg(long, value_name = "PATH=V,...")]
    param: Vec<String>,
    /// Load at which per-design charts (CDF, CPU, attribution, time series) are drawn.
    #[arg(long, value_name = "RPS")]
    focus_rate: Option<String>,
    /// Replications per point.
    #[arg(long, value_name = "N")]
    replications: Option<u32>,
    /// Base seed; each (load, parameters) combination derives its own.
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
    /// Measured duration per run (e.g. 10s).
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// Warm-up per run (e.g. 2s).
    #[arg(long, value_name = "DURATION")]
    warmup: Option<String>,
    /// A latency objective, e.g. p99=50ms (repeatable; replaces the study's
    /// `slo`): the report's capacity table gives the highest load meeting them.
    #[arg(long, value_name = "STAT=LIMIT")]
    slo: Vec<String>,
    /// Study name (its output folder under output/).
    #[arg(long)]
    name: Option<String>,
    /// Output folder [default: output/<study name>]. A folder that already
    /// holds results is kept: a new one (name-2, ...) is used unless --force
    /// or --resume.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run even if a point's estimated size (events, memory) is beyond the guard's budget.
    #[arg(long)]
    no_guard: bool,
    /// Replace the results already in the output folder.
    #[arg(long, conflicts_with = "resume")]
    force: bool,
    /// Continue an interrupted sweep in the output folder, reusing its
    /// finished points (rerunning a finished study recomputes nothing).
    #[arg(long)]
    resume: bool,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Run only shard I of N (0-based: 0/4 ... 3/4), for a task of a batch
    /// job; its share is balanced by estimated cost. Writes a shard result
    /// [default: output/<study>/shards/I-of-N] that `ztsim merge` combines.
    /// A shard folder of the same study is resumed, not replaced.
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    shard: Option<String>,
}

fn bad(d: Diagnostic) -> Failure {
    Failure::BadInput(vec![d])
}

fn rate_flag(flag: &str, v: &str) -> Result<f64, Failure> {
    units::parse_rate(v).map_err(|e| flag_error(flag, e.message))
}

impl SweepArgs {
    /// The study the file and flags describe together.
    fn spec(&self) -> Result<StudySpec, Failure> {
        let mut spec = match &self.study {
            Some(path) => study::read_study(path).map_err(Failure::BadInput)?,
            None => {
                let topology = self.topology.as_ref().ok_or_else(|| {
                    flag_error(
                        "sweep",
                        "give a study file, or at least --topology FILE and --model FILE",
                    )
                })?;
                StudySpec {
                    name: topology
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or("study")
                        .to_string()
                        + "-sweep",
                    title: String::new(),
                    topology: Input::read(topology).map_err(bad)?,
                    designs: Vec::new(),
                    rates: Vec::new(),
                    focus_rate: None,
                    params: Vec::new(),
                    replications: None,
                    seed: None,
                    duration: None,
                    warmup: None,
                    slos: Vec::new(),
                }
            }
        };
        if let Some(t) = &self.topology {
            spec.topology = Input::read(t).map_err(bad)?;
        }
        if !self.models.is_empty() {
            spec.designs = self
                .models
                .iter()
                .map(|m| Input::read(m))
                .collect::<Result<_, _>>()
                .map_err(bad)?;
        }
        if !self.rate.is_empty() {
            spec.rates = self
                .rate
                .iter()
                .map(|r| rate_flag("--rate", r))
                .collect::<Result<_, _>>()?;
        }
        for p in &self.param {
            let (path, values) =
                study::parse_param_flag(p).map_err(|m| flag_error("--param", m))?;
            spec.params.retain(|(q, _)| *q != path);
            spec.params.push((path, values));
        }
        if let Some(r) = &self.focus_rate {
            spec.focus_rate = Some(rate_flag("--focus-rate", r)?);
        }
        if let Some(n) = self.replications {
            if n == 0 {
                return Err(flag_error("--replications", "must be at least 1"));
            }
            spec.replications = Some(n);
        }
        spec.seed = self.seed.or(spec.seed);
        if let Some(d) = &self.duration {
            spec.duration = Some(crate::duration_flag("--duration", d, false)?);
        }
        if let Some(d) = &self.warmup {
            spec.warmup = Some(crate::duration_flag("--warmup", d, true)?);
        }
        if !self.slo.is_empty() {
            spec.slos = self
                .slo
                .iter()
                .map(|o| Slo::parse(o).map_err(|m| flag_error("--slo", m)))
                .collect::<Result<_, _>>()?;
        }
        if let Some(n) = &self.name {
            spec.name = n.clone();
        }
        if spec.title.is_empty() {
            spec.title = format!("Study {}", spec.name);
        }
        Ok(spec)
    }
}

/// `ztsim sweep`.
pub fn sweep_command(args: SweepArgs) -> Result<(), Failure> {
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|m| flag_error("--shard", m))?;
    let spec = args.spec()?;
    if let Some(n) = args.threads {
        crate::set_threads(n)?;
    }
    let study_dir = report::study_dir(Path::new(report::OUTPUT_ROOT), &spec.name);
    let dir = args.out.clone().unwrap_or_else(|| match shard {
        Some(s) => study_dir.join("shards").join(s.folder_name()),
        None => study_dir,
    });
    let existing = if args.force {
        Existing::Overwrite
    } else if args.resume || shard.is_some() {
        // A retried task (a pod restarted, a requeued array task) must
        // continue its shard, never start a second copy beside it.
        Existing::Resume
    } else {
        Existing::NewFolder
    };
    run_study(&spec, &dir, existing, !args.no_guard, shard)
}

/// The built-in default study's specification.
pub fn default_spec() -> StudySpec {
    StudySpec {
        name: "default".into(),
        title: "What Zero Trust costs a chatty system".into(),
        topology: Input {
            name: DEFAULT_TOPOLOGY.0.into(),
            text: DEFAULT_TOPOLOGY.1.into(),
        },
        designs: DEFAULT_DESIGNS
            .iter()
            .map(|(n, t)| Input {
                name: (*n).into(),
                text: (*t).into(),
            })
            .collect(),
        rates: DEFAULT_RATES.to_vec(),
        focus_rate: Some(150.0),
        params: Vec::new(),
        replications: Some(3),
        seed: None,
        duration: None,
        warmup: None,
        slos: vec![DEFAULT_SLO],
    }
}

/// The built-in default study (`ztsim` with no command).
pub fn default_study() -> Result<(), Failure> {
    let spec = default_spec();
    println!(
        "ztsim: no command given; running the built-in default study (`ztsim --help` lists commands)."
    );
    println!(
        "{}: {} under 6 designs, {} loads.\n",
        spec.title,
        DEFAULT_TOPOLOGY.0,
        DEFAULT_RATES.len()
    );
    let dir = report::study_dir(Path::new(report::OUTPUT_ROOT), &spec.name);
    run_study(&spec, &dir, Existing::ResumeOrOverwrite, true, None)?;
    let results = read_results(&dir.join("results.json")).map_err(Failure::Other)?;
    println!("\n{}", report::article::compare(&results));
    Ok(())
}

/// What to do with a study folder that already holds results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Keep it; write to a new folder beside it (`name-2`, `name-3`, ...).
    NewFolder,
    /// Replace it (`--force`).
    Overwrite,
    /// Continue it: reuse its finished points (`--resume`).
    Resume,
    /// The default study: continue if it is the same study, else replace.
    ResumeOrOverwrite,
}

/// Set by Ctrl-C (or SIGTERM): no new point starts.
static STOP: AtomicBool = AtomicBool::new(false);

pub(crate) fn has_results(dir: &Path) -> bool {
    dir.join("results.json").exists() || report::study::points_dir(dir).exists()
}

/// `dir`, or the first `dir-N` that holds no results or saved points.
pub(crate) fn fresh_folder(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map_or("study".into(), |n| n.to_string_lossy().into_owned());
    std::iter::once(dir.to_path_buf())
        .chain((2..).map(|n| dir.with_file_name(format!("{name}-{n}"))))
        .find(|d| !has_results(d))
        .expect("some numbered folder is free")
}

/// This process's command line, `ztsim` first.
fn command_line() -> Vec<String> {
    std::env::args()
        .enumerate()
        .map(|(i, a)| if i == 0 { "ztsim".to_string() } else { a })
        .collect()
}

/// `command` without the flags that choose what to do with existing
/// results and where they go (`--out`, `--force`, `--resume`), and with
/// `--shard` set to `shard` when given.
pub(crate) fn rerun_args(command: &[String], shard: Option<Shard>) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in command {
        if skip {
            skip = false;
            continue;
        }
        if a == "--out" || (a == "--shard" && shard.is_some()) {
            skip = true;
            continue;
        }
        if a.starts_with("--out=")
            || (a.starts_with("--shard=") && shard.is_some())
            || a == "--force"
            || a == "--resume"
        {
            continue;
        }
        out.push(a.clone());
    }
    if let Some(s) = shard {
        out.extend(["--shard".to_string(), s.to_string()]);
    }
    out
}

/// The command that continues `command`, interrupted, in `dir`.
pub(crate) fn resume_command_of(command: &[String], dir: &Path) -> String {
    let out = rerun_args(command, None);
    if out.len() <= 1 {
        // The default study has no command: resuming it is running it again.
        return "ztsim   (or cargo run --release)".into();
    }
    format!("{} --resume --out {}", out.join(" "), dir.display())
}

/// The command that continues this interrupted sweep.
fn resume_command(dir: &Path) -> String {
    resume_command_of(&command_line(), dir)
}

fn run_study(
    spec: &StudySpec,
    dir: &Path,
    existing: Existing,
    guarded: bool,
    shard: Option<Shard>,
) -> Result<(), Failure> {
    let study = study::expand(spec).map_err(Failure::BadInput)?;
    if guarded {
        // The largest point decides.
        if let Some(p) = study.points.iter().max_by(|a, b| {
            ztsim::model::guard::Size::of(&a.topology)
                .events
                .total_cmp(&ztsim::model::guard::Size::of(&b.topology).events)
        }) {
            crate::guard(&p.topology)?;
        }
    }
    let manifest = Manifest {
        fingerprint: study.fingerprint(),
        points: study.points.len(),
        name: study.name.clone(),
    };
    let owned: Vec<usize> = match shard {
        Some(s) => ztsim::shard::owned(&study, s),
        None => (0..study.points.len()).collect(),
    };
    // A shard folder continues only the same shard of the same study.
    let same_shard = || match (shard, read_shard_manifest(dir)) {
        (None, Ok(None)) => true,
        (Some(s), Ok(Some(m))) => m.shard == s.index && m.shards == s.count,
        _ => false,
    };
    let same = read_manifest(dir).is_some_and(|m| m == manifest) && same_shard();
    let (dir, previous) = match existing {
        Existing::Resume if has_results(dir) && !same => {
            return Err(bad(Diagnostic::new(
                dir.display().to_string(),
                format!(
                    "this folder holds results of a different study{} (or of another ztsim version), so it cannot be resumed; use --force to replace it, or another --out",
                    if shard.is_some() {
                        " or another shard"
                    } else {
                        ""
                    }
                ),
            )));
        }
        Existing::Resume | Existing::ResumeOrOverwrite if same => {
            (dir.to_path_buf(), read_points(dir))
        }
        Existing::NewFolder => (fresh_folder(dir), Vec::new()),
        _ => (dir.to_path_buf(), Vec::new()),
    };
    let dir = dir.as_path();
    check_writable(dir)?;
    if previous.is_empty() {
        // A fresh start: forget points of whatever ran here before.
        let _ = std::fs::remove_dir_all(report::study::points_dir(dir));
    }
    write_manifest(dir, &manifest)
        .map_err(|e| Failure::Other(format!("cannot write to {}: {e}", dir.display())))?;
    let jobs = study.points.len() as u64 * u64::from(study.replications);
    println!(
        "{} points ({} designs x {} loads{}) x {} replications = {jobs} runs, about {:.1} M simulated requests",
        study.points.len(),
        study.designs.len(),
        study.rates.len().max(1),
        if study.params.is_empty() {
            String::new()
        } else {
            format!(
                " x {} parameter combinations",
                study.points.len() / (study.designs.len() * study.rates.len().max(1)).max(1)
            )
        },
        study.replications,
        sweep::estimated_requests(&study) / 1e6,
    );
    if let Some(s) = shard {
        let costs = ztsim::shard::costs(&study);
        let total: f64 = costs.iter().sum();
        let mine: f64 = owned.iter().map(|&i| costs[i]).sum();
        let requests: f64 = owned
            .iter()
            .map(|&i| sweep::point_requests(&study.points[i]))
            .sum();
        println!(
            "shard {s}: {} of {} points, {:.1}% of the estimated cost (about {:.1} M simulated requests), into {}",
            owned.len(),
            study.points.len(),
            if total > 0.0 {
                mine / total * 100.0
            } else {
                0.0
            },
            requests / 1e6,
            dir.display()
        );
        // Written before any point runs, so that a merge of a shard that
        // never finished says "incomplete" rather than "not a shard".
        let results = sweep::results_of(&study, Vec::new());
        let shard_manifest = ShardManifest {
            ztsim_version: env!("CARGO_PKG_VERSION").to_string(),
            fingerprint: ztsim::shard::fingerprint(
                &manifest.fingerprint,
                &results.metadata().to_string(),
            ),
            name: study.name.clone(),
            shard: s.index,
            shards: s.count,
            study_points: study.points.len(),
            points: owned.clone(),
            command: command_line(),
            study: results.metadata(),
        };
        write_shard_manifest(dir, &shard_manifest)
            .map_err(|e| Failure::Other(format!("cannot write to {}: {e}", dir.display())))?;
    } else {
        // A folder that held a shard result before no longer does.
        let _ = std::fs::remove_file(dir.join(report::study::SHARD_MANIFEST));
    }
    let previous: Vec<_> = previous
        .into_iter()
        .filter(|p| owned.binary_search(&p.index).is_ok())
        .collect();
    if !previous.is_empty() {
        println!(
            "resuming {}: {} of {} points already done",
            dir.display(),
            previous.len(),
            owned.len()
        );
    }
    // Ctrl-C and SIGTERM stop the sweep cleanly; a second handler cannot be
    // installed, which only matters to tests running several sweeps.
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    let bar = progress(owned.len() as u64);
    bar.inc(previous.len() as u64);
    let t0 = std::time::Instant::now();
    let write_error = std::sync::Mutex::new(None);
    let outcome = sweep::run_subset(
        &study,
        &owned,
        previous,
        &|p| {
            if let Err(e) = write_point(dir, p) {
                write_error
                    .lock()
                    .map(|mut w| *w = Some(e.to_string()))
                    .ok();
                STOP.store(true, Ordering::SeqCst);
            }
            bar.inc(1);
        },
        &STOP,
    );
    bar.finish_and_clear();
    if let Some(e) = write_error.into_inner().ok().flatten() {
        return Err(Failure::Other(format!(
            "cannot save a finished point in {}: {e}",
            dir.display()
        )));
    }
    let results = outcome.results;
    if let Some(s) = shard {
        // A shard's results are a part of the study's: only `ztsim merge`
        // writes tables and charts, from all of them.
        if !outcome.complete {
            return Err(Failure::Interrupted(format!(
                "interrupted: {} of {} points of shard {s} are done and saved in {}; continue with:\n  {}",
                results.points.len(),
                owned.len(),
                dir.display(),
                resume_command(dir)
            )));
        }
        println!(
            "shard {s} done: {} points in {} in {:.1} s ({} computed, {} reused); once all {} shards are done, combine them with:\n  ztsim merge {}",
            owned.len(),
            dir.display(),
            t0.elapsed().as_secs_f64(),
            outcome.computed,
            outcome.reused,
            s.count,
            dir.parent().unwrap_or(Path::new(".")).display(),
        );
        return Ok(());
    }
    if !outcome.complete {
        write_results(dir, &results).map_err(|e| {
            Failure::Other(format!("cannot write results to {}: {e}", dir.display()))
        })?;
        return Err(Failure::Interrupted(format!(
            "interrupted: {} of {} points are done and saved in {} (results.csv and results.json hold them); continue with:\n  {}",
            results.points.len(),
            study.points.len(),
            dir.display(),
            resume_command(dir)
        )));
    }
    let written = write_study_outputs(dir, &results)?;
    print!("{}", report::study::overview(&results));
    println!(
        "\nwrote {}/results.csv, results.json, {} charts and report.html in {:.1} s ({} points computed, {} reused)",
        dir.display(),
        written.charts,
        t0.elapsed().as_secs_f64(),
        outcome.computed,
        outcome.reused
    );
    Ok(())
}

/// What [`write_study_outputs`] wrote.
pub struct Written {
    /// Charts drawn (each as SVG and PNG).
    pub charts: usize,
}

/// Writes everything a finished study produces from its results: tables,
/// charts. The one place that decides a study folder's contents, so a sweep
/// and anything that rebuilds results from saved points write the same bytes.
pub fn write_study_outputs(dir: &Path, results: &StudyResults) -> Result<Written, Failure> {
    write_results(dir, results)
        .map_err(|e| Failure::Other(format!("cannot write results to {}: {e}", dir.display())))?;
    let charts = charts::render_all(results, dir)
        .map_err(|e| Failure::Other(format!("cannot write charts to {}: {e}", dir.display())))?;
    review::write(
        dir,
        results,
        &[],
        charts::topology_diagram(results).as_deref(),
    )
    .map_err(|e| Failure::Other(format!("cannot write the report to {}: {e}", dir.display())))?;
    Ok(Written {
        charts: charts.len() / 2,
    })
}

/// `ztsim report STUDY`: the design-review report of a finished study.
pub fn report_command(study: &Path, slos: &[String], out: Option<PathBuf>) -> Result<(), Failure> {
    let results_path = if study.is_dir() {
        study.join("results.json")
    } else {
        study.to_path_buf()
    };
    if !results_path.exists() {
        return Err(bad(Diagnostic::new(
            study.display().to_string(),
            "no results.json here: give a study folder written by `ztsim sweep` (e.g. output/default) or its results.json",
        )));
    }
    let results: StudyResults = read_results(&results_path)
        .map_err(|m| bad(Diagnostic::new(results_path.display().to_string(), m)))?;
    let slos: Vec<Slo> = slos
        .iter()
        .map(|o| Slo::parse(o).map_err(|m| flag_error("--slo", m)))
        .collect::<Result<_, _>>()?;
    let folder = results_path
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let dir = out.unwrap_or_else(|| folder.clone());
    check_writable(&dir)?;
    // The report shows the charts beside it: draw them where it goes.
    if dir != folder
        || Chart::ALL
            .iter()
            .all(|c| !dir.join(format!("{}.png", c.stem())).exists())
    {
        charts::render_all(&results, &dir).map_err(|e| {
            Failure::Other(format!("cannot write charts to {}: {e}", dir.display()))
        })?;
    }
    let written = review::write(
        &dir,
        &results,
        &slos,
        charts::topology_diagram(&results).as_deref(),
    )
    .map_err(|e| Failure::Other(format!("cannot write the report to {}: {e}", dir.display())))?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(())
}

/// A progress bar on a terminal; nothing otherwise (logs stay clean).
fn progress(points: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(points);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} points, {elapsed} elapsed, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Refuses up front an output folder that cannot be written, rather than
/// after the whole sweep has run.
pub(crate) fn check_writable(dir: &Path) -> Result<(), Failure> {
    let probe = dir.join(".ztsim-write-test");
    std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&probe, b""))
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| {
            bad(Diagnostic::new(
                dir.display().to_string(),
                format!("the output folder cannot be written: {e}; choose another with --out"),
            ))
        })
}

/// `ztsim plot RESULTS`: redraw the charts of a results.json.
pub fn plot_command(results: &Path, out: Option<PathBuf>) -> Result<(), Failure> {
    let r: StudyResults = read_results(results)
        .map_err(|m| bad(Diagnostic::new(results.display().to_string(), m)))?;
    let dir = out.unwrap_or_else(|| results.parent().unwrap_or(Path::new(".")).to_path_buf());
    check_writable(&dir)?;
    let written = charts::render_all(&r, &dir)
        .map_err(|e| Failure::Other(format!("cannot write charts to {}: {e}", dir.display())))?;
    for p in &written {
        println!("wrote {}", p.display());
    }
    Ok(())
}
