//! Where successful requests' time went: on average, and over exactly the
//! slowest 1% of them (issue 17). The mean comes from coarse latency buckets
//! (exact sums, fixed size); the slowest 1% from the slowest requests
//! themselves, kept up to [`KEPT_SLOWEST`] per entry endpoint.
//!
//! The number of requests a replication measures is known only at its end,
//! and exact selection of a quantile in one pass needs every value: so the
//! slowest `min(n, KEPT_SLOWEST)` are kept (a fixed-size top-K, exact
//! whatever the order they come in), which holds the slowest 1% exactly up to
//! 100 x [`KEPT_SLOWEST`] requests. Past that (a 24-hour run at 1,000 rps
//! measures 86 million: its slowest 1% is 864,000) the slowest
//! [`KEPT_SLOWEST`] are counted exactly and the rest of the 1% comes from
//! the coarse buckets below them: whole buckets from the top down, and a pro
//! rata share of the one bucket the boundary falls in.

use super::cost::{Attribution, SPANS};
use super::topology::Window;
use crate::units::Nanos;

/// Coarse latency buckets for the mean and the fallback: a quarter octave
/// each (19% wide), 2^40 ns (18 min) at most.
const ATTR_BUCKETS: usize = 161;

/// Slowest requests kept per entry endpoint and replication (88 bytes each);
/// the slowest 1% is exact up to 100 times as many.
pub const KEPT_SLOWEST: usize = 50_000;

/// Slowest requests a replication keeps per entry endpoint. A window of
/// `n` requests measures at most `n`, over all its entries, so its slowest
/// 1% is at most ceil(n/100) of them, and each entry's slowest that many
/// hold those of the entries merged: keeping no more is exact, and spares
/// a run of 100,000 requests 5.5 MB of memory touched once (a tenth of its
/// time). A window of time measures as many as arrive.
pub fn slowest_to_keep(window: Window) -> usize {
    window.requests().map_or(KEPT_SLOWEST, |n| {
        n.div_ceil(100).min(KEPT_SLOWEST as u64) as usize
    })
}

/// Requests held at most while the slowest `keep` are kept: a quarter more,
/// weeded out when full (5.5 MB at most for [`KEPT_SLOWEST`]).
pub const fn held_at_most(keep: usize) -> usize {
    keep + keep.div_ceil(4)
}

/// Truncates `held` (more than `keep` long) to its slowest `keep`, in no
/// order, and returns the fastest of them.
fn select_slowest(held: &mut Vec<Slow>, keep: usize) -> Slow {
    let (_, &mut floor, _) = held.select_nth_unstable_by(keep - 1, |a, b| b.cmp(a));
    held.truncate(keep);
    floor
}

fn attr_bucket(latency: Nanos) -> usize {
    if latency <= 1 {
        return 0;
    }
    let log2 = (latency as f64).log2();
    ((log2 * 4.0) as usize).min(ATTR_BUCKETS - 1)
}

/// One successful request: its latency, then its time split (ordered by
/// both, so which of several equally slow requests are kept does not depend
/// on the order they finished in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Slow {
    latency: Nanos,
    attr: Attribution,
}

/// Attribution of successful requests: vectors summed per coarse latency
/// bucket, and the slowest requests kept whole. The buckets (14 KB) are
/// allocated at the first request: every edge's outcomes carry stats that
/// only entry endpoints fill, and 10,000 edges took 140 MB of them.
#[derive(Debug, Clone)]
pub struct AttributionStats {
    /// Requests per bucket: empty until the first one, then `ATTR_BUCKETS`.
    count: Vec<u64>,
    /// Their attribution summed per bucket (as long as `count`).
    sums: Vec<[u64; SPANS]>,
    /// The slowest `keep` requests so far, among up to a quarter as many
    /// again not yet weeded out ([`held_at_most`]), in no order. (A min-heap of `keep` moved
    /// 88-byte entries through 16 levels of a 4 MB array on most records
    /// once full: 8% of a run's time in cache misses. Appending and an
    /// occasional linear selection keep the same set.)
    slowest: Vec<Slow>,
    /// The fastest request the last selection kept: once `keep` are held,
    /// none at or below it can be among the slowest `keep`.
    floor: Option<Slow>,
    /// How many of the slowest are kept.
    keep: usize,
}

