//! TLS handshakes (docs/model.md s3 handshake): full, resumed or 0-RTT from the
//! ticket cache, the handshake CPU on both sides (client in the origin job,
//! server where TLS terminates, in the flights that bring it work: before
//! its first flight, then on the client's last flight, a job of its own in
//! TLS 1.2 and with the first request in TLS 1.3), the flights between
//! them, and the tickets
//! a finished handshake leaves. The origin job also carries the outbound
//! proxy's CPU, the bulk crypto and, for a user request, the client's own
//! CPU (`workload.client_cpu`).

use super::state::{Call, Handshake, NONE, Phase, sum};
use super::{Probe, Simulation, label};
use crate::engine::rng::{self, derive, unit_f64};
use crate::model::cost::{Cpu, CpuParts, span_of};
use crate::model::design::{Resumption, Security, TicketCache, TlsVersion};
use crate::model::dist::round;
use crate::units::Nanos;

impl<'t, P: Probe> Simulation<'t, P> {
    /// Full, resumed or 0-RTT, from the ticket cache.
    pub(super) fn choose_handshake(&mut self, slot: u32) -> Handshake {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let r = self.resumption(&c);
        if !r.enabled || self.to_external(&c) {
            return Handshake::Full;
        }
        let key = self.ticket_key(&c);
        let hit = match self.tickets.get(&key) {
            Some(&(expiry, issuer)) if expiry > now => {
                if let Some(k) = self.counters(slot) {
                    k.resumption_attempts += 1;
                }
                // A ticket only works at the server that can decrypt it.
                issuer == c.dest
            }
            _ => false,
        };
        if !hit {
            return Handshake::Full;
        }
        if let Some(k) = self.counters(slot) {
            k.resumption_hits += 1;
        }
        if r.early_data && self.callee_design(&c).transport.version == TlsVersion::V13 {
            Handshake::ZeroRtt
        } else {
            Handshake::Resumed
        }
    }

    /// Session resumption on this hop: offered by the caller's design (its
    /// ticket cache, early data) and accepted by the callee's (tickets on at
    /// both ends, early data at both, the callee's ticket lifetime).
    pub(super) fn resumption(&self, c: &Call) -> Resumption {
        let (a, b) = (
            self.caller_design(c).resumption,
            self.callee_design(c).resumption,
        );
        Resumption {
            enabled: a.enabled && b.enabled,
            ticket_ttl: b.ticket_ttl,
            early_data: a.early_data && b.early_data,
            cache: a.cache,
        }
    }

    pub(super) fn ticket_key(&self, c: &Call) -> (u32, u32) {
        match self.caller_design(c).resumption.cache {
            TicketCache::PerReplica => (c.origin, c.dest),
            TicketCache::PerService => (
                c.origin,
                NONE - 1 - self.topo.endpoints[c.endpoint as usize].service,
            ),
        }
    }

    /// Caller-side CPU: client handshake, outbound proxy, bulk crypto.
    pub(super) fn origin_job(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let mut parts = CpuParts::default();
        let hs = &self.callee_design(&c).transport.cpu;
        let external = self.external_tls(&c);
        parts[Cpu::Handshake as usize] = match c.handshake {
            Handshake::None => 0,
            Handshake::Full if let Some(t) = external => t.client_cpu,
            Handshake::Full => {
                hs.client_full - self.client_finish_cpu(&c)
                    + if self.hop(&c) == Some(Security::Mtls) {
                        hs.mtls_client
                    } else {
                        0
                    }
                    + if self.hello_retry(&c) {
                        hs.hello_retry
                    } else {
                        0
                    }
            }
            Handshake::Resumed | Handshake::ZeroRtt => hs.client_resumed,
        };
        let origin = self.peers[c.origin as usize];
        let mut off = CpuParts::default();
        if c.origin == self.client_peer {
            let w = &self.topo.workload;
            let mut rng = rng::call_rng(derive(c.key, label::CLIENT));
            let after = w.client_cpu_off_path.sample(&mut rng);
            parts[Cpu::Business as usize] = w.client_cpu.sample(&mut rng) + after;
            off[Cpu::Business as usize] = after;
        }
        let ep = &self.topo.endpoints[c.endpoint as usize];
        let bytes = ep.request_bytes + ep.response_bytes;
        if self.encrypted(&c) {
            parts[Cpu::Bulk as usize] = round(bytes as f64 * self.bulk_ns_per_byte(&c));
        }
        if origin.proxy {
            let (cpu, tail) = self.proxy_cpu(c.origin, c.key, bytes);
            parts[Cpu::Proxy as usize] = cpu;
            off[Cpu::Proxy as usize] = tail[Cpu::Proxy as usize];
        }
        if !origin.proxy
            && c.handshake == Handshake::None
            && origin.station != NONE
            && parts[Cpu::Business as usize] == 0
        {
            // Library TLS on an established connection: the calling thread
            // encrypts its request in microseconds as it sends. Queueing that
            // behind millisecond jobs (non-preemptive FCFS) would overstate
            // it, so the CPU is charged to the caller's cores without taking
            // a turn, and its time rides ahead of the transit (on a
            // fraction of a core, the longer time its slower server takes).
            let st = &mut self.stations[origin.station as usize];
            for d in &mut parts {
                *d = st.wall(*d);
            }
            let demand = sum(&parts);
            let now = self.queue.now();
            st.account(now, &parts);
            let cost = &mut self.costs[slot as usize];
            for (cat, &d) in parts.iter().enumerate() {
                cost.attr[span_of(cat) as usize] += d;
            }
            self.calls.get_mut(slot).mark = now.saturating_add(demand);
            if P::ON && self.probe.recorder().is_some() {
                self.note_job(
                    slot,
                    Phase::OriginJob,
                    now,
                    now.saturating_add(demand),
                    parts,
                );
            }
            return self.request(slot, demand);
        }
        self.job_with_tail(slot, origin.station, parts, off, Phase::OriginJob);
    }

