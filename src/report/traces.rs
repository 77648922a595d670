//! Simulated requests as traces a trace viewer opens: Jaeger's JSON (the
//! format of the Jaeger UI's "upload JSON" and of its API) and OTLP JSON
//! (OpenTelemetry's `TracesData` in its JSON mapping), plus an index.
//!
//! Each call is a client span on the caller (the user request's on a
//! `client` process) and a server span on the callee; each phase that took
//! time (waiting for a connection, TCP connect, TLS flights and handshake
//! CPU, proxies, policy checks, waiting for a worker or a core, CPU, network
//! transit, retry backoff) is a child span of the side it happened on. Token
//! fetches and remote policy checks are calls of their own under the call
//! they served. Simulated time starts at [`EPOCH_NS`] so viewers show a
//! sensible date; ids derive from the seed, the design, the replication and
//! the request, so the same run writes the same bytes.

use std::io;
use std::path::Path;

use serde::Serialize;

use crate::engine::rng::derive;
use crate::model::cost::{CPU_NAMES, SPAN_NAMES};
use crate::model::record::{CallKind, CallTrace, HandshakeKind, Phase, RequestTrace, Side};
use crate::model::topology::Topology;
use crate::model::{Design, design::AuthzMode};
use crate::units::Nanos;

/// Simulated time 0 in exported traces: 2026-01-01T00:00:00Z, in ns since
/// the Unix epoch.
pub const EPOCH_NS: u64 = 1_767_225_600_000_000_000;

/// The process name of the users' side of each user request.
pub const CLIENT: &str = "client";

/// A tag value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A flag.
    Bool(bool),
}

/// What a span is, for OTLP's `kind` and Jaeger's `span.kind` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A phase inside a call.
    Internal,
    /// The callee's side of a call.
    Server,
    /// The caller's side of a call.
    Client,
}

/// One span of an exported trace, format-neutral.
#[derive(Debug, Clone, PartialEq)]
pub struct OutSpan {
    /// Never zero.
    pub span_id: u64,
    /// None for the root.
    pub parent: Option<u64>,
    /// Operation name.
    pub name: String,
    /// Service (process) that emits it.
    pub service: String,
    /// Client, server or internal.
    pub kind: Kind,
    /// Simulated ns.
    pub start: Nanos,
    /// Simulated ns.
    pub end: Nanos,
    /// Tags / attributes.
    pub tags: Vec<(String, Value)>,
    /// Failed (timed out, or a call below it did).
    pub error: bool,
}

/// One exported request: its 128-bit trace id and spans, root first.
#[derive(Debug, Clone, PartialEq)]
pub struct OutTrace {
    /// High and low halves of the trace id.
    pub trace_id: (u64, u64),
    /// Its spans, root first, parents before children.
    pub spans: Vec<OutSpan>,
}

impl OutTrace {
    /// The trace id as 32 hex digits.
    pub fn trace_id_hex(&self) -> String {
        format!("{:016x}{:016x}", self.trace_id.0, self.trace_id.1)
    }
}

/// Services of a topology by global replica index.
fn replica_services(topo: &Topology) -> Vec<(u32, u32)> {
    topo.services
        .iter()
        .enumerate()
        .flat_map(|(s, svc)| (0..svc.replicas).map(move |i| (s as u32, i)))
        .collect()
}

fn nonzero(x: u64) -> u64 {
    x.max(1)
}

/// Builds the spans of `traces`, run under `design` on seed `seed`.
pub fn build(topo: &Topology, design: &Design, traces: &[RequestTrace]) -> Vec<OutTrace> {
    let replicas = replica_services(topo);
    let design_key = design.name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    traces
        .iter()
        .map(|t| {
            let base = derive(
                derive(topo.workload.seed, u64::from(t.pick.replication)),
                t.pick.request,
            );
            TraceSpans {
                topo,
                design,
                replicas: &replicas,
                t,
                trace_id: (nonzero(derive(base, design_key)), nonzero(base)),
            }
            .build()
        })
        .collect()
}

