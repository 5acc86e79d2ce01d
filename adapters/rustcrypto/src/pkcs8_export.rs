//! PKCS#8 export shared by the signers: DER and PEM in buffers that are zeroed on drop.

use alloc::string::String;
use alloc::vec::Vec;

use p256::pkcs8::{EncodePrivateKey, LineEnding};
use zeroize::Zeroizing;

use crate::error::KeyError;

/// The private key as PKCS#8 DER (RFC 5958).
pub(crate) fn der(key: &impl EncodePrivateKey) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let document = key.to_pkcs8_der().map_err(|_| KeyError::EncodingFailed)?;
    Ok(document.to_bytes())
}

/// The private key as a PEM `PRIVATE KEY` (PKCS#8, RFC 7468 §10, LF line endings).
pub(crate) fn pem(key: &impl EncodePrivateKey) -> Result<Zeroizing<String>, KeyError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| KeyError::EncodingFailed)
}
