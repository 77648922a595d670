//! One-at-a-time sensitivity of a design (`ztsim sensitivity`): which knob
//! of a base design moves p99 latency (and, with an SLO, capacity) most.
//!
//! A [`Knob`] is a design parameter with a low and a high [`Setting`]: for a
//! number its resolved value halved and doubled (TTLs divided and multiplied
//! by ten, counts halved and doubled in whole numbers), for a choice its
//! alternatives. [`default_knobs`] lists every knob that applies to the base
//! design and says why the others were left out; [`explicit_knob`] turns a
//! `--param PATH=LOW,HIGH` into one. Settings are applied to the design (or
//! topology) *file* before validation, through the study machinery
//! ([`study::expand`]), so a varied value meets the same checks as a written
//! one. Every variation runs on the base seed: common random numbers, so a
//! difference between two variations is the parameter's, not noise.

use rayon::prelude::*;

use crate::config::Diagnostic;
use crate::config::study::{self, Input, StudySpec};
use crate::model::design::{AuthzMode, ProxyMode, Reuse, Security, TicketCache, TlsVersion};
use crate::model::{self, Design, Topology};
use crate::report::sensitivity::{
    CapacityOutcome, Effect, KnobResult, Outcome, SensitivityResults, Skipped,
};
use crate::report::summarize;
use crate::units::Nanos;

/// How a knob's low and high settings were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnobKind {
    /// A number: halved and doubled (TTLs / 10 and x 10).
    Numeric,
    /// A choice: its alternatives (or the base and its one alternative).
    Choice,
    /// Given with `--param PATH=LOW,HIGH`.
    Explicit,
}

impl KnobKind {
    /// Its name in the outputs.
    pub fn name(self) -> &'static str {
        match self {
            KnobKind::Numeric => "numeric",
            KnobKind::Choice => "choice",
            KnobKind::Explicit => "explicit",
        }
    }
}

/// One change to the input files: set a parameter path to a value, or (for
/// design keys) remove it, leaving it to its default.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// Parameter path, as in a study's `params`.
    pub path: String,
    /// The new value; None removes the key from the design file.
    pub value: Option<toml::Value>,
}

/// One side of a knob: what it shows as, and the edits that make it.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The value as shown (e.g. `100us`, `per-request`).
    pub label: String,
    /// Edits; none for the base design itself.
    pub edits: Vec<Edit>,
}

/// A parameter varied one at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Knob {
    /// Parameter path (`transport.cpu.server_full`).
    pub path: String,
    /// How its settings were chosen.
    pub kind: KnobKind,
    /// Its value in the base design, as shown.
    pub base: String,
    /// The low setting (the first alternative for a choice).
    pub low: Setting,
    /// The high setting (the second alternative for a choice).
    pub high: Setting,
}

const NS_PER_S: Nanos = 1_000_000_000;

/// A duration as a design file writes it, exactly and briefly: in the
/// largest unit that holds it whole (`5m`, `250us`) or with up to three
/// decimals (`1.5ms`, `15.5us`; s, ms and us only), else in nanoseconds.
pub fn duration_text(ns: Nanos) -> String {
    const UNITS: [(&str, Nanos); 5] = [
        ("h", 3600 * NS_PER_S),
        ("m", 60 * NS_PER_S),
        ("s", NS_PER_S),
        ("ms", 1_000_000),
        ("us", 1_000),
    ];
    if ns == 0 {
        return "0s".into();
    }
    for (i, (unit, per)) in UNITS.iter().enumerate() {
        if ns.is_multiple_of(*per) {
            return format!("{}{unit}", ns / per);
        }
        // Fractions of hours and minutes read badly: only s, ms and us.
        if i >= 2 && ns >= *per && ns.is_multiple_of(per / 1000) {
            let frac = format!("{:03}", (ns % per) / (per / 1000));
            return format!("{}.{}{unit}", ns / per, frac.trim_end_matches('0'));
        }
    }
    format!("{ns}ns")
}

fn dur(ns: Nanos) -> toml::Value {
    toml::Value::String(duration_text(ns))
}

fn text(s: &str) -> toml::Value {
    toml::Value::String(s.into())
}

fn set(path: &str, value: toml::Value) -> Edit {
    Edit {
        path: path.into(),
        value: Some(value),
    }
}

fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn setting(edits: Vec<Edit>) -> Setting {
    Setting {
        label: edits
            .first()
            .and_then(|e| e.value.as_ref())
            .map_or_else(|| "(default)".into(), shown),
        edits,
    }
}