/// One recorded request on its way to spans, with the ids derived for it.
struct TraceSpans<'a> {
    topo: &'a Topology,
    design: &'a Design,
    replicas: &'a [(u32, u32)],
    t: &'a RequestTrace,
    trace_id: (u64, u64),
}

impl TraceSpans<'_> {
    /// The `n`th span id of the trace (never zero).
    fn id(&self, n: u64) -> u64 {
        nonzero(derive(self.trace_id.1 ^ self.trace_id.0, n))
    }

    /// Call `i`'s client span.
    fn client_id(&self, i: usize) -> u64 {
        self.id(2 * i as u64 + 1)
    }

    /// Call `i`'s server span.
    fn server_id(&self, i: usize) -> u64 {
        self.id(2 * i as u64 + 2)
    }

    /// The service and replica number of a global replica (none: the client).
    fn svc_of(&self, r: Option<u32>) -> (String, Option<u32>) {
        match r {
            None => (CLIENT.to_string(), None),
            Some(g) => {
                let (s, i) = self.replicas[g as usize];
                (self.topo.services[s as usize].name.clone(), Some(i))
            }
        }
    }

    fn build(self) -> OutTrace {
        let mut spans = Vec::new();
        for (i, c) in self.t.calls.iter().enumerate() {
            self.call(i, c, &mut spans);
        }
        let n = self.t.calls.len();
        for (j, ph) in self.t.phases.iter().enumerate() {
            spans.push(self.phase(n, j, ph));
        }
        OutTrace {
            trace_id: self.trace_id,
            spans,
        }
    }

    /// Call `i`: its client span and, if it reached the callee, its server span.
    fn call(&self, i: usize, c: &CallTrace, spans: &mut Vec<OutSpan>) {
        let endpoint = &self.topo.endpoints[c.endpoint as usize].name;
        let (caller, _) = self.svc_of(c.caller_replica);
        let parent = c.parent.map(|p| {
            let p = p as usize;
            match c.kind {
                CallKind::Token => self.client_id(p),
                _ => self.server_id(p),
            }
        });
        let end = c
            .end
            .or_else(|| {
                self.t
                    .phases
                    .iter()
                    .filter(|ph| ph.call as usize == i)
                    .map(|ph| ph.end)
                    .max()
            })
            .unwrap_or(c.start);
        let tags = self.client_tags(c);
        spans.push(OutSpan {
            span_id: self.client_id(i),
            parent,
            name: endpoint.clone(),
            service: caller.clone(),
            kind: Kind::Client,
            start: c.start,
            end,
            tags,
            error: c.failed || c.abandoned,
        });
        if let Some((s, e)) = c.server {
            let (callee, replica) = self.svc_of(c.replica);
            let mut tags = Vec::new();
            if let Some(r) = replica {
                tags.push(("ztsim.replica".into(), Value::Int(i64::from(r))));
            }
            if let Some(hit) = c.authz_cache_hit {
                tags.push((
                    "authz.mode".into(),
                    Value::Str(authz_mode(self.design.authz.mode).into()),
                ));
                tags.push(("authz.cache_hit".into(), Value::Bool(hit)));
            }
            spans.push(OutSpan {
                span_id: self.server_id(i),
                parent: Some(self.client_id(i)),
                name: endpoint.clone(),
                service: callee,
                kind: Kind::Server,
                start: s,
                end: e,
                tags,
                error: c.failed,
            });
        }
    }

    /// The client span's tags: what the call was, its connection and retries.
    fn client_tags(&self, c: &CallTrace) -> Vec<(String, Value)> {
        let mut tags = vec![(
            "ztsim.call".to_string(),
            Value::Str(
                match c.kind {
                    CallKind::Root => "user request",
                    CallKind::Child => "call",
                    CallKind::Authz => "policy check (remote)",
                    CallKind::Token => "token fetch",
                }
                .into(),
            ),
        )];
        if c.kind == CallKind::Root {
            self.root_tags(&mut tags);
        }
        tags.push((
            "net.connection".into(),
            Value::Str(
                if c.handshake.is_some() {
                    "new"
                } else {
                    "reused"
                }
                .into(),
            ),
        ));
        if let Some(h) = c.handshake
            && h != HandshakeKind::None
        {
            tags.push(("tls.handshake".into(), Value::Str(handshake_name(h).into())));
        }
        if c.attempt > 0 {
            tags.push(("ztsim.attempt".into(), Value::Int(i64::from(c.attempt))));
        }
        if c.repeat > 0 && c.kind == CallKind::Child {
            tags.push(("ztsim.repeat".into(), Value::Int(i64::from(c.repeat))));
        }
        if c.abandoned {
            tags.push(("ztsim.abandoned".into(), Value::Bool(true)));
        }
        if c.end.is_none() {
            tags.push(("ztsim.unfinished".into(), Value::Bool(true)));
        }
        tags
    }

    /// The user request's tags: design, pick, latency and its attribution.
    fn root_tags(&self, tags: &mut Vec<(String, Value)>) {
        let picked = match (self.t.pick.slowest, self.t.pick.sampled) {
            (true, true) => "slowest,sample",
            (true, false) => "slowest",
            _ => "sample",
        };
        tags.extend([
            ("ztsim.design".into(), Value::Str(self.design.name.clone())),
            (
                "ztsim.replication".into(),
                Value::Int(i64::from(self.t.pick.replication)),
            ),
            (
                "ztsim.request".into(),
                Value::Int(self.t.pick.request as i64),
            ),
            ("ztsim.picked".into(), Value::Str(picked.into())),
            ("ztsim.latency_ns".into(), Value::Int(self.t.latency as i64)),
        ]);
        for (name, &ns) in SPAN_NAMES.iter().zip(&self.t.attribution) {
            if ns > 0 {
                tags.push((format!("ztsim.path.{name}_ns"), Value::Int(ns as i64)));
            }
        }
    }

    /// Phase `j` (of a trace of `n` calls) as a child of its side's span.
    fn phase(&self, n: usize, j: usize, ph: &Phase) -> OutSpan {
        let c = &self.t.calls[ph.call as usize];
        let (parent, service) = match ph.side {
            Side::Client => (
                self.client_id(ph.call as usize),
                self.svc_of(c.caller_replica).0,
            ),
            Side::Server => (self.server_id(ph.call as usize), self.svc_of(c.replica).0),
        };
        let mut tags = Vec::new();
        for (name, &ns) in SPAN_NAMES.iter().zip(&ph.attribution()) {
            if ns > 0 {
                tags.push((format!("ztsim.path.{name}_ns"), Value::Int(ns as i64)));
            }
        }
        for (name, &ns) in CPU_NAMES.iter().zip(&ph.cpu) {
            if ns > 0 {
                tags.push((format!("cpu.{name}_ns"), Value::Int(ns as i64)));
            }
        }
        if ph.local > 0 {
            tags.push(("net.local_hop_ns".into(), Value::Int(ph.local as i64)));
        }
        if let Some(h) = c.handshake
            && h != HandshakeKind::None
            && ph.side == Side::Client
            && ph.step.name().starts_with("tls")
        {
            tags.push(("tls.handshake".into(), Value::Str(handshake_name(h).into())));
        }
        OutSpan {
            span_id: self.id((2 * n + 1 + j) as u64),
            parent: Some(parent),
            name: ph.step.name().to_string(),
            service,
            kind: Kind::Internal,
            start: ph.start,
            end: ph.end,
            tags,
            error: false,
        }
    }
}

