//! PKCE (RFC 7636): the challenge stored with a code, the verifier presented at the token
//! endpoint, and their comparison, with the downgrade check of RFC 9700 §2.1.1.

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::error::Reject;

/// A PKCE code challenge method (RFC 7636 §4.2).
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[non_exhaustive]
pub enum CodeChallengeMethod {
    /// `plain` (off unless the configuration allows it).
    #[serde(rename = "plain")]
    Plain,
    /// `S256`: BASE64URL(SHA256(verifier)).
    S256,
}

impl CodeChallengeMethod {
    /// The registered name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::S256 => "S256",
        }
    }
}

/// A PKCE code challenge with its method, stored with the code (RFC 7636 §4.4).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct CodeChallenge {
    value: String,
    method: CodeChallengeMethod,
}

impl CodeChallenge {
    /// Parses a challenge. `method` is the raw `code_challenge_method`, `None` if absent.
    ///
    /// # Errors
    ///
    /// - [`Reject::CodeChallengeMethodUnsupported`] for an unknown method, or `plain` (also
    ///   when implied by an absent method, RFC 7636 §4.3) unless `allow_plain`;
    /// - [`Reject::CodeChallengeMalformed`] if the value is not 43–128 unreserved characters, or
    ///   for S256 not exactly 43 base64url characters.
    pub fn parse(value: &str, method: Option<&str>, allow_plain: bool) -> Result<Self, Reject> {
        let method = match method {
            Some("S256") => CodeChallengeMethod::S256,
            Some("plain") | None if allow_plain => CodeChallengeMethod::Plain,
            _ => return Err(Reject::CodeChallengeMethodUnsupported),
        };
        let well_formed = match method {
            CodeChallengeMethod::S256 => {
                value.len() == 43
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            }
            CodeChallengeMethod::Plain => is_verifier_syntax(value),
        };
        if !well_formed {
            return Err(Reject::CodeChallengeMalformed);
        }
        Ok(Self {
            value: value.to_owned(),
            method,
        })
    }

    /// The challenge value.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The method.
    #[must_use]
    pub const fn method(&self) -> CodeChallengeMethod {
        self.method
    }
}

/// A `code_verifier` as presented at the token endpoint (RFC 7636 §4.1): 43–128 characters from
/// `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`. `Debug` is redacted; zeroized on drop.
#[derive(Clone, Eq, PartialEq)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    /// Parses a verifier.
    ///
    /// # Errors
    ///
    /// [`Reject::CodeVerifierMalformed`] for a value outside the RFC 7636 §4.1 syntax.
    pub fn parse(value: &str) -> Result<Self, Reject> {
        if is_verifier_syntax(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(Reject::CodeVerifierMalformed)
        }
    }

    /// The verifier as sent.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this verifier answers `challenge` (RFC 7636 §4.6), compared in constant time.
    #[must_use]
    pub fn answers(&self, challenge: &CodeChallenge) -> bool {
        let computed = match challenge.method() {
            CodeChallengeMethod::S256 => s256_challenge(&self.0),
            CodeChallengeMethod::Plain => self.0.clone(),
        };
        let expected = challenge.value().as_bytes();
        computed.len() == expected.len() && bool::from(computed.as_bytes().ct_eq(expected))
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier(<redacted>)")
    }
}

impl Drop for CodeVerifier {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Whether `value` has `code_verifier` syntax: 43–128 characters from
/// `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"` (RFC 7636 §4.1).
#[must_use]
pub fn is_verifier_syntax(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge for a verifier: `BASE64URL(SHA256(ASCII(verifier)))`.
#[must_use]
pub fn s256_challenge(verifier: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

/// Checks a token request's `code_verifier` against the challenge stored with the code. The
/// verifier arrives as its parse result: a malformed verifier is reported only once the code is
/// known to have been issued with a challenge (the code is spent either way).
///
/// # Errors
///
/// - [`Reject::CodeVerifierMissing`]: a challenge was stored and no verifier sent;
/// - [`Reject::CodeVerifierUnexpected`]: a verifier sent for a code without challenge (PKCE
///   downgrade, RFC 9700 §2.1.1);
/// - [`Reject::CodeVerifierMalformed`]: bad syntax (checked before comparing);
/// - [`Reject::CodeVerifierMismatch`]: the verifier does not match (constant-time compare).
pub fn verify(
    challenge: Option<&CodeChallenge>,
    verifier: Option<Result<&CodeVerifier, Reject>>,
) -> Result<(), Reject> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Reject::CodeVerifierUnexpected),
        (Some(_), None) => Err(Reject::CodeVerifierMissing),
        (Some(challenge), Some(verifier)) => {
            if verifier?.answers(challenge) {
                Ok(())
            } else {
                Err(Reject::CodeVerifierMismatch)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `verify` with `value` as the presented verifier.
    fn check(challenge: Option<&CodeChallenge>, value: &str) -> Result<(), Reject> {
        let parsed = CodeVerifier::parse(value);
        verify(challenge, Some(parsed.as_ref().map_err(|r| *r)))
    }

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let good = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256_challenge(good),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let challenge = CodeChallenge::parse(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            Some("S256"),
            false,
        )
        .unwrap();
        assert_eq!(check(Some(&challenge), good), Ok(()));
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj";
        assert_eq!(
            check(Some(&challenge), other),
            Err(Reject::CodeVerifierMismatch)
        );
        assert_eq!(
            verify(Some(&challenge), None),
            Err(Reject::CodeVerifierMissing)
        );
        assert_eq!(check(None, good), Err(Reject::CodeVerifierUnexpected));
        assert_eq!(
            check(Some(&challenge), "short"),
            Err(Reject::CodeVerifierMalformed)
        );
        assert_eq!(check(None, "short"), Err(Reject::CodeVerifierUnexpected));
    }

    /// A verifier never shows itself in `Debug` output.
    #[test]
    fn verifier_debug_is_redacted() {
        let v = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(alloc::format!("{v:?}"), "CodeVerifier(<redacted>)");
    }
}
