//! Flags several commands share: the measured window and seed, workload
//! overrides, durations, rates, objectives and prices in flags, the size
//! guard (`--no-guard`) and the thread count (`--threads`), and how the
//! output folder is locked (`--wait`).

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::config::topology::{MAX_SIMULATED_NS, MIN_RATE};
use ztsim::config::{self, KeyPath};
use ztsim::model::topology::{Arrivals, MAX_REPLICATIONS, Window, Workload};
use ztsim::model::{self, Design, Topology};
use ztsim::report::output::FolderLock;
use ztsim::report::slo::Slo;
use ztsim::study::folder::folder_error;
use ztsim::units;

use super::failure::{Failure, bad, flag_error};
use ztsim::config::Diagnostic;

/// Workload settings that override the topology file's.
#[derive(Args, Default)]
pub struct Overrides {
    #[arg(long, value_name = "RPS", help = RATE_HELP)]
    rate: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    #[command(flatten)]
    pub replications: ReplicationsArg,
}

/// `--replications`: the same in every command that simulates.
#[derive(Args, Default)]
pub struct ReplicationsArg {
    /// Independent replications of each simulated point, for 95% confidence intervals [default: the topology's or study's].
    #[arg(long, value_name = "N")]
    replications: Option<u32>,
}

impl ReplicationsArg {
    /// The count given, checked (1 to [`MAX_REPLICATIONS`]).
    pub fn get(&self) -> Result<Option<u32>, Failure> {
        self.replications
            .map(|n| replications_flag("--replications", n))
            .transpose()
    }
}

/// `--no-guard`: the size guard skipped.
#[derive(Args, Default)]
pub struct GuardFlag {
    /// Run even if the estimated size of a run (events, memory) is beyond the guard's budget.
    #[arg(long)]
    pub no_guard: bool,
}

/// How long each replication measures, and on which seed: the flags shared
/// by every command that simulates a topology.
#[derive(Args, Default)]
pub struct WindowArgs {
    /// Measured duration of each replication after warm-up (e.g. 30s, 2m) [default: the topology's or study's].
    #[arg(long, value_name = "DURATION", conflicts_with = "requests")]
    duration: Option<String>,
    /// Measure this many requests (after warm-up) instead of a duration.
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = requests_value)]
    requests: Option<u64>,
    /// Warm-up excluded from the statistics (e.g. 2s) [default: the topology's or study's].
    #[arg(long, value_name = "DURATION")]
    pub warmup: Option<String>,
    /// Base seed of all random streams [default: the topology's or study's]; the same seed gives the same results, and every design shares it.
    #[arg(long, value_name = "SEED", allow_hyphen_values = true, value_parser = seed_value)]
    seed: Option<u64>,
}

/// The window flags given, checked; None where a flag is absent.
#[derive(Default)]
pub struct WindowFlags {
    /// `--duration` or `--requests`.
    pub window: Option<Window>,
    /// `--warmup`, nanoseconds.
    pub warmup: Option<u64>,
    /// `--seed`.
    pub seed: Option<u64>,
}

/// `--slo STAT=LIMIT` flags as objectives.
pub fn slo_flags(flags: &[String]) -> Result<Vec<Slo>, Failure> {
    flags
        .iter()
        .map(|s| Slo::parse(s).map_err(|m| flag_error("--slo", m)))
        .collect()
}

/// SLOs scoped to an entry endpoint (`--slo gateway.balance:p99=20ms`)
/// checked against the topology they will be judged on: each names one of
/// its entry endpoints, or the error names the flag and lists them.
pub fn slo_scopes(slos: &[Slo], topo: &Topology) -> Result<(), Failure> {
    let entries = config::entry_names(topo);
    let endpoints: Vec<&str> = topo.endpoints.iter().map(|e| e.name.as_str()).collect();
    slo_scopes_among(slos, &entries, &endpoints)
}

