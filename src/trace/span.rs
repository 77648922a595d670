//! The compact form every trace format is read into: one small record per
//! span, ids parsed to integers and names interned, so a large file costs a
//! few dozen bytes per span however verbose its JSON was.

use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};

/// A string table: each distinct name is stored once and referred to by index.
/// Index 0 is the empty string, which stands for "none".
#[derive(Debug)]
pub struct Interner {
    ids: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut ids = FxHashMap::default();
        ids.insert(String::new(), 0);
        Self {
            ids,
            names: vec![String::new()],
        }
    }
}

impl Interner {
    /// The index of `name`, adding it if new.
    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), i);
        i
    }

    /// The name at `id`.
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
}

/// What a span stands for in an RPC, as the formats tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// Not said (Jaeger without a `span.kind` tag) or in-process work.
    #[default]
    Internal,
    /// The callee's side of a call.
    Server,
    /// The caller's side of a call.
    Client,
    /// A message sent (the caller's side of an asynchronous call).
    Producer,
    /// A message handled (the callee's side).
    Consumer,
}

impl Kind {
    /// From the names the formats use: Zipkin's `SERVER`, Jaeger's `server`,
    /// OTLP's `SPAN_KIND_SERVER`.
    pub fn parse(s: &str) -> Kind {
        let s = s.strip_prefix("SPAN_KIND_").unwrap_or(s);
        match s.to_ascii_lowercase().as_str() {
            "server" => Kind::Server,
            "client" => Kind::Client,
            "producer" => Kind::Producer,
            "consumer" => Kind::Consumer,
            _ => Kind::Internal,
        }
    }

    /// From OTLP's enum numbers (1 internal, 2 server, 3 client, 4 producer, 5 consumer).
    pub fn from_otlp(n: i64) -> Kind {
        match n {
            2 => Kind::Server,
            3 => Kind::Client,
            4 => Kind::Producer,
            5 => Kind::Consumer,
            _ => Kind::Internal,
        }
    }

    /// The caller's side of a call.
    pub fn is_caller(self) -> bool {
        matches!(self, Kind::Client | Kind::Producer)
    }

    /// The callee's side of a call.
    pub fn is_callee(self) -> bool {
        matches!(self, Kind::Server | Kind::Consumer)
    }
}

/// One span, compact. Times are nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanRecord {
    /// Trace id (128 bits; hex ids parsed, others hashed).
    pub trace: u128,
    /// Span id (64 bits; hex ids parsed, others hashed); never 0.
    pub id: u64,
    /// Parent span id, 0 for a root.
    pub parent: u64,
    /// Interned service name.
    pub service: u32,
    /// Interned operation name.
    pub name: u32,
    /// Interned name of the remote service a client span calls (`peer.service`,
    /// Zipkin's `remoteEndpoint.serviceName`, `db.system`), 0 if unknown.
    pub peer: u32,
    /// Start.
    pub start: u64,
    /// End (not before start).
    pub end: u64,
    /// Request payload bytes, if an attribute gave them.
    pub request_size: Option<u64>,
    /// Response payload bytes, if an attribute gave them.
    pub response_size: Option<u64>,
    /// Role in an RPC.
    pub kind: Kind,
}

/// A span as a reader found it, before interning: borrowed strings.
#[derive(Debug, Default)]
pub struct RawSpan<'a> {
    /// Trace id as written.
    pub trace: &'a str,
    /// Span id as written.
    pub id: &'a str,
    /// Parent span id as written (empty or all zeros: none).
    pub parent: &'a str,
    /// Service name.
    pub service: &'a str,
    /// Operation name.
    pub name: &'a str,
    /// Remote service of a client span.
    pub peer: &'a str,
    /// Start, ns since the epoch.
    pub start: u64,
    /// End, ns since the epoch.
    pub end: u64,
    /// Request bytes.
    pub request_size: Option<u64>,
    /// Response bytes.
    pub response_size: Option<u64>,
    /// Role in an RPC.
    pub kind: Kind,
}

