//! What `testbed.txt` says beside the table: the calibration, the cores'
//! pauses, each design's CPU in place and each rate's window, and the
//! server core's wake-up by the idle before it.

use std::fmt::Write as _;
use std::time::Duration;

use ztsim::study::testbed::{CorePauses, System};
use ztsim::units::format_nanos;
use ztsim_lab::testbed;

use super::designs::TestbedDesign;
use super::measure::{Calibration, InPlace, Measured, WakesByIdle};
use super::{Plan, window_wakeup};

/// What explains a design's figures: its CPU per request in place beside
/// the in-loop sum, what ztsim was given, and each rate's run.
pub(super) fn design_notes(
    d: &TestbedDesign,
    cal: &Calibration,
    runs: &[InPlace],
    sys: &System,
    m: &[Measured],
    in_loop: f64,
) -> String {
    let us = |ns: f64| ns / 1e3;
    let ip = &runs[runs.len() / 2];
    let client_loop = d.client_ns(&cal.costs);
    let client_on_path = ip.client_ns - ip.client_after_ns;
    let mut t = format!(
        "{}: in place at {:.0} rps (the median of {} runs, server {} us), server {:.1} us per request, {:.1} of it on the requests' path and {:.1} after the response \
         (in-loop figures {:.1} us, x{:.2}), load generator {:.1} us, {:.1} after (its handshake in loop \
         {:.1} us); ztsim: server {:.1} us + TLS and checks + {:.1} off the path, load generator \
         {:.1} us + handshake{} + {:.1} off the path\n ",
        d.name,
        ip.rate,
        runs.len(),
        runs.iter()
            .map(|r| format!("{:.1}", us(r.server_ns)))
            .collect::<Vec<_>>()
            .join(", "),
        us(ip.server_ns),
        us(ip.server_on_path_ns),
        us(ip.server_after_ns),
        us(in_loop),
        ip.server_ns / in_loop,
        us(ip.client_ns),
        us(ip.client_after_ns),
        us(client_loop),
        us(sys.service_cpu_ns),
        us(sys.service_off_path_ns),
        us(sys.client_cpu_ns),
        if client_loop > client_on_path && client_loop > 0.0 {
            format!(
                " (x{:.2}: in-loop figures scaled to the in-place CPU)",
                client_on_path.max(0.0) / client_loop
            )
        } else {
            String::new()
        },
        us(sys.client_off_path_ns),
    );
    for x in m {
        let _ = write!(
            t,
            " [{:.0} rps: {} failed, send lag p99 {:.3} ms and worst {:.3} ms, slowest connect {:.3} ms, load generator {:.0}% busy, {}, server core {:.1}% in interrupts, steal {:.1}%, {} idle waits of the server ended by a send, {}{}{}]",
            x.rate,
            x.failed,
            x.send_lag_p99_ms,
            x.worst_send_lag_ms,
            x.slowest_connect_ms,
            x.client_util * 100.0,
            window_pauses(x),
            x.server_interrupts * 100.0,
            x.steal * 100.0,
            x.idle_wakes,
            match x.idle_way_in_ns {
                Some(v) => format!(
                    "running {:.1} us after the send (a wake-up of {:.1} us)",
                    v / 1e3,
                    window_wakeup(x.idle_way_in_ns, cal.probes.way_in_ns, sys.wakeup_ns) / 1e3
                ),
                None => "(too few: the calibration's wake-up)".into(),
            },
            if x.retries > 0 {
                format!(" (run {} times)", x.retries + 1)
            } else {
                String::new()
            },
            x.resumed_share
                .map_or(String::new(), |s| format!(", {:.0}% resumed", s * 100.0))
        );
    }
    t
}

