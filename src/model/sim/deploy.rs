//! The system a replication runs on, built once before the first event:
//! each replica with its stations (its cores, a sidecar's, a policy
//! sidecar's), the TLS peers (one per replica, the client, the node
//! proxies), and the waypoint proxies. Station and peer indices are fixed
//! here in a fixed order, which every later draw keyed by them relies on.
//! Also the workload's fixed tables: the entry mix, one timer lane per
//! timeout duration, the time series' bucket width.
//!
//! Plain construction: nothing here sees the `Simulation`.

use std::collections::VecDeque;

use super::state::{NONE, Peer, Replica, TimerLane};
use crate::engine::Station;
use crate::model::design::{AuthzMode, Design, ProxyMode, Termination, Waypoint};
use crate::model::metrics::StationOwner;
use crate::model::topology::{Topology, Workload, ZoneId};
use crate::units::{Millicores, Nanos};

/// Everything `deploy` builds.
pub(super) struct Deployment {
    pub(super) stations: Vec<Station>,
    pub(super) owners: Vec<StationOwner>,
    pub(super) replicas: Vec<Replica>,
    /// Global index of each service's first replica.
    pub(super) replica_base: Vec<u32>,
    pub(super) peers: Vec<Peer>,
    pub(super) client_peer: u32,
    /// Node-proxy peer of each replica (NONE without node proxies).
    pub(super) node_peer: Vec<u32>,
    /// Zone and station of each waypoint replica.
    pub(super) waypoints: Vec<(ZoneId, u32)>,
}

/// The stations built so far, each measured over `window`.
struct Stations {
    window: (Nanos, Nanos),
    stations: Vec<Station>,
    owners: Vec<StationOwner>,
}

impl Stations {
    fn add(&mut self, cores: Millicores, owner: StationOwner) -> u32 {
        self.stations.push(Station::of_cores(cores, self.window));
        self.owners.push(owner);
        (self.stations.len() - 1) as u32
    }
}

/// Builds the system of `topo` under `design` (each service under its own,
/// `Design::of`), measured over `window`.
/// Stations are numbered replicas first (each with its sidecar and policy
/// sidecar; a node's before its first replica's sidecar), then the
/// client's when it has cores, then node proxies, then waypoints; peers
/// replicas first, then the client, then node proxies.
pub(super) fn deploy(topo: &Topology, design: &Design, window: (Nanos, Nanos)) -> Deployment {
    let mut st = Stations {
        window,
        stations: Vec::new(),
        owners: Vec::new(),
    };
    let (replicas, replica_base) = replicas(&mut st, topo, design);
    let client_station = topo
        .workload
        .client_cores
        .map_or(NONE, |cores| st.add(cores, StationOwner::Client));
    let (mut peers, client_peer) = peers(&replicas, design, topo.workload.client_zone);
    peers[client_peer as usize].station = client_station;
    let node_peer = node_proxies(&mut st, topo, design, &replicas, &mut peers);
    // Deployed when a service of the system runs a design with one (all
    // such designs run the same, as `config` checks).
    let waypoint = topo
        .services
        .iter()
        .enumerate()
        .filter(|(_, svc)| svc.external.is_none())
        .find_map(|(s, _)| design.of(s as u32).proxy.waypoint.as_ref());
    let waypoints = waypoints(&mut st, topo, waypoint);
    Deployment {
        stations: st.stations,
        owners: st.owners,
        replicas,
        replica_base,
        peers,
        client_peer,
        node_peer,
        waypoints,
    }
}

/// Every service's replicas, with their cores, sidecar and policy sidecar.
/// A replica placed on a node runs on the node's cores, one station for
/// all the replicas there, built when its first replica is.
fn replicas(st: &mut Stations, topo: &Topology, design: &Design) -> (Vec<Replica>, Vec<u32>) {
    let mut replicas = Vec::new();
    let mut replica_base = Vec::new();
    let mut node_station = vec![NONE; topo.nodes.len()];
    for (s, svc) in topo.services.iter().enumerate() {
        replica_base.push(replicas.len() as u32);
        let external = svc.external.is_some();
        let d = design.of(s as u32);
        for i in 0..svc.replicas {
            let own = match svc.node_of(i) {
                Some(n) if node_station[n as usize] == NONE => {
                    let node = &topo.nodes[n as usize];
                    node_station[n as usize] = st.add(node.cores, StationOwner::Host(n));
                    Cores::Shared(node_station[n as usize])
                }
                Some(n) => Cores::Shared(node_station[n as usize]),
                None => Cores::Own(svc.cores, svc.wakeup),
            };
            let (cores, sidecar, policy) = if external {
                // Outside the system: nothing of ours runs there.
                (NONE, NONE, NONE)
            } else {
                replica_stations(st, s as u32, own, d)
            };
            replicas.push(Replica {
                service: s as u32,
                zone: svc.zone_of(i),
                host: svc.node_of(i).unwrap_or(NONE),
                cores,
                sidecar,
                policy,
                workers: 0,
                limit: svc.concurrency.unwrap_or(NONE),
                waiting: VecDeque::new(),
                queued_jobs: 0,
                queue_limit: svc.queue_limit.unwrap_or(NONE),
                outstanding: 0,
                token_expiry: 0,
                external,
            });
        }
    }
    (replicas, replica_base)
}

