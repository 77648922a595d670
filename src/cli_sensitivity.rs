//! `ztsim sensitivity`: flags into a [`Spec`] and its knobs, the runs, and
//! the files (`sensitivity.csv`, `sensitivity.json`, tornado charts).

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::capacity::{Search, rate_capacity};
use ztsim::config::study::{self, DESIGN_KEYS, Input};
use ztsim::config::{self, Diagnostic};
use ztsim::model::topology::Arrivals;
use ztsim::report;
use ztsim::report::sensitivity::{CapacityOutcome, SensitivityResults};
use ztsim::report::slo::Slo;
use ztsim::sensitivity::{self, Knob, Prepared, Spec};
use ztsim::units;

use crate::{Failure, flag_error};

/// Flags of `ztsim sensitivity`.
#[derive(Args)]
pub struct SensitivityArgs {
    /// Topology file (topologies/*.toml).
    topology: PathBuf,
    /// The base design (models/*.toml) whose parameters are varied.
    #[arg(long, short, value_name = "FILE")]
    model: PathBuf,
    /// Offered load of every latency run, requests per second [default: the topology's].
    #[arg(long, value_name = "RPS")]
    rate: Option<String>,
    /// A service-level objective, e.g. p99=50ms; repeatable. With one, each
    /// variation's capacity (highest rate meeting every SLO) is measured and
    /// ranked too.
    #[arg(long, value_name = "STAT=LIMIT")]
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
    /// Measured duration per run (e.g. 10s) [default: the topology's].
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// Warm-up per run (e.g. 2s) [default: the topology's].
    #[arg(long, value_name = "DURATION")]
    warmup: Option<String>,
    /// Replications per run [default: the topology's].
    #[arg(long, value_name = "N")]
    replications: Option<u32>,
    /// The seed every variation shares [default: the topology's].
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
    /// With --slo: relative resolution of each capacity search (the
    /// bracket [met, not met] is narrowed until not-met / met <= 1 + this).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.05)]
    resolution: f64,
    /// With --slo: replications of each capacity point. A point the 95%
    /// intervals cannot decide counts as not met (a capacity study would add
    /// replications; here that would multiply the cost by the variations).
    #[arg(long, value_name = "N", default_value_t = 3)]
    capacity_replications: u32,
    /// Rows of the terminal table (the files hold every parameter).
    #[arg(long, value_name = "N", default_value_t = 15)]
    top: usize,
    /// Output folder [default: output/sensitivity/<topology>-<design>]. A
    /// folder that already holds results is kept: a new one (name-2, ...)
    /// is used unless --force.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the results already in the output folder.
    #[arg(long)]
    force: bool,
    /// Run even if a run's estimated size (events, memory) is beyond the guard's budget.
    #[arg(long)]
    no_guard: bool,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

fn bad(d: Diagnostic) -> Failure {
    Failure::BadInput(vec![d])
}

impl SensitivityArgs {
    fn spec(&self) -> Result<Spec, Failure> {
        let topology = Input::read(&self.topology).map_err(bad)?;
        let design = Input::read(&self.model).map_err(bad)?;
        // The base files alone first, so their own mistakes are reported
        // with their lines rather than as a variation's.
        let topo =
            config::parse_topology(&topology.name, &topology.text).map_err(Failure::BadInput)?;
        config::parse_design(&design.name, &design.text, Some(&topo)).map_err(Failure::BadInput)?;
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
        let duration = self
            .duration
            .as_deref()
            .map(|d| crate::duration_flag("--duration", d, false))
            .transpose()?;
        let warmup = self
            .warmup
            .as_deref()
            .map(|d| crate::duration_flag("--warmup", d, true))
            .transpose()?;
        if self.replications == Some(0) {
            return Err(flag_error("--replications", "must be at least 1"));
        }
        Ok(Spec {
            topology,
            design,
            rate,
            replications: self.replications,
            seed: self.seed,
            duration,
            warmup,
        })
    }

