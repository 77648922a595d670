//! Studies: parameter paths, the grid, determinism across thread counts, the
//! CSV's documented columns, and agreement with `ztsim run`.

mod common;

use std::path::Path;

use common::{root, ztsim_in};

use ztsim::config::study::{self, Input, StudySpec};
use ztsim::report::study::{LEAD_COLUMNS, METRIC_COLUMNS, SAME_COLUMNS, results_csv};
use ztsim::study::sweep;
use ztsim::{config, model, report};

fn input(rel: &str) -> Input {
    Input::read(&root().join(rel)).unwrap()
}

/// A small, fast study on the minimal topology.
fn spec() -> StudySpec {
    StudySpec {
        name: "t".into(),
        title: "test study".into(),
        topology: input("topologies/minimal.toml"),
        designs: vec![
            input("models/plaintext.toml"),
            input("models/grpc-mtls-local-policy.toml"),
        ],
        rates: vec![200.0, 400.0],
        focus_rate: Some(200.0),
        blend_entries: false,
        params: vec![(
            "resumption.ticket_ttl".into(),
            vec![
                toml::Value::String("1m".into()),
                toml::Value::String("5m".into()),
            ],
        )],
        replications: Some(2),
        seed: Some(9),
        duration: Some(1_000_000_000),
        requests: None,
        warmup: Some(200_000_000),
        slos: Vec::new(),
        costs: None,
    }
}

fn run_with_threads(threads: usize, s: &StudySpec) -> String {
    let study = study::expand(s).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let results = pool.install(|| sweep::run(&study, &|| {}));
    serde_json::to_string(&results).unwrap()
}

#[test]
fn grid_order_and_seeds() {
    let study = study::expand(&spec()).unwrap();
    // 2 ticket TTLs x 2 loads x 2 designs, parameters outermost, design innermost.
    assert_eq!(study.points.len(), 8);
    let p = &study.points;
    assert_eq!(
        (p[0].design.as_str(), p[0].rate, &p[0].params[0].1[..]),
        ("plaintext", Some(200.0), "1m")
    );
    assert_eq!(
        (p[1].design.as_str(), p[1].rate),
        ("grpc-mtls-local-policy", Some(200.0))
    );
    assert_eq!((p[2].rate, &p[2].params[0].1[..]), (Some(400.0), "1m"));
    assert_eq!(&p[4].params[0].1[..], "5m");
    // Designs at the same coordinates share a seed (common random numbers);
    // other coordinates get their own; the first is the base seed.
    assert_eq!(p[0].topology.workload.seed, 9);
    assert_eq!(p[0].topology.workload.seed, p[1].topology.workload.seed);
    assert_ne!(p[0].topology.workload.seed, p[2].topology.workload.seed);
    assert_ne!(p[2].topology.workload.seed, p[4].topology.workload.seed);
    // The parameter reached the design.
    assert_eq!(p[1].design_model.resumption.ticket_ttl, 60_000_000_000);
    assert_eq!(p[5].design_model.resumption.ticket_ttl, 300_000_000_000);
    // ...and the load the topology.
    assert_eq!(p[2].topology.workload.arrivals.rate(), Some(400.0));
}

#[test]
fn parallel_equals_serial_byte_for_byte() {
    let s = spec();
    assert_eq!(run_with_threads(1, &s), run_with_threads(2, &s));
}

#[test]
fn topology_parameters_change_the_topology() {
    let mut s = spec();
    s.params = vec![(
        "services.db.replicas".into(),
        vec![toml::Value::Integer(1), toml::Value::Integer(3)],
    )];
    let study = study::expand(&s).unwrap();
    let db = |i: usize| {
        let t = &study.points[i].topology;
        t.services.iter().find(|x| x.name == "db").unwrap().replicas
    };
    assert_eq!((db(0), db(study.points.len() - 1)), (1, 3));
}

