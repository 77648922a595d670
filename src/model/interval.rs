//! The latencies of one series interval, kept small enough for runs of
//! hours (hundreds of intervals per replication), for its p99.

use crate::units::Nanos;

/// Values kept as they are before an interval switches to buckets (as
/// many as `LatencyHistogram` keeps).
const FEW: usize = 64;

/// Sub-buckets per octave of an interval's latency histogram.
const SUB: u32 = 32;

/// The latencies of one series interval, for its p99, in little memory (a
/// 24-hour run keeps hundreds of intervals per replication): up to [`FEW`]
/// values as they are (their quantiles exact), then counts in log-linear
/// buckets (32 per octave, each at most 1/32 of its values wide), kept only
/// over the buckets between the smallest and largest value seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntervalLatency {
    few: Vec<Nanos>,
    /// Counts of buckets `lo..lo + counts.len()`, once past `FEW` values.
    counts: Vec<u32>,
    lo: u32,
    count: u64,
    max: Nanos,
}

/// The bucket holding `v`: values below 32 each their own, then 32 per
/// octave.
fn bucket(v: Nanos) -> u32 {
    if v < u64::from(SUB) {
        return v as u32;
    }
    let octave = 63 - v.leading_zeros(); // >= 5
    let shift = octave - 5;
    SUB + shift * SUB + ((v >> shift) as u32 - SUB)
}

/// The smallest value and the width of bucket `b`.
fn bucket_bounds(b: u32) -> (Nanos, Nanos) {
    if b < SUB {
        return (u64::from(b), 1);
    }
    let shift = (b - SUB) / SUB;
    let sub = (b - SUB) % SUB;
    (u64::from(SUB + sub) << shift, 1 << shift)
}

impl IntervalLatency {
    /// Adds one latency.
    pub fn record(&mut self, v: Nanos) {
        self.count += 1;
        self.max = self.max.max(v);
        if self.counts.is_empty() {
            self.few.push(v);
            if self.few.len() > FEW {
                for v in std::mem::take(&mut self.few) {
                    self.count_in(v, 1);
                }
            }
        } else {
            self.count_in(v, 1);
        }
    }

    fn count_in(&mut self, v: Nanos, n: u32) {
        let b = bucket(v);
        if self.counts.is_empty() {
            self.lo = b;
            self.counts.push(0);
        } else if b < self.lo {
            let grow = (self.lo - b) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.lo = b;
        }
        let i = (b - self.lo) as usize;
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] = self.counts[i].saturating_add(n);
    }

    /// Folds another interval's latencies into this one.
    pub fn merge(&mut self, other: &IntervalLatency) {
        let (count, max) = (self.count + other.count, self.max.max(other.max));
        if self.counts.is_empty()
            && other.counts.is_empty()
            && self.few.len() + other.few.len() <= FEW
        {
            self.few.extend_from_slice(&other.few);
        } else {
            for v in std::mem::take(&mut self.few)
                .into_iter()
                .chain(other.few.iter().copied())
            {
                self.count_in(v, 1);
            }
            for (i, &n) in other.counts.iter().enumerate() {
                if n > 0 {
                    let (low, _) = bucket_bounds(other.lo + i as u32);
                    self.count_in(low, n);
                }
            }
        }
        self.count = count;
        self.max = max;
    }

    /// The `q` quantile (nearest rank: the smallest latency with at least
    /// `ceil(q * n)` at or below it): exact up to [`FEW`] values, else the
    /// middle of its bucket (within 1.6%), never above the maximum. None
    /// when empty.
    pub fn quantile(&self, q: f64) -> Option<Nanos> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if self.counts.is_empty() {
            let mut v = self.few.clone();
            v.sort_unstable();
            return Some(v[rank as usize - 1]);
        }
        let mut seen = 0u64;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                let (low, width) = bucket_bounds(self.lo + i as u32);
                return Some((low + width / 2).min(self.max));
            }
        }
        Some(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest rank: the smallest value with at least ceil(q n) at or below.
    fn nearest_rank(v: &[Nanos], q: f64) -> Nanos {
        let mut v = v.to_vec();
        v.sort_unstable();
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1]
    }

    #[test]
    fn interval_quantiles_are_exact_when_few_and_close_when_many() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut draw = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1_000 + x % 50_000_000
        };
        for n in [1usize, 2, 10, 63, 64, 65, 200, 5000] {
            let values: Vec<Nanos> = (0..n).map(|_| draw()).collect();
            let mut h = IntervalLatency::default();
            values.iter().for_each(|&v| h.record(v));
            for q in [0.5, 0.9, 0.99] {
                let (got, want) = (h.quantile(q).unwrap(), nearest_rank(&values, q));
                if n <= FEW {
                    assert_eq!(got, want, "n {n} q {q}");
                } else {
                    let err = (got as f64 - want as f64).abs() / want as f64;
                    assert!(err <= 1.0 / 64.0 + 1e-9, "n {n} q {q}: {got} vs {want}");
                }
            }
            // Merging halves answers as recording all.
            let (a, b) = values.split_at(n / 2);
            let (mut ha, mut hb) = (IntervalLatency::default(), IntervalLatency::default());
            a.iter().for_each(|&v| ha.record(v));
            b.iter().for_each(|&v| hb.record(v));
            ha.merge(&hb);
            assert_eq!(ha.quantile(0.99), h.quantile(0.99), "merged, n {n}");
        }
        assert_eq!(IntervalLatency::default().quantile(0.99), None);
    }

    #[test]
    fn interval_buckets_tile_the_values() {
        for b in 0..(SUB + 40 * SUB) {
            let (low, width) = bucket_bounds(b);
            assert_eq!(bucket(low), b);
            assert_eq!(bucket(low + width - 1), b);
            assert_eq!(bucket(low + width), b + 1);
        }
    }
}
