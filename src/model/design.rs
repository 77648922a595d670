//! A Zero Trust design (docs/model.md s3): how calls are secured, carried,
//! authenticated and authorised, and what each of those costs. Plain data,
//! resolved by `config` from a `models/*.toml` file with every default filled
//! in; the simulation reads it through the hooks in `sim.rs`.

use super::dist::Dist;
use super::topology::{EndpointId, ServiceId};
use crate::units::{Millicores, Nanos};

/// Whether a hop is encrypted, and who proves its identity; ordered from
/// weakest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Security {
    /// No TLS: the perimeter model.
    Plaintext,
    /// TLS, the server authenticates.
    Tls,
    /// Mutual TLS, both sides present certificates.
    Mtls,
}

/// Which hops a control applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every service-to-service hop, and the client's.
    EveryHop,
    /// Only the client -> entry-service hop.
    Edge,
}

/// Who terminates TLS (and so whose cores pay for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The service process itself (a TLS library).
    Library,
    /// The service's sidecar proxy.
    Sidecar,
    /// The node proxy of the service's zone (ztunnel-like).
    Node,
}

/// TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.2: full handshake 2 RTT, resumed 1 RTT.
    V12,
    /// TLS 1.3: full 1 RTT, resumed 1 RTT, 0-RTT early data possible.
    V13,
}

/// CPU per handshake, per side (ns), already resolved for the design's
/// version, key exchange, certificate and chain length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandshakeCpu {
    /// Client side of a full handshake (key exchange, verify server chain).
    pub client_full: Nanos,
    /// Server side of a full handshake (key exchange, sign), in all.
    pub server_full: Nanos,
    /// The part of `server_full` the server spends on the client's last
    /// flight (TLS 1.2: the key exchange's shared secret and the Finished;
    /// TLS 1.3: the client's Finished); the rest comes before its first
    /// flight. At most `server_full`.
    pub server_finish: Nanos,
    /// The part of `client_full` the client spends on the server's last
    /// flight of a TLS 1.2 full handshake (its ChangeCipherSpec and
    /// Finished), in a turn of its own before the first request goes out:
    /// an event-loop client handles each flight it receives when its core
    /// comes to it. 0: no turn of its own (all of `client_full` before the
    /// ClientHello). Not used by TLS 1.3, whose client sends its Finished
    /// with the request in the turn that handles the server's flight.
    pub client_finish: Nanos,
    /// Client side of a resumed handshake.
    pub client_resumed: Nanos,
    /// Server side of a resumed handshake.
    pub server_resumed: Nanos,
    /// Added to the client on a full mTLS handshake (sign CertificateVerify).
    pub mtls_client: Nanos,
    /// Added to the server on a full mTLS handshake (verify client chain),
    /// spent on the client's last flight, which carries its certificate.
    pub mtls_server: Nanos,
    /// Added to each side when a HelloRetryRequest forces a second key share.
    pub hello_retry: Nanos,
}

/// Transport security.
#[derive(Debug, Clone, PartialEq)]
pub struct Transport {
    /// Plaintext, TLS or mTLS.
    pub security: Security,
    /// Every hop or the edge only.
    pub scope: Scope,
    /// Who terminates TLS.
    pub terminate: Termination,
    /// Protocol version.
    pub version: TlsVersion,
    /// Probability that a full handshake needs a HelloRetryRequest (+1 RTT).
    pub hello_retry: f64,
    /// Handshake CPU.
    pub cpu: HandshakeCpu,
    /// Bulk encryption CPU per byte, each end (ns).
    pub bulk_ns_per_byte: f64,
    /// Extra bytes on the client's first flight (large post-quantum key shares).
    pub client_hello_bytes: u64,
    /// Extra bytes on the server's first flight.
    pub server_hello_bytes: u64,
}

/// How connections are reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// A new connection per call, closed after the response.
    PerRequest,
    /// HTTP/1.1 keep-alive: one call at a time per connection.
    Pool,
    /// HTTP/2 or gRPC: many concurrent streams per connection.
    Multiplex,
}

impl Reuse {
    /// As design files and reports spell it.
    pub fn word(self) -> &'static str {
        match self {
            Reuse::PerRequest => "per-request",
            Reuse::Pool => "pool",
            Reuse::Multiplex => "multiplex",
        }
    }
}

