//! Reading private keys before ring sees them: PEM armour (RFC 7468 §10) into a zeroizing
//! buffer, and the PKCS#8 envelope (RFC 5958 §2), so that a key of the wrong type, curve or size
//! gets its own [`KeyError`] instead of ring's undifferentiated rejection.

use pem_rfc7468::Decoder;
use pkcs8::der::Decode;
use pkcs8::{ObjectIdentifier, PrivateKeyInfoRef};
use zeroize::Zeroizing;

use crate::error::KeyError;

/// `rsaEncryption` (RFC 8017 Appendix A.1).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-ecPublicKey` (RFC 5480 §2.1.1).
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `secp256r1`, i.e. P-256 (RFC 5480 §2.1.1.1).
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// The DER inside a PEM `PRIVATE KEY` document (RFC 7468 §10), in a buffer that is zeroed on
/// drop. The Base64 is decoded in constant time, straight into a buffer of the exact size.
pub(crate) fn decode_pem(pem: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut decoder = Decoder::new(pem.as_bytes()).map_err(|_| KeyError::InvalidEncoding)?;
    if decoder.type_label() != "PRIVATE KEY" {
        return Err(KeyError::InvalidEncoding);
    }
    let mut der = Zeroizing::new(vec![0u8; decoder.remaining_len()]);
    decoder
        .decode(&mut der)
        .map_err(|_| KeyError::InvalidEncoding)?;
    if !decoder.is_finished() {
        return Err(KeyError::InvalidEncoding);
    }
    Ok(der)
}

/// Checks that `der` is a PKCS#8 key on P-256 (named curve, RFC 5480 §2.1.1).
pub(crate) fn expect_p256(der: &[u8]) -> Result<(), KeyError> {
    let info = PrivateKeyInfoRef::from_der(der).map_err(|_| KeyError::InvalidEncoding)?;
    if info.algorithm.oid != ID_EC_PUBLIC_KEY || info.algorithm.parameters_oid() != Ok(SECP256R1) {
        return Err(KeyError::UnsupportedKey);
    }
    Ok(())
}

/// Checks that `der` is a PKCS#8 RSA key and returns its modulus length in bits.
pub(crate) fn rsa_modulus_bits(der: &[u8]) -> Result<u32, KeyError> {
    let info = PrivateKeyInfoRef::from_der(der).map_err(|_| KeyError::InvalidEncoding)?;
    if info.algorithm.oid != RSA_ENCRYPTION {
        return Err(KeyError::UnsupportedKey);
    }
    let key = pkcs1::RsaPrivateKeyRef::from_der(info.private_key.as_bytes())
        .map_err(|_| KeyError::InvalidEncoding)?;
    Ok(bit_length(key.modulus.as_bytes()))
}

/// The bit length of a big-endian unsigned integer.
pub(crate) fn bit_length(be: &[u8]) -> u32 {
    let be = match be.iter().position(|&byte| byte != 0) {
        Some(first) => &be[first..],
        None => return 0,
    };
    let bytes = u32::try_from(be.len()).unwrap_or(u32::MAX / 8);
    bytes * 8 - be[0].leading_zeros()
}

#[cfg(test)]
mod tests {
    use base64ct::Encoding;

    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f, 0xff]), 15);
    }

    #[test]
    fn pem_label_and_armour() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x00];
        let body = base64ct::Base64::encode_string(&der);
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
        assert_eq!(decode_pem(&pem).as_deref().map(Vec::as_slice), Ok(&der[..]));

        let other = pem.replace("PRIVATE KEY", "RSA PRIVATE KEY");
        assert_eq!(decode_pem(&other), Err(KeyError::InvalidEncoding));
        let mismatched = pem.replace("END PRIVATE KEY", "END PUBLIC KEY");
        assert_eq!(decode_pem(&mismatched), Err(KeyError::InvalidEncoding));
        assert_eq!(decode_pem("not a key"), Err(KeyError::InvalidEncoding));
        let bad_base64 = pem.replace(&body, "!!!!");
        assert_eq!(decode_pem(&bad_base64), Err(KeyError::InvalidEncoding));
    }
}
