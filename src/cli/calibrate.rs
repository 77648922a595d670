//! `ztsim calibrate`: measures this host's Zero Trust CPU costs with the real
//! libraries (through `ztsim-lab`), writes them as a cost profile and prints
//! them beside the published defaults ztsim uses without one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use ztsim::config::design::{default_handshake_cpu, handshake_cpu};
use ztsim::config::profile::{CostProfile, FORMAT, parse_profile};
use ztsim::engine::Nanos;
use ztsim::model::design::{HandshakeCpu, JwtAlgorithm, TlsVersion};
use ztsim::report::output::{check_writable, utc_date, write_atomic};
use ztsim::units::format_nanos;
use ztsim_lab::pki::KeyAlgorithm;
use ztsim_lab::policy::{Engine, Policy};
use ztsim_lab::tls::{self, KeyExchange, Setup, Version};
use ztsim_lab::{Budget, LabError, Summary, bulk, host, jwt, policy};

use super::failure::{Failure, flag_error};

#[derive(Args)]
pub struct CalibrateArgs {
    /// 100 samples per figure instead of 1,000 (under 30 s instead of a few minutes).
    #[arg(long)]
    quick: bool,
    /// Profile file to write [default: costs/<host name>.toml in the working directory].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite the profile file if it exists.
    #[arg(long)]
    force: bool,
    /// Internal (tests): this many samples per figure.
    #[arg(long, hide = true, value_name = "N", conflicts_with = "quick")]
    samples: Option<usize>,
}

/// Most samples per figure `--samples` may ask for (each is kept in memory).
const MAX_SAMPLES: usize = 100_000;

