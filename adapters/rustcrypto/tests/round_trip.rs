//! Sign → verify round trips for ES256, RS256 and PS256; key loading, export and generation;
//! key-size limits; failing random sources.

#[path = "support/helpers.rs"]
mod helpers;

use std::sync::OnceLock;
use std::time::Instant;

use helpers::{
    FailingRng, P256_PKCS8_PEM, RSA1024_PKCS8_PEM, RSA2048_PKCS1_PEM, RSA2048_PKCS8_PEM, TestRng,
};
use oidc_hybrid::{JwsAlgorithm, SignError, Signer};
use oidc_hybrid_rustcrypto::p256::ecdsa::Signature;
use oidc_hybrid_rustcrypto::rsa::RsaPrivateKey;
use oidc_hybrid_rustcrypto::rsa::pkcs8::DecodePrivateKey;
use oidc_hybrid_rustcrypto::{Es256Signer, KeyError, PublicKey, RsaSigner, jwk_thumbprint};

const INPUT: &[u8] = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9";

fn rs256() -> &'static RsaSigner {
    static SIGNER: OnceLock<RsaSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        RsaSigner::from_pkcs8_pem(RSA2048_PKCS8_PEM, JwsAlgorithm::RS256, None)
            .expect("committed test key loads")
    })
}

fn ps256() -> &'static RsaSigner {
    static SIGNER: OnceLock<RsaSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        RsaSigner::from_pkcs8_pem(RSA2048_PKCS8_PEM, JwsAlgorithm::PS256, Some("ps-1"))
            .expect("committed test key loads")
    })
}

/// Signs `INPUT`, then checks the signature with the signer, with its `public_key()`, and with
/// a `PublicKey` rebuilt from the published JWK; and that tampering breaks all three.
fn round_trip(signer: &dyn Signer, public: &PublicKey) -> Vec<u8> {
    let alg = signer.algorithm();
    let signature = signer.try_sign(INPUT, &TestRng::new(11)).expect("signs");

    let from_jwk = PublicKey::from_jwk(&signer.public_jwk()).expect("own JWK is acceptable");
    assert_eq!(from_jwk.algorithm(), Some(alg));
    assert_eq!(from_jwk.key_id(), Some(signer.key_id()));

    assert_eq!(signer.verify(INPUT, &signature), Ok(()));
    assert_eq!(public.verify(alg, INPUT, &signature), Ok(()));
    assert_eq!(from_jwk.verify(alg, INPUT, &signature), Ok(()));

    let mut tampered_input = INPUT.to_vec();
    tampered_input[5] ^= 0x01;
    assert_eq!(
        signer.verify(&tampered_input, &signature),
        Err(SignError::new())
    );
    assert!(from_jwk.verify(alg, &tampered_input, &signature).is_err());

    let mut tampered_signature = signature.clone();
    let last = tampered_signature.len() - 1;
    tampered_signature[last] ^= 0x80;
    assert!(signer.verify(INPUT, &tampered_signature).is_err());
    assert!(from_jwk.verify(alg, INPUT, &tampered_signature).is_err());

    assert!(signer.verify(INPUT, &[]).is_err());
    assert!(signer.verify(INPUT, &signature[1..]).is_err());
    signature
}

#[test]
fn es256_round_trip_and_signature_is_64_bytes() {
    let signer = Es256Signer::generate(&TestRng::new(5), Some("ec-1")).expect("generates");
    let signature = round_trip(&signer, &signer.public_key());
    assert_eq!(signature.len(), 64);
}

#[test]
fn es256_refuses_der_signatures() {
    let signer = Es256Signer::generate(&TestRng::new(6), None).expect("generates");
    let raw = signer.try_sign(INPUT, &TestRng::new(1)).expect("signs");
    let der = Signature::from_slice(&raw).expect("R || S").to_der();
    assert_ne!(der.as_bytes().len(), 64);
    assert!(signer.verify(INPUT, der.as_bytes()).is_err());
    assert!(
        signer
            .public_key()
            .verify(JwsAlgorithm::ES256, INPUT, der.as_bytes())
            .is_err()
    );
}