/// [`slo_scopes`] against entry endpoints known by name only (a study's
/// results).
pub fn slo_scopes_among(slos: &[Slo], entries: &[&str], endpoints: &[&str]) -> Result<(), Failure> {
    for s in slos {
        if let Err((message, help)) = config::entry_scope(s, entries, endpoints) {
            let mut f = flag_error("--slo", format!("`{s}`: {message}"));
            if let Failure::BadInput(ds) = &mut f {
                ds[0].help = Some(help);
            }
            return Err(f);
        }
    }
    Ok(())
}

/// `--price-per-vcpu-hour`: a price, not negative.
pub fn price_flag(price: Option<f64>) -> Result<Option<f64>, Failure> {
    match price {
        Some(p) if !(p.is_finite() && p >= 0.0) => Err(flag_error(
            "--price-per-vcpu-hour",
            format!("`{p}` is not a price; write a non-negative number such as 0.04"),
        )),
        p => Ok(p),
    }
}

/// `--resolution`: `2%` or `0.02`, strictly between 0 and 1.
pub fn resolution_flag(text: &str) -> Result<f64, Failure> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err(flag_error(
            "--resolution",
            format!("`{text}` is not a fraction between 0 and 1; write e.g. 2% or 0.02"),
        )),
    }
}

/// The topology at `path` with the window flags applied, refused when its
/// workload is a closed loop: `command` offers rates of its own.
pub fn open_loop_topology(
    path: &Path,
    window: &WindowArgs,
    command: &str,
) -> Result<Topology, Failure> {
    let mut topo = super::input::topology(path)?;
    let path = super::input::shown(path);
    if let Arrivals::Profile { .. } = topo.workload.arrivals {
        return Err(Failure::BadInput(vec![
            Diagnostic::new(
                path.display().to_string(),
                format!(
                    "workload.profile: {command} searches steady rates, but this workload's rate varies over time (a profile): a capacity found against it would be a rate the profile never holds"
                ),
            )
            .with_help("remove `profile` and set `rate` to the load to size for (e.g. the profile's peak), or run the profile with `ztsim run`"),
        ]));
    }
    if let Arrivals::Closed { .. } = topo.workload.arrivals {
        return Err(Failure::BadInput(vec![
            Diagnostic::new(
                path.display().to_string(),
                format!(
                    "workload.arrivals: {command} needs an open-loop workload, but this one is a closed loop (users and think time), whose offered rate follows from the latency"
                ),
            )
            .with_help("set `arrivals = \"poisson\"` (or \"constant\") and a `rate` in [workload]"),
        ]));
    }
    window.apply(&mut topo.workload)?;
    Ok(topo)
}

/// `--duration` (a measured span, above zero) or `--warmup` (may be zero):
/// a duration flag in nanoseconds.
pub fn duration_flag(flag: &str, text: &str, zero_ok: bool) -> Result<u64, Failure> {
    let d = units::parse_duration(text).map_err(|e| flag_error(flag, e.message))?;
    if d == 0 && !zero_ok {
        return Err(flag_error(flag, "must be above zero"));
    }
    if d > MAX_SIMULATED_NS {
        return Err(flag_error(
            flag,
            "is beyond 100 days of simulated time, the most a run may span",
        ));
    }
    Ok(d)
}

/// `--seed`: a whole number from 0 to 2^64-1. Given to clap with
/// `allow_hyphen_values`, so `--seed -1` is refused as a value of `--seed`
/// rather than taken for an unknown flag.
pub fn seed_value(text: &str) -> Result<u64, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "a seed is a whole number from 0 to {}, got `{text}`",
            u64::MAX
        )
    })
}

/// `--requests`: a whole number of requests, at least 1. Given to clap with
/// `allow_hyphen_values`, so `--requests -5` is refused as a value of
/// `--requests` rather than taken for an unknown flag.
pub fn requests_value(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "a request count is a whole number from 1 to {}, got `{text}`",
            u64::MAX
        )),
    }
}

