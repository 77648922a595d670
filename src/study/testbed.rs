//! ztsim's prediction of the loopback testbed (`ztsim testbed`): the same
//! system written as a topology and a design (one zone whose round trip is
//! the loopback's, a load generator of one core, one service of one core;
//! each side's CPU per request outside TLS and the checks as measured in
//! place, on and off the request's path; the
//! design's TLS, connection reuse, JWT and policy with the figures measured
//! in the same run), simulated at the same rates. The files are ordinary
//! topology and design text, so they meet the same checks as a user's and
//! can be run again with `ztsim run`.

use crate::config::{Diagnostic, parse_design, parse_topology};
use crate::model::metrics::LatencyHistogram;
use crate::model::run_replications;
use crate::report::testbed::Figures;

/// The measured system, as the topology needs it.
#[derive(Debug, Clone)]
pub struct System {
    /// Loopback round trip between the load generator and the server, ns,
    /// without the server's own CPU (that is in `service_cpu_ns`).
    pub rtt_ns: f64,
    /// Time the server's idle core takes to start a request, ns.
    pub wakeup_ns: f64,
    /// Server CPU per request outside TLS and the checks: the handler's spin
    /// plus reading, framing and writing, ns.
    pub service_cpu_ns: f64,
    /// Server CPU per request after the response (closing the connection),
    /// ns: it holds the core but no request waits for it.
    pub service_off_path_ns: f64,
    /// The load generator's CPU per request outside TLS (on its one core),
    /// ns.
    pub client_cpu_ns: f64,
    /// The load generator's CPU per request after the response, ns.
    pub client_off_path_ns: f64,
    /// Bytes of a request on the wire (framing included).
    pub request_bytes: usize,
    /// Bytes of a response on the wire (framing included).
    pub response_bytes: usize,
    /// Warm-up at each rate, not measured, ns.
    pub warmup_ns: u64,
    /// Measured window at each rate, ns.
    pub duration_ns: u64,
    /// The client gives up after this long.
    pub timeout_ns: u64,
    /// Base seed of the simulation.
    pub seed: u64,
    /// Replications per predicted point.
    pub replications: u32,
    /// The pauses of the server's core, as probed (None: none seen).
    pub server_pauses: Option<CorePauses>,
    /// The pauses of the load generator's core, as probed.
    pub client_pauses: Option<CorePauses>,
}

/// A core's pauses as a probe saw them: `pauses` in the topology.
#[derive(Debug, Clone, PartialEq)]
pub struct CorePauses {
    /// Mean time between pauses, ns.
    pub every_ns: f64,
    /// The pauses' lengths, ns (an empirical distribution).
    pub lengths_ns: Vec<u64>,
}

/// Most values a pause distribution is written with: a longer probe's
/// lengths are thinned to evenly spaced ranks of the sorted list.
const MAX_PAUSE_VALUES: usize = 200;

impl CorePauses {
    /// `{ every, for }` as topology text.
    fn text(&self) -> String {
        let mut sorted = self.lengths_ns.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        let kept: Vec<String> = if n <= MAX_PAUSE_VALUES {
            sorted.iter().map(|&v| ns(v as f64)).collect()
        } else {
            (0..MAX_PAUSE_VALUES)
                .map(|i| ns(sorted[(i * 2 + 1) * n / (2 * MAX_PAUSE_VALUES)] as f64))
                .collect()
        };
        format!(
            "{{ every = {}, for = {{ dist = \"empirical\", values = [{}] }} }}",
            ns(self.every_ns),
            kept.join(", ")
        )
    }
}

/// Per-side handshake CPU, ns (as `[transport.cpu]` takes it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandshakeNs {
    /// Client side of a full handshake.
    pub client_full: f64,
    /// Server side of a full handshake.
    pub server_full: f64,
    /// The part of `server_full` on the client's last flight.
    pub server_finish: f64,
    /// The part of `client_full` on the server's last flight, a turn of
    /// its own (TLS 1.2; 0 in TLS 1.3).
    pub client_finish: f64,
    /// Client side of a resumed handshake.
    pub client_resumed: f64,
    /// Server side of a resumed handshake.
    pub server_resumed: f64,
    /// Added to the client of a full mutual handshake.
    pub mtls_client: f64,
    /// Added to the server of a full mutual handshake.
    pub mtls_server: f64,
}

/// TLS as a testbed design uses it (x25519, ECDSA P-256, a chain of 2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tls {
    /// "1.2" or "1.3".
    pub version: &'static str,
    /// The client presents a certificate too.
    pub mutual: bool,
    /// Per-side handshake CPU.
    pub cpu: HandshakeNs,
}

/// What the server checks per request: an ES256 JWT and an in-process Rego
/// decision, with their measured CPU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Checks {
    /// ES256 verification, ns (mean).
    pub jwt_verify_ns: f64,
    /// Rego decision, median ns.
    pub policy_median_ns: f64,
    /// Rego decision, p99 ns.
    pub policy_p99_ns: f64,
}

