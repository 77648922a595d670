//! `ztsim plot RESULTS`: a study's charts redrawn from its results.json.

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::charts::{self, Chart};
use ztsim::config::Diagnostic;
use ztsim::report::study::{StudyResults, read_results};

use super::failure::{Failure, bad};
use super::flags::FolderFlags;

/// Flags of `ztsim plot`.
#[derive(Args)]
pub struct PlotArgs {
    /// A results.json written by `ztsim sweep`.
    results: PathBuf,
    /// Folder for the charts [default: beside the results, redrawn in
    /// place]. A folder given here that holds charts is refused unless --force.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the charts already in the folder given with --out.
    #[arg(long)]
    force: bool,
    /// Draw the latency charts over every entry endpoint's requests together
    /// instead of one panel per entry endpoint.
    #[arg(long)]
    blend_entries: bool,
    #[command(flatten)]
    folder: FolderFlags,
}

/// Whether `dir` holds any of a study's charts.
pub fn has_charts(dir: &Path) -> bool {
    Chart::ALL.iter().any(|c| {
        ["png", "svg"]
            .iter()
            .any(|e| dir.join(format!("{}.{e}", c.stem())).exists())
    })
}

/// `ztsim plot RESULTS`: redraw the charts of a results.json.
pub fn command(args: PlotArgs) -> Result<(), Failure> {
    let results = args.results.as_path();
    let mut r: StudyResults = read_results(results).map_err(|m| bad(Diagnostic::new("", m)))?;
    let (dir, _lock) = match &args.out {
        Some(out) => args
            .folder
            .claim(out, Some("--out"), args.force, has_charts)?,
        None => {
            let dir = results.parent().unwrap_or(Path::new(".")).to_path_buf();
            let lock = args.folder.lock(&dir)?;
            (dir, lock)
        }
    };
    r.blend_entries |= args.blend_entries;
    super::print::partial_results(results, &r, "the charts");
    let written = charts::render_all(&r, &dir)
        .map_err(|e| Failure::Other(format!("cannot write charts to {}: {e}", dir.display())))?;
    for p in &written {
        outln!("wrote {}", p.display());
    }
    Ok(())
}
