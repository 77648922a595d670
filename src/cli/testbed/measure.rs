//! The testbed's measurements with `ztsim-lab`: the quick calibration of
//! exactly the figures the designs need (handshakes per side, ES256
//! verification, the Rego decision; the loopback round trip and the
//! server's per-request and per-connection IO CPU from closed-loop probes),
//! then each design driven at each rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ztsim::report::testbed::Figures;
use ztsim::study::testbed::{CorePauses, HandshakeNs};
use ztsim_lab::policy::{Engine, Policy};
use ztsim_lab::testbed::{self, Auth, Load, Phase, PhaseResult, Pool, Server, ServerSpec, Wake};
use ztsim_lab::tls::{self, Endpoints, Version};
use ztsim_lab::{Budget, LabError, jwt, policy};

use super::designs::{Costs, MAX_POOL, TestbedDesign, setup};

/// Bytes of every request body (the token, padding, the policy input index).
pub const REQUEST_BYTES: usize = 512;
/// Requests of each closed-loop probe.
const PROBE_REQUESTS: usize = 2000;
/// Most of the cores' time the hypervisor may take during a rate's window
/// before it is run again, and how many times it is.
pub const MAX_STEAL: f64 = 0.01;
pub const STEAL_RETRIES: usize = 2;
/// The light-load open-loop probe: 400 requests, the server idle between.
const LIGHT_RATE: f64 = 200.0;
const LIGHT_WINDOW: Duration = Duration::from_secs(2);

/// What the calibration measured.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub costs: Costs,
    pub probes: Probes,
}

/// What the probes of the plaintext server measured.
#[derive(Debug, Clone, Copy)]
pub struct Probes {
    /// Median round trip of an open-loop request at light load on a
    /// kept-alive plaintext connection with a handler of no CPU, ns (the
    /// server's IO CPU and its core's wake-up included).
    pub probe_rtt_ns: f64,
    /// Median round trip of the closed-loop probe on a kept-alive
    /// connection, ns (the server's IO CPU included; its core never idle
    /// long enough to sleep).
    pub closed_rtt_ns: f64,
    /// Its 99th percentile, ns: how heavy the loopback's own tail is.
    pub closed_rtt_p99_ns: f64,
    /// Server CPU per request on a kept-alive connection, handler of no CPU.
    pub io_ns: f64,
    /// Of it, the time the request waited for (the turn that read and
    /// answered it), ns.
    pub io_on_path_ns: f64,
    /// Server CPU to accept and close a connection (per-request probe minus
    /// the kept-alive one).
    pub connection_ns: f64,
    /// Median time from a send of the closed-loop probe to the server's
    /// loop running again, ns: a request's way in to a core that never went
    /// idle ([`wake_after_send`]).
    pub way_in_ns: f64,
    /// The same for the light-load probe's sends that ended a wait of the
    /// server of [`IDLE_WAIT_NS`] or more, ns: the way in and the wake-up.
    pub light_way_in_ns: Option<f64>,
    /// The spin's calibration on the server core.
    pub spin_ns_per_iter: f64,
}

/// Where the measurements run.
#[derive(Debug, Clone, Copy)]
pub struct Cores {
    pub server: usize,
    pub client: usize,
}

/// Medians of the lab's CPU-clock samples: a rare slow one (a page fault,
/// caches refilled after a migration) would otherwise move a constant the
/// model charges to every request.
fn handshake_ns(v: Version, b: &Budget, connection_ns: f64) -> Result<HandshakeNs, LabError> {
    let one_way = tls::full(setup(v, false), b)?;
    let mutual = tls::full(setup(v, true), b)?;
    let resumed = tls::resumed(setup(v, false), b)?;
    Ok(HandshakeNs {
        client_full: one_way.client.median_ns,
        server_full: one_way.server.median_ns + connection_ns,
        // At most the one-way total less accept and close (medians of
        // separate samples need not add up).
        server_finish: one_way.server_last.median_ns.min(one_way.server.median_ns),
        // TLS 1.2's client handles the server's ChangeCipherSpec and
        // Finished in a turn of its own; TLS 1.3's answers the server's
        // only flight at once (its last, the tickets, is off the path).
        client_finish: match v {
            Version::Tls12 => one_way.client_last.median_ns.min(one_way.client.median_ns),
            Version::Tls13 => 0.0,
        },
        client_resumed: resumed.client.median_ns,
        server_resumed: resumed.server.median_ns + connection_ns,
        mtls_client: (mutual.client.median_ns - one_way.client.median_ns).max(0.0),
        mtls_server: (mutual.server.median_ns - one_way.server.median_ns).max(0.0),
    })
}

