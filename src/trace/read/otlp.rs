//! The OTLP JSON reader (`{"resourceSpans": [...]}`, also Tempo's
//! `batches`): serde visitors over resources, scopes and spans, one span
//! stored at a time.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::value::{Value, number};
use crate::trace::span::{Attributes, Kind, RawSpan, Spans};

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
pub(super) struct OtlpDoc<'a>(pub(super) &'a mut Spans);

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
