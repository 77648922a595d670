//! The size of a run, estimated before it starts, so that a model that would
//! explode (a runaway fan-out, a rate times duration beyond reason) is
//! refused with the figure that explains it instead of eating the machine.

use super::design::Design;
use super::dist::Dist;
use super::topology::{Arrivals, Topology, Window, replay_time};
use crate::units::NANOS_PER_SEC;
use crate::units::Nanos;

/// Events a single run may be expected to process before it is refused
/// (about an hour of simulation on one core).
pub const EVENT_BUDGET: f64 = 2e10;
/// Memory a run may be expected to need before it is refused.
pub const MEMORY_BUDGET: f64 = 8.0 * 1024.0 * 1024.0 * 1024.0;

/// Bytes of one latency histogram (HdrHistogram, 3 significant digits up to
/// 2^42 ns, u32 counts).
const HISTOGRAM_BYTES: f64 = 140_000.0;
/// Bytes a finished replication keeps per entry and edge (its latency
/// figures and attribution, `model::replication`), generously.
const FIGURES_BYTES: f64 = 512.0;
/// Bytes of one interval of a replication's time series.
/// Its latency buckets (up to 2 KB over eight octaves of latency) count in.
const SERIES_BUCKET_BYTES: f64 = std::mem::size_of::<super::series::SeriesBucket>() as f64 + 1024.0;
/// Bytes of per-call state in flight (slab slot, costs, queue entries).
const CALL_BYTES: f64 = 400.0;
/// A slowest request kept whole: latency and attribution (`tail.rs`),
/// doubled for the heap's growth.
const SLOW_BYTES: f64 = 176.0;
/// Bytes of one replica, waypoint or node proxy: its stations (cores, a
/// sidecar's, a policy sidecar's), its TLS peer and its core accounting
/// (about 260 measured with 10^7 replicas).
const REPLICA_BYTES: f64 = 512.0;
/// Events per simulated call, a generous upper figure (the baseline takes
/// about 3, a sidecar mesh about 7).
const EVENTS_PER_CALL: f64 = 8.0;

/// What a run will cost, roughly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    /// Expected internal calls per user request (plus the request itself).
    pub calls_per_request: f64,
    /// User requests per replication, warm-up included.
    pub requests: f64,
    /// Events per replication.
    pub events: f64,
    /// Peak memory of one replication, bytes.
    pub memory: f64,
}

/// How many of a recording's requests, played at `speed`, arrive before `end`.
pub fn replayed(times: &[Nanos], speed: f64, end: Nanos) -> usize {
    times.partition_point(|&t| replay_time(t, speed) < end)
}

