//! The load generator: open-loop Poisson arrivals from a seed, each sent at
//! its intended time, its latency measured from that intended time, so a
//! late send or a queue in front of the server is counted (no coordinated
//! omission). It never sleeps: it has its core to itself and polls without
//! blocking, so neither a send nor a response waits for the core to wake
//! (tens to hundreds of microseconds on a virtual machine, which would
//! otherwise be measured as latency at light load and vanish under load).
//! The time it spends working (sending, reading, handshaking) is summed as
//! its CPU. And the closed-loop probes run before a design.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, Connection, HandshakeKind};

use super::link::{Inbound, Link, frame};
use super::pauses::PAUSE_THRESHOLD_NS;
use super::server::{Server, Wake, between, recorded};
use super::{interrupts_ns, pin_current as pin, steal_ns, thread_cpu_ns};
use crate::tls::SERVER_NAME;
use crate::{LabError, fail};

/// How the client holds connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// A new connection per request, closed after its response.
    PerRequest,
    /// HTTP/1.1-like keep-alive: one request at a time per connection; a
    /// request takes an idle connection, or opens one while fewer than `max`
    /// are open, or waits (FIFO) for one to come free. The pool starts with
    /// one established connection and never shrinks during a phase.
    KeepAlive { max: usize },
}

/// What the load generator sends, where and how.
pub struct Load {
    pub addr: SocketAddr,
    /// TLS, or plaintext when None.
    pub tls: Option<Arc<ClientConfig>>,
    pub pool: Pool,
    /// The request body (the same for every request but its input index).
    pub body: Vec<u8>,
    /// A request unanswered this long is given up (counted failed, recorded
    /// at the timeout) and its connection closed.
    pub timeout: Duration,
    pub core: usize,
}

/// One offered rate.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub rate: f64,
    /// Run first, not measured.
    pub warmup: Duration,
    /// Requests whose intended send time falls in this window are measured.
    pub duration: Duration,
    pub seed: u64,
}

/// What one phase measured.
#[derive(Debug, Clone, Default)]
pub struct PhaseResult {
    /// Latency of every measured request (ns from its intended send time);
    /// a failed one is recorded at the timeout.
    pub latencies_ns: Vec<u64>,
    /// Measured requests that failed (timed out or broken).
    pub failed: usize,
    /// Responses completed within the window (any send time).
    pub completed_in_window: usize,
    /// The server thread's CPU over the window, ns.
    pub server_cpu_ns: u64,
    /// The load generator's working time over the window (its loop's turns
    /// that sent, read or gave up on something), ns: its CPU, as it never
    /// sleeps and is alone on its core.
    pub client_busy_ns: u64,
    /// The part of `client_busy_ns` spent after a response was recorded
    /// (closing a per-request connection): off every request's path.
    pub client_after_ns: u64,
    /// The server's time on connections after their response, over the
    /// window (its `after_ns`), ns.
    pub server_after_ns: u64,
    /// The server's time the requests waited for, over the window (its
    /// `on_path_ns`), ns.
    pub server_on_path_ns: u64,
    /// Time the hypervisor took from the server's and the load generator's
    /// cores over the window (their `steal` in `/proc/stat`), ns.
    pub steal_ns: u64,
    /// Time the server's core spent in interrupts over the window (its
    /// `irq` and `softirq` in `/proc/stat`), ns.
    pub server_interrupts_ns: u64,
    /// The window's wall-clock length, ns.
    pub window_ns: u64,
    pub handshakes_full: usize,
    pub handshakes_resumed: usize,
    pub connections_opened: usize,
    /// Latest any request was sent after its intended time, ns.
    pub worst_send_lag_ns: u64,
    /// Longest a `connect` call held the load generator, ns (the kernel
    /// looking for a free port: [`SOURCES`]).
    pub slowest_connect_ns: u64,
    /// How late each measured request was sent after its intended time
    /// (the load generator busy or its core stalled), ns.
    pub send_lags_ns: Vec<u64>,
    /// The load generator's time over the window outside its working turns,
    /// ns.
    pub client_idle_ns: u64,
    /// The idle turns that took [`PAUSE_THRESHOLD_NS`] or more, ns: its
    /// core's pauses during the window (a pause that falls in a working
    /// turn is not told apart from the work, so their rate is over the
    /// idle time).
    pub client_pauses_ns: Vec<u64>,
    /// The server's turns over the window, their wall-clock time in all, ns.
    pub server_turns_ns: u64,
    /// The pauses of the server's core seen in those turns, ns each.
    pub server_pauses_ns: Vec<u64>,
    /// The server's waits over the window that a send of the load generator
    /// ended ([`Wake`]).
    pub server_wakes: Vec<Wake>,
}

