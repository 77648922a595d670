//! Design texts with constant costs, for tests that time hops exactly.

/// Plaintext, a new connection per call: every call pays its TCP round trip.
pub const PLAIN: &str = r#"
name = "plain"
[connections]
reuse = "per-request"
"#;

/// Mutual TLS in the library, a new connection per call, constant
/// handshake CPU: client 100 us (+10 us for its certificate), server 200 us
/// (+20 us to verify the client's).
pub const MTLS: &str = r#"
name = "mtls"
[transport]
security = "mtls"
cpu = { client_full = "100us", server_full = "200us", client_resumed = "0s", server_resumed = "0s", mtls_client = "10us", mtls_server = "20us" }
[connections]
reuse = "per-request"
"#;
