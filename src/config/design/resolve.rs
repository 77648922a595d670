//! The [`Resolver`]: a design file's form checked key by key against the
//! topology it will run on, each table resolved by its own step (in file
//! order, so problems are reported in the order a reader meets them), and
//! every default cost filled in where the file leaves it out.

use super::costs::{US, finish_of, finish_share, handshake_cpu};
use super::file::{
    AuthnFile, AuthzFile, AuthzModeFile, CertificateFile, ConnectionsFile, DesignFile,
    IdentityFile, JwtFile, KeyExchangeFile, ModeFile, ProxyFile, ProxyModeFile, ResumptionFile,
    ReuseFile, ScopeFile, SecurityFile, TerminateFile, TicketCacheFile, TransportFile, VersionFile,
};
use crate::config::diag::{Diagnostic, KeyPath, Source, did_you_mean};
use crate::config::dist::{DistSpec, MAX_MEAN_NS};
use crate::config::profile::CostProfile;
use crate::model::design::{
    Authn, Authz, AuthzMode, Connections, Design, HandshakeCpu, Identity, JwtAlgorithm, Mode,
    Proxy, ProxyCost, ProxyMode, Resumption, Reuse, Scope, Security, Termination, TicketCache,
    TlsVersion, Token, Transport, Waypoint,
};
use crate::model::dist::Dist;
use crate::model::topology::{EndpointId, Topology};
use crate::units::{CoresText, Dur, Millicores, Nanos, format_nanos};

