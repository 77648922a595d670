//! TLS handshakes with rustls (aws-lc-rs provider), driven in memory: the
//! client's and the server's state machines exchange flights through byte
//! buffers, no sockets, and each side's processing is timed on its own.

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::crypto::{CryptoProvider, SupportedKxGroup, aws_lc_rs};
use rustls::pki_types::ServerName;
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, ClientConnection, HandshakeKind, RootCertStore, ServerConfig, ServerConnection,
    SupportedProtocolVersion,
};

use crate::pki::{Identity, KeyAlgorithm};
use crate::sample::{CpuTime, since};
use crate::{Budget, LabError, Summary, fail, measure};

/// The name the server's leaf certificate carries and the client asks for.
pub const SERVER_NAME: &str = "server.ztsim-lab.test";

/// TLS versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Tls12,
    Tls13,
}

impl Version {
    /// As a ztsim design writes it (`transport.tls_version`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Tls12 => "1.2",
            Self::Tls13 => "1.3",
        }
    }

    fn rustls(self) -> &'static SupportedProtocolVersion {
        match self {
            Self::Tls12 => &rustls::version::TLS12,
            Self::Tls13 => &rustls::version::TLS13,
        }
    }
}

/// Key-exchange groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyExchange {
    X25519,
    P256,
    /// The post-quantum hybrid (TLS 1.3 only).
    X25519MlKem768,
}

impl KeyExchange {
    pub const ALL: [KeyExchange; 3] = [Self::X25519, Self::P256, Self::X25519MlKem768];

    /// As a ztsim design writes it (`transport.key_exchange`).
    pub fn name(self) -> &'static str {
        match self {
            Self::X25519 => "x25519",
            Self::P256 => "p256",
            Self::X25519MlKem768 => "x25519mlkem768",
        }
    }

    /// Whether rustls offers this group with this version (the hybrid is a
    /// TLS 1.3 key share only).
    pub fn works_with(self, v: Version) -> bool {
        !(self == Self::X25519MlKem768 && v == Version::Tls12)
    }

    fn group(self) -> &'static dyn SupportedKxGroup {
        match self {
            Self::X25519 => aws_lc_rs::kx_group::X25519,
            Self::P256 => aws_lc_rs::kx_group::SECP256R1,
            Self::X25519MlKem768 => aws_lc_rs::kx_group::X25519MLKEM768,
        }
    }
}

/// One kind of handshake: the choices a ztsim design makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Setup {
    pub version: Version,
    pub kx: KeyExchange,
    pub cert: KeyAlgorithm,
    /// Certificates each peer verifies (leaf + intermediates), 1 to 4.
    pub chain: usize,
    /// The client presents a certificate too.
    pub mutual: bool,
}

/// A client and a server configured for one [`Setup`], ready to open
/// connections (also what a loopback testbed would serve and dial).
pub struct Endpoints {
    pub client: Arc<ClientConfig>,
    pub server: Arc<ServerConfig>,
}

/// The aws-lc-rs provider, offering only `kx` (so the client's single key
/// share is always the one the server picks: no HelloRetryRequest).
fn provider(kx: KeyExchange) -> Arc<CryptoProvider> {
    let mut p = aws_lc_rs::default_provider();
    p.kx_groups = vec![kx.group()];
    Arc::new(p)
}

impl Endpoints {
    /// Issues fresh chains and builds both configurations; `resumption` turns
    /// on the client's session cache and the server's ticketer.
    pub fn new(setup: Setup, resumption: bool) -> Result<Endpoints, LabError> {
        if !setup.kx.works_with(setup.version) {
            return Err(LabError(format!(
                "{} is not offered with TLS {}",
                setup.kx.name(),
                setup.version.name()
            )));
        }
        let server_id = Identity::issue(setup.cert, setup.chain, SERVER_NAME)?;
        let p = provider(setup.kx);
        let versions = [setup.version.rustls()];
        let mut roots = RootCertStore::empty();
        roots
            .add(server_id.root.clone())
            .map_err(|e| fail("trusting the server root", e))?;
        let client = ClientConfig::builder_with_provider(p.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| fail("client versions", e))?
            .with_root_certificates(roots);
        let server = ServerConfig::builder_with_provider(p.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| fail("server versions", e))?;
        let (mut client, server) = if setup.mutual {
            let client_id = Identity::issue(setup.cert, setup.chain, "client.ztsim-lab.test")?;
            let mut client_roots = RootCertStore::empty();
            client_roots
                .add(client_id.root.clone())
                .map_err(|e| fail("trusting the client root", e))?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(client_roots), p)
                .build()
                .map_err(|e| fail("client verifier", e))?;
            let client = client
                .with_client_auth_cert(client_id.chain.clone(), client_id.private_key())
                .map_err(|e| fail("client certificate", e))?;
            (client, server.with_client_cert_verifier(verifier))
        } else {
            (client.with_no_client_auth(), server.with_no_client_auth())
        };
        let mut server = server
            .with_single_cert(server_id.chain.clone(), server_id.private_key())
            .map_err(|e| fail("server certificate", e))?;
        if resumption {
            server.ticketer = aws_lc_rs::Ticketer::new().map_err(|e| fail("ticketer", e))?;
        } else {
            client.resumption = Resumption::disabled();
        }
        Ok(Endpoints {
            client: Arc::new(client),
            server: Arc::new(server),
        })
    }

    /// One handshake in memory; returns its CPU and the kind of handshake
    /// that happened. Post-handshake messages (TLS 1.3 tickets) are
    /// exchanged and counted too.
    pub fn handshake(&self) -> Result<(Cpu, HandshakeKind), LabError> {
        let name = ServerName::try_from(SERVER_NAME).map_err(|e| fail("server name", e))?;
        let t = CpuTime::now();
        let mut client = ClientConnection::new(self.client.clone(), name)
            .map_err(|e| fail("client connection", e))?;
        let mut client_ns = since(t);
        let t = CpuTime::now();
        let mut server =
            ServerConnection::new(self.server.clone()).map_err(|e| fail("server connection", e))?;
        let mut server_ns = since(t);
        // The server's CPU from the client's latest flight on, and the
        // client's on the server's latest flight.
        let mut server_last_ns = 0.0;
        let mut client_last_ns = 0.0;
        let mut wire = Vec::with_capacity(16 * 1024);
        // A handshake is a few flights; 32 exchanges bound a broken one.
        for _ in 0..32 {
            let mut moved = false;
            if client.wants_write() {
                wire.clear();
                let t = CpuTime::now();
                client
                    .write_tls(&mut wire)
                    .map_err(|e| fail("client write", e))?;
                client_ns += since(t);
                let t = CpuTime::now();
                feed(&mut server, &wire)?;
                server_last_ns = since(t);
                server_ns += server_last_ns;
                moved = true;
            }
            if server.wants_write() {
                wire.clear();
                let t = CpuTime::now();
                server
                    .write_tls(&mut wire)
                    .map_err(|e| fail("server write", e))?;
                let spent = since(t);
                server_ns += spent;
                server_last_ns += spent;
                let t = CpuTime::now();
                feed(&mut client, &wire)?;
                client_last_ns = since(t);
                client_ns += client_last_ns;
                moved = true;
            }
            if !moved {
                if client.is_handshaking() || server.is_handshaking() {
                    return Err(LabError("the handshake stalled".into()));
                }
                let kind = client
                    .handshake_kind()
                    .ok_or_else(|| LabError("the handshake did not finish".into()))?;
                let cpu = Cpu {
                    client_ns,
                    server_ns,
                    server_last_ns,
                    client_last_ns,
                };
                return Ok((cpu, kind));
            }
        }
        Err(LabError(
            "the handshake did not finish in 32 exchanges".into(),
        ))
    }
}

