//! Design files (`models/*.toml`): their serde form, the defaults (each traced
//! to a published figure in `models/README.md`), and resolution into a
//! validated [`Design`] against the topology it will run on.

use schemars::JsonSchema;
use serde::Deserialize;

use super::diag::{Diagnostic, KeyPath, Source, did_you_mean};
use super::dist::DistSpec;
use crate::model::design::{
    Authn, Authz, AuthzMode, Connections, Design, HandshakeCpu, Identity, JwtAlgorithm, Proxy,
    ProxyCost, ProxyMode, Resumption, Reuse, Scope, Security, Termination, TicketCache, TlsVersion,
    Token, Transport, Waypoint,
};
use crate::model::dist::Dist;
use crate::model::topology::{EndpointId, Topology};
use crate::units::{Dur, Nanos};

const US: Nanos = 1_000;

/// A Zero Trust (or perimeter) design (`models/*.toml`): how hops are
/// encrypted, how connections are reused, who terminates TLS, which proxies
/// sit on the path, how callers are authenticated and authorised. Every key
/// is optional: an empty file is the plaintext design with HTTP/1.1 pools.
/// Reference: models/README.md.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ztsim design")]
pub(super) struct DesignFile {
    /// Name in reports. Default: the file name without .toml.
    name: Option<String>,
    /// Free text; not used.
    #[allow(dead_code)]
    description: Option<String>,
    /// Encryption of hops, TLS version and handshake CPU.
    #[serde(default)]
    transport: TransportFile,
    /// Connection reuse and pool limits.
    #[serde(default)]
    connections: ConnectionsFile,
    /// TLS session resumption (tickets, 0-RTT).
    #[serde(default)]
    resumption: ResumptionFile,
    /// Certificate rotation and caller tokens.
    #[serde(default)]
    identity: IdentityFile,
    /// Sidecar or node proxies, and an optional waypoint.
    #[serde(default)]
    proxy: ProxyFile,
    /// JWT verification of callers.
    #[serde(default)]
    authn: AuthnFile,
    /// Where and how policy decisions are made.
    #[serde(default)]
    authz: AuthzFile,
}

/// How hops are secured: no TLS, server-authenticated TLS, or mutual TLS.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum SecurityFile {
    Plaintext,
    Tls,
    Mtls,
}

/// Which hops: all of them, or only client -> entry service.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum ScopeFile {
    EveryHop,
    Edge,
}

/// Who does the TLS work.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum TerminateFile {
    Library,
    Sidecar,
    Node,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum VersionFile {
    V12,
    V13,
}

/// "1.2" or "1.3", as a string or as the bare number the deserializer accepts.
impl JsonSchema for VersionFile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TlsVersion".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::VersionFile").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A TLS version: \"1.2\" or \"1.3\" (the bare numbers 1.2 and 1.3 are accepted too).",
            "anyOf": [
                { "type": "string", "enum": ["1.2", "1.3"] },
                { "type": "number", "enum": [1.2, 1.3] },
            ],
        })
    }
}