/// Most pauses a phase keeps (its memory bounded whatever the machine).
const MAX_PAUSES: usize = 100_000;

/// Most arrivals a phase may hold (rate x length), a bound on its memory.
pub const MAX_ARRIVALS: f64 = 5_000_000.0;

/// SplitMix64: the arrivals' generator, from the phase's seed.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// Intended send times (ns from the phase start) of a Poisson process.
fn arrivals(p: &Phase) -> Vec<u64> {
    let end = (p.warmup + p.duration).as_nanos() as f64;
    let mut rng = Rng(p.seed);
    let mut t = 0.0;
    let mut out = Vec::with_capacity((p.rate * end / 1e9 * 1.1) as usize + 16);
    loop {
        t += -rng.next_f64().ln() / p.rate * 1e9;
        if t >= end {
            return out;
        }
        out.push(t as u64);
    }
}

struct Request {
    intended: u64,
    done: bool,
}

struct ClientConn {
    link: Link,
    /// The request it carries, if any.
    request: Option<usize>,
    counted: bool,
}

/// The state of one phase's event loop.
struct Driver<'a> {
    load: &'a Load,
    server: &'a Server,
    poll: mio::Poll,
    conns: HashMap<mio::Token, ClientConn>,
    idle: Vec<mio::Token>,
    waiting: VecDeque<usize>,
    next_token: usize,
    requests: Vec<Request>,
    result: PhaseResult,
    start: Instant,
    window: (u64, u64),
}

/// Runs one phase on a thread pinned to `load.core`; the server's CPU is read
/// from its `task` folder, and its time after responses from its counter,
/// at the window's edges. Returns early (with what was
/// measured) when `stop` is set.
pub fn run_phase(
    load: &Load,
    phase: &Phase,
    server: &Server,
    stop: &AtomicBool,
) -> Result<PhaseResult, LabError> {
    if !(phase.rate > 0.0 && phase.rate.is_finite()) {
        return Err(LabError(format!("rate {} is not positive", phase.rate)));
    }
    if phase.rate * (phase.warmup + phase.duration).as_secs_f64() > MAX_ARRIVALS {
        return Err(LabError(format!(
            "{} rps for {:?} is more than {MAX_ARRIVALS} requests",
            phase.rate,
            phase.warmup + phase.duration
        )));
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(load.core)?;
            drive(load, phase, server, stop)
        })
        .join()
        .map_err(|_| LabError("the load generator panicked".into()))?
    })
}

