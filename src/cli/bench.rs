//! `ztsim bench`: the simulator's speed on a fixed scenario, printed beside a
//! bare `BinaryHeap` push+pop loop at the same queue size measured in the same
//! run, so the figures are ratios that survive a noisy machine.

use std::collections::BinaryHeap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use rand::RngCore;
use ztsim::config;
use ztsim::engine::EventQueue;
use ztsim::engine::rng::{Component, Streams};
use ztsim::model::sim::simulate;
use ztsim::model::topology::Window;
use ztsim::model::{Design, Topology};
use ztsim::study::{builtin, sweep};

use super::failure::Failure;
use super::flags::{CostsArg, ModelsArg, requests_value};

/// Flags of `ztsim bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Topology to simulate.
    #[arg(default_value = "topologies/ecommerce.toml")]
    topology: PathBuf,
    /// Designs timed beside plaintext.
    #[command(flatten)]
    models: ModelsArg,
    #[command(flatten)]
    costs: CostsArg,
    /// Measure this many requests (after warm-up) instead of a duration.
    #[arg(long, value_name = "N", default_value_t = 200_000, allow_hyphen_values = true, value_parser = requests_value)]
    requests: u64,
    /// Instead, time the built-in default study on 1 and on 2 threads.
    #[arg(long, conflicts_with_all = ALONE)]
    sweep: bool,
    /// Instead, time a capacity search, a sensitivity analysis and a sizing
    /// on topologies/chatty.toml as the commands a user types (child
    /// processes; run from the repository's root; slow: minutes).
    #[arg(long, conflicts_with_all = ALONE, conflicts_with = "sweep")]
    searches: bool,
    /// Also measure peak memory at 5M and 10M requests (two child processes;
    /// slow): from 5M on, each entry's slowest requests kept for the
    /// attribution are at their cap, and nothing else grows with the window.
    #[arg(long)]
    memory: bool,
    /// Internal: run N requests and print peak resident memory in KiB.
    #[arg(long, hide = true, value_name = "N", value_parser = requests_value)]
    memory_probe: Option<u64>,
    /// Also time a generated topology of 2,000 services and 10,000 call
    /// edges beside this one, and compare peak memory of a 24-hour window
    /// at 1,000 requests/s with a 1-hour one (topologies/minimal.toml;
    /// child processes; slow).
    #[arg(long)]
    scale: bool,
    /// Internal: with --scale, only the generated topology's speed (not the
    /// day-vs-hour memory comparison, which takes minutes).
    #[arg(long, hide = true, requires = "scale")]
    scale_size_only: bool,
    /// Internal: simulate the generated topology of --scale instead of
    /// TOPOLOGY (e.g. with --memory-probe, for its peak memory alone).
    #[arg(long, hide = true)]
    generated: bool,
    /// Internal: run a window of S seconds and print peak resident memory in KiB.
    #[arg(long, hide = true, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    memory_probe_secs: Option<u64>,
}

/// What `--sweep` and `--searches` run is fixed: flags that shape the
/// benchmark of one topology are refused beside them, not ignored.
const ALONE: [&str; 8] = [
    "models",
    "costs",
    "requests",
    "memory",
    "memory_probe",
    "scale",
    "generated",
    "memory_probe_secs",
];

