#![doc = include_str!("../README.md")]

mod error;
mod es256;
mod pkcs8;
mod rsa_signer;
mod verifier;

pub use error::KeyError;
pub use es256::Es256Signer;
pub use rsa_signer::RsaSigner;
pub use verifier::ClientKeyVerifier;

/// base64url without padding (RFC 7515 §2, RFC 4648 §5).
mod b64 {
    use base64ct::{Base64UrlUnpadded, Encoding};

    /// Encodes `bytes` as unpadded base64url.
    pub(crate) fn encode(bytes: &[u8]) -> String {
        Base64UrlUnpadded::encode_string(bytes)
    }
}