fn handshake_name(h: HandshakeKind) -> &'static str {
    match h {
        HandshakeKind::None => "none",
        HandshakeKind::Full => "full",
        HandshakeKind::Resumed => "resumed",
        HandshakeKind::ZeroRtt => "0-rtt",
    }
}

fn authz_mode(m: AuthzMode) -> &'static str {
    match m {
        AuthzMode::None => "none",
        AuthzMode::InProcess => "in_process",
        AuthzMode::Proxy => "proxy",
        AuthzMode::Sidecar => "sidecar",
        AuthzMode::Remote => "remote",
    }
}

// ---- Jaeger ------------------------------------------------------------

/// `{"data": [trace...]}`, as the Jaeger UI uploads and its API returns.
#[derive(Debug, Serialize)]
pub struct JaegerFile {
    /// One entry per trace.
    pub data: Vec<JaegerTrace>,
}

/// A Jaeger trace.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JaegerTrace {
    /// 32 hex digits.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// Its spans.
    pub spans: Vec<JaegerSpan>,
    /// Processes by id (`p1`, `p2`, ... in order of first use).
    pub processes: indexmap::IndexMap<String, JaegerProcess>,
    /// Always null.
    pub warnings: Option<Vec<String>>,
}

/// A Jaeger span; times in microseconds since the Unix epoch.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JaegerSpan {
    /// The trace's id.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// 16 hex digits.
    #[serde(rename = "spanID")]
    pub span_id: String,
    /// Sampled.
    pub flags: u32,
    /// Span name.
    pub operation_name: String,
    /// The parent, as one CHILD_OF reference (none for the root).
    pub references: Vec<JaegerRef>,
    /// Start, µs since the Unix epoch (rounded down).
    pub start_time: u64,
    /// Duration, µs (end rounded up, so children stay inside parents).
    pub duration: u64,
    /// Tags.
    pub tags: Vec<JaegerTag>,
    /// Always empty.
    pub logs: Vec<()>,
    /// Key into the trace's `processes`.
    #[serde(rename = "processID")]
    pub process_id: String,
    /// Always null.
    pub warnings: Option<Vec<String>>,
}

