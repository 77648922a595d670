//! One connection of the testbed, plaintext or TLS, over a non-blocking mio
//! socket, and the framing of requests and responses (a 4-byte little-endian
//! length, then the body).

use std::io::{self, Read, Write};

use mio::net::TcpStream;
use rustls::Connection;

/// Most bytes a frame may announce; a larger length is a broken peer.
pub const MAX_FRAME: usize = 1 << 20;

/// A frame: the length, then the body.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(4 + body.len());
    f.extend_from_slice(&(body.len() as u32).to_le_bytes());
    f.extend_from_slice(body);
    f
}

/// A connection: the socket, its TLS state if any, the plaintext received
/// and not yet taken, and (plaintext only) the bytes not yet written.
pub struct Link {
    pub sock: TcpStream,
    pub tls: Option<Connection>,
    inbuf: Vec<u8>,
    out: Vec<u8>,
}

/// What reading left: more may come, or the peer closed (or broke) it.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    Open,
    Closed,
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected | io::ErrorKind::Interrupted
    )
}

impl Link {
    pub fn new(sock: TcpStream, tls: Option<Connection>) -> Link {
        Link {
            sock,
            tls,
            inbuf: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Reads everything the socket has (edge-triggered readiness needs it).
    pub fn recv(&mut self) -> Inbound {
        let mut buf = [0u8; 16 * 1024];
        // Bounded: each pass consumes bytes the kernel holds; 4096 passes
        // are 64 MiB, far beyond what a peer sends between two polls.
        for _ in 0..4096 {
            match &mut self.tls {
                None => match self.sock.read(&mut buf) {
                    Ok(0) => return Inbound::Closed,
                    Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                    Err(e) if would_block(&e) => return Inbound::Open,
                    Err(_) => return Inbound::Closed,
                },
                Some(tls) => {
                    match tls.read_tls(&mut self.sock) {
                        Ok(0) => return Inbound::Closed,
                        Ok(_) => {}
                        Err(e) if would_block(&e) => return Inbound::Open,
                        Err(_) => return Inbound::Closed,
                    }
                    if tls.process_new_packets().is_err() {
                        return Inbound::Closed;
                    }
                    loop {
                        match tls.reader().read(&mut buf) {
                            Ok(0) => return Inbound::Closed,
                            Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(_) => return Inbound::Closed,
                        }
                    }
                }
            }
        }
        Inbound::Open
    }

    /// Queues plaintext to send (TLS buffers it until the handshake is done).
    pub fn send(&mut self, bytes: &[u8]) {
        match &mut self.tls {
            None => self.out.extend_from_slice(bytes),
            Some(tls) => {
                // rustls buffers without limit here; the testbed's frames are small.
                let _ = tls.writer().write_all(bytes);
            }
        }
    }

    /// Whether bytes wait to be written ([`Link::flush`]).
    pub fn pending(&self) -> bool {
        match &self.tls {
            None => !self.out.is_empty(),
            Some(tls) => tls.wants_write(),
        }
    }

    /// Writes what is pending until done or the socket would block; false
    /// if the connection broke.
    pub fn flush(&mut self) -> bool {
        for _ in 0..4096 {
            match &mut self.tls {
                None => {
                    if self.out.is_empty() {
                        return true;
                    }
                    match self.sock.write(&self.out) {
                        Ok(0) => return false,
                        Ok(n) => {
                            self.out.drain(..n);
                        }
                        Err(e) if would_block(&e) => return true,
                        Err(_) => return false,
                    }
                }
                Some(tls) => {
                    if !tls.wants_write() {
                        return true;
                    }
                    match tls.write_tls(&mut self.sock) {
                        Ok(0) => return false,
                        Ok(_) => {}
                        Err(e) if would_block(&e) => return true,
                        Err(_) => return false,
                    }
                }
            }
        }
        true
    }

    /// The next complete frame's body, if one has arrived; Err if the peer
    /// announced an impossible length.
    pub fn take_frame(&mut self) -> Result<Option<Vec<u8>>, ()> {
        if self.inbuf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([self.inbuf[0], self.inbuf[1], self.inbuf[2], self.inbuf[3]])
            as usize;
        if len > MAX_FRAME {
            return Err(());
        }
        if self.inbuf.len() < 4 + len {
            return Ok(None);
        }
        let body = self.inbuf[4..4 + len].to_vec();
        self.inbuf.drain(..4 + len);
        Ok(Some(body))
    }

    /// Whether the TLS handshake is still going (never for plaintext).
    pub fn handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|c| c.is_handshaking())
    }
}