/// One testbed design as ztsim models it.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// The design's name.
    pub name: String,
    /// TLS, or plaintext when None.
    pub tls: Option<Tls>,
    /// Keep-alive pool (true) or a connection per request.
    pub keep_alive: bool,
    /// Most pooled connections (the client's pool limit).
    pub max_pool: usize,
    /// Session tickets (resumed handshakes per request).
    pub tickets: bool,
    /// JWT and policy per request, if any.
    pub checks: Option<Checks>,
}

impl Design {
    /// The load generator's side of every handshake scaled by `factor`: the
    /// in-loop figures measured one handshake at a time, scaled to what the
    /// load generator spent per request in place when that was less (a
    /// model must not charge a side more CPU than it was measured to spend).
    pub fn scale_client_handshakes(&mut self, factor: f64) {
        if let Some(tls) = &mut self.tls {
            let c = &mut tls.cpu;
            c.client_full *= factor;
            c.client_resumed *= factor;
            c.mtls_client *= factor;
        }
    }
}

fn ns(v: f64) -> String {
    format!("\"{}ns\"", v.round().max(0.0) as u64)
}

/// A distribution through a median and a p99 (a constant if they are equal).
fn lognormal(median: f64, p99: f64) -> String {
    if p99 > median {
        format!(
            "{{ dist = \"lognormal\", median = {}, p99 = {} }}",
            ns(median),
            ns(p99)
        )
    } else {
        ns(median)
    }
}

/// `key = { every, for }` and a newline, or nothing without pauses.
fn pauses_line(key: &str, p: &Option<CorePauses>) -> String {
    p.as_ref()
        .map_or(String::new(), |p| format!("{key} = {}\n", p.text()))
}

/// The topology of the testbed at `rate_rps`.
pub fn topology_text(s: &System, rate_rps: f64) -> String {
    format!(
        "# The loopback testbed as ztsim models it (written by `ztsim testbed`).\n\
         name = \"testbed\"\n\n\
         [zones.loopback]\nrtt = {rtt}\n\n\
         [services.server]\nzones = [\"loopback\"]\nreplicas = 1\ncores = 1\nwakeup = {wakeup}\n{server_pauses}\n\
         [services.server.endpoints.handle]\ncpu = {cpu}\ncpu_off_path = {cpu_off}\nrequest_size = \"{req}B\"\nresponse_size = \"{resp}B\"\n\n\
         [workload]\narrivals = \"poisson\"\nrate = {rate_rps}\nclient_zone = \"loopback\"\n\
         client_cores = 1\nclient_cpu = {client}\nclient_cpu_off_path = {client_off}\n{client_pauses}\
         warmup = {warmup}\nduration = {duration}\ntimeout = {timeout}\nseed = {seed}\nreplications = {reps}\n\
         entry = [{{ endpoint = \"server.handle\" }}]\n",
        rtt = ns(s.rtt_ns),
        wakeup = ns(s.wakeup_ns),
        server_pauses = pauses_line("pauses", &s.server_pauses),
        client_pauses = pauses_line("client_pauses", &s.client_pauses),
        cpu = ns(s.service_cpu_ns),
        cpu_off = ns(s.service_off_path_ns),
        client = ns(s.client_cpu_ns),
        client_off = ns(s.client_off_path_ns),
        req = s.request_bytes,
        resp = s.response_bytes,
        warmup = ns(s.warmup_ns as f64),
        duration = ns(s.duration_ns as f64),
        timeout = ns(s.timeout_ns as f64),
        seed = s.seed,
        reps = s.replications,
    )
}

/// The design file of a testbed design.
pub fn design_text(d: &Design) -> String {
    let mut t = format!(
        "# A testbed design as ztsim models it (written by `ztsim testbed`).\nname = \"{}\"\n\n[transport]\n",
        d.name
    );
    match &d.tls {
        None => t.push_str("security = \"plaintext\"\n"),
        Some(tls) => {
            let c = &tls.cpu;
            t.push_str(&format!(
                "security = \"{}\"\ntls_version = \"{}\"\nkey_exchange = \"x25519\"\ncertificate = \"ecdsa-p256\"\nchain_length = 2\n\n\
                 [transport.cpu]\nclient_full = {}\nserver_full = {}\nserver_finish = {}\n{}client_resumed = {}\nserver_resumed = {}\nmtls_client = {}\nmtls_server = {}\n",
                if tls.mutual { "mtls" } else { "tls" },
                tls.version,
                ns(c.client_full),
                ns(c.server_full),
                ns(c.server_finish),
                // The client's own turn on the last flight is TLS 1.2's.
                if tls.version == "1.2" {
                    format!("client_finish = {}\n", ns(c.client_finish))
                } else {
                    String::new()
                },
                ns(c.client_resumed),
                ns(c.server_resumed),
                ns(c.mtls_client),
                ns(c.mtls_server),
            ));
        }
    }
    if d.keep_alive {
        t.push_str(&format!(
            "\n[connections]\nreuse = \"pool\"\nmax_per_destination = {}\nprewarm = true\ntcp_fast_open = false\n",
            d.max_pool
        ));
    } else {
        t.push_str("\n[connections]\nreuse = \"per-request\"\ntcp_fast_open = false\n");
    }
    if d.tickets {
        t.push_str("\n[resumption]\ntickets = true\nticket_ttl = \"1h\"\n");
    }
    if let Some(c) = &d.checks {
        t.push_str(&format!(
            "\n[authn]\njwt = \"es256\"\nverify_cpu = {}\n\n[authz]\nmode = \"in-process\"\neval_cpu = {}\n",
            ns(c.jwt_verify_ns),
            lognormal(c.policy_median_ns, c.policy_p99_ns)
        ));
    }
    t
}

