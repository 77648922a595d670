//! A topology file's form compiled into a [`Topology`]: names to dense ids,
//! zones and network, services, endpoints and their calls, every problem
//! collected with its key, and the compiled call graph checked for cycles and
//! runaway fan-out. The workload is `workload.rs`.

use std::collections::HashMap;

use super::compiler::{Compiler, MAX_EXPECTED_CALLS, MIN_RATE};
use super::file::{
    BalanceFile, CallFile, LocalityFile, RateLimitFile, ReasonFile, ServiceFile, TopologyFile,
};
use crate::config::diag::{Diagnostic, KeyPath};
use crate::model::dist::Dist;
use crate::model::topology::{
    Balance, CallSpec, Endpoint, EndpointId, Locality, Network, Node, RateLimit, Reason, RetryOn,
    Service, Topology, ZoneId,
};
use crate::units::{Millicores, Nanos};

/// Longest wake-up a service's core may take.
const MAX_WAKEUP: Nanos = 1_000_000_000;

/// Highest rate limit, tokens per second: far beyond any replica.
const MAX_RATE_LIMIT: f64 = 1e9;

/// Whether calls to `target` ("service.endpoint") can fail in a way
/// `retry_on` retries other than by timing out: errors (from it or
/// anything it calls), or a rejection by its queue or rate limit.
fn rejects(raw: &TopologyFile, target: &str, retry_on: RetryOn) -> bool {
    let (svc, ep) = target.split_once('.').unwrap_or((target, ""));
    let Some(svc) = raw.services.get(svc) else {
        return false;
    };
    retry_on.contains(Reason::Error)
        || (svc.queue_limit.is_some() && retry_on.contains(Reason::Shed))
        || (svc
            .endpoints
            .get(ep)
            .is_some_and(|e| e.rate_limit.is_some())
            && retry_on.contains(Reason::Limited))
}

/// A retried failure's reason.
fn reason(r: ReasonFile) -> Reason {
    match r {
        ReasonFile::Timeout => Reason::Timeout,
        ReasonFile::Shed => Reason::Shed,
        ReasonFile::Limited => Reason::Limited,
        ReasonFile::Error => Reason::Error,
    }
}

/// The services, endpoints and calls of a topology as they are compiled.
#[derive(Default)]
pub(super) struct Graph {
    services: Vec<Service>,
    pub(super) endpoints: Vec<Endpoint>,
    pub(super) calls: Vec<CallSpec>,
    pub(super) edges: Edges,
    /// Asynchronous call sites so far.
    pub(super) async_sites: u32,
}

/// The distinct (caller, callee) pairs in first-seen order, each found in
/// constant time (a linear scan made a long chain quadratic).
#[derive(Default)]
pub(super) struct Edges {
    list: Vec<(EndpointId, EndpointId)>,
    ids: HashMap<(EndpointId, EndpointId), u32>,
}

impl Edges {
    /// The id of the edge from `caller` to `target`, added if new.
    pub(super) fn id(&mut self, caller: EndpointId, target: EndpointId) -> u32 {
        let list = &mut self.list;
        *self.ids.entry((caller, target)).or_insert_with(|| {
            list.push((caller, target));
            list.len() as u32 - 1
        })
    }
}