/// How the server core's wake-up grew with the idle before it, over every
/// window of the run: ztsim charges one figure per window (from idles of
/// [`measure::IDLE_WAIT_NS`] or more), and this shows what that leaves out.
pub(super) fn wakes_text(wakes: &WakesByIdle, way_in_ns: f64) -> String {
    let us = |ns: f64| ns / 1e3;
    let span = |ns: u64| format_nanos(ns as f64);
    // No awake figure (the probe saw too few waits): no wake-up to tell.
    let awake = way_in_ns.is_finite().then_some(way_in_ns);
    let mut t = format!(
        "The server core's wake-up by the idle before it (every window's waits that a send ended: \
         the median and p90 time from the send to the server running, and the median less {}):",
        awake.map_or("an awake core's (not measured)".into(), |a| format!(
            "the {:.1} us it took on an awake core",
            us(a)
        ))
    );
    for c in wakes.classes() {
        let idle = match c.to_ns {
            Some(to) if c.from_ns == 0 => format!("under {}", span(to)),
            Some(to) => format!("{}-{}", span(c.from_ns), span(to)),
            None => format!("{} or more", span(c.from_ns)),
        };
        let _ = write!(t, "\n  idle {idle}: ");
        let _ = match (c.median_p90_ns, awake) {
            (None, _) => write!(t, "- ({} waits, too few)", c.waits),
            (Some((m, p90)), a) => write!(
                t,
                "ran {:.1} us after the send (p90 {:.1} us), {} ({} waits)",
                us(m),
                us(p90),
                match a {
                    Some(a) if m > a => format!("a wake-up of {:.1} us", us(m - a)),
                    Some(_) => "no wake-up".into(),
                    None => "wake-up unknown".into(),
                },
                c.waits
            ),
        };
    }
    t
}

/// The pauses the cores showed in a rate's window.
fn window_pauses(x: &Measured) -> String {
    let one = |p: &Option<CorePauses>, watched: u64, turns: &str| {
        let ms = watched as f64 / 1e6;
        match p {
            None => format!("not paused in its {turns} ({ms:.0} ms)"),
            Some(p) => format!(
                "paused {} times in its {turns} ({:.2}% of their {ms:.0} ms, longest {:.2} ms)",
                p.lengths_ns.len(),
                100.0 * p.lengths_ns.iter().sum::<u64>() as f64 / watched.max(1) as f64,
                p.lengths_ns.iter().max().copied().unwrap_or(0) as f64 / 1e6,
            ),
        }
    };
    format!(
        "its core {}, the server's {}",
        one(&x.client_pauses, x.client_idle_ns, "idle turns"),
        one(&x.server_pauses, x.server_turns_ns, "turns")
    )
}

pub(super) fn calibration_text(
    p: &Plan,
    c: &Calibration,
    s: &System,
    pauses: &[testbed::CorePauses],
) -> String {
    let us = |ns: f64| ns / 1e3;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Calibrated on this host (server core {}, client core {}):\n  \
         loopback round trip {:.1} us (closed-loop probe {:.1} us, p99 {:.1} us, minus the {:.1} us per request the server's turn took; \
         its IO CPU is {:.1} us in all)\n  \
         server core wake-up {:.1} us (light-load open-loop probe {:.1} us minus the closed-loop one; \
         running {:.1} us after a send awake, {} idle)\n  \
         server accept+close of a connection {:.1} us; spin {:.3} ns/iteration\n  \
         handler {:.0} us + IO {:.1} us = {:.1} us per request before TLS and checks\n  \
         ES256 verify {:.1} us (median); Rego RBAC decision median {:.1} us, p99 {:.1} us, mean {:.1} us",
        p.drive.cores.server,
        p.drive.cores.client,
        us(s.rtt_ns),
        us(c.probes.closed_rtt_ns),
        us(c.probes.closed_rtt_p99_ns),
        us(c.probes.io_on_path_ns),
        us(c.probes.io_ns),
        us(s.wakeup_ns),
        us(c.probes.probe_rtt_ns),
        us(c.probes.way_in_ns),
        c.probes
            .light_way_in_ns
            .map_or("-".into(), |v| format!("{:.1} us", us(v))),
        us(c.probes.connection_ns),
        c.probes.spin_ns_per_iter,
        us(p.drive.handler_ns as f64),
        us(c.probes.io_ns),
        us(s.service_cpu_ns),
        us(c.costs.jwt_verify_ns),
        us(c.costs.policy_median_ns),
        us(c.costs.policy_p99_ns),
        us(c.costs.policy_mean_ns),
    );
    for (v, h) in [("1.2", &c.costs.tls12), ("1.3", &c.costs.tls13)] {
        let _ = writeln!(
            t,
            "  TLS {v} (x25519, ECDSA P-256, chain 2), medians: client full {:.1} us{}, server full {:.1} us \
             ({:.1} us of it on the client's last flight), client resumed {:.1} us, server resumed {:.1} us, mTLS extra client {:.1} / server {:.1} us \
             (server sides include accept+close)",
            us(h.client_full),
            // Only TLS 1.2's client has a turn on the server's last flight.
            if h.client_finish > 0.0 {
                format!(
                    " ({:.1} us of it on the server's last flight)",
                    us(h.client_finish)
                )
            } else {
                String::new()
            },
            us(h.server_full),
            us(h.server_finish),
            us(h.client_resumed),
            us(h.server_resumed),
            us(h.mtls_client),
            us(h.mtls_server)
        );
    }
    let _ = writeln!(t, "{}", pauses_text(p.pause_probe, pauses));
    t
}

