//! A call at its callee's door (docs/model.md s3, admission): the
//! endpoint's rate limiter takes a token, the replica's queue bound takes a
//! place; a call refused by either is rejected at once and its response
//! (an error) travels back. Only calls of the call graphs are rejected: the
//! policy and identity services answer every call.

use super::state::{Bucket, Call, Kind, NONE};
use super::{Probe, Simulation};
use crate::model::topology::{Reason, Topology};
use crate::units::{NANOS_PER_SEC, Nanos};

/// Each endpoint's first bucket (NONE without a rate limit) and every
/// bucket, one per replica of its service, full at time 0.
pub(super) fn buckets(topo: &Topology) -> (Vec<u32>, Vec<Bucket>) {
    let mut base = Vec::with_capacity(topo.endpoints.len());
    let mut buckets = Vec::new();
    for ep in &topo.endpoints {
        match ep.rate_limit {
            Some(l) => {
                base.push(buckets.len() as u32);
                let replicas = topo.services[ep.service as usize].replicas;
                buckets.extend((0..replicas).map(|_| Bucket {
                    tokens: f64::from(l.burst),
                    at: 0,
                }));
            }
            None => base.push(NONE),
        }
    }
    (base, buckets)
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// Why the callee turns call `c` away, if it does; takes its token.
    pub(super) fn rejects(&mut self, c: &Call) -> Option<Reason> {
        if !matches!(c.kind, Kind::Root | Kind::Child) {
            return None;
        }
        // The rate limiter first (a sidecar's, in front of the app), then
        // the app's queue: a call the queue sheds has taken its token.
        let base = self.bucket_base[c.endpoint as usize];
        if base != NONE {
            let ep = &self.topo.endpoints[c.endpoint as usize];
            let limit = ep.rate_limit.expect("a bucket means a rate limit");
            let local = c.replica - self.replica_base[ep.service as usize];
            let b = &mut self.buckets[(base + local) as usize];
            let now = self.queue.now();
            b.tokens = refill(b.tokens, now - b.at, limit.rate, limit.burst);
            b.at = now;
            if b.tokens < 1.0 {
                return Some(Reason::Limited);
            }
            b.tokens -= 1.0;
        }
        // Calls already waiting for a worker or a core: a newcomer would
        // wait behind them.
        let r = &self.replicas[c.replica as usize];
        if r.queue_limit != NONE
            && r.waiting.len() as u64 + u64::from(r.queued_jobs) >= u64::from(r.queue_limit)
        {
            return Some(Reason::Shed);
        }
        None
    }

    /// The callee turned the call away: it fails for `reason`, and the
    /// rejection travels back as its response.
    pub(super) fn reject(&mut self, slot: u32, c: &Call, reason: Reason) {
        if let Some(k) = self.counters(slot) {
            match reason {
                Reason::Shed => k.shed += 1,
                _ => k.limited += 1,
            }
        }
        self.replicas[c.replica as usize].outstanding -= 1;
        let call = self.calls.get_mut(slot);
        call.failed = true;
        call.reason = Some(reason);
        self.response(slot, c);
    }
}

/// A bucket's tokens `elapsed` ns after it held `tokens`, at most `burst`.
fn refill(tokens: f64, elapsed: Nanos, rate: f64, burst: u32) -> f64 {
    (tokens + elapsed as f64 * rate / NANOS_PER_SEC as f64).min(f64::from(burst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        assert_eq!(refill(0.0, NANOS_PER_SEC / 10, 20.0, 5), 2.0);
        assert_eq!(refill(4.5, NANOS_PER_SEC, 20.0, 5), 5.0);
        assert_eq!(refill(0.25, 0, 20.0, 5), 0.25);
    }
}
