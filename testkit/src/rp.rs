//! The relying party's side, written independently of the provider's code: ID token
//! validation against the provider's keys, the hash claims, the consistency of the ID tokens of
//! one authentication, a whole flow's check, and what a client sends and receives.
//!
//! ```
//! use oidc_hybrid_testkit::rp::{IdTokenRules, Profile, rp_hash};
//!
//! // A front-channel ID token of a `code id_token` response must carry the nonce sent and the
//! // code's `c_hash`, signed with the client's registered algorithm.
//! # let (code, nonce) = ("the-code", "n-0S6_WzA2Mj");
//! let rules = IdTokenRules::new("https://op.example", "rs-basic")
//!     .alg("RS256")
//!     .nonce(Some(nonce))
//!     .c_hash(Some(code));
//! // let claims = rules.validate(id_token, &jwks); // panics naming every failed check
//! # let _ = (rules, Profile::Interop, rp_hash("RS256", code));
//! ```

mod delivered;
mod flow;
mod hash;
mod id_token;
mod keys;

pub use delivered::Delivered;
pub use flow::{FlowEvidence, FlowFailure, check_flow};
pub use hash::{hash_claim, rp_hash};
pub use id_token::{
    ACCEPTED_ALGS, Check, Expected, IdTokenReport, IdTokenRules, Profile, assert_passed,
    consistency, refresh_consistency,
};
#[cfg(feature = "jwks")]
pub use keys::{Jwks, JwksError};
pub use keys::{Jws, JwsError, KeyError, KeySet};

use base64ct::{Base64, Encoding as _};

/// The `Authorization: Basic` header value a client sends for `client_id` and `secret`, each
/// form-urlencoded first (RFC 6749 §2.3.1).
///
/// ```
/// assert_eq!(oidc_hybrid_testkit::rp::basic("a b", "p:w"), "Basic YStiOnAlM0F3");
/// ```
#[must_use]
pub fn basic(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let credentials = format!("{}:{}", encode(client_id), encode(secret));
    format!("Basic {}", Base64::encode_string(credentials.as_bytes()))
}

/// Form-urlencodes `pairs` (`application/x-www-form-urlencoded`), as a client sends a request
/// body or query.
#[must_use]
pub fn form<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name.as_ref(), value.as_ref());
    }
    serializer.finish()
}

/// Whether `text` may be an `error_description`: non-empty printable ASCII without `"` or `\`
/// (RFC 6749 §4.1.2.1, §5.2).
#[must_use]
pub fn safe_description(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}
