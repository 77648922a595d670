//! The discrete-event machinery, free of any domain knowledge: the event queue,
//! seeded random streams, multi-server FCFS stations and a slab for per-call
//! state. Nothing here reads files, prints, or knows what a service is.

pub mod queue;
pub mod rng;
pub mod slab;
pub mod station;

pub use queue::{Event, EventKey, EventQueue};
pub use rng::{Component, Streams};
pub use slab::{Slab, SlotRef};
pub use station::{Station, StationStats};

/// Simulated time in integer nanoseconds.
pub use crate::units::Nanos;
