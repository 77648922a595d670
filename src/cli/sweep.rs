//! `ztsim sweep`: a study file and flags into a study specification, run
//! into its folder (or one shard of it) by the library.

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::config;
use ztsim::config::study::{self, StudySpec};
use ztsim::model::topology::Window;
use ztsim::report;
use ztsim::report::slo::{Verdict, verdict_all};
use ztsim::report::study::read_results;
use ztsim::study::folder::{Existing, Run, has_results, run_study};
use ztsim::study::shard::Shard;

use super::failure::{Failure, bad, flag_error};
use super::flags::{
    CostsArg, FolderFlags, GateFlag, GuardFlag, ModelsArg, OutputFlags, PrettyFlag,
    ReplicationsArg, THREADS_HELP, WindowArgs, holds_results, rate_flag, set_threads, slo_flags,
    slo_scopes,
};
use super::input;
use super::terminal::{STOP, Terminal, command_line};

/// Flags of `ztsim sweep`.
#[derive(Args)]
pub struct SweepArgs {
    /// Study file (TOML): topology, designs, rates, params; flags override it
    /// (--topology its topology, --model its list of designs, --rate its loads).
    study: Option<PathBuf>,
    /// Topology file (topologies/*.toml; `-` for standard input).
    #[arg(long, value_name = "FILE")]
    topology: Option<PathBuf>,
    #[command(flatten)]
    models: ModelsArg,
    #[command(flatten)]
    costs: CostsArg,
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
    /// Draw the latency charts over every entry endpoint's requests together
    /// instead of one panel per entry endpoint.
    #[arg(long)]
    blend_entries: bool,
    #[command(flatten)]
    replications: ReplicationsArg,
    /// Each (load, parameters) combination derives its seed from the base
    /// seed; the window applies to every point.
    #[command(flatten)]
    window: WindowArgs,
    /// A latency objective, e.g. p99=50ms, or gateway.balance:p99=20ms on one
    /// entry endpoint (repeatable; replaces the study's `slo`): the report's
    /// capacity table gives the highest load meeting them.
    #[arg(long, value_name = "[ENDPOINT:]STAT=LIMIT")]
    slo: Vec<String>,
    /// Study name (its output folder under output/).
    #[arg(long)]
    name: Option<String>,
    /// Output folder [default: output/<study name>]; see --force and --resume.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    folder: FolderFlags,
    #[command(flatten)]
    guard: GuardFlag,
    /// Replace results already in the output folder (without it, a default
    /// folder gives way to a new one, name-2, ..., and a folder given with
    /// --out is refused).
    #[arg(long, conflicts_with = "resume")]
    force: bool,
    /// Continue an interrupted sweep in the output folder, reusing its
    /// finished points (rerunning a finished study recomputes nothing).
    #[arg(long)]
    resume: bool,
    #[arg(long, value_name = "N", help = THREADS_HELP)]
    threads: Option<usize>,
    #[command(flatten)]
    gate: GateFlag,
    #[command(flatten)]
    output: OutputFlags,
    #[command(flatten)]
    pretty: PrettyFlag,
    /// Run only shard I of N (0-based: 0/4 ... 3/4), for a task of a batch
    /// job; its share is balanced by estimated cost. Writes a shard result
    /// [default: output/<study>/shards/I-of-N] that `ztsim merge` combines.
    /// A shard folder of the same study is resumed, not replaced.
    #[arg(long, value_name = "I/N", allow_hyphen_values = true)]
    shard: Option<String>,
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
                let stem = if input::is_stdin(topology) {
                    Some("stdin")
                } else {
                    topology.file_stem().and_then(|s| s.to_str())
                };
                StudySpec {
                    name: stem.unwrap_or("study").to_string() + "-sweep",
                    title: String::new(),
                    topology: input::read(topology).map_err(bad)?,
                    designs: Vec::new(),
                    rates: Vec::new(),
                    focus_rate: None,
                    blend_entries: false,
                    params: Vec::new(),
                    replications: None,
                    seed: None,
                    duration: None,
                    requests: None,
                    warmup: None,
                    slos: Vec::new(),
                    costs: None,
                }
            }
        };
        if let Some(t) = &self.topology {
            spec.topology = input::read(t).map_err(bad)?;
        }
        if !self.models.models.is_empty() {
            spec.designs = self
                .models
                .models
                .iter()
                .map(|m| input::read(m))
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
        let mut flagged: Vec<(String, &str)> = Vec::new();
        for p in &self.param {
            let (path, values) =
                study::parse_param_flag(p).map_err(|m| flag_error("--param", m))?;
            // A flag replaces the study file's values of its path, but two
            // flags of one path would silently drop the first one's.
            if let Some((_, first)) = flagged.iter().find(|(q, _)| *q == path) {
                return Err(flag_error(
                    "--param",
                    format!(
                        "`{path}` is given twice (`{first}` and `{p}`); give all its values in one flag, e.g. {path}=1,2,3"
                    ),
                ));
            }
            flagged.push((path.clone(), p));
            spec.params.retain(|(q, _)| *q != path);
            spec.params.push((path, values));
        }
        spec.blend_entries |= self.blend_entries;
        if let Some(r) = &self.focus_rate {
            spec.focus_rate = Some(rate_flag("--focus-rate", r)?);
        }
        if let Some(n) = self.replications.get()? {
            spec.replications = Some(n);
        }
        let window = self.window.parsed()?;
        spec.seed = window.seed.or(spec.seed);
        match window.window {
            Some(Window::Duration(d)) => (spec.duration, spec.requests) = (Some(d), None),
            Some(Window::Requests(n)) => (spec.duration, spec.requests) = (None, Some(n)),
            None => {}
        }
        if let Some(d) = window.warmup {
            spec.warmup = Some(d);
        }
        if !self.slo.is_empty() {
            spec.slos = slo_flags(&self.slo)?;
            // A topology that does not compile is reported, located, by
            // the study's own checks.
            if let Ok(topo) = config::parse_topology(&spec.topology.name, &spec.topology.text) {
                slo_scopes(&spec.slos, &topo)?;
            }
        }
        if let Some(n) = &self.name {
            spec.name = n.clone();
        }
        spec.costs = self.costs.load()?;
        Ok(spec)
    }
}

