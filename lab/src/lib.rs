//! ztsim-lab: measures, on this host and with the real libraries, what the
//! Zero Trust mechanisms ztsim models cost in CPU: rustls handshakes (each
//! side timed separately), AEAD bulk encryption, JWT signing and
//! verification, and Rego and Cedar policy decisions.
//!
//! It knows nothing of ztsim: every figure comes back as plain data (a
//! [`Summary`] of its samples), with the host's CPU model and the library
//! versions. The fixtures (certificate chains, TLS configurations, JWT keys,
//! policies) are public so that a loopback testbed can run the same work.

pub mod bulk;
pub mod host;
pub mod jwt;
pub mod pki;
pub mod policy;
mod sample;
pub mod testbed;
pub mod tls;

pub use sample::{Budget, Summary, measure};

/// A measurement that could not be made: a fixture the library refused, or a
/// handshake that did not complete as intended. The text says which.
#[derive(Debug, Clone, PartialEq)]
pub struct LabError(pub String);

impl std::fmt::Display for LabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LabError {}

/// Wraps any library error with what was being done.
pub(crate) fn fail(context: &str, e: impl std::fmt::Display) -> LabError {
    LabError(format!("{context}: {e}"))
}
