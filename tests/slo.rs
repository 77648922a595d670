//! Objectives on one entry endpoint (`fast.e:p99=10ms`) and the p95: judged
//! on that endpoint's own figures, by verdicts, capacity searches and
//! sizings, which name the objective that binds; and the refusals of an
//! endpoint that is not an entry endpoint, on the command line and in study
//! files.
//!
//! The topologies have one zone with a zero RTT and constant CPU, so at a
//! light, evenly spaced load every request of an endpoint takes exactly its
//! CPU: the figures are known without a run.

mod common;

use std::path::PathBuf;

use common::Run;
use common::TempDir;
use ztsim::config::parse_topology;
use ztsim::model::{Design, Replications, Topology};
use ztsim::report::slo::{Slo, Verdict, verdict_all};
use ztsim::report::summarize;
use ztsim::study::capacity::{Search, SizeBy, rate_capacity, size_for_rate};

/// Two entry endpoints on services of their own: `fast.e` (constant
/// `fast_ms` of CPU, share `fast_weight` of the requests) and `slow.e`
/// (`slow_ms`); `cores` cores each; zero network.
fn two_entries(
    fast_ms: f64,
    slow_ms: f64,
    fast_weight: u32,
    arrivals: &str,
    rate: f64,
) -> Topology {
    let text = format!(
        "[zones.z]\nrtt = \"0ns\"\n\
         [services.fast]\ncores = 16\nendpoints.e.cpu = \"{fast_ms}ms\"\n\
         [services.slow]\ncores = 16\nendpoints.e.cpu = \"{slow_ms}ms\"\n\
         [workload]\narrivals = \"{arrivals}\"\nrate = {rate}\nwarmup = \"1s\"\n\
         requests = 2000\nseed = 5\nreplications = 3\n\
         entry = [{{ endpoint = \"fast.e\", weight = {fast_weight} }}, \
                  {{ endpoint = \"slow.e\", weight = {} }}]\n",
        100 - fast_weight
    );
    parse_topology("two-entries.toml", &text).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The two entry endpoints on one core each and Poisson arrivals: `fast.e`
/// takes 1 ms for 90% of the requests and `slow.e` 10 ms for 10%, so both
/// cores are about equally busy (M/D/1 queues).
const QUEUES: &str = "[zones.z]\nrtt = \"0ns\"\n\
    [services.fast]\ncores = 1\nendpoints.e.cpu = \"1ms\"\n\
    [services.slow]\ncores = 1\nendpoints.e.cpu = \"10ms\"\n\
    [workload]\narrivals = \"poisson\"\nrate = 20\nwarmup = \"1s\"\n\
    requests = 4000\nseed = 9\nreplications = 3\n\
    entry = [{ endpoint = \"fast.e\", weight = 90 }, { endpoint = \"slow.e\", weight = 10 }]\n";

fn queues() -> Topology {
    parse_topology("queues.toml", QUEUES).unwrap_or_else(|e| panic!("{e:?}"))
}

fn slo(text: &str) -> Slo {
    Slo::parse(text).unwrap()
}

fn slos(texts: &[&str]) -> Vec<Slo> {
    texts.iter().map(|t| slo(t)).collect()
}

#[test]
fn a_scoped_slo_is_judged_on_its_own_endpoint() {
    // 2 requests a second, evenly spaced, 16 cores a service: nobody waits,
    // every fast request takes 4 ms and every slow one 200 ms.
    let topo = two_entries(4.0, 200.0, 90, "constant", 2.0);
    let design = Design::plaintext();
    let runs = Replications::of(&topo, &design);
    let s = summarize(&topo, &design, &runs.runs);
    let fig = |t: &str| slo(t).figure(&s).unwrap();
    for stat in ["mean", "p50", "p95", "p99"] {
        let f = fig(&format!("fast.e:{stat}=1s"));
        assert!((f.mean - 4.0).abs() < 1e-6, "fast {stat}: {f:?}");
        let f = fig(&format!("slow.e:{stat}=1s"));
        assert!((f.mean - 200.0).abs() < 1e-6, "slow {stat}: {f:?}");
    }
    // 10% of requests are slow: all together, the median is the fast one's
    // and the p95 and p99 are the slow one's (to the histogram's buckets,
    // within 1%, now that two values are mixed).
    let near = |t: &str, want: f64| {
        let f = fig(t).mean;
        assert!((f - want).abs() <= 0.01 * want, "{t}: {f} ms, not {want}");
    };
    near("p50=1s", 4.0);
    near("p95=1s", 200.0);
    near("p99=1s", 200.0);
    let verdict = |t: &str| slo(t).verdict(&s);
    // The same objective, three answers.
    assert_eq!(verdict("fast.e:p99=10ms"), Verdict::Met);
    assert_eq!(verdict("slow.e:p99=10ms"), Verdict::Missed);
    assert_eq!(verdict("p99=10ms"), Verdict::Missed);
    // And the other way round: all together meet a median the slow
    // endpoint misses.
    assert_eq!(verdict("p50=10ms"), Verdict::Met);
    assert_eq!(verdict("slow.e:p50=10ms"), Verdict::Missed);
    assert_eq!(verdict("p95=150ms"), Verdict::Missed);
    assert_eq!(verdict("fast.e:p95=150ms"), Verdict::Met);
    assert_eq!(
        verdict_all(&slos(&["fast.e:p99=10ms", "slow.e:p99=250ms"]), &s),
        Verdict::Met
    );
    assert_eq!(
        verdict_all(&slos(&["fast.e:p99=10ms", "p99=10ms"]), &s),
        Verdict::Missed
    );
    // An endpoint the run does not have is never met.
    assert_eq!(verdict("nosuch.e:p99=1s"), Verdict::Missed);
}

fn search() -> Search {
    Search {
        resolution: 0.05,
        start_rps: Some(20.0),
        ..Search::default()
    }
}

#[test]
fn capacity_names_the_endpoint_that_binds() {
    // A fast request waits W_fast then takes 1 ms, a slow one W_slow then
    // 10 ms. Within 3 ms, `fast.e` allows waits of two of its services;
    // within 100 ms, `slow.e` allows nine of its: the fast endpoint binds.
    let topo = queues();
    let design = Design::plaintext();
    let both = slos(&["fast.e:p99=3ms", "slow.e:p99=100ms"]);
    let cap = rate_capacity(&topo, &design, &both, &search());
    eprintln!("{cap:#?}");
    assert_eq!(cap.binding.as_ref(), Some(&both[0]), "{cap:#?}");
    let fast_binds = cap.met_rps.expect("a capacity");
    // Loosen the fast endpoint's and tighten the slow one's (a wait of one
    // of its services): now the slow endpoint binds, at a lower rate.
    let flipped = slos(&["fast.e:p99=20ms", "slow.e:p99=20ms"]);
    let cap2 = rate_capacity(&topo, &design, &flipped, &search());
    eprintln!("{cap2:#?}");
    assert_eq!(cap2.binding.as_ref(), Some(&flipped[1]), "{cap2:#?}");
    assert!(cap2.met_rps.expect("a capacity") < fast_binds, "{cap2:#?}");
    // The fast endpoint's 3 ms on all requests together is missed at any
    // rate: a tenth of them take 10 ms of CPU alone.
    let blended = slos(&["p99=3ms"]);
    let cap3 = rate_capacity(&topo, &design, &blended, &search());
    assert_eq!(cap3.met_rps, None, "{cap3:#?}");
    assert_eq!(cap3.binding, None, "no endpoint named, no binding recorded");
    // The figures at the met rate are the scoped ones: the fast endpoint's
    // p99 within its 3 ms, the slow one's beyond 10 ms.
    let at = cap.at_met.as_ref().unwrap();
    let (f, s) = (at.figures_ms[0].unwrap(), at.figures_ms[1].unwrap());
    assert!(f.mean + f.ci95.unwrap() <= 3.0 && s.mean >= 10.0, "{at:?}");
}

#[test]
fn an_objective_missed_by_failures_binds_whatever_the_headroom() {
    // `slow.e` answers 5% of its calls with an error: its objective is
    // missed at every rate for its failures (more than 1%), with a latency
    // far within its 1 s. By headroom alone `fast.e`'s 3 ms would bind.
    let topo = parse_topology(
        "queues.toml",
        &QUEUES.replace(
            "cpu = \"10ms\"",
            "cpu = \"10ms\"\nendpoints.e.error_rate = 0.05",
        ),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let both = slos(&["fast.e:p99=3ms", "slow.e:p99=1s"]);
    let cap = rate_capacity(&topo, &Design::plaintext(), &both, &search());
    assert_eq!(cap.met_rps, None, "{cap:#?}");
    assert_eq!(cap.binding.as_ref(), Some(&both[1]), "{cap:#?}");
    let at = cap.points.first().expect("a point");
    assert_eq!(at.failed_objective, Some(1), "{at:?}");
    let slow = at.figures_ms[1].unwrap();
    assert!(
        slow.mean < 100.0,
        "missed for failures, not latency: {at:?}"
    );
    // Without the errors nothing fails and no point records a failed objective.
    let cap = rate_capacity(&queues(), &Design::plaintext(), &both, &search());
    let at = cap.at_met.as_ref().expect("a capacity");
    assert_eq!(at.failed_objective, None, "{at:?}");
    assert!(
        !serde_json::to_string(at)
            .unwrap()
            .contains("failed_objective")
    );
}

#[test]
fn sizing_names_the_objective_with_the_least_headroom() {
    let both = slos(&["fast.e:p99=3ms", "slow.e:p99=100ms"]);
    let sz = size_for_rate(
        &queues(),
        &Design::plaintext(),
        &both,
        600.0,
        SizeBy::Cores,
        &search(),
    );
    eprintln!("{sz:#?}");
    assert!(sz.met, "{sz:#?}");
    let at = sz.at_size.as_ref().unwrap();
    let share = |i: usize| at.figures_ms[i].unwrap().mean / both[i].limit_ms;
    let want = if share(0) >= share(1) {
        &both[0]
    } else {
        &both[1]
    };
    assert_eq!(sz.binding.as_ref(), Some(want), "{sz:#?}");
}

// ---- the command line and study files -----------------------------------

fn payments() -> String {
    common::root()
        .join("topologies/payments.toml")
        .display()
        .to_string()
}

fn run(args: &[&str]) -> Run {
    common::ztsim(args).into()
}

#[test]
fn an_slo_on_an_unknown_endpoint_is_refused_with_the_entry_endpoints() {
    let tmp = TempDir::new("slo-flags");
    let out = tmp.path().join("out").display().to_string();
    let topo = payments();
    let model = |m: &str| common::root().join("models").join(m).display().to_string();
    let (plain, sidecar) = (model("plaintext.toml"), model("istio-sidecar.toml"));
    for command in ["capacity", "migrate"] {
        let mut args = vec![command, topo.as_str(), "--slo", "nosuch.endpoint:p99=20ms"];
        if command == "migrate" {
            args.extend(["--from", &plain, "--to", &sidecar]);
        }
        args.extend(["--out", out.as_str()]);
        let r = run(&args);
        r.expect_code(2);
        for want in [
            "--slo",
            "`nosuch.endpoint p99 <= 20 ms`",
            "no entry endpoint `nosuch.endpoint`",
            "`gateway.balance`, `gateway.pay`",
        ] {
            assert!(
                r.stderr.contains(want),
                "{command}: wants {want}\n{}",
                r.show()
            );
        }
    }
    // Close to one: a did-you-mean.
    let r = run(&[
        "capacity",
        &topo,
        "--slo",
        "gateway.balanse:p99=20ms",
        "--out",
        &out,
    ]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("did you mean `gateway.balance`?"),
        "{}",
        r.show()
    );
    // An endpoint users do not call.
    let r = run(&[
        "capacity",
        &topo,
        "--slo",
        "ledger.book:p99=20ms",
        "--out",
        &out,
    ]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("`ledger.book` is not an entry endpoint"),
        "{}",
        r.show()
    );
    // A malformed scope is refused before the topology is read.
    let r = run(&["capacity", &topo, "--slo", ":p99=20ms", "--out", &out]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("[ENDPOINT:]STATISTIC=LIMIT"),
        "{}",
        r.show()
    );
    assert!(
        !PathBuf::from(&out).exists(),
        "nothing written on bad input"
    );
}

#[test]
fn a_study_slo_on_an_unknown_endpoint_is_located() {
    let tmp = TempDir::new("slo-study");
    let study = tmp.path().join("pay.study.toml");
    let text = format!(
        "topology = {:?}\nrates = [100]\nslo = [\n  \"p99=50ms\",\n  \"gateway.pai:p95=20ms\",\n]\n",
        payments()
    );
    std::fs::write(&study, text).unwrap();
    let out = tmp.path().join("out").display().to_string();
    let r = run(&["sweep", study.to_str().unwrap(), "--out", &out]);
    r.expect_code(2);
    for want in [
        "pay.study.toml:5:",
        "slo[1]",
        "no entry endpoint `gateway.pai`",
        "did you mean `gateway.pay`?",
    ] {
        assert!(r.stderr.contains(want), "wants {want}\n{}", r.show());
    }
    // `--slo` on the sweep is checked against the same topology.
    let good = tmp.path().join("good.study.toml");
    let plain = common::root().join("models/plaintext.toml");
    let text = format!(
        "topology = {:?}\ndesigns = [{:?}]\nrates = [100]\nslo = [\"p99=50ms\"]\n",
        payments(),
        plain.display().to_string()
    );
    std::fs::write(&good, text).unwrap();
    let r = run(&[
        "sweep",
        good.to_str().unwrap(),
        "--slo",
        "gateway.nope:p99=5ms",
        "--out",
        &out,
    ]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("--slo: `gateway.nope p99 <= 5 ms`"),
        "{}",
        r.show()
    );
    assert!(
        !PathBuf::from(&out).exists(),
        "nothing written on bad input"
    );
}

#[test]
fn capacity_outputs_name_the_binding_objective_and_scoped_columns() {
    let tmp = TempDir::new("slo-capacity");
    let topo = tmp.path().join("queues.toml");
    std::fs::write(&topo, QUEUES).unwrap();
    let out = tmp.path().join("cap");
    let r = run(&[
        "capacity",
        topo.to_str().unwrap(),
        "--slo",
        "fast.e:p99=3ms",
        "--slo",
        "p99=60ms",
        "--resolution",
        "0.1",
        "--out",
        out.to_str().unwrap(),
    ]);
    r.expect_code(0);
    assert!(r.stdout.contains("fast.e p99 at met (ms)"), "{}", r.show());
    assert!(
        r.stdout.contains("plaintext: fast.e p99 <= 3 ms"),
        "{}",
        r.show()
    );
    let csv = std::fs::read_to_string(out.join("capacity.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with("fast.e_p99_ms,fast.e_p99_ci95_ms,p99_ms,p99_ci95_ms,binding"),
        "{header}"
    );
    assert!(
        csv.lines().nth(1).unwrap().ends_with(",fast.e p99 <= 3 ms"),
        "{csv}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("capacity.json")).unwrap()).unwrap();
    assert_eq!(json["slos"][0]["endpoint"], "fast.e");
    assert!(
        json["slos"][1].get("endpoint").is_none(),
        "{}",
        json["slos"]
    );
    assert_eq!(json["designs"][0]["binding"]["endpoint"], "fast.e");
}
