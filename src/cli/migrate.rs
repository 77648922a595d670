//! `ztsim migrate`: flags into a rollout plan, run by the library
//! (`study::migrate`); the step table, `migration.json` and `migration.csv`.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use ztsim::config::{self};
use ztsim::model::{Design, Topology};
use ztsim::report;
use ztsim::report::migration::{migration_dir, render_migration, write_migration};
use ztsim::report::slo::Slo;
use ztsim::study::capacity::{Search, at_rate};
use ztsim::study::migrate::{Capacity, MAX_AUTO_UNITS, Order, Plan, Rollout, migrate_told, units};

use super::failure::{Failure, flag_error};
use super::flags::{
    CostsArg, FolderFlags, MAX_REPLICATIONS_HELP, OutputFlags, PRICE_HELP, RATE_HELP,
    ReplicationsArg, THREADS_HELP, TopologyArg, WindowArgs, distinct_rates, guard,
    open_loop_topology, price_flag, rate_flag, replications_flag, set_threads, slo_flags,
    slo_scopes,
};
use super::input;
use super::terminal::Terminal;

/// What capacity each step reports.
#[derive(Clone, Copy, ValueEnum)]
pub enum CapacityFlag {
    /// None.
    None,
    /// Where the busiest group of cores would saturate, from the step's own
    /// run: an upper bound, in no extra time.
    Bound,
    /// The capacity search of `ztsim capacity` for every step and rate.
    Search,
}

/// Flags of `ztsim migrate`.
#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    topology: TopologyArg,
    /// The design every service runs before the first step (a models/*.toml
    /// without overrides; `-` for standard input).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// The design every service runs after the last step (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    /// The steps: a rollout file ([[step]] services = [...] or namespaces =
    /// [...]), or `auto` for the order that keeps every step within the
    /// SLOs with the fewest cores added at each step [default: callees
    /// first, a namespace (or a service) at a time].
    #[arg(long, value_name = "FILE|auto")]
    order: Option<String>,
    /// Service-level objective on end-to-end latency, [ENDPOINT:]STATISTIC=LIMIT
    /// (e.g. p99=50ms, or gateway.balance:p99=20ms on one entry endpoint's
    /// requests); repeat for several, all must hold.
    #[arg(long = "slo", value_name = "[ENDPOINT:]STAT=LIMIT")]
    slos: Vec<String>,
    #[arg(long, value_name = "RPS", conflicts_with = "rates", help = RATE_HELP)]
    rate: Option<String>,
    /// Several offered rates, comma-separated (e.g. 400,800,1200).
    #[arg(long, value_name = "RPS,...")]
    rates: Option<String>,
    /// Capacity at each step.
    #[arg(long, value_enum, default_value = "bound")]
    capacity: CapacityFlag,
    #[arg(long, value_name = "PRICE", help = PRICE_HELP)]
    price_per_vcpu_hour: Option<f64>,
    #[command(flatten)]
    replications: ReplicationsArg,
    #[arg(long, value_name = "N", default_value_t = 12, help = MAX_REPLICATIONS_HELP)]
    max_replications: u32,
    #[command(flatten)]
    costs: CostsArg,
    #[command(flatten)]
    window: WindowArgs,
    /// Output folder [default: output/migration/<topology name>].
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
    output: OutputFlags,
    #[arg(long, value_name = "N", help = THREADS_HELP)]
    threads: Option<usize>,
}

impl MigrateArgs {
    fn topology(&self) -> Result<Topology, Failure> {
        open_loop_topology(&self.topology, &self.window, "migrate")
    }

    fn design(&self, path: &Path, flag: &str, topo: &Topology) -> Result<Design, Failure> {
        let costs = self.costs.load()?;
        let d = input::design(path, topo, costs.as_ref())?;
        if d.overrides.is_some() {
            return Err(flag_error(
                flag,
                format!(
                    "{} gives some services other designs ([[override]]); a rollout goes from one design for every service to another: give a design without overrides",
                    input::shown(path).display()
                ),
            ));
        }
        Ok(d)
    }

    fn rates(&self, topo: &Topology) -> Result<Vec<f64>, Failure> {
        let rates = match (&self.rate, &self.rates) {
            (Some(r), _) => vec![rate_flag("--rate", r)?],
            (None, Some(list)) => list
                .split(',')
                .map(|r| rate_flag("--rates", r.trim()))
                .collect::<Result<Vec<f64>, Failure>>()?,
            (None, None) => vec![topo.workload.arrivals.rate().unwrap_or(100.0)],
        };
        distinct_rates("--rates", rates)
    }

