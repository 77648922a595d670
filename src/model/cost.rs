//! Categories that CPU time and latency are split into (docs/model.md s4).

/// Where a core's busy time went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Cpu {
    /// The endpoint's own work.
    Business = 0,
    /// TLS handshake cryptography.
    Handshake = 1,
    /// Bulk encryption of payloads.
    Bulk = 2,
    /// JWT verification.
    Jwt = 3,
    /// Policy evaluation.
    Authz = 4,
    /// Proxy request handling (parsing, routing), excluding its TLS.
    Proxy = 5,
}

/// Number of CPU categories.
pub const CPU_CATEGORIES: usize = 6;
/// Names of the CPU categories, in order, for reports.
pub const CPU_NAMES: [&str; CPU_CATEGORIES] = [
    "business",
    "handshake",
    "bulk_crypto",
    "jwt",
    "authz",
    "proxy",
];

/// CPU demand of one job, split by category (ns).
pub type CpuParts = [u64; CPU_CATEGORIES];

/// Where a request's time went along its critical path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Span {
    /// Payloads crossing the network.
    Network = 0,
    /// TCP and TLS handshake round trips.
    HandshakeRtt = 1,
    /// Waiting for a core, a worker thread or a connection.
    Queueing = 2,
    /// Business CPU.
    Business = 3,
    /// Handshake and bulk-encryption CPU.
    Crypto = 4,
    /// Proxy CPU and the local hops to and from proxies.
    Proxy = 5,
    /// Policy evaluation, local or remote (the whole remote call).
    Authz = 6,
    /// JWT verification and token fetches.
    Authn = 7,
    /// Time lost to timeouts and retry backoff.
    Retry = 8,
    /// Waiting on services outside the system (their `latency`).
    External = 9,
}

/// Number of attribution spans.
pub const SPANS: usize = 10;
/// Names of the spans, in order, for reports.
pub const SPAN_NAMES: [&str; SPANS] = [
    "network",
    "handshake_rtt",
    "queueing",
    "business_cpu",
    "crypto_cpu",
    "proxy",
    "authz",
    "authn",
    "retry",
    "external",
];

/// A request's time split by span (ns).
pub type Attribution = [u64; SPANS];

/// The span a CPU category's time is attributed to.
pub const fn span_of(cpu: usize) -> Span {
    match cpu {
        0 => Span::Business,
        1 | 2 => Span::Crypto,
        3 => Span::Authn,
        4 => Span::Authz,
        _ => Span::Proxy,
    }
}
