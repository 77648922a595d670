//! Services outside the system (`external = true`): the keys that make no
//! sense for them refused at their line, and their TLS with its costs.

use super::compiler::Compiler;
use super::file::{EndpointFile, ExternalConnectionsFile, ExternalTlsFile, ServiceFile};
use crate::config::design::default_handshake_cpu;
use crate::config::diag::KeyPath;
use crate::model::design::TlsVersion;
use crate::model::topology::{External, ExternalTls};

/// AES-128-GCM, 7.5 GB/s per core: the published default a design's bulk
/// encryption also uses (docs/sources.md).
const BULK_NS_PER_BYTE: f64 = 1.0 / 7.5;

impl Compiler<'_> {
    /// An external service's own settings, refusing what only a service of
    /// the system has.
    pub(super) fn external(&mut self, svc: &ServiceFile, sp: &KeyPath) -> External {
        let refuse = |c: &mut Self, given: bool, key: &str, why: &str| {
            if given {
                c.error(
                    &sp.key(key),
                    format!("an external service has no `{key}`: {why}"),
                );
            }
        };
        let why_cores = "it runs on none of our cores; its endpoints' `latency` is what a call to it takes (give it `concurrency` if it limits calls in progress)";
        refuse(self, svc.cores.is_some(), "cores", why_cores);
        refuse(self, svc.replicas.is_some(), "replicas", why_cores);
        refuse(self, svc.wakeup.is_some(), "wakeup", why_cores);
        refuse(
            self,
            svc.balance.is_some(),
            "balance",
            "callers see one address; its own load balancing is inside its `latency`",
        );
        refuse(
            self,
            svc.locality.is_some() || svc.spill_over.is_some(),
            if svc.locality.is_some() {
                "locality"
            } else {
                "spill_over"
            },
            "callers see one address in one zone; there is no replica to prefer",
        );
        refuse(
            self,
            svc.zones.is_some(),
            "zones",
            "give it one `zone` of its own, with the RTT to it as that zone's links",
        );
        let tls = match svc.tls.unwrap_or(ExternalTlsFile::V13) {
            ExternalTlsFile::None => None,
            v => {
                let version = match v {
                    ExternalTlsFile::V12 => TlsVersion::V12,
                    _ => TlsVersion::V13,
                };
                // A public server: ECDSA P-256 leaf and intermediate, X25519.
                let cpu = default_handshake_cpu(version, "x25519", "ecdsa-p256", 2);
                Some(ExternalTls {
                    v12: version == TlsVersion::V12,
                    per_request: matches!(
                        svc.connections,
                        Some(ExternalConnectionsFile::PerRequest)
                    ),
                    client_cpu: cpu.client_full,
                    server_cpu: cpu.server_full,
                    bulk_ns_per_byte: BULK_NS_PER_BYTE,
                })
            }
        };
        External { tls }
    }

    /// Refuses `tls` and `connections` on a service of the system, whose
    /// hops the design secures.
    pub(super) fn internal_only(&mut self, svc: &ServiceFile, sp: &KeyPath) {
        for (given, key) in [
            (svc.tls.is_some(), "tls"),
            (svc.connections.is_some(), "connections"),
        ] {
            if given {
                self.error(
                    &sp.key(key),
                    format!("`{key}` is for external services (`external = true`); the design secures the hops of a service of the system"),
                );
            }
        }
    }

    /// Checks an endpoint's keys against its service's kind.
    pub(super) fn endpoint_kind(&mut self, ep: &EndpointFile, epath: &KeyPath, external: bool) {
        if !external {
            if ep.latency.is_some() {
                self.error(
                    &epath.key("latency"),
                    "`latency` is for endpoints of external services (`external = true` on the service); a service of the system costs `cpu`",
                );
            }
            return;
        }
        if ep.latency.is_none() {
            self.error(
                epath,
                "an endpoint of an external service needs `latency`, the time it takes to answer, e.g. latency = { dist = \"lognormal\", median = \"80ms\", p99 = \"400ms\" }",
            );
        }
        for (given, key) in [
            (ep.cpu.is_some(), "cpu"),
            (ep.cpu_off_path.is_some(), "cpu_off_path"),
            (!ep.stages.is_empty(), "stages"),
        ] {
            if given {
                self.error(
                    &epath.key(key),
                    format!("an endpoint of an external service has no `{key}`: it runs on none of our cores and calls nothing of ours; its `latency` is all it takes"),
                );
            }
        }
    }
}
