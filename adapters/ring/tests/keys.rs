//! Key loading: every refusal has its own `KeyError`; tampered signatures fail; `Debug` shows no
//! key material.

use base64ct::{Base64, Encoding};
use oidc_hybrid::{JwsAlgorithm, SignError, Signer};
use oidc_hybrid_ring::{Es256Signer, KeyError, RsaSigner};
use oidc_hybrid_rustcrypto::OsRandom;

const ES256_PEM: &str = include_str!("../../../tests/keys/es256.pem");
const RS256_PEM: &str = include_str!("../../../tests/keys/rs256.pem");
const RSA2048_PEM: &str = include_str!("keys/rsa2048.pkcs8.pem");
const RSA1024_PEM: &str = include_str!("keys/rsa1024.pkcs8.pem");
const RSA4608_PEM: &str = include_str!("keys/rsa4608.pkcs8.pem");
const P384_PEM: &str = include_str!("keys/p384.pkcs8.pem");

const INPUT: &[u8] = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9";

fn der_of(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    Base64::decode_vec(&body).expect("fixture is PEM")
}

fn rsa_err(pem: &str, alg: JwsAlgorithm) -> KeyError {
    RsaSigner::from_pkcs8_pem(pem, alg, None).expect_err("must be refused")
}

fn es_err(pem: &str) -> KeyError {
    Es256Signer::from_pkcs8_pem(pem, None).expect_err("must be refused")
}

#[test]
fn fixtures_decode() {
    // The helper above must see the same DER the crate does, or the DER tests prove nothing.
    let der = der_of(ES256_PEM);
    assert_eq!(der.first(), Some(&0x30));
    assert!(Es256Signer::from_pkcs8_der(&der, None).is_ok());
}

#[test]
fn garbage_is_invalid_encoding() {
    for der in [&b""[..], b"\x30\x03\x02\x01", b"not DER at all", &[0u8; 64]] {
        assert_eq!(
            Es256Signer::from_pkcs8_der(der, None).err(),
            Some(KeyError::InvalidEncoding)
        );
        assert_eq!(
            RsaSigner::from_pkcs8_der(der, JwsAlgorithm::RS256, None).err(),
            Some(KeyError::InvalidEncoding)
        );
    }
    for pem in [
        "",
        "garbage",
        "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
    ] {
        assert_eq!(es_err(pem), KeyError::InvalidEncoding);
        assert_eq!(rsa_err(pem, JwsAlgorithm::RS256), KeyError::InvalidEncoding);
    }
    // A PEM of another type: the label is checked, not only the contents.
    let relabelled = RS256_PEM.replace("PRIVATE KEY", "RSA PRIVATE KEY");
    assert_eq!(
        rsa_err(&relabelled, JwsAlgorithm::RS256),
        KeyError::InvalidEncoding
    );
    // A truncated key.
    let der = der_of(RS256_PEM);
    assert_eq!(
        RsaSigner::from_pkcs8_der(&der[..der.len() - 10], JwsAlgorithm::RS256, None).err(),
        Some(KeyError::InvalidEncoding)
    );
}

#[test]
fn wrong_key_types_are_unsupported() {
    assert_eq!(
        rsa_err(ES256_PEM, JwsAlgorithm::RS256),
        KeyError::UnsupportedKey
    );
    assert_eq!(
        rsa_err(ES256_PEM, JwsAlgorithm::PS256),
        KeyError::UnsupportedKey
    );
    assert_eq!(es_err(RS256_PEM), KeyError::UnsupportedKey);
    assert_eq!(es_err(P384_PEM), KeyError::UnsupportedKey);
    assert_eq!(
        rsa_err(P384_PEM, JwsAlgorithm::RS256),
        KeyError::UnsupportedKey
    );
}

#[test]
fn rsa_signer_takes_rs256_and_ps256_only() {
    assert_eq!(
        rsa_err(RS256_PEM, JwsAlgorithm::ES256),
        KeyError::AlgorithmMismatch
    );
    for alg in [
        JwsAlgorithm::RS384,
        JwsAlgorithm::RS512,
        JwsAlgorithm::PS384,
        JwsAlgorithm::PS512,
        JwsAlgorithm::ES384,
        JwsAlgorithm::ES512,
        JwsAlgorithm::EdDSA,
    ] {
        assert_eq!(
            rsa_err(RS256_PEM, alg),
            KeyError::UnsupportedAlgorithm,
            "{alg}"
        );
    }
    for alg in [JwsAlgorithm::RS256, JwsAlgorithm::PS256] {
        let signer = RsaSigner::from_pkcs8_pem(RSA2048_PEM, alg, None).expect("loads");
        assert_eq!(signer.algorithm(), alg);
        assert_eq!(signer.bits(), 2048);
    }
}

