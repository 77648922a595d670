//! The serde form of a design file: every key, its type and its doc (the
//! JSON Schema is generated from these); no checks, no defaults.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::dist::DistSpec;
use crate::units::{CoresText, Dur};

/// A Zero Trust (or perimeter) design (`models/*.toml`): how hops are
/// encrypted, how connections are reused, who terminates TLS, which proxies
/// sit on the path, how callers are authenticated and authorised. Every key
/// is optional: an empty file is the plaintext design with HTTP/1.1 pools.
/// Reference: docs/design.md.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ztsim design")]
pub(in crate::config) struct DesignFile {
    /// Name in reports. Default: the file name without .toml.
    pub(super) name: Option<String>,
    /// Free text; not used.
    #[allow(dead_code)]
    pub(super) description: Option<String>,
    /// A cost profile measured by `ztsim calibrate` (e.g. "../costs/host.toml"), relative to this file: its figures replace the published defaults; this file's explicit values still win. `--costs` on the command line replaces it. Default: none.
    pub(super) costs: Option<String>,
    /// Encryption of hops, TLS version and handshake CPU.
    #[serde(default)]
    pub(super) transport: TransportFile,
    /// Connection reuse and pool limits.
    #[serde(default)]
    pub(super) connections: ConnectionsFile,
    /// TLS session resumption (tickets, 0-RTT).
    #[serde(default)]
    pub(super) resumption: ResumptionFile,
    /// Certificate rotation and caller tokens.
    #[serde(default)]
    pub(super) identity: IdentityFile,
    /// Sidecar or node proxies, and an optional waypoint.
    #[serde(default)]
    pub(super) proxy: ProxyFile,
    /// JWT verification of callers.
    #[serde(default)]
    pub(super) authn: AuthnFile,
    /// Where and how policy decisions are made.
    #[serde(default)]
    pub(super) authz: AuthzFile,
    /// What this design's services do with a caller that speaks less than they do (a plaintext caller at an mTLS service): "permissive" accepts it as it comes, "strict" refuses it (the call fails after one round trip, counted as refused). Default: "permissive".
    #[schemars(extend("default" = "permissive"))]
    pub(super) mode: Option<ModeFile>,
    /// Services that run another design or mode than this one (a migration under way, a namespace left as it was), chosen by name, namespace or labels; a later entry wins over an earlier one for a service both choose. Reference: docs/design.md, "Services under different designs".
    #[serde(default, rename = "override")]
    pub(super) overrides: Vec<OverrideFile>,
}

/// Whether a weaker caller is accepted.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum ModeFile {
    Permissive,
    Strict,
}

/// Services under another design or mode. Give at least one of `services`, `namespace` and `labels`; a service is chosen when it matches every one given.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct OverrideFile {
    /// Services by name.
    #[schemars(length(min = 1))]
    pub(super) services: Option<Vec<String>>,
    /// Services whose `namespace` in the topology is this.
    pub(super) namespace: Option<String>,
    /// Services whose `labels` in the topology include all of these, e.g. { tier = "backend" }.
    pub(super) labels: Option<std::collections::BTreeMap<String, String>>,
    /// The design they run: a design file, relative to this one, without overrides of its own. Default: this design.
    pub(super) design: Option<String>,
    /// Their mode. Default: their design's.
    pub(super) mode: Option<ModeFile>,
}

/// How hops are secured: no TLS, server-authenticated TLS, or mutual TLS.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum SecurityFile {
    Plaintext,
    Tls,
    Mtls,
}

/// Which hops: all of them, or only client -> entry service.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum ScopeFile {
    EveryHop,
    Edge,
}

/// Who does the TLS work.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum TerminateFile {
    Library,
    Sidecar,
    Node,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum VersionFile {
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
pub(super) enum KeyExchangeFile {
    X25519,
    P256,
    X25519mlkem768,
}

/// Server certificate key.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum CertificateFile {
    EcdsaP256,
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    Ed25519,
}