impl Default for AttributionStats {
    fn default() -> Self {
        Self::keeping(KEPT_SLOWEST)
    }
}

impl AttributionStats {
    /// Empty stats keeping at most `keep` slowest requests (tests use small
    /// ones to reach the fallback).
    pub fn keeping(keep: usize) -> Self {
        Self {
            count: Vec::new(),
            sums: Vec::new(),
            slowest: Vec::new(),
            floor: None,
            keep: keep.max(1),
        }
    }

    /// The buckets, allocated on first use.
    fn buckets(&mut self) -> (&mut [u64], &mut [[u64; SPANS]]) {
        if self.count.is_empty() {
            self.count = vec![0; ATTR_BUCKETS];
            self.sums = vec![[0; SPANS]; ATTR_BUCKETS];
        }
        (&mut self.count, &mut self.sums)
    }

    /// Adds one request of `latency` whose time split is `attr`.
    pub fn record(&mut self, latency: Nanos, attr: &Attribution) {
        self.buckets();
        let b = attr_bucket(latency);
        self.count[b] += 1;
        for (s, a) in self.sums[b].iter_mut().zip(attr) {
            *s += a;
        }
        self.keep_if_slow(Slow {
            latency,
            attr: *attr,
        });
    }

    fn keep_if_slow(&mut self, s: Slow) {
        if self.floor.is_some_and(|f| s <= f) {
            return;
        }
        let most = held_at_most(self.keep);
        if self.slowest.len() == self.slowest.capacity() {
            // Grown by doubling up to exactly `most`, never past it.
            let want = (2 * self.slowest.len()).max(16).min(most);
            self.slowest.reserve_exact(want - self.slowest.len());
        }
        self.slowest.push(s);
        if self.slowest.len() >= most {
            self.floor = Some(select_slowest(&mut self.slowest, self.keep));
        }
    }

    /// How many of the slowest are kept.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// The slowest `min(len, keep)` requests held, in no order.
    fn kept(&self) -> Vec<Slow> {
        let mut kept = self.slowest.clone();
        if kept.len() > self.keep {
            select_slowest(&mut kept, self.keep);
        }
        kept
    }

    /// Folds another's requests into these.
    pub fn merge(&mut self, other: &AttributionStats) {
        if other.count.is_empty() {
            return; // nothing recorded, so nothing kept either
        }
        let (count, sums) = self.buckets();
        for (c, oc) in count.iter_mut().zip(&other.count) {
            *c += oc;
        }
        for (s, os) in sums.iter_mut().zip(&other.sums) {
            for (a, b) in s.iter_mut().zip(os) {
                *a += b;
            }
        }
        for &s in &other.slowest {
            self.keep_if_slow(s);
        }
    }

    /// Requests recorded.
    pub fn count(&self) -> u64 {
        self.count.iter().sum()
    }

    /// Mean time per span (ns) over all recorded requests.
    pub fn mean(&self) -> Option<[f64; SPANS]> {
        let n = self.count();
        (n > 0).then(|| {
            let mut out = [0.0; SPANS];
            for sums in &self.sums {
                for (o, s) in out.iter_mut().zip(sums) {
                    *o += *s as f64;
                }
            }
            out.map(|v| v / n as f64)
        })
    }

    /// Mean time per span (ns) over the slowest 1% of the recorded requests
    /// (their number rounded up), each at or above their p99; None if none.
    pub fn mean_of_slowest_percent(&self) -> Option<[f64; SPANS]> {
        let n = self.count();
        let k = n.div_ceil(100) as usize;
        if k == 0 {
            return None;
        }
        let kept = self.kept();
        // The k slowest, slowest first (summed in that order, as ever):
        // only they need sorting.
        let mut top = kept.clone();
        if k < top.len() {
            select_slowest(&mut top, k);
        }
        top.sort_unstable_by(|a, b| b.cmp(a));
        let mut out = [0.0; SPANS];
        for s in &top {
            for (o, a) in out.iter_mut().zip(&s.attr) {
                *o += *a as f64;
            }
        }
        if k > kept.len() {
            self.add_from_buckets(&kept, k - kept.len(), &mut out);
        }
        Some(out.map(|v| v / k as f64))
    }