/// Connection management.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Connections {
    /// Reuse policy.
    pub reuse: Reuse,
    /// Most connections from one origin to one destination (pool and multiplex).
    pub max_per_destination: u32,
    /// Streams per connection (multiplex; 1 for pool).
    pub max_concurrent_streams: u32,
    /// An idle connection closes after this long.
    pub idle_timeout: Nanos,
    /// Every connection closes at this age.
    pub max_lifetime: Option<Nanos>,
    /// TCP Fast Open: no TCP round trip on a new connection.
    pub tcp_fast_open: bool,
    /// Pools start with one established connection per destination, as in a
    /// system that has been running (pool and multiplex only).
    pub prewarm: bool,
}

/// Where session tickets are cached on the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketCache {
    /// One ticket per destination replica (the usual client behaviour).
    PerReplica,
    /// One slot per destination service, holding the last ticket received;
    /// it resumes only at the replica that issued it (Envoy's upstream
    /// session cache, envoyproxy/envoy issue 33512).
    PerService,
}

/// Session resumption.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resumption {
    /// Tickets on or off.
    pub enabled: bool,
    /// Ticket lifetime.
    pub ticket_ttl: Nanos,
    /// TLS 1.3 0-RTT early data on resumption.
    pub early_data: bool,
    /// Ticket cache granularity.
    pub cache: TicketCache,
}

/// Workload identity: certificates and tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// Certificate lifetime.
    pub cert_ttl: Nanos,
    /// Renew at this fraction of the lifetime.
    pub renew_ratio: f64,
    /// Renewal time jitter, as a fraction of the renewal interval (uniform +-).
    pub renew_jitter: f64,
    /// A renewed certificate closes the connections it opened.
    pub rotation_closes_connections: bool,
    /// Token lifetime and where tokens are fetched, if callers carry tokens.
    pub token: Option<Token>,
}

/// Caller tokens re-fetched from an identity service on expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Lifetime of a token.
    pub ttl: Nanos,
    /// The identity service endpoint of the topology that issues them.
    pub issuer: EndpointId,
}

/// Proxy placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// No proxy: the library does everything.
    None,
    /// One proxy per replica.
    Sidecar,
    /// One shared proxy per zone (ztunnel-like).
    Node,
}

/// A proxy's costs and capacity.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyCost {
    /// CPU per request passing through.
    pub request_cpu: Dist,
    /// CPU per payload byte passing through (ns).
    pub ns_per_byte: f64,
    /// Share of the per-request CPU that runs off the request's critical
    /// path (after the response is forwarded), in [0, 1): it occupies the
    /// proxy's cores but adds no latency to the request itself.
    pub off_path: f64,
    /// Cores of each proxy instance (whole or a fraction).
    pub cores: Millicores,
}

/// Proxies on the path.
#[derive(Debug, Clone, PartialEq)]
pub struct Proxy {
    /// None, sidecar or node.
    pub mode: ProxyMode,
    /// Sidecar or node proxy costs.
    pub cost: ProxyCost,
    /// Sidecar CPU comes out of the service's own cores (same cgroup).
    pub shares_service_cores: bool,
    /// Nodes (hosts) per zone, each with its own node proxy; replica r runs
    /// on node r mod this of its zone.
    pub nodes_per_zone: u32,
    /// An L7 waypoint hop on every call (with `Node`), if any.
    pub waypoint: Option<Waypoint>,
}

/// A shared L7 proxy deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Waypoint {
    /// Its costs; `cores` per replica.
    pub cost: ProxyCost,
    /// Replicas, spread over zones round-robin.
    pub replicas: u32,
}

/// JWT signature algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// RSA PKCS#1 SHA-256.
    Rs256,
    /// ECDSA P-256.
    Es256,
    /// Ed25519.
    EdDsa,
    /// HMAC SHA-256.
    Hs256,
}

/// Token verification at the callee.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Authn {
    /// Algorithm of the tokens (None: no JWT).
    pub jwt: Option<JwtAlgorithm>,
    /// CPU per verification.
    pub verify_cpu: Nanos,
    /// Where tokens are checked.
    pub scope: Scope,
    /// Verified tokens are cached this long (0: no cache).
    pub cache_ttl: Nanos,
}

/// Where policy is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthzMode {
    /// No authorization.
    None,
    /// In the service process, on its cores.
    InProcess,
    /// In the proxy that terminates the hop (Envoy RBAC, linkerd policy).
    Proxy,
    /// In a policy sidecar next to each replica, over a local hop.
    Sidecar,
    /// At a policy service of the topology, over the network.
    Remote,
}