#[test]
fn rsa_modulus_bounds() {
    assert_eq!(RsaSigner::MIN_BITS, 2048);
    assert_eq!(RsaSigner::MAX_BITS, 4096);
    assert_eq!(
        rsa_err(RSA1024_PEM, JwsAlgorithm::RS256),
        KeyError::RsaKeyTooSmall { bits: 1024 }
    );
    assert_eq!(
        rsa_err(RSA4608_PEM, JwsAlgorithm::PS256),
        KeyError::RsaKeyTooLarge { bits: 4608 }
    );
}

#[test]
fn empty_key_id_is_refused() {
    assert_eq!(
        Es256Signer::from_pkcs8_pem(ES256_PEM, Some("")).err(),
        Some(KeyError::EmptyKeyId)
    );
    assert_eq!(
        Es256Signer::generate(Some("")).err(),
        Some(KeyError::EmptyKeyId)
    );
    assert_eq!(
        RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some("")).err(),
        Some(KeyError::EmptyKeyId)
    );
}

#[test]
fn inconsistent_key_material_is_invalid_key() {
    // The P-256 key's embedded public point ends the DER: altering it makes the public key
    // disagree with the private scalar, and the fallback must not paper over that.
    let mut der = der_of(ES256_PEM);
    let last = der.len() - 1;
    der[last] ^= 0x01;
    assert_eq!(
        Es256Signer::from_pkcs8_der(&der, None).err(),
        Some(KeyError::InvalidKey)
    );

    // The RSA key ends with the CRT coefficient qInv: altering it breaks q * qInv = 1 mod p.
    let mut der = der_of(RS256_PEM);
    let last = der.len() - 1;
    der[last] ^= 0x01;
    assert_eq!(
        RsaSigner::from_pkcs8_der(&der, JwsAlgorithm::RS256, None).err(),
        Some(KeyError::InvalidKey)
    );
}

#[test]
fn tampered_signatures_fail() {
    let es = Es256Signer::from_pkcs8_pem(ES256_PEM, None).expect("loads");
    let rs = RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, None).expect("loads");
    let ps = RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::PS256, None).expect("loads");
    for signer in [&es as &dyn Signer, &rs, &ps] {
        let signature = signer.try_sign(INPUT, &OsRandom).expect("signs");
        assert_eq!(signer.verify(INPUT, &signature), Ok(()));
        for i in [0, signature.len() / 2, signature.len() - 1] {
            let mut tampered = signature.clone();
            tampered[i] ^= 0x80;
            assert_eq!(signer.verify(INPUT, &tampered), Err(SignError::new()));
        }
        assert_eq!(
            signer.verify(INPUT, &signature[..signature.len() - 1]),
            Err(SignError::new())
        );
        assert_eq!(signer.verify(INPUT, &[]), Err(SignError::new()));
        assert_eq!(
            signer.verify(b"other input", &signature),
            Err(SignError::new())
        );
    }
}

#[test]
fn debug_shows_no_key_material() {
    let es = Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es-1")).expect("loads");
    assert_eq!(format!("{es:?}"), r#"Es256Signer { kid: "es-1", .. }"#);
    let rs =
        RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::PS256, Some("ps-1")).expect("loads");
    assert_eq!(
        format!("{rs:?}"),
        r#"RsaSigner { alg: PS256, kid: "ps-1", bits: 2048, .. }"#
    );
    let boxed: Box<dyn Signer> = Box::new(rs);
    assert_eq!(
        format!("{boxed:?}"),
        r#"Signer { alg: PS256, kid: "ps-1", .. }"#
    );
}

#[test]
fn key_errors_display_and_are_errors() {
    let error: Box<dyn core::error::Error> = Box::new(KeyError::RsaKeyTooSmall { bits: 1024 });
    assert_eq!(
        error.to_string(),
        "RSA key of 1024 bits is too small (minimum 2048)"
    );
    assert_eq!(
        KeyError::RsaKeyTooLarge { bits: 4608 }.to_string(),
        "RSA key of 4608 bits is too large (maximum 4096)"
    );
    assert_eq!(
        KeyError::UnsupportedKey.to_string(),
        "key type or curve is not supported"
    );
}
