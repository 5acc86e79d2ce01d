//! `PublicKey`: JWK import, the algorithm allow-list (RFC 8725 §3.1), and compact JWS checks
//! (RFC 7515 §5.2), including `crit` (RFC 7515 §4.1.11).

#[path = "support/helpers.rs"]
mod helpers;

use helpers::{RSA1024_PKCS8_PEM, RSA2048_PKCS8_PEM, TestRng, b64, compact};
use oidc_hybrid::{Jwk, JwsAlgorithm, Signer};
use oidc_hybrid_rustcrypto::rsa::RsaPrivateKey;
use oidc_hybrid_rustcrypto::rsa::pkcs8::DecodePrivateKey;
use oidc_hybrid_rustcrypto::rsa::traits::PublicKeyParts;
use oidc_hybrid_rustcrypto::{
    Es256Signer, JwsError, KeyError, MAX_COMPACT_JWS_LEN, PublicKey, RsaSigner,
};

const PAYLOAD: &[u8] = br#"{"iss":"client-1","sub":"client-1","aud":"https://op.example"}"#;

fn es256() -> Es256Signer {
    Es256Signer::generate(&TestRng::new(21), Some("ec-1")).expect("generates")
}

fn rsa(alg: JwsAlgorithm) -> RsaSigner {
    RsaSigner::from_pkcs8_pem(RSA2048_PKCS8_PEM, alg, Some("rsa-1")).expect("loads")
}

/// Imports `jwk`, keeping only the outcome.
fn import(jwk: &Jwk) -> Result<(), KeyError> {
    PublicKey::from_jwk(jwk).map(|_| ())
}

/// The public JWK of `signer` as JSON without `alg` (and with or without `kid`).
fn unpinned_json(signer: &dyn Signer, with_kid: bool) -> String {
    let mut json = serde_json::to_value(signer.public_jwk()).expect("serialises");
    let object = json.as_object_mut().expect("object");
    object.remove("alg");
    if !with_kid {
        object.remove("kid");
    }
    json.to_string()
}

#[test]
fn es256_is_refused_over_an_rsa_key() {
    let signer = rsa(JwsAlgorithm::RS256);
    let key = PublicKey::from_jwk_json(&unpinned_json(&signer, true)).expect("key");
    assert!(!key.accepts(JwsAlgorithm::ES256));
    let es = es256().try_sign(b"a.b", &TestRng::new(1)).expect("signs");
    assert!(key.verify(JwsAlgorithm::ES256, b"a.b", &es).is_err());

    let jws = compact(&es256(), r#"{"alg":"ES256"}"#, PAYLOAD);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256, JwsAlgorithm::RS256], &jws),
        Err(JwsError::AlgorithmNotAllowed)
    );
}

#[test]
fn rs256_is_refused_over_an_ec_key() {
    let ec = es256();
    let key = PublicKey::from_jwk_json(&unpinned_json(&ec, true)).expect("key");
    assert!(key.accepts(JwsAlgorithm::ES256));
    assert!(!key.accepts(JwsAlgorithm::RS256));
    assert!(!key.accepts(JwsAlgorithm::PS256));

    let rs = rsa(JwsAlgorithm::RS256);
    let signature = rs.try_sign(b"a.b", &TestRng::new(1)).expect("signs");
    assert!(key.verify(JwsAlgorithm::RS256, b"a.b", &signature).is_err());
    let jws = compact(&rs, r#"{"alg":"RS256"}"#, PAYLOAD);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256, JwsAlgorithm::RS256], &jws),
        Err(JwsError::AlgorithmNotAllowed)
    );
}

