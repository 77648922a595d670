//! The charts of a study as plain data: which kinds exist, in what order,
//! their file stems and titles. The report lists and captions them and the
//! CLI looks for their files; `crate::charts` draws them.

/// Which chart, with its file stem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chart {
    /// p50 and p99 latency (95% CI band on p99) against offered load, one
    /// line per design (and combination of extra parameters); saturated
    /// points as an X along the top.
    LatencyVsLoad,
    /// Completed against offered throughput per design, with the ideal
    /// diagonal: where a line leaves it is the knee.
    ThroughputVsLoad,
    /// At the focus load: CPU per request on the services' cores and the
    /// busy share of the proxies' cores, split by CPU category.
    CpuByCategory,
    /// At the focus load: the latency distribution per design (latency on a
    /// log axis, percentiles on a "nines" axis).
    LatencyCdf,
    /// At the focus load: the critical path of the mean request (and of the
    /// requests at or above p99) split by span, per design.
    Attribution,
    /// At the focus load: mean latency per interval and full TLS handshakes
    /// per second over simulated time, warm-up included and shaded.
    LatencyOverTime,
}

impl Chart {
    /// Every chart, in the order they are drawn and shown.
    pub const ALL: [Chart; 6] = [
        Chart::LatencyVsLoad,
        Chart::ThroughputVsLoad,
        Chart::CpuByCategory,
        Chart::LatencyCdf,
        Chart::Attribution,
        Chart::LatencyOverTime,
    ];

    /// File name without extension.
    pub fn stem(&self) -> &'static str {
        match self {
            Chart::LatencyVsLoad => "latency-vs-load",
            Chart::ThroughputVsLoad => "throughput-vs-load",
            Chart::CpuByCategory => "cpu-by-category",
            Chart::LatencyCdf => "latency-cdf",
            Chart::Attribution => "attribution",
            Chart::LatencyOverTime => "latency-over-time",
        }
    }

    /// The title drawn at the top of the chart (plain text, no markup).
    pub fn title(&self) -> &'static str {
        match self {
            Chart::LatencyVsLoad => "Latency percentiles vs offered load",
            Chart::ThroughputVsLoad => "Completed throughput vs offered load",
            Chart::CpuByCategory => "CPU by category",
            Chart::LatencyCdf => "Latency distribution",
            Chart::Attribution => "Where the time goes",
            Chart::LatencyOverTime => "Latency over time",
        }
    }
}