/// Round-trips a 256-byte RSA-2048 signature of `signer`, then signs the same input again.
fn signed_twice(signer: &RsaSigner) -> (Vec<u8>, Vec<u8>) {
    let signature = round_trip(signer, &signer.public_key());
    assert_eq!(signature.len(), 256);
    let again = signer.try_sign(INPUT, &TestRng::new(12)).expect("signs");
    (signature, again)
}

#[test]
fn rs256_round_trip_and_is_deterministic() {
    let (signature, again) = signed_twice(rs256());
    assert_eq!(again, signature, "RSASSA-PKCS1-v1_5 is deterministic");
}

#[test]
fn ps256_round_trip_and_is_randomised() {
    let signer = ps256();
    let (signature, again) = signed_twice(signer);
    assert_ne!(again, signature, "RSASSA-PSS salts differ");
    assert_eq!(signer.verify(INPUT, &again), Ok(()));
}

#[test]
fn rs256_and_ps256_signatures_do_not_cross_verify() {
    let rs = rs256().try_sign(INPUT, &TestRng::new(1)).expect("signs");
    let ps = ps256().try_sign(INPUT, &TestRng::new(1)).expect("signs");
    assert!(ps256().verify(INPUT, &rs).is_err());
    assert!(rs256().verify(INPUT, &ps).is_err());
}

#[test]
fn public_jwks_carry_no_private_material() {
    let ec = Es256Signer::generate(&TestRng::new(8), None).expect("generates");
    for jwk in [ec.public_jwk(), rs256().public_jwk()] {
        let json = serde_json::to_value(&jwk).expect("serialises");
        let object = json.as_object().expect("object");
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(!object.contains_key(private), "{private} leaked");
        }
        assert_eq!(object["use"], "sig");
    }
    let ec_jwk = ec.public_jwk();
    assert_eq!(ec_jwk.kty, "EC");
    assert_eq!(ec_jwk.crv.as_deref(), Some("P-256"));
    for coordinate in [&ec_jwk.x, &ec_jwk.y] {
        let len = coordinate.as_deref().map(str::len);
        assert_eq!(len, Some(43), "32 bytes, unpadded");
    }
    let rsa_jwk = rs256().public_jwk();
    assert_eq!(rsa_jwk.e.as_deref(), Some("AQAB"));
    assert_eq!(
        rsa_jwk.n.as_deref().map(str::len),
        Some(342),
        "256 bytes, unpadded"
    );
}