#[test]
fn jwk_alg_pins_the_algorithm() {
    let ps = rsa(JwsAlgorithm::PS256);
    let rs = rsa(JwsAlgorithm::RS256); // the same RSA key
    let pinned = PublicKey::from_jwk(&ps.public_jwk()).expect("key");
    assert_eq!(pinned.algorithm(), Some(JwsAlgorithm::PS256));

    let rs_signature = rs.try_sign(b"a.b", &TestRng::new(1)).expect("signs");
    assert!(
        pinned
            .verify(JwsAlgorithm::RS256, b"a.b", &rs_signature)
            .is_err(),
        "a valid RS256 signature must not pass a key published for PS256"
    );

    // Without `alg`, both RSA algorithms fit the key.
    let unpinned = PublicKey::from_jwk_json(&unpinned_json(&ps, true)).expect("key");
    assert_eq!(unpinned.algorithm(), None);
    assert_eq!(
        unpinned.verify(JwsAlgorithm::RS256, b"a.b", &rs_signature),
        Ok(())
    );
    let ps_signature = ps.try_sign(b"a.b", &TestRng::new(1)).expect("signs");
    assert_eq!(
        unpinned.verify(JwsAlgorithm::PS256, b"a.b", &ps_signature),
        Ok(())
    );
}

#[test]
fn verify_compact_enforces_the_allow_list() {
    let ec = es256();
    let key = ec.public_key();
    let jws = compact(&ec, r#"{"alg":"ES256","kid":"ec-1","typ":"JWT"}"#, PAYLOAD);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256], &jws),
        Ok(PAYLOAD.to_vec())
    );
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::RS256, JwsAlgorithm::PS256], &jws),
        Err(JwsError::AlgorithmNotAllowed)
    );
    assert_eq!(
        key.verify_compact(&[], &jws),
        Err(JwsError::AlgorithmNotAllowed)
    );
}

#[test]
fn none_and_hmac_are_never_accepted() {
    let key = es256().public_key();
    let every = JwsAlgorithm::ALL;
    for header in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"HS256"}"#,
        r#"{"alg":"NONE"}"#,
        r#"{"alg":"es256"}"#,
    ] {
        for signature in ["", "AAAA"] {
            let jws = format!("{}.{}.{signature}", b64(header.as_bytes()), b64(PAYLOAD));
            let refused = key.verify_compact(&every, &jws);
            assert_eq!(refused, Err(JwsError::AlgorithmNotAllowed), "{header}");
        }
    }
}

#[test]
fn crit_header_is_rejected() {
    let ec = es256();
    let key = ec.public_key();
    for header in [
        r#"{"alg":"ES256","crit":["exp"],"exp":1363284000}"#,
        r#"{"alg":"ES256","crit":["b64"],"b64":false}"#,
        r#"{"alg":"ES256","crit":[]}"#,
    ] {
        let refused = key.verify_compact(&[JwsAlgorithm::ES256], &compact(&ec, header, PAYLOAD));
        assert_eq!(refused, Err(JwsError::UnsupportedCritical), "{header}");
    }
}

#[test]
fn header_kid_must_match_the_key() {
    let ec = es256();
    let key = ec.public_key();
    let other = compact(&ec, r#"{"alg":"ES256","kid":"ec-2"}"#, PAYLOAD);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256], &other),
        Err(JwsError::KeyIdMismatch)
    );
    let numeric = compact(&ec, r#"{"alg":"ES256","kid":7}"#, PAYLOAD);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256], &numeric),
        Err(JwsError::InvalidHeader)
    );
    let absent = compact(&ec, r#"{"alg":"ES256"}"#, PAYLOAD);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256], &absent),
        Ok(PAYLOAD.to_vec())
    );
    // A key without `kid` takes any header `kid`.
    let anonymous = PublicKey::from_jwk_json(&unpinned_json(&ec, false)).expect("key");
    assert_eq!(anonymous.key_id(), None);
    assert_eq!(
        anonymous.verify_compact(&[JwsAlgorithm::ES256], &other),
        Ok(PAYLOAD.to_vec())
    );
}

