//! `ztsim published`: the presets against published measurements
//! (Istio's benchmark, the 2021 Linkerd vs Istio benchmark), each row
//! reference, ztsim and error, printed and written to `published.csv`.

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::report;
use ztsim::report::published::{render_published, write_published};
use ztsim::study::published::{Settings, published};

use super::failure::Failure;
use super::flags::{FolderFlags, THREADS_HELP, set_threads};

/// Flags of `ztsim published`.
#[derive(Args)]
pub struct PublishedArgs {
    /// Fewer and shorter replications (2 of 1 s instead of 5 of 10 s): a
    /// smoke run, its figures noisier.
    #[arg(long)]
    quick: bool,
    /// Output folder [default: output/published].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    folder: FolderFlags,
    /// Replace results already in the output folder (without it, a default
    /// folder gives way to a new one, name-2, ..., and a folder given with
    /// --out is refused).
    #[arg(long)]
    force: bool,
    #[arg(long, value_name = "N", help = THREADS_HELP)]
    threads: Option<usize>,
}

/// `ztsim published`.
pub fn command(args: PublishedArgs) -> Result<(), Failure> {
    if let Some(n) = args.threads {
        set_threads(n)?;
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new(report::OUTPUT_ROOT).join("published"));
    let (dir, _lock) =
        args.folder
            .claim(&dir, args.out.as_ref().map(|_| "--out"), args.force, |d| {
                d.join("published.csv").exists()
            })?;
    let settings = if args.quick {
        Settings::QUICK
    } else {
        Settings::FULL
    };
    errln!(
        "running the published benchmarks' setups: {} replications of {} s per design...",
        settings.replications,
        settings.duration_s
    );
    let rows = published(settings).map_err(Failure::BadInput)?;
    out!("{}", render_published(&rows));
    outln!(
        "\nThe presets' proxy.off_path_fraction was calibrated to istio-perf's added p90: that row is a fit; the others are checks (docs/validation.md)."
    );
    write_published(&dir, &rows)
        .map_err(|e| Failure::Other(format!("cannot write results to {}: {e}", dir.display())))?;
    outln!("\nwrote {}/published.csv", dir.display());
    Ok(())
}