    /// Adds to `out` the time of the `more` slowest requests not `kept`, from
    /// the buckets (every one of them is at most as slow as the kept ones).
    fn add_from_buckets(&self, kept: &[Slow], mut more: usize, out: &mut [f64; SPANS]) {
        let mut count = self.count.clone();
        let mut sums = self.sums.clone();
        for s in kept {
            let b = attr_bucket(s.latency);
            count[b] -= 1;
            for (t, a) in sums[b].iter_mut().zip(&s.attr) {
                *t -= a;
            }
        }
        for b in (0..ATTR_BUCKETS).rev() {
            if more == 0 {
                break;
            }
            let c = count[b] as usize;
            if c == 0 {
                continue;
            }
            let share = more.min(c) as f64 / c as f64;
            for (o, t) in out.iter_mut().zip(&sums[b]) {
                *o += *t as f64 * share;
            }
            more -= more.min(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random latencies with a heavy tail, each split
    /// over spans as a function of it.
    fn requests(n: usize) -> Vec<(Nanos, Attribution)> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let latency = 1_000 + (x % 1_000_000) * (1 + (x >> 60));
                let mut attr = [0; SPANS];
                attr[i % SPANS] = latency / 3;
                attr[(i + 1) % SPANS] += latency - latency / 3;
                (latency, attr)
            })
            .collect()
    }

    /// The mean over the slowest ceil(n/100) by sorting them all.
    fn by_sorting(reqs: &[(Nanos, Attribution)]) -> [f64; SPANS] {
        let mut all: Vec<Slow> = reqs
            .iter()
            .map(|&(latency, attr)| Slow { latency, attr })
            .collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        let k = reqs.len().div_ceil(100);
        let mut out = [0.0; SPANS];
        for s in &all[..k] {
            for (o, a) in out.iter_mut().zip(&s.attr) {
                *o += *a as f64;
            }
        }
        out.map(|v| v / k as f64)
    }

    fn stats(reqs: &[(Nanos, Attribution)], keep: usize) -> AttributionStats {
        let mut a = AttributionStats::keeping(keep);
        reqs.iter().for_each(|(l, at)| a.record(*l, at));
        a
    }

    /// The former reading: the mean from the start of the bucket holding
    /// the p99.
    fn from_bucket_start(a: &AttributionStats, p99: Nanos) -> f64 {
        let from = attr_bucket(p99);
        let n: u64 = a.count[from..].iter().sum();
        let sum: u64 = a.sums[from..].iter().flatten().sum();
        sum as f64 / n as f64
    }

    /// 98 requests of 20.4 ms and 2 of 23.4 ms (tests/tail.rs's case in
    /// small): the slowest 1% is one 23.4 ms request, its total the p99;
    /// both latencies share a bucket, so the bucket-start reading averages
    /// all 100 and falls below the p99.
    #[test]
    fn the_bucket_start_reading_falls_below_the_p99() {
        let mut reqs = vec![(20_400_000, [400_000, 0, 0, 20_000_000, 0, 0, 0, 0, 0, 0]); 98];
        reqs.extend([(23_400_000, [400_000, 0, 0, 23_000_000, 0, 0, 0, 0, 0, 0]); 2]);
        let a = stats(&reqs, KEPT_SLOWEST);
        let p99 = 23_400_000;
        let exact: f64 = a.mean_of_slowest_percent().unwrap().iter().sum();
        assert_eq!(exact, p99 as f64);
        assert!(from_bucket_start(&a, p99) < 20_500_000.0);
    }