impl<'de> Deserialize<'de> for VersionFile {
    /// "1.3" as written in RFCs, or the bare number people type.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = VersionFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a TLS version: \"1.2\" or \"1.3\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<VersionFile, E> {
                match v {
                    "1.2" => Ok(VersionFile::V12),
                    "1.3" => Ok(VersionFile::V13),
                    _ => Err(E::custom(format!(
                        "unknown choice `{v}`; valid choices here are `1.2`, `1.3`"
                    ))),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<VersionFile, E> {
                match v {
                    1.2 => Ok(VersionFile::V12),
                    1.3 => Ok(VersionFile::V13),
                    _ => Err(E::custom(format!(
                        "unknown choice `{v}`; valid choices here are `1.2`, `1.3`"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Key-exchange group.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum KeyExchangeFile {
    X25519,
    P256,
    X25519mlkem768,
}

/// Server certificate key.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum CertificateFile {
    EcdsaP256,
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    Ed25519,
}

/// Overrides of the resolved per-side handshake CPU; each replaces the value
/// computed from version, group, certificate and chain length.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HandshakeCpuFile {
    /// Client side of a full handshake. Default: 460us (TLS 1.3), 260us (TLS 1.2), plus 115us per certificate beyond 2 and the key-exchange extra.
    client_full: Option<Dur>,
    /// Server side of a full handshake. Default: 230us (TLS 1.3; RSA-2048 600us), 130us (TLS 1.2; RSA-2048 339us), plus the key-exchange extra.
    server_full: Option<Dur>,
    /// Client side of a resumed handshake. Default: 200us (TLS 1.3 PSK-DHE), 30us (TLS 1.2).
    client_resumed: Option<Dur>,
    /// Server side of a resumed handshake (also charged for 0-RTT). Default: 200us (TLS 1.3), 30us (TLS 1.2).
    server_resumed: Option<Dur>,
    /// Added to the client of a full mTLS handshake (sign CertificateVerify). Default: 100us.
    mtls_client: Option<Dur>,
    /// Added to the server of a full mTLS handshake (verify the client chain). Default: 230us, plus 115us per certificate beyond 2.
    mtls_server: Option<Dur>,
    /// Added to each side when a HelloRetryRequest forces a second key share. Default: 30us (x25519), 50us (p256), 90us (x25519mlkem768).
    hello_retry: Option<Dur>,
}

/// How hops are encrypted.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TransportFile {
    /// "plaintext", "tls" (server-authenticated) or "mtls" (the client presents a certificate too). Default: "plaintext".
    #[schemars(extend("default" = "plaintext"))]
    security: Option<SecurityFile>,
    /// Which hops are encrypted: "every-hop", or only client -> entry service ("edge"). Default: "every-hop".
    #[schemars(extend("default" = "every-hop"))]
    scope: Option<ScopeFile>,
    /// Who does the TLS work: "library", "sidecar" or "node"; must match proxy.mode. Default: where the proxy is ("library" without a proxy).
    terminate: Option<TerminateFile>,
    /// TLS version, "1.2" or "1.3". Default: "1.3".
    #[schemars(extend("default" = "1.3"))]
    tls_version: Option<VersionFile>,
    /// Key-exchange group: "x25519", "p256" or "x25519mlkem768" (post-quantum hybrid). Default: "x25519".
    #[schemars(extend("default" = "x25519"))]
    key_exchange: Option<KeyExchangeFile>,
    /// Share of full handshakes that need a HelloRetryRequest (+1 RTT and cpu.hello_retry each side), in [0, 1]. Default: 0.
    #[schemars(range(min = 0, max = 1), extend("default" = 0))]
    hello_retry_rate: Option<f64>,
    /// Server certificate key: "ecdsa-p256", "rsa-2048" or "ed25519". Default: "ecdsa-p256".
    #[schemars(extend("default" = "ecdsa-p256"))]
    certificate: Option<CertificateFile>,
    /// Certificates the peer verifies (leaf + intermediates); each beyond 2 adds 115us. Default: 2.
    #[schemars(range(min = 1), extend("default" = 2))]
    chain_length: Option<i64>,
    /// Bulk encryption (AES-GCM) throughput per core, in GB/s. Default: 7.5.
    #[schemars(extend("exclusiveMinimum" = 0, "default" = 7.5))]
    bulk_gb_per_s: Option<f64>,
    /// Overrides of the per-side handshake CPU (durations).
    #[serde(default)]
    cpu: HandshakeCpuFile,
}

/// Connection reuse: a new connection per call, HTTP/1.1 keep-alive pools, or HTTP/2 / gRPC multiplexing.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum ReuseFile {
    PerRequest,
    Pool,
    Multiplex,
}

/// Connection reuse and pool limits.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConnectionsFile {
    /// "per-request" (a new connection per call), "pool" (HTTP/1.1 keep-alive, one call at a time) or "multiplex" (HTTP/2 streams). Default: "pool".
    #[schemars(extend("default" = "pool"))]
    reuse: Option<ReuseFile>,
    /// Most connections from one origin peer to one destination peer; beyond that calls wait. Default: 1 with "multiplex", 1024 with "pool".
    #[schemars(range(min = 1))]
    max_per_destination: Option<i64>,
    /// Streams per multiplexed connection ("multiplex" only). Default: 100.
    #[schemars(range(min = 1), extend("default" = 100))]
    max_concurrent_streams: Option<i64>,
    /// An idle connection closes (checked when next picked); above zero. Default: "60s".
    #[schemars(extend("default" = "60s"))]
    idle_timeout: Option<Dur>,
    /// Every connection closes at this age; above zero. Default: none.
    max_lifetime: Option<Dur>,
    /// TCP Fast Open: no TCP round trip on a new connection. Default: false.
    #[schemars(extend("default" = false))]
    tcp_fast_open: Option<bool>,
    /// Each pool starts with one established connection. Default: true for "pool" and "multiplex" (an error with "per-request").
    prewarm: Option<bool>,
}

/// Where resumption tickets are kept.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum TicketCacheFile {
    PerReplica,
    PerService,
}

/// TLS session resumption.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ResumptionFile {
    /// Session tickets: a new connection with a valid ticket does a resumed handshake. Default: false.
    #[schemars(extend("default" = false))]
    tickets: Option<bool>,
    /// A ticket's lifetime from the handshake that issued it; above zero. Default: "5m".
    #[schemars(extend("default" = "5m"))]
    ticket_ttl: Option<Dur>,
    /// TLS 1.3 0-RTT: a resumed connection sends the request with the ClientHello. Needs TLS 1.3 and tickets. Default: false.
    #[schemars(extend("default" = false))]
    early_data: Option<bool>,
    /// "per-replica" (one ticket per destination replica) or "per-service" (one per destination service, resuming only at the replica that issued it). Default: "per-replica".
    #[schemars(extend("default" = "per-replica"))]
    cache: Option<TicketCacheFile>,
}