/// The quick calibration, the library figures on a thread pinned to the
/// server's core (the core that pays them in the testbed).
pub fn calibrate(b: &Budget, cores: Cores) -> Result<Calibration, LabError> {
    let probes = probes(cores)?;
    let connection_ns = probes.connection_ns;
    let b = *b;
    let costs = std::thread::scope(|s| {
        s.spawn(|| -> Result<Costs, LabError> {
            testbed::pin_current(cores.server)?;
            errln!("testbed: calibrating TLS 1.2 and 1.3 handshakes, ES256, Rego");
            let verify = jwt::costs(jwt::Alg::Es256, &b)?.verify;
            let warm = policy::costs(Engine::Rego, Policy::Rbac, &b)?.warm;
            Ok(Costs {
                tls12: handshake_ns(Version::Tls12, &b, connection_ns)?,
                tls13: handshake_ns(Version::Tls13, &b, connection_ns)?,
                jwt_verify_ns: verify.median_ns,
                policy_median_ns: warm.median_ns,
                policy_p99_ns: warm.p99_ns,
                policy_mean_ns: warm.mean_ns,
            })
        })
        .join()
        .map_err(|_| LabError("the calibration thread panicked".into()))?
    })?;
    Ok(Calibration { costs, probes })
}

/// The closed-loop probes on a plaintext server whose handler burns nothing.
fn probes(cores: Cores) -> Result<Probes, LabError> {
    errln!("testbed: probing the loopback round trip and the server's IO CPU");
    let server = Server::start(ServerSpec {
        tls: None,
        handler_ns: 0,
        auth: None,
        core: cores.server,
    })?;
    let body = vec![0u8; REQUEST_BYTES];
    let probe = |per_request: bool| {
        testbed::probe(
            server.addr,
            &server,
            &body,
            per_request,
            PROBE_REQUESTS,
            cores.client,
        )
    };
    probe(false)?; // warm-up
    let kept = probe(false)?;
    let fresh = probe(true)?;
    // The round trip as an open-loop request at light load sees it: a
    // closed loop keeps the server's core awake, while a request arriving
    // at an idle server also waits for its core to wake (tens of
    // microseconds on a virtual machine). The difference is the wake-up.
    let light = testbed::run_phase(
        &Load {
            addr: server.addr,
            tls: None,
            pool: Pool::KeepAlive { max: 1 },
            body: body.clone(),
            timeout: Duration::from_secs(1),
            core: cores.client,
        },
        &Phase {
            rate: LIGHT_RATE,
            warmup: Duration::from_millis(200),
            duration: LIGHT_WINDOW,
            seed: 1,
        },
        &server,
        &AtomicBool::new(false),
    )?;
    let spin = server.spin.ns_per_iter;
    server.stop()?;
    let mut rtts: Vec<u64> = light.latencies_ns;
    rtts.sort_unstable();
    let median = rank(&rtts, 0.5);
    let mut closed: Vec<u64> = kept.round_trips_ns.iter().map(|&v| v as u64).collect();
    closed.sort_unstable();
    Ok(Probes {
        probe_rtt_ns: median,
        closed_rtt_ns: rank(&closed, 0.5),
        closed_rtt_p99_ns: rank(&closed, 0.99),
        io_ns: kept.server_cpu_per_request_ns,
        io_on_path_ns: kept
            .server_on_path_per_request_ns
            .min(kept.server_cpu_per_request_ns),
        connection_ns: (fresh.server_cpu_per_request_ns - kept.server_cpu_per_request_ns).max(0.0),
        way_in_ns: wake_after_send(&kept.wakes, 0).unwrap_or(f64::NAN),
        light_way_in_ns: wake_after_send(&light.server_wakes, IDLE_WAIT_NS),
        spin_ns_per_iter: spin,
    })
}

