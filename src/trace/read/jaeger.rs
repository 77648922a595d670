//! The Jaeger JSON reader (`{"data": [trace, ...]}`, as the Jaeger UI and
//! API export it): a serde visitor over the traces, each trace's processes
//! and spans stored one span at a time.

use std::fmt;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::value::number;
use crate::trace::span::{Attributes, Kind, RawSpan, Spans};

/// `{"data": [trace, ...]}`; a bare trace object is accepted too.
pub(super) struct JaegerDoc<'a>(pub(super) &'a mut Spans);

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
