//! The server: one thread pinned to one core, an event loop over
//! non-blocking sockets on 127.0.0.1. Every ready connection is served in the
//! order the kernel reports it, each request to completion (TLS records,
//! then JWT verification and the Rego decision if asked, then the spin,
//! then the response): one CPU serving first come, first served. The time
//! spent on a connection after its last response (closing it) is summed
//! apart: it is CPU no request waits for.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use rustls::{Connection, ServerConfig, ServerConnection};

use super::link::{Inbound, Link, frame};
use super::pauses::PAUSE_THRESHOLD_NS;
use super::spin::Spin;
use super::{SERVER_LIFETIME, own_task, pin_current as pin};
use crate::jwt::Keys;
use crate::policy::{Policy, Rego, rego_inputs};
use crate::sample::{CpuTime, since};
use crate::{LabError, fail};

/// Bytes of every response body.
pub const RESPONSE_BYTES: usize = 1024;
/// Most connections open at once; beyond, new ones are closed on accept.
const MAX_CONNECTIONS: usize = 16_384;
const LISTENER: Token = Token(0);

/// What the server does per request beyond the spin: verify the caller's JWT
/// (signature, expiry, audience, issuer) and ask Rego (the lab's RBAC policy,
/// warm) for a decision.
pub struct Auth {
    pub keys: Keys,
}

/// The server's configuration.
pub struct ServerSpec {
    /// TLS, or plaintext when None.
    pub tls: Option<Arc<ServerConfig>>,
    /// CPU each request burns in the handler, ns.
    pub handler_ns: u64,
    pub auth: Option<Auth>,
    pub core: usize,
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    /// Its thread's `/proc/<pid>/task/<tid>` (for its CPU time).
    pub task: PathBuf,
    /// The spin as calibrated on its core.
    pub spin: Spin,
    /// The core it is pinned to.
    pub core: usize,
    /// Time (ns, wall clock on its own core) spent on connections after
    /// they were answered and before they spoke again: closing them, off
    /// every request's path.
    pub after_ns: Arc<AtomicU64>,
    /// Time (ns, wall clock on its own core) the requests wait for: each
    /// turn on a connection not yet answered, from its start to its reply
    /// leaving (a request or a handshake flight read, worked on, answered),
    /// and accepting connections. The rest of the thread's CPU (the event
    /// loop, the kernel's way into and out of sleep, closing) is off the path.
    pub on_path_ns: Arc<AtomicU64>,
    /// Wall-clock time (ns) of all its turns (accepts included).
    pub turns_ns: Arc<AtomicU64>,
    /// Its core's pauses seen in its turns, in order (ns each): a turn's
    /// wall-clock time less its thread's CPU time, when that is
    /// [`PAUSE_THRESHOLD_NS`] or more (the thread was off its core while it
    /// had work). At most [`MAX_PAUSES`] kept.
    pub pauses_ns: Arc<Mutex<Vec<u64>>>,
    /// The clock both sides read for [`Server::sent_ns`] and `wakes`.
    pub epoch: Instant,
    /// When a client last began to send bytes, ns since `epoch` (set just
    /// before each write or connect; [`Server::note_send`]), and how many
    /// sends there have been.
    pub sent_ns: Arc<AtomicU64>,
    pub sends: Arc<AtomicU64>,
    /// Each poll the server returned from because a client sent while it
    /// waited, in order: how long it waited and how long after that send
    /// it was running again, ns. At most [`MAX_WAKES`] kept.
    pub wakes: Arc<Mutex<Vec<Wake>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<(), LabError>>>,
}

