//! Cost profiles (`costs/<host>.toml`): the CPU costs `ztsim calibrate`
//! measured on one host with real libraries. This module reads and checks a
//! profile (every problem located by file, line and key) and answers what a
//! design takes from it; `config::design` applies it below the design's own
//! explicit values and above the published defaults.

mod file;

use std::path::Path;

use self::file::{
    CertsFile, FormatOnly, HandshakeFigures, PoliciesFile, ProfileFile, RecordsFile, SignVerifyFile,
};
use super::diag::{Diagnostic, KeyPath, Source};
use super::dist::DistSpec;
use crate::model::design::{JwtAlgorithm, TlsVersion};
use crate::model::dist::Dist;

/// The profile format this ztsim reads and `ztsim calibrate` writes.
pub const FORMAT: i64 = 1;

/// One handshake kind's measured per-side CPU (chain of 2 certificates).
#[derive(Debug, Clone, PartialEq)]
pub struct HandshakeCosts {
    /// The TLS version.
    pub version: TlsVersion,
    /// "x25519", "p256" or "x25519mlkem768", as designs name them.
    pub kx: &'static str,
    /// "ecdsa-p256", "rsa-2048" or "ed25519".
    pub cert: &'static str,
    /// Client side of a full one-way handshake.
    pub client_full: Dist,
    /// Server side of a full one-way handshake.
    pub server_full: Dist,
    /// The part of `server_full` spent on the client's last flight, if the
    /// profile measured it.
    pub server_full_finish: Option<Dist>,
    /// TLS 1.2 only: the part of `client_full` spent on the server's last
    /// flight (its ChangeCipherSpec and Finished), if the profile measured it.
    pub client_full_finish: Option<Dist>,
    /// Client side of a full mutual handshake.
    pub client_full_mutual: Dist,
    /// Server side of a full mutual handshake.
    pub server_full_mutual: Dist,
    /// Client side of a resumed (ticket) handshake.
    pub client_resumed: Dist,
    /// Server side of a resumed (ticket) handshake.
    pub server_resumed: Dist,
}

/// Sealing and opening one record of one cipher.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordCosts {
    /// "aes-128-gcm", "aes-256-gcm" or "chacha20-poly1305".
    pub cipher: &'static str,
    /// Record size in bytes.
    pub bytes: u64,
    /// Encrypting it (the sender).
    pub seal: Dist,
    /// Decrypting and authenticating it (the receiver).
    pub open: Dist,
}

/// Signing and verifying one JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtCosts {
    /// The signature algorithm.
    pub alg: JwtAlgorithm,
    /// Signing a token.
    pub sign: Dist,
    /// Verifying a token and its claims.
    pub verify: Dist,
}

/// One engine's decisions on one policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyCosts {
    /// "rego" or "cedar".
    pub engine: &'static str,
    /// "rbac" or "abac".
    pub policy: &'static str,
    /// With the policy loaded.
    pub warm: Dist,
    /// The first decision after loading the policy.
    pub cold: Dist,
}

/// A checked cost profile.
#[derive(Debug, Clone, PartialEq)]
pub struct CostProfile {
    /// The file it was read from, as given.
    pub file: String,
    /// The host measured.
    pub host: String,
    /// Its CPU model.
    pub cpu: String,
    /// When (UTC date).
    pub date: String,
    /// The command that measured it.
    pub command: String,
    /// Samples per figure.
    pub samples: u64,
    /// (library, version) measured.
    pub libraries: Vec<(String, String)>,
    /// Every version x key exchange x certificate.
    pub handshakes: Vec<HandshakeCosts>,
    /// The client's full TLS 1.3 handshake verifying chains of 1, 2, 3.
    pub chain_client_full: [Dist; 3],
    /// Every cipher x record size.
    pub records: Vec<RecordCosts>,
    /// RS256, ES256, EdDSA.
    pub jwt: Vec<JwtCosts>,
    /// Every engine x policy.
    pub policies: Vec<PolicyCosts>,
}

impl CostProfile {
    /// The measured handshake of these choices.
    pub fn handshake(&self, v: TlsVersion, kx: &str, cert: &str) -> Option<&HandshakeCosts> {
        self.handshakes
            .iter()
            .find(|h| h.version == v && h.kx == kx && h.cert == cert)
    }

    /// CPU of verifying one more certificate in a chain (ns): the slope of the
    /// client's full handshake from chains of 1 to 3, never below zero.
    pub fn chain_ns_per_cert(&self) -> f64 {
        ((self.chain_client_full[2].mean() - self.chain_client_full[0].mean()) / 2.0).max(0.0)
    }

    /// Bulk encryption per core (GB/s) as a design's `bulk_gb_per_s` means
    /// it: AES-128-GCM at 16 KiB records, each side doing one of seal and
    /// open per byte.
    pub fn bulk_gb_per_s(&self) -> f64 {
        let r = self
            .records
            .iter()
            .find(|r| r.cipher == "aes-128-gcm" && r.bytes == 16 * 1024)
            .expect("a checked profile has every cipher and size");
        r.bytes as f64 / ((r.seal.mean() + r.open.mean()) / 2.0)
    }