    #[test]
    fn slowest_percent_is_exact_below_the_cap_in_any_order() {
        for n in [1, 99, 100, 101, 2_500, 20_000] {
            let reqs = requests(n);
            let want = by_sorting(&reqs);
            assert_eq!(
                stats(&reqs, KEPT_SLOWEST).mean_of_slowest_percent(),
                Some(want)
            );
            let mut rev = reqs.clone();
            rev.reverse();
            assert_eq!(stats(&rev, 200).mean_of_slowest_percent(), Some(want));
            // Split in two and merged, as entries are into all requests.
            let (a, b) = reqs.split_at(n / 3);
            let mut m = stats(a, 200);
            m.merge(&stats(b, 200));
            assert_eq!(m.mean_of_slowest_percent(), Some(want), "n = {n}");
        }
        assert_eq!(AttributionStats::default().mean_of_slowest_percent(), None);
    }

    /// A window of `n` requests keeps ceil(n/100) per entry, and that is
    /// exact for each entry and for the entries merged, even when one entry
    /// holds every slow request (all of the merged slowest 1% come from it).
    #[test]
    fn a_window_of_requests_keeps_its_slowest_percent_and_no_more() {
        assert_eq!(slowest_to_keep(Window::Requests(100_000)), 1_000);
        assert_eq!(slowest_to_keep(Window::Requests(1)), 1);
        assert_eq!(slowest_to_keep(Window::Requests(101)), 2);
        assert_eq!(slowest_to_keep(Window::Requests(u64::MAX)), KEPT_SLOWEST);
        assert_eq!(slowest_to_keep(Window::Duration(1)), KEPT_SLOWEST);
        for n in [1, 150, 2_500, 20_000] {
            let keep = slowest_to_keep(Window::Requests(n as u64));
            let mut reqs = requests(n);
            let want = by_sorting(&reqs);
            assert_eq!(stats(&reqs, keep).mean_of_slowest_percent(), Some(want));
            // One entry got the slowest third, the other the rest.
            reqs.sort_unstable_by_key(|&(l, _)| std::cmp::Reverse(l));
            let (slow, fast) = reqs.split_at(n / 3);
            let mut all = stats(fast, keep);
            all.merge(&stats(slow, keep));
            assert_eq!(all.mean_of_slowest_percent(), Some(want), "n = {n}");
        }
    }

    /// Past the cap the kept requests count exactly and the rest comes from
    /// the buckets: within a bucket's width (19%) of the truth, and exact
    /// when the boundary falls between buckets.
    #[test]
    fn past_the_cap_the_buckets_fill_in() {
        let reqs = requests(20_000);
        let want = by_sorting(&reqs);
        let got = stats(&reqs, 50).mean_of_slowest_percent().unwrap();
        let (w, g): (f64, f64) = (want.iter().sum(), got.iter().sum());
        assert!((g / w - 1.0).abs() < 0.19, "{g} vs {w}");
        // 1,000 requests in two far-apart buckets, 10 of them slow: keeping
        // 4, the other 6 slow ones fill whole buckets.
        let mut reqs = vec![(1_000_000, [1_000_000, 0, 0, 0, 0, 0, 0, 0, 0, 0]); 990];
        reqs.extend((0..10).map(|i| (9_000_000 + i, [0, 9_000_000 + i, 0, 0, 0, 0, 0, 0, 0, 0])));
        assert_eq!(
            stats(&reqs, 4).mean_of_slowest_percent(),
            Some(by_sorting(&reqs))
        );
    }

    /// Stats that recorded nothing hold no buckets, and merging them either
    /// way answers as if they had: the same means, the same slowest 1%.
    #[test]
    fn unused_stats_hold_no_buckets() {
        let empty = AttributionStats::default();
        assert!(empty.count.is_empty() && empty.sums.is_empty());
        assert_eq!((empty.count(), empty.mean()), (0, None));
        assert_eq!(empty.mean_of_slowest_percent(), None);
        let reqs = requests(5_000);
        let full = stats(&reqs, 40);
        let mut into_empty = AttributionStats::keeping(40);
        into_empty.merge(&full);
        let mut from_empty = stats(&reqs, 40);
        from_empty.merge(&empty);
        for a in [&into_empty, &from_empty] {
            assert_eq!(a.count(), 5_000);
            assert_eq!(a.mean(), full.mean());
            assert_eq!(a.mean_of_slowest_percent(), full.mean_of_slowest_percent());
        }
    }
}
