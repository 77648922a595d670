//! `ztsim` with no command: the built-in default study, resumed if it ran
//! before, and the seed article's figures beside the computed ones.

use std::path::Path;

use ztsim::report;
use ztsim::report::study::read_results;
use ztsim::study::builtin;
use ztsim::study::folder::{Existing, Run, run_study};

use super::failure::Failure;
use super::terminal::{STOP, Terminal, command_line};

/// The built-in default study (`ztsim` with no command).
pub fn command() -> Result<(), Failure> {
    let spec = builtin::spec();
    outln!(
        "ztsim: no command given; running the built-in default study (`ztsim --help` lists commands)."
    );
    outln!(
        "{}: {} under 6 designs, {} loads.\n",
        spec.title,
        builtin::TOPOLOGY.0,
        builtin::RATES.len()
    );
    let dir = report::study_dir(Path::new(report::OUTPUT_ROOT), &spec.name);
    let run = Run {
        dir: &dir,
        existing: Existing::ResumeOrOverwrite,
        guarded: true,
        shard: None,
        wait: false,
        command: &command_line(),
        pretty: false,
    };
    run_study(&spec, &run, &Terminal::sweep(), &STOP)?;
    let results = read_results(&dir.join("results.json")).map_err(Failure::Other)?;
    outln!("\n{}", report::article::compare(&results));
    Ok(())
}