fn base_setting(label: &str) -> Setting {
    Setting {
        label: label.into(),
        edits: Vec::new(),
    }
}

/// The value at `path` in a TOML document, if written.
fn lookup<'a>(doc: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut segs = path.split('.');
    let mut v = doc.get(segs.next()?)?;
    for s in segs {
        v = v.as_table()?.get(s)?;
    }
    Some(v)
}

/// Every duration string inside a distribution spec multiplied by `factor`:
/// constants, means, medians, percentiles, bounds, edges and values all
/// scale, so the distribution keeps its shape and its mean scales.
fn scale_durations(v: &toml::Value, factor: f64) -> toml::Value {
    match v {
        toml::Value::String(s) => match crate::units::parse_duration(s) {
            // Zero (a histogram's first edge) stays zero; others stay above it.
            Ok(0) => v.clone(),
            Ok(ns) => dur((ns as f64 * factor).round().max(1.0) as Nanos),
            Err(_) => v.clone(),
        },
        toml::Value::Array(a) => {
            toml::Value::Array(a.iter().map(|x| scale_durations(x, factor)).collect())
        }
        toml::Value::Table(t) => toml::Value::Table(
            t.iter()
                .map(|(k, x)| (k.clone(), scale_durations(x, factor)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn dist_label(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Table(t) => t
            .iter()
            .map(|(k, x)| {
                if k == "dist" {
                    shown(x)
                } else {
                    format!("{k} {}", shown(x))
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// Collects knobs and the reasons for leaving parameters out.
struct Catalogue<'a> {
    doc: &'a toml::Table,
    knobs: Vec<Knob>,
    skipped: Vec<Skipped>,
}

impl Catalogue<'_> {
    fn skip(&mut self, paths: &[&str], why: &str) {
        for p in paths {
            self.skipped.push(Skipped {
                path: (*p).into(),
                why: why.into(),
            });
        }
    }

    fn knob(&mut self, path: &str, kind: KnobKind, base: String, low: Setting, high: Setting) {
        self.knobs.push(Knob {
            path: path.into(),
            kind,
            base,
            low,
            high,
        });
    }

    /// A CPU cost or other duration: x0.5 and x2.
    fn cost(&mut self, path: &str, ns: Nanos) {
        if ns == 0 {
            self.skip(
                &[path],
                "zero in the base design: halving or doubling it changes nothing",
            );
            return;
        }
        self.knob(
            path,
            KnobKind::Numeric,
            duration_text(ns),
            setting(vec![set(path, dur((ns / 2).max(1)))]),
            setting(vec![set(path, dur(ns.saturating_mul(2)))]),
        );
    }

    /// A lifetime: / 10 and x 10, since its effects are rarely linear.
    fn ttl(&mut self, path: &str, ns: Nanos) {
        self.knob(
            path,
            KnobKind::Numeric,
            duration_text(ns),
            setting(vec![set(path, dur((ns / 10).max(1)))]),
            setting(vec![set(path, dur(ns.saturating_mul(10)))]),
        );
    }

    /// A cache lifetime: as a TTL, or, with the cache off, 1 s and 1 min.
    fn cache_ttl(&mut self, path: &str, ns: Nanos) {
        if ns == 0 {
            self.knob(
                path,
                KnobKind::Numeric,
                "0s (no cache)".into(),
                setting(vec![set(path, dur(NS_PER_S))]),
                setting(vec![set(path, dur(60 * NS_PER_S))]),
            );
        } else {
            self.ttl(path, ns);
        }
    }

    /// A count: halved (at least 1) and doubled.
    fn count(&mut self, path: &str, n: u32) {
        let low = (n / 2).max(1);
        let low = if low == n {
            base_setting(&n.to_string())
        } else {
            setting(vec![set(path, toml::Value::Integer(i64::from(low)))])
        };
        self.knob(
            path,
            KnobKind::Numeric,
            n.to_string(),
            low,
            setting(vec![set(
                path,
                toml::Value::Integer(i64::from(n).saturating_mul(2)),
            )]),
        );
    }

    /// A share in [0, 1]: halved and doubled (capped at `top`); from zero,
    /// 0 and `from_zero`.
    fn fraction(&mut self, path: &str, f: f64, top: f64, from_zero: f64) {
        let (low, high) = if f == 0.0 {
            (base_setting("0"), from_zero)
        } else {
            (
                setting(vec![set(path, toml::Value::Float(f / 2.0))]),
                (f * 2.0).min(top),
            )
        };
        let high = if high == f {
            base_setting(&shown(&toml::Value::Float(f)))
        } else {
            setting(vec![set(path, toml::Value::Float(high))])
        };
        self.knob(
            path,
            KnobKind::Numeric,
            shown(&toml::Value::Float(f)),
            low,
            high,
        );
    }

    /// A throughput or other positive float: x0.5 and x2.
    fn float(&mut self, path: &str, v: f64) {
        self.knob(
            path,
            KnobKind::Numeric,
            shown(&toml::Value::Float(v)),
            setting(vec![set(path, toml::Value::Float(v / 2.0))]),
            setting(vec![set(path, toml::Value::Float(v * 2.0))]),
        );
    }

    /// A distribution of CPU: every duration in it x0.5 and x2.
    fn dist(&mut self, path: &str, default: toml::Value) {
        let spec = lookup(self.doc, path).cloned().unwrap_or(default);
        let side = |f: f64| {
            let v = scale_durations(&spec, f);
            Setting {
                label: match &v {
                    toml::Value::String(s) => s.clone(),
                    _ => format!("x{f}"),
                },
                edits: vec![set(path, v)],
            }
        };
        self.knob(
            path,
            KnobKind::Numeric,
            dist_label(&spec),
            side(0.5),
            side(2.0),
        );
    }

    /// A choice among `alternatives` (the base's value excluded): the first
    /// two, or the base and the only one. Each alternative is a label and its
    /// edits.
    fn choice(&mut self, path: &str, base: &str, alternatives: Vec<(String, Vec<Edit>)>) {
        let mut alts = alternatives.into_iter().filter(|(l, _)| l != base);
        let Some((l1, e1)) = alts.next() else {
            return;
        };
        let first = Setting {
            label: l1,
            edits: e1,
        };
        let (low, high) = match alts.next() {
            Some((l2, e2)) => (
                first,
                Setting {
                    label: l2,
                    edits: e2,
                },
            ),
            None => (base_setting(base), first),
        };
        self.knob(path, KnobKind::Choice, base.into(), low, high);
    }
}

fn alt(path: &str, value: &str, more: Vec<Edit>) -> (String, Vec<Edit>) {
    let mut edits = vec![set(path, text(value))];
    edits.extend(more);
    (value.into(), edits)
}

fn flag(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn toggle(path: &str, base: bool, more: Vec<Edit>) -> (String, Vec<Edit>) {
    let mut edits = vec![set(path, toml::Value::Boolean(!base))];
    edits.extend(more);
    (flag(!base).into(), edits)
}

/// Every knob that applies to `design` (resolved from `file`), in the order
/// of the design file's tables, and the parameters left out with why.
///
/// Numbers: CPU costs, throughputs and shares x0.5 and x2 (shares capped at
/// 1; from 0, 0 and 0.1); counts halved (at least 1) and doubled; TTLs / 10
/// and x 10; cache TTLs of 0 (no cache) 1 s and 1 min. Choices: their
/// alternatives. Parameters that choose *what* the design protects
/// (`transport.security`, `transport.scope`, `transport.terminate`,
/// `proxy.mode`, `authn.jwt`, `authn.scope`, `authz.scope`) are left out:
/// compare designs with `ztsim sweep` instead.
pub fn default_knobs(design: &Design, file: &Input) -> (Vec<Knob>, Vec<Skipped>) {
    let doc: toml::Table = toml::from_str(&file.text).unwrap_or_default();
    let mut c = Catalogue {
        doc: &doc,
        knobs: Vec::new(),
        skipped: Vec::new(),
    };
    c.skip(
        &[
            "transport.security",
            "transport.scope",
            "transport.terminate",
            "proxy.mode",
            "authn.jwt",
            "authn.scope",
            "authz.scope",
        ],
        "chooses what the design protects, not how it is tuned: compare designs with `ztsim sweep`",
    );
    let t = &design.transport;
    let tls = t.security != Security::Plaintext;
    let tickets = design.resumption.enabled;
    let hs = [
        "transport.tls_version",
        "transport.key_exchange",
        "transport.certificate",
        "transport.chain_length",
        "transport.hello_retry_rate",
        "transport.bulk_gb_per_s",
        "transport.cpu.client_full",
        "transport.cpu.server_full",
        "transport.cpu.client_resumed",
        "transport.cpu.server_resumed",
        "transport.cpu.mtls_client",
        "transport.cpu.mtls_server",
        "transport.cpu.hello_retry",
        "resumption.tickets",
        "resumption.ticket_ttl",
        "resumption.early_data",
        "resumption.cache",
        "identity.cert_ttl",
        "identity.renew_ratio",
        "identity.renew_jitter",
        "identity.rotation_closes_connections",
    ];
    if !tls {
        c.skip(
            &hs,
            "the design is plaintext: no TLS handshakes, certificates or tickets",
        );
    } else {
        let v13 = t.version == TlsVersion::V13;
        let early_off = if design.resumption.early_data {
            vec![set("resumption.early_data", toml::Value::Boolean(false))]
        } else {
            Vec::new()
        };
        c.choice(
            "transport.tls_version",
            if v13 { "1.3" } else { "1.2" },
            vec![
                alt("transport.tls_version", "1.2", early_off.clone()),
                alt("transport.tls_version", "1.3", Vec::new()),
            ],
        );
        let kx = lookup(&doc, "transport.key_exchange").map_or("x25519".into(), shown);
        c.choice(
            "transport.key_exchange",
            &kx,
            ["x25519", "p256", "x25519mlkem768"]
                .iter()
                .map(|v| alt("transport.key_exchange", v, Vec::new()))
                .collect(),
        );
        let cert = lookup(&doc, "transport.certificate").map_or("ecdsa-p256".into(), shown);
        c.choice(
            "transport.certificate",
            &cert,
            ["ecdsa-p256", "rsa-2048", "ed25519"]
                .iter()
                .map(|v| alt("transport.certificate", v, Vec::new()))
                .collect(),
        );
        let chain = lookup(&doc, "transport.chain_length")
            .and_then(toml::Value::as_integer)
            .map_or(2, |n| n.clamp(1, i64::from(u32::MAX)) as u32);
        c.count("transport.chain_length", chain);
        c.fraction("transport.hello_retry_rate", t.hello_retry, 1.0, 0.1);
        c.float(
            "transport.bulk_gb_per_s",
            if t.bulk_ns_per_byte > 0.0 {
                1.0 / t.bulk_ns_per_byte
            } else {
                7.5
            },
        );
        c.cost("transport.cpu.client_full", t.cpu.client_full);
        c.cost("transport.cpu.server_full", t.cpu.server_full);
        if tickets {
            c.cost("transport.cpu.client_resumed", t.cpu.client_resumed);
            c.cost("transport.cpu.server_resumed", t.cpu.server_resumed);
        } else {
            c.skip(
                &[
                    "transport.cpu.client_resumed",
                    "transport.cpu.server_resumed",
                ],
                "no session tickets: no handshake resumes",
            );
        }
        if t.security == Security::Mtls {
            c.cost("transport.cpu.mtls_client", t.cpu.mtls_client);
            c.cost("transport.cpu.mtls_server", t.cpu.mtls_server);
        } else {
            c.skip(
                &["transport.cpu.mtls_client", "transport.cpu.mtls_server"],
                "server-authenticated TLS: clients present no certificate",
            );
        }
        if t.hello_retry > 0.0 {
            c.cost("transport.cpu.hello_retry", t.cpu.hello_retry);
        } else {
            c.skip(
                &["transport.cpu.hello_retry"],
                "hello_retry_rate is 0: no HelloRetryRequest is ever sent",
            );
        }
        c.choice(
            "resumption.tickets",
            flag(tickets),
            vec![toggle("resumption.tickets", tickets, early_off.clone())],
        );
        if tickets {
            c.ttl("resumption.ticket_ttl", design.resumption.ticket_ttl);
            let cache = match design.resumption.cache {
                TicketCache::PerReplica => "per-replica",
                TicketCache::PerService => "per-service",
            };
            c.choice(
                "resumption.cache",
                cache,
                vec![
                    alt("resumption.cache", "per-replica", Vec::new()),
                    alt("resumption.cache", "per-service", Vec::new()),
                ],
            );
            if v13 {
                c.choice(
                    "resumption.early_data",
                    flag(design.resumption.early_data),
                    vec![toggle(
                        "resumption.early_data",
                        design.resumption.early_data,
                        Vec::new(),
                    )],
                );
            } else {
                c.skip(&["resumption.early_data"], "0-RTT needs TLS 1.3");
            }
        } else {
            c.skip(
                &[
                    "resumption.ticket_ttl",
                    "resumption.cache",
                    "resumption.early_data",
                ],
                "no session tickets (resumption.tickets = false, varied on its own)",
            );
        }
        let id = &design.identity;
        c.ttl("identity.cert_ttl", id.cert_ttl);
        c.fraction("identity.renew_ratio", id.renew_ratio, 1.0, 0.5);
        c.choice(
            "identity.rotation_closes_connections",
            flag(id.rotation_closes_connections),
            vec![toggle(
                "identity.rotation_closes_connections",
                id.rotation_closes_connections,
                Vec::new(),
            )],
        );
        if id.rotation_closes_connections {
            c.fraction("identity.renew_jitter", id.renew_jitter, 0.9, 0.1);
        } else {
            c.skip(
                &["identity.renew_jitter"],
                "rotations close no connections, so when they happen does not matter",
            );
        }
    }

    let k = &design.connections;
    let reuse = match k.reuse {
        Reuse::PerRequest => "per-request",
        Reuse::Pool => "pool",
        Reuse::Multiplex => "multiplex",
    };
    // A per-request design cannot prewarm: say so when moving to it.
    let no_prewarm = vec![set("connections.prewarm", toml::Value::Boolean(false))];
    c.choice(
        "connections.reuse",
        reuse,
        vec![
            alt("connections.reuse", "per-request", no_prewarm),
            alt("connections.reuse", "pool", Vec::new()),
            alt("connections.reuse", "multiplex", Vec::new()),
        ],
    );
    if k.reuse == Reuse::PerRequest {
        c.skip(
            &[
                "connections.max_per_destination",
                "connections.max_concurrent_streams",
                "connections.idle_timeout",
                "connections.max_lifetime",
            ],
            "per-request connections are never reused, so pool limits and lifetimes never apply",
        );
    } else {
        c.count("connections.max_per_destination", k.max_per_destination);
        if k.reuse == Reuse::Multiplex {
            c.count(
                "connections.max_concurrent_streams",
                k.max_concurrent_streams,
            );
        } else {
            c.skip(
                &["connections.max_concurrent_streams"],
                "HTTP/1.1 pools carry one call at a time per connection",
            );
        }
        c.ttl("connections.idle_timeout", k.idle_timeout);
        match k.max_lifetime {
            Some(l) => c.ttl("connections.max_lifetime", l),
            None => c.skip(
                &["connections.max_lifetime"],
                "not set: connections live until they idle out",
            ),
        }
    }
    c.choice(
        "connections.tcp_fast_open",
        flag(k.tcp_fast_open),
        vec![toggle(
            "connections.tcp_fast_open",
            k.tcp_fast_open,
            Vec::new(),
        )],
    );

    match &design.identity.token {
        Some(tok) => c.ttl("identity.token_ttl", tok.ttl),
        None => c.skip(&["identity.token_ttl"], "callers carry no tokens"),
    }

    let p = &design.proxy;
    if p.mode == ProxyMode::None {
        c.skip(
            &[
                "proxy.request_cpu",
                "proxy.cpu_per_kib",
                "proxy.cores",
                "proxy.shares_service_cores",
                "proxy.nodes_per_zone",
                "proxy.waypoint",
            ],
            "no proxy on the path",
        );
    } else {
        let default = if p.mode == ProxyMode::Node {
            "60us"
        } else {
            "200us"
        };
        c.dist("proxy.request_cpu", text(default));
        if p.cost.ns_per_byte > 0.0 {
            c.cost(
                "proxy.cpu_per_kib",
                (p.cost.ns_per_byte * 1024.0).round() as Nanos,
            );
        } else {
            c.skip(
                &["proxy.cpu_per_kib"],
                "zero in the base design: halving or doubling it changes nothing",
            );
        }
        if p.shares_service_cores {
            c.skip(
                &["proxy.cores"],
                "the sidecars run on their pods' cores (shares_service_cores)",
            );
        } else {
            c.count("proxy.cores", p.cost.cores);
        }
        if p.mode == ProxyMode::Sidecar {
            c.choice(
                "proxy.shares_service_cores",
                flag(p.shares_service_cores),
                vec![toggle(
                    "proxy.shares_service_cores",
                    p.shares_service_cores,
                    Vec::new(),
                )],
            );
            c.skip(
                &["proxy.nodes_per_zone"],
                "sidecar proxies, not node proxies",
            );
        } else {
            c.skip(
                &["proxy.shares_service_cores"],
                "only a sidecar can share its pod's cores",
            );
            c.count("proxy.nodes_per_zone", p.nodes_per_zone);
        }
        match &p.waypoint {
            Some(w) => {
                c.dist("proxy.waypoint.request_cpu", text("250us"));
                c.count("proxy.waypoint.cores", w.cost.cores);
                c.count("proxy.waypoint.replicas", w.replicas);
            }
            None => c.skip(&["proxy.waypoint"], "no waypoint on the path"),
        }
    }

    let a = &design.authn;
    if a.jwt.is_some() {
        c.cost("authn.verify_cpu", a.verify_cpu);
        c.cache_ttl("authn.cache_ttl", a.cache_ttl);
    } else {
        c.skip(
            &["authn.verify_cpu", "authn.cache_ttl"],
            "no JWT verification (authn.jwt = none)",
        );
    }

    let z = &design.authz;
    if z.mode == AuthzMode::None {
        c.skip(
            &[
                "authz.mode",
                "authz.eval_cpu",
                "authz.cache_ttl",
                "authz.sidecar_cores",
            ],
            "no policy decisions (authz.mode = none)",
        );
    } else {
        let mode = match z.mode {
            AuthzMode::InProcess => "in-process",
            AuthzMode::Proxy => "proxy",
            AuthzMode::Sidecar => "sidecar",
            AuthzMode::Remote => "remote",
            AuthzMode::None => "none",
        };
        // Placements the design can take: the proxy needs a proxy; a remote
        // service needs the topology endpoint only a remote design names.
        let leave_remote = if z.mode == AuthzMode::Remote {
            vec![Edit {
                path: "authz.policy".into(),
                value: None,
            }]
        } else {
            Vec::new()
        };
        let mut placements = vec![
            alt("authz.mode", "in-process", leave_remote.clone()),
            alt("authz.mode", "sidecar", leave_remote.clone()),
        ];
        if p.mode != ProxyMode::None {
            placements.push(alt("authz.mode", "proxy", leave_remote));
        }
        c.choice("authz.mode", mode, placements);
        if z.mode == AuthzMode::Remote {
            c.skip(
                &["authz.eval_cpu"],
                "remote decisions cost the policy endpoint's own cpu (a topology parameter: --param services.policy...)",
            );
        } else {
            c.dist(
                "authz.eval_cpu",
                toml::Value::Table(
                    [
                        ("dist".to_string(), text("lognormal")),
                        ("median".to_string(), text("36us")),
                        ("p99".to_string(), text("134us")),
                    ]
                    .into_iter()
                    .collect(),
                ),
            );
        }
        c.cache_ttl("authz.cache_ttl", z.cache_ttl);
        if z.mode == AuthzMode::Sidecar {
            c.count("authz.sidecar_cores", z.sidecar_cores);
        } else {
            c.skip(&["authz.sidecar_cores"], "no policy sidecar");
        }
    }
    (c.knobs, c.skipped)
}

/// A knob from `--param PATH=LOW,HIGH` (values already parsed as TOML): two
/// values are its low and high settings; one value is compared with the
/// base design. `file` is the design (or topology) file the path reaches
/// into, for the base value shown.
pub fn explicit_knob(path: &str, values: &[toml::Value], file: &Input) -> Result<Knob, String> {
    let doc: toml::Table = toml::from_str(&file.text).unwrap_or_default();
    let base = lookup(&doc, path).map_or_else(|| "(default)".into(), dist_label);
    let side = |v: &toml::Value| setting(vec![set(path, v.clone())]);
    let (low, high) = match values {
        [v] => (base_setting(&base), side(v)),
        [lo, hi] => (side(lo), side(hi)),
        _ => {
            return Err(format!(
                "`{path}`: give one value (compared with the base design) or two, low and high, e.g. {path}=LOW,HIGH; got {}",
                values.len()
            ));
        }
    };
    Ok(Knob {
        path: path.into(),
        kind: KnobKind::Explicit,
        base,
        low,
        high,
    })
}

/// What a sensitivity analysis runs on.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The topology file.
    pub topology: Input,
    /// The base design file.
    pub design: Input,
    /// Offered load, requests per second.
    pub rate: f64,
    /// Replications (None: the topology's).
    pub replications: Option<u32>,
    /// Base seed (None: the topology's).
    pub seed: Option<u64>,
    /// Measured duration (None: the topology's).
    pub duration: Option<Nanos>,
    /// Warm-up (None: the topology's).
    pub warmup: Option<Nanos>,
}

/// A validated topology and design, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    /// The topology at the analysis' rate and seed.
    pub topology: Topology,
    /// The design with the variation applied.
    pub design: Design,
}

/// Every run of an analysis, validated before any starts.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The base design.
    pub base: Case,
    /// Each knob with its low and high cases (None: the base itself).
    pub knobs: Vec<(Knob, Option<Case>, Option<Case>)>,
}

impl Prepared {
    /// Every case to run: the base, then each knob's low and high.
    pub fn cases(&self) -> impl Iterator<Item = &Case> {
        std::iter::once(&self.base).chain(
            self.knobs
                .iter()
                .flat_map(|(_, l, h)| l.iter().chain(h.iter())),
        )
    }
}

/// The base design file with `edits`' removals applied.
fn without(design: &Input, edits: &[Edit]) -> Result<Input, Diagnostic> {
    let removals: Vec<&str> = edits
        .iter()
        .filter(|e| e.value.is_none())
        .map(|e| e.path.as_str())
        .collect();
    if removals.is_empty() {
        return Ok(design.clone());
    }
    let mut doc: toml::Table = toml::from_str(&design.text)
        .map_err(|e| Diagnostic::new(&design.name, format!("invalid TOML: {}", e.message())))?;
    for path in removals {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        let mut table = Some(&mut doc);
        for seg in parent.split('.').filter(|s| !s.is_empty()) {
            table = table.and_then(|t| t.get_mut(seg).and_then(toml::Value::as_table_mut));
        }
        if let Some(t) = table {
            t.remove(key);
        }
    }
    toml::to_string(&doc)
        .map(|text| Input {
            name: design.name.clone(),
            text,
        })
        .map_err(|e| Diagnostic::new(&design.name, e.to_string()))
}

/// Resolves one setting of `spec` into a case: edits applied to the files,
/// then validated, at the analysis' rate, duration and seed.
fn resolve(spec: &Spec, edits: &[Edit]) -> Result<Case, Vec<Diagnostic>> {
    let design = without(&spec.design, edits).map_err(|d| vec![d])?;
    let study = StudySpec {
        name: "sensitivity".into(),
        title: String::new(),
        topology: spec.topology.clone(),
        designs: vec![design],
        rates: vec![spec.rate],
        focus_rate: None,
        params: edits
            .iter()
            .filter_map(|e| e.value.as_ref().map(|v| (e.path.clone(), vec![v.clone()])))
            .collect(),
        replications: spec.replications,
        seed: spec.seed,
        duration: spec.duration,
        warmup: spec.warmup,
        slos: Vec::new(),
    };
    // One combination at one load: expand gives it the base seed itself,
    // so every variation shares the base's random numbers.
    let mut points = study::expand(&study)?.points;
    let p = points.remove(0);
    Ok(Case {
        topology: p.topology,
        design: p.design_model,
    })
}

/// Validates the base and every variation of `knobs`; all problems at once.
/// A knob whose variation fails names its path and value in the message.
pub fn prepare(spec: &Spec, knobs: Vec<Knob>) -> Result<Prepared, Vec<Diagnostic>> {
    let base = resolve(spec, &[])?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for knob in knobs {
        let mut side = |s: &Setting| -> Option<Case> {
            if s.edits.is_empty() {
                return None;
            }
            match resolve(spec, &s.edits) {
                Ok(c) => Some(c),
                Err(ds) => {
                    errors.extend(ds.into_iter().map(|mut d| {
                        d.message =
                            format!("varying `{}` to {}: {}", knob.path, s.label, d.message);
                        d
                    }));
                    None
                }
            }
        };
        let low = side(&knob.low);
        let high = side(&knob.high);
        out.push((knob, low, high));
    }
    errors.dedup_by(|a, b| a.to_string() == b.to_string());
    if errors.is_empty() {
        Ok(Prepared { base, knobs: out })
    } else {
        Err(errors)
    }
}

/// What a capacity search says about one case (see `report::sensitivity`).
pub type CapacityFn<'a> = &'a (dyn Fn(&Case) -> CapacityOutcome + Sync);

/// Runs one case: its replications, the p99 per replication, and its
/// capacity if asked.
fn measure(case: &Case, capacity: Option<CapacityFn>) -> Outcome {
    let runs = model::run_replications(&case.topology, &case.design);
    let summary = summarize(&case.topology, &case.design, &runs);
    let p99_ms = summary.requests.latency_ms.as_ref().map(|l| l.p99);
    let per_replication = if p99_ms.is_some() {
        runs.iter()
            .map(|r| {
                r.all_requests()
                    .latency
                    .quantile(0.99)
                    .map_or(f64::NAN, |ns| ns * 1e-6)
            })
            .collect()
    } else {
        Vec::new()
    };
    Outcome {
        p99_ms,
        p99_ms_replications: per_replication,
        saturated: summary.saturated.as_ref().map(|s| {
            s.bottleneck
                .clone()
                .unwrap_or_else(|| "unknown bottleneck".into())
        }),
        capacity: capacity.map(|f| f(case)),
    }
}

/// Runs every case of `prepared` in parallel (results identical on any
/// number of threads: each case is a self-contained computation on the base
/// seed) and ranks the knobs. `capacity`, when given, measures each case's
/// capacity against the SLOs the caller has in mind; recording those SLOs,
/// the capacity method and the skipped parameters in the results is the
/// caller's part.
pub fn run(spec: &Spec, prepared: &Prepared, capacity: Option<CapacityFn>) -> SensitivityResults {
    let cases: Vec<&Case> = prepared.cases().collect();
    let outcomes: Vec<Outcome> = cases.par_iter().map(|c| measure(c, capacity)).collect();
    let mut it = outcomes.into_iter();
    let base = it.next().expect("the base case runs");
    let mut knobs = Vec::new();
    for (knob, low, high) in &prepared.knobs {
        let mut take = |c: &Option<Case>| match c {
            Some(_) => it.next().expect("one outcome per case"),
            None => base.clone(),
        };
        let low_o = take(low);
        let high_o = take(high);
        knobs.push(KnobResult {
            path: knob.path.clone(),
            kind: knob.kind.name().into(),
            base_value: knob.base.clone(),
            low_value: knob.low.label.clone(),
            high_value: knob.high.label.clone(),
            p99: Effect::p99(&low_o, &base, &high_o),
            capacity: Effect::capacity(&low_o, &base, &high_o),
            low: low_o,
            high: high_o,
        });
    }
    let b = &prepared.base.topology.workload;
    let mut results = SensitivityResults {
        ztsim_version: env!("CARGO_PKG_VERSION").into(),
        topology: prepared.base.topology.name.clone(),
        design: prepared.base.design.name.clone(),
        rate_rps: spec.rate,
        replications: b.replications,
        seed: b.seed,
        warmup_s: b.warmup as f64 * 1e-9,
        duration_s: b.window.duration_s(),
        slos: Vec::new(),
        capacity_method: None,
        base,
        knobs,
        skipped: Vec::new(),
    };
    results.rank();
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_exactly_in_the_largest_unit() {
        assert_eq!(duration_text(300_000_000_000), "5m");
        assert_eq!(duration_text(250_000), "250us");
        assert_eq!(duration_text(1_500_000), "1.5ms");
        assert_eq!(duration_text(15_500), "15.5us");
        assert_eq!(duration_text(30 * NS_PER_S), "30s");
        assert_eq!(duration_text(7), "7ns");
        assert_eq!(duration_text(0), "0s");
        for ns in [1, 999, 1_234_567, 86_400 * NS_PER_S, 115_000] {
            assert_eq!(
                crate::units::parse_duration(&duration_text(ns)).unwrap(),
                ns
            );
        }
    }

    #[test]
    fn scaling_a_distribution_keeps_its_shape() {
        let spec: toml::Table =
            toml::from_str(r#"v = { dist = "lognormal", median = "300us", p99 = "2ms" }"#).unwrap();
        let half = scale_durations(&spec["v"], 0.5);
        assert_eq!(half["median"].as_str(), Some("150us"));
        assert_eq!(half["p99"].as_str(), Some("1ms"));
        assert_eq!(half["dist"].as_str(), Some("lognormal"));
        let hist: toml::Table =
            toml::from_str(r#"v = { dist = "histogram", edges = ["0ms", "1ms"], counts = [3] }"#)
                .unwrap();
        let double = scale_durations(&hist["v"], 2.0);
        assert_eq!(double["edges"][1].as_str(), Some("2ms"));
        assert_eq!(double["counts"][0].as_integer(), Some(3));
    }
}
