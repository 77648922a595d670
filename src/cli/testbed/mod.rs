//! `ztsim testbed`: a real system on loopback (a one-core rustls server and
//! an open-loop load generator, through `ztsim-lab`) measured at rates from
//! light load to past the knee, and ztsim's prediction of the same system
//! (from figures measured in the same run) beside it: `testbed.csv`, the
//! chart, the designs as ztsim files, and the table. docs/validation.md.

mod designs;
mod measure;
mod notes;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;

use ztsim::report::OUTPUT_ROOT;
use ztsim::report::output::{FolderLock, create_dir, write_atomic};
use ztsim::report::testbed::{self as table, DesignResult, Point};
use ztsim::study::testbed::{self as model, CorePauses, System};
use ztsim_lab::Budget;
use ztsim_lab::testbed::{self, cores};

use super::failure::{Failure, flag_error};
use super::flags::{FolderFlags, distinct_rates, duration_flag, rate_flag};
use super::terminal::{STOP, Terminal};
use designs::{ALL, QUICK, TestbedDesign, by_name};
use measure::{
    Calibration, Cores, Drive, InPlace, Measured, REQUEST_BYTES, Rig, WakesByIdle, seen,
};
use notes::{calibration_text, design_notes, wakes_text};
use ztsim::study::progress::Progress;

/// Rates run, as fractions of each design's capacity estimated from its
/// CPU per request measured in place: light load to past the knee.
const FULL_FRACTIONS: [f64; 8] = [0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1];
const QUICK_FRACTIONS: [f64; 3] = [0.3, 0.7, 1.1];
/// In-place runs per design (the median one is used).
const IN_PLACE_RUNS: u64 = 3;
/// Bytes of every response (the frame's length prefix included).
const RESPONSE_BYTES: usize = 1024 + 4;
/// Highest rate the load generator is asked for.
const MAX_RATE: f64 = 100_000.0;
/// Longest warm-up, window or timeout a flag may ask for.
const MAX_SPAN: Duration = Duration::from_secs(120);

