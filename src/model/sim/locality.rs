//! Zone-aware balancing (`locality = "prefer-zone"`, docs/topology.md
//! "Zone-aware balancing"): a call goes to a replica in its caller's zone,
//! chosen among them by the service's balancing, while every one of them
//! has fewer than `spill_over` calls outstanding; when all have that many
//! it spills to the replicas of the other zones (chosen among those by the
//! balancing). A caller whose zone has no replica, or a service without
//! locality, is left to `pick_replica` (`routing.rs`), so a topology
//! without the key draws exactly as before.

use super::{Probe, Simulation, label};
use crate::engine::rng::{self, derive, unit_f64};
use crate::model::topology::{Balance, Topology, ZoneId};

/// The replicas of one service in one zone.
#[derive(Debug, Clone, Copy)]
struct Group {
    zone: ZoneId,
    /// Its replicas in [`Localities::members`].
    start: u32,
    len: u32,
    /// Round-robin (and least-outstanding tie) rotation within the zone.
    turn: u32,
}

/// Each zone-aware service's replicas grouped by zone, built once.
#[derive(Debug, Default)]
pub(super) struct Localities {
    /// Per service, its groups' range in `groups` (empty without locality).
    of: Vec<(u32, u32)>,
    /// Groups of each service in zone order.
    groups: Vec<Group>,
    /// Replicas (indices within their service) of every group, in order.
    members: Vec<u32>,
}

impl Localities {
    /// The groups of every service with locality and more than one replica.
    pub(super) fn new(topo: &Topology) -> Self {
        let mut l = Localities::default();
        for svc in &topo.services {
            let first = l.groups.len() as u32;
            if svc.locality.is_some() && svc.replicas > 1 {
                let mut by_zone: Vec<(ZoneId, u32)> =
                    (0..svc.replicas).map(|i| (svc.zone_of(i), i)).collect();
                by_zone.sort_unstable();
                for (zone, i) in by_zone {
                    let ours = l.groups.len() as u32 > first;
                    match l.groups.last_mut() {
                        Some(g) if ours && g.zone == zone => g.len += 1,
                        _ => l.groups.push(Group {
                            zone,
                            start: l.members.len() as u32,
                            len: 1,
                            turn: 0,
                        }),
                    }
                    l.members.push(i);
                }
            }
            l.of.push((first, l.groups.len() as u32));
        }
        l
    }
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// The replica (global index) a call from `zone` goes to when `service`
    /// is zone-aware and `zone` has one of its replicas; None otherwise.
    pub(super) fn zone_aware_replica(
        &mut self,
        service: u32,
        key: u64,
        zone: ZoneId,
    ) -> Option<u32> {
        let svc = &self.topo.services[service as usize];
        let locality = svc.locality?;
        let (lo, hi) = self.localities.of[service as usize];
        let groups = &self.localities.groups[lo as usize..hi as usize];
        let g = lo as usize + groups.binary_search_by_key(&zone, |g| g.zone).ok()?;
        let base = self.replica_base[service as usize];
        let group = self.localities.groups[g];
        let members = &self.localities.members[group.start as usize..][..group.len as usize];
        let full = locality.spill_over.is_some_and(|k| {
            members
                .iter()
                .all(|&r| self.replicas[(base + r) as usize].outstanding >= k)
        });
        if full && group.len < svc.replicas {
            return Some(base + self.remote_replica(service, key, zone));
        }
        Some(base + self.local_replica(service, g, key))
    }

    /// A replica of group `g` by the service's balancing.
    fn local_replica(&mut self, service: u32, g: usize, key: u64) -> u32 {
        let base = self.replica_base[service as usize];
        let group = &mut self.localities.groups[g];
        let members = &self.localities.members[group.start as usize..][..group.len as usize];
        let n = group.len;
        let k = match self.topo.services[service as usize].balance {
            Balance::RoundRobin => {
                let k = group.turn;
                group.turn = (k + 1) % n;
                k
            }
            Balance::Random => draw(key, n),
            Balance::LeastOutstanding => {
                let start = group.turn;
                group.turn = (start + 1) % n;
                (0..n)
                    .map(|k| (start + k) % n)
                    .min_by_key(|&k| {
                        self.replicas[(base + members[k as usize]) as usize].outstanding
                    })
                    .unwrap_or(start)
            }
        };
        members[k as usize]
    }

    /// A replica outside `zone` (the service has some) by the service's
    /// balancing, rotating its own turn.
    fn remote_replica(&mut self, service: u32, key: u64, zone: ZoneId) -> u32 {
        let svc = &self.topo.services[service as usize];
        let base = self.replica_base[service as usize];
        let n = svc.replicas;
        let remote = |r: u32| svc.zone_of(r) != zone;
        let turn = &mut self.next_replica[service as usize];
        let start = *turn;
        match svc.balance {
            Balance::RoundRobin => {
                let r = (0..n)
                    .map(|k| (start + k) % n)
                    .find(|&r| remote(r))
                    .unwrap_or(start);
                *turn = (r + 1) % n;
                r
            }
            Balance::Random => {
                let m = (0..n).filter(|&r| remote(r)).count() as u32;
                let pick = draw(key, m);
                (0..n)
                    .filter(|&r| remote(r))
                    .nth(pick as usize)
                    .unwrap_or(start)
            }
            Balance::LeastOutstanding => {
                *turn = (start + 1) % n;
                (0..n)
                    .map(|k| (start + k) % n)
                    .filter(|&r| remote(r))
                    .min_by_key(|&r| self.replicas[(base + r) as usize].outstanding)
                    .unwrap_or(start)
            }
        }
    }
}

/// One of `n` by the call's balancing draw (the label `pick_replica` uses).
fn draw(key: u64, n: u32) -> u32 {
    let u = unit_f64(&mut rng::call_rng(derive(key, label::BALANCE)));
    ((u * f64::from(n)) as u32).min(n.saturating_sub(1))
}
