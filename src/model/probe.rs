//! What a run reports to beyond its metrics: the [`Probe`] a `Simulation` is
//! generic over, the normal run's [`NoProbe`] (zero-sized, every hook
//! compiled away), and the two probes of an export, the [`Selector`] that
//! picks requests and the [`Recorder`] that follows their calls.
//!
//! Plain data the simulation writes into and `record.rs` reads out; it
//! depends on neither, so imports point one way: `record` -> `sim` ->
//! `probe` -> `timeline`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::cost::{Attribution, CpuParts, SPANS};
use super::timeline::{CallKind, CallTrace, Phase, Pick, RequestTrace, Side, Step};
use super::topology::EndpointId;
use crate::units::Nanos;

/// What a run reports to, beyond its metrics (implemented in the crate only;
/// its types are opaque outside it).
pub trait Probe {
    /// False for [`NoProbe`]: hooks are skipped at compile time.
    const ON: bool;
    /// The request picker, if any.
    fn selector(&mut self) -> Option<&mut Selector>;
    /// The call recorder, if any.
    fn recorder(&mut self) -> Option<&mut Recorder>;
    /// The count of events by what they did, if any.
    fn tally(&mut self) -> Option<&mut EventTally>;
}

/// No probe: the normal run.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProbe;

impl Probe for NoProbe {
    const ON: bool = false;
    #[inline(always)]
    fn selector(&mut self) -> Option<&mut Selector> {
        None
    }
    #[inline(always)]
    fn recorder(&mut self) -> Option<&mut Recorder> {
        None
    }
    #[inline(always)]
    fn tally(&mut self) -> Option<&mut EventTally> {
        None
    }
}

/// A picker, a recorder or a tally (or several): for exports, and for
/// `ztsim bench`'s count of events by cause.
#[derive(Debug, Default)]
pub(crate) struct Probes {
    pub(crate) selector: Option<Selector>,
    pub(crate) recorder: Option<Recorder>,
    pub(crate) tally: Option<EventTally>,
}

impl Probe for Probes {
    const ON: bool = true;
    fn selector(&mut self) -> Option<&mut Selector> {
        self.selector.as_mut()
    }
    fn recorder(&mut self) -> Option<&mut Recorder> {
        self.recorder.as_mut()
    }
    fn tally(&mut self) -> Option<&mut EventTally> {
        self.tally.as_mut()
    }
}

/// Most event kinds and call phases a tally tells apart.
pub(crate) const TALLY_KINDS: usize = 16;
pub(crate) const TALLY_PHASES: usize = 32;

/// Events handled, by kind and, for a call's events, by the phase the call
/// was in (what the event ended): where a run's events go, so that what a
/// call costs in events can be read off (`ztsim bench -m`). The simulation
/// names the causes (`sim::tally_events`).
#[derive(Debug, Clone)]
pub struct EventTally {
    pub(crate) counts: [[u64; TALLY_PHASES]; TALLY_KINDS],
}

impl Default for EventTally {
    fn default() -> Self {
        EventTally {
            counts: [[0; TALLY_PHASES]; TALLY_KINDS],
        }
    }
}

impl EventTally {
    /// One event of `kind`; `phase` is its call's phase plus one, or 0 for
    /// an event of no call.
    #[inline]
    pub(crate) fn count(&mut self, kind: u8, phase: usize) {
        self.counts[usize::from(kind) % TALLY_KINDS][phase % TALLY_PHASES] += 1;
    }
}

/// Keeps, for one replication, the `k` slowest successful measured requests
/// and the `m` with the smallest sample hash (a uniform sample without
/// replacement that merges across replications and is the same for every
/// design: the hash comes from the request's key).
#[derive(Debug, Default)]
pub struct Selector {
    k: usize,
    m: usize,
    /// Min-heap of (latency, earlier request first) of the slowest so far.
    pub(super) slowest: BinaryHeap<Reverse<(Nanos, Reverse<u64>)>>,
    /// Max-heap of (hash, request) of the sample so far.
    pub(super) sample: BinaryHeap<(u64, u64)>,
    pub(super) latency: FxHashMap<u64, Nanos>,
}

impl Selector {
    pub(crate) fn new(k: usize, m: usize) -> Self {
        Selector {
            k,
            m,
            ..Selector::default()
        }
    }

