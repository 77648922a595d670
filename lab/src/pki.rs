//! Certificates for the measurements: a root, intermediates and a leaf of
//! one key algorithm, as a server or client presents them.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
    PKCS_ECDSA_P256_SHA256, PKCS_ED25519, PKCS_RSA_SHA256, RsaKeySize,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::{LabError, fail};

/// The certificate (and signing) key algorithms ztsim's designs name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    EcdsaP256,
    Rsa2048,
    Ed25519,
}

impl KeyAlgorithm {
    pub const ALL: [KeyAlgorithm; 3] = [Self::EcdsaP256, Self::Rsa2048, Self::Ed25519];

    /// The name a ztsim design uses (`transport.certificate`).
    pub fn name(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ecdsa-p256",
            Self::Rsa2048 => "rsa-2048",
            Self::Ed25519 => "ed25519",
        }
    }

    /// A fresh key pair of this algorithm.
    pub fn generate(self) -> Result<KeyPair, LabError> {
        match self {
            Self::EcdsaP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
            Self::Rsa2048 => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048),
            Self::Ed25519 => KeyPair::generate_for(&PKCS_ED25519),
        }
        .map_err(|e| fail(&format!("generating a {} key", self.name()), e))
    }
}

/// One identity: the chain it sends (leaf first, then intermediates), its
/// private key, and the root that verifies it.
pub struct Identity {
    /// Leaf, then intermediates; the root is not sent.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key (PKCS#8).
    pub key: PrivatePkcs8KeyDer<'static>,
    /// The self-signed root a peer trusts.
    pub root: CertificateDer<'static>,
}

impl Identity {
    /// A chain of `length` certificates as the peer verifies them (the leaf
    /// plus `length - 1` intermediates) under a fresh root, every key of
    /// `alg`; the leaf names `name` (a DNS name).
    pub fn issue(alg: KeyAlgorithm, length: usize, name: &str) -> Result<Identity, LabError> {
        if !(1..=4).contains(&length) {
            return Err(LabError(format!(
                "a chain of {length} certificates: lengths 1 to 4 are supported"
            )));
        }
        let cert_err = |e| fail("issuing a certificate", e);
        let ca_params = |cn: &str| -> Result<CertificateParams, LabError> {
            let mut p = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
            p.distinguished_name.push(DnType::CommonName, cn);
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            Ok(p)
        };
        let root = CertifiedIssuer::self_signed(ca_params("ztsim-lab root")?, alg.generate()?)
            .map_err(cert_err)?;
        let root_der = root.der().clone();
        let mut issuers = vec![root];
        let mut intermediates = Vec::new();
        for i in 1..length {
            let parent = issuers.last().expect("the root is always there");
            let next = CertifiedIssuer::signed_by(
                ca_params(&format!("ztsim-lab intermediate {i}"))?,
                alg.generate()?,
                &**parent,
            )
            .map_err(cert_err)?;
            intermediates.push(next.der().clone());
            issuers.push(next);
        }
        let leaf_key = alg.generate()?;
        let leaf = CertificateParams::new(vec![name.to_string()])
            .map_err(cert_err)?
            .signed_by(
                &leaf_key,
                &**issuers.last().expect("the root is always there"),
            )
            .map_err(cert_err)?;
        // The peer sees leaf, then the intermediates nearest the leaf first.
        intermediates.reverse();
        let mut chain = vec![leaf.der().clone()];
        chain.extend(intermediates);
        Ok(Identity {
            chain,
            key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
            root: root_der,
        })
    }

    /// The private key in the form rustls takes.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}
