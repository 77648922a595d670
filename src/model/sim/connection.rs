//! Connections (docs/model.md s3 connect): pools per (origin, destination) peer,
//! reuse of a ready connection with a free stream, staleness (idle timeout,
//! lifetime, certificate rotation), waiting at the pool's limit, opening a
//! new one (TCP round trip, then the handshake in `handshake.rs`), release.
//! A `per-request` connection is its call's own, in no pool (`OWN`).

use super::state::{Call, Conn, Handshake, NONE, OWN, Phase, Pool};
use super::{Probe, Simulation, label};
use crate::engine::rng::derive;
use crate::model::cost::Span;
use crate::model::design::{Connections, Reuse, Security};
use crate::model::timeline::HandshakeKind;
use crate::model::topology::ExternalTls;

impl<'t, P: Probe> Simulation<'t, P> {
    /// True if this call's hop is under TLS.
    pub(super) fn encrypted(&self, c: &Call) -> bool {
        if self.to_external(c) {
            return self.external_tls(c).is_some();
        }
        self.hop(c).is_some_and(|s| s != Security::Plaintext)
    }

    /// True if the call goes to a service outside the system.
    #[inline]
    pub(super) fn to_external(&self, c: &Call) -> bool {
        self.replicas[c.replica as usize].external
    }

    /// The TLS of a call to an external service (None: plaintext, or a
    /// service of the system).
    pub(super) fn external_tls(&self, c: &Call) -> Option<ExternalTls> {
        let service = self.topo.endpoints[c.endpoint as usize].service;
        self.topo.services[service as usize]
            .external
            .and_then(|e| e.tls)
    }

    /// How the connections of this call's pool are managed: the caller's
    /// design's, or for an external service its own (a keep-alive pool with
    /// as many connections as needed, or one per call).
    pub(super) fn connections(&self, c: &Call) -> Connections {
        let d = self.caller_design(c).connections;
        if !self.to_external(c) {
            return d;
        }
        let per_request = self.external_tls(c).is_some_and(|t| t.per_request);
        Connections {
            reuse: if per_request {
                Reuse::PerRequest
            } else {
                Reuse::Pool
            },
            max_per_destination: u32::MAX,
            max_concurrent_streams: 1,
            max_lifetime: None,
            tcp_fast_open: false,
            prewarm: d.prewarm && !per_request,
            ..d
        }
    }

    /// Takes a connection from the pool (origin, dest), opens one, or waits.
    pub(super) fn acquire(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let conns = self.connections(&c);
        if conns.reuse == Reuse::PerRequest {
            // Never reused nor waited for: no pool to look up.
            self.calls.get_mut(slot).pool = OWN;
            return self.open(slot);
        }
        let key = (c.origin, c.dest);
        let next = self.pools.len() as u32;
        let pool = *self.pool_index.entry(key).or_insert(next);
        if pool == next {
            let mut p = Pool::default();
            if conns.prewarm {
                p.conns.push(Conn {
                    alive: true,
                    ready: true,
                    streams: 0,
                    opened: 0,
                    idle_since: now,
                    origin_epoch: self.peers[c.origin as usize].epoch,
                    dest_epoch: self.peers[c.dest as usize].epoch,
                });
                p.alive = 1;
            }
            self.pools.push(p);
        }
        self.calls.get_mut(slot).pool = pool;
        let cap = if conns.reuse == Reuse::Pool {
            1
        } else {
            conns.max_concurrent_streams
        };
        let (oe, de) = (
            self.peers[c.origin as usize].epoch,
            self.peers[c.dest as usize].epoch,
        );
        // One-way TLS to an external service presents no certificate of ours.
        let rotation_closes =
            self.caller_design(&c).identity.rotation_closes_connections && !self.to_external(&c);
        // A replica that went down took its connections with it.
        let reset = self.reset_at(c.origin).max(self.reset_at(c.dest));
        let p = &mut self.pools[pool as usize];
        for i in 0..p.conns.len() {
            let k = p.conns[i];
            if !k.alive {
                continue;
            }
            let stale = (k.streams == 0 && now.saturating_sub(k.idle_since) >= conns.idle_timeout)
                || conns.max_lifetime.is_some_and(|l| now - k.opened >= l)
                || (rotation_closes && (k.origin_epoch != oe || k.dest_epoch != de))
                || k.opened < reset;
            if stale {
                if k.streams == 0 {
                    p.conns[i].alive = false;
                    p.alive -= 1;
                }
                continue;
            }
            if k.ready && k.streams < cap {
                p.conns[i].streams += 1;
                self.calls.get_mut(slot).conn = i as u32;
                return self.connected(slot, false);
            }
        }
        if p.alive >= conns.max_per_destination {
            p.waiting.push_back(slot);
            self.calls.get_mut(slot).phase = Phase::Connect;
            if let Some(k) = self.counters(slot) {
                k.connection_waits += 1;
            }
            return;
        }
        self.open(slot);
    }

