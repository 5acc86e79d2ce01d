//! Secrets: authorization codes, tokens and client secrets, and the digests stored in their place.
//!
//! Every secret type has a redacted `Debug`, is zeroized on drop and is never stored: storage
//! keys are [`SecretDigest`]s (SHA-256 of the exact string sent on the wire), so a leaked
//! database hands out no working code or token. Comparisons of digests are constant time
//! (OIDC Core §16.12, RFC 6749 §2.3.1).

use alloc::string::String;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::random::{RandomError, SecureRandom};

/// Number of random bytes in a generated code or token: 256 bits, well above the 128-bit floor of
/// RFC 6749 §10.10 and the 160-bit recommendation of FAPI 1.0 Baseline §5.2.2-16.
pub const SECRET_BYTES: usize = 32;

/// SHA-256 of a secret's wire form: the only thing persisted for codes, tokens and client secrets.
#[derive(Clone, Copy, Eq, Hash, Ord, PartialEq, PartialOrd)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    /// The digest of `secret` (its UTF-8 octets).
    #[must_use]
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// The digest from its 32 raw bytes (e.g. read back from a database).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 raw bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time equality, for checking a presented secret against a stored digest.
    #[must_use]
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Unpadded base64url of the digest, for logs and text columns (safe to show).
    #[must_use]
    pub fn to_base64url(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.0)
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretDigest({})", self.to_base64url())
    }
}

impl Serialize for SecretDigest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64url())
    }
}

impl<'de> Deserialize<'de> for SecretDigest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; 32];
        let decoded = Base64UrlUnpadded::decode(&text, &mut bytes)
            .map_err(|_| serde::de::Error::custom("digest is not 32 bytes of base64url"))?;
        if decoded.len() != 32 {
            return Err(serde::de::Error::custom(
                "digest is not 32 bytes of base64url",
            ));
        }
        Ok(Self(bytes))
    }
}

/// Draws [`SECRET_BYTES`] random bytes and encodes them as unpadded base64url (43 characters).
pub(crate) fn random_token(rng: &dyn SecureRandom) -> Result<String, RandomError> {
    let mut bytes = [0u8; SECRET_BYTES];
    rng.try_fill(&mut bytes)?;
    let token = Base64UrlUnpadded::encode_string(&bytes);
    bytes.zeroize();
    Ok(token)
}

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Eq, PartialEq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value received on the wire.
            #[must_use]
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// A fresh random value of [`SECRET_BYTES`] bytes.
            ///
            /// # Errors
            ///
            /// [`RandomError`] if the random source fails.
            pub fn generate(rng: &dyn SecureRandom) -> Result<Self, RandomError> {
                random_token(rng).map(Self)
            }

            /// The exact wire form: what hash claims are computed over (REQUIREMENTS 200).
            #[must_use]
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// The digest under which the value is stored.
            #[must_use]
            pub fn digest(&self) -> SecretDigest {
                SecretDigest::of(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }
    };
}

secret_type!(
    /// An authorization code (RFC 6749 §4.1.2): single use, short lived, bound to its grant.
    AuthorizationCode
);
secret_type!(
    /// A bearer access token (RFC 6750).
    AccessToken
);
secret_type!(
    /// A refresh token (RFC 6749 §6), rotated on every use.
    RefreshToken
);
secret_type!(
    /// A client secret as presented at the token endpoint, or as handed to a host at
    /// registration. Only its [`SecretDigest`] is stored.
    ClientSecret
);