/// `ztsim calibrate`.
pub fn command(args: CalibrateArgs) -> Result<(), Failure> {
    let budget = match (args.samples, args.quick) {
        (Some(n), _) if !(1..=MAX_SAMPLES).contains(&n) => {
            return Err(flag_error(
                "--samples",
                format!("must be from 1 to {MAX_SAMPLES}, got {n}"),
            ));
        }
        (Some(n), _) => Budget {
            samples: n,
            warmup: n.div_ceil(10),
            time_limit: Duration::from_secs(2),
        },
        (None, true) => Budget::quick(),
        (None, false) => Budget::full(),
    };
    let host_name = host::host_name().unwrap_or_else(|| "host".into());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("costs").join(format!("{}.toml", file_safe(&host_name))));
    check_out(&out, args.force)?;
    let command = std::iter::once("ztsim".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let started = Instant::now();
    let load_before = host::load_average();
    let m = measure_all(&budget).map_err(|e| Failure::Other(format!("calibrate: {e}")))?;
    let load = Load {
        before: load_before,
        after: host::load_average(),
    };
    let text = profile_text(&m, &host_name, &command, &budget, &load);
    // Read back with the same checks any design's profile meets.
    let profile = parse_profile(&out.display().to_string(), &text)
        .map_err(|d| Failure::Other(format!("calibrate wrote a profile it cannot read: {d:?}")))?;
    write_atomic(&out, text.as_bytes())
        .map_err(|e| Failure::Other(format!("cannot write {}: {e}", out.display())))?;
    out!("{}", comparison(&profile));
    outln!(
        "\nwrote {} ({} samples per figure, {:.0} s); use it with `costs = \"...\"` in a design or --costs {}",
        out.display(),
        budget.samples,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Refuses, before minutes of measuring, a profile path that cannot be
/// written: an existing file without `--force`, a folder, or a parent that
/// cannot be created or written (it is created here, as the write would).
fn check_out(out: &Path, force: bool) -> Result<(), Failure> {
    if out.is_dir() {
        return Err(flag_error(
            "--out",
            format!(
                "{} is a folder; give the profile's file name",
                out.display()
            ),
        ));
    }
    if out.exists() && !force {
        return Err(flag_error(
            "--out",
            format!(
                "{} exists; pass --force to overwrite it, or --out for another file",
                out.display()
            ),
        ));
    }
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty());
    check_writable(dir.unwrap_or(Path::new(".")))
        .map_err(|e| flag_error("--out", format!("cannot write {}: {e}", out.display())))
}

/// The host's load average (1 minute) when measuring began and ended: other
/// work on the host inflates the figures, so the profile says how busy it was.
struct Load {
    before: Option<f64>,
    after: Option<f64>,
}

/// Keeps a host name to characters safe in a file name.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Everything measured.
struct Measured {
    /// (version, kx, cert) -> full, mutual, resumed.
    handshakes: Vec<(Version, KeyExchange, KeyAlgorithm, [tls::Sides; 3])>,
    /// Client full handshakes at chains 1, 2, 3.
    chain: Vec<Summary>,
    records: Vec<(bulk::Cipher, usize, bulk::Record)>,
    jwt: Vec<(jwt::Alg, jwt::Costs)>,
    policies: Vec<(Engine, Policy, policy::Costs)>,
}

fn progress(what: &str) {
    errln!("calibrate: {what}");
}

fn measure_all(b: &Budget) -> Result<Measured, LabError> {
    let mut handshakes = Vec::new();
    for version in [Version::Tls12, Version::Tls13] {
        for kx in KeyExchange::ALL
            .into_iter()
            .filter(|k| k.works_with(version))
        {
            progress(&format!("TLS {} {} handshakes", version.name(), kx.name()));
            for cert in KeyAlgorithm::ALL {
                let setup = Setup {
                    version,
                    kx,
                    cert,
                    chain: 2,
                    mutual: false,
                };
                let mutual = Setup {
                    mutual: true,
                    ..setup
                };
                handshakes.push((
                    version,
                    kx,
                    cert,
                    [
                        tls::full(setup, b)?,
                        tls::full(mutual, b)?,
                        tls::resumed(setup, b)?,
                    ],
                ));
            }
        }
    }
    progress("certificate chains of 1 to 3");
    let mut chain = Vec::new();
    for length in 1..=3 {
        let setup = Setup {
            version: Version::Tls13,
            kx: KeyExchange::X25519,
            cert: KeyAlgorithm::EcdsaP256,
            chain: length,
            mutual: false,
        };
        chain.push(tls::full(setup, b)?.client);
    }
    progress("bulk encryption");
    let mut records = Vec::new();
    for c in bulk::Cipher::ALL {
        for size in bulk::RECORD_SIZES {
            records.push((c, size, bulk::record(c, size, b)?));
        }
    }
    progress("JWT");
    let jwt = jwt::Alg::ALL
        .into_iter()
        .map(|a| Ok((a, jwt::costs(a, b)?)))
        .collect::<Result<_, LabError>>()?;
    progress("policy engines");
    let mut policies = Vec::new();
    for e in Engine::ALL {
        for p in Policy::ALL {
            policies.push((e, p, policy::costs(e, p, b)?));
        }
    }
    Ok(Measured {
        handshakes,
        chain,
        records,
        jwt,
        policies,
    })
}

/// A figure in the design format: a lognormal through the median and p99
/// (a constant if they are equal), with the mean and count in a comment.
fn dist(s: &Summary) -> String {
    let (median, p99) = (s.median_ns.round().max(1.0), s.p99_ns.round().max(1.0));
    let spec = if p99 > median {
        format!("{{ dist = \"lognormal\", median = \"{median}ns\", p99 = \"{p99}ns\" }}")
    } else {
        format!("\"{median}ns\"")
    };
    format!(
        "{spec}  # mean {}, {} samples",
        format_nanos(s.mean_ns),
        s.samples
    )
}

fn profile_text(m: &Measured, host_name: &str, command: &str, b: &Budget, load: &Load) -> String {
    let mut t = String::new();
    let cpu = host::cpu_model().unwrap_or_else(|| "unknown".into());
    let date = utc_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let shown = |l: Option<f64>| l.map_or("unknown".to_string(), |l| format!("{l:.2}"));
    let _ = writeln!(
        t,
        "# ztsim cost profile: CPU costs measured on this host by `ztsim calibrate`.\n\
         # Every figure is one operation's CPU on one core. See docs/calibration.md.\n\
         # Load average (1 min) on {cpus} CPUs: {} when measuring began, {} when it ended;\n\
         # a load near or above the CPU count means other work shared the cores.\n\
         format = {FORMAT}\nhost = {host_name:?}\ncpu = {cpu:?}\ndate = {date:?}\n\
         command = {command:?}\nsamples = {}\n\n[libraries]",
        shown(load.before),
        shown(load.after),
        b.samples
    );
    for (lib, v) in host::LIBRARIES {
        let _ = writeln!(t, "{lib} = {v:?}");
    }
    for (v, kx, cert, [full, mutual, resumed]) in &m.handshakes {
        let _ = writeln!(
            t,
            "\n# TLS {} {} {}, chain of 2: one-way full (and each side's part on the peer's last flight{}), mutual full, resumed (ticket).\n[handshake.\"{}\".{}.{}]",
            v.name(),
            kx.name(),
            cert.name(),
            if *v == Version::Tls12 {
                ""
            } else {
                ": the server's only, as a TLS 1.3 client has no turn on the server's"
            },
            v.name(),
            kx.name(),
            cert.name()
        );
        // Only a TLS 1.2 client turns on the server's last flight (its
        // ChangeCipherSpec and Finished) before the request can leave.
        let client_finish =
            (*v == Version::Tls12).then_some(("client_full_finish", &full.client_last));
        for (k, s) in [
            ("client_full", &full.client),
            ("server_full", &full.server),
            ("server_full_finish", &full.server_last),
        ]
        .into_iter()
        .chain(client_finish)
        .chain([
            ("client_full_mutual", &mutual.client),
            ("server_full_mutual", &mutual.server),
            ("client_resumed", &resumed.client),
            ("server_resumed", &resumed.server),
        ]) {
            let _ = writeln!(t, "{k} = {}", dist(s));
        }
    }
    let _ = writeln!(
        t,
        "\n# The client's full TLS 1.3 handshake (x25519, ecdsa-p256) by chain length.\n[chain]"
    );
    for (i, s) in m.chain.iter().enumerate() {
        let _ = writeln!(t, "client_full_{} = {}", i + 1, dist(s));
    }
    let mut last = "";
    for (c, size, r) in &m.records {
        if c.name() != last {
            let _ = writeln!(
                t,
                "\n# One record sealed (sender) and opened (receiver).\n[bulk.{}]",
                c.name()
            );
            last = c.name();
        }
        let kib = size / 1024;
        let _ = writeln!(t, "seal_{kib}kib = {}", dist(&r.seal));
        let _ = writeln!(t, "open_{kib}kib = {}", dist(&r.open));
    }
    for (a, c) in &m.jwt {
        let _ = writeln!(
            t,
            "\n# One token signed, and verified with its claims.\n[jwt.{}]\nsign = {}\nverify = {}",
            a.name(),
            dist(&c.sign),
            dist(&c.verify)
        );
    }
    for (e, p, c) in &m.policies {
        let _ = writeln!(
            t,
            "\n# One decision: policy loaded (warm), first after loading (cold).\n[authz.{}.{}]\nwarm = {}\ncold = {}",
            e.name(),
            p.name(),
            dist(&c.warm),
            dist(&c.cold)
        );
    }
    t
}

/// The profile beside the published defaults, as designs would use each.
fn comparison(p: &CostProfile) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Measured on {} ({}), {}\n{:<52} {:>10} {:>10} {:>7}",
        p.host, p.cpu, p.date, "figure (as a design uses it)", "published", "measured", "ratio"
    );
    let mut row = |name: &str, published: f64, measured: f64| {
        // A figure the defaults leave at 0 has no ratio.
        let ratio = if published > 0.0 {
            format!("{:.2}", measured / published)
        } else {
            "-".to_string()
        };
        let _ = writeln!(
            t,
            "{name:<52} {:>10} {:>10} {ratio:>7}",
            format_nanos(published),
            format_nanos(measured),
        );
    };
    for h in &p.handshakes {
        let v = if h.version == TlsVersion::V12 {
            "1.2"
        } else {
            "1.3"
        };
        let published = default_handshake_cpu(h.version, h.kx, h.cert, 2);
        let measured = handshake_cpu(h.version, h.kx, h.cert, 2, Some(p));
        type Figure = fn(&HandshakeCpu) -> Nanos;
        // (name, figure, whether only TLS 1.2 has it: its client's turn on
        // the server's last flight)
        let figures: [(&str, Figure, bool); 8] = [
            ("client full", |c| c.client_full, false),
            ("server full", |c| c.server_full, false),
            ("server full, last flight", |c| c.server_finish, false),
            ("client full, last flight", |c| c.client_finish, true),
            ("client resumed", |c| c.client_resumed, false),
            ("server resumed", |c| c.server_resumed, false),
            ("mtls client extra", |c| c.mtls_client, false),
            ("mtls server extra", |c| c.mtls_server, false),
        ];
        for (n, of, tls12_only) in figures {
            if tls12_only && h.version != TlsVersion::V12 {
                continue;
            }
            row(
                &format!("TLS {v} {} {} {n}", h.kx, h.cert),
                of(&published) as f64,
                of(&measured) as f64,
            );
        }
    }
    row(
        "chain: per certificate beyond 2",
        115_000.0,
        p.chain_ns_per_cert(),
    );
    // Bulk: published 7.5 GB/s per core, compared as ns per 16 KiB record.
    row(
        "bulk aes-128-gcm, 16 KiB record",
        16_384.0 / 7.5,
        16_384.0 / p.bulk_gb_per_s(),
    );
    for (alg, name, published) in [
        (JwtAlgorithm::Rs256, "rs256", 31_000.0),
        (JwtAlgorithm::Es256, "es256", 59_000.0),
        (JwtAlgorithm::EdDsa, "eddsa", 54_000.0),
    ] {
        if let Some(ns) = p.jwt_verify_ns(alg) {
            row(&format!("JWT {name} verify"), published, ns);
        }
    }
    row(
        "authz in-process (Rego RBAC warm), mean",
        ztsim::model::dist::Dist::lognormal_median_p99(36_000.0, 134_000.0).mean(),
        p.authz_eval().mean(),
    );
    t
}
