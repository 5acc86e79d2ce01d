//! A whole `code id_token` flow with the ring signers of `oidc-hybrid-ring` (RS256 and ES256):
//! both ID tokens validated by the independent relying party (OIDC Core §3.3.2.12, §3.3.3.7),
//! the JWK set publishing the ring keys, a front-channel ID token accepted back as
//! `id_token_hint` (the provider checks it with `Signer::verify`), and the RS256 signature
//! byte-identical to the RustCrypto signer's over the same signing input.

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::{JwsAlgorithm, Reject, Signer, Subject};
use oidc_hybrid_ring::{Es256Signer, RsaSigner};
use oidc_hybrid_testkit::rp::IdTokenRules;
use oidc_hybrid_tests::{
    ES256_PEM, Harness, ISSUER, REDIRECT_URI, RS256_PEM, SECRET, auth_pairs, basic, form,
    pkce_pair, rp_hash, rs256_signer, set_param,
};
use serde_json::Value;

const RS_KID: &str = "ring-rs";
const ES_KID: &str = "ring-es";

fn ring_harness() -> Harness {
    Harness::with_signers(vec![
        Box::new(
            RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some(RS_KID))
                .expect("RS256 test key loads in ring"),
        ),
        Box::new(Es256Signer::from_pkcs8_pem(ES256_PEM, Some(ES_KID)).expect("ES256 key loads")),
    ])
}

fn header(jws: &str) -> Value {
    let header = jws.split('.').next().expect("a header segment");
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(header).expect("base64url header"))
        .expect("JSON header")
}

/// Runs `code id_token` for `client_id` (which registered `alg`), validates both ID tokens and
/// returns them (front channel, token endpoint).
fn code_id_token(h: &Harness, client_id: &str, alg: &str, kid: &str) -> (String, String) {
    let rp = h.rp();
    let (verifier, challenge) = pkce_pair(client_id);
    let mut pairs = auth_pairs("code id_token", client_id);
    set_param(&mut pairs, "code_challenge", Some(&challenge));
    set_param(&mut pairs, "code_challenge_method", Some("S256"));
    let params = h.issue(&pairs, "alice");
    let code = params.get("code").expect("a code");
    let front = params.get("id_token").expect("a front-channel ID token");

    let expect = IdTokenRules::new(ISSUER, client_id)
        .alg(alg)
        .nonce(Some("n-0S6_WzA2Mj"))
        .at(h.now());
    let front_claims = expect.validate(front, &rp);
    assert_eq!(header(front)["kid"], kid, "signed by the ring key");
    assert_eq!(front_claims["c_hash"], rp_hash(alg, code));

    h.clock.advance(5);
    let mut body = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier.as_str()),
    ];
    let tokens = if client_id == "es-post" {
        body.extend([("client_id", client_id), ("client_secret", SECRET)]);
        h.token(&form(&body), None)
    } else {
        h.token(&form(&body), Some(&basic(client_id, SECRET)))
    }
    .expect("code redeems");
    let back = tokens
        .id_token()
        .expect("an ID token from the token endpoint");
    let back_claims = expect.at(h.now()).validate(back, &rp);
    assert_eq!(header(back)["kid"], kid);
    for claim in ["iss", "sub", "aud", "azp", "nonce", "auth_time"] {
        assert_eq!(front_claims[claim], back_claims[claim], "{claim} agrees");
    }
    assert_eq!(back_claims["sub"], "alice");
    (front.clone(), back.to_owned())
}

#[test]
fn code_id_token_flow_with_ring_signers() {
    let h = ring_harness();

    let jwks = serde_json::to_value(h.provider.jwks()).expect("JWKS serialises");
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    assert_eq!(kids, [RS_KID, ES_KID]);

    let (rs_front, rs_back) = code_id_token(&h, "rs-basic", "RS256", RS_KID);
    let (es_front, _) = code_id_token(&h, "es-post", "ES256", ES_KID);
    assert_ne!(rs_front, rs_back);

    // RSASSA-PKCS1-v1_5 is deterministic: the RustCrypto signer holding the same key produces
    // exactly the signature ring put on the token.
    let (signing_input, signature) = rs_front.rsplit_once('.').expect("three segments");
    let rustcrypto = rs256_signer()
        .try_sign(signing_input.as_bytes(), &oidc_hybrid_rustcrypto::OsRandom)
        .expect("signs");
    assert_eq!(Base64UrlUnpadded::encode_string(&rustcrypto), signature);

    // Both front-channel ID tokens come back as `id_token_hint`, checked by the ring signers'
    // `verify`; a tampered one is refused.
    for (client_id, hint) in [("rs-basic", &rs_front), ("es-post", &es_front)] {
        let mut pairs = auth_pairs("code id_token", client_id);
        set_param(&mut pairs, "id_token_hint", Some(hint));
        let bound = h
            .authorize(&form(&pairs))
            .expect("our own ID token is a valid hint");
        assert_eq!(bound.hint_subject().map(Subject::as_str), Some("alice"));

        // Flip one bit in the middle of the signature segment, where every base64url
        // character carries six signature bits (the encoding stays canonical).
        let mut tampered = hint.clone().into_bytes();
        let i = tampered.len() - 20;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ASCII");
        set_param(&mut pairs, "id_token_hint", Some(&tampered));
        let err = h
            .authorize(&form(&pairs))
            .expect_err("tampered hint refused");
        assert_eq!(err.reject(), Reject::IdTokenHintInvalid);
    }
}
