//! The relying-party validator against tokens signed by real keys: a good flow passes and each
//! defect is reported under its own name.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::{Signer, UnixTime};
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom};
use oidc_hybrid_testkit::rp::{
    Expected, FlowEvidence, IdTokenRules, Jwks, JwksError, KeySet, Profile, check_flow,
    consistency, refresh_consistency, rp_hash,
};
use serde_json::{Value, json};

const ISSUER: &str = "http://127.0.0.1:8080";
const CLIENT: &str = "rp";
const CODE: &str = "the-code";
const TOKEN: &str = "the-access-token";
const NOW: u64 = 1_800_000_000;

/// A JWS of `claims` signed by `signer` under `kid`, with header `typ` `JWT`.
fn sign(signer: &dyn Signer, kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": signer.algorithm().as_str(), "kid": kid, "typ": "JWT" });
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
        Base64UrlUnpadded::encode_string(claims.to_string().as_bytes())
    );
    let signature = signer.try_sign(input.as_bytes(), &OsRandom).expect("signs");
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
}

fn claims(nonce: &str) -> Value {
    json!({
        "iss": ISSUER, "aud": CLIENT, "azp": CLIENT, "sub": "alice",
        "iat": NOW, "exp": NOW + 300, "nonce": nonce, "auth_time": NOW - 10,
        "c_hash": rp_hash("ES256", CODE), "at_hash": rp_hash("ES256", TOKEN),
    })
}

/// Two published ES256 keys (`es-1`, `es-2`) and the signer of the first.
fn setup() -> (Jwks, Es256Signer, Es256Signer) {
    let one = Es256Signer::generate(&OsRandom, Some("es-1")).expect("key");
    let two = Es256Signer::generate(&OsRandom, Some("es-2")).expect("key");
    let jwks = json!({ "keys": [
        serde_json::to_value(one.public_jwk()).expect("JWK"),
        serde_json::to_value(two.public_jwk()).expect("JWK"),
    ]});
    let jwks = Jwks::from_json(&jwks).expect("usable keys");
    assert_eq!(jwks.len(), 2);
    (jwks, one, two)
}

fn rules() -> IdTokenRules<'static> {
    IdTokenRules::new(ISSUER, CLIENT)
        .alg("ES256")
        .at(UnixTime::from_secs(NOW))
        .nonce(Some("n-1"))
}

/// An edit of a token's claims.
type Edit<'a> = &'a dyn Fn(&mut Value);