/// A rate flag (`500`, `1.5k`) in requests per second.
pub fn rate_flag(flag: &str, v: &str) -> Result<f64, Failure> {
    let rate = units::parse_rate(v).map_err(|e| flag_error(flag, e.message))?;
    if rate < MIN_RATE {
        return Err(flag_error(
            flag,
            format!(
                "must be at least {MIN_RATE} requests per second (as a topology's `rate`), got {rate:?}"
            ),
        ));
    }
    Ok(rate)
}

/// `rates` (a list flag's, in order) sorted, refused if one is given twice:
/// each rate is run once, and merging a repeat would hide a typo
/// (`100,150,100` for `100,150,1000`).
pub fn distinct_rates(flag: &str, mut rates: Vec<f64>) -> Result<Vec<f64>, Failure> {
    if let Some((_, j)) = config::first_repeat(rates.iter().map(|r| r.to_bits())) {
        return Err(flag_error(
            flag,
            format!(
                "{} rps is given twice: each rate is run once; remove the repeat",
                rates[j]
            ),
        ));
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates)
}

impl WindowArgs {
    /// The flags given, checked.
    pub fn parsed(&self) -> Result<WindowFlags, Failure> {
        let mut window = None;
        if let Some(d) = &self.duration {
            window = Some(Window::Duration(duration_flag("--duration", d, false)?));
        }
        if let Some(n) = self.requests {
            if n == 0 {
                return Err(flag_error("--requests", "must be at least 1"));
            }
            window = Some(Window::Requests(n));
        }
        let warmup = self
            .warmup
            .as_deref()
            .map(|d| duration_flag("--warmup", d, true))
            .transpose()?;
        Ok(WindowFlags {
            window,
            warmup,
            seed: self.seed,
        })
    }

    /// Applies the flags given to `w`.
    pub fn apply(&self, w: &mut Workload) -> Result<(), Failure> {
        let f = self.parsed()?;
        if let Some(window) = f.window {
            w.window = window;
        }
        if let Some(d) = f.warmup {
            w.warmup = d;
        }
        if let Some(s) = f.seed {
            w.seed = s;
        }
        // A profile's mean rate is over the window: recompute it.
        w.settle_profile().map_err(|why| {
            let flag = if self.requests.is_some() {
                "--requests"
            } else {
                "--duration"
            };
            flag_error(flag, why)
        })
    }
}

