//! The future event list: a binary min-heap keyed by (time, sequence number).
//!
//! The sequence number is assigned at scheduling time, so events at the same
//! instant pop in the order they were scheduled (FIFO). That total order is what
//! makes a run deterministic: no tie is ever broken by heap layout.
//! `schedule` and `pop` are O(log n); an `Event` is a 24-byte `Copy` value (the
//! kind rides in the low byte of the sequence word) so the heap moves little
//! per swap and never allocates once it has grown. (A 4-ary heap measured no
//! faster here: timeouts live in FIFO lanes, so the heap stays small.)

use super::Nanos;

/// One scheduled happening: at `time`, deliver a kind to the entity `target`.
/// Kind, target and `aux` are interpreted by the model; the engine only orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// When it happens.
    pub time: Nanos,
    /// Scheduling order in the high 56 bits (the tie-breaker), kind below.
    order: u64,
    /// Which entity it concerns (usually a slab index).
    pub target: u32,
    /// A second word for the model (e.g. the slot generation it was meant for).
    pub aux: u32,
}

impl Event {
    /// What the model should do (its own enum, stored as a byte).
    #[inline]
    pub fn kind(&self) -> u8 {
        self.order as u8
    }
}

impl Event {
    /// (time, order) as one 128-bit number: the same order as the pair, but
    /// compared without a branch between its halves, which the heap's
    /// sifting mispredicted half the time.
    #[inline]
    fn key(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.order)
    }
}

impl Ord for Event {
    #[inline]
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.key().cmp(&self.key())
    }
}
impl PartialOrd for Event {
    #[inline]
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// The simulation clock and its pending events.
#[derive(Debug, Default)]
pub struct EventQueue {
    heap: std::collections::BinaryHeap<Event>,
    now: Nanos,
    next_seq: u64,
    /// Scheduling order of the last event popped (see [`EventQueue::current`]).
    order: u64,
    /// Events pushed (reserved places that were never used are not counted).
    pushed: u64,
    peak: usize,
}

/// An event's place in the total order, (time, scheduling order) as one
/// number: what [`EventQueue::reserve`] hands out and
/// [`EventQueue::current`] reports.
pub type EventKey = u128;

impl EventQueue {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current simulated time: the time of the last event popped.
    #[inline]
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Schedules `kind` for `target` after `delay` from now.
    #[inline]
    pub fn schedule(&mut self, delay: Nanos, kind: u8, target: u32, aux: u32) {
        self.schedule_at(self.now.saturating_add(delay), kind, target, aux);
    }

    /// Schedules `kind` for `target` at absolute time `time` (never before now).
    #[inline]
    pub fn schedule_at(&mut self, time: Nanos, kind: u8, target: u32, aux: u32) {
        debug_assert!(time >= self.now, "an event cannot be scheduled in the past");
        let order = (self.next_seq << 8) | u64::from(kind);
        self.next_seq += 1;
        self.push(time, order, target, aux);
    }

    /// Takes the place in the order that an event at `time` would take if
    /// it were scheduled now, without scheduling it: a happening that may
    /// never need to be an event (a core released while nobody waits for
    /// it). [`EventQueue::schedule_reserved`] makes it one, in that place.
    #[inline]
    pub fn reserve(&mut self, time: Nanos) -> EventKey {
        debug_assert!(time >= self.now, "an event cannot be reserved in the past");
        let order = self.next_seq << 8;
        self.next_seq += 1;
        (u128::from(time) << 64) | u128::from(order)
    }

    /// Schedules `kind` for `target` in the place reserved as `key`: it pops
    /// exactly where it would have had it been scheduled when reserved.
    #[inline]
    pub fn schedule_reserved(&mut self, key: EventKey, kind: u8, target: u32, aux: u32) {
        let time = (key >> 64) as Nanos;
        debug_assert!(key > self.current(), "a reserved event already passed");
        self.push(time, key as u64 | u64::from(kind), target, aux);
    }

    /// The place of the event being handled (the last popped): a reserved
    /// event whose key is below it would already have popped.
    #[inline]
    pub fn current(&self) -> EventKey {
        (u128::from(self.now) << 64) | u128::from(self.order)
    }

    /// The time of a reserved event.
    #[inline]
    pub fn time_of(key: EventKey) -> Nanos {
        (key >> 64) as Nanos
    }

    /// Moves the clock on to `time` with no event (the time of the last
    /// reserved happening, when the queue has run dry).
    pub fn advance_to(&mut self, time: Nanos) {
        self.now = self.now.max(time);
    }

    #[inline]
    fn push(&mut self, time: Nanos, order: u64, target: u32, aux: u32) {
        self.pushed += 1;
        self.heap.push(Event {
            time,
            order,
            target,
            aux,
        });
        self.peak = self.peak.max(self.heap.len());
    }

    /// Most events pending at once.
    pub fn peak_len(&self) -> usize {
        self.peak
    }

    /// Events scheduled so far (the simulation's work count); reserved
    /// places never scheduled are not counted.
    pub fn scheduled(&self) -> u64 {
        self.pushed
    }