/// Simulates `design` on `system` at each rate: the figures of every
/// replication's measured requests together (saturated runs included, run
/// to their window's end: the requests that finished, and those given up
/// at the timeout).
pub fn predict(
    system: &System,
    design: &Design,
    rates: &[f64],
) -> Result<Vec<Figures>, Vec<Diagnostic>> {
    let design_text = design_text(design);
    rates
        .iter()
        .map(|&rate| {
            let mut topo = parse_topology("testbed.toml", &topology_text(system, rate))?;
            // Past the knee the real system's figures are those of a 3-s
            // window filling up: simulate the whole window too.
            topo.workload.stop_when_saturated = false;
            let d = parse_design(&format!("{}.toml", design.name), &design_text, Some(&topo))?;
            let runs = run_replications(&topo, &d);
            let mut all = LatencyHistogram::default();
            for r in &runs {
                all.merge(&r.all_requests().latency);
            }
            let q = |p: f64| all.quantile(p).unwrap_or(f64::NAN) / 1e6;
            let window: f64 = runs.iter().map(|r| r.window as f64 * 1e-9).sum();
            let finished: f64 = runs.iter().map(|r| r.finished_in_window as f64).sum();
            let util = runs.iter().map(|r| r.service(0).utilisation()).sum::<f64>()
                / runs.len().max(1) as f64;
            Ok(Figures {
                p50_ms: q(0.5),
                p90_ms: q(0.9),
                p99_ms: q(0.99),
                mean_ms: all.mean().unwrap_or(f64::NAN) / 1e6,
                throughput_rps: if window > 0.0 { finished / window } else { 0.0 },
                cpu_util: util,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(server_pauses: Option<CorePauses>) -> System {
        System {
            rtt_ns: 20_000.0,
            wakeup_ns: 0.0,
            service_cpu_ns: 500_000.0,
            service_off_path_ns: 0.0,
            client_cpu_ns: 0.0,
            client_off_path_ns: 0.0,
            request_bytes: 100,
            response_bytes: 100,
            warmup_ns: 1_000_000_000,
            duration_ns: 3_000_000_000,
            timeout_ns: 1_000_000_000,
            seed: 1,
            replications: 1,
            server_pauses,
            client_pauses: None,
        }
    }

    #[test]
    fn pauses_are_written_as_ordinary_topology_text_thinned_by_rank() {
        // 1,000 pauses of 1..=1000 us, given unsorted: 200 values kept,
        // those of rank (2i + 1) 1000 / 400 (the 3rd, 8th, ... 998th
        // smallest), their mean within 0.1% of the whole list's.
        let lengths_ns: Vec<u64> = (1..=1000u64).rev().map(|i| i * 1000).collect();
        let p = CorePauses {
            every_ns: 20e6,
            lengths_ns,
        };
        let text = topology_text(&system(Some(p)), 100.0);
        let topo = parse_topology("testbed.toml", &text).expect("valid topology");
        let pauses = topo.services[0].pauses.as_ref().expect("pauses");
        assert_eq!(pauses.every, 20_000_000);
        match &pauses.lasts {
            crate::model::dist::Dist::Empirical { values } => {
                assert_eq!(values.len(), MAX_PAUSE_VALUES);
                assert_eq!((values[0], values[199]), (3_000, 998_000));
            }
            other => panic!("not empirical: {other:?}"),
        }
        assert!((pauses.lasts.mean() / 500_500.0 - 1.0).abs() < 1e-3);
        // Without pauses the text is as before: no key at all.
        let plain = topology_text(&system(None), 100.0);
        assert!(!plain.contains("pauses"));
        let topo = parse_topology("testbed.toml", &plain).expect("valid topology");
        assert!(topo.services[0].pauses.is_none() && topo.workload.client_pauses.is_none());
    }
}
