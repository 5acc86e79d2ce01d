//! The ring signers against `oidc-hybrid-rustcrypto`, key for key: signatures verify across the
//! two implementations both ways, RS256 signatures are byte-identical (RSASSA-PKCS1-v1_5 is
//! deterministic, RFC 8017 §8.2.1), and the published JWKs and default key ids agree.

use oidc_hybrid::{JwsAlgorithm, SignError, Signer};
use oidc_hybrid_ring::{Es256Signer, RsaSigner};
use oidc_hybrid_rustcrypto as rustcrypto;
use rustcrypto::{OsRandom, PublicKey, jwk_thumbprint};

const ES256_PEM: &str = include_str!("../../../tests/keys/es256.pem");
const RS256_PEM: &str = include_str!("../../../tests/keys/rs256.pem");
const P256_NO_PUBLIC_PEM: &str = include_str!("keys/p256-no-public.pkcs8.pem");

/// A realistic signing input: `base64url(header) "." base64url(payload)` of an ID token.
const INPUT: &[u8] = b"eyJhbGciOiJSUzI1NiIsImtpZCI6InJzLTEiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWIiOiJhbGljZSIsImF1ZCI6InJzLWJhc2ljIiwiZXhwIjoxODAwMDAwNjAwLCJpYXQiOjE4MDAwMDAwMDAsIm5vbmNlIjoibi0wUzZfV3pBMk1qIn0";

fn ring_es256(kid: Option<&str>) -> Es256Signer {
    Es256Signer::from_pkcs8_pem(ES256_PEM, kid).expect("test key loads in ring")
}

fn rc_es256(kid: Option<&str>) -> rustcrypto::Es256Signer {
    rustcrypto::Es256Signer::from_pkcs8_pem(ES256_PEM, kid).expect("test key loads in RustCrypto")
}

fn ring_rsa(alg: JwsAlgorithm, kid: Option<&str>) -> RsaSigner {
    RsaSigner::from_pkcs8_pem(RS256_PEM, alg, kid).expect("test key loads in ring")
}

fn rc_rsa(alg: JwsAlgorithm, kid: Option<&str>) -> rustcrypto::RsaSigner {
    rustcrypto::RsaSigner::from_pkcs8_pem(RS256_PEM, alg, kid)
        .expect("test key loads in RustCrypto")
}

/// `ring` and `rc` hold the same key for the same algorithm: each one's signature verifies with
/// the other (as a `Signer` and through a `PublicKey` built from the JWK), and tampering breaks
/// it.
fn assert_cross_verifies(ring: &dyn Signer, rc: &dyn Signer) {
    let alg = ring.algorithm();
    assert_eq!(rc.algorithm(), alg);

    let by_ring = ring.try_sign(INPUT, &OsRandom).expect("ring signs");
    let by_rc = rc.try_sign(INPUT, &OsRandom).expect("RustCrypto signs");

    let rc_public = PublicKey::from_jwk(&rc.public_jwk()).expect("RustCrypto JWK is usable");
    assert_eq!(rc_public.verify(alg, INPUT, &by_ring), Ok(()));
    assert_eq!(rc.verify(INPUT, &by_ring), Ok(()));
    assert_eq!(ring.verify(INPUT, &by_ring), Ok(()));

    let ring_public = PublicKey::from_jwk(&ring.public_jwk()).expect("ring JWK is usable");
    assert_eq!(ring.verify(INPUT, &by_rc), Ok(()));
    assert_eq!(ring_public.verify(alg, INPUT, &by_rc), Ok(()));

    let mut tampered = by_ring.clone();
    tampered[by_ring.len() / 2] ^= 0x01;
    assert_eq!(rc.verify(INPUT, &tampered), Err(SignError::new()));
    assert_eq!(ring.verify(INPUT, &tampered), Err(SignError::new()));
    let mut tampered_input = INPUT.to_vec();
    tampered_input[3] ^= 0x01;
    assert_eq!(ring.verify(&tampered_input, &by_rc), Err(SignError::new()));
    assert_eq!(rc.verify(&tampered_input, &by_ring), Err(SignError::new()));
}

#[test]
fn es256_signatures_verify_across_implementations() {
    let (ring, rc) = (ring_es256(None), rc_es256(None));
    assert_cross_verifies(&ring, &rc);
    let signature = ring.try_sign(INPUT, &OsRandom).expect("signs");
    assert_eq!(signature.len(), 64, "R || S, RFC 7518 §3.4");
    // Fresh randomness per signature: two signatures over the same input differ.
    assert_ne!(signature, ring.try_sign(INPUT, &OsRandom).expect("signs"));
}

#[test]
fn rs256_signatures_verify_across_implementations() {
    assert_cross_verifies(
        &ring_rsa(JwsAlgorithm::RS256, None),
        &rc_rsa(JwsAlgorithm::RS256, None),
    );
}

#[test]
fn ps256_signatures_verify_across_implementations() {
    let ring = ring_rsa(JwsAlgorithm::PS256, None);
    assert_cross_verifies(&ring, &rc_rsa(JwsAlgorithm::PS256, None));
    // A random 32-byte salt per signature (RFC 7518 §3.5).
    let a = ring.try_sign(INPUT, &OsRandom).expect("signs");
    let b = ring.try_sign(INPUT, &OsRandom).expect("signs");
    assert_eq!(a.len(), 256);
    assert_ne!(a, b);
}