/// A wait of the server's loop at least this long let its core go idle.
pub const IDLE_WAIT_NS: u64 = 200_000;
/// Fewest waits a median of [`wake_after_send`] is taken over.
const MIN_WAKES: usize = 20;

/// Median time from a client's send to the server's loop running again,
/// over the waits of at least `waited_ns` that a send ended (None: fewer
/// than [`MIN_WAKES`]).
pub fn wake_after_send(wakes: &[Wake], waited_ns: u64) -> Option<f64> {
    median_wake(after_sends(wakes, waited_ns))
}

/// The time from the send to the loop running again of each wait of at
/// least `waited_ns`, ns.
fn after_sends(wakes: &[Wake], waited_ns: u64) -> Vec<u64> {
    wakes
        .iter()
        .filter(|w| w.waited_ns >= waited_ns)
        .map(|w| w.after_send_ns)
        .collect()
}

/// Upper bounds of the idle lengths [`WakesByIdle`] sorts waits into, ns;
/// the last class is open.
pub const IDLE_CLASSES_NS: [u64; 7] = [
    20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 3_000_000,
];

/// The times from a send to the server running again, sorted by how long
/// the server had waited before it (classes of [`IDLE_CLASSES_NS`], the
/// last open): how the core's wake-up grows with the idle, which a
/// window's one figure ([`IDLE_WAIT_NS`] or more) does not show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WakesByIdle {
    pub after_send_ns: [Vec<u64>; IDLE_CLASSES_NS.len() + 1],
}

impl WakesByIdle {
    /// Adds each wait of `wakes` to its class.
    pub fn add(&mut self, wakes: &[Wake]) {
        for w in wakes {
            let class = IDLE_CLASSES_NS.partition_point(|&b| b <= w.waited_ns);
            self.after_send_ns[class].push(w.after_send_ns);
        }
    }

    /// Adds every wait of `other`.
    pub fn merge(&mut self, other: &WakesByIdle) {
        for (a, b) in self.after_send_ns.iter_mut().zip(&other.after_send_ns) {
            a.extend_from_slice(b);
        }
    }

    /// Each class's idle lengths (from, to; `to` None: open), how many
    /// waits it holds, and their median and 90th percentile from the send
    /// to the server running (None: fewer than [`MIN_WAKES`]), ns.
    pub fn classes(&self) -> Vec<IdleClass> {
        self.after_send_ns
            .iter()
            .enumerate()
            .map(|(i, after)| {
                let mut v = after.clone();
                v.sort_unstable();
                IdleClass {
                    from_ns: if i == 0 { 0 } else { IDLE_CLASSES_NS[i - 1] },
                    to_ns: IDLE_CLASSES_NS.get(i).copied(),
                    waits: v.len(),
                    median_p90_ns: (v.len() >= MIN_WAKES).then(|| (rank(&v, 0.5), rank(&v, 0.9))),
                }
            })
            .collect()
    }
}

/// One class of [`WakesByIdle::classes`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleClass {
    pub from_ns: u64,
    pub to_ns: Option<u64>,
    pub waits: usize,
    pub median_p90_ns: Option<(f64, f64)>,
}

/// The median of `after` (None: fewer than [`MIN_WAKES`]).
fn median_wake(mut after: Vec<u64>) -> Option<f64> {
    (after.len() >= MIN_WAKES).then(|| {
        after.sort_unstable();
        rank(&after, 0.5)
    })
}

/// How each design is driven.
#[derive(Debug, Clone, Copy)]
pub struct Drive {
    pub handler_ns: u64,
    pub warmup: Duration,
    pub duration: Duration,
    pub timeout: Duration,
    pub seed: u64,
    pub cores: Cores,
}