/// Overrides of the resolved per-side handshake CPU; each replaces the value
/// computed from version, group, certificate and chain length.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct HandshakeCpuFile {
    /// Client side of a full handshake. Default: 460us (TLS 1.3), 260us (TLS 1.2), plus 115us per certificate beyond 2 and the key-exchange extra.
    pub(super) client_full: Option<Dur>,
    /// Server side of a full handshake. Default: 230us (TLS 1.3; RSA-2048 600us), 130us (TLS 1.2; RSA-2048 339us), plus the key-exchange extra.
    pub(super) server_full: Option<Dur>,
    /// The part of `server_full` the server spends on the client's last flight (TLS 1.2: the key exchange's shared secret and the Finished, a job of its own between the two round trips; TLS 1.3: the client's Finished, with the first request's job); the rest comes before the server's first flight. At most `server_full`. Default: 52% (TLS 1.2) or 15% (TLS 1.3) of the ECDSA `server_full` with the design's key exchange, whatever the certificate (68us and 35us with x25519), or a cost profile's measured figure.
    pub(super) server_finish: Option<Dur>,
    /// The part of `client_full` the client spends on the server's last flight of a TLS 1.2 full handshake (its ChangeCipherSpec and Finished), in a turn of its own that waits for the client's cores before the first request goes out; the rest comes before the ClientHello. At most `client_full`; TLS 1.3 ignores it (its client answers the server's only flight with its Finished and the request at once). Default: 0, no turn of its own, or a cost profile's measured figure (`ztsim calibrate` and `ztsim testbed` measure it).
    pub(super) client_finish: Option<Dur>,
    /// Client side of a resumed handshake. Default: 200us (TLS 1.3 PSK-DHE), 30us (TLS 1.2).
    pub(super) client_resumed: Option<Dur>,
    /// Server side of a resumed handshake (also charged for 0-RTT). Default: 200us (TLS 1.3), 30us (TLS 1.2).
    pub(super) server_resumed: Option<Dur>,
    /// Added to the client of a full mTLS handshake (sign CertificateVerify). Default: 100us.
    pub(super) mtls_client: Option<Dur>,
    /// Added to the server of a full mTLS handshake (verify the client chain). Default: 230us, plus 115us per certificate beyond 2.
    pub(super) mtls_server: Option<Dur>,
    /// Added to each side when a HelloRetryRequest forces a second key share. Default: 30us (x25519), 50us (p256), 90us (x25519mlkem768).
    pub(super) hello_retry: Option<Dur>,
}

/// How hops are encrypted.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TransportFile {
    /// "plaintext", "tls" (server-authenticated) or "mtls" (the client presents a certificate too). Default: "plaintext".
    #[schemars(extend("default" = "plaintext"))]
    pub(super) security: Option<SecurityFile>,
    /// Which hops are encrypted: "every-hop", or only client -> entry service ("edge"). Default: "every-hop".
    #[schemars(extend("default" = "every-hop"))]
    pub(super) scope: Option<ScopeFile>,
    /// Who does the TLS work: "library", "sidecar" or "node"; must match proxy.mode. Default: where the proxy is ("library" without a proxy).
    pub(super) terminate: Option<TerminateFile>,
    /// TLS version, "1.2" or "1.3". Default: "1.3".
    #[schemars(extend("default" = "1.3"))]
    pub(super) tls_version: Option<VersionFile>,
    /// Key-exchange group: "x25519", "p256" or "x25519mlkem768" (post-quantum hybrid). Default: "x25519".
    #[schemars(extend("default" = "x25519"))]
    pub(super) key_exchange: Option<KeyExchangeFile>,
    /// Share of full handshakes that need a HelloRetryRequest (+1 RTT and cpu.hello_retry each side), in [0, 1]. Default: 0.
    #[schemars(range(min = 0, max = 1), extend("default" = 0))]
    pub(super) hello_retry_rate: Option<f64>,
    /// Server certificate key: "ecdsa-p256", "rsa-2048" or "ed25519". Default: "ecdsa-p256".
    #[schemars(extend("default" = "ecdsa-p256"))]
    pub(super) certificate: Option<CertificateFile>,
    /// Certificates the peer verifies (leaf + intermediates); each beyond 2 adds 115us. Default: 2.
    #[schemars(range(min = 1), extend("default" = 2))]
    pub(super) chain_length: Option<i64>,
    /// Bulk encryption (AES-GCM) throughput per core, in GB/s. Default: 7.5.
    #[schemars(extend("exclusiveMinimum" = 0, "default" = 7.5))]
    pub(super) bulk_gb_per_s: Option<f64>,
    /// Overrides of the per-side handshake CPU (durations).
    #[serde(default)]
    pub(super) cpu: HandshakeCpuFile,
}

/// Connection reuse: a new connection per call, HTTP/1.1 keep-alive pools, or HTTP/2 / gRPC multiplexing.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum ReuseFile {
    PerRequest,
    Pool,
    Multiplex,
}

