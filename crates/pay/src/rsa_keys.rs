//! RSA keys as payment providers hand them out: PEM or bare base64; private
//! keys PKCS#8 or PKCS#1, public keys SPKI, PKCS#1 or inside an X.509
//! certificate. Signing and verification are SHA256withRSA (PKCS#1 v1.5)
//! through `ring`, whose private-key operations are constant-time.

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};
use x509_cert::der::Decode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM or base64 key")]
    Encoding,
    #[error("not an RSA private key (PKCS#8 or PKCS#1)")]
    PrivateKey,
    #[error("not an RSA public key (SPKI, PKCS#1 or certificate)")]
    PublicKey,
    #[error("signing failed")]
    Sign,
}

/// DER bytes of the first PEM block, or of bare base64 text.
pub fn der_of(text: &str) -> Result<Vec<u8>, KeyError> {
    let body: String = if text.contains("-----BEGIN") {
        text.lines()
            .skip_while(|l| !l.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect()
    } else {
        text.split_whitespace().collect()
    };
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|_| KeyError::Encoding)
}

pub struct PrivateKey(RsaKeyPair);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl PrivateKey {
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let der = der_of(text)?;
        RsaKeyPair::from_pkcs8(&der)
            .or_else(|_| RsaKeyPair::from_der(&der))
            .map(PrivateKey)
            .map_err(|_| KeyError::PrivateKey)
    }

    /// SHA256withRSA, base64.
    pub fn sign_b64(&self, message: &[u8]) -> Result<String, KeyError> {
        let mut sig = vec![0u8; self.0.public().modulus_len()];
        self.0
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| KeyError::Sign)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }
}

#[derive(Clone)]
pub struct PublicKey {
    /// PKCS#1 RSAPublicKey DER, what `ring` verifies with.
    pkcs1: Vec<u8>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({} bytes)", self.pkcs1.len())
    }
}

impl PublicKey {
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        if text.contains("BEGIN CERTIFICATE") {
            return Ok(Self::from_certificate(text)?.1);
        }
        let der = der_of(text)?;
        if let Ok(spki) = spki::SubjectPublicKeyInfoRef::try_from(der.as_slice()) {
            let bits = spki
                .subject_public_key
                .as_bytes()
                .ok_or(KeyError::PublicKey)?;
            return Ok(PublicKey {
                pkcs1: bits.to_vec(),
            });
        }
        // Bare PKCS#1: accept if ring can parse it at verification time.
        Ok(PublicKey { pkcs1: der })
    }

    /// A platform certificate: its serial (upper-case hex) and key.
    pub fn from_certificate(pem: &str) -> Result<(String, Self), KeyError> {
        let der = der_of(pem)?;
        let cert = x509_cert::Certificate::from_der(&der).map_err(|_| KeyError::PublicKey)?;
        let serial: String = cert
            .tbs_certificate
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let serial = serial.trim_start_matches("00").to_string();
        let bits = cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .as_bytes()
            .ok_or(KeyError::PublicKey)?;
        Ok((
            serial,
            PublicKey {
                pkcs1: bits.to_vec(),
            },
        ))
    }

    /// True when `signature_b64` is a valid SHA256withRSA signature of `message`.
    pub fn verify_b64(&self, message: &[u8], signature_b64: &str) -> bool {
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
            return false;
        };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.pkcs1)
            .verify(message, &sig)
            .is_ok()
    }
}