#[derive(Args)]
pub struct TestbedArgs {
    /// Two designs (plain-ka, tls13-full) at three rates with short windows: under a minute.
    #[arg(long)]
    quick: bool,
    /// Designs to run, comma-separated [default: all 16; see docs/validation.md].
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    designs: Vec<String>,
    /// Offered rates, comma-separated (e.g. 200,800,1.2k) [default: fractions
    /// of each design's estimated capacity, from light load to past the knee].
    #[arg(long, value_delimiter = ',', value_name = "RPS")]
    rates: Vec<String>,
    /// CPU the server's handler burns per request (a calibrated spin).
    #[arg(long, value_name = "DURATION", default_value = "500us")]
    handler_cpu: String,
    /// Core the server thread is pinned to.
    #[arg(long, value_name = "N", default_value_t = 0)]
    server_core: usize,
    /// Core the load generator is pinned to.
    #[arg(long, value_name = "N", default_value_t = 1)]
    client_core: usize,
    /// Warm-up at each rate, not measured [default: 1s; --quick 0.5s].
    #[arg(long, value_name = "DURATION")]
    warmup: Option<String>,
    /// Measured window at each rate [default: 3s; --quick 1.5s].
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// How long both cores are probed for pauses (a pinned thread timing
    /// the gaps in its clock reads), which the prediction then models;
    /// 0s models none [default: 20s; --quick 1s].
    #[arg(long, value_name = "DURATION")]
    pause_probe: Option<String>,
    /// The client gives up on a request after this long [default: 1s].
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Seed of the arrivals (and of ztsim's prediction).
    #[arg(long, value_name = "SEED", default_value_t = 1)]
    seed: u64,
    /// ztsim replications per predicted point.
    #[arg(long, value_name = "N", default_value_t = 5)]
    replications: u32,
    /// Output folder [default: output/testbed]; see --force.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    folder: FolderFlags,
    /// Replace results already in the output folder (without it, a default
    /// folder gives way to a new one, name-2, ..., and a folder given with
    /// --out is refused).
    #[arg(long)]
    force: bool,
}

/// The flags, checked.
struct Plan {
    designs: Vec<TestbedDesign>,
    rates: Option<Vec<f64>>,
    fractions: &'static [f64],
    drive: Drive,
    budget: Budget,
    /// How long the cores are probed for pauses (zero: not probed).
    pause_probe: Duration,
    replications: u32,
    out: PathBuf,
    /// Held from before the first measurement to the last file written.
    _lock: FolderLock,
}

fn span_flag(
    flag: &str,
    v: Option<&str>,
    default: Duration,
    zero_ok: bool,
) -> Result<Duration, Failure> {
    let d = match v {
        Some(text) => Duration::from_nanos(duration_flag(flag, text, zero_ok)?),
        None => default,
    };
    if d > MAX_SPAN {
        return Err(flag_error(flag, format!("at most {}s", MAX_SPAN.as_secs())));
    }
    Ok(d)
}

fn core_flag(flag: &str, core: usize, have: &[usize]) -> Result<usize, Failure> {
    if have.contains(&core) {
        return Ok(core);
    }
    let list = have
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(flag_error(
        flag,
        format!("core {core} does not exist here; this process may run on cores {list}"),
    ))
}

fn plan(a: &TestbedArgs) -> Result<Plan, Failure> {
    let names: Vec<String> = if !a.designs.is_empty() {
        a.designs.clone()
    } else if a.quick {
        QUICK.iter().map(|s| s.to_string()).collect()
    } else {
        ALL.iter().map(|d| d.name.to_string()).collect()
    };
    let mut designs = Vec::new();
    for n in &names {
        let d = by_name(n.trim()).ok_or_else(|| {
            let valid = ALL.iter().map(|d| d.name).collect::<Vec<_>>().join(", ");
            flag_error(
                "--designs",
                format!("unknown design `{n}`; the designs are {valid}"),
            )
        })?;
        if !designs.contains(&d) {
            designs.push(d);
        }
    }
    let rates = if a.rates.is_empty() {
        None
    } else {
        let mut r = Vec::new();
        for v in &a.rates {
            let x = rate_flag("--rates", v.trim())?;
            if !(x > 0.0 && x <= MAX_RATE) {
                return Err(flag_error(
                    "--rates",
                    format!("`{v}`: a rate must be above 0 and at most {MAX_RATE} rps"),
                ));
            }
            r.push(x);
        }
        Some(distinct_rates("--rates", r)?)
    };
    let handler = duration_flag("--handler-cpu", &a.handler_cpu, true)?;
    if handler > 100_000_000 {
        return Err(flag_error("--handler-cpu", "at most 100ms"));
    }
    let have = cores();
    let server = core_flag("--server-core", a.server_core, &have)?;
    let client = core_flag("--client-core", a.client_core, &have)?;
    if server == client {
        return Err(flag_error(
            "--client-core",
            format!(
                "must differ from --server-core ({server}): the server needs its core to itself"
            ),
        ));
    }
    let (warm, dur) = if a.quick { (500, 1500) } else { (1000, 3000) };
    let warmup = span_flag(
        "--warmup",
        a.warmup.as_deref(),
        Duration::from_millis(warm),
        true,
    )?;
    let duration = span_flag(
        "--duration",
        a.duration.as_deref(),
        Duration::from_millis(dur),
        false,
    )?;
    let timeout = span_flag(
        "--timeout",
        a.timeout.as_deref(),
        Duration::from_secs(1),
        false,
    )?;
    if a.replications == 0 || a.replications > 100 {
        return Err(flag_error("--replications", "must be 1 to 100"));
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new(OUTPUT_ROOT).join("testbed"));
    let pause_probe = span_flag(
        "--pause-probe",
        a.pause_probe.as_deref(),
        Duration::from_secs(if a.quick { 1 } else { 20 }),
        true,
    )?;
    // Claimed before anything is measured: an unusable folder is bad input,
    // and results already there are never overwritten without --force.
    let (out, lock) = a
        .folder
        .claim(&out, a.out.as_ref().map(|_| "--out"), a.force, |d| {
            d.join("testbed.csv").exists()
        })?;
    Ok(Plan {
        designs,
        rates,
        fractions: if a.quick {
            &QUICK_FRACTIONS
        } else {
            &FULL_FRACTIONS
        },
        drive: Drive {
            handler_ns: handler,
            warmup,
            duration,
            timeout,
            seed: a.seed,
            cores: Cores { server, client },
        },
        budget: if a.quick {
            Budget::quick()
        } else {
            Budget {
                samples: 500,
                warmup: 50,
                time_limit: Duration::from_secs(5),
            }
        },
        pause_probe,
        replications: a.replications,
        out,
        _lock: lock,
    })
}

/// ztsim's view of the measured system.
fn system(p: &Plan, cal: &Calibration, pauses: &[testbed::CorePauses]) -> System {
    System {
        rtt_ns: (cal.probes.closed_rtt_ns - cal.probes.io_on_path_ns).max(1_000.0),
        wakeup_ns: (cal.probes.probe_rtt_ns - cal.probes.closed_rtt_ns).max(0.0),
        service_cpu_ns: p.drive.handler_ns as f64 + cal.probes.io_ns,
        service_off_path_ns: 0.0,
        client_cpu_ns: 0.0,
        client_off_path_ns: 0.0,
        request_bytes: REQUEST_BYTES + 4,
        response_bytes: RESPONSE_BYTES,
        warmup_ns: p.drive.warmup.as_nanos() as u64,
        duration_ns: p.drive.duration.as_nanos() as u64,
        timeout_ns: p.drive.timeout.as_nanos() as u64,
        seed: p.drive.seed,
        replications: p.replications,
        server_pauses: pauses.first().and_then(|c| seen(&c.pauses_ns, c.span_ns)),
        client_pauses: pauses.get(1).and_then(|c| seen(&c.pauses_ns, c.span_ns)),
    }
}

fn lab_failure(e: ztsim_lab::LabError) -> Failure {
    Failure::Other(format!("testbed: {e}"))
}

/// `ztsim testbed`.
pub fn command(args: TestbedArgs) -> Result<(), Failure> {
    let p = plan(&args)?;
    let started = Instant::now();
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    // Each measurement runs for a set time: counted, without the redrawing
    // timer, whose thread would share the machine with the measurement.
    let shown = Terminal::counting("measurements").untimed();
    shown.start(None, 0);
    shown.doing("calibrating");
    let cal = measure::calibrate(&p.budget, p.drive.cores).map_err(lab_failure)?;
    let rates_per_design = p.rates.as_ref().map_or(p.fractions.len(), Vec::len) as u64;
    shown.bound(Some(
        p.designs.len() as u64 * (IN_PLACE_RUNS + rates_per_design),
    ));
    let pauses = if p.pause_probe.is_zero() {
        Vec::new()
    } else {
        shown.doing("probing the cores' pauses");
        let cores = [p.drive.cores.server, p.drive.cores.client];
        testbed::probe_pauses(&cores, p.pause_probe, &STOP).map_err(lab_failure)?
    };
    let sys = system(&p, &cal, &pauses);
    let calibration = calibration_text(&p, &cal, &sys, &pauses);
    shown.above(|| outln!("{calibration}"));
    let probed = !p.pause_probe.is_zero();
    let mut results = Vec::new();
    let mut notes = Vec::new();
    let mut systems = Vec::new();
    let mut wakes = WakesByIdle::default();
    for d in &p.designs {
        let rig = Rig::start(d, &p.drive).map_err(lab_failure)?;
        // In place at half the load the in-loop figures say the server can
        // take (below every design's knee, busy enough to be warm): once
        // before the rates (it sets them) and twice after, so that one slow
        // spell of the machine does not set the CPU of every prediction;
        // the median run (by the server's CPU) is the one used.
        let in_loop = d.server_ns(&cal.costs, sys.service_cpu_ns);
        let in_place = |run: u64| {
            shown.doing(&format!("{}: CPU in place, run {}", d.name, run + 1));
            let r = rig
                .in_place(0.5e9 / in_loop, run, &p.drive, &STOP)
                .map_err(lab_failure);
            shown.point_done();
            r
        };
        let first = in_place(0)?;
        let rates = p.rates.clone().unwrap_or_else(|| {
            let cap = 1e9 / first.server_ns.max(first.client_ns).max(1.0);
            p.fractions
                .iter()
                .map(|f| (f * cap).round().max(1.0))
                .collect()
        });
        shown.above(|| {
            errln!(
                "testbed: {} at {} rps",
                d.name,
                rates
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let mut measured = Vec::new();
        for (i, &rate) in rates.iter().enumerate() {
            if STOP.load(Ordering::SeqCst) {
                break;
            }
            shown.doing(&format!("{}: {rate:.0} rps", d.name));
            measured.push(
                rig.measure(d, rate, i, &p.drive, &STOP)
                    .map_err(lab_failure)?,
            );
            shown.point_done();
        }
        let mut runs = vec![first];
        for run in 1..IN_PLACE_RUNS {
            if STOP.load(Ordering::SeqCst) {
                break;
            }
            runs.push(in_place(run)?);
        }
        rig.stop().map_err(lab_failure)?;
        if STOP.load(Ordering::SeqCst) {
            shown.finish();
            return Err(Failure::Interrupted(
                "testbed: interrupted; every thread stopped, nothing written".into(),
            ));
        }
        runs.sort_by(|a, b| a.server_ns.total_cmp(&b.server_ns));
        let ip = runs[runs.len() / 2];
        let mut m = d.model(&cal.costs);
        let (client_on_path, client_loop) =
            (ip.client_ns - ip.client_after_ns, d.client_ns(&cal.costs));
        if client_loop > client_on_path && client_loop > 0.0 {
            m.scale_client_handshakes(client_on_path.max(0.0) / client_loop);
        }
        let sys_d = System {
            service_cpu_ns: (ip.server_on_path_ns - d.server_ns(&cal.costs, 0.0)).max(0.0),
            service_off_path_ns: ip.server_ns - ip.server_on_path_ns,
            client_cpu_ns: (client_on_path - client_loop).max(0.0),
            client_off_path_ns: ip.client_after_ns,
            ..sys.clone()
        };
        let way_in = cal.probes.way_in_ns;
        let predicted = measured
            .iter()
            .map(|x| model::predict(&at_rate(&sys_d, x, probed, way_in), &m, &[x.rate]))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Failure::BadInput)?
            .into_iter()
            .flatten();
        let given_cpu = given_cpu(&sys_d, &m, &ip, &measured, probed, way_in)?;
        notes.push(design_notes(d, &cal, &runs, &sys_d, &measured, in_loop));
        for x in &measured {
            wakes.merge(&x.wakes_by_idle);
        }
        results.push(DesignResult {
            design: d.name.to_string(),
            points: measured
                .iter()
                .zip(predicted)
                .zip(given_cpu)
                .map(|((m, q), g)| Point {
                    rate_rps: m.rate,
                    measured: m.figures,
                    predicted: q,
                    given_cpu: g,
                })
                .collect(),
        });
        systems.push(sys_d);
    }
    shown.finish();
    let wakes = wakes_text(&wakes, cal.probes.way_in_ns);
    outln!("{wakes}");
    notes.push(wakes);
    out!("{}", table::table(&results));
    write_outputs(&p, &cal, &calibration, &systems, &results, &notes)?;
    outln!(
        "\nwrote {} ({:.0} s)",
        p.out.join("testbed.csv").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The system as ztsim simulates rate `x`: its cores' pauses those they
/// showed in that rate's window (the server's in its turns, the load
/// generator's in its idle ones), when pauses are modelled at all
/// (`probed`); and the server core's wake-up the window's waits showed,
/// where it went idle often enough: the time from a send to the server
/// running again, less `way_in_ns`, that time on a core kept awake (the
/// calibration's, else).
fn at_rate(sys: &System, x: &Measured, probed: bool, way_in_ns: f64) -> System {
    let window = |p: &Option<CorePauses>| if probed { p.clone() } else { None };
    System {
        server_pauses: window(&x.server_pauses),
        client_pauses: window(&x.client_pauses),
        wakeup_ns: window_wakeup(x.idle_way_in_ns, way_in_ns, sys.wakeup_ns),
        ..sys.clone()
    }
}

/// A window's wake-up: the time its idle waits took from a send to the
/// server running (`idle_way_in_ns`) less that time on an awake core,
/// else (too few idle waits, no awake figure) the calibration's.
fn window_wakeup(idle_way_in_ns: Option<f64>, way_in_ns: f64, calibrated_ns: f64) -> f64 {
    match idle_way_in_ns {
        Some(v) if way_in_ns.is_finite() => (v - way_in_ns).max(0.0),
        _ => calibrated_ns,
    }
}

/// ztsim at each measured rate given the server CPU per request the real
/// system spent there, on and off the path (over the window per completed
/// request, in place of the in-place figures): what is left of the error
/// is the model's, not the CPU estimate's. None for a rate that completed
/// nothing.
fn given_cpu(
    sys: &System,
    design: &model::Design,
    ip: &InPlace,
    measured: &[Measured],
    probed: bool,
    way_in_ns: f64,
) -> Result<Vec<Option<table::Figures>>, Failure> {
    measured
        .iter()
        .map(|x| {
            if x.figures.throughput_rps <= 0.0 {
                return Ok(None);
            }
            let at = System {
                service_cpu_ns: (sys.service_cpu_ns + x.server_on_path_ns - ip.server_on_path_ns)
                    .max(0.0),
                service_off_path_ns: (sys.service_off_path_ns
                    + (x.server_ns - x.server_on_path_ns)
                    - (ip.server_ns - ip.server_on_path_ns))
                    .max(0.0),
                ..at_rate(sys, x, probed, way_in_ns)
            };
            let q = model::predict(&at, design, &[x.rate]).map_err(Failure::BadInput)?;
            Ok(q.into_iter().next())
        })
        .collect()
}

fn write_outputs(
    p: &Plan,
    cal: &Calibration,
    calibration: &str,
    systems: &[System],
    results: &[DesignResult],
    notes: &[String],
) -> Result<(), Failure> {
    let io = |what: &Path, e: std::io::Error| {
        Failure::Other(format!("cannot write {}: {e}", what.display()))
    };
    let models = p.out.join("model");
    create_dir(&models).map_err(|e| io(&models, e))?;
    let write =
        |path: PathBuf, text: &str| write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, e));
    for ((d, r), s) in p.designs.iter().zip(results).zip(systems) {
        let first_rate = r.points.first().map_or(1.0, |pt| pt.rate_rps);
        write(
            models.join(format!("{}.topology.toml", d.name)),
            &model::topology_text(s, first_rate),
        )?;
        write(
            models.join(format!("{}.toml", d.name)),
            &model::design_text(&d.model(&cal.costs)),
        )?;
    }
    let mut log = calibration.to_string();
    log.push('\n');
    for n in notes {
        log.push_str(n);
        log.push('\n');
    }
    log.push_str(&table::table(results));
    write(p.out.join("testbed.txt"), &log)?;
    write(p.out.join("testbed.csv"), &table::csv(results))?;
    let subtitle = vec![format!(
        "one server core, handler {:.0} us per request; {} s measured per rate after {} s warm-up; \
         ztsim: {} replications of the same system",
        p.drive.handler_ns as f64 / 1e3,
        p.drive.duration.as_secs_f64(),
        p.drive.warmup.as_secs_f64(),
        p.replications
    )];
    ztsim::charts::testbed::render(results, subtitle, &p.out).map_err(|e| io(&p.out, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::window_wakeup;

    #[test]
    fn a_window_wakes_as_its_idle_waits_did_else_as_calibrated() {
        assert_eq!(window_wakeup(Some(47_000.0), 15_000.0, 36_000.0), 32_000.0);
        // Never negative: an idle wait as quick as an awake one.
        assert_eq!(window_wakeup(Some(14_000.0), 15_000.0, 36_000.0), 0.0);
        // Too few idle waits, or no awake figure: the calibration's.
        assert_eq!(window_wakeup(None, 15_000.0, 36_000.0), 36_000.0);
        assert_eq!(window_wakeup(Some(47_000.0), f64::NAN, 36_000.0), 36_000.0);
    }
}