/// Every span read so far, with the names they refer to.
#[derive(Debug, Default)]
pub struct Spans {
    /// The records, in reading order.
    pub records: Vec<SpanRecord>,
    /// Service, operation and peer names.
    pub names: Interner,
    /// Spans whose end was before their start: their duration was set to zero.
    pub negative_durations: u64,
    /// Spans without a span id, a trace id or a timestamp: dropped.
    pub unusable: u64,
}

impl Spans {
    /// Interns and stores one span.
    pub fn push(&mut self, raw: &RawSpan) {
        let id = span_id(raw.id);
        if id == 0 || raw.trace.trim().is_empty() {
            self.unusable += 1;
            return;
        }
        let end = if raw.end < raw.start {
            self.negative_durations += 1;
            raw.start
        } else {
            raw.end
        };
        let service = if raw.service.is_empty() {
            "unknown_service"
        } else {
            raw.service
        };
        let name = if raw.name.is_empty() {
            "unnamed"
        } else {
            raw.name
        };
        let record = SpanRecord {
            trace: trace_id(raw.trace),
            id,
            parent: span_id(raw.parent),
            service: self.names.id(service),
            name: self.names.id(name),
            peer: self.names.id(raw.peer),
            start: raw.start,
            end,
            request_size: raw.request_size,
            response_size: raw.response_size,
            kind: raw.kind,
        };
        self.records.push(record);
    }
}

impl Spans {
    /// Gives the records from index `first` on the service `name` (OTLP
    /// names the service after the spans of a resource).
    pub fn set_service(&mut self, first: usize, name: &str) {
        let name = if name.is_empty() {
            "unknown_service"
        } else {
            name
        };
        let id = self.names.id(name);
        for r in &mut self.records[first..] {
            r.service = id;
        }
    }
}

/// A 64-bit span id from hex (any length up to 16 digits, so Jaeger's trimmed
/// leading zeros do not matter); anything else is hashed. Empty and all-zero
/// ids are 0, "none".
pub fn span_id(s: &str) -> u64 {
    let s = s.trim();
    if s.is_empty() {
        return 0;
    }
    if s.len() <= 16
        && let Ok(v) = u64::from_str_radix(s, 16)
    {
        return v;
    }
    let mut h = rustc_hash::FxHasher::default();
    s.hash(&mut h);
    h.finish() | 1
}

/// A 128-bit trace id from hex (up to 32 digits); anything else is hashed.
pub fn trace_id(s: &str) -> u128 {
    let s = s.trim();
    if s.len() <= 32
        && let Ok(v) = u128::from_str_radix(s, 16)
    {
        return v;
    }
    let mut h1 = rustc_hash::FxHasher::default();
    s.hash(&mut h1);
    let mut h2 = rustc_hash::FxHasher::default();
    (s, 0x9e37_79b9_u32).hash(&mut h2);
    (u128::from(h1.finish()) << 64) | u128::from(h2.finish())
}

/// Attribute keys that give payload sizes (OpenTelemetry semantic
/// conventions, old and new names).
pub fn size_attribute(key: &str) -> Option<SizeOf> {
    match key {
        "http.request_content_length"
        | "http.request_content_length_uncompressed"
        | "http.request.body.size"
        | "rpc.request.size"
        | "messaging.message_payload_size_bytes"
        | "messaging.message.payload_size_bytes"
        | "messaging.message.body.size" => Some(SizeOf::Request),
        "http.response_content_length"
        | "http.response_content_length_uncompressed"
        | "http.response.body.size"
        | "rpc.response.size" => Some(SizeOf::Response),
        _ => None,
    }
}

/// Which payload an attribute sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeOf {
    /// The request.
    Request,
    /// The response.
    Response,
}

/// Attribute keys that name the remote service of a client span, best first.
pub const PEER_KEYS: [&str; 3] = ["peer.service", "db.system", "messaging.system"];

