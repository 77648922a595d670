//! `ztsim sensitivity`: flags into a [`Spec`] and its knobs, the analysis
//! run by the library, and the files (`sensitivity.csv`,
//! `sensitivity.json`, tornado charts).

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::config::{self, Diagnostic};
use ztsim::model::topology::{Arrivals, Window};
use ztsim::report::{self, words};
use ztsim::study::capacity::Search;
use ztsim::study::sensitivity::{self, Spec};
use ztsim::units;

use super::failure::{Failure, bad, flag_error};
use super::flags::{
    CostsArg, FolderFlags, GuardFlag, OutputFlags, RATE_HELP, RESOLUTION_HELP, ReplicationsArg,
    THREADS_HELP, TopologyArg, WindowArgs, guard, replications_flag, resolution_flag, set_threads,
    slo_flags, slo_scopes,
};
use super::input;
use super::terminal::Terminal;

/// Flags of `ztsim sensitivity`.
#[derive(Args)]
pub struct SensitivityArgs {
    #[command(flatten)]
    topology: TopologyArg,
    /// The base design (models/*.toml; `-` for standard input) whose parameters are varied.
    #[arg(long, short, value_name = "FILE")]
    model: PathBuf,
    #[command(flatten)]
    costs: CostsArg,
    #[arg(long, value_name = "RPS", help = RATE_HELP)]
    rate: Option<String>,
    /// A service-level objective, e.g. p99=50ms, or gateway.balance:p99=20ms
    /// on one entry endpoint; repeatable. With one, each variation's capacity
    /// (highest rate meeting every SLO) is measured and ranked too.
    #[arg(long, value_name = "[ENDPOINT:]STAT=LIMIT")]
    slo: Vec<String>,
    /// Vary only this parameter, PATH=LOW,HIGH (values as in TOML, e.g.
    /// resumption.ticket_ttl=1m,1h), or PATH=VALUE to compare one value with
    /// the base; repeatable. Paths reach into the design or the topology
    /// (services.cart.replicas=2,8).
    #[arg(long, value_name = "PATH=LOW,HIGH")]
    param: Vec<String>,
    /// With --param, vary every default parameter too (a --param replaces
    /// the default variation of the same path).
    #[arg(long)]
    with_defaults: bool,
    #[command(flatten)]
    replications: ReplicationsArg,
    /// Every variation runs on the base seed, with the same window.
    #[command(flatten)]
    window: WindowArgs,
    #[arg(long, value_name = "FRACTION", default_value = "5%", help = RESOLUTION_HELP)]
    resolution: String,
    /// With --slo: replications of each capacity point. A point the 95%
    /// intervals cannot decide counts as not met (a capacity study would add
    /// replications; here that would multiply the cost by the variations).
    #[arg(long, value_name = "N", default_value_t = 3)]
    capacity_replications: u32,
    /// Rows of the terminal table (the files hold every parameter).
    #[arg(long, value_name = "N", default_value_t = 15)]
    top: usize,
    /// Output folder [default: output/sensitivity/<topology>-<design>]; see --force.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    folder: FolderFlags,
    #[command(flatten)]
    output: OutputFlags,
    /// Replace results already in the output folder (without it, a default
    /// folder gives way to a new one, name-2, ..., and a folder given with
    /// --out is refused).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    guard: GuardFlag,
    #[arg(long, value_name = "N", help = THREADS_HELP)]
    threads: Option<usize>,
}

impl SensitivityArgs {
    fn spec(&self) -> Result<Spec, Failure> {
        input::one_stdin([
            ("TOPOLOGY", self.topology.as_path()),
            ("--model", self.model.as_path()),
        ])?;
        let topology = input::read(&self.topology).map_err(bad)?;
        let design = input::read(&self.model).map_err(bad)?;
        // The base files alone first, so their own mistakes are reported
        // with their lines rather than as a variation's.
        let topo =
            config::parse_topology(&topology.name, &topology.text).map_err(Failure::BadInput)?;
        let costs = self.costs.load()?;
        let parsed = config::design::parse_design_with_costs(
            &design.name,
            &design.text,
            Some(&topo),
            costs.as_ref(),
        )
        .map_err(Failure::BadInput)?;
        super::print::warnings(&parsed.warnings);
        let rate = match &self.rate {
            Some(r) => units::parse_rate(r).map_err(|e| flag_error("--rate", e.message))?,
            None => topo.workload.arrivals.rate().ok_or_else(|| {
                flag_error("--rate", "give the load to analyse at, e.g. --rate 150")
            })?,
        };
        if matches!(topo.workload.arrivals, Arrivals::Closed { .. }) {
            return Err(flag_error(
                "--rate",
                "the topology's workload is a closed loop (users and think time); sensitivity runs open-loop arrivals at a rate",
            ));
        }
        let window = self.window.parsed()?;
        if let (Some(Window::Requests(_)), Arrivals::Profile { .. }) =
            (window.window, &topo.workload.arrivals)
        {
            return Err(flag_error(
                "--requests",
                "the workload follows a rate profile, which needs a measured duration (its mean over the window is the rate); give --duration instead",
            ));
        }
        Ok(Spec {
            topology,
            design,
            rate,
            replications: self.replications.get()?,
            seed: window.seed,
            duration: match window.window {
                Some(Window::Duration(d)) => Some(d),
                _ => None,
            },
            requests: window.window.and_then(Window::requests),
            warmup: window.warmup,
            costs,
        })
    }
}