    /// The knobs: the defaults for the base design, or the --param ones
    /// (with --with-defaults, both).
    fn knobs(
        &self,
        spec: &Spec,
    ) -> Result<(Vec<Knob>, Vec<report::sensitivity::Skipped>), Failure> {
        let topo = config::parse_topology(&spec.topology.name, &spec.topology.text)
            .map_err(Failure::BadInput)?;
        let design = config::parse_design(&spec.design.name, &spec.design.text, Some(&topo))
            .map_err(Failure::BadInput)?;
        let (defaults, skipped) = sensitivity::default_knobs(&design, &spec.design);
        let mut explicit = Vec::new();
        let mut problems = Vec::new();
        for p in &self.param {
            let parsed = study::parse_param_flag(p).and_then(|(path, values)| {
                let first = path.split('.').next().unwrap_or("");
                let file = if DESIGN_KEYS.contains(&first) {
                    &spec.design
                } else {
                    &spec.topology
                };
                sensitivity::explicit_knob(&path, &values, file)
            });
            match parsed {
                Ok(k) => {
                    explicit.retain(|e: &Knob| e.path != k.path);
                    explicit.push(k);
                }
                Err(m) => problems.push(Diagnostic::new("command line", format!("--param {m}"))),
            }
        }
        if !problems.is_empty() {
            return Err(Failure::BadInput(problems));
        }
        if explicit.is_empty() {
            return Ok((defaults, skipped));
        }
        if !self.with_defaults {
            return Ok((explicit, Vec::new()));
        }
        let mut knobs: Vec<Knob> = defaults
            .into_iter()
            .filter(|d| !explicit.iter().any(|e| e.path == d.path))
            .collect();
        knobs.extend(explicit);
        Ok((knobs, skipped))
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
pub fn sensitivity_command(args: SensitivityArgs) -> Result<(), Failure> {
    let spec = args.spec()?;
    let slos = args
        .slo
        .iter()
        .map(|s| Slo::parse(s).map_err(|m| flag_error("--slo", m)))
        .collect::<Result<Vec<_>, _>>()?;
    if !(args.resolution > 0.0 && args.resolution < 1.0) {
        return Err(flag_error(
            "--resolution",
            format!(
                "must be a fraction in (0, 1), e.g. 0.05 for 5%; got {}",
                args.resolution
            ),
        ));
    }
    if args.capacity_replications == 0 {
        return Err(flag_error("--capacity-replications", "must be at least 1"));
    }
    let search = Search {
        resolution: args.resolution,
        replications: args.capacity_replications,
        max_replications: args.capacity_replications,
        ..Search::default()
    };
    let (knobs, skipped) = args.knobs(&spec)?;
    let prepared = sensitivity::prepare(&spec, knobs)
        .map_err(|ds| Failure::BadInput(about_flags(ds, &args)))?;
    if !args.no_guard {
        for case in prepared.cases() {
            crate::guard(&case.topology)?;
        }
    }
    if let Some(n) = args.threads {
        crate::set_threads(n)?;
    }
    let dir = args.out.clone().unwrap_or_else(|| {
        report::sensitivity_dir(
            Path::new(report::OUTPUT_ROOT),
            &prepared.base.topology.name,
            &prepared.base.design.name,
        )
    });
    let dir = if args.force {
        dir
    } else {
        report::unused_dir(&dir, "sensitivity.json")
    };
    let runs = prepared.cases().count();
    println!(
        "varying {} parameter(s) of {} one at a time on {} at {} rps: {} runs x {} replication(s), all on seed {}{}",
        prepared.knobs.len(),
        prepared.base.design.name,
        prepared.base.topology.name,
        spec.rate,
        runs,
        prepared.base.topology.workload.replications,
        prepared.base.topology.workload.seed,
        if slos.is_empty() {
            String::new()
        } else {
            ", each with a capacity search".to_string()
        }
    );
    let results = analyse(&spec, &prepared, &slos, &search, skipped);
    // Files first: a table piped into `head` must not lose the results.
    let written = report::sensitivity::write(&results, &dir)
        .and_then(|mut w| {
            w.extend(ztsim::charts::tornado::render(&results, &dir)?);
            Ok(w)
        })
        .map_err(|e| Failure::Other(format!("cannot write results to {}: {e}", dir.display())))?;
    print!("\n{}", report::sensitivity::table(&results, args.top));
    println!(
        "\nwrote {}/sensitivity.csv, sensitivity.json and {}",
        dir.display(),
        written
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .filter(|n| !n.starts_with("sensitivity."))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// Runs the analysis; with SLOs, each case's capacity too: the highest rate
/// meeting every SLO, searched from the analysis' rate on seeds that depend
/// only on the rate, so every variation is searched on the same requests.
fn analyse(
    spec: &Spec,
    prepared: &Prepared,
    slos: &[Slo],
    search: &Search,
    skipped: Vec<report::sensitivity::Skipped>,
) -> SensitivityResults {
    let capacity = |case: &sensitivity::Case| {
        let c = rate_capacity(&case.topology, &case.design, slos, search);
        CapacityOutcome {
            rps: c.met_rps,
            uncertainty_rps: c.met_rps.zip(c.limit_rps).map(|(met, limit)| limit - met),
            bottleneck: c.bottleneck,
        }
    };
    let mut results = sensitivity::run(
        spec,
        prepared,
        if slos.is_empty() {
            None
        } else {
            Some(&capacity)
        },
    );
    if !slos.is_empty() {
        results.capacity_method = Some(format!(
            "searched to {}%, {} replications a point, an undecided point counted as missed",
            search.resolution * 100.0,
            search.replications
        ));
    }
    results.slos = slos.to_vec();
    results.skipped = skipped;
    results
}