/// Connection reuse and pool limits.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConnectionsFile {
    /// "per-request" (a new connection per call), "pool" (HTTP/1.1 keep-alive, one call at a time) or "multiplex" (HTTP/2 streams). Default: "pool".
    #[schemars(extend("default" = "pool"))]
    pub(super) reuse: Option<ReuseFile>,
    /// Most connections from one origin peer to one destination peer; beyond that calls wait. Default: 1 with "multiplex", 1024 with "pool".
    #[schemars(range(min = 1))]
    pub(super) max_per_destination: Option<i64>,
    /// Streams per multiplexed connection ("multiplex" only). Default: 100.
    #[schemars(range(min = 1), extend("default" = 100))]
    pub(super) max_concurrent_streams: Option<i64>,
    /// An idle connection closes (checked when next picked); above zero. Default: "60s".
    #[schemars(extend("default" = "60s"))]
    pub(super) idle_timeout: Option<Dur>,
    /// Every connection closes at this age; above zero. Default: none.
    pub(super) max_lifetime: Option<Dur>,
    /// TCP Fast Open: no TCP round trip on a new connection. Default: false.
    #[schemars(extend("default" = false))]
    pub(super) tcp_fast_open: Option<bool>,
    /// Each pool starts with one established connection. Default: true for "pool" and "multiplex" (an error with "per-request").
    pub(super) prewarm: Option<bool>,
}

/// Where resumption tickets are kept.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum TicketCacheFile {
    PerReplica,
    PerService,
}

/// TLS session resumption.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ResumptionFile {
    /// Session tickets: a new connection with a valid ticket does a resumed handshake. Default: false.
    #[schemars(extend("default" = false))]
    pub(super) tickets: Option<bool>,
    /// A ticket's lifetime from the handshake that issued it; above zero. Default: "5m".
    #[schemars(extend("default" = "5m"))]
    pub(super) ticket_ttl: Option<Dur>,
    /// TLS 1.3 0-RTT: a resumed connection sends the request with the ClientHello. Needs TLS 1.3 and tickets. Default: false.
    #[schemars(extend("default" = false))]
    pub(super) early_data: Option<bool>,
    /// "per-replica" (one ticket per destination replica) or "per-service" (one per destination service, resuming only at the replica that issued it). Default: "per-replica".
    #[schemars(extend("default" = "per-replica"))]
    pub(super) cache: Option<TicketCacheFile>,
}

/// Certificate rotation and caller tokens. `token_ttl` and `token_issuer` go together.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("dependencies" = { "token_ttl": ["token_issuer"], "token_issuer": ["token_ttl"] }))]
pub(super) struct IdentityFile {
    /// Certificate lifetime; above zero. Default: "24h".
    #[schemars(extend("default" = "24h"))]
    pub(super) cert_ttl: Option<Dur>,
    /// Renew at this fraction of the lifetime, in (0, 1]. Default: 0.5.
    #[schemars(range(max = 1), extend("exclusiveMinimum" = 0, "default" = 0.5))]
    pub(super) renew_ratio: Option<f64>,
    /// Uniform +- jitter on each renewal interval as a fraction of it, in [0, 1); 0 makes every certificate renew at once. Default: 0.
    #[schemars(range(min = 0), extend("exclusiveMaximum" = 1, "default" = 0))]
    pub(super) renew_jitter: Option<f64>,
    /// A renewed certificate retires the connections it opened. Default: false.
    #[schemars(extend("default" = false))]
    pub(super) rotation_closes_connections: Option<bool>,
    /// Callers carry tokens that expire after this long and are re-fetched; above zero. Needs token_issuer. Default: none (no tokens).
    pub(super) token_ttl: Option<Dur>,
    /// The topology endpoint that issues tokens, as "service.endpoint" (e.g. "identity.issue"); it must have no call graph. Needs token_ttl.
    pub(super) token_issuer: Option<String>,
}

/// No proxy, one proxy per replica, or one proxy per node.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum ProxyModeFile {
    None,
    Sidecar,
    Node,
}

