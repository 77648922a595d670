//! The design-review report: every section, capacity figures that are exact
//! on a deterministic system, no unescaped input, and (where Chromium is
//! installed, as `.ci/run` does) a real browser rendering it offline with no
//! console message and every chart visible.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ztsim::report::review::SECTIONS;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ztsim"))
}

fn scratch(case: &str) -> PathBuf {
    common::scratch("report", case)
}

/// A deterministic system: evenly spaced arrivals, a constant 1 ms of CPU
/// on one core and no network, so a request takes exactly 1 ms below
/// 1000 rps and the service saturates beyond. `service` names the service
/// (quoted as a TOML key, so it may hold markup).
fn deterministic_topology(service: &str) -> String {
    format!(
        r#"name = "det"
[zones.az1]
rtt = "0ms"
[services.{service:?}]
zone = "az1"
cores = 1
[services.{service:?}.endpoints.get]
cpu = "1ms"
[workload]
arrivals = "constant"
rate = 100
client_zone = "az1"
warmup = "200ms"
duration = "2s"
seed = 3
replications = 2
entry = [{{ endpoint = {entry:?} }}]
"#,
        entry = format!("{service}.get")
    )
}

/// Writes a study on the deterministic system and runs it; returns its
/// folder and the sweep's output.
fn sweep(case: &str, service: &str, title: &str, design_name: &str, slo: &[&str]) -> PathBuf {
    let dir = scratch(case);
    std::fs::write(dir.join("det.toml"), deterministic_topology(service)).unwrap();
    std::fs::write(
        dir.join("design.toml"),
        format!(
            "name = {design_name:?}\ndescription = \"mTLS <b>bold</b> & more\"\n[transport]\nsecurity = \"mtls\"\n[connections]\nreuse = \"multiplex\"\nprewarm = true\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("plain.toml"),
        "name = \"plaintext\"\n[connections]\nreuse = \"multiplex\"\nprewarm = true\n",
    )
    .unwrap();
    let slos: Vec<String> = slo.iter().map(|s| format!("{s:?}")).collect();
    std::fs::write(
        dir.join("s.study.toml"),
        format!(
            "title = {title:?}\ntopology = \"det.toml\"\ndesigns = [\"plain.toml\", \"design.toml\"]\nrates = [200, 500, 900, 1200]\nfocus_rate = 500\nslo = [{}]\n",
            slos.join(", ")
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let run = bin()
        .arg("sweep")
        .arg(dir.join("s.study.toml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "sweep failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

/// The cells of the capacity table's row for `design`, from the Markdown.
fn capacity_row(md: &str, design: &str) -> Vec<String> {
    let section = md
        .split("## Capacity")
        .nth(1)
        .expect("a capacity section")
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .find(|l| l.starts_with(&format!("| {design} |")))
        .unwrap_or_else(|| panic!("no capacity row for {design} in:\n{section}"))
        .trim_matches('|')
        .split(" | ")
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn a_sweep_writes_a_report_with_every_section() {
    let out = sweep("sections", "api", "Does mTLS fit?", "mtls", &["p99=2ms"]);
    let html = read(&out, "report.html");
    let md = read(&out, "report.md");
    for (id, heading) in SECTIONS {
        assert!(
            html.contains(&format!("<section id=\"{id}\">\n<h2>{heading}</h2>")),
            "HTML lacks section {id}"
        );
        assert!(
            md.contains(&format!("\n## {heading}\n")),
            "Markdown lacks {heading}"
        );
    }
    // Charts inline as images, none fetched from anywhere.
    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 6);
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    assert!(html.contains("Content-Security-Policy"));
    // The Markdown points at the chart files beside it, which exist.
    for stem in ["latency-vs-load", "attribution", "latency-cdf"] {
        assert!(md.contains(&format!("]({stem}.png)")));
        assert!(out.join(format!("{stem}.png")).exists());
    }
    assert!(md.contains("](topology.svg)") && out.join("topology.svg").exists());
    // The diagram draws the service, the clients and the entry arrow.
    assert!(html.contains("<svg") && html.contains(">api<") && html.contains(">100%<"));
    // The designs table shows what each design ran, `*` on what its file sets.
    assert!(
        md.contains("| transport and TLS | transport.security | plaintext | mtls \\* |"),
        "{md}"
    );
    assert!(md.contains("Does mTLS fit?"));
}

/// The designs table shows what ran, defaults included (issue 17): the mTLS
/// design's file sets neither the TLS version, nor any CPU cost, nor the
/// certificates' lifetime, and the table shows the resolved values
/// (docs/design.md's defaults: TLS 1.3, 230 us for the server's ECDSA full
/// handshake, 100 us for the client's certificate, 24 h certificates),
/// grouped by section; a parameter that does not apply to plaintext is `-`.
#[test]
fn the_designs_table_shows_resolved_defaults() {
    let out = sweep("resolved", "api", "Defaults", "mtls", &["p99=2ms"]);
    let md = read(&out, "report.md");
    for row in [
        "| section | parameter | plaintext | mtls |",
        "| transport and TLS | transport.security | plaintext | mtls \\* |",
        "|  | transport.tls\\_version | - | 1.3 |",
        "|  | transport.cpu.server\\_full | - | 230us |",
        "|  | transport.cpu.mtls\\_client | - | 100us |",
        "| connections | connections.reuse | multiplex \\* | multiplex \\* |",
        "| proxies | proxy.mode | none | none |",
        "| authentication | authn.jwt | none | none |",
        "| identity: certificates and tokens | identity.cert\\_ttl | - | 24h |",
    ] {
        assert!(md.contains(row), "no row {row} in:\n{md}");
    }
    let html = read(&out, "report.html");
    assert!(
        html.contains("<td>transport.cpu.server_full</td><td>-</td><td>230us</td>"),
        "{html}"
    );
}

#[test]
fn capacity_is_exact_on_a_deterministic_system() {
    // 1 ms per request at every load below 1000 rps, with a zero-width
    // interval: p99 = 2 ms is met up to 900 rps and 1200 rps saturates.
    let out = sweep("capacity", "api", "q", "mtls", &["p99=2ms"]);
    let md = read(&out, "report.md");
    let row = capacity_row(&md, "plaintext");
    assert_eq!(row[1], "900 rps", "{row:?}");
    assert_eq!(row[2], "1200 rps (missed)", "{row:?}");
    assert!(row[3].starts_with("1.00 ms"), "{row:?}");
    assert_eq!(row[4], "900 rps");
    assert_eq!(row[5], "1200 rps");
    assert_eq!(row[6], "api");
    // An objective below the service time is met nowhere.
    let out = sweep("capacity-tight", "api", "q", "mtls", &["mean=0.5ms"]);
    let row = capacity_row(&read(&out, "report.md"), "plaintext");
    assert_eq!(row[1], "none of the loads");
    assert_eq!(row[2], "200 rps (missed)");
    // `ztsim report --slo` rejudges without rerunning.
    let again = bin()
        .arg("report")
        .arg(&out)
        .args(["--slo", "p99=5ms"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let row = capacity_row(&read(&out, "report.md"), "plaintext");
    assert_eq!(row[1], "900 rps");
}

#[test]
fn names_from_input_files_show_as_text() {
    let evil = "<script>alert(1)</script>";
    let out = sweep(
        "escape",
        evil,
        "<img src=x onerror=alert(2)> & \"q\"",
        "<b onmouseover=alert(3)>d</b>",
        &["p99=2ms"],
    );
    let html = read(&out, "report.html");
    for raw in ["<script", "<img src=x", "<b onmouseover", "<b>bold"] {
        assert!(!html.contains(raw), "unescaped {raw} in the HTML");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt; &amp; &quot;q&quot;"));
    let md = read(&out, "report.md");
    // Every `<` that could open a tag is backslash-escaped (CommonMark shows
    // it as `<`); a comparison stays as written.
    let opens = md.match_indices('<').filter(|(i, _)| {
        let next = md[i + 1..].chars().next().unwrap_or(' ');
        next.is_alphanumeric() || "/!?".contains(next)
    });
    for (i, _) in opens {
        assert_eq!(&md[i - 1..i], "\\", "unescaped tag at {}", &md[i..i + 12]);
    }
    assert!(md.contains("\\<script>alert(1)\\</script>"));
    assert!(md.contains("p99 <= 2 ms"), "{md}");
    assert!(!md.contains("&lt;"));
    let svg = read(&out, "topology.svg");
    assert!(!svg.contains("<script") && svg.contains("&lt;script&gt;"));
}

#[test]
fn report_refuses_what_is_not_a_study() {
    let dir = scratch("not-a-study");
    let r = bin().arg("report").arg(&dir).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("no results.json here"));
    std::fs::write(dir.join("results.json"), "{\"x\": 1}").unwrap();
    let r = bin().arg("report").arg(&dir).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("not a ztsim results.json"));
    let out = sweep("bad-slo", "api", "q", "mtls", &[]);
    let r = bin()
        .arg("report")
        .arg(&out)
        .args(["--slo", "p98=1ms"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("p99=50ms"));
    // Without objectives, capacity is where saturation starts, and says so.
    let md = read(&out, "report.md");
    assert!(md.contains("No objective was set"));
}

/// Chromium, if installed (Debian's package; `.ci/run` installs it).
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|b| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(b))
                    .find(|p| p.is_file())
            })
        })
}

fn headless(browser: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--window-size=1280,900",
        ])
        .args(extra)
        .arg(url)
        .output()
        .unwrap()
}