/// Gathers the attributes the importer uses, from any format's key/value pairs.
#[derive(Debug, Default)]
pub struct Attributes {
    /// `span.kind` (Jaeger keeps the kind as a tag).
    pub kind: Option<Kind>,
    /// Best peer name seen so far and its rank in [`PEER_KEYS`].
    pub peer: Option<(usize, String)>,
    /// Request bytes.
    pub request_size: Option<u64>,
    /// Response bytes.
    pub response_size: Option<u64>,
}

/// An attribute key the importer reads, or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKey {
    /// `span.kind`.
    Kind,
    /// A peer key, with its rank in [`PEER_KEYS`].
    Peer(usize),
    /// A payload size.
    Size(SizeOf),
    /// Anything else (its value is skipped).
    Other,
}

impl AttrKey {
    /// Classifies a key.
    pub fn of(key: &str) -> AttrKey {
        if key == "span.kind" {
            AttrKey::Kind
        } else if let Some(rank) = PEER_KEYS.iter().position(|k| *k == key) {
            AttrKey::Peer(rank)
        } else if let Some(which) = size_attribute(key) {
            AttrKey::Size(which)
        } else {
            AttrKey::Other
        }
    }
}

impl Attributes {
    /// Takes one attribute; `text` is its value as a string, `number` as an
    /// integer when it is one.
    pub fn take(&mut self, key: AttrKey, text: Option<&str>, number: Option<i64>) {
        match key {
            AttrKey::Kind => {
                if let Some(t) = text {
                    self.kind = Some(Kind::parse(t));
                }
            }
            AttrKey::Peer(rank) => {
                if let Some(t) = text.filter(|t| !t.is_empty())
                    && self.peer.as_ref().is_none_or(|(r, _)| rank < *r)
                {
                    self.peer = Some((rank, t.to_owned()));
                }
            }
            AttrKey::Size(which) => {
                let n = number.or_else(|| text.and_then(|t| t.trim().parse::<i64>().ok()));
                if let Some(n) = n.filter(|n| *n >= 0) {
                    match which {
                        SizeOf::Request => self.request_size = Some(n as u64),
                        SizeOf::Response => self.response_size = Some(n as u64),
                    }
                }
            }
            AttrKey::Other => {}
        }
    }

    /// The peer name, or "".
    pub fn peer(&self) -> &str {
        self.peer.as_ref().map_or("", |(_, p)| p.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_hex_whatever_the_padding() {
        assert_eq!(span_id("00000000000000ab"), 0xab);
        assert_eq!(span_id("ab"), 0xab);
        assert_eq!(span_id(""), 0);
        assert_eq!(span_id("0000000000000000"), 0);
        assert_ne!(span_id("not-hex"), 0);
        assert_eq!(trace_id("0000000000000000000000000000abcd"), 0xabcd);
        assert_eq!(trace_id("abcd"), 0xabcd);
        assert_eq!(trace_id("zz"), trace_id("zz"));
    }

    #[test]
    fn kinds_from_every_format() {
        assert_eq!(Kind::parse("SERVER"), Kind::Server);
        assert_eq!(Kind::parse("client"), Kind::Client);
        assert_eq!(Kind::parse("SPAN_KIND_PRODUCER"), Kind::Producer);
        assert_eq!(Kind::from_otlp(5), Kind::Consumer);
        assert_eq!(Kind::parse("whatever"), Kind::Internal);
    }

    #[test]
    fn attributes_prefer_peer_service() {
        let mut a = Attributes::default();
        let mut take = |k: &str, t: Option<&str>, n: Option<i64>| a.take(AttrKey::of(k), t, n);
        take("db.system", Some("postgresql"), None);
        take("peer.service", Some("orders-db"), None);
        take("db.system", Some("mysql"), None);
        take("http.response_content_length", Some("512"), None);
        take("http.request.body.size", None, Some(64));
        take("http.method", Some("GET"), None);
        assert_eq!(a.peer(), "orders-db");
        assert_eq!(a.response_size, Some(512));
        assert_eq!(a.request_size, Some(64));
    }
}
