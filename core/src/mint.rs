//! What minting codes, tokens and ID tokens needs: the configuration, the signing keys,
//! randomness and the time — handed to the pure steps by the driver.

use base64ct::{Base64UrlUnpadded, Encoding};

use crate::clock::UnixTime;
use crate::config::Config;
use crate::error::Reject;
use crate::keys::KeySet;
use crate::random::SecureRandom;
use crate::signer::{JwsAlgorithm, Signer};
use crate::value::GrantId;

/// Inputs for minting: configuration, the provider's signing keys, randomness and the time.
#[derive(Clone, Copy, Debug)]
pub struct Mint<'a> {
    /// The configuration.
    pub config: &'a Config,
    /// The signing keys ([`KeySet::signer`] is the active key of an algorithm).
    pub keys: &'a KeySet,
    /// Randomness for codes, tokens and signatures.
    pub rng: &'a dyn SecureRandom,
    /// The current time.
    pub now: UnixTime,
}

impl<'a> Mint<'a> {
    /// The active key for `alg` (the client's `id_token_signed_response_alg`).
    ///
    /// # Errors
    ///
    /// [`Reject::SigningKeyUnavailable`] when no key signs with `alg`.
    pub fn signer(&self, alg: JwsAlgorithm) -> Result<&'a dyn Signer, Reject> {
        self.keys.signer(alg).ok_or(Reject::SigningKeyUnavailable)
    }

    /// Draws a grant id: 128 random bits, base64url.
    pub(crate) fn grant_id(&self) -> Result<GrantId, Reject> {
        let mut bytes = [0u8; 16];
        self.rng
            .try_fill(&mut bytes)
            .map_err(|_| Reject::ServerError)?;
        Ok(GrantId::new(Base64UrlUnpadded::encode_string(&bytes)))
    }
}