/// A replica's cores: its own (how many, their wake-up), or a node's
/// station it shares.
enum Cores {
    Own(Millicores, Nanos),
    Shared(u32),
}

/// A replica's stations: its cores, its sidecar's (NONE without sidecars;
/// its own cores when the sidecar shares them) and its policy sidecar's.
fn replica_stations(st: &mut Stations, s: u32, cores: Cores, design: &Design) -> (u32, u32, u32) {
    let own = match cores {
        Cores::Own(cores, wakeup) => {
            let own = st.add(cores, StationOwner::Service(s));
            st.stations[own as usize].set_wakeup(wakeup);
            own
        }
        Cores::Shared(station) => station,
    };
    let sidecars = design.proxy.mode == ProxyMode::Sidecar;
    let sidecar = match (sidecars, design.proxy.shares_service_cores) {
        (false, _) => NONE,
        (true, true) => own,
        (true, false) => st.add(design.proxy.cost.cores, StationOwner::Sidecar(s)),
    };
    let policy = if design.authz.mode == AuthzMode::Sidecar {
        st.add(design.authz.sidecar_cores, StationOwner::PolicySidecar(s))
    } else {
        NONE
    };
    (own, sidecar, policy)
}

/// Peers: one per replica (its library or its sidecar, by its service's
/// design), then the client; returns them and the client's index.
fn peers(replicas: &[Replica], design: &Design, client_zone: ZoneId) -> (Vec<Peer>, u32) {
    let mut peers: Vec<Peer> = replicas
        .iter()
        .map(|r| {
            let sidecar =
                design.of(r.service).transport.terminate == Termination::Sidecar && !r.external;
            Peer {
                zone: r.zone,
                station: if sidecar { r.sidecar } else { r.cores },
                epoch: 0,
                proxy: sidecar,
                host: r.host,
            }
        })
        .collect();
    let client_peer = peers.len() as u32;
    peers.push(Peer {
        zone: client_zone,
        station: NONE,
        epoch: 0,
        proxy: false,
        host: NONE,
    });
    (peers, client_peer)
}

/// Node proxies: one per node, `nodes_per_zone` nodes in each zone; replica
/// r runs on node r mod nodes_per_zone of its zone. Each is a peer (added to
/// `peers`) with a station; returns each replica's node-proxy peer. Only
/// replicas whose service's design uses node proxies get one; every such
/// design runs the same node proxies (checked when the design was read).
fn node_proxies(
    st: &mut Stations,
    topo: &Topology,
    design: &Design,
    replicas: &[Replica],
    peers: &mut Vec<Peer>,
) -> Vec<u32> {
    let mut node_peer = vec![NONE; replicas.len()];
    let uses = |r: &Replica| !r.external && design.of(r.service).proxy.mode == ProxyMode::Node;
    if let Some(node) = design.node_proxies() {
        // Replica r sits on node r mod nodes, so nodes beyond the replica
        // count stay empty: the table needs no more columns than replicas.
        let nodes = (node.proxy.nodes_per_zone as usize).min(replicas.len().max(1));
        let mut node_of = vec![NONE; topo.zones.len() * nodes];
        for (r, np) in node_peer.iter_mut().enumerate() {
            if !uses(&replicas[r]) {
                continue; // outside the system, or under a design without them
            }
            let z = replicas[r].zone as usize;
            let slot = &mut node_of[z * nodes + r % nodes];
            if *slot == NONE {
                let station = st.add(node.proxy.cost.cores, StationOwner::Node(z as ZoneId));
                *slot = peers.len() as u32;
                peers.push(Peer {
                    zone: z as ZoneId,
                    station,
                    epoch: 0,
                    proxy: true,
                    host: NONE,
                });
            }
            *np = *slot;
        }
    }
    node_peer
}

/// Waypoint replicas, spread over the zones in turn.
fn waypoints(
    st: &mut Stations,
    topo: &Topology,
    waypoint: Option<&Waypoint>,
) -> Vec<(ZoneId, u32)> {
    waypoint.map_or(Vec::new(), |wp| {
        (0..wp.replicas)
            .map(|i| {
                let zone = (i as usize % topo.zones.len()) as ZoneId;
                (zone, st.add(wp.cost.cores, StationOwner::Waypoint))
            })
            .collect()
    })
}

/// The cumulative weights of the entry endpoints, for drawing a request's.
pub(super) fn entry_cdf(w: &Workload) -> Vec<f64> {
    let mut acc = 0.0;
    w.entries
        .iter()
        .map(|&(_, weight)| {
            acc += weight;
            acc
        })
        .collect()
}

/// One lane per distinct timeout duration (call sites' and the client's).
pub(super) fn timer_lanes(topo: &Topology) -> Vec<TimerLane> {
    let mut delays: Vec<Nanos> = topo.calls.iter().filter_map(|c| c.timeout).collect();
    delays.extend(topo.workload.timeout);
    delays.sort_unstable();
    delays.dedup();
    delays
        .into_iter()
        .map(|delay| TimerLane {
            delay,
            pending: VecDeque::new(),
            armed: false,
        })
        .collect()
}
