//! Bulk encryption: the AEAD ciphers rustls uses for records, from the same
//! aws-lc-rs provider, sealing and opening one record at a time.

use aws_lc_rs::aead::{
    AES_128_GCM, AES_256_GCM, Aad, Algorithm, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey,
};

use crate::sample::{CpuTime, since};
use crate::{Budget, LabError, Summary, fail, measure};

/// The TLS record ciphers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Cipher {
    pub const ALL: [Cipher; 3] = [Self::Aes128Gcm, Self::Aes256Gcm, Self::ChaCha20Poly1305];

    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128Gcm => "aes-128-gcm",
            Self::Aes256Gcm => "aes-256-gcm",
            Self::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }

    fn algorithm(self) -> &'static Algorithm {
        match self {
            Self::Aes128Gcm => &AES_128_GCM,
            Self::Aes256Gcm => &AES_256_GCM,
            Self::ChaCha20Poly1305 => &CHACHA20_POLY1305,
        }
    }
}

/// The record sizes measured: 1 KiB, 16 KiB (TLS's largest record) and 64 KiB.
pub const RECORD_SIZES: [usize; 3] = [1024, 16 * 1024, 64 * 1024];

/// The sender's and the receiver's CPU per record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Encrypting one record (the sender's side).
    pub seal: Summary,
    /// Decrypting and authenticating it (the receiver's side).
    pub open: Summary,
}

/// Seals and opens records of `size` bytes; each sample is one record. The
/// nonce is a counter, as TLS's is.
pub fn record(cipher: Cipher, size: usize, budget: &Budget) -> Result<Record, LabError> {
    let key_bytes = vec![0x5a_u8; cipher.algorithm().key_len()];
    let key = LessSafeKey::new(
        UnboundKey::new(cipher.algorithm(), &key_bytes).map_err(|e| fail("AEAD key", e))?,
    );
    let plain: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let mut counter: u64 = 0;
    let mut sealed = Vec::new();
    let mut opened_ns = Vec::with_capacity(budget.samples + budget.warmup);
    let seal = measure(budget, || {
        counter += 1;
        let nonce = nonce(counter);
        sealed.clear();
        sealed.extend_from_slice(&plain);
        let t = CpuTime::now();
        key.seal_in_place_append_tag(nonce, Aad::empty(), &mut sealed)
            .map_err(|e| fail("seal", e))?;
        let seal_ns = since(t);
        let t = CpuTime::now();
        let out = key
            .open_in_place(self::nonce(counter), Aad::empty(), &mut sealed)
            .map_err(|e| fail("open", e))?;
        opened_ns.push(since(t));
        if out.len() != size {
            return Err(LabError("a record opened to the wrong length".into()));
        }
        Ok(seal_ns)
    })?;
    let open = Summary::of(&opened_ns[opened_ns.len() - seal.samples..])
        .ok_or_else(|| LabError("no open samples".into()))?;
    Ok(Record { seal, open })
}

fn nonce(counter: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}
