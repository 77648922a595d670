//! `ztsim run`: one topology under one design (and the plaintext baseline
//! on the same seeds), or under several (`-m a.toml -m b.toml`, each in a
//! folder of its own, compared in one table), with workload overrides, a
//! replay of recorded arrivals (`--replay`, `--replay-speed`) and traces of
//! chosen requests (`--export-traces`).

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::config::KeyPath;
use ztsim::model::topology::Arrivals;
use ztsim::model::{Design, Replications, Topology};
use ztsim::report;
use ztsim::report::output::{self, FolderLock};
use ztsim::report::slo::{Slo, Verdict};
use ztsim::study::export::{Export, Exported, Exporter};
use ztsim::study::folder::check_writable;

use super::failure::{Failure, bad, flag_error};
use super::flags::{
    BaselineFlag, CostsArg, FolderFlags, GateFlag, GuardFlag, ModelsArg, OutputFlags, Overrides,
    THREADS_HELP, TopologyArg, guard, set_threads, slo_flags, slo_scopes,
};
use super::input;

/// Flags of `ztsim run`.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    topology: TopologyArg,
    // Without one, plaintext (the perimeter baseline) runs alone.
    #[command(flatten)]
    models: ModelsArg,
    #[command(flatten)]
    baseline: BaselineFlag,
    #[command(flatten)]
    guard: GuardFlag,
    /// Replace results already in the output folder (without it, a default
    /// folder gives way to a new one, name-2, ..., and a folder given with
    /// --out is refused).
    #[arg(long)]
    force: bool,
    /// A latency objective, e.g. p99=50ms, or gateway.balance:p99=20ms on
    /// one entry endpoint (repeatable): the run's verdict on each is printed
    /// (and with --fail-on-slo, a miss exits 3).
    #[arg(long, value_name = "[ENDPOINT:]STAT=LIMIT")]
    slo: Vec<String>,
    #[command(flatten)]
    gate: GateFlag,
    #[command(flatten)]
    output: OutputFlags,
    #[command(flatten)]
    costs: CostsArg,
    #[command(flatten)]
    overrides: Overrides,
    #[command(flatten)]
    replay: ReplayArgs,
    #[command(flatten)]
    export: ExportArgs,
    /// Folder for summary.json and latency.csv [default: output/runs/<topology name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    folder: FolderFlags,
    #[arg(long, value_name = "N", help = THREADS_HELP)]
    threads: Option<usize>,
}

/// Replaying recorded arrivals.
#[derive(Args, Default)]
pub struct ReplayArgs {
    /// Play the topology's recorded arrivals (`[workload] replay`) instead of
    /// its arrival process; the window spans every recorded request after warm-up.
    #[arg(long)]
    replay: bool,
    /// Playback speed of a replay: 2 plays the recording twice as fast.
    #[arg(long, value_name = "X")]
    replay_speed: Option<f64>,
}

impl ReplayArgs {
    /// Switches `topo` to its recording if asked. A replay's window follows
    /// its warm-up and speed, so it is recomputed when either changes
    /// (`warmup_changed`: --warmup was given); returns true if it was, and
    /// the caller then applies --duration/--requests again to narrow it.
    pub fn apply(&self, topo: &mut Topology, warmup_changed: bool) -> Result<bool, Failure> {
        let current = match topo.workload.arrivals {
            Arrivals::Replay { speed, .. } => Some(speed),
            _ => None,
        };
        if !self.replay && current.is_none() {
            if self.replay_speed.is_some() {
                return Err(flag_error(
                    "--replay-speed",
                    "applies to a replay: add --replay (the topology's workload needs `replay = \"FILE.arrivals.csv\"`)",
                ));
            }
            return Ok(false);
        }
        if !self.replay && self.replay_speed.is_none() && !warmup_changed {
            return Ok(false);
        }
        let speed = self.replay_speed.or(current).unwrap_or(1.0);
        let flag = if self.replay_speed.is_some() {
            "--replay-speed"
        } else if self.replay {
            "--replay"
        } else {
            "--warmup"
        };
        topo.workload
            .replay(speed)
            .map_err(|why| flag_error(flag, format!("`{}`: {why}", topo.name)))?;
        Ok(true)
    }
}