    pub(super) fn hello_retry(&self, c: &Call) -> bool {
        let p = self.callee_design(c).transport.hello_retry;
        p > 0.0
            && !self.to_external(c)
            && unit_f64(&mut rng::call_rng(derive(c.key, label::HANDSHAKE + 1))) < p
    }

    /// Bulk encryption CPU per payload byte at each end of this call's hop.
    pub(super) fn bulk_ns_per_byte(&self, c: &Call) -> f64 {
        self.external_tls(c)
            .map_or(self.callee_design(c).transport.bulk_ns_per_byte, |t| {
                t.bulk_ns_per_byte
            })
    }

    /// Extra bytes on the client's and the server's first flights: the
    /// design's key shares, none to an external service (its own X25519).
    fn hello_bytes(&self, c: &Call) -> (u64, u64) {
        if self.to_external(c) {
            (0, 0)
        } else {
            let t = &self.callee_design(c).transport;
            (t.client_hello_bytes, t.server_hello_bytes)
        }
    }

    /// True if the hop's TLS is 1.2 (a second round trip on a full handshake).
    fn tls12(&self, c: &Call) -> bool {
        self.external_tls(c).map_or(
            self.callee_design(c).transport.version == TlsVersion::V12,
            |t| t.v12,
        )
    }

    /// The handshake is complete: the connection is ready, a fresh ticket is
    /// cached, and calls waiting on this pool may use it.
    pub(super) fn handshake_done(&mut self, slot: u32) {
        let now = self.queue.now();
        let c = *self.calls.get(slot);
        let r = self.resumption(&c);
        if r.enabled && !self.to_external(&c) {
            let key = self.ticket_key(&c);
            self.tickets
                .insert(key, (now.saturating_add(r.ticket_ttl), c.dest));
        }
        self.mark_ready(&c);
        self.request(slot, 0);
    }

    /// The ClientHello arrived: the server's handshake CPU up to its first
    /// flight, where TLS terminates (a resumed or 0-RTT handshake costs
    /// `server_resumed`). A full handshake's part on the client's last
    /// flight (`server_finish`, and the client chain's check under mTLS)
    /// comes later: [`Self::server_finish`] in TLS 1.2, with the first
    /// request's job in TLS 1.3 ([`Self::finish_with_request`]).
    pub(super) fn server_handshake(&mut self, slot: u32, c: &Call) {
        let hs = &self.callee_design(c).transport.cpu;
        let mut parts = CpuParts::default();
        parts[Cpu::Handshake as usize] = match c.handshake {
            // The far end's handshake: the station is none of ours, so a delay.
            Handshake::Full if let Some(t) = self.external_tls(c) => t.server_cpu,
            Handshake::Full => {
                hs.server_full - hs.server_finish
                    + if self.hello_retry(c) {
                        hs.hello_retry
                    } else {
                        0
                    }
            }
            _ => hs.server_resumed,
        };
        let station = self.peers[c.dest as usize].station;
        self.job(slot, station, parts, Phase::ServerHandshake);
    }

    /// The server's CPU on the client's last flight of a full handshake:
    /// the rest of `server_full` and, under mTLS, the check of the client's
    /// chain, which that flight carries.
    fn finish_cpu(&self, c: &Call) -> u64 {
        let hs = &self.callee_design(c).transport.cpu;
        hs.server_finish
            + if self.hop(c) == Some(Security::Mtls) {
                hs.mtls_server
            } else {
                0
            }
    }

    /// True for a full handshake with a service of the system (an external
    /// service's server CPU is a delay, charged in one piece).
    fn finish_ours(&self, c: &Call) -> bool {
        c.handshake == Handshake::Full && !self.to_external(c)
    }

    /// True if the server's part on the client's last flight is a job of
    /// its own: TLS 1.2, whose client sends its key exchange a round trip
    /// before its request.
    fn finish_apart(&self, c: &Call) -> bool {
        self.finish_ours(c) && self.tls12(c)
    }

    /// The first request on a connection whose full TLS 1.3 handshake just
    /// finished carries the client's last flight: the server's part on it
    /// joins that request's first job where TLS terminates (CPU `parts`).
    pub(super) fn finish_with_request(&self, c: &Call, parts: &mut CpuParts) {
        if self.finish_ours(c) && !self.tls12(c) {
            parts[Cpu::Handshake as usize] += self.finish_cpu(c);
        }
    }

