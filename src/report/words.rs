//! Words in what ztsim prints: counts with their noun in the right number,
//! and durations a reader takes in at a glance.

/// `1 replication`, `3 replications`: `noun` plus `s` unless `n` is one.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Seconds with at most three decimals, trailing zeros dropped:
/// `10 s`, `7.998 s`, `0.5 s` (a replay's window is the recording's span,
/// to the nanosecond; nobody reads `7.997786 s`).
pub fn seconds(s: f64) -> String {
    let t = format!("{s:.3}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t} s")
}

/// A rate in requests per second: whole when it is, else one decimal (a
/// profile's mean or a replay's measured rate is no round number).
pub fn rate(r: f64) -> String {
    if r.abs() >= 1e15 {
        // Not three hundred digits of a rate no run reaches.
        format!("{r:.3e} rps")
    } else if r.fract() == 0.0 {
        format!("{r} rps")
    } else {
        format!("{r:.1} rps")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_durations() {
        assert_eq!(count(1, "design"), "1 design");
        assert_eq!(count(0, "design"), "0 designs");
        assert_eq!(count(12, "call site"), "12 call sites");
        assert_eq!(seconds(10.0), "10 s");
        assert_eq!(seconds(7.997786), "7.998 s");
        assert_eq!(seconds(0.5), "0.5 s");
        assert_eq!(rate(500.0), "500 rps");
        assert_eq!(rate(8.908886389201351), "8.9 rps");
        assert_eq!(rate(1e300), "1.000e300 rps");
    }
}