/// Exporting simulated requests as traces.
#[derive(Args, Default)]
pub struct ExportArgs {
    /// Write the slowest and a random sample of the simulated requests as
    /// Jaeger and OTLP JSON traces into DIR (the baseline's in DIR/baseline;
    /// with several designs, each design's in DIR/<design>).
    #[arg(long, value_name = "DIR")]
    export_traces: Option<PathBuf>,
    /// How many of the slowest requests to export.
    #[arg(
        long,
        value_name = "K",
        default_value_t = 10,
        requires = "export_traces",
        value_parser = exported_count
    )]
    export_slowest: usize,
    /// How many requests to export at random (deterministic by seed).
    #[arg(
        long,
        value_name = "M",
        default_value_t = 20,
        requires = "export_traces",
        value_parser = exported_count
    )]
    export_sample: usize,
}

/// The most requests `--export-slowest` or `--export-sample` keeps: each
/// exported request is kept whole (every call and phase, tens of KB) until
/// the run ends, beyond what the run's memory guard counts.
const MAX_EXPORTED: usize = 1_000;

/// An `--export-slowest` or `--export-sample` count, from 0 to
/// [`MAX_EXPORTED`].
fn exported_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n <= MAX_EXPORTED => Ok(n),
        _ => Err(format!(
            "a number of requests from 0 to {MAX_EXPORTED} is expected: each is kept whole in memory until the run ends (a trace UI shows a few dozen best)"
        )),
    }
}

impl ExportArgs {
    /// What to export, if asked, into the folder given, refused if it holds
    /// traces already (in it or in the `subs` the run exports to) unless
    /// `force`, or if it is the run's output folder `out`. The folder is
    /// locked while the lock lives, and its `subs` checked writable.
    pub fn claim(
        &self,
        folder: &FolderFlags,
        force: bool,
        out: &Path,
        subs: &[String],
    ) -> Result<(Option<Export>, Option<FolderLock>), Failure> {
        let Some(d) = &self.export_traces else {
            return Ok((None, None));
        };
        // The run holds `out` locked already: the same folder by any
        // spelling would only meet its own lock.
        if output::resolved(d) == output::resolved(out) {
            return Err(flag_error(
                "--export-traces",
                format!(
                    "must be a folder other than --out ({}): results and traces each take a folder of their own, e.g. --export-traces {}",
                    out.display(),
                    out.join("traces").display()
                ),
            ));
        }
        let (dir, lock) = folder.claim(d, Some("--export-traces"), force, |d| {
            std::iter::once(d.to_path_buf())
                .chain(subs.iter().map(|s| d.join(s)))
                .any(|f| f.join("jaeger.json").exists())
        })?;
        for s in subs {
            check_writable(&dir.join(s)).map_err(bad)?;
        }
        let export = Export {
            dir,
            slowest: self.export_slowest,
            sample: self.export_sample,
        };
        Ok((Some(export), Some(lock)))
    }
}