    /// Opens a new connection for `slot` in its pool (or of its own).
    pub(super) fn open(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let index = if c.pool == OWN {
            NONE
        } else {
            let conn = Conn {
                alive: true,
                ready: false,
                streams: 1,
                opened: now,
                idle_since: now,
                origin_epoch: self.peers[c.origin as usize].epoch,
                dest_epoch: self.peers[c.dest as usize].epoch,
            };
            let p = &mut self.pools[c.pool as usize];
            p.alive += 1;
            let i = match p.conns.iter().position(|k| !k.alive) {
                Some(i) => {
                    p.conns[i] = conn;
                    i
                }
                None => {
                    p.conns.push(conn);
                    p.conns.len() - 1
                }
            };
            i as u32
        };
        let handshake = if self.encrypted(&c) {
            self.choose_handshake(slot)
        } else {
            Handshake::None
        };
        let call = self.calls.get_mut(slot);
        call.conn = index;
        call.handshake = handshake;
        if let Some(k) = self.counters(slot) {
            k.connections_opened += 1;
            match handshake {
                Handshake::None => {}
                Handshake::Full => k.handshakes_full += 1,
                Handshake::Resumed => k.handshakes_resumed += 1,
                Handshake::ZeroRtt => k.handshakes_zero_rtt += 1,
            }
        }
        if let Some(bucket) = self.series_bucket(now) {
            bucket.connections_opened += 1;
            bucket.handshakes_full += u64::from(handshake == Handshake::Full);
        }
        self.connected(slot, true);
    }

    /// The call holds a connection; `new` if it must be set up first.
    pub(super) fn connected(&mut self, slot: u32, new: bool) {
        let c = *self.calls.get(slot);
        if c.phase == Phase::Connect {
            self.span(slot, Span::Queueing);
        }
        if new && let Some(t) = self.probe.recorder().and_then(|r| r.call(slot)) {
            t.handshake = Some(match c.handshake {
                Handshake::None => HandshakeKind::None,
                Handshake::Full => HandshakeKind::Full,
                Handshake::Resumed => HandshakeKind::Resumed,
                Handshake::ZeroRtt => HandshakeKind::ZeroRtt,
            });
        }
        if new && !self.connections(&c).tcp_fast_open {
            let rtt = self.rtt(c.origin, c.dest, derive(c.key, label::HANDSHAKE));
            return self.wait(slot, Phase::TcpRtt, rtt);
        }
        self.origin_job(slot);
    }

    /// True if the call's connection is already usable, or it holds none
    /// (a connection of its own is new, so not yet usable).
    pub(super) fn usable(&self, c: &Call) -> bool {
        match c.pool {
            NONE => true,
            OWN => false,
            pool => self.pools[pool as usize].conns[c.conn as usize].ready,
        }
    }

    pub(super) fn mark_ready(&mut self, c: &Call) {
        if c.pool == OWN {
            return; // nobody waits for a connection of its own
        }
        self.pools[c.pool as usize].conns[c.conn as usize].ready = true;
        if self.connections(c).reuse == Reuse::Multiplex {
            self.serve_pool_waiters(c.pool);
        }
    }

    /// Gives the connection back: idle (reuse) or closed (per request).
    pub(super) fn release(&mut self, c: &Call) {
        if c.pool == NONE || c.pool == OWN {
            // A direct call holds no connection; one of its own just closes.
            return;
        }
        let now = self.queue.now();
        let p = &mut self.pools[c.pool as usize];
        let k = &mut p.conns[c.conn as usize];
        k.streams -= 1;
        if k.streams == 0 {
            k.idle_since = now;
        }
        self.serve_pool_waiters(c.pool);
    }

    /// Hands free capacity in a pool to waiting calls, in arrival order.
    pub(super) fn serve_pool_waiters(&mut self, pool: u32) {
        while let Some(&next) = self.pools[pool as usize].waiting.front() {
            // Every call waiting on a pool goes to the same destination.
            let conns = self.connections(self.calls.get(next));
            let p = &self.pools[pool as usize];
            let cap = if conns.reuse == Reuse::Multiplex {
                conns.max_concurrent_streams
            } else {
                1
            };
            let free = p
                .conns
                .iter()
                .any(|k| k.alive && k.ready && k.streams < cap);
            if !free && p.alive >= conns.max_per_destination {
                return;
            }
            self.pools[pool as usize].waiting.pop_front();
            self.acquire(next);
            if self.calls.get(next).phase == Phase::Connect {
                // Everything usable was stale; it queued again at the back.
                return;
            }
        }
    }
}
