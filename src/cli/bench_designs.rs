//! `ztsim bench -m DESIGN`: each design timed beside plaintext at one rate
//! where every one of them is stable. A saturated run's queues grow without
//! bound, so its calls per second measure the backlog, not the design: the
//! rate is half the lowest design's saturation bound, and a timing run that
//! saturates anyway is flagged and given no ratio.

use std::hint::black_box;
use std::time::Instant;

use ztsim::model::metrics::RunMetrics;
use ztsim::model::sim::{simulate, tally_events};
use ztsim::model::topology::Window;
use ztsim::model::{Design, Topology};

/// The timing rate as a share of the lowest saturation bound.
pub const SHARE_OF_BOUND: f64 = 0.5;
/// Requests of a pilot run that measures utilisation.
const PILOT_REQUESTS: u64 = 20_000;
/// A pilot this busy (or saturated) is too close to tell the bound: halve.
const PILOT_MAX_UTILISATION: f64 = 0.9;

/// The busiest group of cores' utilisation in a run.
fn busiest(m: &RunMetrics) -> f64 {
    m.stations
        .iter()
        .map(|s| s.utilisation())
        .fold(0.0, f64::max)
}

/// `topo` at `rate` (open loop) over `requests`, one replication.
fn at_rate(topo: &Topology, rate: f64, requests: u64) -> Topology {
    let mut t = topo.clone();
    t.workload.arrivals.set_rate(rate);
    t.workload.window = Window::Requests(requests);
    t
}

/// The rate at which `design`'s busiest cores would reach 100%: measured
/// at the topology's rate (halved until the pilot is clearly below
/// saturation) and scaled, utilisation being proportional to the rate.
fn saturation_bound(topo: &Topology, design: &Design) -> Option<f64> {
    let mut rate = topo.workload.arrivals.rate()?;
    for _ in 0..20 {
        let m = simulate(&at_rate(topo, rate, PILOT_REQUESTS), design, 0);
        let rho = busiest(&m);
        if m.saturation.is_none() && rho < PILOT_MAX_UTILISATION {
            return (rho > 0.0).then(|| rate / rho);
        }
        rate /= 2.0;
    }
    None
}

/// Times plaintext and each of `designs` on `topo` at one stable rate,
/// `requests` each, and prints calls per second, events per call and the
/// ratio to plaintext, then each design's events per call by cause.
pub fn time_designs(topo: &Topology, designs: &[Design], requests: u64) -> Result<(), String> {
    let plain = Design::plaintext();
    let Some(given) = topo.workload.arrivals.rate() else {
        return Err(
            "designs are timed at an open-loop rate; this topology's arrivals have none".into(),
        );
    };
    let mut lowest: Option<(f64, &str)> = None;
    for d in std::iter::once(&plain).chain(designs) {
        let bound = saturation_bound(topo, d).ok_or_else(|| {
            format!(
                "{}: saturated even at a small fraction of the topology's rate",
                d.name
            )
        })?;
        outln!(
            "  {:<28} saturates near {:>9.0} rps (busiest cores, pilot run)",
            d.name,
            bound
        );
        if lowest.is_none_or(|(b, _)| bound < b) {
            lowest = Some((bound, &d.name));
        }
    }
    let (bound, by) = lowest.ok_or("no design")?;
    let rate = (SHARE_OF_BOUND * bound).min(given);
    outln!(
        "designs timed at {rate:.0} rps: {:.0}% of the lowest saturation bound ({by}, {bound:.0} rps), at most the topology's {given:.0} rps",
        SHARE_OF_BOUND * 100.0
    );
    let topo = at_rate(topo, rate, requests);
    // Warm caches once at this rate, then time.
    black_box(simulate(
        &at_rate(&topo, rate, requests / 10 + 1),
        &plain,
        0,
    ));
    let mut plain_rate = None;
    for d in std::iter::once(&plain).chain(designs) {
        let t0 = Instant::now();
        let m = simulate(&topo, d, 0);
        let secs = t0.elapsed().as_secs_f64();
        let calls_per_s = m.calls as f64 / secs;
        let head = format!(
            "  {:<28} {:>6.2} M calls/s, {:>5.1} events per call, busiest cores {:>3.0}%",
            d.name,
            calls_per_s / 1e6,
            m.events as f64 / m.calls.max(1) as f64,
            busiest(&m) * 100.0
        );
        if m.saturation.is_some() {
            outln!("{head}; SATURATED: not a timing, no ratio");
            continue;
        }
        match plain_rate {
            None => {
                plain_rate = Some(calls_per_s);
                outln!("{head}");
            }
            Some(p) => outln!("{head}; {:.2}x plaintext (target >= 0.7x)", calls_per_s / p),
        }
        print_causes(&at_rate(&topo, rate, requests / 10 + 1), d);
    }
    Ok(())
}

/// Causes of fewer events per call than this are summed as one line.
const MINOR_CAUSE: f64 = 0.01;

/// Where `design`'s events go, per call, from an untimed run of `topo`:
/// what a call costs in events, and so the floor of its events per call.
fn print_causes(topo: &Topology, design: &Design) {
    let (m, causes) = tally_events(topo, design, 0);
    let calls = m.calls.max(1) as f64;
    outln!(
        "      events per call by cause ({} calls, untimed):",
        m.calls
    );
    let mut minor = 0.0;
    for (cause, n) in &causes {
        let per_call = *n as f64 / calls;
        if per_call < MINOR_CAUSE {
            minor += per_call;
        } else {
            outln!("      {per_call:>7.2}  {cause}");
        }
    }
    if minor >= MINOR_CAUSE / 2.0 {
        outln!("      {minor:>7.2}  other causes, each under {MINOR_CAUSE} per call");
    }
}
