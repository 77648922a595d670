//! `ztsim published`: the presets against published measurements
//! ([docs/validation.md](../../docs/validation.md)). Each benchmark's setup
//! is a topology and designs shipped in `topologies/published/` (compiled
//! in, so the command works from any folder); each design runs against the
//! plaintext baseline on the same seeds, and the rows say what ztsim
//! predicts beside what was published.

use crate::config::{Diagnostic, parse_design, parse_topology};
use crate::model::metrics::{LatencyHistogram, StationOwner};
use crate::model::topology::{Arrivals, Window};
use crate::model::{Design, Topology, run_replications};
use crate::report::published::Row;
use crate::units::NANOS_PER_SEC;

/// A shipped file: its path in the repository and its text.
type Shipped = (&'static str, &'static str);

macro_rules! shipped {
    ($name:literal) => {
        (
            concat!("topologies/published/", $name),
            include_str!(concat!("../../topologies/published/", $name)),
        )
    };
}

const ISTIO_PERF: Shipped = shipped!("istio-perf.toml");
const EMOJIVOTO: Shipped = shipped!("emojivoto.toml");
/// Istio 1.2x sidecars as in `models/istio-sidecar.toml`, without JWT and
/// policy (the benchmark had none).
const ISTIO_SIDECARS: Shipped = shipped!("istio-sidecar.design.toml");
/// Istio 1.12's Envoy (the 2021 benchmark's): 350 us per request.
const ISTIO_2021: Shipped = shipped!("istio-2021.design.toml");
/// `models/linkerd-like.toml` without policy.
const LINKERD_2021: Shipped = shipped!("linkerd-2021.design.toml");

/// Every shipped file of `topologies/published/`, for checks.
pub const FILES: [Shipped; 5] = [
    ISTIO_PERF,
    EMOJIVOTO,
    ISTIO_SIDECARS,
    ISTIO_2021,
    LINKERD_2021,
];

/// Istio's performance page (Istio 1.20): two sidecars add 0.23 ms at p90
/// and 0.30 ms at p99; a sidecar uses 0.20 vCPU per 1000 rps (Istio 1.24).
const ISTIO_P90_MS: f64 = 0.23;
const ISTIO_P99_MS: f64 = 0.30;
const ISTIO_VCPU: f64 = 0.20;
/// linkerd-bench: added p50 (ms), (rate, Linkerd, Istio).
const LINKERD_BENCH: [(f64, f64, f64); 3] =
    [(20.0, 8.0, 20.0), (200.0, 8.0, 20.0), (2000.0, 6.0, 17.0)];

/// How long each design runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Replications per design (same seeds for every design).
    pub replications: u32,
    /// Measured seconds per replication.
    pub duration_s: f64,
    /// Warm-up seconds per replication.
    pub warmup_s: f64,
}

impl Settings {
    /// The full run: 5 replications of 10 s after 1 s of warm-up.
    pub const FULL: Settings = Settings {
        replications: 5,
        duration_s: 10.0,
        warmup_s: 1.0,
    };
    /// `--quick`: 2 replications of 1 s after 0.5 s.
    pub const QUICK: Settings = Settings {
        replications: 2,
        duration_s: 1.0,
        warmup_s: 0.5,
    };
}

/// What one design measured over its replications.
struct Measured {
    /// The edge or entry compared, pooled over replications.
    latency: LatencyHistogram,
    /// vCPU (busy core-seconds per second) per instance of the owner asked.
    vcpu: f64,
}

fn topology(file: Shipped, s: Settings, rate: Option<f64>) -> Result<Topology, Vec<Diagnostic>> {
    let mut t = parse_topology(file.0, file.1)?;
    let w = &mut t.workload;
    w.replications = s.replications;
    w.warmup = (s.warmup_s * NANOS_PER_SEC as f64) as u64;
    w.window = Window::Duration((s.duration_s * NANOS_PER_SEC as f64) as u64);
    if let Some(rate) = rate {
        w.arrivals = Arrivals::Poisson { rate };
    }
    Ok(t)
}

fn design(file: Shipped, topo: &Topology) -> Result<Design, Vec<Diagnostic>> {
    parse_design(file.0, file.1, Some(topo))
}

