//! Pairwise subject identifiers (OIDC Core §8.1, Registration §5): each sector sees its own,
//! stable `sub` for an End-User, and two sectors cannot link their values.
//!
//! `sub = base64url(HMAC-SHA-256(k_sector, local_subject))` with
//! `k_sector = HMAC-SHA-256(secret, "oidc-hybrid pairwise v1" 0x00 sector_identifier)`, where
//! `secret` is the provider's [`PairwiseSecret`] (configuration) and the sector identifier is the
//! host of the client's `sector_identifier_uri`, or the one host of its redirect URIs
//! (Registration §5). A keyed hash, unlike the unkeyed example of §8.1, cannot be recomputed by
//! anyone who knows the local subject and the sector.
//!
//! **Key management.** The secret must be at least 32 random bytes, kept like a signing key, and
//! the same on every node. Changing it changes every pairwise `sub`: relying parties would see
//! new users. It is therefore never rotated like a signing key; should it leak, pairwise
//! subjects become linkable by whoever holds it (nothing else is exposed), and a change must be
//! coordinated with the relying parties. The per-sector key travels inside a
//! [`BoundRequest`](crate::BoundRequest), which is server-side state.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroize;

use crate::client_keys::FetchError;
pub use crate::config::{MIN_PAIRWISE_SECRET_LEN, PairwiseSecret};
use crate::error::Reject;
use crate::value::Subject;

impl PairwiseSecret {
    /// The key of one sector.
    #[must_use]
    pub fn sector_key(&self, sector: &str) -> SectorKey {
        let mut input = Vec::with_capacity(24 + sector.len());
        input.extend_from_slice(b"oidc-hybrid pairwise v1\0");
        input.extend_from_slice(sector.as_bytes());
        SectorKey(hmac_sha256(self.bytes(), &input).to_vec())
    }
}

/// The pairwise key of one sector. `Debug` is redacted; zeroed on drop.
#[derive(Clone, Deserialize, Eq, PartialEq, Serialize)]
pub struct SectorKey(Vec<u8>);

impl SectorKey {
    /// The pairwise `sub` of `local` in this sector: 43 base64url characters.
    #[must_use]
    pub fn subject(&self, local: &Subject) -> Subject {
        let tag = hmac_sha256(&self.0, local.as_str().as_bytes());
        let encoded = Base64UrlUnpadded::encode_string(&tag);
        // 43 base64url characters are a valid subject (ASCII, at most 255 octets).
        Subject::new(encoded).unwrap_or_else(|_| local.clone())
    }
}

impl fmt::Debug for SectorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SectorKey(<redacted>)")
    }
}

impl Drop for SectorKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

fn hmac_sha256(key: &[u8], input: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never fails.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(input);
    mac.finalize().into_bytes().into()
}

/// The host of an `http(s)` URI (lowercase, without port), for the sector identifier.
pub(crate) fn host_of(uri: &str) -> Option<String> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The future of a [`SectorFetcher`].
pub type SectorFuture<'a> =
    Pin<alloc::boxed::Box<dyn Future<Output = Result<Vec<String>, FetchError>> + Send + 'a>>;

/// Fetches a client's `sector_identifier_uri`: a JSON array of redirect URIs (Registration §5).
/// The host's adapter does the I/O with the same guards as for `jwks_uri` (https only,
/// timeouts, size caps, no private addresses).
pub trait SectorFetcher: Send + Sync {
    /// The redirect URIs listed at `uri`.
    fn fetch<'a>(&'a self, uri: &'a str) -> SectorFuture<'a>;
}

/// Checks a fetched sector document against the client's redirect URIs: each must be listed
/// (Registration §5).
///
/// # Errors
///
/// [`Reject::SectorRedirectUriUnlisted`].
pub fn check_sector_document(listed: &[String], redirect_uris: &[&str]) -> Result<(), Reject> {
    if redirect_uris.iter().all(|r| listed.iter().any(|l| l == r)) {
        Ok(())
    } else {
        Err(Reject::SectorRedirectUriUnlisted)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::config::ConfigError;

    fn secret(seed: u8) -> PairwiseSecret {
        PairwiseSecret::new([seed; 32].to_vec()).expect("long enough")
    }

    #[test]
    fn secrets_are_long_and_redacted() {
        assert_eq!(
            PairwiseSecret::new([1; 31].to_vec()),
            Err(ConfigError::PairwiseSecret)
        );
        let s = secret(1);
        assert_eq!(alloc::format!("{s:?}"), "PairwiseSecret(<redacted>)");
        assert_eq!(
            alloc::format!("{:?}", s.sector_key("rp.example")),
            "SectorKey(<redacted>)"
        );
    }

    #[test]
    fn hosts_of_uris() {
        assert_eq!(
            host_of("https://RP.example:8443/cb?x").as_deref(),
            Some("rp.example")
        );
        assert_eq!(host_of("http://[::1]:80/cb").as_deref(), Some("::1"));
        assert_eq!(host_of("com.example.app:/cb"), None);
    }

    proptest! {
        /// Stable per user and sector; different across sectors and across users; always a
        /// valid, fixed-length subject (OIDC Core §8.1).
        #[test]
        fn pairwise_subjects_are_stable_and_unlinkable(
            seed in any::<u8>(),
            a in "[a-z0-9.-]{1,30}",
            b in "[a-z0-9.-]{1,30}",
            alice in "[!-~]{1,64}",
            bob in "[!-~]{1,64}",
        ) {
            let secret = secret(seed);
            let alice = Subject::new(alice).expect("subject");
            let bob = Subject::new(bob).expect("subject");
            let in_a = secret.sector_key(&a).subject(&alice);
            prop_assert_eq!(&in_a, &secret.sector_key(&a).subject(&alice));
            prop_assert_eq!(in_a.as_str().len(), 43);
            prop_assert_ne!(in_a.as_str(), alice.as_str());
            if a != b {
                prop_assert_ne!(&in_a, &secret.sector_key(&b).subject(&alice));
            }
            if alice != bob {
                prop_assert_ne!(&in_a, &secret.sector_key(&a).subject(&bob));
            }
            // Another provider secret gives other values for the same user and sector.
            let other = secret.sector_key(&a).subject(&alice) != PairwiseSecret::new([seed.wrapping_add(1); 32].to_vec()).expect("long").sector_key(&a).subject(&alice);
            prop_assert!(other);
        }
    }
}