/// Certificate rotation and caller tokens. `token_ttl` and `token_issuer` go together.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("dependencies" = { "token_ttl": ["token_issuer"], "token_issuer": ["token_ttl"] }))]
struct IdentityFile {
    /// Certificate lifetime; above zero. Default: "24h".
    #[schemars(extend("default" = "24h"))]
    cert_ttl: Option<Dur>,
    /// Renew at this fraction of the lifetime, in (0, 1]. Default: 0.5.
    #[schemars(range(max = 1), extend("exclusiveMinimum" = 0, "default" = 0.5))]
    renew_ratio: Option<f64>,
    /// Uniform +- jitter on each renewal interval as a fraction of it, in [0, 1); 0 makes every certificate renew at once. Default: 0.
    #[schemars(range(min = 0), extend("exclusiveMaximum" = 1, "default" = 0))]
    renew_jitter: Option<f64>,
    /// A renewed certificate retires the connections it opened. Default: false.
    #[schemars(extend("default" = false))]
    rotation_closes_connections: Option<bool>,
    /// Callers carry tokens that expire after this long and are re-fetched; above zero. Needs token_issuer. Default: none (no tokens).
    token_ttl: Option<Dur>,
    /// The topology endpoint that issues tokens, as "service.endpoint" (e.g. "identity.issue"); it must have no call graph. Needs token_ttl.
    token_issuer: Option<String>,
}

/// No proxy, one proxy per replica, or one proxy per node.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ProxyModeFile {
    None,
    Sidecar,
    Node,
}

/// Sidecar or node proxies on the path.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProxyFile {
    /// "none", "sidecar" (one proxy per replica) or "node" (one per node, ztunnel-like). Default: "none".
    #[schemars(extend("default" = "none"))]
    mode: Option<ProxyModeFile>,
    /// Proxy CPU per request passing through, per proxy on the path. Default: "200us" (sidecar), "60us" (node).
    request_cpu: Option<DistSpec>,
    /// Extra proxy CPU per KiB of request + response. Default: "0s".
    #[schemars(extend("default" = "0s"))]
    cpu_per_kib: Option<Dur>,
    /// Cores of each proxy instance. Default: 2.
    #[schemars(range(min = 1), extend("default" = 2))]
    cores: Option<i64>,
    /// Sidecar only: the sidecar's CPU runs on the replica's own cores. Default: false.
    #[schemars(extend("default" = false))]
    shares_service_cores: Option<bool>,
    /// Node mode: nodes (hosts) per zone, each with its own node proxy; ignored in other modes. Default: 3.
    #[schemars(range(min = 1), extend("default" = 3))]
    nodes_per_zone: Option<i64>,
    /// An L7 waypoint on every call (node mode only). Default: none.
    waypoint: Option<WaypointFile>,
}

/// An L7 waypoint on every call (ambient mesh with L7 policy).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WaypointFile {
    /// Waypoint replicas, dealt round the zones. Default: 2.
    #[schemars(range(min = 1), extend("default" = 2))]
    replicas: Option<i64>,
    /// Cores per replica. Default: 2.
    #[schemars(range(min = 1), extend("default" = 2))]
    cores: Option<i64>,
    /// CPU per request. Default: "250us".
    #[schemars(extend("default" = "250us"))]
    request_cpu: Option<DistSpec>,
    /// CPU per KiB of request + response. Default: "0s".
    #[schemars(extend("default" = "0s"))]
    cpu_per_kib: Option<Dur>,
}

/// JWT signature algorithm, or "none" for no JWTs.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum JwtFile {
    None,
    Rs256,
    Es256,
    Eddsa,
    Hs256,
}

