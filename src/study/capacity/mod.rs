//! Capacity planning on top of the simulation: the highest offered rate a
//! design sustains within its SLOs ([`rate_capacity`], in `rate.rs`), and the
//! smallest replica or core counts that meet them at a target rate
//! ([`size_for_rate`], in `sizing.rs`). Both judge points the same way
//! (`point.rs`): replications until the 95% intervals decide, on a seed that
//! depends on the rate only.

mod point;
mod rate;
mod sizing;

pub mod compare;

pub use crate::report::capacity::{
    HOURS_PER_MONTH, Point, RateCapacity, ServiceSize, SizeBy, Sizing, SizingStep,
};
pub(crate) use point::evaluate;
pub use point::{Search, at_rate, point_at, point_seed};
pub use rate::{bisection_bound, rate_capacity};
pub use sizing::{fractional_cores, size_for_rate};
