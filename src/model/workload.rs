//! The workload driving a run: how requests arrive (Poisson, constant, a
//! rate profile, a closed loop, a recording), the measured window, and the
//! entry mix. Part of the validated model; built only by `config`.

use std::sync::Arc;

use super::dist::Dist;
use super::ids::{EndpointId, ZoneId};
use super::profile::RateProfile;
use crate::units::{Millicores, NANOS_PER_SEC, Nanos};

/// How requests arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    /// Open loop, exponential inter-arrival times.
    Poisson {
        /// Requests per second.
        rate: f64,
    },
    /// Open loop, Poisson with a rate that varies over time (a
    /// non-homogeneous Poisson process).
    Profile {
        /// The rate against time from the start of the run.
        profile: RateProfile,
        /// Its mean over the measured window (warm-up excluded), which
        /// [`Arrivals::rate`] reports; kept by [`Workload::settle_profile`].
        rate: f64,
    },
    /// Open loop, evenly spaced.
    Constant {
        /// Requests per second.
        rate: f64,
    },
    /// Closed loop: each user sends, waits for the response, thinks, repeats.
    Closed {
        /// Number of users.
        users: u32,
        /// Think time between a response and the next request.
        think: Dist,
    },
    /// Open loop, replayed: request k arrives at `times[k] / speed` and
    /// enters at `Workload::entries[entries[k]]`.
    Replay {
        /// Recorded arrival times, ns since the first request, non-decreasing.
        times: Arc<[Nanos]>,
        /// Per request, an index into `Workload::entries`.
        entries: Arc<[u32]>,
        /// Playback speed: 2 plays the recording twice as fast.
        speed: f64,
    },
}

/// Recorded arrivals (a `*.arrivals.csv` file), kept beside any other
/// arrival process so that a run may switch to them (`ztsim run --replay`).
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The file they came from, for messages.
    pub file: String,
    /// Arrival times, ns since the first request, non-decreasing; never empty.
    pub times: Arc<[Nanos]>,
    /// Entry endpoint of each request.
    pub entries: Arc<[EndpointId]>,
}

/// How long the measurement lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// A fixed span of simulated time after warm-up.
    Duration(Nanos),
    /// Until this many requests have arrived after warm-up.
    Requests(u64),
}

impl Window {
    /// The measured span in seconds, if the window is one.
    pub fn duration_s(self) -> Option<f64> {
        match self {
            Window::Duration(d) => Some(d as f64 * 1e-9),
            Window::Requests(_) => None,
        }
    }

    /// The measured request count, if the window is one.
    pub fn requests(self) -> Option<u64> {
        match self {
            Window::Requests(n) => Some(n),
            Window::Duration(_) => None,
        }
    }
}

/// Most replications of one run: far more than any confidence interval
/// needs, and each keeps its measurements until the summary.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// Cores that stop now and then (a garbage collector's stop-the-world, the
/// hypervisor or the kernel taking the core): pauses start at exponential
/// gaps of mean `every`, start to start, and each stops every core of the
/// station for a draw of `lasts`, once the job in hand is done.
#[derive(Debug, Clone, PartialEq)]
pub struct Pauses {
    /// Mean time from one pause's start to the next's (ns).
    pub every: Nanos,
    /// How long each pause stops the cores.
    pub lasts: Dist,
}

/// The workload driving a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Arrival process.
    pub arrivals: Arrivals,
    /// Entry endpoints and their weights (summing to 1).
    pub entries: Vec<(EndpointId, f64)>,
    /// Where the clients are.
    pub client_zone: ZoneId,
    /// The load generator's cores: None, its CPU is a delay that never
    /// queues (a client that cannot saturate); Some(n), it runs on n cores
    /// of its own and its work waits for them.
    pub client_cores: Option<Millicores>,
    /// The client's own CPU per request it sends (building, writing and
    /// reading it), outside TLS.
    pub client_cpu: Dist,
    /// The client's CPU per request off the request's path (closing a
    /// connection): after `client_cpu`, holding the client's core.
    pub client_cpu_off_path: Dist,
    /// Pauses of the load generator's cores (only with `client_cores`).
    pub client_pauses: Option<Pauses>,
    /// Simulated time before measurement starts.
    pub warmup: Nanos,
    /// Measurement length.
    pub window: Window,
    /// Client-side timeout per request, if any.
    pub timeout: Option<Nanos>,
    /// Whether a run whose backlog has clearly outgrown its window stops
    /// there, saturated (docs/model.md s4): true from every file. The
    /// testbed sets it false to hold a finite window's transient past the
    /// knee against a real system's.
    pub stop_when_saturated: bool,
    /// Base seed.
    pub seed: u64,
    /// Independent replications.
    pub replications: u32,
    /// Recorded arrivals this workload may replay, if the file names some.
    pub recording: Option<Recording>,
}

