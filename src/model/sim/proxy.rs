//! Proxies (docs/model.md s3 proxy jobs): the per-request and per-byte CPU of a
//! proxy, the waypoint's job and its leg to the destination, and the
//! destination's inbound job (sidecar or node proxy) or, for library TLS,
//! the CPU gathered for the service job.

use super::state::{Call, Handshake, Phase};
use super::{Probe, Simulation, label};
use crate::engine::rng::{self, derive};
use crate::model::cost::{Cpu, CpuParts};
use crate::model::design::{AuthzMode, ProxyMode};
use crate::model::dist::{Dist, round};
use crate::units::Nanos;

impl<'t, P: Probe> Simulation<'t, P> {
    /// The CPU of peer `peer`'s proxy (a sidecar or node proxy, as its
    /// design has it) for one request of `bytes`, and the part of it that
    /// runs off the request's critical path (`[proxy] off_path_fraction` of
    /// the per-request CPU, as an off-path tail).
    pub(super) fn proxy_cpu(&self, peer: u32, key: u64, bytes: u64) -> (Nanos, CpuParts) {
        let cost = &self.peer_design(peer).proxy.cost;
        let per_request = match &cost.request_cpu {
            Dist::Constant(v) => *v,
            dist => dist.sample(&mut rng::call_rng(derive(key, label::PROXY))),
        };
        let off = if cost.off_path > 0.0 {
            round(per_request as f64 * cost.off_path).min(per_request)
        } else {
            0
        };
        let mut tail = CpuParts::default();
        tail[Cpu::Proxy as usize] = off;
        (per_request + round(bytes as f64 * cost.ns_per_byte), tail)
    }

    /// The request reached the first hop after the network: the waypoint, or
    /// the destination peer.
    pub(super) fn arrived(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        if !self.via_waypoint(&c) {
            return self.arrived_at_dest(slot);
        }
        let (_, station) = self.waypoints[c.waypoint as usize];
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let cost = &self
            .callee_design(&c)
            .proxy
            .waypoint
            .as_ref()
            .expect("via_waypoint: the callee's design has one")
            .cost;
        let mut parts = CpuParts::default();
        let per_request = match &cost.request_cpu {
            Dist::Constant(v) => *v,
            dist => dist.sample(&mut rng::call_rng(derive(c.key, label::WAYPOINT + 2))),
        };
        parts[Cpu::Proxy as usize] =
            per_request + round((ep.request_bytes + ep.response_bytes) as f64 * cost.ns_per_byte);
        // The waypoint is the L7 enforcement point.
        self.enforce_at_proxy(slot, &mut parts);
        self.job(slot, station, parts, Phase::WaypointJob);
    }

    /// At the destination peer: inbound proxy CPU or, for library TLS, CPU
    /// gathered for the service job.
    pub(super) fn arrived_at_dest(&mut self, slot: u32) {
        if self.turned_away_down(slot) {
            return;
        }
        let c = *self.calls.get(slot);
        if let Some(t) = self.probe.recorder().and_then(|r| r.call(slot)) {
            let now = self.queue.now();
            t.replica = Some(c.replica);
            t.server = Some((now, now));
        }
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let bytes = ep.request_bytes + ep.response_bytes;
        let dest = self.peers[c.dest as usize];
        let mut parts = CpuParts::default();
        if c.handshake == Handshake::ZeroRtt {
            parts[Cpu::Handshake as usize] = self.callee_design(&c).transport.cpu.server_resumed;
        }
        self.finish_with_request(&c, &mut parts);
        if self.encrypted(&c) && !self.to_external(&c) {
            // (At an external service the decryption is on its own cores.)
            parts[Cpu::Bulk as usize] = round(bytes as f64 * self.bulk_ns_per_byte(&c));
        }
        let service_station = self.replicas[c.replica as usize].cores;
        if dest.proxy {
            let (cpu, off) = self.proxy_cpu(c.dest, derive(c.key, 1), bytes);
            parts[Cpu::Proxy as usize] = cpu;
            if !self.via_waypoint(&c) {
                // A sidecar is an L7 enforcement point; a node proxy only L4
                // (policy in `Proxy` mode), JWTs need L7 so they fall to the app.
                let d = self.callee_design(&c);
                if d.proxy.mode == ProxyMode::Sidecar {
                    self.enforce_at_proxy(slot, &mut parts);
                } else if d.authz.mode == AuthzMode::Proxy {
                    self.authz_at(slot, &mut parts);
                }
            }
            if dest.station == service_station {
                // Sidecar sharing the pod's cores: one job with the service's.
                let cost = &mut self.costs[slot as usize];
                cost.service_parts = parts;
                cost.service_off = off;
                return self.authorize(slot);
            }
            return self.job_with_tail(slot, dest.station, parts, off, Phase::DestJob);
        }
        let cost = &mut self.costs[slot as usize];
        cost.service_parts = parts;
        cost.service_off = CpuParts::default();
        self.authorize(slot);
    }

    /// True if this call's request and response pass a waypoint: the
    /// callee is a service of the system whose design has one.
    pub(super) fn via_waypoint(&self, c: &Call) -> bool {
        !self.to_external(c) && self.callee_design(c).proxy.waypoint.is_some()
    }

    /// The waypoint's job is done: on to the destination.
    pub(super) fn waypoint_out(&mut self, slot: u32, c: &Call) {
        let (d, local) = self.waypoint_leg(c);
        self.calls.get_mut(slot).local = local;
        self.wait(slot, Phase::WaypointOut, d + local);
    }

    /// The waypoint -> destination transit's network time and its local hop.
    pub(super) fn waypoint_leg(&self, c: &Call) -> (Nanos, Nanos) {
        let (zone, _) = self.waypoints[c.waypoint as usize];
        let dz = self.peers[c.dest as usize].zone;
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let d = self.zone_leg(
            zone,
            dz,
            ep.request_bytes,
            derive(c.key, label::WAYPOINT + 1),
        );
        // The destination node proxy hands the request to the app.
        let local = self.local_hop(derive(c.key, label::LOCAL + 1));
        (d, local)
    }
}
