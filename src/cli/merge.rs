//! `ztsim merge`: shard results of a study (`ztsim sweep STUDY --shard I/N`)
//! checked and combined by the library, written by the same function as a
//! sweep's outputs.

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::report;
use ztsim::study::folder::{has_results, write_study_outputs};
use ztsim::study::merge;

use super::failure::Failure;
use super::flags::{FolderFlags, PrettyFlag};

/// Flags of `ztsim merge`.
#[derive(Args)]
pub struct MergeArgs {
    /// Shard result folders written by `ztsim sweep STUDY --shard I/N`, or
    /// folders holding them (e.g. output/big/shards, or output/big).
    #[arg(required = true, value_name = "SHARD_DIR")]
    shards: Vec<PathBuf>,
    /// Output folder [default: output/<study name>]; see --force.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace results already in the output folder (without it, a default
    /// folder gives way to a new one, name-2, ..., and a folder given with
    /// --out is refused).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    folder: FolderFlags,
    #[command(flatten)]
    pretty: PrettyFlag,
}

/// `ztsim merge`.
pub fn command(args: MergeArgs) -> Result<(), Failure> {
    let merged = merge::gather(&args.shards)?;
    let results = &merged.results;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| report::study_dir(Path::new(report::OUTPUT_ROOT), &merged.name));
    let (dir, _lock) = args.folder.claim(
        &dir,
        args.out.as_ref().map(|_| "--out"),
        args.force,
        has_results,
    )?;
    let written = write_study_outputs(&dir, results, args.pretty.pretty)?;
    out!("{}", report::study::overview(results));
    outln!(
        "\nmerged {} shards ({} points) into {}: results.csv, results.json, {} charts and report.html",
        merged.shards,
        results.points.len(),
        dir.display(),
        written.charts
    );
    Ok(())
}