impl Compiler<'_> {
    /// Every service in file order, each with its endpoints and their calls.
    fn services(&mut self, raw: &TopologyFile, endpoint_names: &[String], nodes: &[Node]) -> Graph {
        let mut g = Graph::default();
        for (sname, svc) in &raw.services {
            self.service(raw, (sname, svc), endpoint_names, nodes, &mut g);
        }
        g
    }

    /// One service: its placement, endpoints (with their stages of calls)
    /// and sizing, appended to `g`.
    fn service(
        &mut self,
        raw: &TopologyFile,
        (sname, svc): (&str, &ServiceFile),
        endpoint_names: &[String],
        nodes: &[Node],
        g: &mut Graph,
    ) {
        let sp = KeyPath::root().key("services").key(sname);
        let placement = self.placement(raw, svc, &sp, nodes);
        let sid = g.services.len() as u32;
        let is_external = svc.external == Some(true);
        let external = if is_external {
            Some(self.external(svc, &sp))
        } else {
            self.internal_only(svc, &sp);
            None
        };
        let mut eps = Vec::new();
        for (ename, ep) in &svc.endpoints {
            let epath = sp.key("endpoints").key(ename);
            let eid = g.endpoints.len() as EndpointId;
            eps.push(eid);
            self.endpoint_kind(ep, &epath, is_external);
            let latency = ep
                .latency
                .as_ref()
                .map_or(Dist::ZERO, |l| self.dist(l, &epath.key("latency")));
            let cpu = ep
                .cpu
                .as_ref()
                .map_or(Dist::ZERO, |c| self.dist(c, &epath.key("cpu")));
            let cpu_off_path = ep
                .cpu_off_path
                .as_ref()
                .map_or(Dist::ZERO, |c| self.dist(c, &epath.key("cpu_off_path")));
            let mut stages = Vec::new();
            for (si, stage) in ep.stages.iter().enumerate() {
                let mut ids = Vec::new();
                for (ci, call) in stage.iter().enumerate() {
                    let cp = epath.key("stages").index(si).index(ci);
                    if let Some(mut spec) =
                        self.call(raw, call, &cp, endpoint_names, eid, &mut g.edges)
                    {
                        if spec.async_site.is_some() {
                            spec.async_site = Some(g.async_sites);
                            g.async_sites += 1;
                        }
                        ids.push(g.calls.len() as u32);
                        g.calls.push(spec);
                    }
                }
                stages.push(ids);
            }
            g.endpoints.push(Endpoint {
                name: format!("{sname}.{ename}"),
                service: sid,
                cpu,
                cpu_off_path,
                latency,
                request_bytes: ep.request_size.map_or(0, |b| b.0),
                response_bytes: ep.response_size.map_or(0, |b| b.0),
                stages,
                rate_limit: ep
                    .rate_limit
                    .as_ref()
                    .map(|r| self.rate_limit(r, &epath.key("rate_limit"))),
                error_rate: ep
                    .error_rate
                    .map_or(0.0, |p| self.probability(p, &epath.key("error_rate"))),
                slow: ep.slow.as_ref().map(|s| self.slow(s, &epath.key("slow"))),
                queue: None,
            });
        }
        if svc.endpoints.is_empty() {
            self.error(
                &sp.key("endpoints"),
                "a service needs at least one endpoint",
            );
        }
        let concurrency = svc
            .concurrency
            .map(|c| self.count(c, 1, &sp.key("concurrency"), "concurrency"));
        let queue_limit = svc.queue_limit.map(|q| {
            if q == 0 {
                self.error_help(
                    &sp.key("queue_limit"),
                    "a queue limit of 0 lets no call wait",
                    Some(
                        "give at least 1, or leave `queue_limit` out for an unbounded queue".into(),
                    ),
                );
                1
            } else {
                self.count(q, 1, &sp.key("queue_limit"), "queue_limit")
            }
        });
        g.services.push(Service {
            name: sname.to_string(),
            replicas: self.count(svc.replicas.unwrap_or(1), 1, &sp.key("replicas"), "replicas"),
            // On nodes, a replica may use all of its (first) node's cores.
            cores: match placement.nodes.first() {
                Some(&n) => nodes[n as usize].cores,
                None => svc
                    .cores
                    .as_ref()
                    .map_or(Millicores::ONE, |c| self.cores(c, &sp.key("cores"))),
            },
            wakeup: match svc.wakeup {
                Some(w) if w.0 > MAX_WAKEUP => {
                    self.error(
                        &sp.key("wakeup"),
                        format!("a wake-up of {}ns is beyond 1s; give at most \"1s\" (a core that takes longer to start a job is not asleep)", w.0),
                    );
                    0
                }
                Some(w) => w.0,
                None => 0,
            },
            concurrency,
            balance: match svc.balance {
                None | Some(BalanceFile::RoundRobin) => Balance::RoundRobin,
                Some(BalanceFile::Random) => Balance::Random,
                Some(BalanceFile::LeastOutstanding) => Balance::LeastOutstanding,
            },
            locality: self.locality(svc, &sp),
            placement: placement.zones,
            nodes: placement.nodes,
            endpoints: eps,
            external,
            namespace: svc.namespace.clone(),
            queue_limit,
            pools: self.pools(raw, svc, &sp),
            down: self.down(svc, &sp),
            crashes: self.crashes(svc, &sp),
            pauses: self.service_pauses(svc, &sp),
            labels: svc
                .labels
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        });
    }

    pub(super) fn compile(
        mut self,
        raw: TopologyFile,
        stem: String,
    ) -> Result<Topology, Vec<Diagnostic>> {
        let root = KeyPath::root();
        if raw.zones.is_empty() {
            self.error(
                &root.key("zones"),
                "define at least one zone, e.g. [zones.az1] rtt = \"0.4ms\"",
            );
        }
        if raw.zones.len() > usize::from(ZoneId::MAX) {
            self.error(&root.key("zones"), format!("at most {} zones", ZoneId::MAX));
        }
        let network = self.network(&raw);
        let nodes = self.nodes(&raw);

        // Endpoint ids first, so calls can refer forward.
        let mut endpoint_names = Vec::new();
        if let Some(name) = &raw.name
            && let Some(m) = crate::config::name_problem("topology", name, false)
        {
            self.error(&KeyPath::root().key("name"), m);
        }
        for (sname, svc) in &raw.services {
            let sp = KeyPath::root().key("services").key(sname);
            if let Some(m) = crate::config::name_problem("service", sname, true) {
                self.error(&sp, m);
            }
            for ename in svc.endpoints.keys() {
                if let Some(m) = crate::config::name_problem("endpoint", ename, true) {
                    self.error(&sp.key("endpoints").key(ename), m);
                }
                endpoint_names.push(format!("{sname}.{ename}"));
            }
        }
        self.endpoint_ids = super::arrivals::ids_of(&endpoint_names)
            .into_iter()
            .map(|(n, i)| (n.to_string(), i))
            .collect();
        let mut graph = self.services(&raw, &endpoint_names, &nodes);
        let queues = self.queues(&raw, &endpoint_names, &mut graph);
        let Graph {
            services,
            endpoints,
            calls,
            edges,
            ..
        } = graph;
        let workload = self.workload(&raw, &endpoint_names);
        let think_given = raw.workload.think.is_some();
        let topo = Topology {
            name: raw.name.unwrap_or(stem),
            zones: raw.zones.keys().cloned().collect(),
            network,
            nodes,
            services,
            endpoints,
            calls,
            edges: edges.list,
            queues,
            workload,
        };
        if self.errors.is_empty() {
            self.check_graph(&topo);
        }
        if self.errors.is_empty() {
            self.check_progress(think_given, &topo);
        }
        if self.errors.is_empty() {
            Ok(topo)
        } else {
            Err(self.errors)
        }
    }

    /// The network: every zone's own RTT and one link per pair of zones.
    /// Linear in the file: the pair matrix is built only once every pair has
    /// its link (so the file itself is as large as the matrix), and a missing
    /// link is reported once per zone, not once per pair.
    fn network(&mut self, raw: &TopologyFile) -> Network {
        let n = raw.zones.len();
        let np = KeyPath::root().key("network");
        let own: Vec<Dist> = raw
            .zones
            .iter()
            .map(|(name, z)| self.dist(&z.rtt, &KeyPath::root().key("zones").key(name).key("rtt")))
            .collect();
        // Each pair (lower zone first) with its link's RTT.
        let mut links: HashMap<(usize, usize), Dist> = HashMap::new();
        for (li, link) in raw.network.links.iter().enumerate() {
            let lp = np.key("links").index(li);
            let [za, zb] = link.zones.as_slice() else {
                self.error(
                    &lp.key("zones"),
                    format!(
                        "a link joins exactly two zones, got {}: write one link per pair, e.g. zones = [\"az1\", \"az2\"]",
                        link.zones.len()
                    ),
                );
                continue;
            };
            let a = self.zone(&raw.zones, za, &lp.key("zones").index(0)) as usize;
            let b = self.zone(&raw.zones, zb, &lp.key("zones").index(1)) as usize;
            if a == b {
                self.error(&lp.key("zones"), "a link joins two different zones; the RTT within a zone is the zone's own `rtt`");
                continue;
            }
            let d = self.dist(&link.rtt, &lp.key("rtt"));
            if links.insert((a.min(b), a.max(b)), d).is_some() {
                self.error(
                    &lp.key("zones"),
                    format!("a second link between `{za}` and `{zb}`"),
                );
            }
        }
        let complete = self.missing_links(raw, &links);
        let mut rtt = Vec::new();
        if complete {
            rtt = vec![Dist::ZERO; n * n];
            for (i, d) in own.into_iter().enumerate() {
                rtt[i * n + i] = d;
            }
            for ((a, b), d) in links {
                rtt[a * n + b] = d.clone();
                rtt[b * n + a] = d;
            }
        }
        let bandwidth = raw.network.bandwidth_gbps.and_then(|g| {
            if g.is_finite() && g >= 1e-6 {
                Some(g * 1e9 / 8.0)
            } else {
                self.error(
                    &np.key("bandwidth_gbps"),
                    format!("bandwidth must be at least 1e-6 Gbit/s (1 kbit/s), got {g}"),
                );
                None
            }
        });
        let same_host = match &raw.network.same_host {
            Some(d) => self.dist(d, &np.key("same_host")),
            // Loopback TCP round trip (docs/sources.md, network round trips).
            None => Dist::Constant(40_000),
        };
        Network {
            same_host,
            rtt,
            bandwidth,
            zones: n,
        }
    }

    /// Reports the pairs of zones without a link, once per zone (its first
    /// missing partner after it, and how many more), at most
    /// `MAX_MISSING_REPORTS` zones; true when every pair has its link.
    fn missing_links(&mut self, raw: &TopologyFile, links: &HashMap<(usize, usize), Dist>) -> bool {
        const MAX_MISSING_REPORTS: usize = 20;
        let n = raw.zones.len();
        let mut later = vec![0usize; n];
        for &(a, _) in links.keys() {
            later[a] += 1;
        }
        let np = KeyPath::root().key("network");
        let links_key = np.key("links");
        let names: Vec<&String> = raw.zones.keys().collect();
        let mut reported = 0;
        let mut lacking = 0;
        for a in 0..n {
            let missing = n - 1 - a - later[a];
            if missing == 0 {
                continue;
            }
            lacking += 1;
            if reported == MAX_MISSING_REPORTS {
                continue;
            }
            reported += 1;
            // Present pairs are at most later[a], so this scan is short.
            let b = (a + 1..n)
                .find(|&b| !links.contains_key(&(a, b)))
                .expect("a missing pair exists");
            // Point at the links if there are any, else at the zone that lacks one.
            let at = [links_key.clone(), np.clone()]
                .into_iter()
                .find(|p| self.src.contains(p))
                .unwrap_or_else(|| KeyPath::root().key("zones").key(names[b]));
            let more = match missing - 1 {
                0 => String::new(),
                m => format!(" (nor between `{}` and {m} other zones after it)", names[a]),
            };
            let mut d = self.src.error(
                &at,
                format!(
                    "no RTT between zones `{}` and `{}`{more}: add [[network.links]] zones = [\"{}\", \"{}\"], rtt = \"1ms\"",
                    names[a], names[b], names[a], names[b]
                ),
            );
            d.key = Some(links_key.clone());
            self.errors.push(d);
        }
        if lacking > reported {
            self.error(
                &np,
                format!(
                    "{} more zones lack links; every pair of distinct zones needs one ({} links for {n} zones)",
                    lacking - reported,
                    n * (n - 1) / 2
                ),
            );
        }
        lacking == 0
    }

    fn call(
        &mut self,
        raw: &TopologyFile,
        call: &CallFile,
        path: &KeyPath,
        names: &[String],
        caller: EndpointId,
        edges: &mut Edges,
    ) -> Option<CallSpec> {
        let (target, called) = self.call_target(raw, call, path, names)?;
        let times = call
            .times
            .map_or(1, |t| self.count(t, 1, &path.key("times"), "times"));
        let probability = call
            .probability
            .map_or(1.0, |p| self.probability(p, &path.key("probability")));
        let retries = call
            .retries
            .map_or(0, |r| self.count(r, 0, &path.key("retries"), "retries"));
        let retry_on = call.retry_on.as_ref().map_or(RetryOn::DEFAULT, |r| {
            RetryOn::of(&r.iter().map(|&x| reason(x)).collect::<Vec<_>>())
        });
        if retries > 0 && call.timeout.is_none() && !rejects(raw, called, retry_on) {
            self.error_help(
                &path.key("retries"),
                "these retries never happen: set `timeout` too (without one, a call is retried only when its callee rejects it or it fails for a reason `retry_on` names)",
                Some("or give the callee a `queue_limit` or `rate_limit` that `retry_on` names, or retry errors (retry_on = [\"error\"])".into()),
            );
        }
        if call.timeout.is_some_and(|t| t.0 == 0) {
            self.error(&path.key("timeout"), "a timeout must be above zero");
        }
        let target = target?;
        let edge = edges.id(caller, target);
        Some(CallSpec {
            target,
            edge,
            times,
            parallel: call.parallel.unwrap_or(false),
            probability,
            timeout: call.timeout.map(|t| t.0),
            retries,
            // Exponential backoff base; gRPC's default initial backoff is 1 s,
            // but in-mesh retry policies start far lower (Envoy: 25 ms).
            backoff: call.backoff.map_or(25_000_000, |b| b.0),
            retry_on,
            // Numbered by the caller (`Graph::async_sites`).
            async_site: (call.asynchronous == Some(true)).then_some(0),
        })
    }

    /// A probability, in [0, 1].
    pub(super) fn probability(&mut self, p: f64, path: &KeyPath) -> f64 {
        if !(0.0..=1.0).contains(&p) {
            self.error(
                path,
                format!("a probability must be between 0 and 1, got {p}"),
            );
            return 0.0;
        }
        p
    }

    /// A token bucket: a rate above zero, a burst of at least one token.
    /// Zone-aware balancing: `spill_over` only with `locality =
    /// "prefer-zone"`, and at least 1 (0 would spill every call).
    fn locality(&mut self, svc: &ServiceFile, sp: &KeyPath) -> Option<Locality> {
        let prefer = svc.locality == Some(LocalityFile::PreferZone);
        let spill_over = svc.spill_over.map(|n| {
            if !prefer && svc.external != Some(true) {
                self.error_help(
                    &sp.key("spill_over"),
                    "`spill_over` applies only to zone-aware balancing",
                    Some("add `locality = \"prefer-zone\"`, or remove `spill_over`".into()),
                );
            }
            if n == 0 {
                self.error_help(
                    &sp.key("spill_over"),
                    "a spill-over of 0 would send every call out of the caller's zone",
                    Some("give at least 1 call outstanding at every local replica, or leave `spill_over` out to never spill while the zone has a replica".into()),
                );
                return 1;
            }
            self.count(n, 1, &sp.key("spill_over"), "spill_over")
        });
        (prefer && svc.external != Some(true)).then_some(Locality { spill_over })
    }

    fn rate_limit(&mut self, r: &RateLimitFile, path: &KeyPath) -> RateLimit {
        if !(r.rate.is_finite() && r.rate >= MIN_RATE && r.rate <= MAX_RATE_LIMIT) {
            self.error_help(
                &path.key("rate"),
                format!("a rate limit of {} per second is not one", r.rate),
                Some(format!(
                    "give tokens per second from {MIN_RATE} to {MAX_RATE_LIMIT:e}, e.g. rate_limit = {{ rate = 200, burst = 20 }}"
                )),
            );
        }
        RateLimit {
            rate: r.rate.clamp(MIN_RATE, MAX_RATE_LIMIT),
            burst: r
                .burst
                .map_or(1, |b| self.count(b, 1, &path.key("burst"), "burst")),
        }
    }

    /// Cycles and runaway fan-out, found on the compiled graph.
    fn check_graph(&mut self, topo: &Topology) {
        let mut mark = vec![Mark::New; topo.endpoints.len()];
        for ep in 0..topo.endpoints.len() as EndpointId {
            if mark[ep as usize] == Mark::New
                && let Some(cycle) = find_cycle(topo, ep, &mut mark)
            {
                // From an endpoint whose stages the file writes: a queue's
                // broker gets its stage from `[queues]`, not from its table.
                let broker = |e: EndpointId| topo.queues.iter().find(|q| q.broker == e);
                let ring = &cycle[..cycle.len() - 1];
                let first = ring.iter().position(|&e| broker(e).is_none()).unwrap_or(0);
                let mut cycle: Vec<EndpointId> = ring[first..]
                    .iter()
                    .chain(&ring[..first])
                    .copied()
                    .collect();
                cycle.push(cycle[0]);
                let names: Vec<String> = cycle
                    .iter()
                    .map(|&e| {
                        let name = &topo.endpoints[e as usize].name;
                        match broker(e) {
                            Some(q) => format!("{name} (queue `{}`)", q.name),
                            None => name.clone(),
                        }
                    })
                    .collect();
                let start = &topo.endpoints[cycle[0] as usize].name;
                let (svc, ep) = start.split_once('.').unwrap_or((start, ""));
                let at = KeyPath::root()
                    .key("services")
                    .key(svc)
                    .key("endpoints")
                    .key(ep)
                    .key("stages");
                self.error(
                    &at,
                    format!(
                        "the call graph has a cycle: {}; a request would never finish",
                        names.join(" -> ")
                    ),
                );
                return;
            }
        }
        for (i, &(entry, _)) in topo.workload.entries.iter().enumerate() {
            let calls: f64 = topo.visits_from(entry).iter().sum::<f64>() - 1.0;
            if calls.is_nan() || calls > MAX_EXPECTED_CALLS {
                self.error(
                    &KeyPath::root().key("workload").key("entry").index(i),
                    format!(
                        "one request to `{}` makes {calls:.3e} internal calls on average, beyond the limit of {MAX_EXPECTED_CALLS:.0}; check the `times` of its call graph",
                        topo.endpoints[entry as usize].name
                    ),
                );
            }
        }
    }
}