/// `ztsim sweep`.
pub fn command(args: SweepArgs) -> Result<(), Failure> {
    args.output.apply();
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|m| flag_error("--shard", m))?;
    let inputs = args.topology.iter().map(|t| ("--topology", t.as_path()));
    input::one_stdin(inputs.chain(args.models.models.iter().map(|m| ("--model", m.as_path()))))?;
    let spec = args.spec()?;
    if let Some(n) = args.threads {
        set_threads(n)?;
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
    // A folder named with --out is never silently replaced by another.
    if existing == Existing::NewFolder && args.out.is_some() && has_results(&dir) {
        return Err(bad(holds_results(&dir, "--out")));
    }
    let run = Run {
        dir: &dir,
        existing,
        guarded: !args.guard.no_guard,
        shard,
        wait: args.folder.wait,
        command: &command_line(),
        pretty: args.pretty.pretty,
    };
    let dir = run_study(&spec, &run, &Terminal::sweep(), &STOP)?;
    if shard.is_some() {
        // A shard's verdicts are the merged study's.
        super::print::json(serde_json::json!({
            "command": "sweep",
            "folder": dir,
            "shard": args.shard,
        }));
        return Ok(());
    }
    finished(&args, &dir)
}

/// A finished study's verdicts: the JSON document of --json and the
/// outcome of --fail-on-slo, from the results.json just written.
fn finished(args: &SweepArgs, dir: &Path) -> Result<(), Failure> {
    let results = read_results(&dir.join("results.json")).map_err(Failure::Other)?;
    let mut reasons = Vec::new();
    let mut points = Vec::new();
    for p in &results.points {
        let verdict = (!results.slos.is_empty()).then(|| verdict_all(&results.slos, &p.summary));
        let at = serde_json::to_value(&p.at).unwrap_or_default();
        if p.summary.saturated.is_some() {
            reasons.push(format!("point {} ({at}) saturated", p.index));
        } else if verdict == Some(Verdict::Missed) {
            reasons.push(format!("point {} ({at}) missed an SLO", p.index));
        }
        points.push(serde_json::json!({
            "index": p.index,
            "at": at,
            "saturated": p.summary.saturated.is_some(),
            "verdict": verdict,
        }));
    }
    let files: Vec<_> = ["results.csv", "results.json", "report.html", "report.md"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    super::print::json(serde_json::json!({
        "command": "sweep",
        "folder": dir,
        "files": files,
        "slos": results.slos.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "points": points,
    }));
    args.gate.check(reasons)
}
