//! Reading trace files: format detection and the three streaming readers
//! (Jaeger JSON, Zipkin v2 JSON, OTLP JSON), each a serde visitor that walks
//! the top-level arrays and turns one span at a time into a [`SpanRecord`]
//! (see `span.rs`), so a file of any size costs memory per span, not per byte.
//! This file owns detection, the file and line readers and JSON errors;
//! `jaeger.rs`, `zipkin.rs` and `otlp.rs` one format each; `value.rs` the
//! value forms they share (numbers, attribute values and keys).

mod jaeger;
mod otlp;
mod value;
mod zipkin;

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

use serde::de::{self, DeserializeSeed};

use self::jaeger::JaegerDoc;
use self::otlp::OtlpDoc;
use self::zipkin::ZipkinDoc;
use super::span::Spans;
use crate::config::Diagnostic;

/// A trace file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Jaeger JSON: the UI's export or the query API's answer, `{"data": [traces]}`.
    Jaeger,
    /// Zipkin v2 JSON: an array of spans.
    Zipkin,
    /// OTLP JSON (OpenTelemetry), one object or JSON Lines as the collector's file exporter writes.
    Otlp,
}

impl Format {
    /// Its name for people.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Jaeger => "Jaeger JSON",
            Format::Zipkin => "Zipkin v2 JSON",
            Format::Otlp => "OTLP JSON",
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Format::Jaeger => "jaeger",
            Format::Zipkin => "zipkin",
            Format::Otlp => "otlp",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What the start of a file looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looks {
    /// One of the trace formats.
    Trace(Format),
    /// A TOML file (a topology, a design...).
    Toml,
    /// A CSV file.
    Csv,
    /// Nothing but whitespace.
    Empty,
    /// JSON of no known trace shape.
    OtherJson,
    /// Anything else.
    Unknown,
}

impl Looks {
    fn describe(self) -> String {
        match self {
            Looks::Trace(Format::Jaeger) => {
                "Jaeger JSON (an object with \"data\", traces of spans with traceID and operationName)".into()
            }
            Looks::Trace(Format::Zipkin) => {
                "Zipkin v2 JSON (an array of spans with traceId and localEndpoint)".into()
            }
            Looks::Trace(Format::Otlp) => {
                "OTLP JSON (an object with \"resourceSpans\")".into()
            }
            Looks::Toml => "a TOML file (a topology or design?), not a trace".into(),
            Looks::Csv => "a CSV file, not a trace".into(),
            Looks::Empty => "an empty file".into(),
            Looks::OtherJson => "JSON, but of no trace format ztsim knows".into(),
            Looks::Unknown => "neither JSON nor any trace format".into(),
        }
    }
}

/// Guesses a file's format from its first bytes; also says whether it is
/// JSON Lines (one complete object per line).
pub fn sniff(head: &[u8]) -> (Looks, bool) {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let Some(first) = text.chars().next() else {
        return (Looks::Empty, false);
    };
    let first_line = text.lines().next().unwrap_or("").trim();
    let has = |s: &str| text.contains(s);
    match first {
        '{' => {
            let lines = first_line.ends_with('}');
            let looks =
                if has("\"resourceSpans\"") || has("\"resource_spans\"") || has("\"scopeSpans\"") {
                    Looks::Trace(Format::Otlp)
                } else if has("\"traceID\"")
                    || has("\"operationName\"")
                    || has("\"processes\"")
                    || has("\"data\"")
                {
                    Looks::Trace(Format::Jaeger)
                } else {
                    Looks::OtherJson
                };
            (looks, lines)
        }
        '[' => {
            let after = text[1..].trim_start().chars().next();
            if matches!(after, Some('{' | '[' | ']') | None) {
                let looks = if has("\"traceId\"") || has("\"localEndpoint\"") {
                    Looks::Trace(Format::Zipkin)
                } else {
                    Looks::OtherJson
                };
                (looks, false)
            } else {
                (Looks::Toml, false)
            }
        }
        '#' => (Looks::Toml, false),
        _ => {
            let key = first_line
                .split_once('=')
                .is_some_and(|(k, _)| !k.trim().is_empty() && !k.contains(','));
            if key {
                (Looks::Toml, false)
            } else if first_line.contains(',') {
                (Looks::Csv, false)
            } else {
                (Looks::Unknown, false)
            }
        }
    }
}

/// What reading one file found.
#[derive(Debug, Clone)]
pub struct FileRead {
    /// The file as given.
    pub file: String,
    /// Its format.
    pub format: Format,
    /// Read as JSON Lines.
    pub json_lines: bool,
    /// Spans read from it.
    pub spans: u64,
}

/// Reads one trace file into `spans`. `forced` is `--format`; without it the
/// format is detected.
pub fn read_file(
    path: &Path,
    forced: Option<Format>,
    spans: &mut Spans,
) -> Result<FileRead, Diagnostic> {
    let file = path.display().to_string();
    let cannot = |e: std::io::Error| Diagnostic::new(&file, format!("cannot read the file: {e}"));
    let mut f = File::open(path).map_err(cannot)?;
    let mut head = Vec::new();
    (&mut f)
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(cannot)?;
    let (looks, json_lines) = sniff(&head);
    let format = match (forced, looks) {
        (Some(want), Looks::Trace(got)) if want != got => {
            return Err(Diagnostic::new(
                &file,
                format!("looks like {}, not {want}", looks.describe()),
            )
            .with_help(format!(
                "use --format {} or omit --format to detect it",
                got.flag()
            )));
        }
        (Some(want), Looks::Trace(_) | Looks::OtherJson) => want,
        (_, Looks::Trace(got)) => got,
        (forced, other) => {
            let expected = "expected Jaeger JSON ({\"data\": [traces]}), Zipkin v2 JSON (an array of spans) or OTLP JSON ({\"resourceSpans\": [...]}, or one such object per line)";
            let message = match forced {
                Some(want) => format!("looks like {}, not {want}", other.describe()),
                None => format!("not a trace file: it looks like {}", other.describe()),
            };
            return Err(Diagnostic::new(&file, message).with_help(expected));
        }
    };
    let reader = BufReader::with_capacity(1 << 20, Cursor::new(head).chain(f));
    let before = spans.records.len();
    if json_lines {
        read_lines(reader, format, spans, &file)?;
    } else {
        let mut de = serde_json::Deserializer::from_reader(reader);
        Document { format, spans }
            .deserialize(&mut de)
            .and_then(|()| de.end())
            .map_err(|e| json_error(&file, format, 0, &e))?;
    }
    Ok(FileRead {
        file,
        format,
        json_lines,
        spans: (spans.records.len() - before) as u64,
    })
}

/// JSON Lines: each non-blank line is one document of `format`.
fn read_lines(
    mut reader: impl BufRead,
    format: Format,
    spans: &mut Spans,
    file: &str,
) -> Result<(), Diagnostic> {
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| Diagnostic::new(file, format!("cannot read line {}: {e}", number + 1)))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(&line);
        Document {
            format,
            spans: &mut *spans,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| json_error(file, format, number - 1, &e))?;
    }
}

/// A serde_json error as a diagnostic at its line and column; `line_offset`
/// is added to the line (JSON Lines parse each line on its own).
fn json_error(file: &str, format: Format, line_offset: usize, e: &serde_json::Error) -> Diagnostic {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut d = Diagnostic::new(file, format!("invalid {format}: {message}"));
    if e.line() > 0 {
        d.line = Some(e.line() + line_offset);
        d.column = Some(e.column());
    }
    if e.is_eof() {
        d.help = Some("the file ends in the middle of a value: was it cut short?".into());
    }
    d
}

/// One JSON document of a format, read into `spans`.
struct Document<'a> {
    format: Format,
    spans: &'a mut Spans,
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.format {
            Format::Jaeger => d.deserialize_map(JaegerDoc(self.spans)),
            Format::Zipkin => d.deserialize_seq(ZipkinDoc(self.spans)),
            Format::Otlp => d.deserialize_map(OtlpDoc(self.spans)),
        }
    }
}
