//! Trace import speed and memory: `cargo bench --bench import` writes a large
//! synthetic recording (the checkout system of `ztsim::trace::synth`) in each
//! format to a temporary folder, imports it, and prints spans per second and
//! peak memory. `cargo bench --bench import -- FILE...` imports given files
//! instead.

use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use ztsim::trace::{self, synth};

/// Traces per synthetic file: ~15 spans each, so ~150,000 spans and 40-70 MB.
const TRACES: usize = 10_000;

/// Peak resident memory of this process (Linux), in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time this process has used (Linux, user + system), in seconds: on a
/// shared machine it measures the importer's work where wall-clock time also
/// measures the neighbours'.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every common platform.
    Some(ticks / 100.0)
}

/// Starts a new peak (Linux 4.0+; elsewhere the peak is the process's).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn bench(path: &PathBuf) {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    reset_peak();
    let before = peak_mib().unwrap_or(0.0);
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let mut spans = trace::span::Spans::default();
    if let Err(d) = trace::read::read_file(path, None, &mut spans) {
        eprintln!("error: {d}");
        std::process::exit(2);
    }
    let read = start.elapsed().as_secs_f64();
    let model = match trace::build::build(spans) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            std::process::exit(2);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds()
        .zip(cpu_start)
        .map_or(f64::NAN, |(b, a)| b - a);
    let spans = model.cleanup.spans_read;
    println!(
        "{:<28} {:>8.1} MB  {:>9} spans  {:>6.2} s (read {:.2} s)  {:>5.0} k spans/s  {:>5.1} MB/s  CPU {:.2} s: {:>4.0} k spans/s  peak {:>6.1} MiB (before {:.1})",
        path.file_name().unwrap_or_default().to_string_lossy(),
        bytes as f64 / 1e6,
        spans,
        secs,
        read,
        spans as f64 / secs / 1e3,
        bytes as f64 / 1e6 / secs,
        cpu,
        spans as f64 / cpu / 1e3,
        peak_mib().unwrap_or(f64::NAN),
        before,
    );
}

fn main() {
    let files: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if !files.is_empty() {
        files.iter().for_each(bench);
        return;
    }
    let dir = std::env::temp_dir().join(format!("ztsim-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    type Writer = fn(synth::Checkout, BufWriter<std::fs::File>) -> std::io::Result<()>;
    let formats: [(&str, Writer); 3] = [
        ("large.jaeger.json", |t, w| {
            synth::write_jaeger(t.take(TRACES), w)
        }),
        ("large.zipkin.json", |t, w| {
            synth::write_zipkin(t.take(TRACES), w)
        }),
        ("large.otlp.jsonl", |t, w| {
            synth::write_otlp(t.take(TRACES), w)
        }),
    ];
    for (name, write) in formats {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).expect("a temporary file");
        write(
            synth::Checkout::new(1, 200.0),
            BufWriter::with_capacity(1 << 20, file),
        )
        .expect("writing the synthetic file");
        bench(&path);
        std::fs::remove_file(&path).ok();
    }
    std::fs::remove_dir_all(&dir).ok();
}