/// Hands `bytes` to a connection and lets it process them.
fn feed<C, S>(conn: &mut C, mut bytes: &[u8]) -> Result<(), LabError>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>>,
{
    while !bytes.is_empty() {
        conn.read_tls(&mut bytes).map_err(|e| fail("read", e))?;
        conn.process_new_packets()
            .map_err(|e| fail("handshake message", e))?;
    }
    Ok(())
}

/// One handshake's CPU (ns).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cpu {
    pub client_ns: f64,
    pub server_ns: f64,
    /// The part of `server_ns` spent on the client's last flight and the
    /// server's answer to it (TLS 1.2: the key exchange's shared secret and
    /// both Finished; TLS 1.3: the client's Finished and the tickets).
    pub server_last_ns: f64,
    /// The part of `client_ns` spent on the server's last flight (TLS 1.2:
    /// its ChangeCipherSpec and Finished; TLS 1.3: the tickets after the
    /// handshake).
    pub client_last_ns: f64,
}

/// Per-side CPU of one kind of handshake.
#[derive(Debug, Clone, PartialEq)]
pub struct Sides {
    pub client: Summary,
    pub server: Summary,
    /// The server's CPU on the client's last flight (part of `server`).
    pub server_last: Summary,
    /// The client's CPU on the server's last flight (part of `client`).
    pub client_last: Summary,
}

/// Full handshakes (no resumption) of `setup`, each side timed.
pub fn full(setup: Setup, budget: &Budget) -> Result<Sides, LabError> {
    let ends = Endpoints::new(setup, false)?;
    sides(budget, || {
        let (cpu, kind) = ends.handshake()?;
        expect(kind, HandshakeKind::Full)?;
        Ok(cpu)
    })
}

/// Resumed handshakes (session tickets) of `setup`: each timed one resumes
/// from the ticket the previous handshake left.
pub fn resumed(setup: Setup, budget: &Budget) -> Result<Sides, LabError> {
    let ends = Endpoints::new(setup, true)?;
    ends.handshake()?; // the first, full, handshake leaves the ticket
    sides(budget, || {
        let (cpu, kind) = ends.handshake()?;
        expect(kind, HandshakeKind::Resumed)?;
        Ok(cpu)
    })
}

fn expect(got: HandshakeKind, want: HandshakeKind) -> Result<(), LabError> {
    if got == want {
        Ok(())
    } else {
        Err(LabError(format!(
            "expected a {want:?} handshake, rustls did a {got:?} one"
        )))
    }
}

/// Samples both sides of the same handshakes.
fn sides(
    budget: &Budget,
    mut once: impl FnMut() -> Result<Cpu, LabError>,
) -> Result<Sides, LabError> {
    let mut server = Vec::with_capacity(budget.samples + budget.warmup);
    let mut server_last = Vec::with_capacity(budget.samples + budget.warmup);
    let mut client_last = Vec::with_capacity(budget.samples + budget.warmup);
    let client = measure(budget, || {
        let cpu = once()?;
        server.push(cpu.server_ns);
        server_last.push(cpu.server_last_ns);
        client_last.push(cpu.client_last_ns);
        Ok(cpu.client_ns)
    })?;
    // `measure` ran the warm-up first: keep the server samples of the same
    // handshakes the client's summary kept.
    let kept = |v: &[f64]| {
        Summary::of(&v[v.len() - client.samples..])
            .ok_or_else(|| LabError("no server samples".into()))
    };
    Ok(Sides {
        server: kept(&server)?,
        server_last: kept(&server_last)?,
        client_last: kept(&client_last)?,
        client,
    })
}
