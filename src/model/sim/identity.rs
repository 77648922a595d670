//! Identity (docs/model.md s3 token and certificate hooks): a caller's token
//! refresh from the identity service before a call, and certificate
//! renewal per peer, which closes the connections opened with the old
//! certificate when the design says so.

use super::state::{Call, Kind, Phase};
use super::{Probe, Simulation, ev};
use crate::engine::rng::unit_f64;
use crate::model::design::Security;
use crate::model::dist::round;
use crate::units::Nanos;

impl<'t, P: Probe> Simulation<'t, P> {
    /// Before a child call goes out: if its caller's token has expired, the
    /// call waits for a token fetch from the identity service (true).
    #[inline]
    pub(super) fn refresh_token(&mut self, slot: u32, c: &Call, now: Nanos) -> bool {
        if c.kind == Kind::Child
            && let Some(token) = &self.design_at(c.caller_replica).identity.token
            && self.replicas[c.caller_replica as usize].token_expiry <= now
        {
            // The first call to find the token expired fetches a new one; the
            // others carry on with the old one during the refresh.
            self.replicas[c.caller_replica as usize].token_expiry = now.saturating_add(token.ttl);
            if let Some(k) = self.counters(slot) {
                k.token_fetches += 1;
            }
            self.calls.get_mut(slot).phase = Phase::Token;
            self.infra_call(slot, Kind::Token, token.issuer);
            return true;
        }
        false
    }

    pub(super) fn renewal_interval(&mut self, peer: u32) -> Nanos {
        let id = &self.peer_design(peer).identity;
        let base = id.cert_ttl as f64 * id.renew_ratio;
        let jitter =
            id.renew_jitter * (2.0 * unit_f64(&mut self.rotation_rngs[peer as usize]) - 1.0);
        round((base * (1.0 + jitter)).max(1.0))
    }

    /// True if peer `peer`'s certificate renewals close connections, and so
    /// are events (`rotate`); other renewals change nothing in the
    /// simulation and are only counted (`count_quiet_rotations`).
    pub(super) fn rotation_closes(&self, peer: u32) -> bool {
        let d = self.peer_design(peer);
        d.transport.security != Security::Plaintext && d.identity.rotation_closes_connections
    }

    /// Renewals that close no connection change nothing in the simulation,
    /// so they are not events; they are counted here from the same streams.
    pub(super) fn count_quiet_rotations(&mut self) {
        for peer in 0..self.peers.len() as u32 {
            let d = self.peer_design(peer);
            if peer == self.client_peer
                || d.transport.security == Security::Plaintext
                || d.identity.rotation_closes_connections
            {
                continue;
            }
            let mut t: Nanos = 0;
            loop {
                t = t.saturating_add(self.renewal_interval(peer));
                if t >= self.window_end {
                    break;
                }
                if t >= self.window_start {
                    self.metrics.counters.rotations += 1;
                }
            }
        }
    }

    /// Peer `peer` renews its certificate: connections it opened with the old
    /// one close (lazily, when next picked), if the design says so.
    pub(super) fn rotate(&mut self, peer: u32) {
        self.peers[peer as usize].epoch += 1;
        let now = self.queue.now();
        if now >= self.window_start && now < self.window_end {
            self.metrics.counters.rotations += 1;
        }
        let t = self.renewal_interval(peer);
        self.queue.schedule(t, ev::ROTATE, peer, 0);
    }
}