/// What the pause probe saw on each core.
fn pauses_text(span: Duration, pauses: &[testbed::CorePauses]) -> String {
    if pauses.is_empty() {
        return "  cores' pauses: not probed (--pause-probe 0s); the prediction models none".into();
    }
    let ms = |ns: u64| ns as f64 / 1e6;
    let cores: Vec<String> = pauses
        .iter()
        .map(|c| match c.pauses_ns.as_slice() {
            [] => format!("core {}: none", c.core),
            all => format!(
                "core {}: {} ({:.2} a second), {:.2}% of the time, {:.2} ms on average, longest {:.2} ms",
                c.core,
                all.len(),
                all.len() as f64 / (c.span_ns.max(1) as f64 / 1e9),
                100.0 * c.paused_share(),
                ms(all.iter().sum::<u64>()) / all.len() as f64,
                ms(*all.last().unwrap_or(&0)),
            ),
        })
        .collect();
    format!(
        "  cores' pauses of {} us or more over {:.0} s (a pinned thread timing its clock reads; the server's core's are its `pauses` in the model, the load generator's those of each rate's own window): {}",
        testbed::PAUSE_THRESHOLD_NS / 1000,
        span.as_secs_f64(),
        cores.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::{WakesByIdle, wakes_text};
    use ztsim_lab::testbed::Wake;

    #[test]
    fn the_wake_up_by_idle_is_shown_less_the_awake_way_in() {
        let mut by = WakesByIdle::default();
        let waits = |waited_ns, after_send_ns| {
            vec![
                Wake {
                    waited_ns,
                    after_send_ns
                };
                20
            ]
        };
        by.add(&waits(30_000, 40_000));
        by.add(&waits(5_000_000, 75_000));
        by.add(&waits(10_000, 1_000));
        let t = wakes_text(&by, 15_000.0);
        let has = |line: &str| assert!(t.contains(line), "{line:?} not in {t}");
        has("and the median less the 15.0 us it took on an awake core):");
        has("\n  idle under 20 us: ran 1.0 us after the send (p90 1.0 us), no wake-up (20 waits)");
        has(
            "\n  idle 20 us-50 us: ran 40.0 us after the send (p90 40.0 us), a wake-up of 25.0 us (20 waits)",
        );
        has("\n  idle 1 ms-3 ms: - (0 waits, too few)");
        has(
            "\n  idle 3 ms or more: ran 75.0 us after the send (p90 75.0 us), a wake-up of 60.0 us (20 waits)",
        );
        // No awake figure: the times as seen, no wake-up claimed.
        let t = wakes_text(&by, f64::NAN);
        assert!(t.contains("less an awake core's (not measured)"), "{t}");
        assert!(
            t.contains(
                "idle 20 us-50 us: ran 40.0 us after the send (p90 40.0 us), wake-up unknown"
            ),
            "{t}"
        );
    }
}
