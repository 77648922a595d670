//! The serde form of a cost profile (`costs/<host>.toml`): every key, and
//! every measured figure as a distribution in the design format's syntax.
//! No checks here; `mod.rs` checks and compiles.

use serde::Deserialize;

use crate::config::dist::DistSpec;

/// Only the format version, read first so that a profile of another format
/// is named as such rather than as a list of unknown keys.
#[derive(Deserialize)]
pub(super) struct FormatOnly {
    pub(super) format: Option<toml::Value>,
}

/// A cost profile: CPU costs measured on one host by `ztsim calibrate`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProfileFile {
    /// The profile format version.
    #[allow(dead_code)]
    pub(super) format: i64,
    /// The host measured.
    pub(super) host: String,
    /// Its CPU model, from /proc/cpuinfo.
    pub(super) cpu: String,
    /// When (UTC date).
    pub(super) date: String,
    /// The command that measured it.
    pub(super) command: String,
    /// Samples per figure (after the warm-up).
    pub(super) samples: i64,
    /// The measured libraries and their versions.
    pub(super) libraries: indexmap::IndexMap<String, String>,
    pub(super) handshake: HandshakeFile,
    pub(super) chain: ChainFile,
    pub(super) bulk: BulkFile,
    pub(super) jwt: JwtFile,
    pub(super) authz: AuthzFile,
}

/// Per TLS version, then key exchange, then certificate.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HandshakeFile {
    #[serde(rename = "1.2")]
    pub(super) v12: Groups12File,
    #[serde(rename = "1.3")]
    pub(super) v13: Groups13File,
}

/// TLS 1.2 has no hybrid key share.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Groups12File {
    pub(super) x25519: CertsFile,
    pub(super) p256: CertsFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Groups13File {
    pub(super) x25519: CertsFile,
    pub(super) p256: CertsFile,
    pub(super) x25519mlkem768: CertsFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CertsFile {
    #[serde(rename = "ecdsa-p256")]
    pub(super) ecdsa_p256: HandshakeFigures,
    #[serde(rename = "rsa-2048")]
    pub(super) rsa_2048: HandshakeFigures,
    pub(super) ed25519: HandshakeFigures,
}

/// One handshake kind's per-side CPU (chains of 2 certificates).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HandshakeFigures {
    pub(super) client_full: DistSpec,
    pub(super) server_full: DistSpec,
    /// The part of `server_full` on the client's last flight (profiles
    /// before it was measured lack it; designs then take the default share).
    #[serde(default)]
    pub(super) server_full_finish: Option<DistSpec>,
    /// TLS 1.2 only: the part of `client_full` on the server's last flight
    /// (its ChangeCipherSpec and Finished); profiles before it was measured
    /// lack it, and designs then take the default.
    #[serde(default)]
    pub(super) client_full_finish: Option<DistSpec>,
    pub(super) client_full_mutual: DistSpec,
    pub(super) server_full_mutual: DistSpec,
    pub(super) client_resumed: DistSpec,
    pub(super) server_resumed: DistSpec,
}

/// The client's full TLS 1.3 handshake (X25519, ECDSA P-256) by the length
/// of the chain it verifies.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChainFile {
    pub(super) client_full_1: DistSpec,
    pub(super) client_full_2: DistSpec,
    pub(super) client_full_3: DistSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BulkFile {
    #[serde(rename = "aes-128-gcm")]
    pub(super) aes_128_gcm: RecordsFile,
    #[serde(rename = "aes-256-gcm")]
    pub(super) aes_256_gcm: RecordsFile,
    #[serde(rename = "chacha20-poly1305")]
    pub(super) chacha20_poly1305: RecordsFile,
}

/// Sealing (sender) and opening (receiver) one record, by record size.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RecordsFile {
    pub(super) seal_1kib: DistSpec,
    pub(super) open_1kib: DistSpec,
    pub(super) seal_16kib: DistSpec,
    pub(super) open_16kib: DistSpec,
    pub(super) seal_64kib: DistSpec,
    pub(super) open_64kib: DistSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JwtFile {
    pub(super) rs256: SignVerifyFile,
    pub(super) es256: SignVerifyFile,
    pub(super) eddsa: SignVerifyFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignVerifyFile {
    pub(super) sign: DistSpec,
    pub(super) verify: DistSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuthzFile {
    pub(super) rego: PoliciesFile,
    pub(super) cedar: PoliciesFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PoliciesFile {
    pub(super) rbac: WarmColdFile,
    pub(super) abac: WarmColdFile,
}

/// A decision with the policy loaded (warm) and the first after loading (cold).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WarmColdFile {
    pub(super) warm: DistSpec,
    pub(super) cold: DistSpec,
}
