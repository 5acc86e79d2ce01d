#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod b64;
mod error;
mod es256;
#[cfg(feature = "getrandom")]
mod os_random;
mod pkcs8_export;
mod public_key;
mod rng;
#[cfg(feature = "rsa")]
mod rsa_signer;
mod thumbprint;

pub use error::{JwsError, KeyError};
pub use es256::Es256Signer;
#[cfg(feature = "getrandom")]
pub use os_random::OsRandom;
pub use public_key::{ClientKeyVerifier, MAX_COMPACT_JWS_LEN, MAX_JWK_JSON_LEN, PublicKey};
#[cfg(feature = "rsa")]
pub use rsa_signer::RsaSigner;
pub use thumbprint::jwk_thumbprint;

/// The `p256` crate this adapter is built on, so callers can name [`p256::ecdsa::SigningKey`]
/// without a second, possibly mismatched, dependency.
pub use p256;
/// The `rsa` crate this adapter is built on, so callers can name [`rsa::RsaPrivateKey`]
/// without a second, possibly mismatched, dependency.
#[cfg(feature = "rsa")]
pub use rsa;
/// Zeroizing container returned by the private-key exporters.
pub use zeroize::Zeroizing;