fn drive(
    load: &Load,
    phase: &Phase,
    server: &Server,
    stop: &AtomicBool,
) -> Result<PhaseResult, LabError> {
    let times = arrivals(phase);
    let warm = phase.warmup.as_nanos() as u64;
    let mut d = Driver {
        load,
        server,
        poll: mio::Poll::new().map_err(|e| fail("poll", e))?,
        conns: HashMap::new(),
        idle: Vec::new(),
        waiting: VecDeque::new(),
        next_token: 0,
        requests: Vec::with_capacity(times.len()),
        result: PhaseResult::default(),
        start: Instant::now(),
        window: (warm, warm + phase.duration.as_nanos() as u64),
    };
    if let Pool::KeepAlive { .. } = load.pool {
        d.prewarm()?;
    }
    let timeout = load.timeout.as_nanos() as u64;
    let mut events = mio::Events::with_capacity(1024);
    let mut in_flight: VecDeque<usize> = VecDeque::new();
    let mut next = 0;
    let (mut at_start, mut at_end) = (None, None);
    d.start = Instant::now();
    let mut last_end = 0;
    // Bounded in time: the last arrival plus the timeout plus a second.
    let hard_end = d.window.1 + timeout + 1_000_000_000;
    // The clocks and the server's records at the window's ends.
    let mark = |at: u64| -> Result<WindowMark, LabError> {
        Ok(WindowMark {
            at,
            cpu: thread_cpu_ns(&server.task)?,
            after: server.after_ns.load(Ordering::Relaxed),
            on_path: server.on_path_ns.load(Ordering::Relaxed),
            steal: steal_ns(server.core)? + steal_ns(load.core)?,
            interrupts: interrupts_ns(server.core)?,
            turns: server.turns_ns.load(Ordering::Relaxed),
            pauses: recorded(&server.pauses_ns),
            wakes: recorded(&server.wakes),
        })
    };
    loop {
        let now = d.now();
        let mut worked = false;
        if at_start.is_none() && now >= d.window.0 {
            at_start = Some(mark(now)?);
        }
        // Before the hard end's check: a turn that ran past both (a
        // collapsed server's backlog) still closes the window.
        if at_end.is_none() && now >= d.window.1 {
            at_end = Some(mark(now)?);
        }
        if stop.load(Ordering::Relaxed) || now > hard_end {
            break;
        }
        while next < times.len() && times[next] <= now {
            let lag = now - times[next];
            d.result.worst_send_lag_ns = d.result.worst_send_lag_ns.max(lag);
            if (d.window.0..d.window.1).contains(&times[next]) {
                d.result.send_lags_ns.push(lag);
            }
            d.requests.push(Request {
                intended: times[next],
                done: false,
            });
            in_flight.push_back(next);
            d.dispatch(next)?;
            next += 1;
            worked = true;
        }
        // Give up on requests past the timeout (the oldest first).
        while let Some(&r) = in_flight.front() {
            if d.requests[r].done {
                in_flight.pop_front();
            } else if now >= d.requests[r].intended + timeout {
                in_flight.pop_front();
                d.give_up(r);
                worked = true;
            } else {
                break;
            }
        }
        if next == times.len() && in_flight.is_empty() && at_end.is_some() {
            break;
        }
        match d.poll.poll(&mut events, Some(Duration::ZERO)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail("poll", e)),
        }
        for ev in &events {
            d.ready(ev.token());
            worked = true;
        }
        let end = d.now();
        if (d.window.0..d.window.1).contains(&now) {
            if worked {
                d.result.client_busy_ns += end - now;
            } else if end - last_end >= PAUSE_THRESHOLD_NS
                && d.result.client_pauses_ns.len() < MAX_PAUSES
            {
                // An idle turn, from the last one's end (a pause may fall
                // between two turns as well as in one).
                d.result.client_pauses_ns.push(end - last_end);
            }
        }
        last_end = end;
    }
    if let (Some(a), Some(b)) = (at_start, at_end) {
        d.result.server_cpu_ns = b.cpu.saturating_sub(a.cpu);
        d.result.server_after_ns = b.after.saturating_sub(a.after);
        d.result.server_on_path_ns = b.on_path.saturating_sub(a.on_path);
        d.result.steal_ns = b.steal.saturating_sub(a.steal);
        d.result.server_interrupts_ns = b.interrupts.saturating_sub(a.interrupts);
        d.result.window_ns = b.at - a.at;
        d.result.client_idle_ns = d.result.window_ns.saturating_sub(d.result.client_busy_ns);
        d.result.server_turns_ns = b.turns.saturating_sub(a.turns);
        d.result.server_pauses_ns = between(&server.pauses_ns, a.pauses, b.pauses);
        d.result.server_wakes = between(&server.wakes, a.wakes, b.wakes);
    }
    for (_, mut c) in d.conns.drain() {
        let _ = d.poll.registry().deregister(&mut c.link.sock);
    }
    Ok(d.result)
}

/// What the load generator reads at each end of the window: the time, the
/// server thread's CPU and time on and off the requests' path, both cores'
/// steal, the server core's interrupts, the server's turn time, and how
/// many pauses and waits it had recorded.
struct WindowMark {
    at: u64,
    cpu: u64,
    after: u64,
    on_path: u64,
    steal: u64,
    interrupts: u64,
    turns: u64,
    pauses: usize,
    wakes: usize,
}

