//! Input files named on the command line, where `-` means standard input
//! (a topology piped from a generator). Standard input is read once, so a
//! command takes at most one `-` ([`one_stdin`]). Diagnostics name it
//! `<stdin>`; a path inside it (a topology's `replay` CSV) is relative to
//! the current directory, as there is no file to be relative to. A
//! topology or design from standard input without a `name` key is named
//! `stdin`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ztsim::config::study::Input;
use ztsim::config::{self, CostProfile, Diagnostic, KeyPath, Source};
use ztsim::model::{Design, Topology};

use super::failure::{Failure, bad, flag_error};

/// How diagnostics name standard input.
pub const STDIN: &str = "<stdin>";

/// Most bytes read from standard input: what a topology or design file may hold.
const MAX_STDIN: u64 = config::MAX_TOML_BYTES;

/// Whether `path` is `-`, standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The name diagnostics give `path`: `<stdin>` for `-`.
pub fn shown(path: &Path) -> PathBuf {
    if is_stdin(path) {
        PathBuf::from(STDIN)
    } else {
        path.to_path_buf()
    }
}

/// Standard input as UTF-8 text, read on first use.
fn stdin_text() -> Result<&'static str, Diagnostic> {
    static TEXT: OnceLock<Result<String, String>> = OnceLock::new();
    let read = TEXT.get_or_init(|| {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_STDIN + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        if bytes.len() as u64 > MAX_STDIN {
            return Err(format!(
                "standard input holds more than {} MiB, the most ztsim reads from a topology or design",
                MAX_STDIN >> 20
            ));
        }
        String::from_utf8(bytes).map_err(|e| {
            format!(
                "standard input is not UTF-8 text: byte {} (0-based) is not valid UTF-8",
                e.utf8_error().valid_up_to()
            )
        })
    });
    read.as_deref()
        .map_err(|m| Diagnostic::new(STDIN, m.as_str()))
}

/// The file at `path`, or standard input for `-`.
pub fn read(path: &Path) -> Result<Input, Diagnostic> {
    if is_stdin(path) {
        stdin_text().map(|text| Input {
            name: STDIN.into(),
            text: text.into(),
        })
    } else {
        Input::read(path)
    }
}

/// The topology at `path` (or `-`), read and validated.
pub fn topology(path: &Path) -> Result<Topology, Failure> {
    if !is_stdin(path) {
        return config::load_topology(path).map_err(Failure::BadInput);
    }
    let input = read(path).map_err(bad)?;
    let mut topo = config::parse_topology(&input.name, &input.text).map_err(|mut ds| {
        let replay = KeyPath::root().key("workload").key("replay");
        for d in ds.iter_mut().filter(|d| d.key.as_ref() == Some(&replay)) {
            d.help = Some(
                "from standard input, the path is relative to the current directory: run ztsim where it resolves, or give the topology as a file".into(),
            );
        }
        Failure::BadInput(ds)
    })?;
    unnamed(&mut topo.name);
    Ok(topo)
}

/// A file's name is its stem unless it names itself: standard input's is
/// `stdin` (its output folders `output/runs/stdin`, ...).
fn unnamed(name: &mut String) {
    if name == STDIN {
        *name = "stdin".into();
    }
}

/// The design at `path` (or `-`) resolved against `topo`, with the
/// `--costs` profile if one was given; its warnings printed.
pub fn design(
    path: &Path,
    topo: &Topology,
    costs: Option<&CostProfile>,
) -> Result<Design, Failure> {
    let parsed = if is_stdin(path) {
        let input = read(path).map_err(bad)?;
        let mut p =
            config::design::parse_design_with_costs(&input.name, &input.text, Some(topo), costs)
                .map_err(Failure::BadInput)?;
        unnamed(&mut p.design.name);
        p
    } else {
        config::load_design(path, topo, costs).map_err(Failure::BadInput)?
    };
    super::print::warnings(&parsed.warnings);
    Ok(parsed.design)
}

/// A diagnostic about `key` of the file at `path` (or `-`), located in it
/// when it still reads and holds the key.
pub fn locate(path: &Path, key: &KeyPath, message: String) -> Diagnostic {
    locator(path)(key, message)
}

/// [`locate`] for several keys of one file, which is read and parsed once.
pub fn locator(path: &Path) -> impl Fn(&KeyPath, String) -> Diagnostic {
    let name = shown(path).display().to_string();
    let text = if is_stdin(path) {
        stdin_text().ok().map(String::from)
    } else {
        config::read_text(path).ok()
    };
    let source = text.and_then(|t| Source::parse(&name, &t).ok());
    move |key, message| match &source {
        Some(src) => src.error(key, message),
        None => Diagnostic {
            key: Some(key.clone()),
            ..Diagnostic::new(name.clone(), message)
        },
    }
}

/// Refuses a command line that reads standard input twice: `flags` are the
/// inputs it names (the flag, or the argument's name, and its path).
pub fn one_stdin<'a>(flags: impl IntoIterator<Item = (&'a str, &'a Path)>) -> Result<(), Failure> {
    let dashes: Vec<&str> = flags
        .into_iter()
        .filter(|(_, p)| is_stdin(p))
        .map(|(f, _)| f)
        .collect();
    if dashes.len() > 1 {
        return Err(flag_error(
            dashes[1],
            format!(
                "`-` (standard input) is already given to {}: standard input can be read only once; save one of them to a file",
                dashes[0]
            ),
        ));
    }
    Ok(())
}
