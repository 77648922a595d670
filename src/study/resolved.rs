//! A design's parameters as the simulation resolved them, defaults included,
//! for the report's designs table (issue 17): a blank cell told the reader to
//! look the default up; the resolved value tells them what ran.

use crate::config::study::Input;
use crate::model::Design;
use crate::model::design::{JwtAlgorithm, Mode, ProxyMode, Scope, Security, Termination};
use crate::report::review::setup::Resolved;
use crate::study::sensitivity::default_knobs;

/// Shown for a parameter that does not apply to the design (no TLS, no
/// proxy, no tokens...).
pub const NOT_APPLYING: &str = "-";

/// Every parameter of `design` (resolved from `file`) with its value: what
/// the design protects, every knob a sensitivity analysis would vary (its
/// resolved value), the parameters that do not apply ([`NOT_APPLYING`], or 0
/// for a cost that is zero), then whatever else the file sets, as written.
pub fn resolved(design: &Design, file: &Input, set: &[(String, String)]) -> Vec<Resolved> {
    let mut out: Vec<(String, String)> = what_it_protects(design)
        .into_iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
    let (knobs, skipped) = default_knobs(design, file);
    for k in knobs {
        push(&mut out, &k.path, k.base);
    }
    for s in skipped {
        let zero = s.why.starts_with("zero in the base design");
        push(
            &mut out,
            &s.path,
            if zero { "0" } else { NOT_APPLYING }.to_string(),
        );
    }
    push(
        &mut out,
        "connections.prewarm",
        design.connections.prewarm.to_string(),
    );
    for (path, value) in set {
        // A table's keys (`authz.eval_cpu.median`) are shown as the
        // resolved parameter they make up (`authz.eval_cpu`).
        if !out.iter().any(|(p, _)| within(path, p)) {
            let value = value.trim_matches('"').to_string();
            out.push((path.clone(), value));
        }
    }
    out.into_iter()
        .map(|(path, value)| Resolved {
            set: set.iter().any(|(p, _)| within(p, &path)),
            path,
            value,
        })
        .collect()
}

/// Whether `path` is `param` or one of its keys.
fn within(path: &str, param: &str) -> bool {
    path.strip_prefix(param)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Adds `path` unless it is there already (the first value found wins).
fn push(out: &mut Vec<(String, String)>, path: &str, value: String) {
    if !out.iter().any(|(p, _)| p == path) {
        out.push((path.to_string(), value));
    }
}

/// The parameters that choose what a design protects, which a sensitivity
/// analysis leaves alone, in their file spelling.
fn what_it_protects(d: &Design) -> [(&'static str, &'static str); 9] {
    let scope = |s: Scope| match s {
        Scope::EveryHop => "every-hop",
        Scope::Edge => "edge",
    };
    [
        (
            "transport.security",
            match d.transport.security {
                Security::Plaintext => "plaintext",
                Security::Tls => "tls",
                Security::Mtls => "mtls",
            },
        ),
        ("transport.scope", scope(d.transport.scope)),
        (
            "transport.terminate",
            match d.transport.terminate {
                Termination::Library => "library",
                Termination::Sidecar => "sidecar",
                Termination::Node => "node",
            },
        ),
        (
            "proxy.mode",
            match d.proxy.mode {
                ProxyMode::None => "none",
                ProxyMode::Sidecar => "sidecar",
                ProxyMode::Node => "node",
            },
        ),
        (
            "authn.jwt",
            match d.authn.jwt {
                None => "none",
                Some(JwtAlgorithm::Rs256) => "rs256",
                Some(JwtAlgorithm::Es256) => "es256",
                Some(JwtAlgorithm::EdDsa) => "eddsa",
                Some(JwtAlgorithm::Hs256) => "hs256",
            },
        ),
        ("authn.scope", scope(d.authn.scope)),
        ("authz.mode", d.authz.mode.word()),
        ("authz.scope", scope(d.authz.scope)),
        (
            "mode",
            match d.mode {
                Mode::Permissive => "permissive",
                Mode::Strict => "strict",
            },
        ),
    ]
}