#[test]
fn debug_output_names_the_key_only() {
    let ec = Es256Signer::generate(&TestRng::new(8), Some("ec-dbg")).expect("generates");
    assert_eq!(format!("{ec:?}"), r#"Es256Signer { kid: "ec-dbg", .. }"#);
    let rsa = format!("{:?}", ps256());
    assert_eq!(
        rsa,
        r#"RsaSigner { alg: PS256, kid: "ps-1", bits: 2048, .. }"#
    );
}

#[test]
fn default_kid_is_the_rfc7638_thumbprint() {
    let ec = Es256Signer::generate(&TestRng::new(9), None).expect("generates");
    assert_eq!(ec.key_id(), ec.thumbprint());
    assert_eq!(jwk_thumbprint(&ec.public_jwk()).as_deref(), Ok(ec.key_id()));
    assert_eq!(ec.key_id().len(), 43);
    assert_eq!(rs256().key_id(), rs256().thumbprint());
    assert_eq!(ps256().key_id(), "ps-1");
    assert_eq!(ps256().thumbprint(), rs256().thumbprint(), "same key");
}

#[test]
fn empty_kid_is_refused() {
    assert_eq!(
        Es256Signer::generate(&TestRng::new(9), Some("")).map(|_| ()),
        Err(KeyError::EmptyKeyId)
    );
    assert_eq!(
        RsaSigner::from_pkcs8_pem(RSA2048_PKCS8_PEM, JwsAlgorithm::RS256, Some("")).map(|_| ()),
        Err(KeyError::EmptyKeyId)
    );
}

#[test]
fn es256_pkcs8_round_trips() {
    let signer = Es256Signer::generate(&TestRng::new(10), None).expect("generates");
    let pem = signer.to_pkcs8_pem().expect("encodes");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let from_pem = Es256Signer::from_pkcs8_pem(&pem, None).expect("decodes");
    assert_eq!(from_pem.public_jwk(), signer.public_jwk());

    let der = signer.to_pkcs8_der().expect("encodes");
    let from_der = Es256Signer::from_pkcs8_der(&der, None).expect("decodes");
    assert_eq!(from_der.public_jwk(), signer.public_jwk());

    // A signature by the reloaded key verifies under the original.
    let signature = from_der.try_sign(INPUT, &TestRng::new(2)).expect("signs");
    assert_eq!(signer.verify(INPUT, &signature), Ok(()));
}

#[test]
fn es256_loads_openssl_key_and_refuses_rsa() {
    let signer = Es256Signer::from_pkcs8_pem(P256_PKCS8_PEM, Some("openssl")).expect("loads");
    round_trip(&signer, &signer.public_key());
    assert_eq!(
        Es256Signer::from_pkcs8_pem(RSA2048_PKCS8_PEM, None).map(|_| ()),
        Err(KeyError::InvalidEncoding)
    );
    assert_eq!(
        Es256Signer::from_pkcs8_der(b"not der", None).map(|_| ()),
        Err(KeyError::InvalidEncoding)
    );
}

#[test]
fn rsa_pkcs8_and_pkcs1_round_trips() {
    let signer = rs256();
    let expected = signer.public_jwk();

    let pkcs1 = RsaSigner::from_pkcs1_pem(RSA2048_PKCS1_PEM, JwsAlgorithm::RS256, None)
        .expect("openssl PKCS#1 key loads");
    assert_eq!(pkcs1.public_jwk(), expected);

    let der = signer.to_pkcs8_der().expect("encodes");
    let from_der = RsaSigner::from_pkcs8_der(&der, JwsAlgorithm::RS256, None).expect("decodes");
    assert_eq!(from_der.public_jwk(), expected);

    let pem = signer.to_pkcs8_pem().expect("encodes");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let from_pem = RsaSigner::from_pkcs8_pem(&pem, JwsAlgorithm::RS256, None).expect("decodes");
    assert_eq!(from_pem.public_jwk(), expected);

    let pkcs1_der = signer.to_pkcs1_der().expect("encodes");
    let from_pkcs1_der =
        RsaSigner::from_pkcs1_der(&pkcs1_der, JwsAlgorithm::RS256, None).expect("decodes");
    assert_eq!(from_pkcs1_der.public_jwk(), expected);

    let pkcs1_pem = signer.to_pkcs1_pem().expect("encodes");
    assert!(pkcs1_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let from_pkcs1_pem =
        RsaSigner::from_pkcs1_pem(&pkcs1_pem, JwsAlgorithm::RS256, None).expect("decodes");
    assert_eq!(from_pkcs1_pem.public_jwk(), expected);

    assert_eq!(
        RsaSigner::from_pkcs8_pem(P256_PKCS8_PEM, JwsAlgorithm::RS256, None).map(|_| ()),
        Err(KeyError::InvalidEncoding)
    );
}

#[test]
fn rsa_1024_bit_key_is_refused() {
    for alg in [JwsAlgorithm::RS256, JwsAlgorithm::PS256] {
        assert_eq!(
            RsaSigner::from_pkcs8_pem(RSA1024_PKCS8_PEM, alg, None).map(|_| ()),
            Err(KeyError::RsaKeyTooSmall { bits: 1024 })
        );
    }
    // Refused before any generation work is done.
    assert_eq!(
        RsaSigner::generate(&TestRng::new(1), 1024, JwsAlgorithm::RS256, None).map(|_| ()),
        Err(KeyError::RsaKeyTooSmall { bits: 1024 })
    );
    assert_eq!(
        RsaSigner::generate(&TestRng::new(1), 16384, JwsAlgorithm::RS256, None).map(|_| ()),
        Err(KeyError::RsaKeyTooLarge { bits: 16384 })
    );
}

#[test]
fn rsa_signer_refuses_other_algorithms() {
    let key = load_rsa_key;
    assert_eq!(
        RsaSigner::new(JwsAlgorithm::ES256, key(), None).map(|_| ()),
        Err(KeyError::AlgorithmMismatch)
    );
    for alg in [
        JwsAlgorithm::RS512,
        JwsAlgorithm::PS384,
        JwsAlgorithm::EdDSA,
    ] {
        assert_eq!(
            RsaSigner::new(alg, key(), None).map(|_| ()),
            Err(KeyError::UnsupportedAlgorithm)
        );
    }
}

fn load_rsa_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(RSA2048_PKCS8_PEM).expect("committed test key loads")
}

#[test]
fn failing_random_source_is_reported() {
    assert_eq!(
        Es256Signer::generate(&FailingRng, None).map(|_| ()),
        Err(KeyError::RandomFailed)
    );
    assert_eq!(
        RsaSigner::generate(&FailingRng, 2048, JwsAlgorithm::RS256, None).map(|_| ()),
        Err(KeyError::RandomFailed)
    );

    let ec = Es256Signer::generate(&TestRng::new(4), None).expect("generates");
    assert_eq!(ec.try_sign(INPUT, &FailingRng), Err(SignError::new()));
    // RSA blinding needs randomness for RS256 as well as PS256.
    assert_eq!(rs256().try_sign(INPUT, &FailingRng), Err(SignError::new()));
    assert_eq!(ps256().try_sign(INPUT, &FailingRng), Err(SignError::new()));
}

#[test]
fn signers_are_object_safe_and_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Es256Signer>();
    assert_send_sync::<RsaSigner>();
    assert_send_sync::<PublicKey>();

    let keys: Vec<Box<dyn Signer>> = vec![
        Box::new(Es256Signer::generate(&TestRng::new(2), None).expect("generates")),
        Box::new(
            RsaSigner::from_pkcs8_pem(RSA2048_PKCS8_PEM, JwsAlgorithm::PS256, None).expect("loads"),
        ),
    ];
    for key in &keys {
        let signature = key.try_sign(INPUT, &TestRng::new(3)).expect("signs");
        assert_eq!(key.verify(INPUT, &signature), Ok(()));
    }
}