/// The name of the first failed check.
fn failed(token: &str, rules: &IdTokenRules<'_>, keys: &(impl KeySet + ?Sized)) -> &'static str {
    rules
        .check(token, keys)
        .first_failure()
        .map_or("passed", |c| c.name)
}

#[test]
fn a_good_token_passes_every_check_and_each_defect_is_named() {
    let (jwks, es, other) = setup();
    let good = claims("n-1");
    let token = sign(&es, "es-1", &good);
    let full = rules()
        .c_hash(Some(CODE))
        .at_hash(Some(TOKEN))
        .s_hash(Expected::Absent);
    let report = full.check(&token, &jwks);
    assert!(report.is_valid(), "{:?}", report.checks());
    let names: Vec<&str> = report.checks().iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "alg",
            "typ",
            "kid",
            "signature",
            "iss",
            "aud",
            "azp",
            "exp",
            "iat",
            "sub",
            "nonce",
            "c_hash",
            "at_hash",
            "s_hash",
            "nulls"
        ]
    );
    assert_eq!(full.validate(&token, &jwks)["sub"], "alice");
    // The other published key verifies its own tokens.
    assert_eq!(failed(&sign(&other, "es-2", &good), &full, &jwks), "passed");

    let with = |edit: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        edit(&mut c);
        sign(&es, "es-1", &c)
    };
    let cases: [(&str, Edit<'_>); 12] = [
        ("iss", &|c| c["iss"] = "http://evil.example".into()),
        ("aud", &|c| c["aud"] = "someone-else".into()),
        ("aud", &|c| c["aud"] = json!([CLIENT])),
        ("azp", &|c| c["azp"] = "someone-else".into()),
        ("azp", &|c| {
            drop(c.as_object_mut().expect("object").remove("azp"))
        }),
        ("exp", &|c| c["exp"] = NOW.into()),
        ("iat", &|c| c["iat"] = (NOW + 1).into()),
        ("sub", &|c| c["sub"] = "x".repeat(256).into()),
        ("nonce", &|c| c["nonce"] = "other".into()),
        ("c_hash", &|c| c["c_hash"] = "AAAAAAAAAAAAAAAAAAAAAA".into()),
        ("at_hash", &|c| {
            drop(c.as_object_mut().expect("object").remove("at_hash"))
        }),
        ("nulls", &|c| c["acr"] = Value::Null),
    ];
    for (name, edit) in cases {
        assert_eq!(failed(&with(edit), &full, &jwks), name);
    }
    // What the interop profile lets pass: an array audience, no azp, no typ or kid.
    let interop = full.profile(Profile::Interop);
    let lenient: [Edit<'_>; 3] = [
        &|c| c["aud"] = json!(["other", CLIENT]),
        &|c| drop(c.as_object_mut().expect("object").remove("azp")),
        &|c| c["acr"] = Value::Null,
    ];
    for edit in lenient {
        assert_eq!(failed(&with(edit), &interop, &jwks), "passed");
    }
    // Leeway moves both time boundaries.
    let late = with(&|c| c["exp"] = NOW.into());
    assert_eq!(failed(&late, &full.leeway(1), &jwks), "passed");

    // Header: the registered algorithm, typ, kid.
    assert_eq!(failed(&token, &full.alg("RS256"), &jwks), "alg");
    let unknown_kid = sign(&es, "not-published", &good);
    assert_eq!(failed(&unknown_kid, &full, &jwks), "key");
    // Signatures: tampered, or another token's claims under this signature.
    let mut tampered = token.clone();
    let last = tampered.pop().expect("a character");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(failed(&tampered, &full, &jwks), "signature");
    let other_claims = sign(&es, "es-1", &claims("n-2"));
    let parts: Vec<&str> = token.split('.').collect();
    let payload = other_claims.split('.').nth(1).expect("payload");
    let swapped = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert_eq!(failed(&swapped, &full, &jwks), "signature");
    // Not a JWS.
    assert_eq!(failed("a.b", &full, &jwks), "jws");
    assert_eq!(failed("e30.e30.e30.e30", &full, &jwks), "jws");
}

#[test]
fn rules_that_say_absent_or_equal() {
    let (jwks, es, _) = setup();
    let mut bare = claims("n-1");
    for name in ["nonce", "c_hash", "at_hash"] {
        bare.as_object_mut().expect("object").remove(name);
    }
    let token = sign(&es, "es-1", &bare);
    let refresh = rules()
        .nonce(Expected::AbsentOr("n-1"))
        .at_hash(Expected::AbsentOr(TOKEN))
        .c_hash(None);
    assert_eq!(failed(&token, &refresh, &jwks), "passed");
    assert_eq!(failed(&token, &refresh.nonce(Some("n-1")), &jwks), "nonce");
    let full = sign(&es, "es-1", &claims("n-1"));
    assert_eq!(failed(&full, &refresh, &jwks), "c_hash");
    assert_eq!(
        failed(&full, &refresh.c_hash(Expected::Any), &jwks),
        "passed"
    );
    assert_eq!(
        failed(
            &full,
            &refresh.c_hash(Expected::Any).nonce(Expected::AbsentOr("x")),
            &jwks
        ),
        "nonce"
    );
    assert_eq!(failed(&full, &rules().subject(Some("bob")), &jwks), "sub");
}

#[test]
fn signers_verify_their_own_tokens() {
    let (_, es, other) = setup();
    let token = sign(&es, "es-1", &claims("n-1"));
    assert_eq!(failed(&token, &rules(), [es].as_slice()), "passed");
    assert_eq!(failed(&token, &rules(), [other].as_slice()), "key");
}

#[test]
fn jwks_that_cannot_be_trusted_are_refused() {
    assert_eq!(Jwks::from_json(&json!({})).err(), Some(JwksError::NoKeys));
    let symmetric = json!({"keys": [{"kty": "oct", "alg": "HS256", "x": "1"}]});
    assert_eq!(
        Jwks::from_json(&symmetric).err(),
        Some(JwksError::NoUsableKey(1))
    );
    let es = Es256Signer::generate(&OsRandom, Some("es-1")).expect("key");
    let mut leaked = serde_json::to_value(es.public_jwk()).expect("JWK");
    leaked["d"] = "c2VjcmV0".into();
    assert_eq!(
        Jwks::from_json(&json!({ "keys": [leaked] })).err(),
        Some(JwksError::PrivateMember {
            kid: Some("es-1".into()),
            member: "d"
        })
    );
}

