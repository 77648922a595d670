//! `ztsim run --replay` (play a topology's recorded arrivals) and `ztsim run
//! --export-traces` (write chosen simulated requests as Jaeger and OTLP JSON).

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::model::record::{self, Pick};
use ztsim::model::topology::Arrivals;
use ztsim::model::{self, Design, RunMetrics, Topology};
use ztsim::report;

use crate::{Failure, flag_error};

/// Replaying recorded arrivals.
#[derive(Args, Default)]
pub(crate) struct ReplayArgs {
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
    pub(crate) fn apply(&self, topo: &mut Topology, warmup_changed: bool) -> Result<bool, Failure> {
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
pub(crate) struct ExportArgs {
    /// Write the slowest and a random sample of the simulated requests as
    /// Jaeger and OTLP JSON traces into DIR (the baseline's in DIR/baseline).
    #[arg(long, value_name = "DIR")]
    export_traces: Option<PathBuf>,
    /// How many of the slowest requests to export.
    #[arg(
        long,
        value_name = "K",
        default_value_t = 10,
        requires = "export_traces"
    )]
    export_slowest: usize,
    /// How many requests to export at random (deterministic by seed).
    #[arg(
        long,
        value_name = "M",
        default_value_t = 20,
        requires = "export_traces"
    )]
    export_sample: usize,
}

impl ExportArgs {
    /// The same settings with a folder that holds no traces yet (name-2,
    /// name-3, ...) unless `force`: traces already written are kept.
    pub(crate) fn unused(&self, force: bool) -> ExportArgs {
        ExportArgs {
            export_traces: self.export_traces.as_ref().map(|d| {
                if force {
                    d.clone()
                } else {
                    report::unused_dir(d, "jaeger.json")
                }
            }),
            export_slowest: self.export_slowest,
            export_sample: self.export_sample,
        }
    }
}

/// Runs replications, exporting traces when asked. The design run picks the
/// requests; the baseline exports the same requests (same seeds, so the same
/// arrivals), so a slow request can be compared under both.
#[derive(Default)]
pub(crate) struct Exporter {
    picks: Option<Vec<Pick>>,
}

impl Exporter {
    /// All replications of `topo` under `design`; with --export-traces, the
    /// chosen requests are written to the folder (`sub` below it, if given).
    pub(crate) fn run(
        &mut self,
        args: &ExportArgs,
        topo: &Topology,
        design: &Design,
        sub: Option<&str>,
    ) -> Result<Vec<RunMetrics>, Failure> {
        let Some(dir) = &args.export_traces else {
            return Ok(model::run_replications(topo, design));
        };
        let runs = match &self.picks {
            Some(_) => model::run_replications(topo, design),
            None => {
                let (runs, picks) =
                    record::run_and_pick(topo, design, args.export_slowest, args.export_sample);
                self.picks = Some(picks);
                runs
            }
        };
        let picks = self.picks.as_deref().unwrap_or_default();
        let traces = record::record(topo, design, picks);
        let dir = match sub {
            Some(s) => dir.join(s),
            None => dir.clone(),
        };
        write(&dir, topo, design, &traces)?;
        Ok(runs)
    }
}

fn write(
    dir: &Path,
    topo: &Topology,
    design: &Design,
    traces: &[record::RequestTrace],
) -> Result<(), Failure> {
    report::traces::write(dir, topo, design, traces)
        .map_err(|e| Failure::Other(format!("cannot write traces to {}: {e}", dir.display())))?;
    println!(
        "wrote {} traces ({}) to {}/jaeger.json, otlp.json and index.csv",
        traces.len(),
        design.name,
        dir.display()
    );
    Ok(())
}
