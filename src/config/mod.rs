//! Input files: TOML in, validated model out. Every problem becomes a
//! [`Diagnostic`] naming file, line, column and key; nothing here panics on
//! input, and nothing downstream re-validates.

pub mod design;
pub mod diag;
pub mod dist;
mod names;
pub mod profile;
pub mod rollout;
pub mod schema;
pub mod study;
pub mod topology;

pub use design::parse_design;
pub use diag::{Diagnostic, KeyPath, Source};
pub use names::{MAX_NAME_CHARS, entry_names, entry_scope, entry_scopes, name_problem};
pub use profile::{CostProfile, load_profile};
pub use topology::parse_topology;

use crate::model::topology::Topology;
use std::collections::HashMap;
use std::hash::Hash;
use std::path::Path;

fn read(path: &Path) -> Result<(String, String), Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = read_text(path).map_err(|d| vec![d])?;
    Ok((file, text))
}

/// The first value of a list given again, as (where it was first, where
/// again): a study's rate or parameter value listed twice would be one load
/// or one setting twice, and merging the two silently would hide a typo
/// (`[100, 150, 100]` for `[100, 150, 1000]`). Linear, for lists of any
/// length.
pub fn first_repeat<K: Eq + Hash>(keys: impl IntoIterator<Item = K>) -> Option<(usize, usize)> {
    let mut seen = HashMap::new();
    keys.into_iter()
        .enumerate()
        .find_map(|(j, k)| seen.insert(k, j).map(|i| (i, j)))
}

/// The most a results, point or shard file may hold: a results.json of the
/// default study is about 2 MB, so a file past this is not one of ours.
pub const MAX_RESULTS_BYTES: u64 = 1 << 30;