impl Server {
    /// Starts the server thread, pinned to `spec.core`; returns once it listens.
    pub fn start(spec: ServerSpec) -> Result<Server, LabError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let flag = stop.clone();
        let core = spec.core;
        let after_ns = Arc::new(AtomicU64::new(0));
        let on_path_ns = Arc::new(AtomicU64::new(0));
        let turns_ns = Arc::new(AtomicU64::new(0));
        let pauses_ns = Arc::new(Mutex::new(Vec::new()));
        let epoch = Instant::now();
        let sent_ns = Arc::new(AtomicU64::new(u64::MAX));
        let sends = Arc::new(AtomicU64::new(0));
        let wakes = Arc::new(Mutex::new(Vec::new()));
        let spent = Clock {
            after: after_ns.clone(),
            on_path: on_path_ns.clone(),
            turns: turns_ns.clone(),
            pauses: pauses_ns.clone(),
            epoch,
            sent: sent_ns.clone(),
            sends: sends.clone(),
            wakes: wakes.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("testbed-server".into())
            .spawn(move || serve(spec, &flag, &spent, &tx))
            .map_err(|e| fail("starting the server thread", e))?;
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok((addr, task, spin)) => Ok(Server {
                addr,
                task,
                spin,
                core,
                after_ns,
                on_path_ns,
                turns_ns,
                pauses_ns,
                epoch,
                sent_ns,
                sends,
                wakes,
                stop,
                handle: Some(handle),
            }),
            Err(_) => {
                stop.store(true, Ordering::SeqCst);
                match handle.join() {
                    Ok(Err(e)) => Err(e),
                    _ => Err(LabError("the server did not start".into())),
                }
            }
        }
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) -> Result<(), LabError> {
        self.halt()
    }

    fn halt(&mut self) -> Result<(), LabError> {
        self.stop.store(true, Ordering::SeqCst);
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(LabError("the server thread panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

type Ready = (SocketAddr, PathBuf, Spin);

/// A wait of the server's loop ended by a client's send: the wait's length
/// and the time from the send to the loop running again, ns. On an idle
/// core the second is the send's way in plus the core's wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wake {
    pub waited_ns: u64,
    pub after_send_ns: u64,
}

/// Most waits the server keeps over its life (its memory bounded).
pub const MAX_WAKES: usize = 4_000_000;

impl Server {
    /// A client is about to send bytes to the server (write or connect).
    pub fn note_send(&self) {
        let at = self.epoch.elapsed().as_nanos() as u64;
        self.sent_ns.store(at, Ordering::Relaxed);
        self.sends.fetch_add(1, Ordering::Release);
    }
}

/// How many entries a list the server appends to (its pauses, its waits)
/// holds so far: a mark for [`between`].
pub fn recorded<T>(list: &Mutex<Vec<T>>) -> usize {
    list.lock().map_or(0, |l| l.len())
}

/// The entries appended to `list` between two marks ([`recorded`]): a
/// window's.
pub fn between<T: Clone>(list: &Mutex<Vec<T>>, from: usize, to: usize) -> Vec<T> {
    list.lock().map_or_else(
        |_| Vec::new(),
        |l| l.get(from..to.min(l.len())).unwrap_or(&[]).to_vec(),
    )
}

/// Where the server's time goes: `Server::after_ns` and `Server::on_path_ns`.
struct Clock {
    after: Arc<AtomicU64>,
    on_path: Arc<AtomicU64>,
    turns: Arc<AtomicU64>,
    pauses: Arc<Mutex<Vec<u64>>>,
    epoch: Instant,
    sent: Arc<AtomicU64>,
    sends: Arc<AtomicU64>,
    wakes: Arc<Mutex<Vec<Wake>>>,
}

impl Clock {
    /// The count of sends, read as a wait starts.
    fn sends(&self) -> u64 {
        self.sends.load(Ordering::Acquire)
    }

    /// A poll waited from `from` to `to` (ns since the epoch), `before`
    /// sends having been made as it began: if exactly one send came
    /// meanwhile, that send woke it. (With two, the later one's time is
    /// known, not the one that woke it: a client's connect and then its
    /// first flight, a second request sent meanwhile.)
    fn waited(&self, from: u64, to: u64, before: u64) {
        let sent = self.sent.load(Ordering::Relaxed);
        if self.sends() == before + 1
            && (from..=to).contains(&sent)
            && let Ok(mut w) = self.wakes.lock()
            && w.len() < MAX_WAKES
        {
            w.push(Wake {
                waited_ns: to - from,
                after_send_ns: to - sent,
            });
        }
    }
}

/// Most pauses the server keeps over its life (its memory bounded).
const MAX_PAUSES: usize = 1_000_000;

/// A turn of the server's loop: its wall-clock and CPU start.
struct Turn {
    wall: Instant,
    cpu: CpuTime,
}

impl Turn {
    fn start() -> Turn {
        Turn {
            wall: Instant::now(),
            cpu: CpuTime::now(),
        }
    }

    /// Ends the turn: counts its time, and the pause in it if any.
    fn end(self, clock: &Clock) {
        let wall = self.wall.elapsed().as_nanos() as u64;
        let off = wall.saturating_sub(since(self.cpu) as u64);
        clock.turns.fetch_add(wall, Ordering::Relaxed);
        if off >= PAUSE_THRESHOLD_NS
            && let Ok(mut p) = clock.pauses.lock()
            && p.len() < MAX_PAUSES
        {
            p.push(off);
        }
    }
}

/// The per-request work beyond the spin.
struct Checks {
    keys: Keys,
    rego: Rego,
    inputs: Vec<regorus::Value>,
}

impl Checks {
    /// Verifies the token the body carries and decides its input; the body
    /// is `[u16 token length][token]...[u32 input index]`.
    fn run(&mut self, body: &[u8]) -> Result<(), LabError> {
        let bad = || LabError("malformed request".into());
        let len = u16::from_le_bytes([
            *body.first().ok_or_else(bad)?,
            *body.get(1).ok_or_else(bad)?,
        ]) as usize;
        let token = body.get(2..2 + len).ok_or_else(bad)?;
        let idx = body.len().checked_sub(4).ok_or_else(bad)?;
        let idx =
            u32::from_le_bytes([body[idx], body[idx + 1], body[idx + 2], body[idx + 3]]) as usize;
        self.keys
            .verify(std::str::from_utf8(token).map_err(|_| bad())?)?;
        let input = self.inputs[idx % self.inputs.len()].clone();
        self.rego.decide(input)?;
        Ok(())
    }
}

fn serve(
    spec: ServerSpec,
    stop: &AtomicBool,
    spent: &Clock,
    ready: &mpsc::Sender<Ready>,
) -> Result<(), LabError> {
    pin(spec.core)?;
    let spin = Spin::calibrate();
    let mut checks = match spec.auth {
        Some(a) => Some(Checks {
            keys: a.keys,
            rego: Rego::load(Policy::Rbac)?,
            inputs: rego_inputs(Policy::Rbac)?,
        }),
        None => None,
    };
    let mut poll = Poll::new().map_err(|e| fail("poll", e))?;
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut listener = TcpListener::bind(addr).map_err(|e| fail("binding 127.0.0.1", e))?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .map_err(|e| fail("poll register", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| fail("local address", e))?;
    let _ = ready.send((addr, own_task()?, spin));
    let response = frame(&[0x5a; RESPONSE_BYTES]);
    let mut conns: HashMap<Token, Link> = HashMap::new();
    // Connections that have had a response and not spoken since.
    let mut answered: HashSet<Token> = HashSet::new();
    let mut next = 1usize;
    let mut events = Events::with_capacity(1024);
    let born = Instant::now();
    let clock = |t: Instant| t.duration_since(spent.epoch).as_nanos() as u64;
    while !stop.load(Ordering::Relaxed) && born.elapsed() < SERVER_LIFETIME {
        let (waiting, sends) = (clock(Instant::now()), spent.sends());
        poll.poll(&mut events, Some(Duration::from_millis(20)))
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    Ok(())
                } else {
                    Err(fail("poll", e))
                }
            })?;
        if !events.is_empty() {
            spent.waited(waiting, clock(Instant::now()), sends);
        }
        for ev in &events {
            let timed = Turn::start();
            if ev.token() == LISTENER {
                let turn = Instant::now();
                accept(&listener, &poll, &spec.tls, &mut conns, &mut next)?;
                spent
                    .on_path
                    .fetch_add(turn.elapsed().as_nanos() as u64, Ordering::Relaxed);
                timed.end(spent);
                continue;
            }
            let turn = Instant::now();
            let Some(link) = conns.get_mut(&ev.token()) else {
                continue;
            };
            let mut open = link.recv() == Inbound::Open;
            let mut served = false;
            // Serve every complete request that arrived, in order.
            while open {
                match link.take_frame() {
                    Ok(Some(body)) => {
                        if let Some(c) = checks.as_mut() {
                            open = c.run(&body).is_ok();
                        }
                        spin.run(spec.handler_ns);
                        link.send(&response);
                        served = true;
                    }
                    Ok(None) => break,
                    Err(()) => open = false,
                }
            }
            open &= link.flush();
            let replied = turn.elapsed().as_nanos() as u64;
            if !open && let Some(mut l) = conns.remove(&ev.token()) {
                let _ = poll.registry().deregister(&mut l.sock);
            }
            let after_response = if served {
                answered.insert(ev.token());
                false
            } else {
                answered.contains(&ev.token())
            };
            if !open {
                answered.remove(&ev.token());
            }
            if after_response {
                spent
                    .after
                    .fetch_add(turn.elapsed().as_nanos() as u64, Ordering::Relaxed);
            } else {
                spent.on_path.fetch_add(replied, Ordering::Relaxed);
            }
            timed.end(spent);
        }
    }
    Ok(())
}