/// One rate measured, with what explains it.
#[derive(Debug, Clone)]
pub struct Measured {
    pub rate: f64,
    pub figures: Figures,
    /// The load generator's share of its core.
    pub client_util: f64,
    /// Share of the two cores' time the hypervisor took during the window.
    pub steal: f64,
    /// Share of the server's core spent in interrupts during the window.
    pub server_interrupts: f64,
    /// Runs discarded for steal before this one.
    pub retries: usize,
    pub resumed_share: Option<f64>,
    pub worst_send_lag_ms: f64,
    /// Longest a `connect` held the load generator.
    pub slowest_connect_ms: f64,
    /// The 99th percentile of the measured requests' send lags.
    pub send_lag_p99_ms: f64,
    pub failed: usize,
    /// The server's CPU per completed request, and the part of it on the
    /// requests' path (as [`InPlace`]), ns.
    pub server_ns: f64,
    pub server_on_path_ns: f64,
    /// The load generator's core's pauses in the window's idle turns (None:
    /// none seen), and the idle time they were seen in, ns.
    pub client_pauses: Option<CorePauses>,
    pub client_idle_ns: u64,
    /// The server's core's pauses in its turns over the window, and the
    /// turns' time they were seen in, ns.
    pub server_pauses: Option<CorePauses>,
    pub server_turns_ns: u64,
    /// Median time from a send to the server running again, over the
    /// window's waits that let the server's core go idle
    /// ([`wake_after_send`]; None: too few), and how many there were.
    pub idle_way_in_ns: Option<f64>,
    pub idle_wakes: usize,
    /// Every wait of the window that a send ended, by the idle before it.
    pub wakes_by_idle: WakesByIdle,
}

/// Pauses seen over `watched` ns as ztsim's `pauses` (None: none seen).
/// Pauses that took half the time watched or more would be a broken
/// window, not a core's pauses: none are modelled then.
pub fn seen(pauses_ns: &[u64], watched: u64) -> Option<CorePauses> {
    (!pauses_ns.is_empty() && 2 * pauses_ns.iter().sum::<u64>() < watched).then(|| CorePauses {
        every_ns: watched as f64 / pauses_ns.len() as f64,
        lengths_ns: pauses_ns.to_vec(),
    })
}

/// The request body: `[u16 token length][token]`, zeros, then the policy
/// input index (written per request by the load generator).
fn body(token: Option<&str>) -> Vec<u8> {
    let mut b = vec![0u8; REQUEST_BYTES];
    if let Some(t) = token {
        b[..2].copy_from_slice(&(t.len() as u16).to_le_bytes());
        b[2..2 + t.len()].copy_from_slice(t.as_bytes());
    }
    b
}

/// Share of the two cores' time the hypervisor took during a run's window.
fn stolen(r: &PhaseResult) -> f64 {
    r.steal_ns as f64 / (2 * r.window_ns.max(1)) as f64
}

/// Nearest-rank quantile of sorted samples.
fn rank(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64
}

/// A design's CPU per request measured in place: the whole system running
/// at a moderate rate, each side's CPU over the window divided by the
/// requests completed in it, and of that the part spent after the
/// response (closing the connection: a core's time no request waits for).
/// The in-loop figures (one handshake or check
/// at a time on a warm core) miss what only the running system pays:
/// sockets opened and closed, TLS records and buffers, caches shared with
/// the other work. docs/validation.md.
#[derive(Debug, Clone, Copy)]
pub struct InPlace {
    pub rate: f64,
    /// The server thread's CPU per request, ns.
    pub server_ns: f64,
    /// The part of it after the response (closing the connection), ns.
    pub server_after_ns: f64,
    /// The part of it the request waited for (reading, working, answering;
    /// accepting the connection), ns: the rest is off the request's path.
    pub server_on_path_ns: f64,
    /// The load generator's working time per request, ns.
    pub client_ns: f64,
    /// The part of it after the response was recorded, ns.
    pub client_after_ns: f64,
}

/// A design's server and load generator, started once for all its rates.
pub struct Rig {
    server: Server,
    load: Load,
}

