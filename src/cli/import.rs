//! `ztsim import`: trace files in, a topology and its recorded arrivals out,
//! checked by the ordinary topology loader before they are written.

use std::path::{Path, PathBuf};

use clap::Args;

use ztsim::config;
use ztsim::report::{self, words};
use ztsim::trace::{self, Format, build::safe_name, write};

use super::failure::Failure;
use super::flags::FolderFlags;
use super::terminal::Terminal;
use ztsim::study::progress::Progress;

/// Flags of `ztsim import`.
#[derive(Args)]
pub struct ImportArgs {
    /// Trace files: Jaeger JSON, Zipkin v2 JSON or OTLP JSON (one object, or
    /// JSON Lines as the collector's file exporter writes); several files are
    /// imported together, as one recording.
    #[arg(required = true, value_name = "TRACE_FILE")]
    files: Vec<PathBuf>,
    /// The files' format [default: detected from each file's start].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Name of the topology [default: the first file's name up to its first dot].
    #[arg(long)]
    name: Option<String>,
    /// Folder for <name>.toml and <name>.arrivals.csv [default: output/imports/<name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace results already in the output folder (without it, a default
    /// folder gives way to a new one, name-2, ..., and a folder given with
    /// --out is refused).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    folder: FolderFlags,
}

/// Runs `ztsim import`.
pub fn command(args: ImportArgs) -> Result<(), Failure> {
    // Reading is one call into the library, with no count to report: a
    // spinner with the elapsed time and what is read.
    let shown = Terminal::counting("");
    shown.start(None, 0);
    let bytes: u64 = args
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    shown.doing(&format!(
        "reading {} ({:.1} MB)",
        words::count(args.files.len(), "trace file"),
        bytes as f64 / 1e6
    ));
    let imported = trace::import(&args.files, args.format);
    shown.finish();
    let imported = imported.map_err(Failure::BadInput)?;
    let name = safe_name(args.name.as_deref().unwrap_or_else(|| {
        args.files[0]
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .unwrap_or("imported")
    }));
    let toml = write::topology_toml(&imported.model, &name, &imported.sources());
    let file_name = format!("{name}.toml");
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new(report::OUTPUT_ROOT).join("imports").join(&name));
    let (dir, _lock) =
        args.folder
            .claim(&dir, args.out.as_ref().map(|_| "--out"), args.force, |d| {
                d.join(&file_name).exists()
            })?;
    let cannot =
        |e: std::io::Error| Failure::Other(format!("cannot write to {}: {e}", dir.display()));
    let topology = dir.join(&file_name);
    let arrivals = dir.join(write::arrivals_file_name(&name));
    report::write_atomic(&arrivals, write::arrivals_csv(&imported.model).as_bytes())
        .map_err(cannot)?;
    report::write_atomic(&topology, toml.as_bytes()).map_err(cannot)?;
    // The ordinary loader checks what was built, recorded arrivals included,
    // as `ztsim run` will; a problem points into the file just written.
    config::load_topology(&topology).map_err(Failure::BadInput)?;
    out!("{}", imported.report());
    outln!(
        "\nwrote {} and {}\nsimulate it: ztsim run {}",
        topology.display(),
        arrivals.display(),
        topology.display()
    );
    Ok(())
}