impl Overrides {
    /// Applies the flags given to `topo`'s workload.
    pub fn apply(&self, topo: &mut Topology) -> Result<(), Failure> {
        let w = &mut topo.workload;
        // The window first: a profile's --rate is its mean over the window.
        self.window.apply(w)?;
        if let Some(r) = &self.rate {
            let rate = rate_flag("--rate", r)?;
            match &mut w.arrivals {
                Arrivals::Poisson { .. } | Arrivals::Constant { .. } | Arrivals::Profile { .. } => {
                    w.arrivals.set_rate(rate);
                }
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
        if let Some(n) = self.replications.get()? {
            w.replications = n;
        }
        Ok(())
    }
}

/// A replication count flag, from 1 to [`MAX_REPLICATIONS`].
pub fn replications_flag(flag: &str, n: u32) -> Result<u32, Failure> {
    if (1..=MAX_REPLICATIONS).contains(&n) {
        Ok(n)
    } else {
        Err(flag_error(
            flag,
            format!("must be from 1 to {MAX_REPLICATIONS}, got {n}"),
        ))
    }
}

/// Refuses a run whose estimated size would explode, with the figure,
/// located at the `[workload]` of the topology file it came from (its rate,
/// window and replications, with the call graph and the design, make the
/// size).
pub fn guard(topo: &Topology, design: &Design, file: &Path) -> Result<(), Failure> {
    match size_refusal(topo, design, file) {
        Some(refused) => Err(Failure::BadInput(vec![refused])),
        None => Ok(()),
    }
}

/// Why the size guard refuses to run `topo` under `design`, if it does,
/// located at `file`'s workload.
pub fn size_refusal(topo: &Topology, design: &Design, file: &Path) -> Option<Diagnostic> {
    let why = model::guard::Size::of(topo, design).refusal()?;
    Some(super::input::locate(
        file,
        &KeyPath::root().key("workload"),
        why,
    ))
}

/// Most worker threads `--threads` may ask for: far beyond any core count
/// that helps, and low enough that starting them is instant (each thread
/// reserves a stack; 100,000 of them take minutes to start).
pub const MAX_THREADS: usize = 1024;

/// Sizes rayon's pool; results never depend on it.
pub fn set_threads(n: usize) -> Result<(), Failure> {
    if !(1..=MAX_THREADS).contains(&n) {
        return Err(flag_error(
            "--threads",
            format!("must be from 1 to {MAX_THREADS}, got {n}"),
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Failure::Other(format!("cannot start {n} threads: {e}")))
}

/// `--costs`: a measured cost profile for every design the command simulates.
#[derive(Args, Default)]
pub struct CostsArg {
    /// Cost profile made by `ztsim calibrate` (costs/<host>.toml): its measured figures replace the published defaults in every design (and the designs' own `costs` key); a design's explicit values still win.
    #[arg(long, value_name = "FILE")]
    costs: Option<PathBuf>,
}

impl CostsArg {
    /// The profile, read and checked; None without the flag.
    pub fn load(&self) -> Result<Option<ztsim::config::CostProfile>, Failure> {
        self.costs
            .as_deref()
            .map(ztsim::config::load_profile)
            .transpose()
            .map_err(Failure::BadInput)
    }
}

/// How a command takes the output folder it writes: locked for the whole
/// run, so two runs never mix or lose each other's files.
#[derive(Args, Default)]
pub struct FolderFlags {
    /// If another ztsim run is writing the output folder, wait for it to
    /// finish [default: refuse at once, exit 2, naming the other run].
    #[arg(long)]
    pub wait: bool,
}

impl FolderFlags {
    /// Locks `dir` itself (created if need be).
    pub fn lock(&self, dir: &Path) -> Result<FolderLock, Failure> {
        FolderLock::acquire(dir, self.wait).map_err(|e| bad(folder_error(dir, &e)))
    }

    /// Locks `dir` with `force`. A folder named on the command line
    /// (`flag`, e.g. `--out`) is refused if it holds results (`taken`): it
    /// is never silently replaced by another. Else (a default folder) the
    /// first of `dir`, `dir-2`, ... that holds no results and no other run
    /// is writing, so results already there are never overwritten.
    pub fn claim(
        &self,
        dir: &Path,
        flag: Option<&str>,
        force: bool,
        taken: impl Fn(&Path) -> bool,
    ) -> Result<(PathBuf, FolderLock), Failure> {
        if force {
            return Ok((dir.to_path_buf(), self.lock(dir)?));
        }
        let Some(flag) = flag else {
            return FolderLock::acquire_fresh(dir, taken).map_err(|e| bad(folder_error(dir, &e)));
        };
        // Locked first: a folder that cannot be used is refused for that,
        // and results cannot land between the check and the lock.
        let lock = self.lock(dir)?;
        if taken(dir) {
            return Err(bad(holds_results(dir, flag)));
        }
        Ok((dir.to_path_buf(), lock))
    }
}

/// Why a folder named by `flag` is refused: it holds results already.
pub fn holds_results(dir: &Path, flag: &str) -> Diagnostic {
    Diagnostic::new(
        dir.display().to_string(),
        format!("{flag}: this folder already holds results, which are kept"),
    )
    .with_help(format!(
        "add --force to replace them, or give {flag} another folder (without {flag}, a default folder is used and a new one, name-2, ..., is taken beside it if it holds results)"
    ))
}

/// `--json` and `--quiet`: what a command prints.
#[derive(Args, Default)]
pub struct OutputFlags {
    /// Print one JSON document on stdout (what was found, the files written,
    /// the verdicts) for scripts; the human text goes to stderr.
    #[arg(long, conflicts_with = "quiet")]
    json: bool,
    /// Print nothing but errors (the exit code still tells the outcome).
    #[arg(long, short = 'q')]
    quiet: bool,
}

impl OutputFlags {
    /// Sets where the command's text goes, for the rest of the process.
    pub fn apply(&self) {
        use super::print::{Mode, set_mode};
        set_mode(if self.json {
            Mode::Json
        } else if self.quiet {
            Mode::Quiet
        } else {
            Mode::Text
        });
    }
}

/// `--pretty`: `results.json` for reading, one definition for every command
/// that writes it.
#[derive(Args, Default)]
pub struct PrettyFlag {
    /// Write results.json indented, one key per line, for reading [default:
    /// compact, about a third of the size].
    #[arg(long)]
    pub pretty: bool,
}

/// `--fail-on-slo`: an outcome that can gate a CI job.
#[derive(Args, Default)]
pub struct GateFlag {
    /// Exit 3 (after writing every result) when the SLOs are not met (an SLO
    /// missed, a run saturated, a capacity below the topology's rate or no
    /// size meeting the target), so that a CI job fails on it.
    #[arg(long)]
    pub fail_on_slo: bool,
}

impl GateFlag {
    /// Exit 3 with `reasons`, if asked and any.
    pub fn check(&self, reasons: Vec<String>) -> Result<(), Failure> {
        if self.fail_on_slo && !reasons.is_empty() {
            Err(Failure::Gate(reasons))
        } else {
            Ok(())
        }
    }
}

/// The topology file, given first or with `--topology`: the same in every
/// command that simulates one.
#[derive(Args, Default)]
#[group(id = "topology_file", required = true, multiple = false)]
pub struct TopologyArg {
    /// Topology file (topologies/*.toml; `-` for standard input); or give it with --topology.
    #[arg(value_name = "TOPOLOGY")]
    topology_positional: Option<PathBuf>,
    /// Topology file (topologies/*.toml; `-` for standard input).
    #[arg(long = "topology", value_name = "FILE")]
    topology: Option<PathBuf>,
}

impl TopologyArg {
    /// The file, however it was given (clap requires one).
    pub fn as_path(&self) -> &Path {
        self.topology_positional
            .as_deref()
            .or(self.topology.as_deref())
            .unwrap_or(Path::new(""))
    }
}

impl std::ops::Deref for TopologyArg {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.as_path()
    }
}

/// `-m`/`--model`: the designs a command compares, one or several.
#[derive(Args, Default)]
pub struct ModelsArg {
    /// Zero Trust design (models/*.toml; `-` for standard input); repeat for several.
    #[arg(long = "model", short, value_name = "FILE")]
    pub models: Vec<PathBuf>,
}

/// `--no-baseline`: the plaintext baseline left out.
#[derive(Args, Default)]
pub struct BaselineFlag {
    /// Skip the plaintext baseline that the designs given with --model are compared against.
    #[arg(long)]
    pub no_baseline: bool,
}

/// The help of `--resolution`, the same wherever a capacity search runs.
pub const RESOLUTION_HELP: &str = "Relative width at which a capacity search's rate bracket [met, not met] counts as found (e.g. 2% or 0.02)";

/// The help of `--rate` (one load; `sweep` takes a list).
pub const RATE_HELP: &str = "Offered open-loop arrival rate, requests per second (e.g. 500, 1.5k) [default: the topology's]";

/// The help of `--price-per-vcpu-hour`.
pub const PRICE_HELP: &str = "Price of one vCPU for one hour (e.g. 0.04), for the monthly cost of the cores (730 hours per month)";

/// The help of `--max-replications`.
pub const MAX_REPLICATIONS_HELP: &str =
    "Replications a point whose SLO verdict is undecided may grow to, doubling";

/// The help of `--threads`.
pub const THREADS_HELP: &str = "Worker threads [default: all cores]; results do not depend on it";
