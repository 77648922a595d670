//! Everything the commands print goes through here: control characters
//! (terminal escape sequences in a name from an input file) are shown
//! escaped, and a closed stdout or stderr (`ztsim run ... | head -1`) ends
//! the printing quietly instead of a panic; the command still finishes its
//! work and writes its files.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a stream was found closed: nothing more is written to it.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// `text` with every control character but the line feed and the tab, and
/// every Unicode direction override, written as a Rust escape (`\u{1b}`), so
/// a name cannot move the cursor, recolour the terminal or reorder a line.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
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

fn write_to(mut sink: impl Write, closed: &AtomicBool, text: &str) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let written = sink
        .write_all(printable(text).as_bytes())
        .and_then(|_| sink.flush());
    // Any failure means nobody reads any more (a closed pipe, a full or
    // vanished terminal): stop printing, but never stop the work.
    if written.is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

/// Prints `text` on stdout, escaped.
pub fn out(text: &str) {
    write_to(io::stdout().lock(), &STDOUT_CLOSED, text);
}

/// Prints `text` on stderr, escaped.
pub fn err(text: &str) {
    write_to(io::stderr().lock(), &STDERR_CLOSED, text);
}