/// Loopback source addresses the load generator's connections take in
/// turn (127.0.1.1 to 127.0.1.64). A closed connection holds its port for
/// TCP's TIME_WAIT (60 s on Linux), and from one source address to the
/// server's port the kernel has about 28,000 ports: a full run's
/// per-request designs, one after another, fill them, and then `connect`
/// can scan for a port while the load generator's loop waits (on loopback
/// with 30,000 ports in TIME_WAIT, one batch of connects in seven had a
/// p99 of 3.4 ms against 7-80 us), sending requests late. Each source
/// address has ports of its own.
const SOURCES: usize = 64;

/// The source address of the `n`th connection.
fn source_address(n: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(127, 0, 1, 1 + (n % SOURCES) as u8)
}

/// A non-blocking TCP connect from `source` (any free port) to `addr`, in
/// progress when it returns. Where the loopback interface holds 127.0.0.1
/// alone (Linux routes all of 127.0.0.0/8 to it by default), the kernel
/// chooses the source as a plain connect does.
fn connect_from(
    source: std::net::Ipv4Addr,
    addr: SocketAddr,
) -> std::io::Result<std::net::TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    match sock.bind(&SocketAddr::from((source, 0)).into()) {
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => {}
        bound => bound?,
    }
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(sock.into())
}

