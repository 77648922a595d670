//! `ztsim capacity`: flags into a search (or a sizing) of each design, run
//! by the library; the tables, and `capacity.json`/`.csv` or
//! `sizing.json`/`.csv`.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use ztsim::config::diag::KeyPath;
use ztsim::config::{self};
use ztsim::model::topology::Arrivals;
use ztsim::model::{Design, Topology};
use ztsim::report;
use ztsim::report::capacity::{
    capacity_dir, render_capacity, render_sizing, write_capacity, write_sizing,
};
use ztsim::report::slo::Slo;
use ztsim::report::words;
use ztsim::study::capacity::compare::{Target, capacity_report, sizing_report};
use ztsim::study::capacity::{Search, SizeBy, at_rate, fractional_cores};

use super::failure::{Failure, flag_error};
use super::flags::{
    BaselineFlag, CostsArg, FolderFlags, GateFlag, MAX_REPLICATIONS_HELP, ModelsArg, OutputFlags,
    PRICE_HELP, RESOLUTION_HELP, ReplicationsArg, THREADS_HELP, TopologyArg, WindowArgs, guard,
    open_loop_topology, price_flag, rate_flag, replications_flag, resolution_flag, set_threads,
    slo_flags, slo_scopes,
};
use super::input;
use super::terminal::Terminal;

/// What `--size` grows.
#[derive(Clone, Copy, ValueEnum)]
pub enum SizeFlag {
    /// Replicas per service (cores per replica as in the file).
    Replicas,
    /// Cores per replica (replicas as in the file).
    Cores,
}

/// Flags of `ztsim capacity`.
#[derive(Args)]
pub struct CapacityArgs {
    #[command(flatten)]
    topology: TopologyArg,
    #[command(flatten)]
    models: ModelsArg,
    /// Service-level objective on end-to-end latency, [ENDPOINT:]STATISTIC=LIMIT
    /// with STATISTIC one of mean, p50, p90, p95, p99, p99.9 (e.g. p99=50ms);
    /// with an entry endpoint first it bounds that endpoint's requests only
    /// (e.g. gateway.balance:p99=20ms). Repeat for several, all must hold.
    #[arg(long = "slo", value_name = "[ENDPOINT:]STAT=LIMIT")]
    slos: Vec<String>,
    #[command(flatten)]
    baseline: BaselineFlag,
    /// Size for this offered rate instead of searching for the highest:
    /// the fewest replicas (or cores) per service meeting every SLO.
    #[arg(long, value_name = "RPS")]
    target_rate: Option<String>,
    /// What sizing grows.
    #[arg(long, value_enum, default_value = "replicas")]
    size: SizeFlag,
    #[arg(long, value_name = "PRICE", help = PRICE_HELP)]
    price_per_vcpu_hour: Option<f64>,
    #[arg(long, value_name = "FRACTION", default_value = "2%", help = RESOLUTION_HELP)]
    resolution: String,
    /// First rate tried [default: the topology's rate].
    #[arg(long, value_name = "RPS")]
    start_rate: Option<String>,
    /// Highest rate tried [default: 1000 x the first].
    #[arg(long, value_name = "RPS")]
    max_rate: Option<String>,
    #[command(flatten)]
    replications: ReplicationsArg,
    #[arg(long, value_name = "N", default_value_t = 12, help = MAX_REPLICATIONS_HELP)]
    max_replications: u32,
    #[command(flatten)]
    costs: CostsArg,
    /// Each rate derives its seed from the base seed (shared by every design).
    #[command(flatten)]
    window: WindowArgs,
    /// Output folder [default: output/capacity/<topology name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    folder: FolderFlags,
    /// Replace results already in the output folder (without it, a default
    /// folder gives way to a new one, name-2, ..., and a folder given with
    /// --out is refused).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    gate: GateFlag,
    #[command(flatten)]
    output: OutputFlags,
    #[arg(long, value_name = "N", help = THREADS_HELP)]
    threads: Option<usize>,
}

impl CapacityArgs {
    fn slos(&self) -> Result<Vec<Slo>, Failure> {
        if self.slos.is_empty() {
            return Err(flag_error(
                "--slo",
                "capacity needs at least one SLO: write --slo [ENDPOINT:]STATISTIC=LIMIT with STATISTIC one of mean, p50, p90, p95, p99, p99.9 (or p999), LIMIT a duration and ENDPOINT an entry endpoint (without it, all requests together), e.g. --slo p99=50ms or --slo gateway.balance:p99=20ms",
            ));
        }
        slo_flags(&self.slos)
    }

