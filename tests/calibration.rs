//! Cost profiles: the shipped one is valid, a design resolves its measured
//! figures below its own explicit values, bad profiles are refused with
//! located errors (exit 2 from the command line on every simulating
//! command), and `ztsim calibrate` writes a profile that reads back, only
//! where it says, never over an existing file without `--force`.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, TempDir, root, ztsim_in};
use ztsim::config::design::{default_handshake_cpu, parse_design_with_costs};
use ztsim::config::profile::{CostProfile, load_profile, parse_profile};
use ztsim::config::{Diagnostic, parse_design};
use ztsim::model::design::{JwtAlgorithm, TlsVersion};

/// The profile shipped in the repository, measured on the development host.
const SHIPPED: &str = "costs/amd-epyc-2vcpu.toml";
/// The same, as a design in models/ names it.
const FROM_MODELS: &str = "costs = \"../costs/amd-epyc-2vcpu.toml\"\n";

fn shipped() -> (PathBuf, String, CostProfile) {
    let path = root().join(SHIPPED);
    let text = std::fs::read_to_string(&path).expect("the shipped profile");
    let profile = load_profile(&path).unwrap_or_else(|d| panic!("{d:?}"));
    (path, text, profile)
}

fn ns(x: f64) -> u64 {
    x.round() as u64
}

/// A design file in models/ (it need not exist: only its folder is used).
fn in_models() -> String {
    root()
        .join("models")
        .join("calibrated.toml")
        .display()
        .to_string()
}

#[test]
fn the_shipped_profile_is_complete_and_says_what_it_measured() {
    let (_, text, p) = shipped();
    assert!(p.samples >= 1000, "a full run keeps 1,000 samples");
    assert_eq!(
        p.handshakes.len(),
        (2 + 3) * 3,
        "every version, group, certificate"
    );
    assert_eq!(p.records.len(), 3 * 3, "every cipher and record size");
    assert_eq!((p.jwt.len(), p.policies.len()), (3, 4));
    let libs: Vec<&str> = p.libraries.iter().map(|l| l.0.as_str()).collect();
    for lib in [
        "rustls",
        "aws-lc-rs",
        "jsonwebtoken",
        "regorus",
        "cedar-policy",
    ] {
        assert!(libs.contains(&lib), "{lib} in {libs:?}");
    }
    assert!(!p.cpu.is_empty() && p.date.len() == 10);
    assert!(p.command.starts_with("ztsim calibrate"), "{}", p.command);
    // The machine was shared while measuring: the file says so.
    assert!(text.contains("Load average") && text.contains("shared"));
    // Facts of the measurement that hold on any host.
    let h = p
        .handshake(TlsVersion::V13, "x25519", "ecdsa-p256")
        .unwrap();
    assert!(h.client_resumed.mean() < h.client_full.mean());
    assert!(h.server_resumed.mean() < h.server_full.mean());
    assert!(h.server_full_mutual.mean() > h.server_full.mean());
    let rsa = p.handshake(TlsVersion::V13, "x25519", "rsa-2048").unwrap();
    assert!(rsa.server_full.mean() > h.server_full.mean());
    let pq = p
        .handshake(TlsVersion::V13, "x25519mlkem768", "ecdsa-p256")
        .unwrap();
    assert!(pq.client_full.mean() > h.client_full.mean());
    assert!(p.chain_ns_per_cert() > 0.0);
    assert!(p.bulk_gb_per_s() > 0.1 && p.bulk_gb_per_s() < 100.0);
}