/// Accepts every pending connection.
fn accept(
    listener: &TcpListener,
    poll: &Poll,
    tls: &Option<Arc<ServerConfig>>,
    conns: &mut HashMap<Token, Link>,
    next: &mut usize,
) -> Result<(), LabError> {
    for _ in 0..MAX_CONNECTIONS {
        let (mut sock, _) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // A connection reset before it was accepted: not the server's problem.
            Err(_) => continue,
        };
        if conns.len() >= MAX_CONNECTIONS {
            continue; // dropped: closed
        }
        let _ = sock.set_nodelay(true);
        let token = Token(*next);
        *next += 1;
        poll.registry()
            .register(&mut sock, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| fail("poll register", e))?;
        let conn = match tls {
            Some(cfg) => Some(Connection::Server(
                ServerConnection::new(cfg.clone()).map_err(|e| fail("server connection", e))?,
            )),
            None => None,
        };
        conns.insert(token, Link::new(sock, conn));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock {
            after: Arc::default(),
            on_path: Arc::default(),
            turns: Arc::default(),
            pauses: Arc::default(),
            epoch: Instant::now(),
            sent: Arc::new(AtomicU64::new(u64::MAX)),
            sends: Arc::default(),
            wakes: Arc::default(),
        }
    }

    #[test]
    fn a_wait_counts_only_when_one_send_fell_inside_it() {
        let c = clock();
        c.waited(100, 900, 0); // no send yet
        let send = |at: u64| {
            c.sent.store(at, Ordering::Relaxed);
            c.sends.fetch_add(1, Ordering::Relaxed);
        };
        send(500);
        c.waited(600, 900, 1); // the send came before the wait
        c.waited(100, 400, 0); // after it
        c.waited(200, 900, 0);
        c.waited(500, 500, 0); // at both ends at once
        send(700); // two sends in one wait: which woke it is not known
        c.waited(400, 900, 0);
        let w = c.wakes.lock().unwrap().clone();
        let wake = |waited_ns, after_send_ns| Wake {
            waited_ns,
            after_send_ns,
        };
        assert_eq!(w, vec![wake(700, 400), wake(0, 0)]);
    }

    /// A real server on loopback and the closed-loop probe: each request
    /// ends one wait of the server's loop, within the wait and well under a
    /// second after its send.
    #[test]
    fn the_server_records_the_waits_its_client_ends() {
        // Alone on its cores: a spin sharing the server's core pauses it
        // between waits, and a send that lands outside a wait is not counted
        // (one CI run counted 32 of 50 beside the pause probe's spin).
        let _alone = super::super::PINNING.lock();
        let cores = super::super::cores();
        let server = Server::start(ServerSpec {
            tls: None,
            handler_ns: 0,
            auth: None,
            core: cores[0],
        })
        .unwrap();
        // Most waits, not all: another process on the server's core can
        // pause it across a send (35 of 50 beside a pinned spinner, 2 of 50
        // while two compilers ran on both cores). So up to 4 rounds of 50
        // requests, until 10 waits are recorded: a recording that broke
        // counts none, and one that counted waits no send ended would
        // count more than the requests.
        let mut wakes = Vec::new();
        let mut sent = 0;
        while sent < 200 && wakes.len() < 10 {
            let p = super::super::probe(
                server.addr,
                &server,
                &[0u8; 64],
                false,
                50,
                *cores.last().unwrap(),
            )
            .unwrap();
            sent += 50;
            wakes.extend(p.wakes);
        }
        server.stop().unwrap();
        assert!(
            (10..=sent).contains(&wakes.len()),
            "{} waits ended by {sent} requests",
            wakes.len()
        );
        for w in &wakes {
            assert!(w.after_send_ns <= w.waited_ns, "{w:?}");
            assert!(w.after_send_ns < 1_000_000_000, "{w:?}");
        }
    }
}
