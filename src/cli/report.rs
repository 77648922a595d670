//! `ztsim report STUDY`: the design-review report of a finished study,
//! against its own objectives or those given.

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::charts::{self, Chart};
use ztsim::config::Diagnostic;
use ztsim::report::review;
use ztsim::report::study::{StudyResults, read_results};

use super::failure::{Failure, bad};
use super::flags::{FolderFlags, slo_flags, slo_scopes_among};

/// Flags of `ztsim report`.
#[derive(Args)]
pub struct ReportArgs {
    /// A study folder written by `ztsim sweep` (or its results.json).
    study: PathBuf,
    /// A latency objective, e.g. p99=50ms, or gateway.balance:p99=20ms on
    /// one entry endpoint (repeatable); replaces the study's own.
    #[arg(long, value_name = "[ENDPOINT:]STAT=LIMIT")]
    slo: Vec<String>,
    /// Folder for the report [default: the study folder, rewritten in
    /// place]. A folder given here that holds a report is refused unless --force.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the report already in the folder given with --out.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    folder: FolderFlags,
}

/// `ztsim report STUDY`: the design-review report of a finished study.
pub fn command(args: ReportArgs) -> Result<(), Failure> {
    let study = args.study.as_path();
    let results_path = if study.is_dir() {
        study.join("results.json")
    } else {
        study.to_path_buf()
    };
    if !results_path.exists() {
        return Err(bad(Diagnostic::new(
            study.display().to_string(),
            "no results.json here: give a study folder written by `ztsim sweep` (e.g. output/default) or its results.json",
        )));
    }
    let results: StudyResults =
        read_results(&results_path).map_err(|m| bad(Diagnostic::new("", m)))?;
    super::print::partial_results(&results_path, &results, "the report and its charts");
    let slos = slo_flags(&args.slo)?;
    if let Some(p) = results.points.first() {
        let entries: Vec<&str> = p
            .summary
            .endpoints
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        slo_scopes_among(&slos, &entries, &entries)?;
    }
    let folder = results_path
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let (dir, _lock) = match &args.out {
        Some(out) => args.folder.claim(out, Some("--out"), args.force, |d| {
            d.join("report.html").exists() || d.join("report.md").exists()
        })?,
        None => (folder.clone(), args.folder.lock(&folder)?),
    };
    // The report shows the charts beside it: draw them where it goes.
    if dir != folder
        || Chart::ALL
            .iter()
            .all(|c| !dir.join(format!("{}.png", c.stem())).exists())
    {
        charts::render_all(&results, &dir).map_err(|e| {
            Failure::Other(format!("cannot write charts to {}: {e}", dir.display()))
        })?;
    }
    let written = review::write(
        &dir,
        &results,
        &slos,
        charts::topology_diagram(&results).as_deref(),
    )
    .map_err(|e| Failure::Other(format!("cannot write the report to {}: {e}", dir.display())))?;
    for p in &written {
        outln!("wrote {}", p.display());
    }
    Ok(())
}