#[test]
fn rs256_signatures_are_byte_identical_to_rustcrypto() {
    let ring = ring_rsa(JwsAlgorithm::RS256, None);
    let rc = rc_rsa(JwsAlgorithm::RS256, None);
    for input in [INPUT, b"".as_slice(), b"a.b".as_slice()] {
        let by_ring = ring.try_sign(input, &OsRandom).expect("ring signs");
        let by_rc = rc.try_sign(input, &OsRandom).expect("RustCrypto signs");
        assert_eq!(by_ring.len(), 256);
        assert_eq!(by_ring, by_rc, "RSASSA-PKCS1-v1_5 is deterministic");
    }
}

#[test]
fn rs256_and_ps256_signatures_are_not_interchangeable() {
    let rs = ring_rsa(JwsAlgorithm::RS256, None);
    let ps = ring_rsa(JwsAlgorithm::PS256, None);
    let by_rs = rs.try_sign(INPUT, &OsRandom).expect("signs");
    let by_ps = ps.try_sign(INPUT, &OsRandom).expect("signs");
    assert_eq!(ps.verify(INPUT, &by_rs), Err(SignError::new()));
    assert_eq!(rs.verify(INPUT, &by_ps), Err(SignError::new()));
}

#[test]
fn jwks_and_default_key_ids_match_rustcrypto() {
    let ring = ring_es256(None);
    let rc = rc_es256(None);
    assert_eq!(ring.public_jwk(), rc.public_jwk());
    assert_eq!(ring.key_id(), rc.key_id());
    assert_eq!(ring.thumbprint(), rc.thumbprint());
    assert_eq!(Ok(ring.thumbprint()), jwk_thumbprint(&ring.public_jwk()));
    let jwk = ring.public_jwk();
    for coordinate in [&jwk.x, &jwk.y] {
        assert_eq!(
            coordinate.as_deref().map(str::len),
            Some(43),
            "32 bytes, base64url"
        );
    }

    for alg in [JwsAlgorithm::RS256, JwsAlgorithm::PS256] {
        let ring = ring_rsa(alg, None);
        let rc = rc_rsa(alg, None);
        assert_eq!(ring.public_jwk(), rc.public_jwk());
        assert_eq!(ring.public_jwk().alg, alg);
        assert_eq!(ring.key_id(), rc.key_id());
        assert_eq!(ring.thumbprint(), rc.thumbprint());
        assert_eq!(ring.bits(), rc.bits());
        assert_eq!(ring.public_jwk().e.as_deref(), Some("AQAB"));
        // 2048 bits = 256 bytes, no leading zero: 342 base64url characters.
        assert_eq!(ring.public_jwk().n.as_deref().map(str::len), Some(342));
    }
}

#[test]
fn explicit_key_id_is_kept() {
    let es = ring_es256(Some("es-1"));
    assert_eq!(es.key_id(), "es-1");
    assert_eq!(es.public_jwk().kid, "es-1");
    assert_eq!(es.public_jwk(), rc_es256(Some("es-1")).public_jwk());
    assert_ne!(es.thumbprint(), "es-1");

    let rs = ring_rsa(JwsAlgorithm::PS256, Some("ps-1"));
    assert_eq!(rs.key_id(), "ps-1");
    assert_eq!(rs.public_jwk().kid, "ps-1");
    assert_eq!(
        rs.public_jwk(),
        rc_rsa(JwsAlgorithm::PS256, Some("ps-1")).public_jwk()
    );
}

#[test]
fn keys_exported_by_rustcrypto_load() {
    let rc = rustcrypto::Es256Signer::generate(&OsRandom, None).expect("generates");
    let der = rc.to_pkcs8_der().expect("exports DER");
    let from_der = Es256Signer::from_pkcs8_der(&der, None).expect("ring loads the DER export");
    assert_eq!(from_der.public_jwk(), rc.public_jwk());
    let pem = rc.to_pkcs8_pem().expect("exports PEM");
    let from_pem = Es256Signer::from_pkcs8_pem(&pem, None).expect("ring loads the PEM export");
    assert_eq!(from_pem.public_jwk(), rc.public_jwk());
    assert_cross_verifies(&from_pem, &rc);

    let rc = rc_rsa(JwsAlgorithm::RS256, None);
    let der = rc.to_pkcs8_der().expect("exports DER");
    let ring = RsaSigner::from_pkcs8_der(&der, JwsAlgorithm::RS256, None).expect("ring loads it");
    assert_eq!(ring.public_jwk(), rc.public_jwk());
}

#[test]
fn p256_key_without_embedded_public_key_loads() {
    let ring = Es256Signer::from_pkcs8_pem(P256_NO_PUBLIC_PEM, None).expect("ring signer loads");
    let rc = rustcrypto::Es256Signer::from_pkcs8_pem(P256_NO_PUBLIC_PEM, None)
        .expect("RustCrypto loads");
    assert_eq!(
        ring.public_jwk(),
        rc.public_jwk(),
        "the derived point is right"
    );
    assert_cross_verifies(&ring, &rc);
}

#[test]
fn generated_keys_are_distinct_and_verifiable() {
    let a = Es256Signer::generate(None).expect("generates");
    let b = Es256Signer::generate(Some("b")).expect("generates");
    assert_ne!(a.public_jwk().x, b.public_jwk().x);
    assert_eq!(a.key_id(), a.thumbprint());
    assert_eq!(b.key_id(), "b");
    let signature = a.try_sign(INPUT, &OsRandom).expect("signs");
    let public = PublicKey::from_jwk(&a.public_jwk()).expect("usable JWK");
    assert_eq!(
        public.verify(JwsAlgorithm::ES256, INPUT, &signature),
        Ok(())
    );
    assert_eq!(b.verify(INPUT, &signature), Err(SignError::new()));
}
