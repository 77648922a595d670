//! Trace import (`ztsim import`): recorded traces in, a topology out. An
//! input edge like `config`: files are read here, and what comes out is
//! topology text that `config` validates like any hand-written file.
//!
//! - `read`: format detection and streaming readers of Jaeger, Zipkin v2 and
//!   OTLP JSON into compact span records (`span`).
//! - `build`: cleaning (duplicates, orphans, clock skew), call trees, and
//!   their aggregation into call graphs, CPU samples, sizes and arrivals.
//! - `write`: the topology TOML and the arrivals CSV.
//! - `synth`: a deterministic generator of sample traces in all three
//!   formats (the shipped samples and the import benchmark).
//!
//! ```
//! use ztsim::trace::{self, synth};
//! let dir = std::env::temp_dir().join(format!("ztsim-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let file = dir.join("shop.json");
//! let traces = synth::Checkout::new(1, 20.0).take(50);
//! synth::write_zipkin(traces, std::fs::File::create(&file).unwrap()).unwrap();
//! let import = trace::import(&[file], None).unwrap();
//! let toml = trace::write::topology_toml(&import.model, "shop", "shop.json");
//! std::fs::write(dir.join("shop.arrivals.csv"), trace::write::arrivals_csv(&import.model)).unwrap();
//! std::fs::write(dir.join("shop.toml"), toml).unwrap();
//! let topo = ztsim::config::load_topology(&dir.join("shop.toml")).unwrap();
//! assert!(topo.endpoints.iter().any(|e| e.name == "cart.GetCart"));
//! # std::fs::remove_dir_all(&dir).ok();
//! ```

pub mod build;
pub mod read;
pub mod span;
pub mod synth;
pub mod write;

use std::fmt::Write as _;
use std::path::PathBuf;

pub use build::{Cleanup, Model};
pub use read::{FileRead, Format};

use crate::config::Diagnostic;

/// What importing some files gave.
#[derive(Debug, Clone)]
pub struct Import {
    /// Each file read.
    pub files: Vec<FileRead>,
    /// The model built from all of them together.
    pub model: Model,
}

/// Reads every file (all problems are reported, not just the first) and
/// builds the model from their spans together. `format` forces a format;
/// without it each file's is detected.
pub fn import(paths: &[PathBuf], format: Option<Format>) -> Result<Import, Vec<Diagnostic>> {
    let mut spans = span::Spans::default();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match read::read_file(p, format, &mut spans) {
            Ok(f) => files.push(f),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let names: Vec<&str> = files.iter().map(|f| f.file.as_str()).collect();
    let model =
        build::build(spans).map_err(|e| vec![Diagnostic::new(names.join(", "), e.to_string())])?;
    Ok(Import { files, model })
}

impl Import {
    /// The files, for a comment: `a.json (Jaeger JSON), b.json (...)`.
    pub fn sources(&self) -> String {
        self.files
            .iter()
            .map(|f| format!("{} ({})", f.file, f.format))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What was read, dropped, adjusted and built, with counts.
    pub fn report(&self) -> String {
        let mut t = String::new();
        let m = &self.model;
        let c = &m.cleanup;
        for f in &self.files {
            let _ = writeln!(
                t,
                "read {}: {}{}, {} spans",
                f.file,
                f.format,
                if f.json_lines { " (JSON Lines)" } else { "" },
                f.spans
            );
        }
        let _ = writeln!(
            t,
            "{} spans in {} traces; {} requests (root spans)",
            c.spans_read, c.traces, c.roots
        );
        counted(&mut t, "dropped", dropped(c));
        counted(&mut t, "adjusted", adjusted(c));
        built(&mut t, m);
        t
    }
}

/// A heading and its lines, or "nothing".
fn counted(t: &mut String, heading: &str, lines: Vec<String>) {
    if lines.is_empty() {
        let _ = writeln!(t, "{heading}: nothing");
    } else {
        let _ = writeln!(t, "{heading}:");
        for l in lines {
            let _ = writeln!(t, "{l}");
        }
    }
}

/// What cleaning dropped, one line per kind that happened.
fn dropped(c: &Cleanup) -> Vec<String> {
    let mut dropped = Vec::new();
    let mut note = |n: u64, what: String| {
        if n > 0 {
            dropped.push(format!("  {n} {what}"));
        }
    };
    note(
        c.unusable,
        "spans without a span id, trace id or timestamp".into(),
    );
    note(
        c.duplicates,
        "spans repeating the span id of an earlier span of their trace (the first read was kept)"
            .into(),
    );
    note(c.orphans, "orphan spans, whose parent is not in their trace (dropped with their subtrees, not promoted to requests: they are parts of requests whose root is elsewhere)".into());
    note(
        c.orphan_descendants,
        "spans below an orphan or in a parent cycle".into(),
    );
    note(
        c.traces_without_root,
        "traces without a root span (all their spans dropped above)".into(),
    );
    note(
        c.too_deep,
        format!("spans nested deeper than {} levels", build::MAX_DEPTH),
    );
    note(c.cycle_calls_dropped, "call sites that closed a cycle between endpoints (A calls B in some traces, B calls A in others)".into());
    dropped
}

/// What cleaning adjusted, one line per kind that happened.
fn adjusted(c: &Cleanup) -> Vec<String> {
    let mut adjusted = Vec::new();
    let mut note = |n: u64, what: String| {
        if n > 0 {
            adjusted.push(format!("  {n} {what}"));
        }
    };
    note(
        c.negative_durations,
        "spans ending before they start: duration set to zero".into(),
    );
    note(c.shared_split, "Zipkin shared spans (client and server under one id) split into a client span and its server child".into());
    note(
        c.skew_shifted,
        format!(
            "spans outside their parent's time (clock skew) shifted into it with their subtree, largest shift {}{}",
            crate::units::format_nanos(c.skew_max_ns as f64),
            if c.skew_truncated > 0 {
                format!(
                    "; {} of them longer than their parent, cut to it",
                    c.skew_truncated
                )
            } else {
                String::new()
            }
        ),
    );
    note(c.clients_merged, "client spans merged with their server span into one call (network time counted as the callee's)".into());
    note(
        c.recursive_inlined,
        "spans of an endpoint already on their call path (recursion) inlined into their caller"
            .into(),
    );
    adjusted
}

/// What was built: the model's size, its entries and the recorded rate.
fn built(t: &mut String, m: &Model) {
    let c = &m.cleanup;
    let calls: usize = m
        .endpoints
        .iter()
        .map(|e| e.stages.iter().map(Vec::len).sum::<usize>())
        .sum();
    let _ = writeln!(
        t,
        "built: {} services, {} endpoints, {} call sites from {} calls",
        m.services.len(),
        m.endpoints.len(),
        calls,
        c.spans_used
    );
    let entries: Vec<String> = m
        .entries
        .iter()
        .map(|&(e, n)| {
            let ep = &m.endpoints[e];
            format!("{}.{} ({n})", m.services[ep.service].name, ep.name)
        })
        .collect();
    let _ = writeln!(t, "entries: {}", entries.join(", "));
    if m.arrivals.len() >= 2 && m.span_ns > 0 {
        let _ = writeln!(
            t,
            "arrivals: {} requests over {}, mean rate {:.3} rps",
            m.arrivals.len(),
            crate::units::format_nanos(m.span_ns as f64),
            m.arrivals.len() as f64 / (m.span_ns as f64 * 1e-9)
        );
    } else {
        let _ = writeln!(
            t,
            "arrivals: a single request; its rate cannot be measured, rate = 1 rps and duration 1 s written"
        );
    }
}