impl Driver<'_> {
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Opens a connection (TCP connect started, TLS client created).
    fn open(&mut self) -> Result<mio::Token, LabError> {
        self.server.note_send();
        let source = source_address(self.result.connections_opened);
        let connecting = Instant::now();
        let sock = connect_from(source, self.load.addr).map_err(|e| fail("connect", e))?;
        let took = connecting.elapsed().as_nanos() as u64;
        self.result.slowest_connect_ns = self.result.slowest_connect_ns.max(took);
        let mut sock = TcpStream::from_std(sock);
        let _ = sock.set_nodelay(true);
        let token = mio::Token(self.next_token);
        self.next_token += 1;
        self.poll
            .registry()
            .register(
                &mut sock,
                token,
                mio::Interest::READABLE | mio::Interest::WRITABLE,
            )
            .map_err(|e| fail("poll register", e))?;
        let tls = match &self.load.tls {
            Some(cfg) => {
                let name = ServerName::try_from(SERVER_NAME).map_err(|e| fail("server name", e))?;
                Some(Connection::Client(
                    ClientConnection::new(cfg.clone(), name)
                        .map_err(|e| fail("client connection", e))?,
                ))
            }
            None => None,
        };
        self.conns.insert(
            token,
            ClientConn {
                link: Link::new(sock, tls),
                request: None,
                counted: self.load.tls.is_none(),
            },
        );
        self.result.connections_opened += 1;
        Ok(token)
    }

    /// Sends request `r` on connection `token`.
    fn assign(&mut self, r: usize, token: mio::Token) {
        let mut body = self.load.body.clone();
        // The input index the server's policy decides (after the token).
        if let Some(at) = body.len().checked_sub(4) {
            body[at..].copy_from_slice(&(r as u32).to_le_bytes());
        }
        let msg = frame(&body);
        if let Some(c) = self.conns.get_mut(&token) {
            c.request = Some(r);
            c.link.send(&msg);
            self.server.note_send();
            if !c.link.flush() {
                self.close(token);
            }
        }
    }

    fn dispatch(&mut self, r: usize) -> Result<(), LabError> {
        match self.load.pool {
            Pool::PerRequest => {
                let t = self.open()?;
                self.assign(r, t);
            }
            Pool::KeepAlive { max } => {
                if let Some(t) = self.idle.pop() {
                    self.assign(r, t);
                } else if self.conns.len() < max {
                    let t = self.open()?;
                    self.assign(r, t);
                } else {
                    self.waiting.push_back(r);
                }
            }
        }
        Ok(())
    }

    fn close(&mut self, token: mio::Token) {
        if let Some(mut c) = self.conns.remove(&token) {
            let _ = self.poll.registry().deregister(&mut c.link.sock);
            if let Some(r) = c.request {
                self.fail(r);
            }
        }
        self.idle.retain(|t| *t != token);
    }

    fn fail(&mut self, r: usize) {
        let req = &mut self.requests[r];
        if req.done {
            return;
        }
        req.done = true;
        if (self.window.0..self.window.1).contains(&req.intended) {
            self.result.failed += 1;
            self.result
                .latencies_ns
                .push(self.load.timeout.as_nanos() as u64);
        }
    }

    fn give_up(&mut self, r: usize) {
        let holder = self
            .conns
            .iter()
            .find(|(_, c)| c.request == Some(r))
            .map(|(t, _)| *t);
        match holder {
            Some(t) => self.close(t),
            None => {
                self.waiting.retain(|w| *w != r);
                self.fail(r);
            }
        }
    }

    /// A connection is ready: read, complete its request, send what is due.
    fn ready(&mut self, token: mio::Token) {
        let now = self.now();
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let open = c.link.recv() == Inbound::Open;
        if !c.counted && !c.link.handshaking() {
            c.counted = true;
            if let Some(Connection::Client(tls)) = &c.link.tls {
                match tls.handshake_kind() {
                    Some(HandshakeKind::Resumed) => self.result.handshakes_resumed += 1,
                    _ => self.result.handshakes_full += 1,
                }
            }
        }
        let frame = c.link.take_frame();
        if c.link.pending() {
            self.server.note_send();
        }
        let flushed = c.link.flush();
        match frame {
            Ok(Some(_)) => {
                if let Some(r) = c.request.take() {
                    self.complete(r, now);
                }
                if (self.window.0..self.window.1).contains(&now) {
                    self.result.completed_in_window += 1;
                }
                match self.load.pool {
                    Pool::PerRequest => {
                        let closing = Instant::now();
                        self.close(token);
                        if (self.window.0..self.window.1).contains(&now) {
                            self.result.client_after_ns += closing.elapsed().as_nanos() as u64;
                        }
                    }
                    Pool::KeepAlive { .. } if open && flushed => match self.waiting.pop_front() {
                        Some(r) => self.assign(r, token),
                        None => self.idle.push(token),
                    },
                    Pool::KeepAlive { .. } => self.close(token),
                }
            }
            Ok(None) if open && flushed => {}
            _ => self.close(token),
        }
    }

    fn complete(&mut self, r: usize, now: u64) {
        let req = &mut self.requests[r];
        if req.done {
            return;
        }
        req.done = true;
        if (self.window.0..self.window.1).contains(&req.intended) {
            self.result.latencies_ns.push(now - req.intended);
        }
    }

    /// Opens the pool's first connection and completes one request on it
    /// (handshake included) before the phase's clock starts.
    fn prewarm(&mut self) -> Result<(), LabError> {
        self.requests.push(Request {
            intended: 0,
            done: false,
        });
        let t = self.open()?;
        self.assign(0, t);
        let mut events = mio::Events::with_capacity(64);
        let start = Instant::now();
        while self.conns.get(&t).is_some_and(|c| c.request.is_some()) {
            if start.elapsed() > Duration::from_secs(5) {
                return Err(LabError("the first connection got no answer in 5 s".into()));
            }
            self.poll
                .poll(&mut events, Some(Duration::from_millis(10)))
                .map_err(|e| fail("poll", e))?;
            for ev in &events {
                self.ready(ev.token());
            }
        }
        if !self.idle.contains(&t) {
            return Err(LabError("the first connection was closed".into()));
        }
        self.requests.clear();
        self.result = PhaseResult {
            connections_opened: 1,
            ..PhaseResult::default()
        };
        Ok(())
    }
}

/// Moves `len` bytes with `io` (a non-blocking read or write from an
/// offset), spinning while the socket would block, for at most 5 s from
/// `since`.
fn spin_io(
    len: usize,
    since: Instant,
    mut io: impl FnMut(usize) -> std::io::Result<usize>,
    what: &str,
) -> Result<(), LabError> {
    let mut at = 0;
    while at < len {
        match io(at) {
            Ok(0) => {
                return Err(LabError(format!(
                    "{what}: the server closed the connection"
                )));
            }
            Ok(k) => at += k,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if since.elapsed() > Duration::from_secs(5) {
                    return Err(LabError(format!("{what}: no progress in 5 s")));
                }
                std::hint::spin_loop();
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(what, e)),
        }
    }
    Ok(())
}