/// Generating a 2048-bit key is slow in an unoptimised build; it runs once here.
#[test]
fn rsa_generate_2048_round_trip() {
    static GENERATED: OnceLock<RsaSigner> = OnceLock::new();
    let started = Instant::now();
    let signer = GENERATED.get_or_init(|| {
        RsaSigner::generate(&TestRng::new(2048), 2048, JwsAlgorithm::PS256, None)
            .expect("generates")
    });
    eprintln!("RSA-2048 generation took {:?}", started.elapsed());
    assert_eq!(signer.bits(), 2048);
    assert_eq!(signer.public_jwk().e.as_deref(), Some("AQAB"));
    round_trip(signer, &signer.public_key());
}

/// The raw-scalar constructor loads the same key as PKCS#8 and refuses scalars outside
/// `1..n` (SEC 1 §2.3.7).
#[test]
fn es256_from_scalar_bytes_matches_pkcs8() {
    use oidc_hybrid_rustcrypto::p256::ecdsa::SigningKey;

    let key = SigningKey::from_pkcs8_pem(P256_PKCS8_PEM).expect("committed test key loads");
    let scalar: [u8; 32] = key.to_bytes().into();
    let raw = Es256Signer::from_scalar_bytes(&scalar, None).expect("valid scalar");
    let pkcs8 = Es256Signer::from_pkcs8_pem(P256_PKCS8_PEM, None).expect("key");
    assert_eq!(raw.public_jwk(), pkcs8.public_jwk());
    let signature = raw.try_sign(INPUT, &TestRng::new(3)).expect("sign");
    assert_eq!(pkcs8.verify(INPUT, &signature), Ok(()));

    assert_eq!(
        Es256Signer::from_scalar_bytes(&[0; 32], None).err(),
        Some(KeyError::InvalidKey)
    );
    assert_eq!(
        Es256Signer::from_scalar_bytes(&[0xff; 32], None).err(),
        Some(KeyError::InvalidKey)
    );
    assert_eq!(
        Es256Signer::from_scalar_bytes(&scalar, Some("")).err(),
        Some(KeyError::EmptyKeyId)
    );
}
