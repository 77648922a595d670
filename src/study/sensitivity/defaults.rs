//! The knobs that apply to a base design, by design section, in the order of
//! a design file's tables, with the reasons for the parameters left out.

use super::knob::{
    Catalogue, Edit, Knob, alt, explicit_knob, flag, lookup, set, shown, text, toggle,
};
use super::run::Spec;
use crate::config::study::{self, DESIGN_KEYS, Input};
use crate::config::{self, Diagnostic};
use crate::model::Design;
use crate::model::design::{AuthzMode, ProxyMode, Reuse, Security, TicketCache, TlsVersion};
use crate::report::sensitivity::Skipped;
use crate::units::Nanos;

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
    transport(&mut c, design);
    connections(&mut c, design);
    proxy(&mut c, design);
    authn(&mut c, design);
    authz(&mut c, design);
    (c.knobs, c.skipped)
}

/// TLS: the handshake, resumption and identity, or why none applies.
fn transport(c: &mut Catalogue, design: &Design) {
    let t = &design.transport;
    let tls = t.security != Security::Plaintext;
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
        let early_off = if design.resumption.early_data {
            vec![set("resumption.early_data", toml::Value::Boolean(false))]
        } else {
            Vec::new()
        };
        handshake(c, design, &early_off);
        resumption(c, design, &early_off);
        identity(c, design);
    }
}

/// The handshake's version, algorithms, certificate chain and CPU costs.
/// `early_off`: the edit that turns 0-RTT off where a setting rules it out.
fn handshake(c: &mut Catalogue, design: &Design, early_off: &[Edit]) {
    let t = &design.transport;
    let tickets = design.resumption.enabled;
    let v13 = t.version == TlsVersion::V13;
    c.choice(
        "transport.tls_version",
        if v13 { "1.3" } else { "1.2" },
        vec![
            alt("transport.tls_version", "1.2", early_off.to_vec()),
            alt("transport.tls_version", "1.3", Vec::new()),
        ],
    );
    let kx = lookup(c.doc, "transport.key_exchange").map_or("x25519".into(), shown);
    c.choice(
        "transport.key_exchange",
        &kx,
        ["x25519", "p256", "x25519mlkem768"]
            .iter()
            .map(|v| alt("transport.key_exchange", v, Vec::new()))
            .collect(),
    );
    let cert = lookup(c.doc, "transport.certificate").map_or("ecdsa-p256".into(), shown);
    c.choice(
        "transport.certificate",
        &cert,
        ["ecdsa-p256", "rsa-2048", "ed25519"]
            .iter()
            .map(|v| alt("transport.certificate", v, Vec::new()))
            .collect(),
    );
    let chain = lookup(c.doc, "transport.chain_length")
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
}

/// Session tickets: on or off, their lifetime, cache and 0-RTT.
fn resumption(c: &mut Catalogue, design: &Design, early_off: &[Edit]) {
    let tickets = design.resumption.enabled;
    let v13 = design.transport.version == TlsVersion::V13;
    c.choice(
        "resumption.tickets",
        flag(tickets),
        vec![toggle("resumption.tickets", tickets, early_off.to_vec())],
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
}

/// Certificates: lifetime, renewal and whether rotation closes connections.
fn identity(c: &mut Catalogue, design: &Design) {
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

/// Connection reuse, pool limits and lifetimes, TCP Fast Open; tokens.
fn connections(c: &mut Catalogue, design: &Design) {
    let k = &design.connections;
    let reuse = k.reuse.word();
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
}

/// The proxies on the path: their CPU, cores and placement.
fn proxy(c: &mut Catalogue, design: &Design) {
    let p = &design.proxy;
    if p.mode == ProxyMode::None {
        c.skip(
            &[
                "proxy.request_cpu",
                "proxy.cpu_per_kib",
                "proxy.off_path_fraction",
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
        if p.cost.off_path > 0.0 {
            c.fraction("proxy.off_path_fraction", p.cost.off_path, 0.9, 0.5);
        } else {
            c.skip(
                &["proxy.off_path_fraction"],
                "zero in the base design: all the proxy's CPU is on the critical path",
            );
        }
        if p.shares_service_cores {
            c.skip(
                &["proxy.cores"],
                "the sidecars run on their pods' cores (shares_service_cores)",
            );
        } else {
            c.cores("proxy.cores", p.cost.cores);
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
                c.cores("proxy.waypoint.cores", w.cost.cores);
                c.count("proxy.waypoint.replicas", w.replicas);
            }
            None => c.skip(&["proxy.waypoint"], "no waypoint on the path"),
        }
    }
}

/// JWT verification.
fn authn(c: &mut Catalogue, design: &Design) {
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
}

/// Policy decisions: placement, evaluation CPU, cache, sidecar cores.
fn authz(c: &mut Catalogue, design: &Design) {
    let p = &design.proxy;
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
        let mode = z.mode.word();
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
            c.cores("authz.sidecar_cores", z.sidecar_cores);
        } else {
            c.skip(&["authz.sidecar_cores"], "no policy sidecar");
        }
    }
}

/// The knobs of an analysis: the defaults for the base design, or those of
/// `params` (`--param PATH=LOW,HIGH`, each replacing an earlier one of the
/// same path); with `with_defaults`, both, a param replacing the default of
/// its path. The base files are parsed to resolve the defaults.
pub fn knobs(
    spec: &Spec,
    params: &[String],
    with_defaults: bool,
) -> Result<(Vec<Knob>, Vec<Skipped>), Vec<Diagnostic>> {
    let topo = config::parse_topology(&spec.topology.name, &spec.topology.text)?;
    let design = config::design::parse_design_with_costs(
        &spec.design.name,
        &spec.design.text,
        Some(&topo),
        spec.costs.as_ref(),
    )?
    .design;
    let (defaults, skipped) = default_knobs(&design, &spec.design);
    let mut explicit = Vec::new();
    let mut problems = Vec::new();
    for p in params {
        let parsed = study::parse_param_flag(p).and_then(|(path, values)| {
            let first = path.split('.').next().unwrap_or("");
            let file = if DESIGN_KEYS.contains(&first) {
                &spec.design
            } else {
                &spec.topology
            };
            explicit_knob(&path, &values, file)
        });
        match parsed {
            Ok(k) => {
                explicit.retain(|e: &Knob| e.path != k.path);
                explicit.push(k);
            }
            Err(m) => problems.push(Diagnostic::new("command line", format!("--param {m}"))),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if explicit.is_empty() {
        return Ok((defaults, skipped));
    }
    if !with_defaults {
        return Ok((explicit, Vec::new()));
    }
    let mut knobs: Vec<Knob> = defaults
        .into_iter()
        .filter(|d| !explicit.iter().any(|e| e.path == d.path))
        .collect();
    knobs.extend(explicit);
    Ok((knobs, skipped))
}
