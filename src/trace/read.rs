//! Reading trace files: format detection and the three streaming readers
//! (Jaeger JSON, Zipkin v2 JSON, OTLP JSON), each a serde visitor that walks
//! the top-level arrays and turns one span at a time into a [`SpanRecord`]
//! (see `span.rs`), so a file of any size costs memory per span, not per byte.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::span::{AttrKey, Attributes, Kind, RawSpan, Spans};
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

// ---------------------------------------------------------------------- Jaeger

/// `{"data": [trace, ...]}`; a bare trace object is accepted too.
struct JaegerDoc<'a>(&'a mut Spans);

#[derive(Deserialize)]
#[serde(field_identifier)]
enum JaegerKey {
    #[serde(rename = "data")]
    Data,
    #[serde(rename = "spans")]
    Spans,
    #[serde(rename = "processes")]
    Processes,
    #[serde(other)]
    Other,
}

impl<'de> Visitor<'de> for JaegerDoc<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Jaeger JSON object {\"data\": [traces]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut bare = JaegerTrace::default();
        while let Some(key) = map.next_key::<JaegerKey>()? {
            match key {
                JaegerKey::Data => map.next_value_seed(JaegerTraces(&mut *self.0))?,
                JaegerKey::Spans => bare.spans = map.next_value()?,
                JaegerKey::Processes => bare.processes = map.next_value()?,
                JaegerKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        bare.store(self.0).map_err(de::Error::custom)
    }
}

struct JaegerTraces<'a>(&'a mut Spans);

impl<'de> DeserializeSeed<'de> for JaegerTraces<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JaegerTraces<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of Jaeger traces")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // One trace at a time: its spans wait for its processes (which may
        // come after them), then go into the compact store.
        while let Some(trace) = seq.next_element::<JaegerTrace>()? {
            trace.store(self.0).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[derive(Deserialize, Default)]
struct JaegerTrace {
    #[serde(default)]
    spans: Vec<JaegerSpan>,
    #[serde(default)]
    processes: FxHashMap<String, JaegerProcess>,
}

#[derive(Deserialize)]
struct JaegerProcess {
    #[serde(rename = "serviceName", default)]
    service_name: String,
}

#[derive(Deserialize)]
struct JaegerSpan {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    #[serde(rename = "operationName", default)]
    operation_name: String,
    #[serde(default)]
    references: Option<Vec<JaegerRef>>,
    #[serde(rename = "parentSpanID", default)]
    parent_span_id: Option<String>,
    #[serde(rename = "startTime", deserialize_with = "number")]
    start_time: u64,
    #[serde(deserialize_with = "number")]
    duration: u64,
    #[serde(default)]
    tags: Option<Attributes>,
    #[serde(rename = "processID", default)]
    process_id: Option<String>,
    #[serde(default)]
    process: Option<JaegerProcess>,
}

#[derive(Deserialize)]
struct JaegerRef {
    #[serde(rename = "refType", default)]
    ref_type: RefType,
    #[serde(rename = "spanID", default)]
    span_id: String,
}

#[derive(Deserialize, Default, PartialEq)]
enum RefType {
    #[serde(rename = "CHILD_OF")]
    ChildOf,
    #[default]
    #[serde(other)]
    Other,
}

impl JaegerTrace {
    fn store(self, spans: &mut Spans) -> Result<(), String> {
        for s in self.spans {
            let service = match (&s.process, &s.process_id) {
                (Some(p), _) => p.service_name.as_str(),
                (None, Some(id)) => match self.processes.get(id) {
                    Some(p) => p.service_name.as_str(),
                    None => {
                        return Err(format!(
                            "span {} refers to process \"{id}\", which its trace's \"processes\" does not define",
                            s.span_id
                        ));
                    }
                },
                (None, None) => "",
            };
            let refs = s.references.as_deref().unwrap_or(&[]);
            // The parent is the CHILD_OF reference, else a FOLLOWS_FROM one.
            let parent = refs
                .iter()
                .find(|r| r.ref_type == RefType::ChildOf)
                .or_else(|| refs.first())
                .map(|r| r.span_id.as_str())
                .or(s.parent_span_id.as_deref())
                .unwrap_or("");
            let tags = s.tags.unwrap_or_default();
            let start = s.start_time.saturating_mul(1000);
            spans.push(&RawSpan {
                trace: &s.trace_id,
                id: &s.span_id,
                parent,
                service,
                name: &s.operation_name,
                peer: tags.peer(),
                start,
                end: start.saturating_add(s.duration.saturating_mul(1000)),
                request_size: tags.request_size,
                response_size: tags.response_size,
                kind: tags.kind.unwrap_or(Kind::Internal),
            });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------- Zipkin

/// `[span, ...]`.
struct ZipkinDoc<'a>(&'a mut Spans);

impl<'de> Visitor<'de> for ZipkinDoc<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Zipkin v2 JSON array of spans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(s) = seq.next_element::<ZipkinSpan>()? {
            let Some(start) = s.timestamp else {
                // Zipkin allows spans without a timestamp (late annotations);
                // they cannot be placed in time.
                self.0.unusable += 1;
                continue;
            };
            let service = s.local_endpoint.as_ref().map_or("", |e| &e.service_name);
            let peer = s
                .remote_endpoint
                .as_ref()
                .map(|e| e.service_name.as_str())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| s.tags.peer());
            let start = start.saturating_mul(1000);
            self.0.push(&RawSpan {
                trace: &s.trace_id,
                id: &s.id,
                parent: s.parent_id.as_deref().unwrap_or(""),
                service,
                name: s.name.as_deref().unwrap_or(""),
                peer,
                start,
                end: start.saturating_add(s.duration.unwrap_or(0).saturating_mul(1000)),
                request_size: s.tags.request_size,
                response_size: s.tags.response_size,
                kind: s.kind.as_deref().map_or(Kind::Internal, Kind::parse),
            });
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ZipkinSpan {
    trace_id: String,
    id: String,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default, deserialize_with = "opt_number")]
    timestamp: Option<u64>,
    #[serde(default, deserialize_with = "opt_number")]
    duration: Option<u64>,
    #[serde(default)]
    local_endpoint: Option<ZipkinEndpoint>,
    #[serde(default)]
    remote_endpoint: Option<ZipkinEndpoint>,
    #[serde(default)]
    tags: ZipkinTags,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ZipkinEndpoint {
    #[serde(default)]
    service_name: String,
}

/// Zipkin's tags: an object of string values.
#[derive(Default)]
struct ZipkinTags(Attributes);

impl std::ops::Deref for ZipkinTags {
    type Target = Attributes;
    fn deref(&self) -> &Attributes {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ZipkinTags {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ZipkinTags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of tags")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ZipkinTags, E> {
                Ok(ZipkinTags::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ZipkinTags, A::Error> {
                let mut attrs = Attributes::default();
                while let Some(KeyOf(k)) = map.next_key()? {
                    if k == AttrKey::Other {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        let v: Value = map.next_value()?;
                        attrs.take(k, v.text.as_deref(), v.number);
                    }
                }
                Ok(ZipkinTags(attrs))
            }
        }
        d.deserialize_any(V)
    }
}

// ------------------------------------------------------------------------ OTLP

/// A seed that visits an array (or null) and reads each element with the
/// element seed `$elem`, all into the same span store.
macro_rules! array_of {
    ($name:ident, $elem:ident, $what:literal) => {
        struct $name<'a>(&'a mut Spans);
        impl<'de> DeserializeSeed<'de> for $name<'_> {
            type Value = ();
            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> Visitor<'de> for $name<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str($what)
            }
            fn visit_unit<E: de::Error>(self) -> Result<(), E> {
                Ok(())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while seq.next_element_seed($elem(&mut *self.0))?.is_some() {}
                Ok(())
            }
        }
    };
}

