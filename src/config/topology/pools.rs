//! A service's client-side connection pools (`pools = { db = 10 }`) and an
//! endpoint's slow calls (`slow = { fraction, latency }`): their checks.

use super::compiler::Compiler;
use super::file::{ServiceFile, SlowFile, TopologyFile};
use crate::config::diag::{KeyPath, did_you_mean};
use crate::model::topology::{ClientPool, Slow};

/// Largest pool: far beyond any application's connection pool, and a
/// bound on the counters kept per pool.
pub(super) const MAX_POOL_SIZE: u32 = 1_000_000;

impl Compiler<'_> {
    /// The pools of service `svc` (at `sp`): each names a service of the
    /// topology that one of `svc`'s endpoints calls, with a size of at
    /// least one.
    pub(super) fn pools(
        &mut self,
        raw: &TopologyFile,
        svc: &ServiceFile,
        sp: &KeyPath,
    ) -> Vec<ClientPool> {
        let Some(pools) = &svc.pools else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(pools.len());
        for (name, &size) in pools {
            let path = sp.key("pools").key(name);
            let Some(target) = raw.services.get_index_of(name.as_str()) else {
                let help = did_you_mean(name, raw.services.keys().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| "name a service this service calls".into());
                self.error_help(
                    &path,
                    format!("a pool to `{name}`, which is not a service"),
                    Some(help),
                );
                continue;
            };
            let called = svc.endpoints.values().any(|ep| {
                ep.stages.iter().flatten().any(|c| {
                    c.call
                        .as_ref()
                        .and_then(|c| c.split_once('.'))
                        .is_some_and(|(service, _)| service == name)
                })
            });
            if !called {
                self.error_help(
                    &path,
                    format!("a pool to `{name}`, which this service never calls"),
                    Some(format!(
                        "a pool holds this service's calls to `{name}`: add a call to one of its endpoints, or remove the pool"
                    )),
                );
                continue;
            }
            if size == 0 {
                self.error_help(
                    &path,
                    "a pool of 0 connections lets no call through",
                    Some(format!(
                        "give at least 1, or leave `{name}` out of `pools` for calls that never wait"
                    )),
                );
                continue;
            }
            let size = self.bounded(size, 1, MAX_POOL_SIZE, &path, "a pool's size");
            out.push(ClientPool {
                target: target as u32,
                size,
            });
        }
        out
    }

    /// An endpoint's slow calls: a fraction in [0, 1] and a latency.
    pub(super) fn slow(&mut self, s: &SlowFile, path: &KeyPath) -> Slow {
        Slow {
            fraction: self.probability(s.fraction, &path.key("fraction")),
            latency: self.dist(&s.latency, &path.key("latency")),
        }
    }
}