#[test]
fn a_real_browser_renders_the_report_offline_with_every_chart_visible() {
    let Some(browser) = chromium() else {
        // CI installs Chromium and sets this, so the test cannot skip there.
        assert!(
            std::env::var_os("ZTSIM_REQUIRE_BROWSER").is_none(),
            "ZTSIM_REQUIRE_BROWSER is set but no Chromium is on PATH"
        );
        eprintln!(
            "SKIPPED: no Chromium on PATH (install Debian's `chromium` package; .ci/run does)"
        );
        return;
    };
    let out = sweep("browser", "api", "Browser check", "mtls", &["p99=2ms"]);
    let page = out.join("report.html");
    // 1. The report as written: no console message at all (a blocked
    // network request or a broken image would log one).
    let r = headless(
        &browser,
        &format!("file://{}", page.display()),
        &["--dump-dom"],
    );
    let log = String::from_utf8_lossy(&r.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let dom = String::from_utf8_lossy(&r.stdout);
    assert!(dom.contains("<h2>Capacity</h2>"), "the page did not render");
    // 2. A copy with a probe that measures every chart as laid out: loaded,
    // decoded at its full size, displayed with a non-zero box.
    let probe = r#"<script>addEventListener('load',()=>{const c=[...document.querySelectorAll('figure.chart img')].map(i=>{const r=i.getBoundingClientRect(),s=getComputedStyle(i);return [i.closest('figure').id,i.complete,i.naturalWidth,i.naturalHeight,Math.round(r.width),Math.round(r.height),s.display,s.visibility].join(':')});const d=document.querySelector('.diagram svg').getBoundingClientRect();document.body.setAttribute('data-probe',JSON.stringify({charts:c,diagram:[Math.round(d.width),Math.round(d.height)]}));});</script></body>"#;
    let html = std::fs::read_to_string(&page)
        .unwrap()
        .replace(
            "default-src 'none'",
            "default-src 'none'; script-src 'unsafe-inline'",
        )
        .replace("</body>", probe);
    let probed = out.join("probe.html");
    std::fs::write(&probed, html).unwrap();
    let r = headless(
        &browser,
        &format!("file://{}", probed.display()),
        &["--dump-dom"],
    );
    let dom = String::from_utf8_lossy(&r.stdout);
    let start = dom.find("data-probe=\"").unwrap_or_else(|| {
        panic!(
            "the probe did not run:\n{}",
            String::from_utf8_lossy(&r.stderr)
        )
    }) + 12;
    let json = dom[start..][..dom[start..].find('"').unwrap()].replace("&quot;", "\"");
    let probe: serde_json::Value = serde_json::from_str(&json).unwrap();
    let charts = probe["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 6, "{probe}");
    for c in charts {
        let f: Vec<&str> = c.as_str().unwrap().split(':').collect();
        assert_eq!(f[1], "true", "{f:?} not loaded");
        assert_eq!((f[2], f[3]), ("1200", "750"), "{f:?} not decoded");
        let (w, h): (u32, u32) = (f[4].parse().unwrap(), f[5].parse().unwrap());
        assert!(w >= 600 && h >= 350, "{f:?} drawn too small");
        assert_ne!(f[6], "none");
        assert_eq!(f[7], "visible");
    }
    let d = probe["diagram"].as_array().unwrap();
    assert!(d[0].as_u64().unwrap() > 300 && d[1].as_u64().unwrap() > 100);
}

/// The report's table of default costs must say what the engine uses: each
/// figure is checked against a design resolved with that default.
#[test]
fn the_reported_default_costs_are_the_engines() {
    use ztsim::config::parse_design;
    use ztsim::report::review::DEFAULT_COSTS;
    let design = |text: &str| parse_design("t.toml", text, None).unwrap();
    let us = |ns: u64| format!("{} us", ns / 1000);
    let row = |cost: &str| {
        DEFAULT_COSTS
            .iter()
            .find(|r| r.0 == cost)
            .unwrap_or_else(|| panic!("no row {cost}"))
            .1
    };
    let tls13 = design("[transport]\nsecurity = \"tls\"\n");
    assert_eq!(
        row("TLS 1.3 full handshake, server (ECDSA)"),
        us(tls13.transport.cpu.server_full)
    );
    assert_eq!(
        row("TLS 1.3 full handshake, client (ECDSA, chain 2)"),
        us(tls13.transport.cpu.client_full)
    );
    assert_eq!(
        row("TLS 1.3 resumed handshake (PSK-DHE), server"),
        us(tls13.transport.cpu.server_resumed)
    );
    let rsa = design("[transport]\nsecurity = \"tls\"\ncertificate = \"rsa-2048\"\n");
    assert_eq!(
        row("TLS 1.3 full handshake, server (RSA-2048)"),
        us(rsa.transport.cpu.server_full)
    );
    let tls12 = design("[transport]\nsecurity = \"tls\"\ntls_version = \"1.2\"\n");
    assert_eq!(
        row("TLS 1.2 full handshake, server (ECDSA)"),
        us(tls12.transport.cpu.server_full)
    );
    assert_eq!(
        row("TLS 1.2 resumed handshake (ticket), server"),
        us(tls12.transport.cpu.server_resumed)
    );
    assert_eq!(
        row("AES-GCM bulk encryption"),
        format!("{} GB/s per core", 1.0 / tls13.transport.bulk_ns_per_byte)
    );
    assert_eq!(
        row("Certificate lifetime"),
        format!(
            "{} h, renewed at {}%",
            tls13.identity.cert_ttl / 3_600_000_000_000,
            tls13.identity.renew_ratio * 100.0
        )
    );
}

#[test]
fn tampered_results_are_refused_naming_the_file() {
    let out = sweep("tampered", "api", &"a long title ".repeat(800), "mtls", &[]);
    let results = out.join("results.json");
    let expect_refused = |args: &[&std::ffi::OsStr], what: &str| {
        let r = bin().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{err}");
        assert!(err.contains(what), "{err}");
    };
    // A 10,000-character title is drawn in linear time (the sweep above).
    // A replication count sizes what is read: bounded before allocating.
    let mut v: serde_json::Value = serde_json::from_str(&read(&out, "results.json")).unwrap();
    v["points"][0]["replications"]["count"] = 1_000_000_000_000u64.into();
    let bad = out.with_file_name("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&v).unwrap()).unwrap();
    let x = out.with_file_name("x");
    expect_refused(
        &[
            "plot".as_ref(),
            bad.as_os_str(),
            "--out".as_ref(),
            x.as_os_str(),
        ],
        "replications.count is 1000000000000",
    );
    // Only regular files are read: a FIFO would hang, /dev/zero fill memory.
    expect_refused(
        &["plot".as_ref(), "/dev/zero".as_ref()],
        "/dev/zero: not a regular file",
    );
    std::fs::remove_file(&results).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&results)
            .status()
            .unwrap()
            .success()
    );
    expect_refused(&["report".as_ref(), out.as_os_str()], "not a regular file");
}
