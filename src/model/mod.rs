//! The domain: distributions, the validated topology, the call state machine
//! and what a run measures. Builds on `engine`; knows nothing of files.

pub mod cost;
pub mod design;
pub mod dist;
pub mod guard;
pub mod ids;
pub mod interval;
pub mod metrics;
mod probe;
pub mod profile;
pub mod record;
pub mod replication;
pub mod series;
pub mod sim;
pub mod slo;
pub mod tail;
mod timeline;
pub mod topology;
pub mod workload;

use rayon::prelude::*;

pub use design::Design;
pub use metrics::RunMetrics;
pub use replication::{Replication, Replications};
pub use topology::Topology;

/// Runs every replication of `topo` under `design`, in parallel, keeping each
/// replication's full metrics (histograms included): for tests and library
/// users who need the raw distributions. The tool itself keeps replications
/// reduced ([`Replications::of`]), so memory does not grow with them. The
/// result is in replication order and identical whatever the number of
/// threads, because each replication is a self-contained single-threaded run
/// with its own streams.
pub fn run_replications(topo: &Topology, design: &Design) -> Vec<RunMetrics> {
    (0..topo.workload.replications)
        .into_par_iter()
        .map(|r| sim::simulate(topo, design, r))
        .collect()
}