    /// A successful measured request finished.
    pub(crate) fn offer(&mut self, request: u64, hash: u64, latency: Nanos) {
        let mut keep = false;
        if self.k > 0 {
            let item = Reverse((latency, Reverse(request)));
            if self.slowest.len() < self.k {
                self.slowest.push(item);
                keep = true;
            } else if self.slowest.peek().is_some_and(|top| item < *top) {
                self.slowest.pop();
                self.slowest.push(item);
                keep = true;
            }
        }
        if self.m > 0 {
            if self.sample.len() < self.m {
                self.sample.push((hash, request));
                keep = true;
            } else if self.sample.peek().is_some_and(|&top| (hash, request) < top) {
                self.sample.pop();
                self.sample.push((hash, request));
                keep = true;
            }
        }
        if keep {
            self.latency.insert(request, latency);
        }
    }
}

/// Follows the calls of chosen requests through one replication.
#[derive(Debug, Default)]
pub struct Recorder {
    wanted: FxHashMap<u64, Pick>,
    /// Live call slot -> (trace, call index).
    slots: FxHashMap<u32, (u32, u32)>,
    pub(crate) traces: Vec<RequestTrace>,
    finished: FxHashSet<u32>,
}

impl Recorder {
    pub(crate) fn new(picks: &[Pick]) -> Self {
        Recorder {
            wanted: picks.iter().map(|p| (p.request, *p)).collect(),
            ..Recorder::default()
        }
    }

    /// A call was created in `slot`: follow it if its request is wanted.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn inserted(
        &mut self,
        slot: u32,
        parent_slot: Option<u32>,
        request: u64,
        kind: CallKind,
        endpoint: EndpointId,
        caller_replica: Option<u32>,
        now: Nanos,
        attempt: u32,
        repeat: u32,
    ) {
        let call = |parent| CallTrace {
            parent,
            kind,
            endpoint,
            caller_replica,
            replica: None,
            start: now,
            end: None,
            server: None,
            handshake: None,
            attempt,
            repeat,
            abandoned: false,
            failed: false,
            authz_cache_hit: None,
        };
        let place = match parent_slot {
            None => self.wanted.get(&request).map(|&pick| {
                self.traces.push(RequestTrace {
                    pick,
                    calls: vec![call(None)],
                    phases: Vec::new(),
                    latency: 0,
                    attribution: [0; SPANS],
                });
                ((self.traces.len() - 1) as u32, 0)
            }),
            Some(p) => self.slots.get(&p).map(|&(t, pc)| {
                let calls = &mut self.traces[t as usize].calls;
                calls.push(call(Some(pc)));
                (t, (calls.len() - 1) as u32)
            }),
        };
        match place {
            Some(at) => self.slots.insert(slot, at),
            None => self.slots.remove(&slot),
        };
    }

    /// The traced call in `slot`, if followed.
    #[inline]
    pub(crate) fn call(&mut self, slot: u32) -> Option<&mut CallTrace> {
        let &(t, c) = self.slots.get(&slot)?;
        Some(&mut self.traces[t as usize].calls[c as usize])
    }

    /// A phase of the call in `slot` ended; empty phases are dropped.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn phase(
        &mut self,
        slot: u32,
        step: Step,
        side: Side,
        start: Nanos,
        end: Nanos,
        cpu: CpuParts,
        local: Nanos,
    ) {
        if end <= start {
            return;
        }
        if let Some(&(t, call)) = self.slots.get(&slot) {
            self.traces[t as usize].phases.push(Phase {
                call,
                step,
                side,
                start,
                end,
                cpu,
                local,
            });
        }
    }

    /// The user request in `slot` finished.
    pub(crate) fn request_done(
        &mut self,
        slot: u32,
        now: Nanos,
        ok: bool,
        latency: Nanos,
        attr: &Attribution,
    ) {
        if let Some(&(t, _)) = self.slots.get(&slot) {
            let trace = &mut self.traces[t as usize];
            trace.latency = latency;
            trace.attribution = *attr;
            trace.calls[0].end = Some(now);
            trace.calls[0].failed = !ok;
            if ok {
                self.finished.insert(t);
            }
        }
    }

    /// Traces of the wanted requests that succeeded, in pick order.
    pub(super) fn into_traces(self) -> Vec<RequestTrace> {
        let finished = self.finished;
        self.traces
            .into_iter()
            .enumerate()
            .filter(|(i, _)| finished.contains(&(*i as u32)))
            .map(|(_, t)| t)
            .collect()
    }
}
