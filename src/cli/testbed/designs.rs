//! The testbed's designs: each a TLS setting, a connection policy and
//! whether the server checks a JWT and asks Rego, with the real system's
//! configuration and ztsim's model of it built from the same figures.

use ztsim::study::testbed::{self as model, HandshakeNs};
use ztsim_lab::pki::KeyAlgorithm;
use ztsim_lab::tls::{KeyExchange, Setup, Version};

/// Most connections the client's keep-alive pool opens (ztsim's
/// `max_per_destination` for pools; Envoy's default circuit breaker).
pub const MAX_POOL: usize = 1024;

/// One testbed design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestbedDesign {
    pub name: &'static str,
    /// TLS version and mutual, or plaintext.
    pub tls: Option<(Version, bool)>,
    pub keep_alive: bool,
    pub tickets: bool,
    /// ES256 JWT verification and a Rego RBAC decision per request.
    pub checks: bool,
}

const fn d(
    name: &'static str,
    tls: Option<(Version, bool)>,
    keep_alive: bool,
    tickets: bool,
    checks: bool,
) -> TestbedDesign {
    TestbedDesign {
        name,
        tls,
        keep_alive,
        tickets,
        checks,
    }
}

const V12: Version = Version::Tls12;
const V13: Version = Version::Tls13;

/// Every design, in the order they are run and charted. Each `-authz`
/// design is its base plus the JWT and the in-process policy.
pub const ALL: [TestbedDesign; 16] = [
    d("plain-ka", None, true, false, false),
    d("tls13-ka", Some((V13, false)), true, false, false),
    d("tls13-full", Some((V13, false)), false, false, false),
    d("tls12-full", Some((V12, false)), false, false, false),
    d("tls13-resumed", Some((V13, false)), false, true, false),
    d("mtls13-full", Some((V13, true)), false, false, false),
    d("mtls12-full", Some((V12, true)), false, false, false),
    d("mtls13-resumed", Some((V13, true)), false, true, false),
    d("plain-ka-authz", None, true, false, true),
    d("tls13-ka-authz", Some((V13, false)), true, false, true),
    d("tls13-full-authz", Some((V13, false)), false, false, true),
    d("tls12-full-authz", Some((V12, false)), false, false, true),
    d("tls13-resumed-authz", Some((V13, false)), false, true, true),
    d("mtls13-full-authz", Some((V13, true)), false, false, true),
    d("mtls12-full-authz", Some((V12, true)), false, false, true),
    d("mtls13-resumed-authz", Some((V13, true)), false, true, true),
];

/// `--quick`: a keep-alive and a per-request TLS design.
pub const QUICK: [&str; 2] = ["plain-ka", "tls13-full"];

/// The rustls setup of a TLS design: x25519, ECDSA P-256, a chain of 2.
pub fn setup(version: Version, mutual: bool) -> Setup {
    Setup {
        version,
        kx: KeyExchange::X25519,
        cert: KeyAlgorithm::EcdsaP256,
        chain: 2,
        mutual,
    }
}

/// The figures measured before the designs run.
#[derive(Debug, Clone)]
pub struct Costs {
    /// Handshake CPU per TLS version (as `[transport.cpu]` takes it), with
    /// the server's accept and close of a connection folded into its side.
    pub tls12: HandshakeNs,
    pub tls13: HandshakeNs,
    pub jwt_verify_ns: f64,
    pub policy_median_ns: f64,
    pub policy_p99_ns: f64,
    pub policy_mean_ns: f64,
}

impl TestbedDesign {
    /// ztsim's model of this design.
    pub fn model(&self, c: &Costs) -> model::Design {
        model::Design {
            name: self.name.to_string(),
            tls: self.tls.map(|(v, mutual)| model::Tls {
                version: v.name(),
                mutual,
                cpu: if v == V12 { c.tls12 } else { c.tls13 },
            }),
            keep_alive: self.keep_alive,
            max_pool: MAX_POOL,
            tickets: self.tickets,
            checks: self.checks.then_some(model::Checks {
                jwt_verify_ns: c.jwt_verify_ns,
                policy_median_ns: c.policy_median_ns,
                policy_p99_ns: c.policy_p99_ns,
            }),
        }
    }

    /// Server CPU per request as the figures add up (the handler and IO
    /// given): what sets the rates run.
    pub fn server_ns(&self, c: &Costs, base_ns: f64) -> f64 {
        let hs = self.tls.map_or(0.0, |(v, mutual)| {
            let h = if v == V12 { c.tls12 } else { c.tls13 };
            match (self.keep_alive, self.tickets) {
                (true, _) => 0.0,
                (false, true) => h.server_resumed,
                (false, false) => h.server_full + if mutual { h.mtls_server } else { 0.0 },
            }
        });
        let checks = if self.checks {
            c.jwt_verify_ns + c.policy_mean_ns
        } else {
            0.0
        };
        base_ns + hs + checks
    }
}

impl TestbedDesign {
    /// Load generator CPU per request that ztsim's model of the design
    /// already charges (the client side of the handshake).
    pub fn client_ns(&self, c: &Costs) -> f64 {
        self.tls.map_or(0.0, |(v, mutual)| {
            let h = if v == V12 { c.tls12 } else { c.tls13 };
            match (self.keep_alive, self.tickets) {
                (true, _) => 0.0,
                (false, true) => h.client_resumed,
                (false, false) => h.client_full + if mutual { h.mtls_client } else { 0.0 },
            }
        })
    }
}

/// The design named `name`.
pub fn by_name(name: &str) -> Option<TestbedDesign> {
    ALL.iter().copied().find(|d| d.name == name)
}