    /// Mean verification CPU (ns) of `alg`; None for HS256 (not measured).
    pub fn jwt_verify_ns(&self, alg: JwtAlgorithm) -> Option<f64> {
        self.jwt
            .iter()
            .find(|j| j.alg == alg)
            .map(|j| j.verify.mean())
    }

    /// A decision's CPU as a design's in-process `eval_cpu` takes it: Rego
    /// (OPA's language) on the RBAC policy, warm.
    pub fn authz_eval(&self) -> &Dist {
        &self
            .policies
            .iter()
            .find(|p| p.engine == "rego" && p.policy == "rbac")
            .expect("a checked profile has every engine and policy")
            .warm
    }
}

/// Reads and checks a profile file.
pub fn load_profile(path: &Path) -> Result<CostProfile, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = super::read_text(path).map_err(|d| {
        let help = d
            .help
            .clone()
            .unwrap_or_else(|| "make one with `ztsim calibrate` (see docs/calibration.md)".into());
        vec![d.with_help(help)]
    })?;
    parse_profile(&file, &text)
}

/// Checks a profile's text (`file` names it in messages).
pub fn parse_profile(file: &str, text: &str) -> Result<CostProfile, Vec<Diagnostic>> {
    let src = Source::parse(file, text).map_err(|d| vec![d])?;
    check_format(&src)?;
    let raw: ProfileFile = src.deserialize().map_err(|d| vec![d])?;
    let mut c = Compiler {
        src: &src,
        errors: Vec::new(),
    };
    let profile = c.profile(raw);
    if c.errors.is_empty() {
        Ok(profile)
    } else {
        Err(c.errors)
    }
}

/// The `format` key first: a profile of another format gets one clear error.
fn check_format(src: &Source) -> Result<(), Vec<Diagnostic>> {
    let path = KeyPath::root().key("format");
    let head: FormatOnly = src.deserialize().map_err(|d| vec![d])?;
    match head.format {
        Some(toml::Value::Integer(FORMAT)) => Ok(()),
        None => Err(vec![
            src.error(&path, "a cost profile starts with its format version")
                .with_help(format!(
                    "add `format = {FORMAT}`, or make the profile anew with `ztsim calibrate`"
                )),
        ]),
        Some(other) => Err(vec![
            src.error(
                &path,
                format!(
                    "this is a cost profile of format {other}; this ztsim reads format {FORMAT}"
                ),
            )
            .with_help("measure the host again with `ztsim calibrate` (see docs/calibration.md)"),
        ]),
    }
}

/// Compiles every figure, collecting every problem.
struct Compiler<'s> {
    src: &'s Source,
    errors: Vec<Diagnostic>,
}