#[test]
fn csv_has_the_documented_columns() {
    let study = study::expand(&spec()).unwrap();
    let results = sweep::run(&study, &|| {});
    let csv = String::from_utf8(results_csv(&results).unwrap()).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut expected: Vec<String> = LEAD_COLUMNS.iter().map(|s| s.to_string()).collect();
    expected.push("resumption.ticket_ttl".into());
    expected.extend(SAME_COLUMNS.iter().map(|s| s.to_string()));
    expected.extend(METRIC_COLUMNS.iter().map(|s| s.to_string()));
    assert_eq!(
        &header[..expected.len()],
        &expected.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    // Then one utilisation column per service: api, db, policy, identity.
    assert_eq!(
        &header[expected.len()..],
        &["util_api", "util_db", "util_policy", "util_identity"]
    );
    // 8 points x (2 replications + mean + ci95) rows, all as wide as the header.
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 8 * 4);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert_eq!((rows[0][3], rows[2][3], rows[3][3]), ("1", "mean", "ci95"));
}

#[test]
fn one_point_study_equals_ztsim_run() {
    let mut s = spec();
    s.rates = vec![300.0];
    s.params.clear();
    s.designs.truncate(1);
    let study = study::expand(&s).unwrap();
    assert_eq!(study.points.len(), 1);
    let via_study = sweep::run(&study, &|| {}).points.remove(0).summary;
    // The same inputs through the path `ztsim run` takes.
    let mut topo = config::load_topology(&root().join("topologies/minimal.toml")).unwrap();
    let design = config::load_design(&root().join("models/plaintext.toml"), &topo, None)
        .unwrap()
        .design;
    topo.workload.arrivals = ztsim::model::topology::Arrivals::Poisson { rate: 300.0 };
    topo.workload.window = ztsim::model::topology::Window::Duration(1_000_000_000);
    topo.workload.warmup = 200_000_000;
    topo.workload.replications = 2;
    topo.workload.seed = 9;
    let via_run = report::summarize(
        &topo,
        &design,
        &model::Replications::of(&topo, &design).runs,
    );
    assert_eq!(
        serde_json::to_string(&via_study).unwrap(),
        serde_json::to_string(&via_run).unwrap()
    );
}