/// A parent reference.
#[derive(Debug, Serialize)]
pub struct JaegerRef {
    /// "CHILD_OF".
    #[serde(rename = "refType")]
    pub ref_type: &'static str,
    /// The trace's id.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// The parent span's id.
    #[serde(rename = "spanID")]
    pub span_id: String,
}

/// A typed tag.
#[derive(Debug, Serialize)]
pub struct JaegerTag {
    /// Name.
    pub key: String,
    /// "string", "int64" or "bool".
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The value.
    pub value: serde_json::Value,
}

/// A Jaeger process: the service that emits spans.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JaegerProcess {
    /// Service name.
    pub service_name: String,
    /// Always empty.
    pub tags: Vec<JaegerTag>,
}

fn jaeger_tag(key: &str, v: &Value) -> JaegerTag {
    let (kind, value) = match v {
        Value::Str(s) => ("string", serde_json::Value::from(s.as_str())),
        Value::Int(i) => ("int64", serde_json::Value::from(*i)),
        Value::Bool(b) => ("bool", serde_json::Value::from(*b)),
    };
    JaegerTag {
        key: key.to_string(),
        kind,
        value,
    }
}

/// Jaeger's JSON of `traces`.
pub fn jaeger(traces: &[OutTrace]) -> JaegerFile {
    JaegerFile {
        data: traces
            .iter()
            .map(|t| {
                let tid = t.trace_id_hex();
                let mut processes: indexmap::IndexMap<String, JaegerProcess> = Default::default();
                let mut pid_of = indexmap::IndexMap::<String, String>::new();
                let spans = t
                    .spans
                    .iter()
                    .map(|s| {
                        let next = format!("p{}", pid_of.len() + 1);
                        let pid = pid_of.entry(s.service.clone()).or_insert(next).clone();
                        processes
                            .entry(pid.clone())
                            .or_insert_with(|| JaegerProcess {
                                service_name: s.service.clone(),
                                tags: Vec::new(),
                            });
                        let start = (EPOCH_NS + s.start) / 1000;
                        let end = (EPOCH_NS + s.end).div_ceil(1000);
                        let mut tags = vec![jaeger_tag(
                            "span.kind",
                            &Value::Str(
                                match s.kind {
                                    Kind::Client => "client",
                                    Kind::Server => "server",
                                    Kind::Internal => "internal",
                                }
                                .into(),
                            ),
                        )];
                        tags.extend(s.tags.iter().map(|(k, v)| jaeger_tag(k, v)));
                        tags.push(jaeger_tag(
                            "ztsim.duration_ns",
                            &Value::Int((s.end - s.start) as i64),
                        ));
                        if s.error {
                            tags.push(jaeger_tag("error", &Value::Bool(true)));
                        }
                        JaegerSpan {
                            trace_id: tid.clone(),
                            span_id: format!("{:016x}", s.span_id),
                            flags: 1,
                            operation_name: s.name.clone(),
                            references: s
                                .parent
                                .map(|p| JaegerRef {
                                    ref_type: "CHILD_OF",
                                    trace_id: tid.clone(),
                                    span_id: format!("{p:016x}"),
                                })
                                .into_iter()
                                .collect(),
                            start_time: start,
                            duration: end - start,
                            tags,
                            logs: Vec::new(),
                            process_id: pid,
                            warnings: None,
                        }
                    })
                    .collect();
                JaegerTrace {
                    trace_id: tid,
                    spans,
                    processes,
                    warnings: None,
                }
            })
            .collect(),
    }
}