impl Size {
    /// Estimates the size of a run of `topo` under `design`: the events of
    /// one replication, and the memory of the whole run (what one
    /// replication holds while it runs, and the measurements every
    /// replication keeps until the summary). Everything here is computed from
    /// counts, allocating nothing in proportion to them.
    pub fn of(topo: &Topology, design: &Design) -> Size {
        let w = &topo.workload;
        let visits = topo.visits();
        let calls_per_request = visits.iter().sum::<f64>();
        // Arrivals in the time simulated: warm-up and window for a duration,
        // warm-up then the requests asked for (and a margin) for a count.
        let (span, counted) = match w.window {
            Window::Duration(d) => (w.warmup.saturating_add(d), 0.0),
            Window::Requests(n) => (w.warmup, n as f64 * 1.2),
        };
        let seconds = span as f64 / NANOS_PER_SEC as f64;
        let requests = counted
            + match &w.arrivals {
                Arrivals::Poisson { rate } | Arrivals::Constant { rate } => rate * seconds,
                Arrivals::Profile { profile, .. } => profile.integral(0, span),
                Arrivals::Closed { users, think } => {
                    let cycle = think.mean() + fastest_request(topo);
                    f64::from(*users) * seconds / (cycle.max(1.0) / NANOS_PER_SEC as f64)
                }
                // A replay stops at its last recorded request.
                Arrivals::Replay { times, speed, .. } => replayed(times, *speed, span) as f64,
            };
        let events = requests * calls_per_request * EVENTS_PER_CALL;
        // A running replication holds histograms per entry and edge (and the
        // pooled one), the calls in flight in the worst case the engine
        // tolerates before calling the run saturated, every replica, proxy and
        // zone pair, and its time series. One runs per core at once. A
        // finished one keeps only its figures and its time series.
        // A histogram keeps up to `FEW` values plainly (8 bytes each, a
        // vector growing by doubling) and takes its buckets past them: an
        // edge sees at most as many calls as its callee gets; the entries'
        // and the pooled one count as dense.
        // Asynchronous call sites keep a histogram each, as edges do.
        let asynch = topo.async_calls().len();
        let measured = (w.entries.len() + topo.edges.len() + asynch + 1) as f64;
        let few = super::metrics::FEW as f64;
        let edges: f64 = topo
            .edges
            .iter()
            .map(|&(_, callee)| {
                let values = requests * visits[callee as usize];
                if values > few {
                    HISTOGRAM_BYTES
                } else {
                    values * 16.0
                }
            })
            .sum();
        let dense = (w.entries.len() + 1 + asynch) as f64;
        let histograms = (dense * HISTOGRAM_BYTES + edges) * 2.0;
        // Each entry's slowest requests, and all of them merged (`tail.rs`).
        let kept_slowest =
            requests.min(super::tail::held_at_most(super::tail::slowest_to_keep(w.window)) as f64);
        let slowest = (w.entries.len() + 1) as f64 * kept_slowest * SLOW_BYTES;
        let in_flight = (calls_per_request * 1e4).min(4e6) * CALL_BYTES;
        let deployed = units(topo, design) * REPLICA_BYTES;
        let zones = topo.zones.len() as f64;
        let matrix = zones * zones * std::mem::size_of::<Dist>() as f64;
        // With several entries, each keeps its own series beside the
        // whole's, and its latency pooled over replications (one histogram
        // each per worker, `Replications::pooled_entries`).
        let several = if w.entries.len() > 1 {
            w.entries.len() as f64
        } else {
            0.0
        };
        let series = series_buckets(w) * SERIES_BUCKET_BYTES * (1.0 + several);
        let pooled_entries = several * HISTOGRAM_BYTES;
        let running =
            histograms + slowest + in_flight + deployed + matrix + series + pooled_entries;
        let kept = measured * FIGURES_BYTES + series;
        let at_once = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(w.replications as usize) as f64;
        Size {
            calls_per_request,
            requests,
            events,
            memory: running * at_once + kept * f64::from(w.replications),
        }
    }

    /// Why this run is too big, if it is.
    pub fn refusal(&self) -> Option<String> {
        if self.events > EVENT_BUDGET {
            return Some(format!(
                "this run would simulate about {:.1e} events ({:.2e} requests x {:.0} calls each x ~{EVENTS_PER_CALL} events per call), beyond the budget of {EVENT_BUDGET:.0e}: shorten the duration, lower the rate (a closed loop's users, or give them a think time) or trim the call graph (or pass --no-guard)",
                self.events, self.requests, self.calls_per_request
            ));
        }
        if self.memory > MEMORY_BUDGET {
            return Some(format!(
                "this run would need about {:.1} GiB of memory, beyond the budget of {:.0} GiB: lower the replications, replicas (services' and the waypoint's), zones, or the entry points and edges of the call graph (or pass --no-guard)",
                self.memory / 1024f64.powi(3),
                MEMORY_BUDGET / 1024f64.powi(3)
            ));
        }
        None
    }
}

