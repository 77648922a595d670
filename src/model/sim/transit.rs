//! The network (docs/model.md s3 transit): RTT and one-way draws between peers
//! and zones, serialisation, local app <-> proxy hops folded into the
//! adjacent transit, and the request and response transits (through a
//! waypoint when there is one).

use super::state::{Call, NONE, Phase};
use super::{Probe, Simulation, ev, label};
use crate::engine::rng::{self, derive};
use crate::model::dist::{Dist, round};
use crate::model::topology::ZoneId;
use crate::units::{NANOS_PER_SEC, Nanos};

impl<'t, P: Probe> Simulation<'t, P> {
    /// Request transit to the destination peer (or the waypoint first).
    /// `lead`: time still to pass before the request leaves (inline CPU).
    pub(super) fn request(&mut self, slot: u32, lead: Nanos) {
        let c = *self.calls.get(slot);
        self.usable_without_flights(&c);
        if self.via_waypoint(&c) {
            // Origin node proxy -> waypoint; the waypoint then forwards.
            let ep = &self.topo.endpoints[c.endpoint as usize];
            let mut local = 0;
            if self.peers[c.origin as usize].proxy && c.caller_replica != NONE {
                local += self.local_hop(derive(c.key, label::LOCAL));
            }
            let w = self.next_waypoint;
            self.next_waypoint = (w + 1) % self.waypoints.len() as u32;
            let (zone, _) = self.waypoints[w as usize];
            let oz = self.peers[c.origin as usize].zone;
            let d = self.zone_leg(oz, zone, ep.request_bytes, derive(c.key, label::WAYPOINT));
            let call = self.calls.get_mut(slot);
            call.local = local;
            call.waypoint = w;
            call.phase = Phase::Request;
            self.queue.schedule(lead + d + local, ev::STEP, slot, 0);
            return;
        }
        let (d, local) = self.request_leg(&c);
        self.calls.get_mut(slot).local = local;
        self.wait(slot, Phase::Request, lead + d + local);
    }

    /// The request transit's network time and its local proxy hops, on a
    /// hop without a waypoint.
    pub(super) fn request_leg(&self, c: &Call) -> (Nanos, Nanos) {
        let mut local = 0;
        if self.peers[c.origin as usize].proxy && c.caller_replica != NONE {
            local += self.local_hop(derive(c.key, label::LOCAL));
        }
        if self.peers[c.dest as usize].proxy {
            local += self.local_hop(derive(c.key, label::LOCAL + 1));
        }
        let bytes = self.topo.endpoints[c.endpoint as usize].request_bytes;
        let d = self.one_way(
            c.origin,
            c.dest,
            bytes,
            derive(c.key, label::REQUEST_TRANSIT),
        );
        (d, local)
    }

    /// One RTT draw between two peers.
    pub(super) fn rtt(&self, a: u32, b: u32, key: u64) -> Nanos {
        let (pa, pb) = (&self.peers[a as usize], &self.peers[b as usize]);
        let (za, zb) = (pa.zone, pb.zone);
        // One replica, or two on one node: a loopback apart.
        let d = if a == b || (pa.host != NONE && pa.host == pb.host) {
            &self.topo.network.same_host
        } else {
            self.topo.network.rtt(za, zb)
        };
        match d {
            Dist::Constant(v) => *v,
            d => d.sample(&mut rng::call_rng(key)),
        }
    }

    /// Half an RTT draw plus serialisation of `bytes`.
    pub(super) fn one_way(&self, a: u32, b: u32, bytes: u64, key: u64) -> Nanos {
        let wire = self
            .topo
            .network
            .bandwidth
            .map_or(0, |bw| round(bytes as f64 / bw * NANOS_PER_SEC as f64));
        (self.rtt(a, b, key) / 2).saturating_add(wire)
    }

    /// Half an RTT draw between two zones (a waypoint leg), plus serialisation.
    pub(super) fn zone_leg(&self, a: ZoneId, b: ZoneId, bytes: u64, key: u64) -> Nanos {
        let half = match self.topo.network.rtt(a, b) {
            Dist::Constant(v) => v / 2,
            d => d.sample(&mut rng::call_rng(key)) / 2,
        };
        half.saturating_add(self.wire(bytes))
    }

    pub(super) fn wire(&self, bytes: u64) -> Nanos {
        self.topo
            .network
            .bandwidth
            .map_or(0, |bw| round(bytes as f64 / bw * NANOS_PER_SEC as f64))
    }

    /// One local (same-host) one-way hop, app <-> proxy.
    pub(super) fn local_hop(&self, key: u64) -> Nanos {
        match &self.topo.network.same_host {
            Dist::Constant(v) => v / 2,
            d => d.sample(&mut rng::call_rng(key)) / 2,
        }
    }

    /// Response transit back to the caller (through the call's waypoint when
    /// there are waypoints).
    #[inline]
    pub(super) fn response(&mut self, slot: u32, c: &Call) {
        let (d, local) = self.response_leg(c);
        self.calls.get_mut(slot).local = local;
        self.wait(slot, Phase::Response, d + local);
    }

    /// The response transit's network time and its local proxy hops.
    pub(super) fn response_leg(&self, c: &Call) -> (Nanos, Nanos) {
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let mut local = 0;
        if self.peers[c.dest as usize].proxy {
            local += self.local_hop(derive(c.key, label::LOCAL + 2));
        }
        if self.peers[c.origin as usize].proxy && c.caller_replica != NONE {
            local += self.local_hop(derive(c.key, label::LOCAL + 3));
        }
        let d = if !self.via_waypoint(c) {
            self.one_way(
                c.dest,
                c.origin,
                ep.response_bytes,
                derive(c.key, label::RESPONSE_TRANSIT),
            )
        } else {
            // Back through the call's waypoint: destination -> waypoint -> origin.
            let (wz, _) = self.waypoints[c.waypoint as usize];
            let (dz, oz) = (
                self.peers[c.dest as usize].zone,
                self.peers[c.origin as usize].zone,
            );
            self.zone_leg(
                dz,
                wz,
                ep.response_bytes,
                derive(c.key, label::RESPONSE_TRANSIT),
            ) + self.zone_leg(
                wz,
                oz,
                ep.response_bytes,
                derive(c.key, label::WAYPOINT + 3),
            )
        };
        (d, local)
    }
}
