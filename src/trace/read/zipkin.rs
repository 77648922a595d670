//! The Zipkin v2 JSON reader (`[span, ...]`): a serde visitor over the
//! array, one span stored at a time.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::value::{KeyOf, Value, opt_number};
use crate::trace::span::{AttrKey, Attributes, Kind, RawSpan, Spans};

/// `[span, ...]`.
pub(super) struct ZipkinDoc<'a>(pub(super) &'a mut Spans);

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