fn expand_err(s: &StudySpec) -> String {
    study::expand(s)
        .unwrap_err()
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn bad_parameters_are_explained() {
    let mut s = spec();
    s.params = vec![(
        "resumpton.ticket_ttl".into(),
        vec![toml::Value::String("1m".into())],
    )];
    let e = expand_err(&s);
    assert!(
        e.contains("unknown parameter path `resumpton.ticket_ttl`")
            && e.contains("did you mean `resumption.ticket_ttl`?"),
        "{e}"
    );

    s.params = vec![(
        "services.dbb.replicas".into(),
        vec![toml::Value::Integer(2)],
    )];
    let e = expand_err(&s);
    assert!(
        e.contains("there is no `dbb`") && e.contains("did you mean `services.db.replicas`?"),
        "{e}"
    );

    s.params = vec![("services.db.replicaz".into(), vec![toml::Value::Integer(2)])];
    let e = expand_err(&s);
    assert!(
        e.contains("replicaz") && e.contains("did you mean `replicas`?"),
        "{e}"
    );

    // A value of the wrong type, and one out of range.
    s.params = vec![(
        "services.db.replicas".into(),
        vec![toml::Value::String("many".into())],
    )];
    let e = expand_err(&s);
    assert!(
        e.contains("services.db.replicas = many") && e.contains("wrong type"),
        "{e}"
    );
    s.params = vec![("services.db.replicas".into(), vec![toml::Value::Integer(0)])];
    let e = expand_err(&s);
    assert!(e.contains("replicas must be"), "{e}");
    s.params = vec![(
        "resumption.ticket_ttl".into(),
        vec![toml::Value::Integer(5)],
    )];
    let e = expand_err(&s);
    assert!(
        e.contains("resumption.ticket_ttl = 5") && e.contains("unit"),
        "{e}"
    );

    // An empty grid.
    s.params.clear();
    s.designs.clear();
    assert!(expand_err(&s).contains("no designs"));
}

#[test]
fn param_flags_parse_values() {
    let (p, v) = study::parse_param_flag("services.cart.replicas=2,4,8").unwrap();
    assert_eq!((p.as_str(), v.len()), ("services.cart.replicas", 3));
    assert_eq!(v[0], toml::Value::Integer(2));
    let (_, v) = study::parse_param_flag("resumption.ticket_ttl=1m,5m").unwrap();
    assert_eq!(v[0], toml::Value::String("1m".into()));
    assert!(study::parse_param_flag("nothing").is_err());
    assert!(study::parse_param_flag("a.b=").is_err());
}

fn ztsim(dir: &Path, args: &[&str]) -> std::process::Output {
    ztsim_in(dir, args)
}

#[test]
fn sweep_command_writes_results_and_charts_and_refuses_bad_input() {
    let dir = std::env::temp_dir().join(format!("ztsim-study-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let topo = root().join("topologies/minimal.toml");
    let (plain, grpc) = (
        root().join("models/plaintext.toml"),
        root().join("models/grpc-mtls-local-policy.toml"),
    );
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "sweep",
            "--topology",
            topo.to_str().unwrap(),
            "-m",
            plain.to_str().unwrap(),
            "-m",
            grpc.to_str().unwrap(),
            "--rate",
            "200,400",
            "--duration",
            "1s",
            "--warmup",
            "0.2s",
            "--replications",
            "2",
            "--name",
            "cli",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a = args(&[]);
    let out = ztsim(&dir, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("4 points") && stdout.contains("runs"),
        "{stdout}"
    );
    let study_dir = dir.join("output/cli");
    for f in [
        "results.csv",
        "results.json",
        "latency-vs-load.svg",
        "latency-vs-load.png",
    ] {
        assert!(study_dir.join(f).is_file(), "{f} missing");
    }
    // `plot` redraws from the JSON alone.
    let replot = dir.join("replot");
    let out = ztsim(
        &dir,
        &[
            "plot",
            study_dir.join("results.json").to_str().unwrap(),
            "--out",
            replot.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(replot.join("latency-cdf.png").is_file());
    // results.json is one line unless --pretty; both read the same.
    let compact = std::fs::read_to_string(study_dir.join("results.json")).unwrap();
    assert_eq!(compact.lines().count(), 1);
    let p = args(&["--pretty", "--force"]);
    let out = ztsim(&dir, &p.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success());
    let pretty = std::fs::read_to_string(study_dir.join("results.json")).unwrap();
    assert!(pretty.lines().count() > 100 && pretty.contains("\n  \"points\": ["));
    let value = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
    assert_eq!(value(&compact), value(&pretty));

    // Bad input: exit 2 with a clear message.
    for (extra, expect) in [
        (
            vec!["--param", "resumpton.ticket_ttl=1m"],
            "did you mean `resumption.ticket_ttl`",
        ),
        (vec!["--param", "services.db.replicas=lots"], "wrong type"),
        (vec!["--param", "services.db.replicas="], "no values"),
        // A stray comma, and one path in two flags: neither value is dropped
        // in silence.
        (
            vec!["--param", "services.db.replicas=1,,2"],
            "value 2 of 3 is empty",
        ),
        (
            vec![
                "--param",
                "services.db.replicas=1,2",
                "--param",
                "services.db.replicas=3",
            ],
            "`services.db.replicas` is given twice",
        ),
        (vec!["--rate", "fast"], "--rate"),
        (
            vec!["--out", "/proc/ztsim-cannot-write-here"],
            "cannot be written",
        ),
    ] {
        let a = args(&extra);
        let out = ztsim(&dir, &a.iter().map(String::as_str).collect::<Vec<_>>());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(expect), "{extra:?}: {err}");
    }
    let out = ztsim(&dir, &["plot", topo.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