// ---- OTLP --------------------------------------------------------------

/// OTLP `TracesData` in the protobuf JSON mapping: ids in hex, 64-bit
/// integers as strings, enums as numbers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OtlpFile {
    /// One per service.
    pub resource_spans: Vec<OtlpResourceSpans>,
}

/// The spans one service emits.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OtlpResourceSpans {
    /// `service.name`.
    pub resource: OtlpResource,
    /// One scope, `ztsim`.
    pub scope_spans: Vec<OtlpScopeSpans>,
}

/// A resource.
#[derive(Debug, Serialize)]
pub struct OtlpResource {
    /// Its attributes.
    pub attributes: Vec<OtlpKeyValue>,
}

/// Spans of one instrumentation scope.
#[derive(Debug, Serialize)]
pub struct OtlpScopeSpans {
    /// `{"name": "ztsim", "version": ...}`.
    pub scope: OtlpScope,
    /// The spans.
    pub spans: Vec<OtlpSpan>,
}

/// An instrumentation scope.
#[derive(Debug, Serialize)]
pub struct OtlpScope {
    /// "ztsim".
    pub name: &'static str,
    /// ztsim's version.
    pub version: &'static str,
}

/// An OTLP span.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OtlpSpan {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// Empty for the root.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub parent_span_id: String,
    /// Span name.
    pub name: String,
    /// 1 internal, 2 server, 3 client.
    pub kind: u8,
    /// ns since the Unix epoch, as a string.
    pub start_time_unix_nano: String,
    /// ns since the Unix epoch, as a string.
    pub end_time_unix_nano: String,
    /// Attributes.
    pub attributes: Vec<OtlpKeyValue>,
    /// `{"code": 2}` when failed, else `{"code": 0}` (unset).
    pub status: OtlpStatus,
}

/// A span status.
#[derive(Debug, Serialize)]
pub struct OtlpStatus {
    /// 0 unset, 2 error.
    pub code: u8,
}

/// An attribute.
#[derive(Debug, Serialize)]
pub struct OtlpKeyValue {
    /// Name.
    pub key: String,
    /// `{"stringValue": ..}`, `{"intValue": "..."}` or `{"boolValue": ..}`.
    pub value: serde_json::Value,
}