#[test]
fn tokens_of_one_authentication_agree() {
    let front = claims("n-1");
    let mut back = front.clone();
    back["at_hash"] = "other".into();
    assert!(consistency(&front, &back).iter().all(|c| c.passed));
    for claim in ["sub", "nonce", "auth_time"] {
        let mut differs = back.clone();
        differs[claim] = "x".into();
        let failed: Vec<&str> = consistency(&front, &differs)
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect();
        assert_eq!(failed, [claim]);
    }
    let mut refreshed = back.clone();
    refreshed.as_object_mut().expect("object").remove("nonce");
    assert!(
        refresh_consistency(&back, &refreshed)
            .iter()
            .all(|c| c.passed)
    );
    refreshed["nonce"] = "another".into();
    assert!(
        !refresh_consistency(&back, &refreshed)
            .iter()
            .all(|c| c.passed)
    );
}

/// The evidence of a good flow with these ID tokens.
fn evidence<'a>(front: &'a str, back: &'a str) -> FlowEvidence<'a> {
    FlowEvidence {
        state_sent: "st",
        state: Some("st"),
        iss: Some(ISSUER),
        code: CODE,
        front_id_token: Some(front),
        back_id_token: Some(back),
        back_access_token: TOKEN,
        userinfo: Some(br#"{"sub":"alice","name":"Alice"}"#),
        expect_front_id_token: true,
        ..FlowEvidence::default()
    }
}

#[test]
fn a_good_flow_passes_and_each_defect_is_named() {
    let (jwks, es, other) = setup();
    let token = sign(&es, "es-1", &claims("n-1"));
    let rules = rules().profile(Profile::Interop).leeway(60);
    let what = |e: &FlowEvidence<'_>| check_flow(&rules, &jwks, e).expect_err("rejected").what;
    check_flow(&rules, &jwks, &evidence(&token, &token)).expect("a good flow");
    let by_other = sign(&other, "es-2", &claims("n-1"));
    check_flow(&rules, &jwks, &evidence(&token, &by_other)).expect("the other key");

    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut c = claims("n-1");
        edit(&mut c);
        sign(&es, "es-1", &c)
    };
    let no_c_hash = edited(&|c| drop(c.as_object_mut().expect("object").remove("c_hash")));
    assert_eq!(what(&evidence(&no_c_hash, &token)), "front ID token c_hash");
    let bad_nonce = edited(&|c| c["nonce"] = "other".into());
    assert_eq!(what(&evidence(&bad_nonce, &token)), "front ID token nonce");
    assert_eq!(what(&evidence(&token, &bad_nonce)), "back ID token nonce");
    let bad_at_hash = edited(&|c| c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA".into());
    assert_eq!(
        what(&evidence(&token, &bad_at_hash)),
        "back ID token at_hash"
    );
    let other_sub = edited(&|c| c["sub"] = "bob".into());
    assert_eq!(what(&evidence(&token, &other_sub)), "sub differs");
    let mut e = evidence(&token, &token);
    e.userinfo = Some(br#"{"sub":"bob"}"#);
    assert_eq!(what(&e), "sub differs");
    e.userinfo = Some(b"<html>");
    assert_eq!(what(&e), "UserInfo");

    let mut e = evidence(&token, &token);
    e.state = Some("other");
    assert_eq!(what(&e), "state");
    let mut e = evidence(&token, &token);
    e.iss = Some("http://evil.example");
    assert_eq!(what(&e), "iss parameter");
    e.iss = None; // optional (RFC 9207 is not required of every OP)
    check_flow(&rules, &jwks, &e).expect("no iss parameter");
    let mut e = evidence(&token, &token);
    e.front_id_token = None;
    assert_eq!(what(&e), "front ID token missing");
    e.expect_front_id_token = false; // response_type=code token
    check_flow(&rules, &jwks, &e).expect("no front ID token asked for");
    e.back_id_token = None;
    assert_eq!(what(&e), "back ID token missing");
    // A front-channel access token needs at_hash in the front ID token, and a right one.
    let mut e = evidence(&token, &token);
    e.front_access_token = Some("another-token");
    assert_eq!(what(&e), "front ID token at_hash");
    e.front_access_token = Some(TOKEN);
    check_flow(&rules, &jwks, &e).expect("matching front at_hash");
}