/// Nanoseconds the quickest entry's request takes at the least, about: the
/// client's round trip to it and its own CPU. A closed loop's users send at
/// most one request per think time plus this, so a model of nanosecond round
/// trips and no think time is sized for the billions of requests it would
/// simulate (where a floor of a millisecond once let it run for hours).
fn fastest_request(topo: &Topology) -> f64 {
    let w = &topo.workload;
    w.entries
        .iter()
        .map(|&(ep, _)| {
            let e = &topo.endpoints[ep as usize];
            let nearest = topo.services[e.service as usize]
                .placement
                .iter()
                .map(|&zone| topo.network.rtt(w.client_zone, zone).mean())
                .fold(f64::INFINITY, f64::min);
            nearest + e.cpu.mean()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Intervals of a replication's time series ([`super::series::series_interval`]).
fn series_buckets(w: &super::topology::Workload) -> f64 {
    super::series::series_span(w) as f64 / super::series::series_interval(w) as f64 + 1.0
}

/// Replicas, waypoint replicas and node proxies a run deploys.
fn units(topo: &Topology, design: &Design) -> f64 {
    let replicas: f64 = topo.services.iter().map(|s| f64::from(s.replicas)).sum();
    // One waypoint deployment and one node proxy per node serve every
    // design of the system (see `sim::deploy`).
    let waypoints = design
        .all()
        .find_map(|d| d.proxy.waypoint.as_ref())
        .map_or(0.0, |w| f64::from(w.replicas));
    // At most one node proxy per replica.
    let nodes = design.node_proxies().map_or(0.0, |d| {
        replicas.min(topo.zones.len() as f64 * f64::from(d.proxy.nodes_per_zone))
    });
    replicas + waypoints + nodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_topology;

    fn topo(rate: f64, duration: &str, times: u32) -> Topology {
        parse_topology(
            "g.toml",
            &format!(
                r#"
[zones.a]
rtt = "1ms"
[services.s]
endpoints.e = {{ stages = [[{{ call = "t.e", times = {times} }}]] }}
[services.t]
endpoints.e = {{}}
[workload]
arrivals = "poisson"
rate = {rate}
duration = "{duration}"
entry = [{{ endpoint = "s.e" }}]
"#
            ),
        )
        .unwrap()
    }

    #[test]
    fn estimates_follow_rate_duration_and_fan_out() {
        let s = Size::of(&topo(100.0, "10s", 4), &Design::plaintext());
        assert_eq!(s.calls_per_request, 5.0);
        assert_eq!(s.requests, 1000.0);
        assert_eq!(s.events, 1000.0 * 5.0 * EVENTS_PER_CALL);
        assert!(s.refusal().is_none());
    }

    /// A run of N requests still simulates its warm-up first: an hour of
    /// warm-up at 10^6 rps is 3.6e9 requests, whatever N is.
    #[test]
    fn a_request_count_window_counts_its_warm_up() {
        let mut t = topo(1e6, "1s", 1);
        t.workload.window = Window::Requests(100);
        t.workload.warmup = 3600 * NANOS_PER_SEC;
        let s = Size::of(&t, &Design::plaintext());
        assert_eq!(s.requests, 120.0 + 3.6e9);
        assert!(s.refusal().expect("refused").contains("events"));
        t.workload.warmup = 0;
        assert_eq!(Size::of(&t, &Design::plaintext()).requests, 120.0);
    }

    /// A closed loop sends one request per think time plus the quickest
    /// request: with nanosecond round trips and no think time, a user sends
    /// hundreds of millions a second.
    #[test]
    fn a_closed_loop_is_sized_by_its_quickest_request() {
        let closed = |rtt: &str, think: &str| {
            parse_topology(
                "c.toml",
                &format!(
                    r#"
[zones.a]
rtt = "{rtt}"
[services.api.endpoints.get]
cpu = "1us"
[workload]
arrivals = "closed"
users = 10
think = "{think}"
duration = "10s"
entry = [{{ endpoint = "api.get" }}]
"#
                ),
            )
            .unwrap()
        };
        // 10 users x 10 s / (1 us of CPU + 2 ns): about 1e8 requests.
        let fast = Size::of(&closed("2ns", "0s"), &Design::plaintext());
        assert!(
            (fast.requests / (1e8 / 1.002) - 1.0).abs() < 1e-9,
            "{fast:?}"
        );
        assert!(fast.refusal().is_none());
        let mut many = closed("2ns", "0s");
        many.workload.arrivals = Arrivals::Closed {
            users: 10_000,
            think: Dist::ZERO,
        };
        let why = Size::of(&many, &Design::plaintext())
            .refusal()
            .expect("refused");
        assert!(why.contains("closed loop's users"), "{why}");
        // A think time of 1 s, a 1 ms round trip and 1 us of CPU: 10 users x
        // 10 s / 1.001001 s.
        let slow = Size::of(&closed("1ms", "1s"), &Design::plaintext());
        assert!((slow.requests - 100.0 / 1.001001).abs() < 1e-6, "{slow:?}");
    }

    #[test]
    fn runaway_runs_are_refused_with_their_figure() {
        // 1e5 rps for 10 h with 1000 calls per request: ~3e13 events.
        let s = Size::of(&topo(1e5, "10h", 999), &Design::plaintext());
        let why = s.refusal().expect("refused");
        assert!(
            why.contains("events") && why.contains("beyond the budget"),
            "{why}"
        );
    }
}