/// `ztsim bench`: the speed of the default study's sweep on 1 and 2
/// threads (`--sweep`), of the searches (`--searches`), or of one topology
/// under plaintext and each design.
pub fn command(args: BenchArgs) -> Result<(), Failure> {
    if args.sweep {
        return sweep_speedup().map_err(Failure::Other);
    }
    if args.searches {
        return super::bench_searches::searches();
    }
    let topo = if args.generated {
        super::bench_scale::generated().map_err(Failure::Other)?
    } else {
        config::load_topology(&args.topology).map_err(Failure::BadInput)?
    };
    let costs = args.costs.load()?;
    let designs = args
        .models
        .models
        .iter()
        .map(|m| {
            let parsed = config::load_design(m, &topo, costs.as_ref())?;
            super::print::warnings(&parsed.warnings);
            Ok(parsed.design)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::BadInput)?;
    run(topo, &designs, args).map_err(Failure::Other)
}

/// Runs the benchmark on `topo` (loaded from `args.topology`), under
/// plaintext and each of `designs`.
fn run(mut topo: Topology, designs: &[Design], args: BenchArgs) -> Result<(), String> {
    let plain = Design::plaintext();
    topo.workload.warmup = 0;
    topo.workload.replications = 1;
    if let Some(n) = args.memory_probe {
        topo.workload.window = Window::Requests(n);
        black_box(simulate(&topo, &plain, 0));
        outln!("{}", peak_rss_kib().ok_or("cannot read /proc/self/status")?);
        return Ok(());
    }
    if let Some(s) = args.memory_probe_secs {
        topo.workload.window = Window::Duration(s * 1_000_000_000);
        black_box(simulate(&topo, &plain, 0));
        outln!("{}", peak_rss_kib().ok_or("cannot read /proc/self/status")?);
        return Ok(());
    }
    topo.workload.window = Window::Requests(args.requests);
    // Warm caches and the allocator once, then time.
    topo.workload.window = Window::Requests(args.requests / 10 + 1);
    black_box(simulate(&topo, &plain, 0));
    topo.workload.window = Window::Requests(args.requests);
    let t0 = Instant::now();
    let m = simulate(&topo, &plain, 0);
    let secs = t0.elapsed().as_secs_f64();
    let ns_per_event = secs * 1e9 / m.events as f64;
    let heap_ns = bare_heap_ns(m.peak_events_pending.max(1), m.events.min(20_000_000));
    let queue_ns = event_queue_ns(m.peak_events_pending.max(1), m.events.min(20_000_000));
    outln!(
        "scenario: {} ({} requests, one replication, one thread)",
        topo.name,
        args.requests
    );
    outln!(
        "  simulated events     {:>12}   {:>8.2} M events/s   {:>7.1} ns/event",
        m.events,
        m.events as f64 / secs / 1e6,
        ns_per_event
    );
    outln!(
        "  simulated calls      {:>12}   {:>8.2} M calls/s",
        m.calls,
        m.calls as f64 / secs / 1e6
    );
    outln!("  peak events pending  {:>12}", m.peak_events_pending);
    outln!("baseline at that queue size:");
    outln!("  bare BinaryHeap push+pop                 {heap_ns:>7.1} ns");
    outln!("  ztsim EventQueue schedule+pop            {queue_ns:>7.1} ns");
    outln!(
        "ratio: cost per simulated event / bare heap push+pop = {:.2}x (target <= 2x)",
        ns_per_event / heap_ns
    );
    if !designs.is_empty() {
        super::bench_designs::time_designs(&topo, designs, args.requests)?;
    }
    if args.memory {
        let topology = args.topology.display().to_string();
        let probe = |n: u64| {
            super::bench_scale::child_peak_kib(&[&topology, "--memory-probe", &n.to_string()])
        };
        let (small, large) = (probe(5_000_000)?, probe(10_000_000)?);
        outln!(
            "peak memory: {:.1} MiB at 5M requests, {:.1} MiB at 10M requests: {:+.1}% (target within 10%)",
            small as f64 / 1024.0,
            large as f64 / 1024.0,
            (large as f64 / small as f64 - 1.0) * 100.0
        );
    }
    if args.scale {
        super::bench_scale::generated_vs(&topo, args.requests)?;
        if !args.scale_size_only {
            super::bench_scale::day_vs_hour()?;
        }
    }
    Ok(())
}

/// Times the default study's sweep on one thread and on two (each in a pool
/// of its own, in the same run) and checks both give the same results.
fn sweep_speedup() -> Result<(), String> {
    let study = ztsim::config::study::expand(&builtin::spec()).map_err(|d| {
        d.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let time = |threads: usize| -> Result<(f64, ztsim::report::study::StudyResults), String> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        let results = pool.install(|| sweep::run(&study, &|| {}));
        let secs = t0.elapsed().as_secs_f64();
        Ok((secs, results))
    };
    let (one, first) = time(1)?;
    let (two, second) = time(2)?;
    let json = |r: &ztsim::report::study::StudyResults| {
        serde_json::to_string(r).map_err(|e| e.to_string())
    };
    let (a, b) = (json(&first)?, json(&second)?);
    outln!(
        "default study: {} points x {} replications",
        study.points.len(),
        study.replications
    );
    outln!("  1 thread   {one:>7.2} s");
    outln!("  2 threads  {two:>7.2} s");
    outln!(
        "speed-up on 2 threads: {:.2}x (target >= 1.8x); results identical: {}",
        one / two,
        if a == b { "yes" } else { "NO" }
    );
    if a != b {
        return Err("results differ between 1 and 2 threads".into());
    }
    super::bench_outputs::sizes(&first, &std::env::temp_dir())
}

/// 24-byte heap entries like the engine's events, ordered by (time, seq).
#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
struct Entry(std::cmp::Reverse<(u64, u64)>, u64);

/// Mean ns of one push plus one pop on a heap holding `size` entries.
fn bare_heap_ns(size: usize, ops: u64) -> f64 {
    let mut rng = Streams::new(1, 0).stream(Component::Arrivals, 0);
    let mut heap = BinaryHeap::with_capacity(size + 1);
    let mut now = 0u64;
    for i in 0..size as u64 {
        heap.push(Entry(std::cmp::Reverse((rng.next_u64() % 1_000_000, i)), i));
    }
    let t0 = Instant::now();
    for i in 0..ops {
        let Entry(std::cmp::Reverse((t, _)), _) = heap.pop().expect("heap is never empty");
        now = now.max(t);
        heap.push(Entry(
            std::cmp::Reverse((now + rng.next_u64() % 1_000_000, i)),
            i,
        ));
    }
    black_box(&heap);
    t0.elapsed().as_secs_f64() * 1e9 / ops as f64
}

/// The same loop through the engine's own queue.
fn event_queue_ns(size: usize, ops: u64) -> f64 {
    let mut rng = Streams::new(1, 0).stream(Component::Arrivals, 0);
    let mut q = EventQueue::new();
    for i in 0..size as u32 {
        q.schedule(rng.next_u64() % 1_000_000, 0, i, 0);
    }
    let t0 = Instant::now();
    for _ in 0..ops {
        let e = q.pop().expect("queue is never empty");
        q.schedule(rng.next_u64() % 1_000_000, 0, e.target, 0);
    }
    black_box(q.len());
    t0.elapsed().as_secs_f64() * 1e9 / ops as f64
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
