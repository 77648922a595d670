//! The commands of the `ztsim` binary, one file each: its flags (clap) and
//! the call into the library (`examples.rs` the examples their `--help`
//! ends with, `shell.rs` completions and manual pages). `failure.rs` is what they return, `flags.rs`
//! the flags several share, `input.rs` input files (`-` for standard
//! input), `compare.rs` the table of `run` with several designs, `terminal.rs` a long command shown on the terminal,
//! `print.rs` (with the macros below) everything printed.

/// `print!` through [`print::out`]: escaped, quiet on a closed pipe.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::print::out(&format!($($t)*)) };
}
/// `println!` through [`print::out`].
macro_rules! outln {
    () => { $crate::cli::print::out("\n") };
    ($($t:tt)*) => { $crate::cli::print::out(&format!("{}\n", format_args!($($t)*))) };
}
/// `eprintln!` through [`print::err`].
macro_rules! errln {
    ($($t:tt)*) => { $crate::cli::print::err(&format!("{}\n", format_args!($($t)*))) };
}

pub mod bench;
mod bench_designs;
mod bench_outputs;
mod bench_scale;
mod bench_searches;
#[cfg(feature = "lab")]
pub mod calibrate;
pub mod capacity;
pub mod compare;
pub mod default_study;
pub mod examples;
pub mod failure;
pub mod flags;
pub mod import;
pub mod input;
pub mod merge;
pub mod migrate;
pub mod plot;
pub mod print;
pub mod published;
pub mod report;
pub mod run;
pub mod schema;
pub mod sensitivity;
pub mod shell;
pub mod sweep;
pub mod terminal;
#[cfg(feature = "lab")]
pub mod testbed;
pub mod validate;
