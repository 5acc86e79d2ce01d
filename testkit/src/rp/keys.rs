//! Compact JWS parsing and the keys an RP verifies ID token signatures with.

use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::Signer;
use serde_json::Value;

/// A compact JWS (RFC 7515 §7.1) split and decoded, not yet verified: its header and payload
/// must be base64url JSON objects.
#[derive(Clone, Debug)]
pub struct Jws<'t> {
    header: Value,
    payload: Value,
    signing_input: &'t str,
    signature: &'t str,
}

/// Why a token is not a compact JWS with JSON header and payload.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum JwsError {
    /// Not three dot-separated parts.
    Parts,
    /// The header is not a base64url JSON object.
    Header,
    /// The payload is not a base64url JSON object.
    Payload,
}

impl fmt::Display for JwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = match self {
            Self::Parts => "not three dot-separated parts",
            Self::Header => "the header is not a base64url JSON object",
            Self::Payload => "the payload is not a base64url JSON object",
        };
        f.write_str(message)
    }
}

impl core::error::Error for JwsError {}

fn json_object(part: &str) -> Option<Value> {
    let bytes = Base64UrlUnpadded::decode_vec(part).ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

impl<'t> Jws<'t> {
    /// Splits `token` and decodes its header and payload.
    ///
    /// # Errors
    ///
    /// [`JwsError`] if it is not a compact JWS whose header and payload are JSON objects.
    pub fn parse(token: &'t str) -> Result<Self, JwsError> {
        let (signing_input, signature) = token.rsplit_once('.').ok_or(JwsError::Parts)?;
        let (header, payload) = signing_input.split_once('.').ok_or(JwsError::Parts)?;
        if payload.contains('.') {
            return Err(JwsError::Parts);
        }
        Ok(Self {
            header: json_object(header).ok_or(JwsError::Header)?,
            payload: json_object(payload).ok_or(JwsError::Payload)?,
            signing_input,
            signature,
        })
    }

    /// The protected header.
    #[must_use]
    pub fn header(&self) -> &Value {
        &self.header
    }

    /// The payload (for an ID token, its claims).
    #[must_use]
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// The header's `alg`, if it is a string.
    #[must_use]
    pub fn alg(&self) -> Option<&str> {
        self.header["alg"].as_str()
    }

    /// The header's `kid`, if it is a string.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.header["kid"].as_str()
    }

    /// What the signature covers: the first two parts, as sent.
    #[must_use]
    pub fn signing_input(&self) -> &'t str {
        self.signing_input
    }

    /// The signature part, base64url as sent.
    #[must_use]
    pub fn signature(&self) -> &'t str {
        self.signature
    }
}

/// Why a signature was not accepted.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum KeyError {
    /// No trusted key fits the header's `kid` and `alg`.
    NoKey(String),
    /// A key fits, and the signature does not verify with it.
    BadSignature(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoKey(detail) => write!(f, "no key: {detail}"),
            Self::BadSignature(detail) => write!(f, "bad signature: {detail}"),
        }
    }
}

impl core::error::Error for KeyError {}

/// The keys a relying party trusts to sign ID tokens.
///
/// [`Jwks`] (feature `jwks`) is the provider's published JWK set, verified with an independent
/// JOSE implementation; a slice of [`Signer`]s verifies with the signers themselves (for
/// signers that publish no usable public key, such as a fuzzing signer).
pub trait KeySet {
    /// Verifies `jws`'s signature with the key its header's `kid` and `alg` name.
    ///
    /// # Errors
    ///
    /// [`KeyError::NoKey`] if no trusted key fits; [`KeyError::BadSignature`] if the
    /// signature does not verify.
    fn verify(&self, jws: &Jws<'_>) -> Result<(), KeyError>;
}

impl<K: KeySet + ?Sized> KeySet for &K {
    fn verify(&self, jws: &Jws<'_>) -> Result<(), KeyError> {
        (**self).verify(jws)
    }
}

/// The signer whose key id and algorithm the header names verifies the signature.
impl<S: Signer> KeySet for [S] {
    fn verify(&self, jws: &Jws<'_>) -> Result<(), KeyError> {
        let (kid, alg) = (jws.kid(), jws.alg());
        let signer = self
            .iter()
            .find(|s| Some(s.key_id()) == kid && Some(s.algorithm().as_str()) == alg)
            .ok_or_else(|| KeyError::NoKey(format!("no signer for kid {kid:?} and alg {alg:?}")))?;
        let signature = Base64UrlUnpadded::decode_vec(jws.signature())
            .map_err(|_| KeyError::BadSignature("the signature is not base64url".into()))?;
        signer
            .verify(jws.signing_input().as_bytes(), &signature)
            .map_err(|_| KeyError::BadSignature(format!("with the key {kid:?}")))
    }
}

#[cfg(feature = "jwks")]
pub use jwks::{Jwks, JwksError};

#[cfg(feature = "jwks")]
mod jwks {
    use core::fmt;

    use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
    use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
    use serde_json::Value;

    use super::{Jws, KeyError, KeySet};

