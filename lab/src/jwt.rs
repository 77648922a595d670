//! JWT signing and verification with `jsonwebtoken` (on aws-lc-rs): a token
//! with the claims a service-to-service call carries, verified as a callee
//! does (signature, expiry, audience, issuer).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde_json::{Value, json};

use crate::pki::KeyAlgorithm;
use crate::sample::{CpuTime, since};
use crate::{Budget, LabError, Summary, fail, measure};

/// The JWT algorithms measured, as ztsim designs name them (`authn.jwt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    Rs256,
    Es256,
    EdDsa,
}

impl Alg {
    pub const ALL: [Alg; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "rs256",
            Self::Es256 => "es256",
            Self::EdDsa => "eddsa",
        }
    }

    fn parts(self) -> (Algorithm, KeyAlgorithm) {
        match self {
            Self::Rs256 => (Algorithm::RS256, KeyAlgorithm::Rsa2048),
            Self::Es256 => (Algorithm::ES256, KeyAlgorithm::EcdsaP256),
            Self::EdDsa => (Algorithm::EdDSA, KeyAlgorithm::Ed25519),
        }
    }
}

/// An issuer's signing key and a callee's verifying key for one algorithm.
pub struct Keys {
    pub alg: Alg,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub validation: Validation,
}

/// The audience and issuer tokens carry and callees check.
pub const AUDIENCE: &str = "orders.ztsim-lab.test";
pub const ISSUER: &str = "https://issuer.ztsim-lab.test";

impl Keys {
    /// A fresh key pair of `alg`'s kind.
    pub fn new(alg: Alg) -> Result<Keys, LabError> {
        let (jalg, kalg) = alg.parts();
        let pair = kalg.generate()?;
        let (private, public) = (pair.serialize_pem(), pair.public_key_pem());
        let (encoding, decoding) = match alg {
            Alg::Rs256 => (
                EncodingKey::from_rsa_pem(private.as_bytes()),
                DecodingKey::from_rsa_pem(public.as_bytes()),
            ),
            Alg::Es256 => (
                EncodingKey::from_ec_pem(private.as_bytes()),
                DecodingKey::from_ec_pem(public.as_bytes()),
            ),
            Alg::EdDsa => (
                EncodingKey::from_ed_pem(private.as_bytes()),
                DecodingKey::from_ed_pem(public.as_bytes()),
            ),
        };
        let mut validation = Validation::new(jalg);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        Ok(Keys {
            alg,
            encoding: encoding.map_err(|e| fail("JWT signing key", e))?,
            decoding: decoding.map_err(|e| fail("JWT verifying key", e))?,
            validation,
        })
    }

    /// Signs the claims of a caller's token (SPIFFE subject, audience,
    /// issuer, an hour's lifetime, scopes).
    pub fn sign(&self) -> Result<String, LabError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| fail("clock", e))?
            .as_secs();
        let claims = json!({
            "sub": "spiffe://ztsim-lab.test/ns/shop/sa/checkout",
            "aud": AUDIENCE,
            "iss": ISSUER,
            "iat": now,
            "exp": now + 3600,
            "scope": "orders:read orders:write",
        });
        encode(&Header::new(self.alg.parts().0), &claims, &self.encoding)
            .map_err(|e| fail("JWT sign", e))
    }

    /// Verifies a token and checks its claims.
    pub fn verify(&self, token: &str) -> Result<(), LabError> {
        decode::<Value>(token, &self.decoding, &self.validation)
            .map(|_| ())
            .map_err(|e| fail("JWT verify", e))
    }
}

/// Signing and verification CPU per token.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    pub sign: Summary,
    pub verify: Summary,
}

/// Signs tokens, and verifies each one signed.
pub fn costs(alg: Alg, budget: &Budget) -> Result<Costs, LabError> {
    let keys = Keys::new(alg)?;
    let mut verify_ns = Vec::with_capacity(budget.samples + budget.warmup);
    let sign = measure(budget, || {
        let t = CpuTime::now();
        let token = keys.sign()?;
        let sign_ns = since(t);
        let t = CpuTime::now();
        keys.verify(&token)?;
        verify_ns.push(since(t));
        Ok(sign_ns)
    })?;
    let verify = Summary::of(&verify_ns[verify_ns.len() - sign.samples..])
        .ok_or_else(|| LabError("no verify samples".into()))?;
    Ok(Costs { sign, verify })
}
