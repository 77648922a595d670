//! `ztsim plot RESULTS`: a study's charts redrawn from its results.json.

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::charts;
use ztsim::config::Diagnostic;
use ztsim::report::study::{StudyResults, read_results};

use super::failure::{Failure, bad};
use super::flags::FolderFlags;

/// Flags of `ztsim plot`.
#[derive(Args)]
pub struct PlotArgs {
    /// A results.json written by `ztsim sweep`.
    results: PathBuf,
    /// Folder for the charts [default: beside the results].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    folder: FolderFlags,
}

/// `ztsim plot RESULTS`: redraw the charts of a results.json.
pub fn command(args: PlotArgs) -> Result<(), Failure> {
    let results = args.results.as_path();
    let r: StudyResults = read_results(results)
        .map_err(|m| bad(Diagnostic::new(results.display().to_string(), m)))?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| results.parent().unwrap_or(Path::new(".")).to_path_buf());
    let _lock = args.folder.lock(&dir)?;
    let written = charts::render_all(&r, &dir)
        .map_err(|e| Failure::Other(format!("cannot write charts to {}: {e}", dir.display())))?;
    for p in &written {
        outln!("wrote {}", p.display());
    }
    Ok(())
}