    /// Members of a JWK that hold private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
    const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    /// A provider's published JWK set (RFC 7517 §5), as an RP trusts it: the signature keys that
    /// the independent JOSE implementation (`jsonwebtoken`) can use. Keys for encryption,
    /// symmetric keys and keys it cannot read are left out.
    pub struct Jwks {
        keys: Vec<Key>,
    }

    struct Key {
        kid: Option<String>,
        /// The key's `alg`, when the JWK names one.
        alg: Option<Algorithm>,
        key: DecodingKey,
    }

    impl fmt::Debug for Jwks {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Jwks")
                .field(
                    "keys",
                    &self
                        .keys
                        .iter()
                        .map(|k| (&k.kid, k.alg))
                        .collect::<Vec<_>>(),
                )
                .finish()
        }
    }

    /// Why a JWK set cannot be trusted.
    #[derive(Clone, Debug, Eq, PartialEq)]
    #[non_exhaustive]
    pub enum JwksError {
        /// There is no `keys` array.
        NoKeys,
        /// A key publishes private key material (the member named): the set must be refused.
        PrivateMember {
            /// The key's `kid`, if any.
            kid: Option<String>,
            /// The private member.
            member: &'static str,
        },
        /// No key is a usable signature key (how many keys were published).
        NoUsableKey(usize),
    }

    impl fmt::Display for JwksError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Self::NoKeys => f.write_str("the JWKS has no \"keys\" array"),
                Self::PrivateMember { kid, member } => {
                    write!(f, "the JWK {kid:?} publishes the private member {member:?}")
                }
                Self::NoUsableKey(published) => write!(
                    f,
                    "the JWKS has no usable signature key ({published} keys published)"
                ),
            }
        }
    }

    impl core::error::Error for JwksError {}

    impl Jwks {
        /// The usable signature keys of a JWK set document.
        ///
        /// # Errors
        ///
        /// [`JwksError`] if there is no `keys` array, a key publishes private material, or no
        /// key is usable.
        pub fn from_json(jwks: &Value) -> Result<Self, JwksError> {
            let list = jwks["keys"].as_array().ok_or(JwksError::NoKeys)?;
            let mut keys = Vec::new();
            for value in list {
                if let Some(member) = PRIVATE_MEMBERS.into_iter().find(|m| value.get(m).is_some()) {
                    return Err(JwksError::PrivateMember {
                        kid: value["kid"].as_str().map(str::to_owned),
                        member,
                    });
                }
                let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
                    continue;
                };
                if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                    continue;
                }
                let Ok(key) = DecodingKey::from_jwk(&jwk) else {
                    continue;
                };
                if key.family() == AlgorithmFamily::Hmac {
                    continue;
                }
                let alg = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| format!("{a:?}").parse::<Algorithm>().ok());
                keys.push(Key {
                    kid: jwk.common.key_id.clone(),
                    alg,
                    key,
                });
            }
            if keys.is_empty() {
                return Err(JwksError::NoUsableKey(list.len()));
            }
            Ok(Self { keys })
        }

        /// How many keys are usable.
        #[must_use]
        pub fn len(&self) -> usize {
            self.keys.len()
        }

        /// Whether no key is usable (never, for a set [`from_json`](Self::from_json) accepted).
        #[must_use]
        pub fn is_empty(&self) -> bool {
            self.keys.is_empty()
        }
    }

    /// Candidate keys are those with the header's `kid` or, without one, those of the `alg`'s
    /// family; a key whose own `alg` differs from the header's is never used.
    impl KeySet for Jwks {
        fn verify(&self, jws: &Jws<'_>) -> Result<(), KeyError> {
            let alg = jws
                .alg()
                .and_then(|a| a.parse::<Algorithm>().ok())
                .filter(|a| a.family() != AlgorithmFamily::Hmac)
                .ok_or_else(|| KeyError::NoKey(format!("no key for alg {:?}", jws.alg())))?;
            let kid = jws.kid();
            let mut failure = KeyError::NoKey(format!("no key for kid {kid:?} and alg {alg:?}"));
            let candidates = self.keys.iter().filter(|k| match kid {
                Some(kid) => k.kid.as_deref() == Some(kid),
                None => k.key.family() == alg.family(),
            });
            for key in candidates {
                if key.alg.is_some_and(|a| a != alg) || key.key.family() != alg.family() {
                    failure = KeyError::NoKey(format!(
                        "the key {:?} ({:?}) does not fit alg {alg:?}",
                        key.kid, key.alg
                    ));
                    continue;
                }
                let verified = jsonwebtoken::crypto::verify(
                    jws.signature(),
                    jws.signing_input().as_bytes(),
                    &key.key,
                    alg,
                );
                match verified {
                    Ok(true) => return Ok(()),
                    Ok(false) => {
                        failure = KeyError::BadSignature(format!("with the key {:?}", key.kid));
                    }
                    Err(e) => {
                        failure =
                            KeyError::BadSignature(format!("with the key {:?}: {e}", key.kid));
                    }
                }
            }
            Err(failure)
        }
    }
}
