//! Helpers shared by the integration tests (included with `#[path]`).
#![allow(dead_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::{RandomError, SecureRandom, Signer};

/// NOT SECURE, tests only: a deterministic xorshift64 stream.
pub(crate) struct TestRng(AtomicU64);

impl TestRng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed | 1))
    }
}

impl SecureRandom for TestRng {
    fn try_fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        for chunk in dest.chunks_mut(8) {
            let mut x = self.0.load(Ordering::Relaxed);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0.store(x, Ordering::Relaxed);
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A random source that always fails.
pub(crate) struct FailingRng;

impl SecureRandom for FailingRng {
    fn try_fill(&self, _dest: &mut [u8]) -> Result<(), RandomError> {
        Err(RandomError::default())
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

pub(crate) fn unb64(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).expect("test vector is base64url")
}

/// A compact JWS over `header_json` and `payload` signed by `signer` (RFC 7515 §5.1).
pub(crate) fn compact(signer: &dyn Signer, header_json: &str, payload: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header_json.as_bytes()), b64(payload));
    let signature = signer
        .try_sign(signing_input.as_bytes(), &TestRng::new(7))
        .expect("test signer signs");
    format!("{signing_input}.{}", b64(&signature))
}

pub(crate) const RSA2048_PKCS8_PEM: &str = include_str!("../keys/rsa2048.pkcs8.pem");
pub(crate) const RSA2048_PKCS1_PEM: &str = include_str!("../keys/rsa2048.pkcs1.pem");
pub(crate) const RSA1024_PKCS8_PEM: &str = include_str!("../keys/rsa1024.pkcs8.pem");
pub(crate) const P256_PKCS8_PEM: &str = include_str!("../keys/p256.pkcs8.pem");