    /// TLS 1.2 full: the client's key exchange arrived; the server's CPU on it.
    pub(super) fn server_finish(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let mut parts = CpuParts::default();
        parts[Cpu::Handshake as usize] = self.finish_cpu(&c);
        let station = self.peers[c.dest as usize].station;
        self.job(slot, station, parts, Phase::ServerFinish);
    }

    /// TLS 1.2 full: the server's last flight back (the second half of the
    /// key exchange's round trip).
    pub(super) fn server_finished_flight(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        self.wait(slot, Phase::HandshakeBack, self.finished_flight(&c));
    }

    /// TLS 1.2 full: the server's last flight reached the client, whose
    /// part on it (`client_finish`) is a job where the call started, a turn
    /// that waits for the caller's cores; then the handshake is done.
    pub(super) fn server_finished_arrived(&mut self, slot: u32) {
        let c = *self.calls.get(slot);
        let cpu = self.client_finish_cpu(&c);
        if cpu == 0 {
            return self.handshake_done(slot);
        }
        let mut parts = CpuParts::default();
        parts[Cpu::Handshake as usize] = cpu;
        let station = self.peers[c.origin as usize].station;
        self.job(slot, station, parts, Phase::ClientFinish);
    }

    /// The client's CPU on the server's last flight of this call's
    /// handshake, in a turn of its own: TLS 1.2 full with a service of the
    /// system (an external service's handshake is charged in one piece).
    fn client_finish_cpu(&self, c: &Call) -> Nanos {
        if self.finish_apart(c) {
            self.callee_design(c).transport.cpu.client_finish
        } else {
            0
        }
    }

    /// TLS 1.2 full: the time of the server's last flight back.
    pub(super) fn finished_flight(&self, c: &Call) -> Nanos {
        let r = self.key_exchange_rtt(c);
        r - r / 2
    }

    /// The origin job is done: the ClientHello's flight, or straight to the
    /// request when no flights are needed (no TLS, 0-RTT).
    pub(super) fn client_hello(&mut self, slot: u32, c: &Call) {
        match c.handshake {
            Handshake::Full | Handshake::Resumed => {
                self.wait(slot, Phase::HandshakeOut, self.hello_flight(c));
            }
            _ => self.request(slot, 0),
        }
    }

    /// The time of the ClientHello's flight.
    pub(super) fn hello_flight(&self, c: &Call) -> Nanos {
        let (bytes, _) = self.hello_bytes(c);
        self.one_way(c.origin, c.dest, bytes, derive(c.key, label::HANDSHAKE + 2))
    }

    /// The server's first handshake CPU is done: its flight back to the
    /// client. TLS 1.2 full takes a second round trip, split by the server's
    /// CPU on the client's key exchange; a HelloRetryRequest one more.
    pub(super) fn server_flight(&mut self, slot: u32, c: &Call) {
        let (phase, d) = self.server_flight_wait(c);
        self.wait(slot, phase, d);
    }

    /// [`Self::server_flight`]'s wait: its phase and time.
    pub(super) fn server_flight_wait(&self, c: &Call) -> (Phase, Nanos) {
        let full = c.handshake == Handshake::Full;
        let tls12 = full && self.tls12(c);
        let (_, bytes) = self.hello_bytes(c);
        let mut d = self.one_way(c.dest, c.origin, bytes, derive(c.key, label::HANDSHAKE + 3));
        if full && self.hello_retry(c) {
            let key = derive(c.key, label::HANDSHAKE + 4 + u64::from(tls12));
            d += self.rtt(c.origin, c.dest, key);
        }
        let apart = self.finish_apart(c);
        if tls12 {
            // Apart, only the key exchange's way out comes before the
            // server's CPU on it.
            let r = self.key_exchange_rtt(c);
            d += if apart { r / 2 } else { r };
        }
        let phase = if apart {
            Phase::HandshakeKeyExchange
        } else {
            Phase::HandshakeBack
        };
        (phase, d)
    }

    /// TLS 1.2 full: the round trip of the client's key exchange (the same
    /// draw whichever part of it is asked for).
    fn key_exchange_rtt(&self, c: &Call) -> Nanos {
        self.rtt(c.origin, c.dest, derive(c.key, label::HANDSHAKE + 4))
    }

    /// A new connection without handshake flights (no TLS, or 0-RTT) is
    /// usable as the request leaves; a 0-RTT handshake caches a fresh ticket.
    #[inline]
    pub(super) fn usable_without_flights(&mut self, c: &Call) {
        if c.pool != NONE && (c.handshake == Handshake::None || c.handshake == Handshake::ZeroRtt) {
            // No handshake flights: the connection is usable now.
            if !self.usable(c) {
                let r = self.resumption(c);
                if r.enabled && c.handshake == Handshake::ZeroRtt {
                    let key = self.ticket_key(c);
                    let expiry = self.queue.now().saturating_add(r.ticket_ttl);
                    self.tickets.insert(key, (expiry, c.dest));
                }
                self.mark_ready(c);
            }
        }
    }
}
