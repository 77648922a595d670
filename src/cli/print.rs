//! Everything the commands print goes through here: control characters
//! (terminal escape sequences in a name from an input file) are shown
//! escaped, and a closed stdout or stderr (`ztsim run ... | head -1`) ends
//! the printing quietly instead of a panic; the command still finishes its
//! work and writes its files.
//!
//! `--json` and `--quiet` set the [`Mode`]: with `--json` the human text
//! goes to stderr and stdout carries one JSON document ([`json`]); with
//! `--quiet` only errors ([`error`]) are printed.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Set once a stream was found closed: nothing more is written to it.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Where the human text goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tables and lines on stdout, warnings and progress on stderr.
    Text = 0,
    /// The human text on stderr; stdout holds one JSON document.
    Json = 1,
    /// Nothing but errors.
    Quiet = 2,
}

static MODE: AtomicU8 = AtomicU8::new(Mode::Text as u8);

/// Sets the mode for the rest of the process.
pub fn set_mode(mode: Mode) {
    MODE.store(mode as u8, Ordering::Relaxed);
}

/// The mode set by the command's flags.
pub fn mode() -> Mode {
    match MODE.load(Ordering::Relaxed) {
        1 => Mode::Json,
        2 => Mode::Quiet,
        _ => Mode::Text,
    }
}

/// A control character but the line feed and the tab, or a Unicode
/// direction override.
fn risky(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character but the line feed and the tab, and
/// every Unicode direction override, written as a Rust escape (`\u{1b}`), so
/// a name cannot move the cursor, recolour the terminal or reorder a line.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(risky) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if risky(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out.into()
}

fn write_to(sink: impl Write, closed: &AtomicBool, text: &str) {
    write_raw(sink, closed, &printable(text));
}

fn write_raw(mut sink: impl Write, closed: &AtomicBool, text: &str) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let written = sink.write_all(text.as_bytes()).and_then(|_| sink.flush());
    // Any failure means nobody reads any more (a closed pipe, a full or
    // vanished terminal): stop printing, but never stop the work.
    if written.is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

/// Prints `text` on stdout, escaped (on stderr with `--json`, nowhere
/// with `--quiet`).
pub fn out(text: &str) {
    match mode() {
        Mode::Text => write_to(io::stdout().lock(), &STDOUT_CLOSED, text),
        Mode::Json => err(text),
        Mode::Quiet => {}
    }
}

/// Prints `text` (a warning, progress) on stderr, escaped; nothing with
/// `--quiet`.
pub fn err(text: &str) {
    if mode() != Mode::Quiet {
        error(text);
    }
}

/// Warns (as [`err`]) that `results`, read from `path`, are an interrupted
/// sweep's, if they are: `drawn` ("the charts") shows only their points.
pub fn partial_results(
    path: &std::path::Path,
    results: &ztsim::report::study::StudyResults,
    drawn: &str,
) {
    if let Some(partial) = results.partial() {
        warnings(&[ztsim::config::Diagnostic::new(
            path.display().to_string(),
            format!(
                "an interrupted sweep's results (partial, {partial}); {drawn} show those and say so (resume the sweep with --resume for the rest)"
            ),
        )]);
    }
}

/// Every warning printed so far, each once: a command may read one design
/// more than once (`validate` against several topologies). `--json`'s
/// document lists them ([`json`]).
static WARNED: std::sync::Mutex<Vec<ztsim::config::Diagnostic>> = std::sync::Mutex::new(Vec::new());

/// Prints each warning (about an input file, a study or a run) on stderr
/// (as [`err`]) once per process, and keeps it for `--json`'s document.
/// Warnings change no exit code and no file.
pub fn warnings(found: &[ztsim::config::Diagnostic]) {
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for w in found {
        if !warned.contains(w) {
            err(&format!("{}\n", w.warning()));
            warned.push(w.clone());
        }
    }
}

/// A diagnostic as JSON: `file`, `line`, `column`, `key`, `message` and
/// `help`, `null` where unknown.
pub fn diagnostic(d: &ztsim::config::Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "file": (!d.file.is_empty()).then_some(&d.file),
        "line": d.line,
        "column": d.column,
        "key": d.key.as_ref().map(|k| k.to_string()),
        "message": d.message,
        "help": d.help,
    })
}

/// Prints an error on stderr, escaped, in every mode.
pub fn error(text: &str) {
    write_to(io::stderr().lock(), &STDERR_CLOSED, text);
}

/// Prints the JSON document of `--json` on stdout, pretty, with the
/// `warnings` printed on stderr so far (as [`diagnostic`]s) as its last
/// key. JSON escapes control characters itself; Unicode direction
/// overrides are written as JSON escapes (`\u202e`), so the document stays
/// valid JSON and safe to show.
pub fn json(mut doc: serde_json::Value) {
    if mode() != Mode::Json {
        return;
    }
    if let Some(fields) = doc.as_object_mut() {
        let warned = WARNED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        fields.insert("warnings".into(), warned.iter().map(diagnostic).collect());
    }
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    let mut safe = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if risky(c) {
            safe.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            safe.push(c);
        }
    }
    safe.push('\n');
    write_raw(io::stdout().lock(), &STDOUT_CLOSED, &safe);
}

/// The JSON document of a command that wrote `json_file` (and `files`):
/// the folder, the files and the JSON file's contents under `key`, printed
/// with `--json`.
pub fn json_wrote(
    command: &str,
    dir: &std::path::Path,
    files: &[std::path::PathBuf],
    key: &str,
    json_file: &std::path::Path,
) {
    if mode() != Mode::Json {
        return;
    }
    let value: serde_json::Value = std::fs::read_to_string(json_file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    json(serde_json::json!({
        "command": command,
        "folder": dir,
        "files": files,
        key: value,
    }));
}