/// Runs `design` on `topo`: the latency of `edge` (None: every request end
/// to end) and the CPU of the stations of `owner` (None: none asked).
fn measure(
    topo: &Topology,
    design: &Design,
    edge: Option<usize>,
    owner: Option<StationOwner>,
) -> Measured {
    let mut latency = LatencyHistogram::default();
    let (mut busy, mut window) = (0u128, 0u128);
    for m in run_replications(topo, design) {
        match edge {
            Some(e) => latency.merge(&m.edges[e].latency),
            None => latency.merge(&m.all_requests().latency),
        }
        if let Some(st) = owner.and_then(|o| m.station(o)) {
            busy += st.busy.iter().map(|&b| u128::from(b)).sum::<u128>();
            window += u128::from(m.window) * u128::from(st.instances);
        }
    }
    let vcpu = if window == 0 {
        0.0
    } else {
        busy as f64 / window as f64
    };
    Measured { latency, vcpu }
}

/// q-quantile of `a` minus that of `b`, in ms.
fn added_ms(a: &LatencyHistogram, b: &LatencyHistogram, q: f64) -> f64 {
    let (x, y) = (a.quantile(q).unwrap_or(0.0), b.quantile(q).unwrap_or(0.0));
    (x - y) / 1e6
}

/// Every row: Istio's benchmark (with the preset's off-path share, then all
/// of the proxy CPU on the path), then Linkerd against Istio at each rate.
pub fn published(s: Settings) -> Result<Vec<Row>, Vec<Diagnostic>> {
    let mut rows = istio_perf(s)?;
    rows.extend(linkerd_bench(s)?);
    Ok(rows)
}

fn istio_perf(s: Settings) -> Result<Vec<Row>, Vec<Diagnostic>> {
    let topo = topology(ISTIO_PERF, s, None)?;
    let sidecars = design(ISTIO_SIDECARS, &topo)?;
    let mut on_path = sidecars.clone();
    on_path.proxy.cost.off_path = 0.0;
    let server = topo
        .services
        .iter()
        .position(|x| x.name == "fortio-server")
        .expect("the shipped topology has fortio-server") as u32;
    let owner = Some(StationOwner::Sidecar(server));
    let base = measure(&topo, &Design::plaintext(), Some(0), owner);
    let rate = topo.workload.arrivals.rate().unwrap_or(1000.0);
    let mut rows = Vec::new();
    for (d, label) in [
        (&sidecars, String::new()),
        (&on_path, " (all proxy CPU on the path)".to_string()),
    ] {
        let m = measure(&topo, d, Some(0), owner);
        let row = |what: &str, unit, reference_value, ztsim| Row {
            reference: "istio-perf",
            row: format!("{what}{label}"),
            unit,
            reference_value,
            ztsim,
        };
        rows.push(row(
            "added p90 two sidecars",
            "ms",
            ISTIO_P90_MS,
            added_ms(&m.latency, &base.latency, 0.9),
        ));
        rows.push(row(
            "added p99 two sidecars",
            "ms",
            ISTIO_P99_MS,
            added_ms(&m.latency, &base.latency, 0.99),
        ));
        rows.push(row(
            "vCPU per 1000 rps per sidecar",
            "vCPU",
            ISTIO_VCPU,
            m.vcpu * 1000.0 / rate,
        ));
    }
    Ok(rows)
}

fn linkerd_bench(s: Settings) -> Result<Vec<Row>, Vec<Diagnostic>> {
    let mut rows = Vec::new();
    for (rate, linkerd_ms, istio_ms) in LINKERD_BENCH {
        let topo = topology(EMOJIVOTO, s, Some(rate))?;
        let istio = design(ISTIO_2021, &topo)?;
        let linkerd = design(LINKERD_2021, &topo)?;
        let base = measure(&topo, &Design::plaintext(), None, None).latency;
        let added = |d: &Design| added_ms(&measure(&topo, d, None, None).latency, &base, 0.5);
        rows.push(Row {
            reference: "linkerd-bench",
            row: format!("Linkerd/Istio added p50 at {rate} rps"),
            unit: "ratio",
            reference_value: linkerd_ms / istio_ms,
            ztsim: added(&linkerd) / added(&istio),
        });
    }
    Ok(rows)
}