/// What a closed-loop probe measured: `n` requests one after the other.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Round trip of each request (send to full response), ns.
    pub round_trips_ns: Vec<f64>,
    /// The server thread's CPU per request, ns.
    pub server_cpu_per_request_ns: f64,
    /// Of it, the time each request waited for (the server's `on_path_ns`), ns.
    pub server_on_path_per_request_ns: f64,
    /// The server's waits that the probe's requests ended ([`Wake`]).
    pub wakes: Vec<Wake>,
}

/// Sends `n` plaintext requests one at a time (on a thread pinned to
/// `core`), on one kept-alive connection or a new one each. Like the load
/// generator, the probe never sleeps: it spins on non-blocking sockets. A
/// blocking read would let its core halt while the server works and count
/// the core's wake-up (tens of microseconds on a virtual machine, more on
/// some days than others) in every round trip, and so in every network
/// transit ztsim predicts, though the load generator never pays it.
pub fn probe(
    addr: SocketAddr,
    server: &Server,
    body: &[u8],
    per_request: bool,
    n: usize,
    core: usize,
) -> Result<Probe, LabError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(core)?;
            let msg = frame(body);
            let connect = || -> Result<std::net::TcpStream, LabError> {
                let s = std::net::TcpStream::connect(addr).map_err(|e| fail("connect", e))?;
                let _ = s.set_nodelay(true);
                s.set_nonblocking(true)
                    .map_err(|e| fail("non-blocking", e))?;
                Ok(s)
            };
            let mut kept = if per_request { None } else { Some(connect()?) };
            let mut buf = vec![0u8; 4 + super::server::RESPONSE_BYTES];
            let mut round_trips_ns = Vec::with_capacity(n);
            let cpu0 = thread_cpu_ns(&server.task)?;
            let on0 = server.on_path_ns.load(Ordering::Relaxed);
            let wakes0 = recorded(&server.wakes);
            for _ in 0..n {
                let t = Instant::now();
                let mut fresh;
                let sock = match kept.as_mut() {
                    Some(s) => s,
                    None => {
                        fresh = connect()?;
                        &mut fresh
                    }
                };
                server.note_send();
                spin_io(msg.len(), t, |at| sock.write(&msg[at..]), "probe write")?;
                spin_io(buf.len(), t, |at| sock.read(&mut buf[at..]), "probe read")?;
                round_trips_ns.push(t.elapsed().as_nanos() as f64);
            }
            let cpu = thread_cpu_ns(&server.task)? - cpu0;
            let on = server.on_path_ns.load(Ordering::Relaxed) - on0;
            Ok(Probe {
                round_trips_ns,
                server_cpu_per_request_ns: cpu as f64 / n.max(1) as f64,
                server_on_path_per_request_ns: on as f64 / n.max(1) as f64,
                wakes: between(&server.wakes, wakes0, recorded(&server.wakes)),
            })
        })
        .join()
        .map_err(|_| LabError("the probe panicked".into()))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_take_the_loopback_sources_in_turn() {
        assert_eq!(source_address(0), std::net::Ipv4Addr::new(127, 0, 1, 1));
        assert_eq!(source_address(63), std::net::Ipv4Addr::new(127, 0, 1, 64));
        assert_eq!(source_address(64), source_address(0));
        assert!((0..200).all(|n| source_address(n).is_loopback()));
    }

    /// The server sees the connection come from the source it was given.
    #[test]
    fn a_connection_comes_from_its_source_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let source = source_address(5);
        let _client = connect_from(source, listener.local_addr().unwrap()).unwrap();
        let t = Instant::now();
        let peer = loop {
            match listener.accept() {
                Ok((_, peer)) => break peer,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(t.elapsed() < Duration::from_secs(5), "no connection");
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        assert_eq!(peer.ip(), std::net::IpAddr::V4(source));
    }
}