/// JWT verification of callers at the callee.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AuthnFile {
    /// "none", "rs256", "es256", "eddsa" or "hs256". Default: "none".
    #[schemars(extend("default" = "none"))]
    jwt: Option<JwtFile>,
    /// Verify at "every-hop" or only at the entry service ("edge"). Default: "every-hop".
    #[schemars(extend("default" = "every-hop"))]
    scope: Option<ScopeFile>,
    /// CPU per verification. Default: by algorithm, RS256 31us, ES256 59us, EdDSA 54us, HS256 1.8us.
    verify_cpu: Option<Dur>,
    /// Verified-token cache per (enforcing peer, calling peer); a hit costs nothing. Default: "0s" (no cache).
    #[schemars(extend("default" = "0s"))]
    cache_ttl: Option<Dur>,
}

/// Where the policy decision is made.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum AuthzModeFile {
    None,
    InProcess,
    Proxy,
    Sidecar,
    Remote,
}

/// Policy decisions. `policy` goes with, and is required by, mode = "remote".
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    { "properties": { "mode": { "enum": ["remote"] } }, "required": ["mode", "policy"] },
    { "properties": { "mode": { "not": { "enum": ["remote"] } } }, "not": { "required": ["policy"] } }
]))]
struct AuthzFile {
    /// "none", "in-process" (callee's cores), "proxy" (the proxy terminating the hop; needs a proxy), "sidecar" (a policy sidecar per replica) or "remote" (a policy service of the topology). Default: "none".
    #[schemars(extend("default" = "none"))]
    mode: Option<AuthzModeFile>,
    /// CPU per decision (in-process, proxy, sidecar); for "remote" the policy endpoint's own cpu applies. Default: lognormal, median 36us, p99 134us.
    eval_cpu: Option<DistSpec>,
    /// Decide at "every-hop" or only at the entry service ("edge"). Default: "every-hop".
    #[schemars(extend("default" = "every-hop"))]
    scope: Option<ScopeFile>,
    /// Decision cache per (callee replica, calling endpoint, called endpoint); a hit skips the evaluation or the remote call. Default: "0s" (no cache).
    #[schemars(extend("default" = "0s"))]
    cache_ttl: Option<Dur>,
    /// Cores of each policy sidecar (mode = "sidecar"). Default: 1.
    #[schemars(range(min = 1), extend("default" = 1))]
    sidecar_cores: Option<i64>,
    /// The remote policy endpoint, as "service.endpoint" (e.g. "policy.check"); mode = "remote" only, and required then. It must have no call graph.
    policy: Option<String>,
}

/// Published per-side handshake CPU for a design's choices (see
/// `models/README.md` for each figure's source and which are assumptions).
pub fn default_handshake_cpu(
    version: TlsVersion,
    key_exchange: &str,
    certificate: &str,
    chain_length: u32,
) -> HandshakeCpu {
    // TLS 1.3 full handshake, ECDSA P-256, X25519: server 147-315 us, client
    // 316-609 us (rustls perf report 2026-03-07); midpoints.
    let (mut server_full, mut client_full) = (230 * US, 460 * US);
    if certificate == "rsa-2048" {
        server_full = 600 * US; // 424-768 us, same report
    }
    let (mut server_resumed, mut client_resumed) = (200 * US, 200 * US); // PSK-DHE 138-265 us
    if version == TlsVersion::V12 {
        // TLS 1.2 full, ECDSA: server 74-191 us; client assumed 2x server as in 1.3.
        server_full = server_full * 130 / 230;
        client_full = 2 * 130 * US;
        (server_resumed, client_resumed) = (30 * US, 30 * US); // ticket resumption 14-45 us
    }
    // Assumptions (no published figure): P-256 ECDHE costs 20 us more per side
    // than X25519; the hybrid X25519MLKEM768 60 us more.
    let (kx_extra, retry_share) = match key_exchange {
        "p256" => (20 * US, 50 * US),
        "x25519mlkem768" => (60 * US, 90 * US),
        _ => (0, 30 * US),
    };
    server_full += kx_extra;
    client_full += kx_extra;
    if version == TlsVersion::V13 {
        server_resumed += kx_extra;
        client_resumed += kx_extra;
    }
    // Chain verification: about 115 us per certificate beyond the usual two
    // (leaf + intermediate), derived from the client-server difference.
    let chain_extra = 115 * US * u64::from(chain_length.saturating_sub(2));
    HandshakeCpu {
        client_full: client_full + chain_extra,
        server_full,
        client_resumed,
        server_resumed,
        // mTLS: the client signs CertificateVerify (assumed ~100 us), the
        // server verifies the client chain as the client verifies the server's.
        mtls_client: 100 * US,
        mtls_server: 230 * US + chain_extra,
        hello_retry: retry_share,
    }
}