impl AuthzMode {
    /// As design files and reports spell it.
    pub fn word(self) -> &'static str {
        match self {
            AuthzMode::None => "none",
            AuthzMode::InProcess => "in-process",
            AuthzMode::Proxy => "proxy",
            AuthzMode::Sidecar => "sidecar",
            AuthzMode::Remote => "remote",
        }
    }
}

/// Authorization.
#[derive(Debug, Clone, PartialEq)]
pub struct Authz {
    /// Where.
    pub mode: AuthzMode,
    /// Evaluation CPU per decision.
    pub eval_cpu: Dist,
    /// Where decisions are required.
    pub scope: Scope,
    /// Decisions are cached this long per (replica, caller, endpoint) (0: none).
    pub cache_ttl: Nanos,
    /// Cores of each policy sidecar (mode `Sidecar`).
    pub sidecar_cores: Millicores,
    /// The policy endpoint (mode `Remote`).
    pub policy: Option<EndpointId>,
}

/// What a callee does with a caller whose hop is weaker than its own
/// (a plaintext caller at an mTLS service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Accepts it as it comes (plaintext or one-way TLS): a migration's
    /// first step, while callers catch up.
    Permissive,
    /// Refuses it: the call fails after one round trip.
    Strict,
}

/// Designs that apply to some services instead of the design that holds
/// them (a migration's moved services, a namespace left as it was).
#[derive(Debug, Clone, PartialEq)]
pub struct Overrides {
    /// The designs; none has overrides of its own.
    pub designs: Vec<Design>,
    /// For each service, the index of its design in `designs`, or None for
    /// the design that holds these overrides.
    pub of_service: Vec<Option<u32>>,
}

/// A part of a design that the simulation reads only when a setting
/// elsewhere turns it on ([`Design::off`]): a whole table, or one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// What TLS costs and how it is negotiated: every key of
    /// `[transport]` but `security` and `terminate`.
    Tls,
    /// The client's turn on a TLS 1.2 server's last flight
    /// (`transport.cpu.client_finish`).
    ClientFinish,
    /// Streams per connection (`connections.max_concurrent_streams`).
    Streams,
    /// Connections per destination (`connections.max_per_destination`).
    PoolSize,
    /// Session tickets and 0-RTT.
    Resumption,
    /// The proxies' costs and placement.
    Proxy,
    /// Policy decisions.
    Authz,
    /// The policy sidecar's cores (`authz.sidecar_cores`).
    PolicySidecar,
    /// A local policy evaluation's CPU (`authz.eval_cpu`).
    PolicyCpu,
    /// JWT verification.
    Authn,
}

impl Part {
    /// Every part, in file order.
    pub const ALL: [Part; 10] = [
        Part::Tls,
        Part::ClientFinish,
        Part::Streams,
        Part::PoolSize,
        Part::Resumption,
        Part::Proxy,
        Part::Authz,
        Part::PolicySidecar,
        Part::PolicyCpu,
        Part::Authn,
    ];
}

/// Why a [`Part`] of a design is never read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Off {
    /// No TLS, so no handshake to resume.
    Plaintext,
    /// TLS 1.3, whose client sends its Finished with the first request.
    Tls13,
    /// Connections carry one call at a time (`pool` or `per-request`).
    OneStream(Reuse),
    /// A connection per call: no pool to bound.
    PerRequest,
    /// Session tickets are off.
    NoTickets,
    /// No peer is a proxy (no proxy, library termination, no waypoint).
    NoProxy,
    /// No policy.
    NoPolicy,
    /// Policy evaluated elsewhere than in a policy sidecar (`in-process`,
    /// `proxy` or `remote`).
    NoPolicySidecar(AuthzMode),
    /// Policy evaluated by the topology's policy service, on its own
    /// endpoint's costs.
    RemotePolicy,
    /// No JWTs.
    NoJwt,
}

/// A whole design.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Name, for reports.
    pub name: String,
    /// Whether a weaker caller is accepted.
    pub mode: Mode,
    /// Services under other designs (None: this design applies everywhere).
    pub overrides: Option<Box<Overrides>>,
    /// Transport security.
    pub transport: Transport,
    /// Connection reuse.
    pub connections: Connections,
    /// Session resumption.
    pub resumption: Resumption,
    /// Certificates and tokens.
    pub identity: Identity,
    /// Proxies.
    pub proxy: Proxy,
    /// Token verification.
    pub authn: Authn,
    /// Policy checks.
    pub authz: Authz,
}