fn otlp_kv(key: &str, v: &Value) -> OtlpKeyValue {
    let value = match v {
        Value::Str(s) => serde_json::json!({ "stringValue": s }),
        Value::Int(i) => serde_json::json!({ "intValue": i.to_string() }),
        Value::Bool(b) => serde_json::json!({ "boolValue": b }),
    };
    OtlpKeyValue {
        key: key.to_string(),
        value,
    }
}

/// OTLP JSON of `traces`: one resource per service, in order of first use.
pub fn otlp(traces: &[OutTrace]) -> OtlpFile {
    let mut by_service: indexmap::IndexMap<String, Vec<OtlpSpan>> = Default::default();
    for t in traces {
        let tid = t.trace_id_hex();
        for s in &t.spans {
            by_service
                .entry(s.service.clone())
                .or_default()
                .push(OtlpSpan {
                    trace_id: tid.clone(),
                    span_id: format!("{:016x}", s.span_id),
                    parent_span_id: s.parent.map_or(String::new(), |p| format!("{p:016x}")),
                    name: s.name.clone(),
                    kind: match s.kind {
                        Kind::Internal => 1,
                        Kind::Server => 2,
                        Kind::Client => 3,
                    },
                    start_time_unix_nano: (EPOCH_NS + s.start).to_string(),
                    end_time_unix_nano: (EPOCH_NS + s.end).to_string(),
                    attributes: s.tags.iter().map(|(k, v)| otlp_kv(k, v)).collect(),
                    status: OtlpStatus {
                        code: if s.error { 2 } else { 0 },
                    },
                });
        }
    }
    OtlpFile {
        resource_spans: by_service
            .into_iter()
            .map(|(service, spans)| OtlpResourceSpans {
                resource: OtlpResource {
                    attributes: vec![otlp_kv("service.name", &Value::Str(service))],
                },
                scope_spans: vec![OtlpScopeSpans {
                    scope: OtlpScope {
                        name: "ztsim",
                        version: env!("CARGO_PKG_VERSION"),
                    },
                    spans,
                }],
            })
            .collect(),
    }
}

/// `index.csv`: one row per exported request, in export order.
pub fn index_csv(
    topo: &Topology,
    traces: &[RequestTrace],
    out: &[OutTrace],
) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "trace_id",
        "replication",
        "request",
        "entry",
        "latency_ms",
        "picked",
        "spans",
    ])?;
    for (t, o) in traces.iter().zip(out) {
        let picked = match (t.pick.slowest, t.pick.sampled) {
            (true, true) => "slowest+sample",
            (true, false) => "slowest",
            _ => "sample",
        };
        w.write_record([
            o.trace_id_hex(),
            t.pick.replication.to_string(),
            t.pick.request.to_string(),
            super::csv_text(&topo.endpoints[t.calls[0].endpoint as usize].name),
            format!("{:.6}", t.latency as f64 / 1e6),
            picked.to_string(),
            o.spans.len().to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error())
}

/// Writes `jaeger.json`, `otlp.json` and `index.csv` of `traces` into `dir`.
pub fn write(
    dir: &Path,
    topo: &Topology,
    design: &Design,
    traces: &[RequestTrace],
) -> io::Result<()> {
    super::output::create_dir(dir)?;
    let out = build(topo, design, traces);
    let json = |v: &dyn erased::Json| v.to_vec();
    super::write_atomic(&dir.join("jaeger.json"), &json(&jaeger(&out))?)?;
    super::write_atomic(&dir.join("otlp.json"), &json(&otlp(&out))?)?;
    super::write_atomic(&dir.join("index.csv"), &index_csv(topo, traces, &out)?)
}

mod erased {
    /// Compact JSON of any serialisable value, ending in a newline.
    pub trait Json {
        fn to_vec(&self) -> std::io::Result<Vec<u8>>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_vec(&self) -> std::io::Result<Vec<u8>> {
            let mut v = serde_json::to_vec(self)?;
            v.push(b'\n');
            Ok(v)
        }
    }
}
