//! `ztsim sweep`, `ztsim plot` and the built-in default study: flags and
//! study files into a resolved [`Study`], a progress bar, and the files.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use ztsim::config::Diagnostic;
use ztsim::config::study::{self, Input, StudySpec};
use ztsim::report::study::{StudyResults, read_results, write_results};
use ztsim::report::{self, charts};
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
    /// Study name (its output folder under output/).
    #[arg(long)]
    name: Option<String>,
    /// Output folder [default: output/<study name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
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
            let d = units::parse_duration(d).map_err(|e| flag_error("--duration", e.message))?;
            if d == 0 {
                return Err(flag_error("--duration", "must be above zero"));
            }
            spec.duration = Some(d);
        }
        if let Some(d) = &self.warmup {
            spec.warmup =
                Some(units::parse_duration(d).map_err(|e| flag_error("--warmup", e.message))?);
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
    let spec = args.spec()?;
    if let Some(n) = args.threads {
        crate::set_threads(n)?;
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| report::study_dir(Path::new(report::OUTPUT_ROOT), &spec.name));
    run_study(&spec, &dir)
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
    run_study(&spec, &dir)?;
    let results = read_results(&dir.join("results.json")).map_err(Failure::Other)?;
    println!("\n{}", report::article::compare(&results));
    Ok(())
}

fn run_study(spec: &StudySpec, dir: &Path) -> Result<(), Failure> {
    let study = study::expand(spec).map_err(Failure::BadInput)?;
    check_writable(dir)?;
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
    let bar = progress(study.points.len() as u64);
    let t0 = std::time::Instant::now();
    let results = sweep::run(&study, &|| bar.inc(1));
    bar.finish_and_clear();
    write_results(dir, &results)
        .map_err(|e| Failure::Other(format!("cannot write results to {}: {e}", dir.display())))?;
    let charts = charts::render_all(&results, dir)
        .map_err(|e| Failure::Other(format!("cannot write charts to {}: {e}", dir.display())))?;
    print!("{}", report::study::overview(&results));
    println!(
        "\nwrote {}/results.csv, results.json and {} charts in {:.1} s",
        dir.display(),
        charts.len() / 2,
        t0.elapsed().as_secs_f64()
    );
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
fn check_writable(dir: &Path) -> Result<(), Failure> {
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