impl Design {
    /// The perimeter baseline: plaintext, no proxies, no checks, and every
    /// call riding an established connection at no cost (one prewarmed
    /// connection per destination with unlimited streams). What a topology
    /// runs under without `--model`, and what headlines compare against.
    /// `models/plaintext.toml` models keep-alive pools explicitly instead.
    pub fn plaintext() -> Design {
        Design {
            name: "plaintext".into(),
            mode: Mode::Permissive,
            overrides: None,
            transport: Transport {
                security: Security::Plaintext,
                scope: Scope::EveryHop,
                terminate: Termination::Library,
                version: TlsVersion::V13,
                hello_retry: 0.0,
                cpu: HandshakeCpu {
                    client_full: 0,
                    server_full: 0,
                    server_finish: 0,
                    client_finish: 0,
                    client_resumed: 0,
                    server_resumed: 0,
                    mtls_client: 0,
                    mtls_server: 0,
                    hello_retry: 0,
                },
                bulk_ns_per_byte: 0.0,
                client_hello_bytes: 0,
                server_hello_bytes: 0,
            },
            connections: Connections {
                reuse: Reuse::Multiplex,
                max_per_destination: 1,
                max_concurrent_streams: u32::MAX,
                idle_timeout: 60_000_000_000,
                max_lifetime: None,
                tcp_fast_open: false,
                prewarm: true,
            },
            resumption: Resumption {
                enabled: false,
                ticket_ttl: 0,
                early_data: false,
                cache: TicketCache::PerReplica,
            },
            identity: Identity {
                cert_ttl: 86_400_000_000_000,
                renew_ratio: 0.5,
                renew_jitter: 0.0,
                rotation_closes_connections: false,
                token: None,
            },
            proxy: Proxy {
                mode: ProxyMode::None,
                cost: ProxyCost {
                    request_cpu: Dist::ZERO,
                    ns_per_byte: 0.0,
                    off_path: 0.0,
                    cores: Millicores::ONE,
                },
                shares_service_cores: false,
                nodes_per_zone: 3,
                waypoint: None,
            },
            authn: Authn {
                jwt: None,
                verify_cpu: 0,
                scope: Scope::EveryHop,
                cache_ttl: 0,
            },
            authz: Authz {
                mode: AuthzMode::None,
                eval_cpu: Dist::ZERO,
                scope: Scope::EveryHop,
                cache_ttl: 0,
                sidecar_cores: Millicores::ONE,
                policy: None,
            },
        }
    }

    /// This design with every value the simulation never reads, given the
    /// rest, set to the baseline's: two designs with equal effective forms
    /// run identically on one topology and seed. A study compares them to
    /// find points that are one system (a swept `resumption.ticket_ttl` on a
    /// plaintext design). Only what the simulation provably skips is reset:
    /// each [`Part`] that [`Design::off`] says is off.
    pub fn effective(&self) -> Design {
        let base = Design::plaintext();
        let mut d = self.clone();
        for part in Part::ALL {
            if self.off(part).is_empty() {
                continue;
            }
            match part {
                Part::Tls => {
                    d.transport = Transport {
                        security: d.transport.security,
                        terminate: d.transport.terminate,
                        ..base.transport.clone()
                    }
                }
                Part::ClientFinish => {
                    d.transport.cpu.client_finish = base.transport.cpu.client_finish;
                }
                Part::Streams => {
                    d.connections.max_concurrent_streams = base.connections.max_concurrent_streams;
                }
                Part::PoolSize => {
                    d.connections.max_per_destination = base.connections.max_per_destination;
                }
                Part::Resumption => d.resumption = base.resumption,
                Part::Proxy => d.proxy = base.proxy.clone(),
                Part::Authz => d.authz = base.authz.clone(),
                Part::PolicySidecar => d.authz.sidecar_cores = base.authz.sidecar_cores,
                Part::PolicyCpu => d.authz.eval_cpu = base.authz.eval_cpu.clone(),
                Part::Authn => d.authn = base.authn,
            }
        }
        if let Some(o) = &mut d.overrides {
            o.designs = o.designs.iter().map(Design::effective).collect();
        }
        d
    }

