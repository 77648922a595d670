//! The commands of the `ztsim` binary, one file each: its flags (clap) and
//! the call into the library. `failure.rs` is what they return, `flags.rs`
//! the flags several share, `terminal.rs` a study run shown on the terminal.

pub mod bench;
#[cfg(feature = "lab")]
pub mod calibrate;
pub mod capacity;
pub mod default_study;
pub mod failure;
pub mod flags;
pub mod import;
pub mod merge;
pub mod plot;
pub mod report;
pub mod run;
pub mod schema;
pub mod sensitivity;
pub mod sweep;
pub mod terminal;
#[cfg(feature = "lab")]
pub mod testbed;
pub mod validate;
