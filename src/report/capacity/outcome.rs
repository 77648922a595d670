//! What a capacity search and a sizing find, as plain data: the points
//! evaluated, the rate bracket of a design, the size of each service. The
//! search itself (`study::capacity`) fills these in; this layer writes them.

use serde::{Deserialize, Serialize};

use crate::report::slo::{Slo, Verdict};
use crate::report::stats::Estimate;

/// One evaluated point: a rate (and, for sizing, a size) and what its
/// replications said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Offered rate, requests per second.
    pub rate_rps: f64,
    /// Seed of its replications (derived from the base seed and the rate).
    pub seed: u64,
    /// Replications run (more when the first ones could not decide).
    pub replications: u32,
    /// Against every SLO together.
    pub verdict: Verdict,
    /// Whether the run saturated (queues grew without bound).
    pub saturated: bool,
    /// Each SLO's figure in ms (mean and 95% CI half-width), in the order of
    /// the SLOs; null when saturated.
    pub figures_ms: Vec<Option<Estimate>>,
    /// Share of requests that failed (mean over replications).
    pub failed_ratio: f64,
    /// The first SLO (its index) missed because more than 1% of its
    /// requests failed, whatever its latency figure; absent when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_objective: Option<usize>,
    /// The busiest group of cores (a service, its sidecars, a proxy).
    pub busiest: Option<String>,
    /// Its utilisation (mean over replications), 0..1.
    pub busiest_utilisation: f64,
    /// Requests finished per second of the window (mean).
    pub completed_rps: f64,
}

/// The highest sustainable rate of one design, as a bracket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateCapacity {
    /// Design name.
    pub design: String,
    /// The objectives every point was judged against.
    pub slos: Vec<Slo>,
    /// Highest rate shown (95% intervals) to meet every SLO.
    pub met_rps: Option<f64>,
    /// Lowest rate shown to miss one.
    pub missed_rps: Option<f64>,
    /// Lowest rate not shown to meet them (missed or undecided): the top of
    /// the bracket `[met_rps, limit_rps]`.
    pub limit_rps: Option<f64>,
    /// Lowest rate at which a run saturated, if any did.
    pub saturation_rps: Option<f64>,
    /// Where saturation starts by extrapolation: rate / utilisation of the
    /// busiest cores at the highest rate that did not saturate.
    pub saturation_estimate_rps: Option<f64>,
    /// The group of cores that saturates first (from the lowest saturated
    /// run, else the busiest at the highest unsaturated one).
    pub bottleneck: Option<String>,
    /// The point at `met_rps`, with its SLO figures.
    pub at_met: Option<Point>,
    /// The objective that decides the capacity, when an SLO names an entry
    /// endpoint: at the lowest rate not met (or at `met_rps` when that rate
    /// saturated), the first one missed because its requests failed, else
    /// the one with the least headroom (its figure the largest share of its
    /// limit). Absent when every SLO is on all requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Slo>,
    /// Rates the intervals could not decide even at the replication cap
    /// (counted as not met).
    pub unsure: Vec<f64>,
    /// Replications simulated in all.
    pub runs: usize,
    /// Why the search stopped short of a bracket, if it did.
    pub note: Option<String>,
    /// Every evaluated point, in the order evaluated.
    pub points: Vec<Point>,
}

impl RateCapacity {
    /// Relative width of the final bracket, `limit / met - 1`.
    pub fn width(&self) -> Option<f64> {
        Some(self.limit_rps? / self.met_rps? - 1.0)
    }
}

/// What sizing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeBy {
    /// Replicas of a service (cores per replica fixed).
    Replicas,
    /// Cores per replica (replicas fixed).
    Cores,
}

impl SizeBy {
    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            SizeBy::Replicas => "replicas",
            SizeBy::Cores => "cores",
        }
    }
}

/// One service before and after sizing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSize {
    /// Service name.
    pub service: String,
    /// Replicas in the topology file.
    pub replicas_before: u32,
    /// Cores per replica in the topology file.
    pub cores_before: u32,
    /// Replicas found.
    pub replicas_after: u32,
    /// Cores per replica found.
    pub cores_after: u32,
    /// Service cores added (replicas x cores, after minus before; negative
    /// when the file over-provisions).
    pub cores_added: i64,
    /// vCPUs added: the service's cores plus the per-replica sidecar and
    /// policy-sidecar cores of the design that come with its replicas.
    pub vcpu_added: i64,
    /// Steps the search grew it beyond its utilisation-based start.
    pub grown: u32,
    /// Busy share of its cores at the size found (mean).
    pub utilisation: f64,
}

/// One configuration the sizing search evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizingStep {
    /// "start", "grow SERVICE" or "shrink SERVICE".
    pub action: String,
    /// The count of each service (replicas or cores per replica), in
    /// topology order.
    pub counts: Vec<u32>,
    /// What its replications said.
    pub verdict: Verdict,
    /// How many replications decided it (3 when clear, up to 12 near a
    /// limit): where a sizing's time goes. A size tried again is looked
    /// up, not rerun, so these may add up to more than the sizing's runs.
    #[serde(default)]
    pub replications: u32,
    /// Whether the search moved to it (a growth that did not shorten the
    /// wait, or a shrink that missed, is not kept).
    pub kept: bool,
}

/// The smallest size of one design that meets every SLO at a target rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sizing {
    /// Design name.
    pub design: String,
    /// The objectives.
    pub slos: Vec<Slo>,
    /// Offered rate, requests per second.
    pub target_rps: f64,
    /// What was sized.
    pub size_by: SizeBy,
    /// Whether the size found meets every SLO.
    pub met: bool,
    /// Per service, in topology order.
    pub services: Vec<ServiceSize>,
    /// vCPUs of the sized services and their per-replica proxies before.
    pub vcpu_before: u64,
    /// ... and after.
    pub vcpu_after: u64,
    /// Cores of proxies that do not scale with services (node proxies,
    /// waypoints), the same before and after.
    pub fixed_vcpu: u64,
    /// The final evaluation, with its SLO figures.
    pub at_size: Option<Point>,
    /// The objective with the least headroom at the size found, when an SLO
    /// names an entry endpoint (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Slo>,
    /// Replications simulated in all.
    pub runs: usize,
    /// Why the SLOs could not be met by sizing, if they were not.
    pub note: Option<String>,
    /// Every configuration evaluated, in order.
    pub steps: Vec<SizingStep>,
}

impl Sizing {
    /// Service cores added over all services.
    pub fn cores_added(&self) -> i64 {
        self.services.iter().map(|s| s.cores_added).sum()
    }

    /// vCPUs added over all services.
    pub fn vcpu_added(&self) -> i64 {
        self.vcpu_after as i64 - self.vcpu_before as i64
    }

    /// All vCPUs after sizing, fixed proxies included.
    pub fn total_vcpu(&self) -> u64 {
        self.vcpu_after + self.fixed_vcpu
    }
}

/// Hours in a month for prices per hour: 365 x 24 / 12.
pub const HOURS_PER_MONTH: f64 = 730.0;