array_of!(
    ResourceSpansList,
    ResourceSpans,
    "an array of resourceSpans"
);
array_of!(ScopeSpansList, ScopeSpans, "an array of scopeSpans");
array_of!(OtlpSpanList, OtlpSpanSeed, "an array of spans");

/// `{"resourceSpans": [...]}` (Tempo writes `batches`).
struct OtlpDoc<'a>(&'a mut Spans);

impl<'de> Visitor<'de> for OtlpDoc<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OTLP JSON object {\"resourceSpans\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "resourceSpans" | "resource_spans" | "batches" => {
                    map.next_value_seed(ResourceSpansList(&mut *self.0))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// One resource (a service instance) and its spans. The resource may come
/// after the spans, so they are stored first and given its service after.
struct ResourceSpans<'a>(&'a mut Spans);

impl<'de> DeserializeSeed<'de> for ResourceSpans<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSpans<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resourceSpans object {\"resource\": ..., \"scopeSpans\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let first = self.0.records.len();
        let mut service = String::new();
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "resource" => {
                    let r: Resource = map.next_value()?;
                    if let Some(kv) = r.attributes.into_iter().find(|kv| kv.key == "service.name") {
                        service = kv.value.text.unwrap_or_default();
                    }
                }
                "scopeSpans"
                | "scope_spans"
                | "instrumentationLibrarySpans"
                | "instrumentation_library_spans" => {
                    map.next_value_seed(ScopeSpansList(&mut *self.0))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        self.0.set_service(first, &service);
        Ok(())
    }
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Value,
}

struct ScopeSpans<'a>(&'a mut Spans);

impl<'de> DeserializeSeed<'de> for ScopeSpans<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ScopeSpans<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scopeSpans object {\"scope\": ..., \"spans\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            if k == "spans" {
                map.next_value_seed(OtlpSpanList(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct OtlpSpanSeed<'a>(&'a mut Spans);

impl<'de> DeserializeSeed<'de> for OtlpSpanSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let s = OtlpSpan::deserialize(d)?;
        self.0.push(&RawSpan {
            trace: &s.trace_id,
            id: &s.span_id,
            parent: &s.parent_span_id,
            // Set from the resource once it is known.
            service: "",
            name: &s.name,
            peer: s.attributes.peer(),
            start: s.start_time_unix_nano,
            end: s.end_time_unix_nano,
            request_size: s.attributes.request_size,
            response_size: s.attributes.response_size,
            kind: s.kind.0,
        });
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OtlpSpan {
    #[serde(alias = "trace_id")]
    trace_id: String,
    #[serde(alias = "span_id")]
    span_id: String,
    #[serde(default, alias = "parent_span_id")]
    parent_span_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: OtlpKind,
    #[serde(deserialize_with = "number", alias = "start_time_unix_nano")]
    start_time_unix_nano: u64,
    #[serde(deserialize_with = "number", alias = "end_time_unix_nano")]
    end_time_unix_nano: u64,
    #[serde(default)]
    attributes: Attributes,
}

/// OTLP's span kind: an enum number, or its name in some encoders.
#[derive(Default)]
struct OtlpKind(Kind);

impl<'de> Deserialize<'de> for OtlpKind {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(OtlpKind(match (v.number, v.text) {
            (Some(n), _) => Kind::from_otlp(n),
            (None, Some(t)) => Kind::parse(&t),
            _ => Kind::Internal,
        }))
    }
}
