//! The sample traces in `topologies/traces/` are what the generator in
//! `ztsim::trace::synth` makes: regenerate them with
//! `ZTSIM_REGENERATE_SAMPLES=1 cargo test --test trace_samples`; otherwise
//! this test fails if the committed files and the generator disagree.

use std::path::Path;

use ztsim::trace::synth::{self, Checkout};

/// Traces in each sample, their seed and arrival rate (requests per second).
const TRACES: usize = 300;
const SEED: u64 = 7;
const RATE: f64 = 10.0;

fn generate() -> Vec<(&'static str, Vec<u8>)> {
    let traces = || Checkout::new(SEED, RATE).take(TRACES);
    let mut jaeger = Vec::new();
    synth::write_jaeger(traces(), &mut jaeger).unwrap();
    let mut zipkin = Vec::new();
    synth::write_zipkin(traces(), &mut zipkin).unwrap();
    let mut otlp = Vec::new();
    synth::write_otlp(traces(), &mut otlp).unwrap();
    vec![
        ("checkout.jaeger.json", jaeger),
        ("checkout.zipkin.json", zipkin),
        ("checkout.otlp.jsonl", otlp),
    ]
}

#[test]
fn committed_samples_are_what_the_generator_makes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/traces");
    let regenerate = std::env::var_os("ZTSIM_REGENERATE_SAMPLES").is_some_and(|v| v == "1");
    for (name, bytes) in generate() {
        let path = dir.join(name);
        if regenerate {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e}; regenerate with ZTSIM_REGENERATE_SAMPLES=1 cargo test --test trace_samples", path.display())
        });
        assert!(
            committed == bytes,
            "{} differs from what the generator makes; if the generator changed on purpose, regenerate with ZTSIM_REGENERATE_SAMPLES=1 cargo test --test trace_samples",
            path.display()
        );
    }
}
