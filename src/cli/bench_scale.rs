//! `ztsim bench --scale`: the cost of a call grows with the work, not with
//! the topology. A generated topology of 2,000 services and 10,000 call
//! edges is timed beside the benchmark's own topology on as many requests,
//! and peak memory of a 24-hour window at 1,000 requests per second is
//! compared with that of a 1-hour window (child processes, `--memory-probe`).

use std::fmt::Write;
use std::time::Instant;

use ztsim::config;
use ztsim::model::sim::simulate;
use ztsim::model::topology::Window;
use ztsim::model::{Design, Topology};

/// Services of the generated topology.
const SERVICES: usize = 2_000;
/// Services that are entry endpoints, equally weighted.
const ENTRIES: usize = 20;
/// Chance each call site is taken: five sites per service at 0.18 keep a
/// request's call tree small (about ten calls), as in a real system where
/// most call paths are rare.
const PROBABILITY: f64 = 0.18;
/// A service calls services at most this far after it in the order (the
/// graph is acyclic by construction: calls go to later services only).
const REACH: usize = 200;

/// The callees of service `i`: distinct later services, deterministic.
/// Out-degree 5 (6 for the first 15, fewer at the very end) makes
/// 10,000 edges in all.
fn callees(i: usize) -> Vec<usize> {
    let later = SERVICES - 1 - i;
    let degree = (5 + usize::from(i < 15)).min(later);
    let span = later.min(REACH);
    let mut out = Vec::with_capacity(degree);
    // SplitMix64 steps from the service's index: a fixed, spread choice.
    let mut x = i as u64 ^ 0x9e37_79b9_7f4a_7c15;
    while out.len() < degree {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let j = i + 1 + (z % span as u64) as usize;
        if !out.contains(&j) {
            out.push(j);
        }
    }
    out.sort_unstable();
    out
}

/// The generated topology as a topology file's text.
pub fn generated_text() -> String {
    let mut t = String::from(
        "name = \"generated\"\ndescription = \"2,000 services, 10,000 call edges (ztsim bench --scale)\"\n\n[network]\nsame_host = \"40us\"\n\n[zones.z1]\nrtt = { dist = \"lognormal\", median = \"0.4ms\", p99 = \"1ms\" }\n",
    );
    for i in 0..SERVICES {
        let _ = write!(
            t,
            "\n[services.s{i:04}]\nzone = \"z1\"\nreplicas = 2\ncores = 2\n\n[services.s{i:04}.endpoints.e]\ncpu = {{ dist = \"lognormal\", median = \"100us\", p99 = \"400us\" }}\nresponse_size = \"2KiB\"\n"
        );
        let sites: Vec<String> = callees(i)
            .iter()
            .map(|j| format!("{{ call = \"s{j:04}.e\", probability = {PROBABILITY} }}"))
            .collect();
        if !sites.is_empty() {
            let _ = writeln!(t, "stages = [[{}]]", sites.join(", "));
        }
    }
    let entries: Vec<String> = (0..ENTRIES)
        .map(|i| format!("{{ endpoint = \"s{i:04}.e\", weight = 1 }}"))
        .collect();
    let _ = write!(
        t,
        "\n[workload]\narrivals = \"poisson\"\nrate = 1500\nclient_zone = \"z1\"\nwarmup = \"0s\"\nduration = \"20s\"\nseed = 1\nreplications = 1\nentry = [{}]\n",
        entries.join(", ")
    );
    t
}

/// The generated topology, validated like any file.
pub fn generated() -> Result<Topology, String> {
    config::parse_topology("<generated>", &generated_text()).map_err(|d| {
        d.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Calls per second of `topo` under plaintext over `requests` requests.
fn calls_per_s(topo: &Topology, requests: u64) -> (f64, f64) {
    let mut t = topo.clone();
    t.workload.warmup = 0;
    t.workload.replications = 1;
    t.workload.window = Window::Requests(requests);
    let plain = Design::plaintext();
    let t0 = Instant::now();
    let m = simulate(&t, &plain, 0);
    let secs = t0.elapsed().as_secs_f64();
    (
        m.calls as f64 / secs,
        m.events as f64 / m.calls.max(1) as f64,
    )
}

/// Times the generated topology beside `base` (the benchmark's topology).
pub fn generated_vs(base: &Topology, requests: u64) -> Result<(), String> {
    let t0 = Instant::now();
    let topo = generated()?;
    let build = t0.elapsed().as_secs_f64();
    let calls = topo.visits().iter().sum::<f64>() - 1.0;
    outln!(
        "generated topology: {} services, {} call edges, {:.1} calls per request; read and validated in {:.2} s",
        topo.services.len(),
        topo.edges.len(),
        calls,
        build
    );
    let (base_rate, base_events) = calls_per_s(base, requests);
    let (gen_rate, gen_events) = calls_per_s(&topo, requests);
    outln!(
        "  {:<28} {:>6.2} M calls/s, {:>4.1} events per call",
        base.name,
        base_rate / 1e6,
        base_events
    );
    outln!(
        "  {:<28} {:>6.2} M calls/s, {:>4.1} events per call; {:.2}x {} (target >= 0.5x)",
        "generated",
        gen_rate / 1e6,
        gen_events,
        gen_rate / base_rate,
        base.name
    );
    Ok(())
}

/// The topology of the memory comparison: 1,000 requests per second.
const MEMORY_TOPOLOGY: &str = "topologies/minimal.toml";

/// Peak memory of a 24-hour window against a 1-hour one, each in a child
/// process (`ztsim bench TOPOLOGY --memory-probe-secs S`).
pub fn day_vs_hour() -> Result<(), String> {
    let probe = |secs: u64| -> Result<(u64, f64), String> {
        let t0 = Instant::now();
        let kib = child_peak_kib(&[MEMORY_TOPOLOGY, "--memory-probe-secs", &secs.to_string()])?;
        Ok((kib, t0.elapsed().as_secs_f64()))
    };
    let ((hour, hour_s), (day, day_s)) = (probe(3_600)?, probe(86_400)?);
    outln!(
        "peak memory, {MEMORY_TOPOLOGY} at 1,000 requests/s: {:.1} MiB for 1 hour ({hour_s:.0} s), {:.1} MiB for 24 hours ({day_s:.0} s): {:+.1}% (target within 10%)",
        hour as f64 / 1024.0,
        day as f64 / 1024.0,
        (day as f64 / hour as f64 - 1.0) * 100.0
    );
    Ok(())
}

/// Peak resident memory (KiB) of `ztsim bench ARGS` run as a child process
/// of this binary, which prints only that figure (a probe flag), so that no
/// allocation of this process counts.
pub(super) fn child_peak_kib(args: &[&str]) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .arg("bench")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            format!(
                "memory probe failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_topology_has_its_size_and_validates() {
        let edges: usize = (0..SERVICES).map(|i| callees(i).len()).sum();
        assert_eq!(edges, 10_000);
        for i in 0..SERVICES {
            let c = callees(i);
            assert!(c.windows(2).all(|w| w[0] < w[1]) && c.iter().all(|&j| j > i));
        }
        let topo = generated().unwrap();
        assert_eq!((topo.services.len(), topo.edges.len()), (2_000, 10_000));
        // Each call tree stays small: about ten calls per request.
        let calls = topo.visits().iter().sum::<f64>() - 1.0;
        assert!((3.0..30.0).contains(&calls), "{calls}");
    }
}