/// Where the cycle search stands on an endpoint.
#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    Open,
    Done,
}

/// Depth-first search from `root` with colours, iterative so that a call
/// chain as deep as the input allows cannot overflow the stack: a target
/// still open closes a cycle, returned from its first endpoint back to it.
fn find_cycle(topo: &Topology, root: EndpointId, mark: &mut [Mark]) -> Option<Vec<EndpointId>> {
    // The open path, each with the (stage, call) to follow next.
    let mut path: Vec<(EndpointId, usize, usize)> = vec![(root, 0, 0)];
    mark[root as usize] = Mark::Open;
    while let Some(top) = path.last_mut() {
        let (ep, si, ci) = *top;
        let stages = &topo.endpoints[ep as usize].stages;
        match stages.get(si) {
            Some(stage) if ci < stage.len() => {
                top.2 += 1;
                let t = topo.calls[stage[ci] as usize].target;
                match mark[t as usize] {
                    Mark::Open => {
                        let start = path.iter().position(|&(p, ..)| p == t).unwrap_or(0);
                        let mut cycle: Vec<EndpointId> =
                            path[start..].iter().map(|&(p, ..)| p).collect();
                        cycle.push(t);
                        return Some(cycle);
                    }
                    Mark::New => {
                        mark[t as usize] = Mark::Open;
                        path.push((t, 0, 0));
                    }
                    Mark::Done => {}
                }
            }
            Some(_) => *top = (ep, si + 1, 0),
            None => {
                mark[ep as usize] = Mark::Done;
                path.pop();
            }
        }
    }
    None
}