impl Arrivals {
    /// Offered rate in requests per second, if open loop. A replay's is its
    /// mean rate over its span (None if all its requests arrive at once); a
    /// profile's its mean over the measured window.
    pub fn rate(&self) -> Option<f64> {
        match self {
            Arrivals::Poisson { rate }
            | Arrivals::Constant { rate }
            | Arrivals::Profile { rate, .. } => Some(*rate),
            Arrivals::Closed { .. } => None,
            Arrivals::Replay { times, speed, .. } => {
                let span = replay_time(times[times.len() - 1], *speed);
                (times.len() > 1 && span > 0)
                    .then(|| (times.len() - 1) as f64 * NANOS_PER_SEC as f64 / span as f64)
            }
        }
    }

    /// Sets the open-loop rate: a profile is scaled so that its mean over
    /// the measured window is `rate`. Closed loops and replays have no rate
    /// to set (false).
    pub fn set_rate(&mut self, rate: f64) -> bool {
        match self {
            Arrivals::Poisson { rate: r } | Arrivals::Constant { rate: r } => *r = rate,
            Arrivals::Profile { profile, rate: r } => {
                *profile = profile.scaled(rate / *r);
                *r = rate;
            }
            Arrivals::Closed { .. } | Arrivals::Replay { .. } => return false,
        }
        true
    }

    /// True for open-loop arrivals (their backlog can grow without bound).
    pub fn is_open(&self) -> bool {
        !matches!(self, Arrivals::Closed { .. })
    }
}

/// When a recorded arrival at `at` happens when played at `speed`.
#[inline]
pub fn replay_time(at: Nanos, speed: f64) -> Nanos {
    if speed == 1.0 {
        at
    } else {
        super::dist::round(at as f64 / speed)
    }
}

/// Slowest and fastest playback speeds accepted.
pub const REPLAY_SPEEDS: (f64, f64) = (1e-3, 1e6);

impl Workload {
    /// Recomputes a profile's mean rate over the measured window, after the
    /// window or warm-up changed. Fails, saying why, when the window is a
    /// request count (its span is unknown) or the profile is zero all
    /// through it.
    pub fn settle_profile(&mut self) -> Result<(), String> {
        let Arrivals::Profile { profile, rate } = &mut self.arrivals else {
            return Ok(());
        };
        let Window::Duration(d) = self.window else {
            return Err("a rate profile needs a measured `duration` (e.g. \"24h\"), not a request count: its mean over the window is the run's rate".into());
        };
        let mean = profile.mean(self.warmup, self.warmup.saturating_add(d));
        if !mean.is_finite() {
            return Err("the rate profile's mean over the measured window is too large to compute: give rates a run can simulate (requests per second, far below 1e300)".into());
        }
        if mean <= 0.0 {
            return Err("the rate profile is zero all through the measured window: no request would arrive; give it a rate above zero between warm-up and the end of the window".into());
        }
        // To a billionth of a request a second: the integral's float noise
        // (60.000000000000014 for a daily profile of mean 60) is not a rate
        // anyone set, and would make the point's load differ from the file's.
        *rate = (mean * 1e9).round() / 1e9;
        Ok(())
    }

    /// Switches the arrivals to the recording played at `speed`: the entry mix
    /// becomes the recording's endpoints (in order of first appearance,
    /// weighted by their share), and the window spans every recorded request
    /// that arrives after warm-up, so a replay measures exactly the requests
    /// recorded (narrow it afterwards with a duration or a request count).
    /// Fails, saying why, without a recording, at a speed outside
    /// [`REPLAY_SPEEDS`], or when warm-up outlasts the recording.
    pub fn replay(&mut self, speed: f64) -> Result<(), String> {
        let Some(rec) = &self.recording else {
            return Err("the topology's workload names no recorded arrivals: add `replay = \"FILE.arrivals.csv\"` to [workload]".into());
        };
        if !(speed.is_finite() && speed >= REPLAY_SPEEDS.0 && speed <= REPLAY_SPEEDS.1) {
            return Err(format!(
                "the replay speed must be from {} to {}, got {speed}",
                REPLAY_SPEEDS.0, REPLAY_SPEEDS.1
            ));
        }
        let last = replay_time(rec.times[rec.times.len() - 1], speed);
        if self.warmup > last {
            return Err(format!(
                "the warm-up ({} ns) ends after the last recorded arrival ({} ns at speed {speed}): no request would be measured",
                self.warmup, last
            ));
        }
        let mut entries: Vec<(EndpointId, f64)> = Vec::new();
        let picks: Vec<u32> = rec
            .entries
            .iter()
            .map(|&ep| match entries.iter().position(|e| e.0 == ep) {
                Some(i) => {
                    entries[i].1 += 1.0;
                    i as u32
                }
                None => {
                    entries.push((ep, 1.0));
                    (entries.len() - 1) as u32
                }
            })
            .collect();
        let n = rec.times.len() as f64;
        for e in &mut entries {
            e.1 /= n;
        }
        self.arrivals = Arrivals::Replay {
            times: rec.times.clone(),
            entries: picks.into(),
            speed,
        };
        self.entries = entries;
        self.window = Window::Duration(last - self.warmup + 1);
        Ok(())
    }
}
