//! The built-in default study (what `ztsim` with no command runs): its
//! topology and designs compiled in, so that `cargo run --release` works
//! from any folder.

use crate::config::study::{Input, StudySpec};
use crate::model::slo::{Slo, Statistic};

/// The default study's topology: its file name and text.
pub const TOPOLOGY: (&str, &str) = (
    "topologies/chatty.toml",
    include_str!("../../topologies/chatty.toml"),
);

/// The default study's designs: file names and texts.
pub const DESIGNS: [(&str, &str); 6] = [
    (
        "models/plaintext.toml",
        include_str!("../../models/plaintext.toml"),
    ),
    (
        "models/tls-edge.toml",
        include_str!("../../models/tls-edge.toml"),
    ),
    (
        "models/naive-mtls.toml",
        include_str!("../../models/naive-mtls.toml"),
    ),
    (
        "models/istio-sidecar.toml",
        include_str!("../../models/istio-sidecar.toml"),
    ),
    (
        "models/istio-ambient.toml",
        include_str!("../../models/istio-ambient.toml"),
    ),
    (
        "models/grpc-mtls-local-policy.toml",
        include_str!("../../models/grpc-mtls-local-policy.toml"),
    ),
];

/// Loads of the default study (requests per second): from well below the
/// naive design's knee to the plaintext system's.
pub const RATES: [f64; 8] = [100.0, 150.0, 200.0, 300.0, 500.0, 700.0, 900.0, 1050.0];

/// The default study's objectives: the seed article's system answers a page
/// view in well under 50 ms at p99 before Zero Trust.
const SLO: Slo = Slo {
    endpoint: None,
    statistic: Statistic::P99,
    limit_ms: 50.0,
};

/// The built-in default study's specification.
pub fn spec() -> StudySpec {
    StudySpec {
        name: "default".into(),
        title: "What Zero Trust costs a chatty system".into(),
        topology: Input {
            name: TOPOLOGY.0.into(),
            text: TOPOLOGY.1.into(),
        },
        designs: DESIGNS
            .iter()
            .map(|(n, t)| Input {
                name: (*n).into(),
                text: (*t).into(),
            })
            .collect(),
        rates: RATES.to_vec(),
        focus_rate: Some(150.0),
        blend_entries: false,
        params: Vec::new(),
        replications: Some(3),
        seed: None,
        duration: None,
        requests: None,
        warmup: None,
        slos: vec![SLO],
        costs: None,
    }
}
