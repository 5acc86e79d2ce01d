//! Known-answer tests from the RFCs:
//!
//! * RFC 7515 Appendix A.2 — "Example JWS Using RSASSA-PKCS1-v1_5 SHA-256" (RS256): the key
//!   of A.2.1, its signing input, and the exact signature (PKCS#1 v1.5 is deterministic).
//! * RFC 7515 Appendix A.3 — "Example JWS Using ECDSA P-256 SHA-256" (ES256): the public JWK of
//!   A.3.1 verifies the example JWS (ECDSA signatures are randomised, so only verification is a
//!   known answer).
//! * RFC 7638 §3.1 — the JWK thumbprint of the RFC 7517 Appendix A.1 RSA key.
//!
//! Values are transcribed from the RFCs with the display line breaks removed.

#[path = "support/helpers.rs"]
mod helpers;

use helpers::{TestRng, b64, unb64};
use oidc_hybrid::{Jwk, JwsAlgorithm, Signer};
use oidc_hybrid_rustcrypto::p256::ecdsa::SigningKey;
use oidc_hybrid_rustcrypto::rsa::{BoxedUint, RsaPrivateKey};
use oidc_hybrid_rustcrypto::{Es256Signer, JwsError, PublicKey, RsaSigner, jwk_thumbprint};

/// RFC 7515 A.2.1 / A.3.1: the payload shared by both examples.
const PAYLOAD_B64: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

/// RFC 7515 A.1.1: the payload octets, `{"iss":"joe",CRLF "exp":1300819380,CRLF
/// "http://example.com/is_root":true}`.
const PAYLOAD: &[u8] =
    b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

/// RFC 7515 A.2.1: the protected header `{"alg":"RS256"}`.
const A2_HEADER_B64: &str = "eyJhbGciOiJSUzI1NiJ9";

/// RFC 7515 A.2.1: the RSA key as a JWK.
const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_E: &str = "AQAB";
const A2_D: &str = "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ";
const A2_P: &str = "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc";
const A2_Q: &str = "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc";

/// RFC 7515 A.2.1: the resulting JWS Signature.
const A2_SIGNATURE_B64: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// RFC 7515 A.3.1: the protected header `{"alg":"ES256"}`.
const A3_HEADER_B64: &str = "eyJhbGciOiJFUzI1NiJ9";
/// RFC 7515 A.3.1: the P-256 key as a JWK (public part, and `d`).
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_D: &str = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
/// RFC 7515 A.3.1: the resulting JWS Signature.
const A3_SIGNATURE_B64: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
/// RFC 7515 A.3.1: the octets of R and S as printed in the RFC.
const A3_R: [u8; 32] = [
    14, 209, 33, 83, 121, 99, 108, 72, 60, 47, 127, 21, 88, 7, 212, 2, 163, 178, 40, 3, 58, 249,
    124, 126, 23, 129, 154, 195, 22, 158, 166, 101,
];
const A3_S: [u8; 32] = [
    197, 10, 7, 211, 140, 60, 112, 229, 216, 241, 45, 175, 8, 74, 84, 128, 166, 101, 144, 197, 242,
    147, 80, 154, 143, 63, 127, 138, 131, 163, 84, 213,
];

/// RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its thumbprint.
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
const RFC7638_THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

fn uint(b64url: &str) -> BoxedUint {
    BoxedUint::from_be_slice_vartime(&unb64(b64url))
}

fn a2_signing_input() -> String {
    format!("{A2_HEADER_B64}.{PAYLOAD_B64}")
}

fn a2_signer() -> RsaSigner {
    let key = RsaPrivateKey::from_components(
        uint(A2_N),
        uint(A2_E),
        uint(A2_D),
        vec![uint(A2_P), uint(A2_Q)],
    )
    .expect("RFC 7515 A.2.1 key is valid");
    RsaSigner::rs256(key, Some("rfc7515-a2")).expect("2048-bit key")
}

#[test]
fn rfc7515_a2_payload_encoding() {
    assert_eq!(b64(PAYLOAD), PAYLOAD_B64);
}

#[test]
fn rfc7515_a2_rs256_signature_is_exact() {
    let signer = a2_signer();
    assert_eq!(signer.bits(), 2048);
    let signature = signer
        .try_sign(a2_signing_input().as_bytes(), &TestRng::new(1))
        .expect("signs");
    assert_eq!(b64(&signature), A2_SIGNATURE_B64);
    // Blinding randomises the computation, not the result: another random stream gives the
    // same deterministic PKCS#1 v1.5 signature.
    let again = signer
        .try_sign(a2_signing_input().as_bytes(), &TestRng::new(99))
        .expect("signs");
    assert_eq!(again, signature);
}