/// Collects every problem of one design file while resolving it.
pub(super) struct Resolver<'s> {
    pub(super) src: &'s Source,
    pub(super) errors: Vec<Diagnostic>,
    /// The measured costs that replace the published defaults.
    pub(super) profile: Option<&'s CostProfile>,
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

    /// Cores (`2`, `0.5`, `"500m"`), `default` when absent or refused.
    fn cores(&mut self, v: Option<&CoresText>, default: Millicores, path: KeyPath) -> Millicores {
        match v.map(CoresText::check) {
            None => default,
            Some(Ok(m)) => m,
            Some(Err(why)) => {
                self.error(&path, why);
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

    pub(super) fn resolve(
        &mut self,
        raw: DesignFile,
        stem: String,
        topo: Option<&Topology>,
    ) -> Design {
        if let Some(name) = &raw.name
            && let Some(m) = crate::config::name_problem("design", name, false)
        {
            self.error(&KeyPath::root().key("name"), m);
        }
        self.cpu_costs(&raw);
        let proxy_mode = proxy_mode(raw.proxy.mode);
        let transport = self.transport(&raw.transport, proxy_mode);
        let connections = self.connections(&raw.connections);
        let resumption = self.resumption(&raw.resumption, transport.version);
        let identity = self.identity(&raw.identity, topo);
        let proxy = self.proxy(&raw.proxy, proxy_mode);
        let authn = authn(&raw.authn, self.profile);
        let authz = self.authz(&raw.authz, proxy_mode, topo);
        Design {
            name: raw.name.unwrap_or(stem),
            mode: match raw.mode {
                None | Some(ModeFile::Permissive) => Mode::Permissive,
                Some(ModeFile::Strict) => Mode::Strict,
            },
            overrides: None,
            transport,
            connections,
            resumption,
            identity,
            proxy,
            authn,
            authz,
        }
    }

    /// CPU costs given as plain durations stop where a distribution's mean
    /// does ([`MAX_MEAN_NS`], about 11.6 days): no handshake or check takes
    /// that long, so a longer one is a unit's typo, not a cost.
    fn cpu_costs(&mut self, raw: &DesignFile) {
        let c = &raw.transport.cpu;
        let waypoint = raw.proxy.waypoint.as_ref().and_then(|w| w.cpu_per_kib);
        let costs = [
            ("transport.cpu.client_full", c.client_full),
            ("transport.cpu.server_full", c.server_full),
            ("transport.cpu.server_finish", c.server_finish),
            ("transport.cpu.client_finish", c.client_finish),
            ("transport.cpu.client_resumed", c.client_resumed),
            ("transport.cpu.server_resumed", c.server_resumed),
            ("transport.cpu.mtls_client", c.mtls_client),
            ("transport.cpu.mtls_server", c.mtls_server),
            ("transport.cpu.hello_retry", c.hello_retry),
            ("proxy.cpu_per_kib", raw.proxy.cpu_per_kib),
            ("proxy.waypoint.cpu_per_kib", waypoint),
            ("authn.verify_cpu", raw.authn.verify_cpu),
        ];
        for (path, cost) in costs {
            if let Some(d) = cost.filter(|d| d.0 as f64 > MAX_MEAN_NS) {
                let at = path.split('.').fold(KeyPath::root(), |k, p| k.key(p));
                self.error(
                    &at,
                    format!(
                        "a CPU cost of {}: beyond {} days, no handshake or check takes that long; check its units",
                        format_nanos(d.0 as f64),
                        (MAX_MEAN_NS / 86_400e9).round()
                    ),
                );
            }
        }
    }

    /// `[transport]`: security, where TLS terminates, the handshake's choices
    /// and CPU, bulk encryption.
    fn transport(&mut self, t: &TransportFile, proxy_mode: ProxyMode) -> Transport {
        let security = match t.security.unwrap_or(SecurityFile::Plaintext) {
            SecurityFile::Plaintext => Security::Plaintext,
            SecurityFile::Tls => Security::Tls,
            SecurityFile::Mtls => Security::Mtls,
        };
        let terminate = self.termination(t.terminate, proxy_mode);
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
        let cpu = self.handshake_cpu(t, version, kx, cert);
        let hello_retry = self.fraction(
            t.hello_retry_rate,
            0.0,
            key("transport", "hello_retry_rate"),
            false,
        );
        // AES-128-GCM, 6.6-8.3 GB/s per core (rustls perf report): 7.5 GB/s,
        // unless a profile measured it.
        let bulk_default = self.profile.map_or(7.5, CostProfile::bulk_gb_per_s);
        let bulk = match t.bulk_gb_per_s {
            None => bulk_default,
            Some(g) if g.is_finite() && g > 0.0 => g,
            Some(g) => {
                self.error(
                    &key("transport", "bulk_gb_per_s"),
                    format!("must be a positive number of GB/s per core, got {g}"),
                );
                bulk_default
            }
        };
        // X25519MLKEM768 key shares: 1,216 B from the client, 1,120 B back
        // (draft-ietf-tls-ecdhe-mlkem), against 32 B for X25519.
        let (ch_bytes, sh_bytes) = if kx == "x25519mlkem768" {
            (1216, 1120)
        } else {
            (32, 32)
        };
        Transport {
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
        }
    }

    /// Where TLS terminates: where the proxy is, in the library without one.
    fn termination(
        &mut self,
        terminate: Option<TerminateFile>,
        proxy_mode: ProxyMode,
    ) -> Termination {
        match (terminate, proxy_mode) {
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
        }
    }

    /// The handshake CPU: the published defaults for the choices, replaced by
    /// a profile's measured figures, then any figure the file sets itself.
    fn handshake_cpu(
        &mut self,
        t: &TransportFile,
        version: TlsVersion,
        kx: &str,
        cert: &str,
    ) -> HandshakeCpu {
        let chain = self.count(t.chain_length, 2, 1, key("transport", "chain_length"));
        let mut cpu = handshake_cpu(version, kx, cert, chain, self.profile);
        // A `server_full` (`client_full`) of the file's own keeps the
        // default (or measured) share on the peer's last flight.
        let share = if cpu.server_full == 0 {
            finish_share(version)
        } else {
            cpu.server_finish as f64 / cpu.server_full as f64
        };
        let client_share = if cpu.client_full == 0 {
            0.0
        } else {
            (cpu.client_finish as f64 / cpu.client_full as f64).min(1.0)
        };
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
        cpu.server_finish = self
            .last_flight_part("server", c.server_finish, cpu.server_full)
            .unwrap_or_else(|| finish_of(cpu.server_full, share));
        cpu.client_finish = self
            .last_flight_part("client", c.client_finish, cpu.client_full)
            .unwrap_or_else(|| finish_of(cpu.client_full, client_share));
        cpu
    }

    /// `[transport.cpu] <side>_finish`, the part of `<side>_full` (`full`)
    /// spent on the peer's last flight: the file's value if any; a value
    /// above `full` is refused and `full` stands in.
    fn last_flight_part(&mut self, side: &str, part: Option<Dur>, full: Nanos) -> Option<Nanos> {
        let d = part?;
        if d.0 <= full {
            return Some(d.0);
        }
        let peer = if side == "server" { "client" } else { "server" };
        self.error(
            &KeyPath::root()
                .key("transport")
                .key("cpu")
                .key(&format!("{side}_finish")),
            format!(
                "is the part of `{side}_full` spent on the {peer}'s last flight, so at most {} here, got {}",
                format_nanos(full as f64),
                format_nanos(d.0 as f64)
            ),
        );
        Some(full)
    }

    /// `[connections]`: reuse, pool bounds, timeouts, prewarming.
    fn connections(&mut self, k: &ConnectionsFile) -> Connections {
        let base = Design::plaintext();
        let reuse = match k.reuse.unwrap_or(ReuseFile::Pool) {
            ReuseFile::PerRequest => Reuse::PerRequest,
            ReuseFile::Pool => Reuse::Pool,
            ReuseFile::Multiplex => Reuse::Multiplex,
        };
        // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS, commonly 100 (Envoy, Go);
        // checked whatever the reuse, one stream each unless multiplexed.
        let streams = self.count(
            k.max_concurrent_streams,
            100,
            1,
            key("connections", "max_concurrent_streams"),
        );
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
            max_concurrent_streams: if reuse == Reuse::Multiplex {
                streams
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
        connections
    }

    /// `[resumption]`: session tickets and 0-RTT.
    fn resumption(&mut self, r: &ResumptionFile, version: TlsVersion) -> Resumption {
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
        resumption
    }

    /// `[identity]`: certificate rotation and caller tokens.
    fn identity(&mut self, i: &IdentityFile, topo: Option<&Topology>) -> Identity {
        let base = Design::plaintext();
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
        let ttl = identity_cert_ttl(i) as f64;
        let ratio = i.renew_ratio.filter(|x| *x > 0.0 && *x <= 1.0);
        if ttl * ratio.unwrap_or(0.5) < 1e9 && (ratio.is_some() || i.renew_ratio.is_none()) {
            // Blame the ratio when the TTL renews slowly enough at the
            // default ratio; else the TTL itself is too short.
            let culprit = if ratio.is_some() && ttl * 0.5 >= 1e9 {
                "renew_ratio"
            } else {
                "cert_ttl"
            };
            self.error(
                &key("identity", culprit),
                "certificates would renew more often than once a second (cert_ttl x renew_ratio); no deployment rotates that fast",
            );
        }
        Identity {
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
        }
    }

    /// `[proxy]`: the proxies' mode and costs, and an optional waypoint.
    fn proxy(&mut self, p: &ProxyFile, proxy_mode: ProxyMode) -> Proxy {
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
                off_path: 0.0,
                cores: self.cores(
                    w.cores.as_ref(),
                    Millicores::whole(2),
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
                off_path: self.fraction(
                    p.off_path_fraction,
                    0.0,
                    key("proxy", "off_path_fraction"),
                    true,
                ),
                cores: self.cores(
                    p.cores.as_ref(),
                    Millicores::whole(2),
                    key("proxy", "cores"),
                ),
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
        proxy
    }

    /// `[authz]`: where policy is decided and what a decision costs.
    fn authz(&mut self, z: &AuthzFile, proxy_mode: ProxyMode, topo: Option<&Topology>) -> Authz {
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
        Authz {
            mode,
            // OPA in-process: 36 us median, 134 us p99 (`opa bench`, RBAC),
            // unless a profile measured Rego (regorus) on its RBAC policy.
            eval_cpu: self.dist(
                z.eval_cpu.as_ref(),
                self.profile.map_or_else(
                    || Dist::lognormal_median_p99(36_000.0, 134_000.0),
                    |p| p.authz_eval().clone(),
                ),
                key("authz", "eval_cpu"),
            ),
            scope: scope(z.scope),
            cache_ttl: z.cache_ttl.map_or(0, |d| d.0),
            sidecar_cores: self.cores(
                z.sidecar_cores.as_ref(),
                Millicores::ONE,
                key("authz", "sidecar_cores"),
            ),
            policy,
        }
    }
}

/// `[proxy] mode`, needed before `[transport]` (TLS terminates in the proxy).
fn proxy_mode(mode: Option<ProxyModeFile>) -> ProxyMode {
    match mode.unwrap_or(ProxyModeFile::None) {
        ProxyModeFile::None => ProxyMode::None,
        ProxyModeFile::Sidecar => ProxyMode::Sidecar,
        ProxyModeFile::Node => ProxyMode::Node,
    }
}

/// `[authn]`: JWT verification of callers (no checks: every value is valid).
fn authn(a: &AuthnFile, profile: Option<&CostProfile>) -> Authn {
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
    // A profile's measured mean, where it measured the algorithm (not HS256).
    let verify_default = jwt
        .and_then(|alg| profile?.jwt_verify_ns(alg))
        .map_or(verify_default, |ns| ns.round() as Nanos);
    Authn {
        jwt,
        verify_cpu: a.verify_cpu.map_or(verify_default, |d| d.0),
        scope: scope(a.scope),
        cache_ttl: a.cache_ttl.map_or(0, |d| d.0),
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