impl Rig {
    /// Starts `design`'s server and prepares its load generator.
    pub fn start(design: &TestbedDesign, drive: &Drive) -> Result<Rig, LabError> {
        let ends = match design.tls {
            Some((v, mutual)) => Some(Endpoints::new(setup(v, mutual), design.tickets)?),
            None => None,
        };
        let (auth, token) = if design.checks {
            let keys = jwt::Keys::new(jwt::Alg::Es256)?;
            let token = keys.sign()?;
            (Some(Auth { keys }), Some(token))
        } else {
            (None, None)
        };
        let server = Server::start(ServerSpec {
            tls: ends.as_ref().map(|e| e.server.clone()),
            handler_ns: drive.handler_ns,
            auth,
            core: drive.cores.server,
        })?;
        let load = Load {
            addr: server.addr,
            tls: ends.as_ref().map(|e| Arc::clone(&e.client)),
            pool: if design.keep_alive {
                Pool::KeepAlive { max: MAX_POOL }
            } else {
                Pool::PerRequest
            },
            body: body(token.as_deref()),
            timeout: drive.timeout,
            core: drive.cores.client,
        };
        Ok(Rig { server, load })
    }

    /// The in-place CPU per request at `rate` (the `run`-th time), over a rate's window after
    /// twice its warm-up: the first run on a fresh server is the coldest
    /// (connections, caches and the allocator's arenas still growing), and
    /// a cold figure would be charged to every rate.
    pub fn in_place(
        &self,
        rate: f64,
        run: u64,
        drive: &Drive,
        stop: &AtomicBool,
    ) -> Result<InPlace, LabError> {
        let phase = Phase {
            rate,
            warmup: drive.warmup * 2,
            duration: drive.duration,
            seed: drive.seed ^ 0x1A_91AC ^ (run << 32),
        };
        let (r, _) = self.run(&phase, stop)?;
        let n = r.completed_in_window.max(1) as f64;
        Ok(InPlace {
            rate,
            server_ns: r.server_cpu_ns as f64 / n,
            server_after_ns: r.server_after_ns as f64 / n,
            server_on_path_ns: (r.server_on_path_ns.min(r.server_cpu_ns)) as f64 / n,
            client_ns: r.client_busy_ns as f64 / n,
            client_after_ns: r.client_after_ns as f64 / n,
        })
    }

    /// Runs `phase`; a run during which the hypervisor took more than
    /// [`MAX_STEAL`] of the two cores' time is run again, at most
    /// [`STEAL_RETRIES`] times (its figures would be the neighbours', not
    /// the system's). Returns the last run and how many were discarded.
    fn run(&self, phase: &Phase, stop: &AtomicBool) -> Result<(PhaseResult, usize), LabError> {
        let mut r = testbed::run_phase(&self.load, phase, &self.server, stop)?;
        let mut retries = 0;
        while stolen(&r) > MAX_STEAL && retries < STEAL_RETRIES && !stop.load(Ordering::SeqCst) {
            retries += 1;
            r = testbed::run_phase(&self.load, phase, &self.server, stop)?;
        }
        Ok((r, retries))
    }

    /// The design at `rate`, the `i`-th of its rates.
    pub fn measure(
        &self,
        design: &TestbedDesign,
        rate: f64,
        i: usize,
        drive: &Drive,
        stop: &AtomicBool,
    ) -> Result<Measured, LabError> {
        let phase = Phase {
            rate,
            warmup: drive.warmup,
            duration: drive.duration,
            seed: drive.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i as u64,
        };
        let (r, retries) = self.run(&phase, stop)?;
        let mut lat = r.latencies_ns.clone();
        lat.sort_unstable();
        let window_s = (r.window_ns as f64 * 1e-9).max(1e-9);
        let handshakes = r.handshakes_full + r.handshakes_resumed;
        let idle = after_sends(&r.server_wakes, IDLE_WAIT_NS);
        let mut wakes_by_idle = WakesByIdle::default();
        wakes_by_idle.add(&r.server_wakes);
        Ok(Measured {
            rate,
            figures: Figures {
                p50_ms: rank(&lat, 0.5) / 1e6,
                p90_ms: rank(&lat, 0.9) / 1e6,
                p99_ms: rank(&lat, 0.99) / 1e6,
                mean_ms: lat.iter().map(|&v| v as f64).sum::<f64>() / lat.len().max(1) as f64 / 1e6,
                throughput_rps: r.completed_in_window as f64 / window_s,
                cpu_util: r.server_cpu_ns as f64 / r.window_ns.max(1) as f64,
            },
            client_util: r.client_busy_ns as f64 / r.window_ns.max(1) as f64,
            steal: stolen(&r),
            server_interrupts: r.server_interrupts_ns as f64 / r.window_ns.max(1) as f64,
            retries,
            resumed_share: (design.tickets && handshakes > 0)
                .then(|| r.handshakes_resumed as f64 / handshakes as f64),
            worst_send_lag_ms: r.worst_send_lag_ns as f64 / 1e6,
            slowest_connect_ms: r.slowest_connect_ns as f64 / 1e6,
            send_lag_p99_ms: {
                let mut lags = r.send_lags_ns.clone();
                lags.sort_unstable();
                rank(&lags, 0.99) / 1e6
            },
            failed: r.failed,
            server_ns: r.server_cpu_ns as f64 / r.completed_in_window.max(1) as f64,
            server_on_path_ns: r.server_on_path_ns.min(r.server_cpu_ns) as f64
                / r.completed_in_window.max(1) as f64,
            client_pauses: seen(&r.client_pauses_ns, r.client_idle_ns),
            client_idle_ns: r.client_idle_ns,
            server_pauses: seen(&r.server_pauses_ns, r.server_turns_ns),
            server_turns_ns: r.server_turns_ns,
            idle_wakes: idle.len(),
            idle_way_in_ns: median_wake(idle),
            wakes_by_idle,
        })
    }