#[test]
fn tampered_compact_jws_fails() {
    let ps = rsa(JwsAlgorithm::PS256);
    let key = ps.public_key();
    let jws = compact(&ps, r#"{"alg":"PS256"}"#, PAYLOAD);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::PS256], &jws),
        Ok(PAYLOAD.to_vec())
    );

    let segments: Vec<&str> = jws.split('.').collect();
    let forged_payload = format!("{}.{}.{}", segments[0], b64(b"{}"), segments[2]);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::PS256], &forged_payload),
        Err(JwsError::BadSignature)
    );
    let forged_header = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"PS256","x":1}"#),
        segments[1],
        segments[2]
    );
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::PS256], &forged_header),
        Err(JwsError::BadSignature)
    );
}

#[test]
fn malformed_compact_jws_is_rejected() {
    let ec = es256();
    let key = ec.public_key();
    let good = compact(&ec, r#"{"alg":"ES256"}"#, PAYLOAD);
    let allowed = [JwsAlgorithm::ES256];

    assert_eq!(
        key.verify_compact(&allowed, "a.b"),
        Err(JwsError::Malformed)
    );
    assert_eq!(
        key.verify_compact(&allowed, &format!("{good}.x")),
        Err(JwsError::Malformed)
    );
    assert_eq!(
        key.verify_compact(&allowed, "!!!.e30.AA"),
        Err(JwsError::Malformed)
    );
    assert_eq!(
        key.verify_compact(&allowed, &format!("{good}=")),
        Err(JwsError::Malformed),
        "padding is not base64url (RFC 7515 §2)"
    );
    for header in [&b"[1]"[..], b"{\"typ\":\"JWT\"}", b"{\"alg\":5}", b"", b"{"] {
        let jws = format!("{}.{}.AAAA", b64(header), b64(PAYLOAD));
        assert_eq!(
            key.verify_compact(&allowed, &jws),
            Err(JwsError::InvalidHeader)
        );
    }
}

#[test]
fn oversized_compact_jws_is_rejected() {
    let key = es256().public_key();
    let huge = "A".repeat(MAX_COMPACT_JWS_LEN + 1);
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256], &huge),
        Err(JwsError::TooLarge)
    );
}

#[test]
fn from_jwk_refuses_mismatched_or_unsupported_algorithms() {
    let ec = es256().public_jwk();
    let mut wrong = ec.clone();
    wrong.alg = JwsAlgorithm::RS256;
    assert_eq!(import(&wrong), Err(KeyError::AlgorithmMismatch));
    wrong.alg = JwsAlgorithm::ES384;
    assert_eq!(import(&wrong), Err(KeyError::UnsupportedAlgorithm));

    let mut rsa_jwk = rsa(JwsAlgorithm::RS256).public_jwk();
    rsa_jwk.alg = JwsAlgorithm::ES256;
    assert_eq!(import(&rsa_jwk), Err(KeyError::AlgorithmMismatch));
    rsa_jwk.alg = JwsAlgorithm::RS512;
    assert_eq!(import(&rsa_jwk), Err(KeyError::UnsupportedAlgorithm));
}

#[test]
fn from_jwk_refuses_bad_keys() {
    let ec = es256().public_jwk();
    // Each case: what is wrong, the edit that makes it so, the error.
    type Edit = fn(&mut Jwk);
    let edits: [(&str, Edit, KeyError); 7] = [
        ("use enc", |k| k.use_ = "enc".into(), KeyError::WrongKeyUse),
        (
            "P-384",
            |k| k.crv = Some("P-384".into()),
            KeyError::UnsupportedKey,
        ),
        (
            "kty OKP",
            |k| k.kty = "OKP".into(),
            KeyError::UnsupportedKey,
        ),
        (
            "short x",
            |k| k.x = Some(b64(&[1u8; 31])),
            KeyError::InvalidJwk,
        ),
        ("no y", |k| k.y = None, KeyError::InvalidJwk),
        (
            "padded x",
            |k| k.x = k.x.take().map(|x| format!("{x}=")),
            KeyError::InvalidJwk,
        ),
        (
            "off the curve",
            |k| k.y = Some(b64(&[7u8; 32])),
            KeyError::InvalidKey,
        ),
    ];
    for (what, edit, error) in edits {
        let mut jwk = ec.clone();
        edit(&mut jwk);
        assert_eq!(import(&jwk), Err(error), "{what}");
    }

    let mut rsa_jwk = rsa(JwsAlgorithm::RS256).public_jwk();
    rsa_jwk.e = Some(b64(&[2]));
    assert_eq!(
        import(&rsa_jwk),
        Err(KeyError::InvalidKey),
        "even public exponent"
    );
}

