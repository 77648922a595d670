//! The one paragraph a person reads first: how a design changed latency,
//! where the added time went, and what the crypto costs in CPU, against the
//! plaintext baseline run on the same seeds.

use super::summary::Summary;

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// "p99 went from 4.1 ms to 17.9 ms; 62% of the added time is handshake
/// round trips; crypto takes 31% of frontend CPU", for `design` against `base`.
pub fn headline(base: &Summary, design: &Summary) -> String {
    let name = &design.design;
    let mut out = format!("{name} against the plaintext baseline (same seeds): ");
    match (&base.saturated, &design.saturated) {
        (None, Some(sat)) => {
            out.push_str(&format!(
                "the baseline holds this load but {name} does not: {}.",
                sat.message
            ));
            return out;
        }
        (Some(_), _) => {
            out.push_str(if base.workload.arrivals == "replay" {
                "the baseline itself saturates on this recording; play it slower (--replay-speed below 1) to compare."
            } else {
                "the baseline itself saturates at this load; lower the rate to compare."
            });
            return out;
        }
        (None, None) => {}
    }
    let (Some(b), Some(d)) = (&base.requests.latency_ms, &design.requests.latency_ms) else {
        out.push_str("no requests were measured.");
        return out;
    };
    let mut parts = vec![
        format!("p99 went from {} to {}", ms(b.p99.mean), ms(d.p99.mean)),
        format!("mean from {} to {}", ms(b.mean.mean), ms(d.mean.mean)),
    ];
    if let (Some(bi), Some(di)) = (
        &base.internal_calls.latency_ms_mean,
        &design.internal_calls.latency_ms_mean,
    ) {
        parts.push(format!(
            "an internal call from {} to {}",
            ms(bi.mean),
            ms(di.mean)
        ));
    }
    // Where the added mean time went, by critical-path span.
    let added: Vec<(&str, f64)> = design
        .attribution
        .iter()
        .zip(&base.attribution)
        .map(|(d, b)| (d.span.as_str(), d.mean_ms.mean - b.mean_ms.mean))
        .collect();
    let total: f64 = added.iter().map(|a| a.1).filter(|v| *v > 0.0).sum();
    // Below a twentieth of a millisecond or 2% of the baseline, the split of
    // the difference is noise between runs, not a finding.
    if total > 0.05f64.max(0.02 * b.mean.mean) {
        let mut top: Vec<&(&str, f64)> = added.iter().filter(|a| a.1 > 0.0).collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        let shares: Vec<String> = top
            .iter()
            .take(3)
            .filter(|(_, v)| v / total >= 0.05)
            .map(|(span, v)| format!("{:.0}% {}", v / total * 100.0, span.replace('_', " ")))
            .collect();
        parts.push(format!("of the added time, {}", shares.join(", ")));
    }
    // The cores that spend the most on crypto (handshake and bulk), as a
    // share of what they are busy with.
    let crypto_of = |cpu: &[super::summary::CpuShare]| -> f64 {
        cpu.iter()
            .filter(|c| c.category == "handshake" || c.category == "bulk_crypto")
            .map(|c| c.share.mean)
            .sum()
    };
    let candidates = design
        .services
        .iter()
        .map(|s| (s.name.as_str(), crypto_of(&s.cpu), s.utilisation.mean))
        .chain(
            design
                .proxies
                .iter()
                .map(|p| (p.name.as_str(), crypto_of(&p.cpu), p.utilisation.mean)),
        );
    if let Some((name, crypto, busy)) = candidates.max_by(|a, b| a.1.total_cmp(&b.1))
        && crypto > 0.001
        && busy > 0.0
    {
        parts.push(format!(
            "crypto takes {:.0}% of {name}'s CPU ({:.0}% of its capacity)",
            crypto / busy * 100.0,
            crypto * 100.0
        ));
    }
    out.push_str(&parts.join("; "));
    out.push('.');
    out
}