    /// The topology with the flags' workload settings, refused if closed loop.
    fn topology(&self) -> Result<Topology, Failure> {
        open_loop_topology(&self.topology, &self.window, "capacity")
    }

    fn search(&self, topo: &Topology) -> Result<Search, Failure> {
        let replications = self
            .replications
            .get()?
            .unwrap_or(topo.workload.replications);
        replications_flag("--max-replications", self.max_replications)?;
        let start_rps = self
            .start_rate
            .as_deref()
            .map(|r| rate_flag("--start-rate", r))
            .transpose()?;
        let max_rps = self
            .max_rate
            .as_deref()
            .map(|r| rate_flag("--max-rate", r))
            .transpose()?;
        if let (Some(start), Some(max)) = (start_rps, max_rps)
            && max < start
        {
            return Err(flag_error(
                "--max-rate",
                format!(
                    "the highest rate tried cannot be below the first (--start-rate {}), got {}",
                    words::rate(start),
                    words::rate(max)
                ),
            ));
        }
        // A first rate too big to simulate leaves the search no answer at all.
        if let Some(start) = start_rps
            && let Some(why) =
                ztsim::model::guard::Size::of(&at_rate(topo, start), &Design::plaintext()).refusal()
        {
            return Err(flag_error(
                "--start-rate",
                format!("at {}, {why}", words::rate(start)),
            ));
        }
        Ok(Search {
            resolution: resolution_flag(&self.resolution)?,
            replications,
            max_replications: self.max_replications.max(replications),
            start_rps,
            max_rps,
        })
    }

    /// Sizing counts whole cores: refused, at the key, when the topology
    /// or a design gives a fraction of a core that it would count.
    fn whole_cores(&self, topo: &Topology) -> Result<(), Failure> {
        if let Some(node) = topo.nodes.first() {
            let path = KeyPath::root().key("nodes").key(&node.name);
            return Err(Failure::BadInput(vec![
                config::locate(
                    self.topology.as_path(),
                    &path,
                    "capacity sizing grows each service's replicas or cores, and services on nodes share the nodes' cores: sizing nodes is not supported",
                )
                .with_help("size by hand with `ztsim run` (the rate search without --target-rate takes nodes)"),
            ]));
        }
        let costs = self.costs.load()?;
        let mut files = vec![(self.topology.as_path(), Design::plaintext())];
        for m in &self.models.models {
            let d = config::load_design(m, topo, costs.as_ref()).map_err(Failure::BadInput)?;
            files.push((m.as_path(), d.design));
        }
        for (file, d) in &files {
            let Some((key, cores)) = fractional_cores(topo, d) else {
                continue;
            };
            // A service's key is the topology's; the others the design's.
            let file = if key.starts_with("services.") {
                self.topology.as_path()
            } else {
                file
            };
            let path = key.split('.').fold(KeyPath::root(), |p, k| p.key(k));
            return Err(Failure::BadInput(vec![
                config::locate(
                    file,
                    &path,
                    format!("capacity sizing counts whole cores, and this is {cores}: it grows a service one core or one replica at a time and prices whole vCPUs"),
                )
                .with_help("give whole cores to size it (the rate search without --target-rate takes fractions), or size by hand with `ztsim run`"),
            ]));
        }
        Ok(())
    }

    /// The plaintext baseline first (unless --no-baseline with designs
    /// given), then each --model once.
    fn designs(&self, topo: &Topology) -> Result<Vec<Design>, Failure> {
        let mut designs = Vec::new();
        if self.models.models.is_empty() || !self.baseline.no_baseline {
            designs.push(Design::plaintext());
        }
        let costs = self.costs.load()?;
        for m in &self.models.models {
            let d = input::design(m, topo, costs.as_ref())?;
            if !designs.contains(&d) {
                designs.push(d);
            }
        }
        Ok(designs)
    }
}