/// Names the --param flag in a variation's problem, so the user knows
/// which flag to fix.
fn about_flags(mut ds: Vec<Diagnostic>, args: &SensitivityArgs) -> Vec<Diagnostic> {
    for d in &mut ds {
        if let Some(flag) = args.param.iter().find(|p| {
            p.split_once('=')
                .is_some_and(|(path, _)| d.message.contains(&format!("`{}`", path.trim())))
        }) {
            d.message = format!("--param {flag}: {}", d.message);
        }
    }
    ds
}

/// `ztsim sensitivity`.
pub fn command(args: SensitivityArgs) -> Result<(), Failure> {
    args.output.apply();
    let spec = args.spec()?;
    let slos = slo_flags(&args.slo)?;
    let resolution = resolution_flag(&args.resolution)?;
    replications_flag("--capacity-replications", args.capacity_replications)?;
    let search = Search {
        resolution,
        replications: args.capacity_replications,
        max_replications: args.capacity_replications,
        ..Search::default()
    };
    let (knobs, skipped) =
        sensitivity::knobs(&spec, &args.param, args.with_defaults).map_err(Failure::BadInput)?;
    let prepared = sensitivity::prepare(&spec, knobs)
        .map_err(|ds| Failure::BadInput(about_flags(ds, &args)))?;
    slo_scopes(&slos, &prepared.base.topology)?;
    if !args.guard.no_guard {
        for case in prepared.cases() {
            guard(&case.topology, &case.design, &args.topology)?;
        }
    }
    if let Some(n) = args.threads {
        set_threads(n)?;
    }
    let dir = args.out.clone().unwrap_or_else(|| {
        // A file from standard input is named `stdin`, as in every command.
        let name = |path: &Path, own: &str| {
            if input::is_stdin(path) && own == input::STDIN {
                "stdin".to_string()
            } else {
                own.to_string()
            }
        };
        report::sensitivity_dir(
            Path::new(report::OUTPUT_ROOT),
            &name(&args.topology, &prepared.base.topology.name),
            &name(&args.model, &prepared.base.design.name),
        )
    });
    let (dir, _lock) =
        args.folder
            .claim(&dir, args.out.as_ref().map(|_| "--out"), args.force, |d| {
                d.join("sensitivity.json").exists()
            })?;
    let runs = prepared.cases().count();
    outln!(
        "varying {} of {} one at a time on {} at {} rps: {} x {}, all on seed {}{}",
        words::count(prepared.knobs.len(), "parameter"),
        prepared.base.design.name,
        prepared.base.topology.name,
        spec.rate,
        words::count(runs, "run"),
        words::count(
            prepared.base.topology.workload.replications as usize,
            "replication"
        ),
        prepared.base.topology.workload.seed,
        if slos.is_empty() {
            String::new()
        } else {
            ", each with a capacity search".to_string()
        }
    );
    let results = sensitivity::analyse(
        &spec,
        &prepared,
        (&slos, &search),
        skipped,
        &Terminal::counting("runs"),
    );
    // Files first: a table piped into `head` must not lose the results.
    let written = report::sensitivity::write(&results, &dir)
        .and_then(|mut w| {
            w.extend(ztsim::charts::tornado::render(&results, &dir)?);
            Ok(w)
        })
        .map_err(|e| Failure::Other(format!("cannot write results to {}: {e}", dir.display())))?;
    out!("\n{}", report::sensitivity::table(&results, args.top));
    outln!(
        "\nwrote {}/sensitivity.csv, sensitivity.json and {}",
        dir.display(),
        written
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .filter(|n| !n.starts_with("sensitivity."))
            .collect::<Vec<_>>()
            .join(", ")
    );
    super::print::json_wrote(
        "sensitivity",
        &dir,
        &written,
        "sensitivity",
        &dir.join("sensitivity.json"),
    );
    Ok(())
}