#[test]
fn rfc7515_a2_public_jwk_matches_the_rfc() {
    let jwk = a2_signer().public_jwk();
    assert_eq!(jwk.kty, "RSA");
    assert_eq!(jwk.n.as_deref(), Some(A2_N));
    assert_eq!(jwk.e.as_deref(), Some(A2_E));
    assert_eq!(jwk.alg, JwsAlgorithm::RS256);
}

#[test]
fn rfc7515_a2_verifies_with_public_key() {
    let jwk = Jwk::rsa("", JwsAlgorithm::RS256, A2_N.into(), A2_E.into());
    let key = PublicKey::from_jwk(&jwk).expect("RFC key is acceptable");
    let signature = unb64(A2_SIGNATURE_B64);
    assert_eq!(
        key.verify(
            JwsAlgorithm::RS256,
            a2_signing_input().as_bytes(),
            &signature
        ),
        Ok(())
    );
    assert!(
        key.verify(JwsAlgorithm::RS256, b"tampered", &signature)
            .is_err()
    );

    let jws = format!("{A2_HEADER_B64}.{PAYLOAD_B64}.{A2_SIGNATURE_B64}");
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::RS256], &jws),
        Ok(PAYLOAD.to_vec())
    );
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::PS256], &jws),
        Err(JwsError::AlgorithmNotAllowed)
    );
}

#[test]
fn rfc7515_a3_signature_octets_match_the_rfc() {
    let signature = unb64(A3_SIGNATURE_B64);
    assert_eq!(signature.len(), 64);
    assert_eq!(signature[..32], A3_R);
    assert_eq!(signature[32..], A3_S);
}

#[test]
fn rfc7515_a3_es256_verifies_with_public_jwk() {
    let jwk = Jwk::ec_p256("", JwsAlgorithm::ES256, A3_X.into(), A3_Y.into());
    let key = PublicKey::from_jwk(&jwk).expect("RFC key is acceptable");
    let signing_input = format!("{A3_HEADER_B64}.{PAYLOAD_B64}");
    let signature = unb64(A3_SIGNATURE_B64);
    assert_eq!(
        key.verify(JwsAlgorithm::ES256, signing_input.as_bytes(), &signature),
        Ok(())
    );

    let jws = format!("{signing_input}.{A3_SIGNATURE_B64}");
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256], &jws),
        Ok(PAYLOAD.to_vec())
    );

    let mut flipped = signature.clone();
    flipped[0] ^= 1;
    assert!(
        key.verify(JwsAlgorithm::ES256, signing_input.as_bytes(), &flipped)
            .is_err()
    );
}

#[test]
fn rfc7515_a3_verifies_from_the_rfc_jwk_json() {
    // The JWK exactly as RFC 7515 A.3.1 prints it (public members only; no `alg`, no `kid`).
    let json = format!(r#"{{"kty":"EC","crv":"P-256","x":"{A3_X}","y":"{A3_Y}"}}"#);
    let key = PublicKey::from_jwk_json(&json).expect("RFC key is acceptable");
    assert_eq!(key.algorithm(), None);
    let jws = format!("{A3_HEADER_B64}.{PAYLOAD_B64}.{A3_SIGNATURE_B64}");
    assert_eq!(
        key.verify_compact(&[JwsAlgorithm::ES256], &jws),
        Ok(PAYLOAD.to_vec())
    );
}

#[test]
fn rfc7515_a3_private_key_yields_the_public_jwk() {
    let key = SigningKey::from_slice(&unb64(A3_D)).expect("RFC scalar is valid");
    let signer = Es256Signer::new(key, Some("rfc7515-a3")).expect("signer");
    let jwk = signer.public_jwk();
    assert_eq!(jwk.x.as_deref(), Some(A3_X));
    assert_eq!(jwk.y.as_deref(), Some(A3_Y));

    // A fresh signature by the RFC key verifies under the RFC's public JWK.
    let signing_input = format!("{A3_HEADER_B64}.{PAYLOAD_B64}");
    let signature = signer
        .try_sign(signing_input.as_bytes(), &TestRng::new(3))
        .expect("signs");
    let public = Jwk::ec_p256("", JwsAlgorithm::ES256, A3_X.into(), A3_Y.into());
    assert_eq!(
        PublicKey::from_jwk(&public).expect("key").verify(
            JwsAlgorithm::ES256,
            signing_input.as_bytes(),
            &signature
        ),
        Ok(())
    );
}

#[test]
fn rfc7638_thumbprint_of_rsa_example() {
    let jwk = Jwk::rsa(
        "2011-04-29",
        JwsAlgorithm::RS256,
        RFC7638_N.into(),
        "AQAB".into(),
    );
    assert_eq!(jwk_thumbprint(&jwk).as_deref(), Ok(RFC7638_THUMBPRINT));
    let key = PublicKey::from_jwk(&jwk).expect("2048-bit RSA key");
    assert_eq!(key.thumbprint(), RFC7638_THUMBPRINT);
    assert_eq!(key.key_id(), Some("2011-04-29"));
}
