//! [`ClientKeyVerifier`]: clients' signatures verified with ring.

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::{ClientJwk, JwsAlgorithm, JwsVerifier};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm};

/// The [`JwsVerifier`] on ring: ES256 and ES384 (P-256, P-384), EdDSA (Ed25519), RS256/384/512
/// and PS256/384/512 (RSA 2048 to 8192 bits), for `private_key_jwt` assertions and signed
/// request objects (RFC 7523 §3, RFC 9101 §4; RFC 7518 §3, RFC 8037 §3.1).
///
/// Keys come from the client's registered JWK set; a key whose type or curve does not fit the
/// algorithm never verifies (RFC 8725 §3.1). ECDSA signatures are the fixed-size `R || S` of
/// RFC 7518 §3.4.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientKeyVerifier;

const ALGORITHMS: &[JwsAlgorithm] = &[
    JwsAlgorithm::ES256,
    JwsAlgorithm::ES384,
    JwsAlgorithm::EdDSA,
    JwsAlgorithm::PS256,
    JwsAlgorithm::PS384,
    JwsAlgorithm::PS512,
    JwsAlgorithm::RS256,
    JwsAlgorithm::RS384,
    JwsAlgorithm::RS512,
];

fn decode(value: Option<&str>) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(value?).ok()
}

fn ec_point(key: &ClientJwk, len: usize) -> Option<Vec<u8>> {
    let (x, y) = (decode(key.x.as_deref())?, decode(key.y.as_deref())?);
    if x.len() != len || y.len() != len {
        return None;
    }
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Some(point)
}

fn rsa(key: &ClientJwk, alg: &'static signature::RsaParameters, input: &[u8], sig: &[u8]) -> bool {
    let (Some(n), Some(e)) = (decode(key.n.as_deref()), decode(key.e.as_deref())) else {
        return false;
    };
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(alg, input, sig)
        .is_ok()
}

fn unparsed(
    alg: &'static dyn VerificationAlgorithm,
    public: Option<Vec<u8>>,
    input: &[u8],
    sig: &[u8],
) -> bool {
    public.is_some_and(|public| {
        UnparsedPublicKey::new(alg, public)
            .verify(input, sig)
            .is_ok()
    })
}

impl JwsVerifier for ClientKeyVerifier {
    fn algorithms(&self) -> &[JwsAlgorithm] {
        ALGORITHMS
    }

    fn verify(&self, key: &ClientJwk, alg: JwsAlgorithm, input: &[u8], sig: &[u8]) -> bool {
        if !key.fits(alg) {
            return false;
        }
        match alg {
            JwsAlgorithm::ES256 => unparsed(
                &signature::ECDSA_P256_SHA256_FIXED,
                ec_point(key, 32),
                input,
                sig,
            ),
            JwsAlgorithm::ES384 => unparsed(
                &signature::ECDSA_P384_SHA384_FIXED,
                ec_point(key, 48),
                input,
                sig,
            ),
            JwsAlgorithm::EdDSA => {
                let x = decode(key.x.as_deref()).filter(|x| x.len() == 32);
                unparsed(&signature::ED25519, x, input, sig)
            }
            JwsAlgorithm::RS256 => rsa(key, &signature::RSA_PKCS1_2048_8192_SHA256, input, sig),
            JwsAlgorithm::RS384 => rsa(key, &signature::RSA_PKCS1_2048_8192_SHA384, input, sig),
            JwsAlgorithm::RS512 => rsa(key, &signature::RSA_PKCS1_2048_8192_SHA512, input, sig),
            JwsAlgorithm::PS256 => rsa(key, &signature::RSA_PSS_2048_8192_SHA256, input, sig),
            JwsAlgorithm::PS384 => rsa(key, &signature::RSA_PSS_2048_8192_SHA384, input, sig),
            JwsAlgorithm::PS512 => rsa(key, &signature::RSA_PSS_2048_8192_SHA512, input, sig),
            _ => false,
        }
    }
}