/// `ztsim run`.
pub fn command(args: RunArgs) -> Result<(), Failure> {
    args.output.apply();
    let models = args.models.models.iter().map(|m| ("--model", m.as_path()));
    input::one_stdin(std::iter::once(("TOPOLOGY", args.topology.as_path())).chain(models))?;
    let slos = slo_flags(&args.slo)?;
    let mut topo = input::topology(&args.topology)?;
    slo_scopes(&slos, &topo)?;
    args.overrides.apply(&mut topo)?;
    if args
        .replay
        .apply(&mut topo, args.overrides.window.warmup.is_some())?
    {
        // The replay's window was recomputed: --duration/--requests narrow it.
        args.overrides.apply(&mut topo)?;
    }
    let costs = args.costs.load()?;
    let mut given: Vec<Design> = Vec::new();
    for path in &args.models.models {
        let d = input::design(path, &topo, costs.as_ref())?;
        if !given.contains(&d) {
            given.push(d);
        }
    }
    if given.len() > 1 {
        return several(&args, &topo, given, &slos);
    }
    let named = !given.is_empty();
    let design = given.pop().unwrap_or_else(Design::plaintext);
    if !args.guard.no_guard {
        guard(&topo, &design, &args.topology)?;
    }
    if let Some(n) = args.threads {
        set_threads(n)?;
    }
    let out_flag = args.out.as_ref().map(|_| "--out");
    let dir = args.out.clone().unwrap_or_else(|| {
        let name = named.then_some(design.name.as_str());
        report::run_dir(Path::new(report::OUTPUT_ROOT), &topo.name, name)
    });
    // Results already there are kept unless --force.
    let (dir, _lock) = args.folder.claim(&dir, out_flag, args.force, |d| {
        d.join("summary.json").exists()
    })?;
    let baseline = named && !args.baseline.no_baseline && design != Design::plaintext();
    let subs = if baseline {
        vec!["baseline".to_string()]
    } else {
        Vec::new()
    };
    let (export, _export_lock) = args.export.claim(&args.folder, args.force, &dir, &subs)?;
    warn_offered(&topo, &args.topology);
    let done = simulate_and_report(&topo, &design, baseline, &dir, export.as_ref())?;
    let verdicts: Vec<(&Slo, Verdict)> =
        slos.iter().map(|s| (s, s.verdict(&done.summary))).collect();
    if !verdicts.is_empty() {
        outln!();
        for (s, v) in &verdicts {
            outln!("SLO {s}: {}", verdict_word(*v));
        }
    }
    let mut reasons = Vec::new();
    if let Some(sat) = &done.summary.saturated {
        reasons.push(format!("the run saturated: {}", sat.message));
    }
    for (s, v) in &verdicts {
        if *v == Verdict::Missed {
            reasons.push(format!("SLO {s} missed"));
        }
    }
    super::print::json(serde_json::json!({
        "command": "run",
        "folder": dir,
        "files": done.files,
        "summary": done.summary,
        "baseline": done.baseline,
        "slos": verdicts
            .iter()
            .map(|(s, v)| serde_json::json!({ "slo": s.to_string(), "verdict": v }))
            .collect::<Vec<_>>(),
        "saturated": done.summary.saturated.is_some(),
    }));
    args.gate.check(reasons)
}

