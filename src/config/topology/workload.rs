//! The workload of a topology: arrivals (open, closed or replayed from a
//! recording), the measured window, the entry mix and replications, compiled
//! by the [`Compiler`] with every problem located at its key.

use super::arrivals::parse_arrivals;
use super::compiler::MAX_SIMULATED_NS;
use super::compiler::{Compiler, MIN_RATE};
use super::file::{ArrivalsFile, TopologyFile, WorkloadFile};
use super::profile::{PointSpec, ProfileSpec, SHAPES};
use crate::config::diag::KeyPath;
use crate::config::diag::did_you_mean;
use crate::model::dist::Dist;
use crate::model::profile::{MAX_POINTS, RateProfile};
use crate::model::topology::{
    Arrivals, EndpointId, MAX_REPLICATIONS, Recording, Topology, Window, Workload,
};
use crate::units::{NANOS_PER_SEC, Nanos};

/// Most bytes of a recording of arrivals (`workload.replay`): about ten
/// million requests.
const MAX_RECORDING_BYTES: u64 = 256 << 20;

impl Compiler<'_> {
    /// A closed loop must move the clock: with no think time, a request that
    /// can take no simulated time (see [`Topology::instant_entry`]) would be
    /// answered and sent again forever at one instant.
    pub(super) fn check_progress(&mut self, think_given: bool, topo: &Topology) {
        let Arrivals::Closed { think, .. } = &topo.workload.arrivals else {
            return;
        };
        if think.mean() > 0.0 {
            return;
        }
        if let Some(ep) = topo.instant_entry() {
            let wp = KeyPath::root().key("workload");
            let at = if think_given {
                wp.key("think")
            } else {
                wp.key("arrivals")
            };
            self.error(
                &at,
                format!(
                    "a closed loop with no think time, and requests to `{}` that can take no simulated time (a round trip on the network under 2 ns, whose half is no time in whole nanoseconds, and zero CPU on every call they certainly make): its users would send requests forever without the clock moving; give `think` a time above zero, or the path some RTT or CPU",
                    topo.endpoints[ep as usize].name
                ),
            );
        }
    }

    pub(super) fn workload(&mut self, raw: &TopologyFile, names: &[String]) -> Workload {
        let w = &raw.workload;
        let wp = KeyPath::root().key("workload");
        let recording = w.replay.as_ref().and_then(|f| self.recording(f, names));
        let replay = matches!(w.arrivals, ArrivalsFile::Replay);
        if replay && w.replay.is_none() {
            self.error(
                &wp.key("arrivals"),
                "arrivals = \"replay\" needs `replay`, the recorded arrivals: replay = \"FILE.arrivals.csv\" (written by `ztsim import`)",
            );
        }
        if replay && w.rate.is_some() {
            self.error(
                &wp.key("rate"),
                "a replay's arrivals come from its recording; remove `rate` (play it faster with `ztsim run --replay-speed`)",
            );
        }
        let arrivals = self.arrivals(w, &wp);
        let open = !matches!(arrivals, Arrivals::Closed { .. });
        if open && (w.users.is_some() || w.think.is_some()) {
            self.error(
                &wp.key("arrivals"),
                "`users` and `think` belong to arrivals = \"closed\"",
            );
        }
        let replay_window = replay && w.duration.is_none() && w.requests.is_none();
        if !open && w.rate.is_some() {
            self.error(&wp.key("rate"), "a closed loop's rate follows from users and think time; remove `rate` or use arrivals = \"poisson\"");
        }
        let window = self.window(w, &wp, replay);
        let entries = self.entries(w, &wp, replay, names);
        let client_zone = match &w.client_zone {
            Some(z) => self.zone(&raw.zones, z, &wp.key("client_zone")),
            None => 0,
        };
        if w.timeout.is_some_and(|t| t.0 == 0) {
            self.error(&wp.key("timeout"), "a timeout must be above zero");
        }
        let warmup = w.warmup.map_or(0, |d| d.0);
        let span = match window {
            Window::Duration(d) => warmup.checked_add(d),
            Window::Requests(_) => Some(warmup),
        };
        if span.is_none_or(|s| s > super::compiler::MAX_SIMULATED_NS) {
            self.error(
                &wp.key("duration"),
                "warm-up plus duration is beyond 100 days of simulated time (or overflows): shorten them",
            );
        }
        let mut workload = Workload {
            arrivals,
            entries,
            client_zone,
            client_cores: w
                .client_cores
                .as_ref()
                .map(|c| self.cores(c, &wp.key("client_cores"))),
            client_cpu: w
                .client_cpu
                .as_ref()
                .map_or(Dist::ZERO, |d| self.dist(d, &wp.key("client_cpu"))),
            client_cpu_off_path: w
                .client_cpu_off_path
                .as_ref()
                .map_or(Dist::ZERO, |d| self.dist(d, &wp.key("client_cpu_off_path"))),
            client_pauses: w.client_pauses.as_ref().and_then(|p| {
                if w.client_cores.is_none() {
                    self.error_help(
                        &wp.key("client_pauses"),
                        "`client_pauses` stops the load generator's cores, and it has none: its CPU is a delay that never waits",
                        Some("give it cores of its own (`client_cores = 1`), or leave `client_pauses` out".into()),
                    );
                    return None;
                }
                self.pauses(p, &wp.key("client_pauses"))
            }),
            warmup,
            window,
            timeout: w.timeout.map(|t| t.0),
            stop_when_saturated: true,
            seed: w.seed.unwrap_or(1),
            replications: w.replications.map_or(1, |r| {
                self.bounded(
                    r,
                    1,
                    MAX_REPLICATIONS,
                    &wp.key("replications"),
                    "replications",
                )
            }),
            recording,
        };
        if let Err(why) = workload.settle_profile() {
            let key = if w.requests.is_some() {
                "requests"
            } else {
                "profile"
            };
            self.error(&wp.key(key), why);
        }
        if replay && workload.recording.is_some() {
            // The entry mix is the recording's; a duration or request count
            // given in the file narrows the window the recording spans.
            match workload.replay(1.0) {
                Ok(()) if !replay_window => workload.window = window,
                Ok(()) => {}
                Err(why) => self.error(&wp.key("warmup"), why),
            }
        }
        workload
    }

    /// How requests arrive: an open loop at `rate` (Poisson or constant), a
    /// replay (its rate set later from the recording), or a closed loop.
    fn arrivals(&mut self, w: &WorkloadFile, wp: &KeyPath) -> Arrivals {
        let rate = |c: &mut Self| match w.rate {
            Some(r) if r.is_finite() && r >= MIN_RATE => r,
            Some(r) => {
                c.error(
                    &wp.key("rate"),
                    format!("rate must be a positive number of requests per second, at least {MIN_RATE}, got {r}"),
                );
                1.0
            }
            None => {
                c.error(
                    &wp.key("arrivals"),
                    "open-loop arrivals need `rate` (requests per second)",
                );
                1.0
            }
        };
        if let Some(spec) = &w.profile {
            let poisson = matches!(w.arrivals, ArrivalsFile::Poisson);
            if poisson && matches!(spec, ProfileSpec::Shape(_)) && w.rate.is_some() {
                rate(self);
            }
            let span = w.warmup.map_or(0, |d| d.0) + w.duration.map_or(0, |d| d.0);
            match self.profile(w, spec, wp, span) {
                // Its mean over the window is set once the window is known.
                Some(profile) => return Arrivals::Profile { profile, rate: 0.0 },
                None if poisson => return Arrivals::Poisson { rate: 1.0 },
                None => {}
            }
        }
        match w.arrivals {
            ArrivalsFile::Poisson => Arrivals::Poisson { rate: rate(self) },
            ArrivalsFile::Constant => Arrivals::Constant { rate: rate(self) },
            // Set from the recording below, once the window is known.
            ArrivalsFile::Replay => Arrivals::Constant { rate: 1.0 },
            ArrivalsFile::Closed => {
                let users = match w.users {
                    Some(u) => self.count(u, 1, &wp.key("users"), "users"),
                    None => {
                        self.error(
                            &wp.key("arrivals"),
                            "a closed loop needs `users` (and `think`, a think time)",
                        );
                        1
                    }
                };
                let think = w
                    .think
                    .as_ref()
                    .map_or(Dist::ZERO, |t| self.dist(t, &wp.key("think")));
                Arrivals::Closed { users, think }
            }
        }
    }

    /// The measured window: a duration or a request count (a replay's
    /// default is replaced by its recording's span).
    fn window(&mut self, w: &WorkloadFile, wp: &KeyPath, replay: bool) -> Window {
        match (w.duration, w.requests) {
            (Some(d), None) if d.0 > 0 => Window::Duration(d.0),
            (None, Some(n)) if n > 0 => Window::Requests(n as u64),
            (Some(_), None) => {
                self.error(
                    &wp.key("duration"),
                    "the measured duration must be above zero",
                );
                Window::Requests(1)
            }
            (None, Some(n)) => {
                self.error(
                    &wp.key("requests"),
                    format!("requests must be at least 1, got {n}"),
                );
                Window::Requests(1)
            }
            // Replaced by the recording's span below.
            (None, None) if replay => Window::Requests(1),
            _ => {
                self.error(
                    wp,
                    "give exactly one of `duration` (e.g. \"60s\") or `requests` (a count)",
                );
                Window::Requests(1)
            }
        }
    }

    /// The entry endpoints with their weights normalised to sum to one.
    fn entries(
        &mut self,
        w: &WorkloadFile,
        wp: &KeyPath,
        replay: bool,
        names: &[String],
    ) -> Vec<(EndpointId, f64)> {
        let mut entries = Vec::new();
        if w.entry.is_empty() && !replay {
            self.error(
                &wp.key("entry"),
                "name at least one entry endpoint: entry = [{ endpoint = \"frontend.home\" }]",
            );
        }
        for (i, e) in w.entry.iter().enumerate() {
            let ep = wp.key("entry").index(i);
            if !(e.weight.is_finite() && e.weight > 0.0) {
                self.error(
                    &ep.key("weight"),
                    format!("a weight must be a positive number, got {}", e.weight),
                );
            }
            if let Some(id) = self.endpoint_ref(&e.endpoint, &ep.key("endpoint"), names) {
                entries.push((id, e.weight));
            }
        }
        let mut total: f64 = entries.iter().map(|e| e.1).sum();
        if total.is_infinite() {
            // Weights near f64::MAX: scaled down first, so none becomes zero.
            let most = entries.iter().map(|e| e.1).fold(0.0, f64::max);
            entries.iter_mut().for_each(|e| e.1 /= most);
            total = entries.iter().map(|e| e.1).sum();
        }
        for e in &mut entries {
            e.1 /= total;
        }
        entries
    }

    /// Reads the recorded arrivals named by `workload.replay`, relative to
    /// the topology file; problems inside it are located in it.
    fn recording(&mut self, name: &str, names: &[String]) -> Option<Recording> {
        let at = KeyPath::root().key("workload").key("replay");
        let path = std::path::Path::new(self.src.file())
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join(name);
        let shown = path.display().to_string();
        let text = match crate::config::read_text_up_to(
            &path,
            MAX_RECORDING_BYTES,
            "replay a part of the recording: its first rows, or a sample of its requests",
        ) {
            Ok(t) => t,
            // Not UTF-8: located in the CSV itself.
            Err(d) if d.line.is_some() => {
                self.errors.push(d);
                return None;
            }
            Err(e) => {
                self.error_help(
                    &at,
                    format!(
                        "cannot read the recorded arrivals `{shown}`: {}",
                        e.message.trim_start_matches("cannot read the file: ")
                    ),
                    Some("the path is relative to the topology file; `ztsim import` writes FILE.arrivals.csv beside the topology it writes".into()),
                );
                return None;
            }
        };
        match parse_arrivals(&shown, &text, names) {
            Ok((times, entries)) => Some(Recording {
                file: shown,
                times: times.into(),
                entries: entries.into(),
            }),
            Err(mut d) => {
                self.errors.append(&mut d);
                None
            }
        }
    }
}

