//! PKCE verification (RFC 7636 §4.6), with the downgrade check of RFC 9700 §2.1.1.

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Reject;
use crate::value::{CodeChallenge, CodeChallengeMethod};

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
pub fn s256_challenge(verifier: &str) -> alloc::string::String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

/// Checks a token request's `code_verifier` against the challenge stored with the code.
///
/// # Errors
///
/// - [`Reject::CodeVerifierMissing`]: a challenge was stored and no verifier sent;
/// - [`Reject::CodeVerifierUnexpected`]: a verifier sent for a code without challenge (PKCE
///   downgrade, RFC 9700 §2.1.1);
/// - [`Reject::CodeVerifierMalformed`]: bad syntax (checked before comparing);
/// - [`Reject::CodeVerifierMismatch`]: the verifier does not match (constant-time compare).
pub fn verify(challenge: Option<&CodeChallenge>, verifier: Option<&str>) -> Result<(), Reject> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Reject::CodeVerifierUnexpected),
        (Some(_), None) => Err(Reject::CodeVerifierMissing),
        (Some(challenge), Some(verifier)) => {
            if !is_verifier_syntax(verifier) {
                return Err(Reject::CodeVerifierMalformed);
            }
            let computed = match challenge.method() {
                CodeChallengeMethod::S256 => s256_challenge(verifier),
                CodeChallengeMethod::Plain => verifier.into(),
            };
            let expected = challenge.value().as_bytes();
            let equal =
                computed.len() == expected.len() && bool::from(computed.as_bytes().ct_eq(expected));
            if equal {
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

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let challenge = CodeChallenge::parse(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            Some("S256"),
            false,
        )
        .unwrap();
        assert_eq!(verify(Some(&challenge), Some(verifier)), Ok(()));
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj";
        assert_eq!(
            verify(Some(&challenge), Some(other)),
            Err(Reject::CodeVerifierMismatch)
        );
        assert_eq!(
            verify(Some(&challenge), None),
            Err(Reject::CodeVerifierMissing)
        );
        assert_eq!(
            verify(None, Some(verifier)),
            Err(Reject::CodeVerifierUnexpected)
        );
        assert_eq!(
            verify(Some(&challenge), Some("short")),
            Err(Reject::CodeVerifierMalformed)
        );
    }
}
