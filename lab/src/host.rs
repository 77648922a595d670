//! What a profile says about where it was measured: the CPU model and the
//! versions of the libraries measured.

include!(concat!(env!("OUT_DIR"), "/libraries.rs"));

/// The CPU model from /proc/cpuinfo (`model name`, or `Hardware`/`cpu` on
/// other architectures); None where the file is missing or names none.
pub fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        matches!(k.trim(), "model name" | "Hardware" | "cpu")
            .then(|| v.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

/// The host's name (/etc/hostname, else the kernel's), for the profile's
/// default file name; None where neither can be read.
pub fn host_name() -> Option<String> {
    ["/etc/hostname", "/proc/sys/kernel/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The one-minute load average (/proc/loadavg): how busy the host was, which
/// inflates every figure measured while other work shares the cores; None
/// where the file is missing.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