/// The text of the regular file at `path`, of at most `limit` bytes, or why
/// not (without the path: callers name the file). Anything but a regular
/// file (a FIFO, a device, a folder) is refused before it is opened, so a
/// planted FIFO cannot hang a reader nor `/dev/zero` fill the memory.
pub fn read_regular(path: &Path, limit: u64) -> Result<String, String> {
    let not_regular = "not a regular file (a FIFO, device or folder?); give the file itself";
    let cannot = |e: std::io::Error| format!("cannot read the file: {e}");
    if !std::fs::metadata(path).map_err(cannot)?.is_file() {
        return Err(not_regular.into());
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    // Replaced between the check and the open: check what was opened.
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(not_regular.into());
    }
    let bytes = read_at_most(file, limit).map_err(cannot)?.ok_or_else(|| {
        format!(
            "the file is larger than the {} MiB a ztsim results file may hold",
            limit >> 20
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text: byte {} (0-based) is not valid UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The bytes of `file` if it holds at most `max`, else None: a regular
/// file's length is known before reading it, anything else (a pipe, a
/// device such as `/dev/zero`) is read to one byte past the limit.
fn read_at_most(file: std::fs::File, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let known = file
        .metadata()
        .map_or(0, |m| if m.is_file() { m.len() } else { 0 });
    if known > max {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(known as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// Most bytes of a TOML input (topology, design, study, profile, rollout).
/// The TOML parser holds about a hundred bytes per byte of a long array, so
/// this bounds a file's parse to about a gigabyte; hand-written and imported
/// files are kilobytes.
pub const MAX_TOML_BYTES: u64 = 8 << 20;

/// Reads a TOML input file (at most [`MAX_TOML_BYTES`]). A file that is not
/// UTF-8 is refused at its first bad byte: the byte offset, and the line and
/// column it falls on. Unlike [`read_regular`] for the files ztsim wrote, an
/// input may be a pipe (`ztsim run <(generate)`), read up to the limit.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    read_text_up_to(
        path,
        MAX_TOML_BYTES,
        "a topology, design or study file is kilobytes; a large empirical distribution fits in a `histogram`",
    )
}

/// Reads a text input file of at most `max` bytes, refusing a larger one (or
/// an endless one, such as `/dev/zero`) after reading `max + 1` bytes, with
/// `help` saying what fits instead.
pub fn read_text_up_to(path: &Path, max: u64, help: &str) -> Result<String, Diagnostic> {
    let file = path.display().to_string();
    let cannot = |e: std::io::Error| Diagnostic::new(&file, format!("cannot read the file: {e}"));
    let f = std::fs::File::open(path).map_err(cannot)?;
    let Some(bytes) = read_at_most(f, max).map_err(cannot)? else {
        return Err(Diagnostic::new(
            &file,
            format!(
                "the file is larger than {} MiB, the most ztsim reads from such a file",
                max >> 20
            ),
        )
        .with_help(help.to_string()));
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        // The bytes before `at` are valid UTF-8, so the column counts characters.
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Diagnostic {
            line: Some(before.iter().filter(|&&b| b == b'\n').count() + 1),
            column: Some(column),
            ..Diagnostic::new(
                &file,
                format!("the file is not UTF-8 text: byte {at} (0-based) is not valid UTF-8"),
            )
        }
        .with_help("save the file as UTF-8")
    })
}

/// A diagnostic about `key` of the file at `path`, located in it if the file
/// still reads and holds the key (else naming the file alone): for a
/// refusal decided after validation, such as a run's estimated size.
pub fn locate(path: &Path, key: &KeyPath, message: impl Into<String>) -> Diagnostic {
    let file = path.display().to_string();
    match read_text(path)
        .ok()
        .and_then(|text| Source::parse(&file, &text).ok())
    {
        Some(src) => src.error(key, message),
        None => Diagnostic {
            key: Some(key.clone()),
            ..Diagnostic::new(file, message)
        },
    }
}

/// Reads and validates a topology file.
pub fn load_topology(path: &Path) -> Result<Topology, Vec<Diagnostic>> {
    let (file, text) = read(path)?;
    parse_topology(&file, &text)
}

/// Reads a design file and resolves it against `topo`, with the `--costs`
/// profile if one was given, and its warnings.
pub fn load_design(
    path: &Path,
    topo: &Topology,
    costs: Option<&CostProfile>,
) -> Result<design::Parsed, Vec<Diagnostic>> {
    let (file, text) = read(path)?;
    design::parse_design_with_costs(&file, &text, Some(topo), costs)
}

/// Checks a design file on its own (`topo` None: names of topology endpoints
/// are not checked) or against a topology, with its warnings.
pub fn check_design(
    path: &Path,
    topo: Option<&Topology>,
) -> Result<design::Parsed, Vec<Diagnostic>> {
    let (file, text) = read(path)?;
    design::parse_design_with_costs(&file, &text, topo, None)
}

/// What an input file describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A topology (`[services]`, `[workload]`).
    Topology,
    /// A Zero Trust design (`[transport]`, `[authz]`...).
    Design,
    /// A study (`topology`, `designs`, `rates`, `[params]`).
    Study,
}

/// Tells a topology, a design and a study apart by their top-level keys.
pub fn file_kind(path: &Path) -> Result<FileKind, Vec<Diagnostic>> {
    let (file, text) = read(path)?;
    kind_of(&file, &text)
}

/// What the text of an input file describes; `file` names it in diagnostics.
pub fn kind_of(file: &str, text: &str) -> Result<FileKind, Vec<Diagnostic>> {
    let src = Source::parse(file, text).map_err(|d| vec![d])?;
    let topo_keys = ["services", "workload", "zones", "network"];
    let has = |keys: &[&str]| keys.iter().any(|k| src.contains(&KeyPath::root().key(k)));
    Ok(if has(&topo_keys) {
        FileKind::Topology
    } else if has(&["topology", "designs", "rates", "params", "focus_rate"]) {
        FileKind::Study
    } else {
        FileKind::Design
    })
}