/// Sidecar or node proxies on the path.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProxyFile {
    /// "none", "sidecar" (one proxy per replica) or "node" (one per node, ztunnel-like). Default: "none".
    #[schemars(extend("default" = "none"))]
    pub(super) mode: Option<ProxyModeFile>,
    /// Proxy CPU per request passing through, per proxy on the path. Default: "200us" (sidecar), "60us" (node).
    pub(super) request_cpu: Option<DistSpec>,
    /// Extra proxy CPU per KiB of request + response. Default: "0s".
    #[schemars(extend("default" = "0s"))]
    pub(super) cpu_per_kib: Option<Dur>,
    /// Share of request_cpu that runs off the request's critical path (access logs, stats, bookkeeping after the response is forwarded), in [0, 1): it keeps the proxy's cores busy but adds no latency to that request. Default: 0.
    #[schemars(range(min = 0), extend("exclusiveMaximum" = 1, "default" = 0))]
    pub(super) off_path_fraction: Option<f64>,
    /// Cores of each proxy instance: a number (2, 0.5) or millicores ("500m"); a fraction is a slower server (docs/model.md s3). Default: 2.
    #[schemars(extend("default" = 2))]
    pub(super) cores: Option<CoresText>,
    /// Sidecar only: the sidecar's CPU runs on the replica's own cores. Default: false.
    #[schemars(extend("default" = false))]
    pub(super) shares_service_cores: Option<bool>,
    /// Node mode: nodes (hosts) per zone, each with its own node proxy; ignored in other modes. Default: 3.
    #[schemars(range(min = 1), extend("default" = 3))]
    pub(super) nodes_per_zone: Option<i64>,
    /// An L7 waypoint on every call (node mode only). Default: none.
    pub(super) waypoint: Option<WaypointFile>,
}

/// An L7 waypoint on every call (ambient mesh with L7 policy).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WaypointFile {
    /// Waypoint replicas, dealt round the zones. Default: 2.
    #[schemars(range(min = 1), extend("default" = 2))]
    pub(super) replicas: Option<i64>,
    /// Cores per replica: a number (2, 0.5) or millicores ("500m"). Default: 2.
    #[schemars(extend("default" = 2))]
    pub(super) cores: Option<CoresText>,
    /// CPU per request. Default: "250us".
    #[schemars(extend("default" = "250us"))]
    pub(super) request_cpu: Option<DistSpec>,
    /// CPU per KiB of request + response. Default: "0s".
    #[schemars(extend("default" = "0s"))]
    pub(super) cpu_per_kib: Option<Dur>,
}

/// JWT signature algorithm, or "none" for no JWTs.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum JwtFile {
    None,
    Rs256,
    Es256,
    Eddsa,
    Hs256,
}

/// JWT verification of callers at the callee.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AuthnFile {
    /// "none", "rs256", "es256", "eddsa" or "hs256". Default: "none".
    #[schemars(extend("default" = "none"))]
    pub(super) jwt: Option<JwtFile>,
    /// Verify at "every-hop" or only at the entry service ("edge"). Default: "every-hop".
    #[schemars(extend("default" = "every-hop"))]
    pub(super) scope: Option<ScopeFile>,
    /// CPU per verification. Default: by algorithm, RS256 31us, ES256 59us, EdDSA 54us, HS256 1.8us.
    pub(super) verify_cpu: Option<Dur>,
    /// Verified-token cache per (enforcing peer, calling peer); a hit costs nothing. Default: "0s" (no cache).
    #[schemars(extend("default" = "0s"))]
    pub(super) cache_ttl: Option<Dur>,
}

/// Where the policy decision is made.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum AuthzModeFile {
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
pub(super) struct AuthzFile {
    /// "none", "in-process" (callee's cores), "proxy" (the proxy terminating the hop; needs a proxy), "sidecar" (a policy sidecar per replica) or "remote" (a policy service of the topology). Default: "none".
    #[schemars(extend("default" = "none"))]
    pub(super) mode: Option<AuthzModeFile>,
    /// CPU per decision (in-process, proxy, sidecar); for "remote" the policy endpoint's own cpu applies. Default: lognormal, median 36us, p99 134us.
    pub(super) eval_cpu: Option<DistSpec>,
    /// Decide at "every-hop" or only at the entry service ("edge"). Default: "every-hop".
    #[schemars(extend("default" = "every-hop"))]
    pub(super) scope: Option<ScopeFile>,
    /// Decision cache per (callee replica, calling endpoint, called endpoint); a hit skips the evaluation or the remote call. Default: "0s" (no cache).
    #[schemars(extend("default" = "0s"))]
    pub(super) cache_ttl: Option<Dur>,
    /// Cores of each policy sidecar (mode = "sidecar"): a number (1, 0.25) or millicores ("250m"). Default: 1.
    #[schemars(extend("default" = 1))]
    pub(super) sidecar_cores: Option<CoresText>,
    /// The remote policy endpoint, as "service.endpoint" (e.g. "policy.check"); mode = "remote" only, and required then. It must have no call graph.
    pub(super) policy: Option<String>,
}
