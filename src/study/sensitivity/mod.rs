//! One-at-a-time sensitivity of a design (`ztsim sensitivity`): which knob
//! of a base design moves p99 latency (and, with an SLO, capacity) most.
//!
//! A [`Knob`] is a design parameter with a low and a high [`Setting`]: for a
//! number its resolved value halved and doubled (TTLs divided and multiplied
//! by ten, counts halved and doubled in whole numbers), for a choice its
//! alternatives. [`default_knobs`] lists every knob that applies to the base
//! design and says why the others were left out; [`explicit_knob`] turns a
//! `--param PATH=LOW,HIGH` into one. Settings are applied to the design (or
//! topology) *file* before validation, through the study machinery
//! ([`crate::config::study::expand`]), so a varied value meets the same checks as a written
//! one. Every variation runs on the base seed: common random numbers, so a
//! difference between two variations is the parameter's, not noise.
//!
//! `knob.rs` holds knobs and their settings, `defaults.rs` the knobs that
//! apply to a design, `run.rs` the validated cases and their runs.

mod defaults;
mod knob;
mod run;

pub use defaults::{default_knobs, knobs};
pub use knob::{Edit, Knob, KnobKind, Setting, duration_text, explicit_knob};
pub use run::{CapacityFn, Case, Prepared, Spec, analyse, prepare, run};