    /// Removes the earliest event and advances the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        let event = self.heap.pop()?;
        self.now = event.time;
        self.order = event.order;
        Some(event)
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<Nanos> {
        self.heap.peek().map(|e| e.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_fifo_on_ties() {
        let mut q = EventQueue::new();
        q.schedule(5, 9, 1, 0);
        q.schedule(3, 0, 2, 0);
        q.schedule(5, 0, 3, 0);
        q.schedule(3, 9, 4, 0);
        let order: Vec<(u64, u32)> =
            std::iter::from_fn(|| q.pop().map(|e| (e.time, e.target))).collect();
        assert_eq!(order, vec![(3, 2), (3, 4), (5, 1), (5, 3)]);
        assert_eq!(q.now(), 5);
    }

    #[test]
    fn agrees_with_a_sorted_order_on_many_random_events() {
        use crate::engine::rng::call_rng;
        use rand::RngCore;
        let mut r = call_rng(3);
        let mut q = EventQueue::new();
        let mut expected = Vec::new();
        let mut popped = Vec::new();
        // Interleave pushes and pops, as a simulation does.
        for i in 0..20_000u32 {
            let delay = r.next_u64() % 1000;
            expected.push((q.now() + delay, i));
            q.schedule(delay, 0, i, 0);
            if r.next_u64().is_multiple_of(3) {
                let e = q.pop().unwrap();
                popped.push((e.time, e.target));
            }
        }
        while let Some(e) = q.pop() {
            popped.push((e.time, e.target));
        }
        // Popped times never decrease, ties in scheduling order.
        assert!(
            popped.windows(2).all(|w| w[0] <= w[1]),
            "not in (time, seq) order"
        );
        expected.sort();
        let mut got = popped.clone();
        got.sort();
        assert_eq!(got, expected);
    }

    /// Against a reference `BinaryHeap` of (time, sequence number, kind):
    /// the order any faster queue must keep exactly, since every output
    /// depends on it. Random interleaved pushes and pops (as many of each on
    /// average, so the queue wanders between empty and a few hundred): short
    /// and long delays, many equal times (zero delays, coarse grids), and
    /// times saturated at `u64::MAX`.
    #[test]
    fn pops_exactly_as_a_reference_heap_does() {
        use crate::engine::rng::call_rng;
        use rand::RngCore;
        use std::cmp::Reverse;
        for seed in 0..8 {
            let mut r = call_rng(seed);
            let mut q = EventQueue::new();
            let mut reference = std::collections::BinaryHeap::new();
            let mut seq = 0u32;
            for _ in 0..20_000 {
                let pushes = r.next_u64() % 4;
                for _ in 0..pushes {
                    let delay = match r.next_u64() % 8 {
                        0 => 0,
                        1 => r.next_u64() % 4,
                        2 => (r.next_u64() % 8) * 1000,
                        // Seeds that saturate the clock end at u64::MAX.
                        3 if seed % 2 == 0 => u64::MAX - r.next_u64() % 3,
                        4 => r.next_u64() >> (r.next_u64() % 64),
                        _ => r.next_u64() % 1_000_000,
                    };
                    let kind = (r.next_u64() % 13) as u8;
                    q.schedule(delay, kind, seq, !seq);
                    let time = q.now().saturating_add(delay);
                    reference.push(Reverse((time, seq, kind)));
                    seq += 1;
                }
                assert_eq!(q.len(), reference.len());
                assert_eq!(q.peek_time(), reference.peek().map(|e| e.0.0));
                for _ in 0..r.next_u64() % 4 {
                    let got = q.pop().map(|e| (e.time, e.target, e.kind(), e.aux));
                    let want = reference.pop().map(|Reverse((t, s, k))| (t, s, k, !s));
                    assert_eq!(got, want, "seed {seed}");
                    if let Some((t, ..)) = want {
                        assert_eq!(q.now(), t);
                    }
                }
            }
            while let Some(Reverse((t, s, k))) = reference.pop() {
                let e = q.pop().expect("as many events as the reference");
                assert_eq!((e.time, e.target, e.kind(), e.aux), (t, s, k, !s));
            }
            assert!(q.is_empty() && q.pop().is_none() && q.peek_time().is_none());
            assert_eq!(q.scheduled(), u64::from(seq));
        }
    }

    #[test]
    fn counts_the_peak_and_the_scheduled() {
        let mut q = EventQueue::new();
        for d in [4, 0, 9, 0] {
            q.schedule(d, 0, 0, 0);
        }
        q.pop();
        q.pop();
        q.schedule(1, 0, 0, 0);
        assert_eq!((q.len(), q.peak_len(), q.scheduled()), (3, 4, 5));
        assert_eq!(q.peek_time(), Some(1));
    }

    #[test]
    fn delays_are_relative_to_the_clock() {
        let mut q = EventQueue::new();
        q.schedule(10, 0, 0, 0);
        q.pop();
        q.schedule(7, 1, 0, 42);
        assert_eq!(
            q.pop().map(|e| (e.time, e.kind(), e.aux)),
            Some((17, 1, 42))
        );
        assert_eq!(std::mem::size_of::<Event>(), 24);
    }
}