    /// Stops the server and joins its thread.
    pub fn stop(self) -> Result<(), LabError> {
        self.server.stop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wake(waited_ns: u64, after_send_ns: u64) -> Wake {
        Wake {
            waited_ns,
            after_send_ns,
        }
    }

    #[test]
    fn waits_are_sorted_by_the_idle_before_them() {
        let mut by = WakesByIdle::default();
        // 30 waits of 10 us (after their sends 1..=30 us), 25 of exactly
        // 20 us (the next class: bounds are upper, exclusive) and one of an
        // hour (the open class, too few for a median).
        by.add(
            &(1..=30)
                .map(|i| wake(10_000, i * 1_000))
                .collect::<Vec<_>>(),
        );
        by.add(&vec![wake(20_000, 50_000); 25]);
        let mut other = WakesByIdle::default();
        other.add(&[wake(3_600_000_000_000, 7)]);
        by.merge(&other);
        let c = by.classes();
        assert_eq!(c.len(), IDLE_CLASSES_NS.len() + 1);
        assert_eq!(
            (c[0].from_ns, c[0].to_ns, c[0].waits),
            (0, Some(20_000), 30)
        );
        // Nearest rank of 1..=30 us: the 15th and the 27th.
        assert_eq!(c[0].median_p90_ns, Some((15_000.0, 27_000.0)));
        assert_eq!(
            (c[1].from_ns, c[1].to_ns, c[1].waits),
            (20_000, Some(50_000), 25)
        );
        assert_eq!(c[1].median_p90_ns, Some((50_000.0, 50_000.0)));
        let last = c.last().unwrap();
        assert_eq!((last.from_ns, last.to_ns, last.waits), (3_000_000, None, 1));
        assert_eq!(last.median_p90_ns, None);
        assert!(
            c[2..c.len() - 1]
                .iter()
                .all(|k| k.waits == 0 && k.median_p90_ns.is_none())
        );
    }

    #[test]
    fn the_wake_after_a_send_is_the_median_over_long_enough_waits() {
        // 25 waits long enough (after their sends 1..=25 us) and 30 short
        // ones (100 us after theirs) that must not count.
        let mut w: Vec<Wake> = (1..=25)
            .map(|i| wake(IDLE_WAIT_NS + i, i * 1_000))
            .collect();
        w.extend((0..30).map(|_| wake(IDLE_WAIT_NS - 1, 100_000)));
        assert_eq!(wake_after_send(&w, IDLE_WAIT_NS), Some(13_000.0));
        // Every wait: the short ones now make the median.
        assert_eq!(wake_after_send(&w, 0), Some(100_000.0));
        // Too few long waits: no figure rather than a noisy one.
        assert_eq!(wake_after_send(&w[..MIN_WAKES - 1], IDLE_WAIT_NS), None);
        assert_eq!(wake_after_send(&[], 0), None);
    }
}
