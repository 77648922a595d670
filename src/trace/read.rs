//! Reading trace files: format detection and the three streaming readers
//! (Jaeger JSON, Zipkin v2 JSON, OTLP JSON), each a serde visitor that walks
//! the top-level arrays and turns one span at a time into a [`SpanRecord`]
//! (see `span.rs`), so a file of any size costs memory per span, not per byte.
//! This file owns detection, the file and line readers, JSON errors and the
//! value forms the formats share; `jaeger.rs`, `zipkin.rs` and `otlp.rs` one
//! format each.

mod jaeger;
mod otlp;
mod zipkin;

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use self::jaeger::JaegerDoc;
use self::otlp::OtlpDoc;
use self::zipkin::ZipkinDoc;
use super::span::{AttrKey, Attributes, Spans};
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

// ---------------------------------------------------------------- shared parts

/// A non-negative integer written as a number or a string (OTLP writes 64-bit
/// integers as strings).
fn number<'de, D: de::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a non-negative integer (a number or a string of digits)")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("a time cannot be negative, got {v}")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
            if v.is_finite() && v >= 0.0 {
                Ok(v.round() as u64)
            } else {
                Err(E::custom(format!(
                    "expected a non-negative number, got {v}"
                )))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.trim()
                .parse::<u64>()
                .or_else(|_| v.trim().parse::<f64>().map(|f| f.max(0.0).round() as u64))
                .map_err(|_| E::custom(format!("expected an integer, got \"{v}\"")))
        }
    }
    d.deserialize_any(V)
}

/// An optional [`number`].
fn opt_number<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    number(d).map(Some)
}

/// A scalar attribute value: Jaeger writes it bare (`"value": 12`), OTLP as
/// an `AnyValue` object (`"value": {"intValue": "12"}`).
#[derive(Default)]
struct Value {
    text: Option<String>,
    number: Option<i64>,
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_owned()),
                    number: v.trim().parse().ok(),
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_string()),
                    number: Some(v),
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_string()),
                    number: i64::try_from(v).ok(),
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_string()),
                    number: (v.is_finite() && v >= 0.0).then_some(v.round() as i64),
                })
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value {
                    text: Some(v.to_string()),
                    number: None,
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                // OTLP's AnyValue: exactly one of these keys.
                let mut out = Value::default();
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "stringValue" | "intValue" | "doubleValue" | "boolValue"
                        | "string_value" | "int_value" | "double_value" | "bool_value" => {
                            out = map.next_value()?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// An attribute key, classified as it is read (no allocation).
struct KeyOf(AttrKey);

impl<'de> Deserialize<'de> for KeyOf {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyOf;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute key (a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyOf, E> {
                Ok(KeyOf(AttrKey::of(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A list of `{key, value}` pairs (Jaeger tags, OTLP attributes), keeping
/// only the attributes the importer reads.
impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of {\"key\": ..., \"value\": ...} objects")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Attributes, E> {
                Ok(Attributes::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Attributes, A::Error> {
                let mut attrs = Attributes::default();
                while seq.next_element_seed(Pair(&mut attrs))?.is_some() {}
                Ok(attrs)
            }
        }
        struct Pair<'a>(&'a mut Attributes);
        impl<'de> DeserializeSeed<'de> for Pair<'_> {
            type Value = ();
            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_map(self)
            }
        }
        impl<'de> Visitor<'de> for Pair<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a {\"key\": ..., \"value\": ...} object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                #[derive(Deserialize)]
                #[serde(field_identifier, rename_all = "lowercase")]
                enum Field {
                    Key,
                    Value,
                    #[serde(other)]
                    Other,
                }
                let mut key: Option<AttrKey> = None;
                let mut value: Option<Value> = None;
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Key => key = Some(map.next_value::<KeyOf>()?.0),
                        // Values of keys already known to be unused are
                        // skipped without being kept.
                        Field::Value if key != Some(AttrKey::Other) => {
                            value = Some(map.next_value()?);
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if let (Some(k), Some(v)) = (key, value) {
                    self.0.take(k, v.text.as_deref(), v.number);
                }
                Ok(())
            }
        }
        d.deserialize_any(List)
    }
}