impl Compiler<'_> {
    /// The rate profile of `w`, checked: Poisson arrivals only; points in
    /// time order with rates finite and not negative, not all zero; a known
    /// shape with `rate`. `span` is warm-up plus duration (a shape is laid
    /// out over it and a day more, for the drain).
    pub(super) fn profile(
        &mut self,
        w: &WorkloadFile,
        spec: &ProfileSpec,
        wp: &KeyPath,
        span: Nanos,
    ) -> Option<RateProfile> {
        let at = wp.key("profile");
        if !matches!(w.arrivals, ArrivalsFile::Poisson) {
            self.error(
                &at,
                "a rate profile drives Poisson arrivals: set arrivals = \"poisson\", or remove `profile`",
            );
            return None;
        }
        match spec {
            ProfileSpec::Shape(name) => self.shape(name, w.rate, &at, span),
            ProfileSpec::Points(points) => {
                if w.rate.is_some() {
                    self.error(
                        &wp.key("rate"),
                        "a profile's points carry their rates: remove `rate` (`ztsim run --rate` scales a profile to a mean over the window)",
                    );
                }
                self.points(points, &at)
            }
        }
    }

    fn shape(
        &mut self,
        name: &str,
        rate: Option<f64>,
        at: &KeyPath,
        span: Nanos,
    ) -> Option<RateProfile> {
        if !SHAPES.contains(&name) {
            let help = match did_you_mean(name, SHAPES) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "the shapes are: \"daily\"; or give points: [[\"0s\", 200], [\"1h\", 800]]"
                    .into(),
            };
            self.error_help(at, format!("unknown profile shape `{name}`"), Some(help));
            return None;
        }
        let Some(rate) = rate else {
            self.error(
                at,
                "the daily shape needs `rate`, its mean over a day, e.g. rate = 200",
            );
            return None;
        };
        // Checked by `arrivals` beside.
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        const DAY: Nanos = 86_400 * NANOS_PER_SEC;
        let days = span.min(MAX_SIMULATED_NS).div_ceil(DAY) + 2;
        Some(RateProfile::daily(rate, days))
    }

    fn points(&mut self, points: &[PointSpec], at: &KeyPath) -> Option<RateProfile> {
        if points.is_empty() {
            self.error(at, "a profile needs at least one point [time, rate], e.g. [[\"0s\", 200], [\"1h\", 800]]");
            return None;
        }
        if points.len() > MAX_POINTS {
            self.error(
                at,
                format!("a profile of {} points: at most {MAX_POINTS}", points.len()),
            );
            return None;
        }
        let errors = self.errors.len();
        for (i, p) in points.iter().enumerate() {
            let pp = at.index(i);
            if p.at.0 > MAX_SIMULATED_NS {
                self.error(
                    &pp.index(0),
                    "a profile point beyond 100 days, the longest a run may span",
                );
            }
            if i > 0 && p.at.0 < points[i - 1].at.0 {
                let line = self
                    .src
                    .locate(&at.index(i - 1).index(0))
                    .map_or(String::new(), |(l, _)| format!(" (line {l})"));
                self.error_help(
                    &pp.index(0),
                    format!(
                        "the profile goes back in time: {} s is before the previous point's {} s{line}",
                        p.at.0 as f64 * 1e-9,
                        points[i - 1].at.0 as f64 * 1e-9
                    ),
                    Some("list the points in time order (equal times make a step)".into()),
                );
            }
            if !(p.rate.is_finite() && p.rate >= 0.0) {
                self.error(
                    &pp.index(1),
                    format!("a profile's rate must be a number of requests per second, zero or more, got {}", p.rate),
                );
            }
        }
        if self.errors.len() > errors {
            return None;
        }
        if points.iter().all(|p| p.rate == 0.0) {
            self.error(
                at,
                "every rate of the profile is zero: no request would ever arrive",
            );
            return None;
        }
        let pts: Vec<(Nanos, f64)> = points.iter().map(|p| (p.at.0, p.rate)).collect();
        Some(RateProfile::new(&pts))
    }
}