/// `ztsim capacity`.
pub fn command(args: CapacityArgs) -> Result<(), Failure> {
    args.output.apply();
    let models = args.models.models.iter().map(|m| ("--model", m.as_path()));
    input::one_stdin(std::iter::once(("TOPOLOGY", args.topology.as_path())).chain(models))?;
    let slos = args.slos()?;
    let target = args
        .target_rate
        .as_deref()
        .map(|r| rate_flag("--target-rate", r))
        .transpose()?;
    price_flag(args.price_per_vcpu_hour)?;
    let topo = args.topology()?;
    slo_scopes(&slos, &topo)?;
    let search = args.search(&topo)?;
    let designs = args.designs(&topo)?;
    if target.is_some() {
        args.whole_cores(&topo)?;
    }
    if let Some(n) = args.threads {
        set_threads(n)?;
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| capacity_dir(Path::new(report::OUTPUT_ROOT), &topo.name));
    let marker = if target.is_some() {
        "sizing.json"
    } else {
        "capacity.json"
    };
    let (dir, _lock) =
        args.folder
            .claim(&dir, args.out.as_ref().map(|_| "--out"), args.force, |d| {
                d.join(marker).exists()
            })?;
    let names: Vec<&str> = designs.iter().map(|d| d.name.as_str()).collect();
    let cannot = |e: std::io::Error| {
        Failure::Other(format!("cannot write results to {}: {e}", dir.display()))
    };
    let mut reasons = Vec::new();
    match target {
        None => {
            errln!(
                "searching the highest rate meeting the SLOs for {}...",
                names.join(", ")
            );
            let r = capacity_report(
                &topo,
                &designs,
                slos,
                &search,
                &Terminal::searching("points"),
            );
            out!("{}", render_capacity(&r));
            write_capacity(&dir, &r).map_err(cannot)?;
            outln!("\nwrote {}/capacity.json and capacity.csv", dir.display());
            let own = topo.workload.arrivals.rate();
            for d in &r.designs {
                match (d.met_rps, own) {
                    (None, _) => reasons.push(format!(
                        "design `{}` meets the SLOs at no rate tried",
                        d.design
                    )),
                    (Some(met), Some(own)) if met < own => reasons.push(format!(
                        "design `{}` meets the SLOs up to {met} rps, below the topology's rate of {own} rps",
                        d.design
                    )),
                    _ => {}
                }
            }
            json_of(&dir, "capacity", &r)?;
        }
        Some(rate) => {
            let at = capacity_topology_at(&topo, rate);
            for d in &designs {
                guard(&at, d, &args.topology)?;
            }
            let by = match args.size {
                SizeFlag::Replicas => SizeBy::Replicas,
                SizeFlag::Cores => SizeBy::Cores,
            };
            errln!(
                "sizing {} for {rate} rps by {}...",
                names.join(", "),
                by.name()
            );
            let target = Target {
                rate_rps: rate,
                by,
                price_per_vcpu_hour: args.price_per_vcpu_hour,
            };
            let r = sizing_report(
                &topo,
                &designs,
                slos,
                target,
                &search,
                &Terminal::searching("sizes tried"),
            );
            out!("{}", render_sizing(&r));
            write_sizing(&dir, &r).map_err(cannot)?;
            outln!("\nwrote {}/sizing.json and sizing.csv", dir.display());
            for d in r.designs.iter().filter(|d| !d.met) {
                reasons.push(format!(
                    "design `{}`: no size tried meets the SLOs at {rate} rps",
                    d.design
                ));
            }
            json_of(&dir, "sizing", &r)?;
        }
    }
    args.gate.check(reasons)
}

/// The JSON document of --json: the folder, the files written and the
/// report as in `<stem>.json`.
fn json_of(dir: &Path, stem: &str, report: &impl serde::Serialize) -> Result<(), Failure> {
    let value = serde_json::to_value(report).map_err(|e| Failure::Other(e.to_string()))?;
    super::print::json(serde_json::json!({
        "command": "capacity",
        "folder": dir,
        "files": [dir.join(format!("{stem}.json")), dir.join(format!("{stem}.csv"))],
        stem: value,
    }));
    Ok(())
}

/// The topology at `rate`, for the size guard.
fn capacity_topology_at(topo: &Topology, rate: f64) -> Topology {
    let mut t = topo.clone();
    t.workload.arrivals = match t.workload.arrivals {
        Arrivals::Constant { .. } => Arrivals::Constant { rate },
        _ => Arrivals::Poisson { rate },
    };
    t
}
