//! What runs many simulations: above `model` (which runs one topology under
//! one design) and `report` (which writes what they measured).
//!
//! - [`sweep`]: a study's grid of points (designs x loads x parameters) in
//!   parallel, resumable; [`shard`] splits that grid across a batch job's
//!   tasks and [`merge`] checks their results and reassembles them.
//! - [`folder`]: a study folder's life: run into it, resume it, write its
//!   outputs (the one writer of a study folder); [`builtin`] the default
//!   study compiled into the binary.
//! - [`capacity`]: the highest rate within SLOs, and the smallest size at a rate.
//! - [`sensitivity`]: one design parameter varied at a time, ranked.
//! - [`progress`]: what a long computation tells whoever started it (the
//!   binary draws it; the library never prints).
//! - [`export`]: a run's replications with chosen requests written as traces.
//!
//! Everything here is deterministic: each point, case or search step is a
//! self-contained computation on seeds derived from its coordinates, so
//! results do not depend on the number of threads.

pub mod builtin;
pub mod capacity;
pub mod export;
pub mod folder;
pub mod merge;
pub mod migrate;
pub mod progress;
pub mod published;
pub mod resolved;
pub mod sensitivity;
pub mod shard;
pub mod sweep;
pub mod testbed;
