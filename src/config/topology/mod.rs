//! Topology files (`topologies/*.toml`): their serde form, and compilation into
//! a validated [`Topology`] that reports every problem with file, line and key.
//!
//! `file.rs` owns the serde form (every key of a topology file);
//! `compiler.rs` the compiler's state, its per-value checks and the limits;
//! `graph.rs` zones, network, services, endpoints, calls and the call graph's
//! checks; `pools.rs` client-side pools and slow calls; `down.rs` replicas'
//! down windows; `queues.rs` message queues and the call sites publishing
//! to them; `workload.rs` the workload and its rate profile
//! (`profile.rs` the profile's file form);
//! `arrivals.rs` the recorded arrivals
//! CSV of a replay; this file the entry point.

mod arrivals;
mod compiler;
mod down;
mod external;
mod file;
mod graph;
mod nodes;
mod pauses;
mod pools;
mod profile;
mod queues;
mod workload;

pub use arrivals::parse_arrivals;
pub use compiler::{MAX_EXPECTED_CALLS, MAX_SIMULATED_NS, MIN_RATE};
pub(super) use file::TopologyFile;

use self::compiler::Compiler;
use super::diag::{Diagnostic, Source};
use crate::model::topology::Topology;

/// Parses and validates a topology; `file` names it in diagnostics.
pub fn parse_topology(file: &str, text: &str) -> Result<Topology, Vec<Diagnostic>> {
    let src = Source::parse(file, text).map_err(|d| vec![d])?;
    let raw: TopologyFile = src.deserialize().map_err(|d| vec![d])?;
    let stem = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("topology")
        .to_string();
    Compiler {
        src: &src,
        errors: Vec::new(),
        endpoint_ids: Default::default(),
    }
    .compile(raw, stem)
}