    /// Every reason the simulation never reads `part` of this design (empty
    /// when it may): the one rule behind [`Design::effective`] and the
    /// warnings about keys a design file sets to no effect.
    pub fn off(&self, part: Part) -> Vec<Off> {
        let mut off = Vec::new();
        let plaintext = self.transport.security == Security::Plaintext;
        let policy = self.authz.mode;
        match part {
            // A hop is encrypted only if its callee speaks TLS
            // (`hop_security`), and only an encrypted hop reads the
            // callee's TLS settings; `terminate` places sidecars even so.
            Part::Tls => {
                if plaintext {
                    off.push(Off::Plaintext);
                }
            }
            // `client_finish_cpu` reads it for TLS 1.2 only.
            Part::ClientFinish => {
                if !plaintext && self.transport.version == TlsVersion::V13 {
                    off.push(Off::Tls13);
                }
            }
            // Resolved to 1 unless multiplexed, so already equal.
            Part::Streams => {
                if self.connections.reuse != Reuse::Multiplex {
                    off.push(Off::OneStream(self.connections.reuse));
                }
            }
            // `acquire` opens a connection of its own for every call
            // before it looks at a pool (an external service's pool has
            // its own bound).
            Part::PoolSize => {
                if self.connections.reuse == Reuse::PerRequest {
                    off.push(Off::PerRequest);
                }
            }
            // `choose_handshake` runs only on an encrypted hop and returns
            // at once when tickets are off.
            Part::Resumption => {
                if plaintext {
                    off.push(Off::Plaintext);
                }
                if !self.resumption.enabled {
                    off.push(Off::NoTickets);
                }
            }
            Part::Proxy => {
                if self.proxy.mode == ProxyMode::None
                    && self.transport.terminate == Termination::Library
                    && self.proxy.waypoint.is_none()
                {
                    off.push(Off::NoProxy);
                }
            }
            Part::Authz => {
                if policy == AuthzMode::None {
                    off.push(Off::NoPolicy);
                }
            }
            // `deploy` gives policy sidecars cores only in that mode.
            Part::PolicySidecar => {
                if !matches!(policy, AuthzMode::None | AuthzMode::Sidecar) {
                    off.push(Off::NoPolicySidecar(policy));
                }
            }
            // `eval_cpu` is charged in process, in the proxy or in the
            // policy sidecar; a remote decision costs the policy service's
            // endpoint.
            Part::PolicyCpu => {
                if policy == AuthzMode::Remote {
                    off.push(Off::RemotePolicy);
                }
            }
            // `verify_jwt` returns at once without an algorithm.
            Part::Authn => {
                if self.authn.jwt.is_none() {
                    off.push(Off::NoJwt);
                }
            }
        }
        off
    }

    /// The design that applies to service `s`.
    pub fn of(&self, s: ServiceId) -> &Design {
        match &self.overrides {
            Some(o) => match o.of_service.get(s as usize).copied().flatten() {
                Some(i) => &o.designs[i as usize],
                None => self,
            },
            None => self,
        }
    }

    /// This design and every design of its overrides.
    pub fn all(&self) -> impl Iterator<Item = &Design> {
        std::iter::once(self).chain(self.overrides.iter().flat_map(|o| o.designs.iter()))
    }

    /// The design whose node proxies run, if any design of `all` uses them
    /// (the first: all that do run the same ones, as `config` checks).
    pub fn node_proxies(&self) -> Option<&Design> {
        self.all().find(|d| d.proxy.mode == ProxyMode::Node)
    }

    /// The security this design's side speaks on a hop from the client
    /// (`from_client`) or between services.
    pub fn speaks(&self, from_client: bool) -> Security {
        if self.encrypts(from_client) {
            self.transport.security
        } else {
            Security::Plaintext
        }
    }

    /// True if this design's side secures a hop from the client
    /// (`from_client`) or between services.
    pub fn encrypts(&self, from_client: bool) -> bool {
        self.transport.security != Security::Plaintext
            && (from_client || self.transport.scope == Scope::EveryHop)
    }
}

/// How a hop is secured when its caller runs under `caller` and its callee
/// under `callee` (docs/design.md, "Services under different designs"):
/// None when the callee refuses it. A callee that speaks plaintext gets
/// plaintext (a mesh caller's proxy sends it so); a caller that speaks at
/// least the callee's security gets the callee's; a weaker caller is
/// accepted as it speaks by a permissive callee and refused by a strict one.
pub fn hop_security(caller: &Design, callee: &Design, from_client: bool) -> Option<Security> {
    let (a, b) = (caller.speaks(from_client), callee.speaks(from_client));
    if b == Security::Plaintext || a >= b {
        Some(b)
    } else if callee.mode == Mode::Permissive {
        Some(a)
    } else {
        None
    }
}
