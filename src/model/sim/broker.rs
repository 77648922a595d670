//! Message queues (`[queues.NAME]`, docs/topology.md "Message queues"). A
//! publish is an ordinary call to the queue's broker endpoint (its hop,
//! security and CPU on the broker's cores); once the broker's job is done
//! the message goes to every consumer group: delivered at once if fewer
//! than `concurrency` of the group's messages are being consumed, else
//! queued in the group's FIFO if it holds fewer than `capacity`, else the
//! queue is full. Full, a `drop` queue loses the message for that group
//! (counted); a `block` queue holds the publish, unanswered and in arrival
//! order, until every group has room: the producer's wait is queueing in
//! its request's attribution.
//!
//! A delivery is an asynchronous call from the broker's replica to the
//! consumer (`asynch.rs`): its own latency and figures, never the
//! producer's. The group's slot is held until the delivery's final
//! outcome, then goes to the next message waiting. Waiting messages of
//! measured publishes are measured and drained as asynchronous calls are;
//! they are not counted as calls in flight, the queue being bounded.

use std::collections::VecDeque;

use super::state::{Call, Kind, NONE, Phase};
use super::{Probe, Simulation, label};
use crate::engine::rng::derive;
use crate::model::cost::Span;
use crate::model::metrics::QueueMetrics;
use crate::model::topology::{OnFull, Topology};
use crate::units::Nanos;

/// The queues of a run.
#[derive(Debug, Default)]
pub(super) struct Brokers {
    /// Per call site, its consumer group as (queue, group), or (NONE, 0)
    /// unless it is a delivery site; empty without queues.
    group_of_site: Vec<(u32, u32)>,
    /// Per queue, its groups' states.
    groups: Vec<Vec<Group>>,
    /// Per queue, the publishes held (call slots), in arrival order.
    blocked: Vec<VecDeque<u32>>,
}

/// One consumer group's queue.
#[derive(Debug, Default)]
struct Group {
    /// Messages being consumed.
    busy: u32,
    waiting: VecDeque<Message>,
}

/// A message waiting for a consumer.
#[derive(Debug, Clone, Copy)]
struct Message {
    /// Its delivery call's key (as `spawn` would derive it).
    key: u64,
    measured: bool,
    /// The broker replica that took it.
    replica: u32,
    /// When it was queued.
    at: Nanos,
}

impl Brokers {
    /// The queues of `topo`, empty, and their empty metrics.
    pub(super) fn new(topo: &Topology) -> (Self, Vec<QueueMetrics>) {
        let mut b = Brokers::default();
        if topo.queues.is_empty() {
            return (b, Vec::new());
        }
        b.group_of_site = vec![(NONE, 0); topo.calls.len()];
        let mut metrics = Vec::new();
        for (q, queue) in topo.queues.iter().enumerate() {
            for (i, g) in queue.groups.iter().enumerate() {
                b.group_of_site[g.site as usize] = (q as u32, i as u32);
            }
            b.groups
                .push(queue.groups.iter().map(|_| Group::default()).collect());
            b.blocked.push(VecDeque::new());
            metrics.push(QueueMetrics::new(queue.groups.len()));
        }
        (b, metrics)
    }
}

impl<'t, P: Probe> Simulation<'t, P> {
    /// The call in `slot`, at the broker of queue `q`, has done its CPU: it
    /// publishes and answers, or waits for room (`block`). A failed call
    /// (its own error) publishes nothing.
    pub(super) fn publish(&mut self, slot: u32, q: u32) {
        let c = *self.calls.get(slot);
        if c.failed {
            return self.respond(slot);
        }
        let held = !self.brokers.blocked[q as usize].is_empty() || !self.room(q);
        if held && self.topo.queues[q as usize].on_full == OnFull::Block {
            self.brokers.blocked[q as usize].push_back(slot);
            self.calls.get_mut(slot).phase = Phase::QueueBlocked;
            return;
        }
        self.enqueue(q, &c);
        self.respond(slot);
    }

    /// Whether every group of `q` can take a message now.
    fn room(&self, q: u32) -> bool {
        let queue = &self.topo.queues[q as usize];
        queue
            .groups
            .iter()
            .zip(&self.brokers.groups[q as usize])
            .all(|(g, s)| s.busy < g.concurrency || (s.waiting.len() as u32) < queue.capacity)
    }

    /// Publish `c`'s message goes to every group of `q`: delivered, queued
    /// or dropped.
    fn enqueue(&mut self, q: u32, c: &Call) {
        let now = self.queue.now();
        if c.measured {
            self.metrics.queues[q as usize].published += 1;
        }
        let queue = &self.topo.queues[q as usize];
        for (i, g) in queue.groups.iter().enumerate() {
            let site_key = derive(c.key, u64::from(g.site));
            let m = Message {
                key: derive(site_key, derive(label::REPEAT, 0)),
                measured: c.measured,
                replica: c.replica,
                at: now,
            };
            let state = &mut self.brokers.groups[q as usize][i];
            if state.busy < g.concurrency {
                state.busy += 1;
                self.deliver(q, i as u32, m);
            } else if (state.waiting.len() as u32) < queue.capacity {
                state.waiting.push_back(m);
                // The run drains it like the request's other work.
                self.measured_outstanding += u64::from(m.measured);
            } else if m.measured {
                self.metrics.queues[q as usize].groups[i].dropped += 1;
            }
        }
    }

    /// Message `m` goes to a consumer of group `i` of `q`.
    fn deliver(&mut self, q: u32, i: u32, m: Message) {
        let now = self.queue.now();
        if m.measured {
            self.metrics.queues[q as usize].groups[i as usize]
                .queued
                .record(now - m.at);
        }
        let g = self.topo.queues[q as usize].groups[i as usize];
        self.async_started(m.measured, 1);
        let call = Call::new(
            m.key,
            Kind::Child,
            NONE,
            g.site,
            g.endpoint,
            m.replica,
            now,
            m.measured,
        );
        let slot = self.insert(call);
        self.send(slot);
    }

    /// An asynchronous call of site `spec` has its final outcome: if it
    /// delivered a message, its group's slot goes to the next message
    /// waiting, and the publishes held may go on.
    pub(super) fn consumed(&mut self, spec: u32) {
        let Some(&(q, i)) = self.brokers.group_of_site.get(spec as usize) else {
            return;
        };
        if q == NONE {
            return;
        }
        let state = &mut self.brokers.groups[q as usize][i as usize];
        match state.waiting.pop_front() {
            Some(m) => {
                self.measured_outstanding -= u64::from(m.measured);
                self.deliver(q, i, m);
            }
            None => state.busy -= 1,
        }
        self.unblock(q);
    }

    /// The publishes held at `q` go on, in order, while every group has
    /// room; one failed meanwhile (its replica crashed) just answers.
    fn unblock(&mut self, q: u32) {
        while let Some(&slot) = self.brokers.blocked[q as usize].front() {
            let c = *self.calls.get(slot);
            if !c.failed && !self.room(q) {
                return;
            }
            self.brokers.blocked[q as usize].pop_front();
            if !c.failed {
                if c.measured {
                    let m = &mut self.metrics.queues[q as usize];
                    m.blocked += 1;
                    m.blocked_sum += self.queue.now() - c.mark;
                }
                self.span(slot, Span::Queueing);
                self.enqueue(q, &c);
            }
            self.respond(slot);
        }
    }
}