/// `ztsim run -m a.toml -m b.toml`: each design on the same topology and
/// seeds (common random numbers), the plaintext baseline last unless
/// `--no-baseline` (or given); each design's files in a folder of its own
/// under the run's folder, its table, then one table comparing them.
fn several(
    args: &RunArgs,
    topo: &Topology,
    given: Vec<Design>,
    slos: &[Slo],
) -> Result<(), Failure> {
    let names: Vec<String> = given.iter().map(|d| d.name.clone()).collect();
    let mut designs = given;
    if !args.baseline.no_baseline && !designs.contains(&Design::plaintext()) {
        designs.push(Design::plaintext());
    }
    let base = designs.iter().position(|d| *d == Design::plaintext());
    // Each design's folder is named after it: two of one name would mix.
    for (i, d) in designs.iter().enumerate() {
        if designs[..i].iter().any(|e| e.name == d.name) {
            return Err(flag_error(
                "--model",
                format!(
                    "two different designs are named `{}`{}: each design's results go to a folder named after it; give each its own `name`",
                    d.name,
                    if Some(i) == base || d.name == "plaintext" {
                        " (one of them the plaintext baseline; or add --no-baseline)"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    if !args.guard.no_guard {
        for d in &designs {
            guard(topo, d, &args.topology)?;
        }
    }
    if let Some(n) = args.threads {
        set_threads(n)?;
    }
    let folders: Vec<String> = designs.iter().map(|d| report::safe_name(&d.name)).collect();
    let dir = args.out.clone().unwrap_or_else(|| {
        let name = names.join("-");
        report::run_dir(Path::new(report::OUTPUT_ROOT), &topo.name, Some(&name))
    });
    let out_flag = args.out.as_ref().map(|_| "--out");
    let (dir, _lock) = args.folder.claim(&dir, out_flag, args.force, |d| {
        folders
            .iter()
            .any(|f| d.join(f).join("summary.json").exists())
    })?;
    let (export, _export_lock) = args
        .export
        .claim(&args.folder, args.force, &dir, &folders)?;
    // Each design's folder checked before any design runs: a planted link,
    // a file in its place or a name too long is refused now, not after.
    for f in &folders {
        check_writable(&dir.join(f)).map_err(bad)?;
    }
    warn_offered(topo, &args.topology);
    let mut files = Vec::new();
    let mut exporter = Exporter::default();
    let mut summaries = Vec::new();
    for (d, folder) in designs.iter().zip(&folders) {
        let runs = exported(
            exporter.run(export.as_ref(), topo, d, Some(folder)),
            d,
            &mut files,
        )?;
        let summary = report::summarize(topo, d, &runs.runs);
        outln!("{}:", d.name);
        out!("{}", report::table::render(&summary));
        outln!();
        let sub = dir.join(folder);
        report::write_run(&sub, topo, &runs.runs, &summary).map_err(|e| {
            Failure::Other(format!("cannot write results to {}: {e}", sub.display()))
        })?;
        files.extend(["summary.json", "latency.csv", "timeseries.csv"].map(|f| sub.join(f)));
        summaries.push(summary);
    }
    out!("{}", super::compare::table(&summaries, base));
    if let Some(b) = base {
        for s in summaries
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != b)
            .map(|(_, s)| s)
        {
            outln!("\n{}", report::headline(&summaries[b], s));
        }
    }
    let folder_of = |i: usize| dir.join(&folders[i]);
    let (documents, reasons) = judged(&summaries, &names, slos, base, &folder_of);
    outln!();
    for f in &folders {
        outln!(
            "wrote {}/summary.json, latency.csv and timeseries.csv",
            dir.join(f).display()
        );
    }
    super::print::json(serde_json::json!({
        "command": "run",
        "folder": dir,
        "files": files,
        "designs": documents,
        "saturated": summaries.iter().any(|s| s.saturated.is_some()),
    }));
    args.gate.check(reasons)
}

/// Each design's verdicts (printed), the reasons to fail the gate, and its
/// part of the `--json` document. Verdicts and the gate concern the
/// designs given (`names`), as with one design; not the baseline added.
fn judged(
    summaries: &[report::Summary],
    names: &[String],
    slos: &[Slo],
    base: Option<usize>,
    folder: &dyn Fn(usize) -> PathBuf,
) -> (Vec<serde_json::Value>, Vec<String>) {
    let mut reasons = Vec::new();
    let mut documents = Vec::new();
    if !slos.is_empty() {
        outln!();
    }
    for (i, s) in summaries.iter().enumerate() {
        let asked = names.contains(&s.design);
        let verdicts: Vec<(&Slo, Verdict)> = if asked {
            slos.iter().map(|o| (o, o.verdict(s))).collect()
        } else {
            Vec::new()
        };
        for (o, v) in &verdicts {
            outln!("SLO {o} ({}): {}", s.design, verdict_word(*v));
            if *v == Verdict::Missed {
                reasons.push(format!("design `{}`: SLO {o} missed", s.design));
            }
        }
        if let (true, Some(sat)) = (asked, &s.saturated) {
            reasons.push(format!(
                "design `{}`: the run saturated: {}",
                s.design, sat.message
            ));
        }
        documents.push(serde_json::json!({
            "design": s.design,
            "folder": folder(i),
            "baseline": Some(i) == base,
            "summary": s,
            "slos": verdicts
                .iter()
                .map(|(o, v)| serde_json::json!({ "slo": o.to_string(), "verdict": v }))
                .collect::<Vec<_>>(),
            "saturated": s.saturated.is_some(),
        }));
    }
    (documents, reasons)
}

/// A verdict in a word.
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "met",
        Verdict::Missed => "missed",
        Verdict::Unsure => {
            "unsure (the 95% interval straddles the limit: more replications would tell)"
        }
    }
}

/// What a run found and wrote.
struct Done {
    summary: report::Summary,
    baseline: Option<report::Summary>,
    files: Vec<PathBuf>,
}

fn simulate_and_report(
    topo: &Topology,
    design: &Design,
    baseline: bool,
    dir: &Path,
    export: Option<&Export>,
) -> Result<Done, Failure> {
    let mut files = Vec::new();
    let mut exporter = Exporter::default();
    let runs = exported(exporter.run(export, topo, design, None), design, &mut files)?;
    let summary = report::summarize(topo, design, &runs.runs);
    out!("{}", report::table::render(&summary));
    let mut base = None;
    if baseline {
        // Same seeds, so the comparison sees common random numbers.
        let plain = Design::plaintext();
        let base_runs = exported(
            exporter.run(export, topo, &plain, Some("baseline")),
            &plain,
            &mut files,
        )?;
        let b = report::summarize(topo, &plain, &base_runs.runs);
        outln!("\n{}", report::headline(&b, &summary));
        base = Some(b);
    }
    report::write_run(dir, topo, &runs.runs, &summary)
        .map_err(|e| Failure::Other(format!("cannot write results to {}: {e}", dir.display())))?;
    outln!(
        "\nwrote {}/summary.json, latency.csv and timeseries.csv",
        dir.display()
    );
    files.extend(["summary.json", "latency.csv", "timeseries.csv"].map(|f| dir.join(f)));
    Ok(Done {
        summary,
        baseline: base,
        files,
    })
}

/// Before a run: the services and nodes whose business CPU alone offers
/// their cores 100% or more, warned about at their `cores` in `file`.
fn warn_offered(topo: &Topology, file: &Path) {
    let Some(rate) = topo.workload.arrivals.rate() else {
        return;
    };
    // (table, name, what): each at its `cores` (at its table where the
    // file leaves them to the default), the key to change.
    let mut found = Vec::new();
    for (svc, rho) in topo.services.iter().zip(topo.offered_utilisation(rate)) {
        // A service on nodes is warned about as its nodes, below.
        if rho >= 1.0 && svc.nodes.is_empty() {
            // A bounded queue sheds the excess instead of growing.
            let fate = if svc.queue_limit.is_some() {
                "its bounded queue will shed the excess"
            } else {
                "it will saturate"
            };
            found.push((
                "services",
                &svc.name,
                format!(
                    "at {rate} rps, service `{}` is offered {:.0}% of its cores by business CPU alone: {fate}",
                    svc.name,
                    rho * 100.0
                ),
            ));
        }
    }
    for (node, rho) in topo.nodes.iter().zip(topo.offered_node_utilisation(rate)) {
        if rho >= 1.0 {
            found.push((
                "nodes",
                &node.name,
                format!(
                    "at {rate} rps, node `{}` is offered {:.0}% of its cores by business CPU alone: the services on it will saturate",
                    node.name,
                    rho * 100.0
                ),
            ));
        }
    }
    if found.is_empty() {
        return;
    }
    // The file is read again only to locate what there is to say.
    let locate = input::locator(file);
    let located: Vec<_> = found
        .into_iter()
        .map(|(table, name, what)| locate(&KeyPath::root().key(table).key(name).key("cores"), what))
        .collect();
    super::print::warnings(&located);
}

/// The runs of an [`Exporter`], saying where traces went.
fn exported(
    outcome: Result<(Replications, Option<Exported>), String>,
    design: &Design,
    files: &mut Vec<PathBuf>,
) -> Result<Replications, Failure> {
    let (runs, written) = outcome.map_err(Failure::Other)?;
    if let Some(w) = written {
        files.extend(["jaeger.json", "otlp.json", "index.csv"].map(|f| w.dir.join(f)));
        outln!(
            "wrote {} traces ({}) to {}/jaeger.json, otlp.json and index.csv",
            w.traces,
            design.name,
            w.dir.display()
        );
    }
    Ok(runs)
}
