//! Queueing-theory helpers of the tests that check the engine against closed
//! forms (tests/queueing.rs, tests/nodes.rs, tests/queues.rs).

use ztsim::model::metrics::RunMetrics;

/// Erlang C: probability an arrival waits in M/M/c with offered load
/// `a` = lambda / mu (via the stable Erlang B recursion).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b));
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// A pooled estimate over replications: sum(num) / sum(den), with the
/// standard error of the per-replication ratios.
pub struct Pooled {
    pub mean: f64,
    pub se: f64,
}

pub fn pool(runs: &[RunMetrics], f: impl Fn(&RunMetrics) -> (f64, f64)) -> Pooled {
    let parts: Vec<(f64, f64)> = runs.iter().map(f).collect();
    let mean = parts.iter().map(|p| p.0).sum::<f64>() / parts.iter().map(|p| p.1).sum::<f64>();
    let n = parts.len() as f64;
    let ratios: Vec<f64> = parts.iter().map(|p| p.0 / p.1).collect();
    let m = ratios.iter().sum::<f64>() / n;
    let var = ratios.iter().map(|r| (r - m).powi(2)).sum::<f64>() / (n - 1.0);
    Pooled {
        mean,
        se: (var / n).sqrt(),
    }
}

/// Asserts `got` is within relative `tol` of `want`, and that the run was
/// precise enough for that to mean something (standard error <= tol / 4).
pub fn check(what: &str, got: &Pooled, want: f64, tol: f64) {
    let err = got.mean / want - 1.0;
    let rse = got.se / want;
    eprintln!(
        "{what}: expected {want:.6e}, simulated {:.6e} ({:+.2}%, se {:.2}%)",
        got.mean,
        100.0 * err,
        100.0 * rse
    );
    assert!(
        err.abs() < tol,
        "{what}: expected {want}, got {} ({:+.2}%)",
        got.mean,
        100.0 * err
    );
    assert!(
        rse <= tol / 4.0,
        "{what}: run too short, standard error {:.2}%",
        100.0 * rse
    );
}