/// Resolves a design file into a [`Design`] for `topo`.
/// With `topo` None, endpoint names are not resolved (the design is checked
/// on its own, as `ztsim validate` does without a topology).
pub fn parse_design(
    file: &str,
    text: &str,
    topo: Option<&Topology>,
) -> Result<Design, Vec<Diagnostic>> {
    let src = Source::parse(file, text).map_err(|d| vec![d])?;
    let raw: DesignFile = src.deserialize().map_err(|d| vec![d])?;
    let stem = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("design")
        .to_string();
    let mut r = Resolver {
        src: &src,
        errors: Vec::new(),
    };
    let design = r.resolve(raw, stem, topo);
    if r.errors.is_empty() {
        Ok(design)
    } else {
        Err(r.errors)
    }
}

struct Resolver<'s> {
    src: &'s Source,
    errors: Vec<Diagnostic>,
}

fn key(table: &str, k: &str) -> KeyPath {
    KeyPath::root().key(table).key(k)
}

impl Resolver<'_> {
    fn error(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.errors.push(self.src.error(path, message));
    }

    fn count(&mut self, v: Option<i64>, default: u32, min: i64, path: KeyPath) -> u32 {
        match v {
            None => default,
            Some(x) if x >= min && x <= i64::from(u32::MAX) => x as u32,
            Some(x) => {
                self.error(
                    &path,
                    format!("must be a whole number of at least {min}, got {x}"),
                );
                default
            }
        }
    }

    fn fraction(&mut self, v: Option<f64>, default: f64, path: KeyPath, open_top: bool) -> f64 {
        match v {
            None => default,
            Some(x) if (0.0..=1.0).contains(&x) && !(open_top && x == 1.0) => x,
            Some(x) => {
                let range = if open_top { "[0, 1)" } else { "[0, 1]" };
                self.error(&path, format!("must be in {range}, got {x}"));
                default
            }
        }
    }

    fn positive(&mut self, v: Option<Dur>, default: Nanos, path: KeyPath) -> Nanos {
        match v {
            None => default,
            Some(d) if d.0 > 0 => d.0,
            Some(_) => {
                self.error(
                    &path,
                    "must be above zero (a TTL or timeout of zero would expire at once)",
                );
                default
            }
        }
    }

    fn dist(&mut self, spec: Option<&DistSpec>, default: Dist, path: KeyPath) -> Dist {
        match spec {
            None => default,
            Some(s) => s.compile(self.src, &path).unwrap_or_else(|d| {
                self.errors.push(d);
                default
            }),
        }
    }

    fn endpoint(
        &mut self,
        name: &str,
        path: KeyPath,
        topo: Option<&Topology>,
        role: &str,
    ) -> Option<EndpointId> {
        let Some(topo) = topo else {
            // Checked on its own: any placeholder id will do, nothing runs.
            return Some(0);
        };
        if let Some(id) = topo.endpoint(name) {
            if !topo.endpoints[id as usize].stages.is_empty() {
                self.error(
                    &path,
                    format!(
                        "the {role} `{name}` must not call other services (it answers on its own)"
                    ),
                );
            }
            return Some(id);
        }
        let mut d = self.src.error(
            &path,
            format!(
                "the {role} `{name}` is not an endpoint of topology `{}`",
                topo.name
            ),
        );
        d.help = Some(
            match did_you_mean(name, topo.endpoints.iter().map(|e| e.name.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "add a service for it to the topology, e.g. [services.{}] with endpoint `{}`",
                    name.split('.').next().unwrap_or(name),
                    name.split('.').nth(1).unwrap_or("check")
                ),
            },
        );
        self.errors.push(d);
        None
    }

    fn resolve(&mut self, raw: DesignFile, stem: String, topo: Option<&Topology>) -> Design {
        let base = Design::plaintext();
        let t = &raw.transport;
        let security = match t.security.unwrap_or(SecurityFile::Plaintext) {
            SecurityFile::Plaintext => Security::Plaintext,
            SecurityFile::Tls => Security::Tls,
            SecurityFile::Mtls => Security::Mtls,
        };
        let proxy_mode = match raw.proxy.mode.unwrap_or(ProxyModeFile::None) {
            ProxyModeFile::None => ProxyMode::None,
            ProxyModeFile::Sidecar => ProxyMode::Sidecar,
            ProxyModeFile::Node => ProxyMode::Node,
        };
        let terminate = match (t.terminate, proxy_mode) {
            (None, ProxyMode::None) | (Some(TerminateFile::Library), ProxyMode::None) => {
                Termination::Library
            }
            (None, ProxyMode::Sidecar) | (Some(TerminateFile::Sidecar), ProxyMode::Sidecar) => {
                Termination::Sidecar
            }
            (None, ProxyMode::Node) | (Some(TerminateFile::Node), ProxyMode::Node) => {
                Termination::Node
            }
            (Some(other), _) => {
                self.error(
                    &key("transport", "terminate"),
                    format!(
                        "TLS cannot terminate in `{}` when proxy.mode is `{}`: it terminates where the proxy is (library without a proxy)",
                        format!("{other:?}").to_lowercase(),
                        format!("{proxy_mode:?}").to_lowercase()
                    ),
                );
                Termination::Library
            }
        };
        let version = match t.tls_version.unwrap_or(VersionFile::V13) {
            VersionFile::V12 => TlsVersion::V12,
            VersionFile::V13 => TlsVersion::V13,
        };
        let kx = match t.key_exchange.unwrap_or(KeyExchangeFile::X25519) {
            KeyExchangeFile::X25519 => "x25519",
            KeyExchangeFile::P256 => "p256",
            KeyExchangeFile::X25519mlkem768 => "x25519mlkem768",
        };
        let cert = match t.certificate.unwrap_or(CertificateFile::EcdsaP256) {
            CertificateFile::EcdsaP256 => "ecdsa-p256",
            CertificateFile::Rsa2048 => "rsa-2048",
            CertificateFile::Ed25519 => "ed25519",
        };
        let chain = self.count(t.chain_length, 2, 1, key("transport", "chain_length"));
        let mut cpu = default_handshake_cpu(version, kx, cert, chain);
        let c = &t.cpu;
        for (v, slot) in [
            (c.client_full, &mut cpu.client_full),
            (c.server_full, &mut cpu.server_full),
            (c.client_resumed, &mut cpu.client_resumed),
            (c.server_resumed, &mut cpu.server_resumed),
            (c.mtls_client, &mut cpu.mtls_client),
            (c.mtls_server, &mut cpu.mtls_server),
            (c.hello_retry, &mut cpu.hello_retry),
        ] {
            if let Some(d) = v {
                *slot = d.0;
            }
        }
        let hello_retry = self.fraction(
            t.hello_retry_rate,
            0.0,
            key("transport", "hello_retry_rate"),
            false,
        );
        // AES-128-GCM, 6.6-8.3 GB/s per core (rustls perf report): 7.5 GB/s.
        let bulk = match t.bulk_gb_per_s {
            None => 7.5,
            Some(g) if g.is_finite() && g > 0.0 => g,
            Some(g) => {
                self.error(
                    &key("transport", "bulk_gb_per_s"),
                    format!("must be a positive number of GB/s per core, got {g}"),
                );
                7.5
            }
        };
        // X25519MLKEM768 key shares: 1,216 B from the client, 1,120 B back
        // (draft-ietf-tls-ecdhe-mlkem), against 32 B for X25519.
        let (ch_bytes, sh_bytes) = if kx == "x25519mlkem768" {
            (1216, 1120)
        } else {
            (32, 32)
        };
        let transport = Transport {
            security,
            scope: scope(t.scope),
            terminate,
            version,
            hello_retry,
            cpu,
            bulk_ns_per_byte: if security == Security::Plaintext {
                0.0
            } else {
                1.0 / bulk
            },
            client_hello_bytes: ch_bytes,
            server_hello_bytes: sh_bytes,
        };

        let k = &raw.connections;
        let reuse = match k.reuse.unwrap_or(ReuseFile::Pool) {
            ReuseFile::PerRequest => Reuse::PerRequest,
            ReuseFile::Pool => Reuse::Pool,
            ReuseFile::Multiplex => Reuse::Multiplex,
        };
        let connections = Connections {
            reuse,
            max_per_destination: self.count(
                k.max_per_destination,
                // gRPC keeps one connection per destination; HTTP/1.1 pools
                // are bounded by Envoy's default circuit breaker (1024).
                if reuse == Reuse::Multiplex { 1 } else { 1024 },
                1,
                key("connections", "max_per_destination"),
            ),
            // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS, commonly 100 (Envoy, Go).
            max_concurrent_streams: if reuse == Reuse::Multiplex {
                self.count(
                    k.max_concurrent_streams,
                    100,
                    1,
                    key("connections", "max_concurrent_streams"),
                )
            } else {
                1
            },
            idle_timeout: self.positive(
                k.idle_timeout,
                base.connections.idle_timeout,
                key("connections", "idle_timeout"),
            ),
            max_lifetime: k
                .max_lifetime
                .map(|_| self.positive(k.max_lifetime, 1, key("connections", "max_lifetime"))),
            tcp_fast_open: k.tcp_fast_open.unwrap_or(false),
            prewarm: reuse != Reuse::PerRequest && k.prewarm.unwrap_or(true),
        };
        if reuse == Reuse::PerRequest && k.prewarm == Some(true) {
            self.error(
                &key("connections", "prewarm"),
                "per-request connections are never reused, so there is nothing to prewarm",
            );
        }

        let r = &raw.resumption;
        let resumption = Resumption {
            enabled: r.tickets.unwrap_or(false),
            // A 5-minute ticket (the seed article's recommendation).
            ticket_ttl: self.positive(
                r.ticket_ttl,
                300_000_000_000,
                key("resumption", "ticket_ttl"),
            ),
            early_data: r.early_data.unwrap_or(false),
            cache: match r.cache.unwrap_or(TicketCacheFile::PerReplica) {
                TicketCacheFile::PerReplica => TicketCache::PerReplica,
                TicketCacheFile::PerService => TicketCache::PerService,
            },
        };
        if resumption.early_data && version == TlsVersion::V12 {
            self.error(
                &key("resumption", "early_data"),
                "0-RTT early data needs TLS 1.3 (tls_version = \"1.3\")",
            );
        }
        if resumption.early_data && !resumption.enabled {
            self.error(
                &key("resumption", "early_data"),
                "0-RTT early data needs session tickets (tickets = true)",
            );
        }

        let i = &raw.identity;
        let token = match (i.token_ttl, &i.token_issuer) {
            (None, None) => None,
            (Some(ttl), Some(issuer)) => {
                let ttl = self.positive(Some(ttl), 1, key("identity", "token_ttl"));
                self.endpoint(
                    issuer,
                    key("identity", "token_issuer"),
                    topo,
                    "token issuer",
                )
                .map(|issuer| Token { ttl, issuer })
            }
            (Some(_), None) => {
                self.error(&key("identity", "token_ttl"), "tokens are fetched from an identity service: set `token_issuer = \"identity.issue\"` (an endpoint of the topology)");
                None
            }
            (None, Some(_)) => {
                self.error(
                    &key("identity", "token_issuer"),
                    "set `token_ttl` too (e.g. \"5m\", SPIRE's JWT-SVID default)",
                );
                None
            }
        };
        let renewal =
            identity_cert_ttl(&raw.identity) as f64 * raw.identity.renew_ratio.unwrap_or(0.5);
        if renewal < 1e9 {
            self.error(
                &key("identity", "cert_ttl"),
                "certificates would renew more often than once a second (cert_ttl x renew_ratio); no deployment rotates that fast",
            );
        }
        let identity = Identity {
            // Istio workload certificates: 24 h, renewed at 50%.
            cert_ttl: self.positive(
                i.cert_ttl,
                base.identity.cert_ttl,
                key("identity", "cert_ttl"),
            ),
            renew_ratio: match i.renew_ratio {
                Some(x) if x > 0.0 && x <= 1.0 => x,
                None => 0.5,
                Some(x) => {
                    self.error(
                        &key("identity", "renew_ratio"),
                        format!("must be in (0, 1], got {x}"),
                    );
                    0.5
                }
            },
            renew_jitter: self.fraction(i.renew_jitter, 0.0, key("identity", "renew_jitter"), true),
            rotation_closes_connections: i.rotation_closes_connections.unwrap_or(false),
            token,
        };

        let p = &raw.proxy;
        // Per request per proxy: Envoy sidecar 0.20 vCPU per 1000 rps = 200 us
        // (Istio 1.24); ztunnel 0.06 vCPU per 1000 rps = 60 us.
        let default_request = match proxy_mode {
            ProxyMode::Node => 60 * US,
            _ => 200 * US,
        };
        let waypoint = p.waypoint.as_ref().map(|w| Waypoint {
            cost: ProxyCost {
                // Waypoint 0.25 vCPU per 1000 rps (Istio 1.24).
                request_cpu: self.dist(
                    w.request_cpu.as_ref(),
                    Dist::Constant(250 * US),
                    KeyPath::root()
                        .key("proxy")
                        .key("waypoint")
                        .key("request_cpu"),
                ),
                ns_per_byte: w.cpu_per_kib.map_or(0.0, |d| d.0 as f64 / 1024.0),
                cores: self.count(
                    w.cores,
                    2,
                    1,
                    KeyPath::root().key("proxy").key("waypoint").key("cores"),
                ),
            },
            replicas: self.count(
                w.replicas,
                2,
                1,
                KeyPath::root().key("proxy").key("waypoint").key("replicas"),
            ),
        });
        if waypoint.is_some() && proxy_mode != ProxyMode::Node {
            self.error(
                &key("proxy", "waypoint"),
                "a waypoint goes with node proxies (proxy.mode = \"node\"), as in ambient mesh",
            );
        }
        let proxy = Proxy {
            mode: proxy_mode,
            cost: ProxyCost {
                request_cpu: self.dist(
                    p.request_cpu.as_ref(),
                    Dist::Constant(default_request),
                    key("proxy", "request_cpu"),
                ),
                ns_per_byte: p.cpu_per_kib.map_or(0.0, |d| d.0 as f64 / 1024.0),
                cores: self.count(p.cores, 2, 1, key("proxy", "cores")),
            },
            shares_service_cores: p.shares_service_cores.unwrap_or(false),
            nodes_per_zone: self.count(p.nodes_per_zone, 3, 1, key("proxy", "nodes_per_zone")),
            waypoint,
        };
        if proxy.shares_service_cores && proxy_mode != ProxyMode::Sidecar {
            self.error(
                &key("proxy", "shares_service_cores"),
                "only a sidecar can share its pod's cores",
            );
        }

        let a = &raw.authn;
        let jwt = match a.jwt.unwrap_or(JwtFile::None) {
            JwtFile::None => None,
            JwtFile::Rs256 => Some(JwtAlgorithm::Rs256),
            JwtFile::Es256 => Some(JwtAlgorithm::Es256),
            JwtFile::Eddsa => Some(JwtAlgorithm::EdDsa),
            JwtFile::Hs256 => Some(JwtAlgorithm::Hs256),
        };
        // JWT verification (pascaldekloe/jwt, Go on Apple M1): RS256 31 us,
        // ES256 59 us, EdDSA 54 us, HS256 1.8 us.
        let verify_default = match jwt {
            Some(JwtAlgorithm::Rs256) => 31 * US,
            Some(JwtAlgorithm::Es256) => 59 * US,
            Some(JwtAlgorithm::EdDsa) => 54 * US,
            Some(JwtAlgorithm::Hs256) => 1_800,
            None => 0,
        };
        let authn = Authn {
            jwt,
            verify_cpu: a.verify_cpu.map_or(verify_default, |d| d.0),
            scope: scope(a.scope),
            cache_ttl: a.cache_ttl.map_or(0, |d| d.0),
        };

        let z = &raw.authz;
        let mode = match z.mode.unwrap_or(AuthzModeFile::None) {
            AuthzModeFile::None => AuthzMode::None,
            AuthzModeFile::InProcess => AuthzMode::InProcess,
            AuthzModeFile::Proxy => AuthzMode::Proxy,
            AuthzModeFile::Sidecar => AuthzMode::Sidecar,
            AuthzModeFile::Remote => AuthzMode::Remote,
        };
        if mode == AuthzMode::Proxy && proxy_mode == ProxyMode::None {
            self.error(&key("authz", "mode"), "policy in the proxy needs a proxy (proxy.mode = \"sidecar\" or \"node\"); without one use \"in-process\"");
        }
        let policy = match (&z.policy, mode) {
            (Some(name), AuthzMode::Remote) => {
                self.endpoint(name, key("authz", "policy"), topo, "policy service")
            }
            (None, AuthzMode::Remote) => {
                self.error(&key("authz", "mode"), "remote policy needs `policy = \"policy.check\"`: an endpoint of the topology that answers decisions");
                None
            }
            (Some(_), _) => {
                self.error(
                    &key("authz", "policy"),
                    "`policy` names the remote policy service: it goes with mode = \"remote\"",
                );
                None
            }
            (None, _) => None,
        };
        let authz = Authz {
            mode,
            // OPA in-process: 36 us median, 134 us p99 (`opa bench`, RBAC).
            eval_cpu: self.dist(
                z.eval_cpu.as_ref(),
                Dist::lognormal_median_p99(36_000.0, 134_000.0),
                key("authz", "eval_cpu"),
            ),
            scope: scope(z.scope),
            cache_ttl: z.cache_ttl.map_or(0, |d| d.0),
            sidecar_cores: self.count(z.sidecar_cores, 1, 1, key("authz", "sidecar_cores")),
            policy,
        };
        Design {
            name: raw.name.unwrap_or(stem),
            transport,
            connections,
            resumption,
            identity,
            proxy,
            authn,
            authz,
        }
    }
}

fn identity_cert_ttl(i: &IdentityFile) -> Nanos {
    i.cert_ttl
        .map_or(Design::plaintext().identity.cert_ttl, |d| d.0)
}

fn scope(s: Option<ScopeFile>) -> Scope {
    match s.unwrap_or(ScopeFile::EveryHop) {
        ScopeFile::EveryHop => Scope::EveryHop,
        ScopeFile::Edge => Scope::Edge,
    }
}
