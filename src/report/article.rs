//! The seed article's figures beside the ones ztsim computes from a study that
//! includes the relevant designs (the default study does).

use std::fmt::Write;

use super::study::{StudyResults, highest_stable_rate, point_at};
use super::summary::Summary;

fn crypto_share(s: &Summary, with_checks: bool) -> Option<f64> {
    let total: f64 = s.cpu_per_request.iter().map(|c| c.ms.mean).sum();
    let crypto: f64 = s
        .cpu_per_request
        .iter()
        .filter(|c| {
            matches!(c.category.as_str(), "handshake" | "bulk_crypto")
                || (with_checks && matches!(c.category.as_str(), "jwt" | "authz"))
        })
        .map(|c| c.ms.mean)
        .sum();
    (total > 0.0).then(|| crypto / total * 100.0)
}

/// "The article says X; ztsim computes Y", for each claim the study can speak
/// to. Claims whose designs are missing from the study are left out.
pub fn compare(results: &StudyResults) -> String {
    let focus = super::study::focus_rate(results);
    let at = |d: &str| point_at(results, d, focus).map(|p| &p.summary);
    let internal = |d: &str| at(d).and_then(|s| s.internal_calls.latency_ms_mean.map(|e| e.mean));
    let mut rows: Vec<(String, String)> = Vec::new();
    let load = focus.map_or(String::new(), |r| format!(" at {r} rps"));
    if let (Some(a), Some(b)) = (internal("plaintext"), internal("naive-mtls")) {
        rows.push((
            "internal request latency ~2 ms -> ~18 ms with strict mTLS and per-request authorization".into(),
            format!("plaintext {a:.1} ms -> naive-mtls {b:.1} ms{load} (x{:.1})", b / a),
        ));
    }
    if let (Some(a), Some(b)) = (internal("plaintext"), internal("grpc-mtls-local-policy")) {
        rows.push((
            "best case (persistent gRPC, session caching, local policy): ~2-3 ms extra per hop"
                .into(),
            format!(
                "grpc-mtls-local-policy {:+.2} ms per internal call{load}",
                b - a
            ),
        ));
    }
    for proxy in ["istio-sidecar", "istio-ambient"] {
        if let (Some(a), Some(b)) = (internal("plaintext"), internal(proxy)) {
            rows.push((
                format!("(a proxy in the path: {proxy})"),
                format!("{proxy} {:+.2} ms per internal call{load}", b - a),
            ));
        }
    }
    let stable = |d: &str| {
        let params = results
            .points
            .first()
            .map(|p| p.at.params.clone())
            .unwrap_or_default();
        results
            .designs
            .iter()
            .any(|x| x == d)
            .then(|| highest_stable_rate(results, d, &params))
    };
    if let (Some(a), Some(b)) = (stable("plaintext"), stable("naive-mtls")) {
        let f = |r: Option<f64>| r.map_or("none of the loads".into(), |r| format!("{r} rps"));
        rows.push((
            "designed for 1000 rps on plain HTTP, 200 rps after mTLS + auth (cores saturated with crypto)".into(),
            format!("highest stable load swept: plaintext {} -> naive-mtls {} (same cores)", f(a), f(b)),
        ));
    }
    let shares: Vec<String> = ["naive-mtls", "istio-sidecar", "grpc-mtls-local-policy"]
        .iter()
        .filter_map(|d| {
            let s = at(d)?;
            Some(format!(
                "{d} {:.0}% ({:.0}% with JWT and policy)",
                crypto_share(s, false)?,
                crypto_share(s, true)?
            ))
        })
        .collect();
    if !shares.is_empty() {
        rows.push((
            "CPU is now 20-40% spent on crypto (mTLS, JWT verification, policy evaluation)".into(),
            format!(
                "share of all CPU that is TLS crypto{load}: {}",
                shares.join("; ")
            ),
        ));
    }
    let mut out =
        String::from("The seed article's figures beside ztsim's (computed, not configured):\n");
    for (claim, ours) in rows {
        let _ = writeln!(out, "- article: {claim}\n  ztsim:   {ours}");
    }
    out
}