#[test]
fn a_design_takes_the_measured_costs_and_its_own_values_win() {
    let (_, _, p) = shipped();
    let file = in_models();
    let base = format!(
        "{FROM_MODELS}[transport]\nsecurity = \"mtls\"\nchain_length = 3\n\
         [authn]\njwt = \"es256\"\n[authz]\nmode = \"in-process\"\n"
    );
    let d = parse_design(&file, &base, None).unwrap_or_else(|e| panic!("{e:?}"));
    let h = p
        .handshake(TlsVersion::V13, "x25519", "ecdsa-p256")
        .unwrap();
    // The profile measured chains of 2; the third certificate costs the slope.
    let per_cert = p.chain_ns_per_cert();
    let cpu = &d.transport.cpu;
    assert_eq!(cpu.client_full, ns(h.client_full.mean() + per_cert));
    assert_eq!(cpu.server_full, ns(h.server_full.mean()));
    assert_eq!(cpu.client_resumed, ns(h.client_resumed.mean()));
    assert_eq!(cpu.server_resumed, ns(h.server_resumed.mean()));
    assert_eq!(
        cpu.mtls_client,
        ns(h.client_full_mutual.mean() - h.client_full.mean())
    );
    assert_eq!(
        cpu.mtls_server,
        ns(h.server_full_mutual.mean() - h.server_full.mean() + per_cert)
    );
    // Not measured: the published default stays.
    let published = default_handshake_cpu(TlsVersion::V13, "x25519", "ecdsa-p256", 3);
    assert_eq!(cpu.hello_retry, published.hello_retry);
    assert_ne!(
        cpu.server_full, published.server_full,
        "the profile was used"
    );
    assert_eq!(
        d.authn.verify_cpu,
        ns(p.jwt_verify_ns(JwtAlgorithm::Es256).unwrap())
    );
    assert_eq!(&d.authz.eval_cpu, p.authz_eval());
    assert!((d.transport.bulk_ns_per_byte - 1.0 / p.bulk_gb_per_s()).abs() < 1e-12);
    // Without the key, the published defaults.
    let plain = parse_design(&file, &base.replacen(FROM_MODELS, "", 1), None).unwrap();
    assert_eq!(plain.transport.cpu, published);

    // Explicit values win over the profile; the rest stays measured.
    let explicit = format!(
        "{FROM_MODELS}[transport]\nsecurity = \"mtls\"\nchain_length = 3\nbulk_gb_per_s = 3.0\n\
         [transport.cpu]\nserver_full = \"1ms\"\n[authn]\njwt = \"es256\"\nverify_cpu = \"7us\"\n\
         [authz]\nmode = \"in-process\"\neval_cpu = \"11us\"\n"
    );
    let e = parse_design(&file, &explicit, None).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(e.transport.cpu.server_full, 1_000_000);
    // A `server_full` of the design's own keeps the share on the client's
    // last flight (the default one: this profile predates measuring it).
    let share = cpu.server_finish as f64 / cpu.server_full as f64;
    assert!((share - 0.15).abs() < 0.01, "{share}");
    assert_eq!(e.transport.cpu.server_finish, (1e6 * share).round() as u64);
    assert_eq!(e.transport.cpu.client_full, cpu.client_full);
    assert_eq!(e.authn.verify_cpu, 7_000);
    assert!((e.authz.eval_cpu.mean() - 11_000.0).abs() < 1e-9);
    assert!((e.transport.bulk_ns_per_byte - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn the_command_line_profile_replaces_the_designs_own() {
    let (_, text, _) = shipped();
    let first = "[handshake.\"1.2\".x25519.ecdsa-p256]\n";
    assert!(text.contains(first));
    let edited = text.replacen(
        &format!("{first}client_full = "),
        &format!("{first}client_full = \"123us\" # "),
        1,
    );
    // A profile that measured each side's part on the peer's last flight.
    let edited = edited.replacen(
        &format!("{first}client_full = "),
        &format!(
            "{first}server_full_finish = \"45us\"\nclient_full_finish = \"4us\"\nclient_full = "
        ),
        1,
    );
    let other = parse_profile("other.toml", &edited).unwrap_or_else(|d| panic!("{d:?}"));
    let design = format!("{FROM_MODELS}[transport]\ntls_version = \"1.2\"\nsecurity = \"tls\"\n");
    let f = parse_design_with_costs(&in_models(), &design, None, Some(&other))
        .unwrap()
        .design;
    assert_eq!(f.transport.cpu.client_full, 123_000);
    assert_eq!(f.transport.cpu.server_finish, 45_000);
    assert_eq!(f.transport.cpu.client_finish, 4_000);
    let own = parse_design(&in_models(), &design, None).unwrap();
    assert_ne!(own.transport.cpu.client_full, 123_000);
    assert_eq!(own.transport.cpu.server_full, f.transport.cpu.server_full);
    assert_eq!(own.transport.cpu.client_finish, 0, "no profile, no turn");
    // A `client_full` of the design's own keeps the measured share; its own
    // `client_finish` wins.
    let halved = format!("{design}[transport.cpu]\nclient_full = \"61.5us\"\n");
    let f = parse_design_with_costs(&in_models(), &halved, None, Some(&other))
        .unwrap()
        .design;
    assert_eq!(f.transport.cpu.client_finish, 2_000);
    let set = format!("{halved}client_finish = \"1us\"\n");
    let f = parse_design_with_costs(&in_models(), &set, None, Some(&other))
        .unwrap()
        .design;
    assert_eq!(f.transport.cpu.client_finish, 1_000);
    // A TLS 1.3 design of the same choices takes no turn from it.
    let v13 = design.replace("1.2", "1.3");
    let f = parse_design_with_costs(&in_models(), &v13, None, Some(&other))
        .unwrap()
        .design;
    assert_eq!(f.transport.cpu.client_finish, 0);
}

/// `text` must be refused with a problem at `line` (1-based) naming `key`
/// and saying each of `words`.
fn refused(text: &str, key: &str, line: usize, words: &[&str]) {
    let ds: Vec<Diagnostic> = match parse_profile("bad.toml", text) {
        Ok(_) => panic!("accepted a profile with a bad {key}"),
        Err(ds) => ds,
    };
    let shown = ds
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        shown.contains(&format!("bad.toml:{line}:")) && shown.contains(key),
        "want line {line}, key {key}:\n{shown}"
    );
    for w in words {
        assert!(shown.contains(w), "want `{w}`:\n{shown}");
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

/// The shipped profile with the value of `key` on the first line after
/// `table` replaced by `value`, and that line's number.
fn with_value(text: &str, table: &str, key: &str, value: &str) -> (String, usize) {
    let start = line_of(text, table);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let at = (start..lines.len())
        .find(|&i| lines[i].starts_with(&format!("{key} = ")))
        .expect(key);
    lines[at] = format!("{key} = {value}");
    (lines.join("\n"), at + 1)
}

#[test]
fn bad_profiles_are_refused_at_their_line_and_key() {
    let (_, text, _) = shipped();
    // Another format version: one error at `format`, not a list of keys.
    let v2 = text.replacen("format = 1\n", "format = 2\n", 1);
    let at = line_of(&text, "format = 1");
    refused(
        &v2,
        "format",
        at,
        &["format 2", "reads format 1", "calibrate"],
    );
    let word = text.replacen("format = 1\n", "format = \"one\"\n", 1);
    refused(&word, "format", at, &["format \"one\""]);
    let none = text.replacen("format = 1\n", "\n", 1);
    assert!(parse_profile("bad.toml", &none).is_err());
    // An unknown key: a figure this version does not know, a group it does
    // not measure with TLS 1.2.
    let unknown = text.replacen("[jwt.es256]\n", "[jwt.es256]\nrefresh = \"3us\"\n", 1);
    refused(
        &unknown,
        "refresh",
        line_of(&text, "[jwt.es256]") + 1,
        &["unknown"],
    );
    let group =
        format!("{text}[handshake.\"1.2\".x25519mlkem768.ed25519]\nclient_full = \"1us\"\n");
    refused(
        &group,
        "x25519mlkem768",
        text.lines().count() + 1,
        &["unknown"],
    );
    // Negative durations and counts.
    let (negative, at) = with_value(&text, "[jwt.rs256]", "verify", "\"-40us\"");
    refused(&negative, "jwt.rs256.verify", at, &[]);
    let (negative, at) = with_value(
        &text,
        "[bulk.aes-128-gcm]",
        "seal_16kib",
        "{ dist = \"lognormal\", median = \"-2us\", p99 = \"3us\" }",
    );
    refused(&negative, "seal_16kib", at, &[]);
    let (samples, at) = with_value(&text, "date = ", "samples", "-5");
    refused(&samples, "samples", at, &["at least 1"]);
    // A wrong type.
    let (typed, at) = with_value(&text, "date = ", "samples", "\"many\"");
    refused(&typed, "samples", at, &[]);
    let (typed, at) = with_value(&text, "[authz.rego.rbac]", "warm", "12");
    refused(&typed, "authz.rego.rbac.warm", at, &[]);
    // Each side's part on the peer's last flight above its whole.
    let table = "[handshake.\"1.2\".x25519.ecdsa-p256]";
    for side in ["server", "client"] {
        let whole = format!("{side}_full");
        let (edited, at) = with_value(&text, table, &whole, "\"100us\"");
        let mut lines: Vec<String> = edited.lines().map(String::from).collect();
        lines.insert(at, format!("{whole}_finish = \"101us\""));
        refused(
            &lines.join("\n"),
            &format!("{whole}_finish"),
            at + 1,
            &[&format!("part of `{whole}`"), "must not exceed"],
        );
    }
    // The client's part in a TLS 1.3 section, which has no such turn.
    let table13 = "[handshake.\"1.3\".x25519.ecdsa-p256]";
    let at = line_of(&text, table13);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(at, "client_full_finish = \"3us\"");
    refused(
        &lines.join("\n"),
        "handshake.\"1.3\".x25519.ecdsa-p256.client_full_finish",
        at + 1,
        &["TLS 1.2's only", "remove the key"],
    );
    // A figure left out.
    let (_, at) = with_value(&text, "[chain]", "client_full_2", "1");
    let lines: Vec<&str> = text.lines().collect();
    let missing = text.replacen(&format!("{}\n", lines[at - 1]), "", 1);
    let ds = parse_profile("bad.toml", &missing).unwrap_err();
    assert!(
        ds.iter().any(|d| d.to_string().contains("client_full_2")),
        "{ds:?}"
    );
}

fn run(dir: &Path, args: &[&str]) -> Run {
    ztsim_in(dir, args).into()
}

#[test]
fn every_simulating_command_refuses_a_bad_profile_with_exit_2() {
    let tmp = TempDir::new("costs");
    let (_, text, _) = shipped();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, text.replacen("format = 1\n", "format = 9\n", 1)).unwrap();
    let bad = bad.to_str().unwrap();
    let topo = root().join("topologies/minimal.toml");
    let topo = topo.to_str().unwrap();
    let model = root().join("models/naive-mtls.toml");
    let model = model.to_str().unwrap();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    let commands: [&[&str]; 5] = [
        &["run", topo, "--model", model, "--out", out],
        &["capacity", topo, "--model", model, "--slo", "p99=50ms"],
        &["sensitivity", topo, "--model", model],
        &["sweep", "--topology", topo, "--model", model, "--out", out],
        &["bench", topo, "--model", model, "--requests", "1000"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.extend(["--costs", bad]);
        let r = run(tmp.path(), &args);
        r.expect_code(2);
        assert!(
            r.stderr.contains("bad.toml:") && r.stderr.contains("format 9"),
            "{cmd:?}: {}",
            r.show()
        );
    }
    let missing = tmp.path().join("missing.toml");
    let r = run(
        tmp.path(),
        &[
            "run",
            topo,
            "--model",
            model,
            "--costs",
            missing.to_str().unwrap(),
        ],
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("missing.toml") && r.stderr.contains("calibrate"),
        "{}",
        r.show()
    );
    assert!(!tmp.path().join("out").exists(), "nothing was run");
    // A design naming a profile that is not there: located at its `costs` key.
    let design = tmp.path().join("d.toml");
    std::fs::write(
        &design,
        "costs = \"nowhere.toml\"\n[transport]\nsecurity = \"tls\"\n",
    )
    .unwrap();
    let r = run(tmp.path(), &["validate", design.to_str().unwrap()]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("d.toml:1:") && r.stderr.contains("costs"),
        "{}",
        r.show()
    );
}

#[test]
fn run_with_the_shipped_profile_simulates_the_measured_costs() {
    let tmp = TempDir::new("costs-run");
    let topo = root().join("topologies/minimal.toml");
    let model = root().join("models/naive-mtls.toml");
    let shipped = root().join(SHIPPED);
    let summary = |name: &str, costs: Option<&Path>| {
        let out = tmp.path().join(name);
        let mut args: Vec<&str> = vec![
            "run",
            topo.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--replications",
            "2",
        ];
        if let Some(c) = costs {
            args.extend(["--costs", c.to_str().unwrap()]);
        }
        run(tmp.path(), &args).expect_code(0);
        std::fs::read_to_string(out.join("summary.json")).unwrap()
    };
    let published = summary("published", None);
    let measured = summary("measured", Some(&shipped));
    assert_ne!(published, measured, "--costs changed nothing");
    // The same inputs give the same bytes.
    assert_eq!(measured, summary("again", Some(&shipped)));
}

#[test]
fn calibrate_writes_only_where_it_says_and_never_overwrites_silently() {
    let cwd = TempDir::new("calibrate");
    // Default: costs/<host name>.toml under the working directory, nothing else.
    let r = run(cwd.path(), &["calibrate", "--samples", "5"]);
    r.expect_code(0);
    let entries = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(entries(cwd.path()), ["costs"]);
    let written = entries(&cwd.path().join("costs"));
    assert!(
        written.len() == 1 && written[0].ends_with(".toml"),
        "{written:?}"
    );
    let file = cwd.path().join("costs").join(&written[0]);
    let p = load_profile(&file).unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(p.samples, 5);
    assert_eq!(p.command, "ztsim calibrate --samples 5");
    // Each side's part on the peer's last flight: the server's in every
    // handshake, the client's in TLS 1.2's only (a 1.3 client has no turn).
    for h in &p.handshakes {
        assert!(h.server_full_finish.is_some(), "{h:?}");
        assert_eq!(
            h.client_full_finish.is_some(),
            h.version == TlsVersion::V12,
            "{h:?}"
        );
        if let Some(f) = &h.client_full_finish {
            assert!(f.mean() > 0.0 && f.mean() < h.client_full.mean(), "{h:?}");
        }
    }
    // Printed beside the published defaults, with ratios.
    for row in [
        "TLS 1.3 x25519 ecdsa-p256 server full",
        "TLS 1.2 x25519 ecdsa-p256 client full, last flight",
        "JWT es256 verify",
        "authz in-process",
        "ratio",
    ] {
        assert!(r.stdout.contains(row), "{row}: {}", r.show());
    }
    let before = std::fs::read(&file).unwrap();
    let again = run(cwd.path(), &["calibrate", "--samples", "5"]);
    again.expect_code(2);
    assert!(again.stderr.contains("--force"), "{}", again.show());
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "refused, yet written"
    );
    run(cwd.path(), &["calibrate", "--samples", "5", "--force"]).expect_code(0);
    assert!(load_profile(&file).is_ok());
    assert_eq!(
        entries(&cwd.path().join("costs")),
        written,
        "no temporary files left"
    );

    // --out: there and only there, folders created.
    let other = TempDir::new("calibrate-out");
    let out = other.path().join("a").join("b.toml");
    let out_s = out.to_str().unwrap();
    run(cwd.path(), &["calibrate", "--samples", "5", "--out", out_s]).expect_code(0);
    assert!(load_profile(&out).is_ok());
    assert_eq!(entries(&other.path().join("a")), ["b.toml"]);
    assert_eq!(entries(cwd.path()), ["costs"]);
}

#[test]
fn calibrate_refuses_bad_flags_with_exit_2_before_measuring() {
    let cwd = TempDir::new("calibrate-flags");
    let file = cwd.path().join("f.toml");
    std::fs::write(&file, "").unwrap();
    let blocked = file.join("under-a-file.toml");
    let cases: [(&[&str], &str); 7] = [
        (&["--samples", "0"], "--samples"),
        (&["--samples", "1000000000000"], "--samples"),
        (&["--samples", "many"], "--samples"),
        (&["--samples", "5", "--quick"], "--quick"),
        (&["--out", cwd.path().to_str().unwrap()], "folder"),
        (
            &["--out", blocked.to_str().unwrap(), "--samples", "5"],
            "--out",
        ),
        (&["--frobnicate"], "--frobnicate"),
    ];
    for (flags, says) in cases {
        let mut args = vec!["calibrate"];
        args.extend(flags);
        let started = std::time::Instant::now();
        let r = run(cwd.path(), &args);
        r.expect_code(2);
        assert!(r.stderr.contains(says), "{flags:?}: {}", r.show());
        assert!(r.stdout.is_empty(), "{flags:?}: {}", r.show());
        assert!(started.elapsed().as_secs() < 5, "{flags:?} measured first");
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"", "nothing written");
}
