//! ztsim: a discrete-event simulator of what Zero Trust costs a distributed
//! system: mTLS handshakes, authorization checks, proxies and the CPU they
//! burn, replayed through a topology's call graphs.
//!
//! Layers point one way (see ARCHITECTURE.md):
//! - [`engine`]: clock, event queue, random streams, FCFS core stations, slab.
//! - [`model`]: the validated topology and the call state machine on top.
//! - [`config`] (TOML in, with located diagnostics) and [`report`] (tables,
//!   JSON, CSV out) at the edges; [`charts`] draws report's data as SVG
//!   and PNG.
//! - [`study`]: what runs many simulations: a study's grid (config) into
//!   study results (report), split across a batch job's tasks; capacity
//!   searches and sizing; one-at-a-time sensitivity of a design.
//! - the `ztsim` binary: the command line.
//!
//! ```
//! let topo = ztsim::config::parse_topology("inline.toml", r#"
//!     [zones.a]
//!     rtt = "1ms"
//!     [services.api]
//!     zone = "a"
//!     endpoints.get.cpu = "1ms"
//!     [workload]
//!     arrivals = "poisson"
//!     rate = 100
//!     requests = 2000
//!     entry = [{ endpoint = "api.get" }]
//! "#).unwrap();
//! let runs = ztsim::model::run_replications(&topo, &ztsim::model::Design::plaintext());
//! let latency = runs[0].all_requests().latency;
//! // One network round trip plus at least 1 ms of CPU.
//! assert!(latency.min().unwrap() >= 2_000_000);
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Diagnostics are large (file, key path, message, help) but only travel the
// cold error path; boxing them would add noise to every validator.
#![allow(clippy::result_large_err)]

pub mod charts;
pub mod config;
pub mod engine;
pub mod model;
pub mod report;
pub mod study;
pub mod trace;
pub mod units;