    fn order(&self, topo: &Topology, slos: &[Slo]) -> Result<Order, Failure> {
        match self.order.as_deref() {
            None => Ok(Order::Callees),
            Some("auto") => {
                let n = units(topo).len();
                if n > MAX_AUTO_UNITS {
                    return Err(flag_error(
                        "--order",
                        format!(
                            "auto searches every set of moved units (2^units runs) and takes at most {MAX_AUTO_UNITS} units; this topology has {n}: give its services namespaces (a namespace moves as one), or an order file"
                        ),
                    ));
                }
                if slos.is_empty() {
                    return Err(flag_error(
                        "--order",
                        "auto keeps every step within the SLOs: give at least one --slo, e.g. --slo p99=50ms",
                    ));
                }
                Ok(Order::Auto)
            }
            Some(file) => {
                let path = Path::new(file);
                let steps = config::rollout::load_rollout(path, topo).map_err(Failure::BadInput)?;
                Ok(Order::Given(steps, path.display().to_string()))
            }
        }
    }
}

/// `ztsim migrate`.
pub fn command(args: MigrateArgs) -> Result<(), Failure> {
    args.output.apply();
    input::one_stdin([
        ("TOPOLOGY", args.topology.as_path()),
        ("--from", args.from.as_path()),
        ("--to", args.to.as_path()),
    ])?;
    let slos = slo_flags(&args.slos)?;
    let price_per_vcpu_hour = price_flag(args.price_per_vcpu_hour)?;
    let topo = args.topology()?;
    slo_scopes(&slos, &topo)?;
    let from = args.design(&args.from, "--from", &topo)?;
    let to = args.design(&args.to, "--to", &topo)?;
    let rates = args.rates(&topo)?;
    let order = args.order(&topo, &slos)?;
    let replications = args
        .replications
        .get()?
        .unwrap_or(topo.workload.replications);
    replications_flag("--max-replications", args.max_replications)?;
    // Every step deploys at most the union of both designs' parts.
    let all = Rollout::new(&topo, &from, &to).design(&vec![true; topo.services.len()]);
    for &r in &rates {
        guard(&at_rate(&topo, r), &all, &args.topology)?;
    }
    if let Some(n) = args.threads {
        set_threads(n)?;
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| migration_dir(Path::new(report::OUTPUT_ROOT), &topo.name));
    let (dir, _lock) =
        args.folder
            .claim(&dir, args.out.as_ref().map(|_| "--out"), args.force, |d| {
                d.join("migration.json").exists()
            })?;
    let plan = Plan {
        from: &from,
        to: &to,
        order,
        slos: &slos,
        rates: &rates,
        search: Search {
            replications,
            max_replications: args.max_replications.max(replications),
            ..Search::default()
        },
        capacity: match args.capacity {
            CapacityFlag::None => Capacity::None,
            CapacityFlag::Bound => Capacity::Bound,
            CapacityFlag::Search => Capacity::Search,
        },
    };
    errln!("simulating each step from {} to {}...", from.name, to.name);
    let m = ztsim::report::migration::Migration {
        price_per_vcpu_hour,
        ..migrate_told(&topo, &plan, &Terminal::counting("evaluations"))
    };
    out!("{}", render_migration(&m));
    let cannot = |e: std::io::Error| {
        Failure::Other(format!("cannot write results to {}: {e}", dir.display()))
    };
    write_migration(&dir, &m).map_err(cannot)?;
    ztsim::charts::migration::render(&m, &dir).map_err(cannot)?;
    report::review::write_document(&dir, &report::migration::document(&m)).map_err(cannot)?;
    outln!(
        "\nwrote {}/migration.json, migration.csv, migration.svg/.png and report.html/.md",
        dir.display()
    );
    let files: Vec<PathBuf> = [
        "migration.json",
        "migration.csv",
        "migration.svg",
        "migration.png",
        "report.html",
        "report.md",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    super::print::json_wrote(
        "migrate",
        &dir,
        &files,
        "migration",
        &dir.join("migration.json"),
    );
    Ok(())
}