#[test]
fn from_jwk_refuses_rsa_keys_under_2048_bits() {
    let small = RsaPrivateKey::from_pkcs8_pem(RSA1024_PKCS8_PEM).expect("loads");
    let jwk = Jwk::rsa(
        "small",
        JwsAlgorithm::RS256,
        b64(&small.n_bytes()),
        b64(&small.e_bytes()),
    );
    assert_eq!(import(&jwk), Err(KeyError::RsaKeyTooSmall { bits: 1024 }));
    let json = format!(
        r#"{{"kty":"RSA","n":"{}","e":"AQAB"}}"#,
        b64(&small.n_bytes())
    );
    assert_eq!(
        PublicKey::from_jwk_json(&json).map(|_| ()),
        Err(KeyError::RsaKeyTooSmall { bits: 1024 })
    );
}

#[test]
fn from_jwk_json_refuses_private_and_unusable_keys() {
    let ec = es256();
    let mut base = serde_json::to_value(ec.public_jwk()).expect("serialises");
    base.as_object_mut().expect("object").remove("alg");
    let with = |member: &str, value: serde_json::Value| {
        let mut json = base.clone();
        json.as_object_mut()
            .expect("object")
            .insert(member.into(), value);
        PublicKey::from_jwk_json(&json.to_string()).map(|_| ())
    };

    assert_eq!(with("d", "AAAA".into()), Err(KeyError::PrivateJwk));
    assert_eq!(with("use", "enc".into()), Err(KeyError::WrongKeyUse));
    assert_eq!(
        with("key_ops", serde_json::json!(["sign"])),
        Err(KeyError::WrongKeyUse)
    );
    assert_eq!(with("key_ops", serde_json::json!(["verify"])), Ok(()));
    assert_eq!(with("key_ops", "verify".into()), Err(KeyError::InvalidJwk));
    for alg in ["none", "HS256", "es256", "RSA-OAEP"] {
        assert_eq!(
            with("alg", alg.into()),
            Err(KeyError::UnsupportedAlgorithm),
            "{alg}"
        );
    }
    assert_eq!(
        with("alg", "RS256".into()),
        Err(KeyError::AlgorithmMismatch)
    );
    assert_eq!(with("alg", "ES256".into()), Ok(()));
    assert_eq!(with("kty", "oct".into()), Err(KeyError::UnsupportedKey));
    assert_eq!(with("x", 5.into()), Err(KeyError::InvalidJwk));

    assert_eq!(
        PublicKey::from_jwk_json(r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#)
            .map(|_| ()),
        Err(KeyError::PrivateJwk),
        "a symmetric key is secret material"
    );
    for junk in ["", "[]", "null", "{", r#"{"crv":"P-256"}"#] {
        assert_eq!(
            PublicKey::from_jwk_json(junk).map(|_| ()),
            Err(KeyError::InvalidJwk),
            "{junk}"
        );
    }
    let huge = format!(r#"{{"kty":"EC","pad":"{}"}}"#, "A".repeat(20_000));
    assert_eq!(
        PublicKey::from_jwk_json(&huge).map(|_| ()),
        Err(KeyError::InvalidJwk)
    );
}
