//! Flags several commands share: the measured window and seed, workload
//! overrides, durations and rates in flags, the size guard (`--no-guard`)
//! and the thread count (`--threads`).

use std::path::Path;

use clap::Args;

use ztsim::config::topology::{MAX_SIMULATED_NS, MIN_RATE};
use ztsim::config::{self, KeyPath};
use ztsim::model::topology::{Arrivals, Window, Workload};
use ztsim::model::{self, Topology};
use ztsim::units;

use super::failure::{Failure, flag_error};

/// Workload settings that override the topology file's.
#[derive(Args, Default)]
pub struct Overrides {
    /// Open-loop arrival rate, requests per second (e.g. 500, 1.5k).
    #[arg(long, value_name = "RPS")]
    rate: Option<String>,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Independent replications (for confidence intervals).
    #[arg(long, value_name = "N")]
    replications: Option<u32>,
}

/// How long each replication measures, and on which seed: the flags shared
/// by every command that simulates a topology.
#[derive(Args, Default)]
pub struct WindowArgs {
    /// Measured duration after warm-up (e.g. 30s, 2m) [default: the topology's].
    #[arg(long, value_name = "DURATION", conflicts_with = "requests")]
    duration: Option<String>,
    /// Measure this many requests instead of a duration.
    #[arg(long, value_name = "N")]
    requests: Option<u64>,
    /// Warm-up excluded from the statistics (e.g. 2s) [default: the topology's].
    #[arg(long, value_name = "DURATION")]
    pub warmup: Option<String>,
    /// Base seed of all random streams [default: the topology's].
    #[arg(long, value_name = "SEED", allow_hyphen_values = true, value_parser = seed_value)]
    seed: Option<u64>,
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

impl WindowArgs {
    /// Applies the flags given to `w`.
    pub fn apply(&self, w: &mut Workload) -> Result<(), Failure> {
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
    /// Applies the flags given to `topo`'s workload.
    pub fn apply(&self, topo: &mut Topology) -> Result<(), Failure> {
        let w = &mut topo.workload;
        if let Some(r) = &self.rate {
            let rate = rate_flag("--rate", r)?;
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

/// Refuses a run whose estimated size would explode, with the figure,
/// located at the `[workload]` of the topology file it came from (its rate,
/// window and replications, with the call graph, make the size).
pub fn guard(topo: &Topology, file: &Path) -> Result<(), Failure> {
    match model::guard::Size::of(topo).refusal() {
        Some(why) => Err(Failure::BadInput(vec![config::locate(
            file,
            &KeyPath::root().key("workload"),
            why,
        )])),
        None => Ok(()),
    }
}

/// Sizes rayon's pool; results never depend on it.
pub fn set_threads(n: usize) -> Result<(), Failure> {
    if n == 0 {
        return Err(flag_error("--threads", "must be at least 1"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Failure::Other(format!("cannot start {n} threads: {e}")))
}