impl Compiler<'_> {
    fn dist(&mut self, spec: &DistSpec, path: KeyPath) -> Dist {
        spec.compile(self.src, &path).unwrap_or_else(|d| {
            self.errors.push(d);
            Dist::Constant(0)
        })
    }

    fn profile(&mut self, raw: ProfileFile) -> CostProfile {
        let root = KeyPath::root();
        if raw.samples < 1 {
            self.errors.push(self.src.error(
                &root.key("samples"),
                format!("must be a whole number of at least 1, got {}", raw.samples),
            ));
        }
        let mut handshakes = Vec::new();
        let h = root.key("handshake");
        let v12 = h.key("1.2");
        for (kx, certs) in [
            ("x25519", &raw.handshake.v12.x25519),
            ("p256", &raw.handshake.v12.p256),
        ] {
            self.certs(TlsVersion::V12, kx, certs, v12.key(kx), &mut handshakes);
        }
        let v13 = h.key("1.3");
        let g13 = &raw.handshake.v13;
        for (kx, certs) in [
            ("x25519", &g13.x25519),
            ("p256", &g13.p256),
            ("x25519mlkem768", &g13.x25519mlkem768),
        ] {
            self.certs(TlsVersion::V13, kx, certs, v13.key(kx), &mut handshakes);
        }
        let ch = root.key("chain");
        let chain_client_full = [
            self.dist(&raw.chain.client_full_1, ch.key("client_full_1")),
            self.dist(&raw.chain.client_full_2, ch.key("client_full_2")),
            self.dist(&raw.chain.client_full_3, ch.key("client_full_3")),
        ];
        let mut records = Vec::new();
        let b = &raw.bulk;
        for (cipher, r) in [
            ("aes-128-gcm", &b.aes_128_gcm),
            ("aes-256-gcm", &b.aes_256_gcm),
            ("chacha20-poly1305", &b.chacha20_poly1305),
        ] {
            self.records(cipher, r, root.key("bulk").key(cipher), &mut records);
        }
        let mut jwt = Vec::new();
        for (alg, name, f) in [
            (JwtAlgorithm::Rs256, "rs256", &raw.jwt.rs256),
            (JwtAlgorithm::Es256, "es256", &raw.jwt.es256),
            (JwtAlgorithm::EdDsa, "eddsa", &raw.jwt.eddsa),
        ] {
            jwt.push(self.jwt(alg, f, root.key("jwt").key(name)));
        }
        let mut policies = Vec::new();
        for (engine, p) in [("rego", &raw.authz.rego), ("cedar", &raw.authz.cedar)] {
            self.policies(engine, p, root.key("authz").key(engine), &mut policies);
        }
        CostProfile {
            file: self.src.file().to_string(),
            host: raw.host,
            cpu: raw.cpu,
            date: raw.date,
            command: raw.command,
            samples: raw.samples.max(0) as u64,
            libraries: raw.libraries.into_iter().collect(),
            handshakes,
            chain_client_full,
            records,
            jwt,
            policies,
        }
    }

    fn certs(
        &mut self,
        version: TlsVersion,
        kx: &'static str,
        certs: &CertsFile,
        path: KeyPath,
        out: &mut Vec<HandshakeCosts>,
    ) {
        for (cert, f) in [
            ("ecdsa-p256", &certs.ecdsa_p256),
            ("rsa-2048", &certs.rsa_2048),
            ("ed25519", &certs.ed25519),
        ] {
            let p = path.key(cert);
            out.push(self.handshake(version, kx, cert, f, p));
        }
    }

    fn handshake(
        &mut self,
        version: TlsVersion,
        kx: &'static str,
        cert: &'static str,
        f: &HandshakeFigures,
        p: KeyPath,
    ) -> HandshakeCosts {
        let server_full = self.dist(&f.server_full, p.key("server_full"));
        let client_full = self.dist(&f.client_full, p.key("client_full"));
        let server_full_finish =
            self.last_flight_part(f.server_full_finish.as_ref(), &server_full, &p, "server");
        let client_full_finish = match (&f.client_full_finish, version) {
            (Some(_), TlsVersion::V13) => {
                self.errors.push(self.src.error(
                    &p.key("client_full_finish"),
                    "is TLS 1.2's only: a TLS 1.3 client sends its Finished with its request, so it has no turn of its own on the server's last flight; remove the key from this section".to_string(),
                ));
                None
            }
            (d, _) => self.last_flight_part(d.as_ref(), &client_full, &p, "client"),
        };
        HandshakeCosts {
            version,
            kx,
            cert,
            client_full,
            server_full,
            server_full_finish,
            client_full_finish,
            client_full_mutual: self.dist(&f.client_full_mutual, p.key("client_full_mutual")),
            server_full_mutual: self.dist(&f.server_full_mutual, p.key("server_full_mutual")),
            client_resumed: self.dist(&f.client_resumed, p.key("client_resumed")),
            server_resumed: self.dist(&f.server_resumed, p.key("server_resumed")),
        }
    }

    /// A side's part of its full handshake on the peer's last flight
    /// (`<side>_full_finish`), read if given and checked against the whole
    /// (`<side>_full`), which it is part of.
    fn last_flight_part(
        &mut self,
        d: Option<&DistSpec>,
        whole: &Dist,
        p: &KeyPath,
        side: &str,
    ) -> Option<Dist> {
        let key = p.key(&format!("{side}_full_finish"));
        let part = self.dist(d?, key.clone());
        if part.mean() > whole.mean() {
            self.errors.push(self.src.error(
                &key,
                format!(
                    "is part of `{side}_full`, so its mean must not exceed that one's ({:.0} ns), got {:.0} ns",
                    whole.mean(),
                    part.mean()
                ),
            ));
        }
        Some(part)
    }

    fn records(
        &mut self,
        cipher: &'static str,
        r: &RecordsFile,
        p: KeyPath,
        out: &mut Vec<RecordCosts>,
    ) {
        for (bytes, seal, open, suffix) in [
            (1024, &r.seal_1kib, &r.open_1kib, "1kib"),
            (16 * 1024, &r.seal_16kib, &r.open_16kib, "16kib"),
            (64 * 1024, &r.seal_64kib, &r.open_64kib, "64kib"),
        ] {
            out.push(RecordCosts {
                cipher,
                bytes,
                seal: self.dist(seal, p.key(&format!("seal_{suffix}"))),
                open: self.dist(open, p.key(&format!("open_{suffix}"))),
            });
        }
    }

    fn jwt(&mut self, alg: JwtAlgorithm, f: &SignVerifyFile, p: KeyPath) -> JwtCosts {
        JwtCosts {
            alg,
            sign: self.dist(&f.sign, p.key("sign")),
            verify: self.dist(&f.verify, p.key("verify")),
        }
    }

    fn policies(
        &mut self,
        engine: &'static str,
        f: &PoliciesFile,
        p: KeyPath,
        out: &mut Vec<PolicyCosts>,
    ) {
        for (policy, wc) in [("rbac", &f.rbac), ("abac", &f.abac)] {
            let q = p.key(policy);
            out.push(PolicyCosts {
                engine,
                policy,
                warm: self.dist(&wc.warm, q.key("warm")),
                cold: self.dist(&wc.cold, q.key("cold")),
            });
        }
    }
}
