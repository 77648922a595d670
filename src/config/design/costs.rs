//! The default handshake CPU of a design's TLS choices, each figure traced
//! to its published source in `docs/sources.md` (or marked an assumption).

use crate::config::profile::CostProfile;
use crate::model::design::{HandshakeCpu, TlsVersion};
use crate::units::Nanos;

/// A microsecond in nanoseconds, the unit the published figures use.
pub(super) const US: Nanos = 1_000;

/// Per-side handshake CPU for a design's choices: the published defaults,
/// replaced by a cost profile's measured figures where one is given.
pub fn handshake_cpu(
    version: TlsVersion,
    key_exchange: &str,
    certificate: &str,
    chain_length: u32,
    profile: Option<&CostProfile>,
) -> HandshakeCpu {
    let mut cpu = default_handshake_cpu(version, key_exchange, certificate, chain_length);
    if let Some(p) = profile {
        measured_handshake_cpu(
            &mut cpu,
            p,
            version,
            key_exchange,
            certificate,
            chain_length,
        );
    }
    cpu
}

/// Published per-side handshake CPU for a design's choices (see
/// `docs/sources.md` for each figure's source and which are assumptions).
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
    // The part on the client's last flight is the key exchange's or the
    // Finished's, whatever signs the first: the measured share of the
    // ECDSA figure (an RSA signature only lengthens the first part).
    let ecdsa_server_full = match version {
        TlsVersion::V12 => 130 * US,
        TlsVersion::V13 => 230 * US,
    } + kx_extra;
    let server_finish = finish_of(ecdsa_server_full, finish_share(version));
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
        server_finish,
        // No turn of its own unless a design or the testbed sets one.
        client_finish: 0,
        client_resumed,
        server_resumed,
        // mTLS: the client signs CertificateVerify (assumed ~100 us), the
        // server verifies the client chain as the client verifies the server's.
        mtls_client: 100 * US,
        mtls_server: 230 * US + chain_extra,
        hello_retry: retry_share,
    }
}

/// The share of a full handshake's server CPU spent on the client's last
/// flight when no profile measured it: measured with rustls 0.23 (aws-lc-rs,
/// ECDSA P-256, X25519; `docs/sources.md`, rustls-flights), 36 of 70 us in
/// TLS 1.2 (the key exchange's shared secret waits for the client's key
/// share) and 15 of 103 us in TLS 1.3 (only the client's Finished).
pub fn finish_share(version: TlsVersion) -> f64 {
    match version {
        TlsVersion::V12 => 0.52,
        TlsVersion::V13 => 0.15,
    }
}

/// `share` of `server_full`, in whole nanoseconds.
pub fn finish_of(server_full: Nanos, share: f64) -> Nanos {
    (server_full as f64 * share).round() as Nanos
}

/// Replaces the published handshake defaults by a profile's measured means
/// for these choices. The profile measured chains of 2 certificates; each
/// certificate more (or fewer) adds (or saves) its measured per-certificate
/// cost on the side that verifies the chain. `hello_retry` is not measured.
fn measured_handshake_cpu(
    cpu: &mut HandshakeCpu,
    p: &CostProfile,
    version: TlsVersion,
    kx: &str,
    cert: &str,
    chain: u32,
) {
    let Some(h) = p.handshake(version, kx, cert) else {
        return;
    };
    let chain_extra = p.chain_ns_per_cert() * (f64::from(chain) - 2.0);
    let ns = |x: f64| x.max(0.0).round() as Nanos;
    let (client_full, server_full) = (h.client_full.mean(), h.server_full.mean());
    cpu.client_full = ns(client_full + chain_extra);
    cpu.server_full = ns(server_full);
    cpu.server_finish = match &h.server_full_finish {
        Some(f) => ns(f.mean()),
        None => finish_of(cpu.server_full, finish_share(version)),
    };
    // Only TLS 1.2 has the turn (the parser refuses it in a 1.3 section).
    if let Some(f) = &h.client_full_finish {
        cpu.client_finish = ns(f.mean());
    }
    cpu.client_resumed = ns(h.client_resumed.mean());
    cpu.server_resumed = ns(h.server_resumed.mean());
    cpu.mtls_client = ns(h.client_full_mutual.mean() - client_full);
    cpu.mtls_server = ns(h.server_full_mutual.mean() - server_full + chain_extra);
}
