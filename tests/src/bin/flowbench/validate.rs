//! Relying-party validation of one flow's results with an independent JOSE library
//! (`jsonwebtoken`): signatures against the published JWKS, the standard claims, the hash
//! claims and the consistency of the two ID tokens.

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::Value;

/// One usable public key of the JWKS.
struct Key {
    kid: Option<String>,
    /// The key's `alg`, when the JWK names one.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

/// The OP's keys and what every ID token must say.
pub(crate) struct Verifier {
    keys: Vec<Key>,
    /// One per key family (`jsonwebtoken` wants every allowed algorithm in the key's family).
    validations: Vec<(AlgorithmFamily, Validation)>,
    issuer: String,
    client_id: String,
}

impl core::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verifier")
            .field(
                "keys",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The asymmetric algorithms accepted (never `none`, never HMAC).
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::EdDSA,
];

/// The left half of the digest of `value` that the hash claims use for `alg` (OIDC Core
/// §3.3.2.11), base64url: the test support's RP computation, for the algorithms the verifier
/// accepts (every one of them has a digest size `rp_hash` knows).
pub(crate) fn half_hash(alg: Algorithm, value: &str) -> String {
    oidc_hybrid_tests::rp_hash(&format!("{alg:?}"), value)
}

/// What one flow produced, to validate.
#[derive(Debug, Default)]
pub(crate) struct Evidence<'a> {
    pub(crate) state_sent: &'a str,
    pub(crate) nonce_sent: &'a str,
    pub(crate) state: Option<&'a str>,
    /// The `iss` authorization response parameter.
    pub(crate) iss: Option<&'a str>,
    pub(crate) code: &'a str,
    pub(crate) front_id_token: Option<&'a str>,
    pub(crate) front_access_token: Option<&'a str>,
    pub(crate) back_id_token: Option<&'a str>,
    pub(crate) back_access_token: &'a str,
    /// The UserInfo response, when called.
    pub(crate) userinfo: Option<&'a [u8]>,
    /// Whether the response type asks for an ID token in the front channel.
    pub(crate) expect_front_id_token: bool,
}

impl Verifier {
    /// The usable signature keys of `jwks` (keys for encryption, symmetric keys and keys the
    /// library cannot read are left out).
    pub(crate) fn new(jwks: &Value, issuer: &str, client_id: &str) -> Result<Self, String> {
        let list = jwks["keys"]
            .as_array()
            .ok_or("the JWKS has no \"keys\" array")?;
        let mut keys = Vec::new();
        for value in list {
            let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
                continue;
            };
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(&jwk) else {
                continue;
            };
            if key.family() == AlgorithmFamily::Hmac {
                continue;
            }
            let alg = jwk
                .common
                .key_algorithm
                .and_then(|a| format!("{a:?}").parse::<Algorithm>().ok());
            keys.push(Key {
                kid: jwk.common.key_id.clone(),
                alg,
                key,
            });
        }
        if keys.is_empty() {
            return Err(format!(
                "the JWKS has no signature key this tool can use ({} keys published)",
                list.len()
            ));
        }
        let validations = [
            AlgorithmFamily::Ec,
            AlgorithmFamily::Rsa,
            AlgorithmFamily::Ed,
        ]
        .into_iter()
        .map(|family| {
            let mut validation = Validation::new_for_family(family);
            validation.set_issuer(&[issuer]);
            validation.set_audience(&[client_id]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.leeway = 60;
            (family, validation)
        })
        .collect();
        Ok(Self {
            keys,
            validations,
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
        })
    }

    /// How many keys are usable.
    pub(crate) fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Verifies an ID token's signature and standard claims; returns its algorithm and claims.
    pub(crate) fn id_token(&self, token: &str, which: &str) -> Result<(Algorithm, Value), Invalid> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| invalid(format!("{which} ID token header"), e.to_string()))?;
        let unaccepted = || {
            invalid(
                format!("{which} ID token alg"),
                format!("alg {:?} is not accepted", header.alg),
            )
        };
        if !ALGORITHMS.contains(&header.alg) {
            return Err(unaccepted());
        }
        let Some((_, validation)) = self
            .validations
            .iter()
            .find(|(family, _)| *family == header.alg.family())
        else {
            return Err(unaccepted());
        };
        let candidates: Vec<&Key> = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                .collect(),
            None => self
                .keys
                .iter()
                .filter(|k| k.key.family() == header.alg.family())
                .collect(),
        };
        if candidates.is_empty() {
            return Err(invalid(
                format!("{which} ID token key"),
                format!(
                    "no JWKS key for kid {:?} and alg {:?}",
                    header.kid, header.alg
                ),
            ));
        }
        let mut last = invalid(format!("{which} ID token key"), String::new());
        for key in candidates {
            if key.alg.is_some_and(|alg| alg != header.alg)
                || key.key.family() != header.alg.family()
            {
                last = invalid(
                    format!("{which} ID token key"),
                    format!(
                        "the key {:?} ({:?}) does not fit alg {:?}",
                        key.kid, key.alg, header.alg
                    ),
                );
                continue;
            }
            match jsonwebtoken::decode::<Value>(token, &key.key, validation) {
                Ok(data) => return Ok((header.alg, data.claims)),
                Err(e) => {
                    let text = e.to_string();
                    let short = text.split(':').next().unwrap_or_default();
                    last = invalid(
                        format!("{which} ID token {short}"),
                        format!("rejected with the key {:?}: {e}", key.kid),
                    );
                }
            }
        }
        Err(last)
    }

    /// Validates one flow as a relying party would.
    pub(crate) fn flow(&self, e: &Evidence<'_>) -> Result<(), Invalid> {
        if e.state != Some(e.state_sent) {
            return Err(invalid(
                "state",
                format!("{:?} came back for {:?}", e.state, e.state_sent),
            ));
        }
        if let Some(iss) = e.iss
            && iss != self.issuer
        {
            return Err(invalid(
                "iss parameter",
                format!("{iss:?} is not the issuer {:?}", self.issuer),
            ));
        }
        let front = match (e.front_id_token, e.expect_front_id_token) {
            (Some(token), _) => Some(self.id_token(token, "front")?),
            (None, true) => {
                return Err(invalid(
                    "front ID token missing",
                    "no id_token in the authorization response",
                ));
            }
            (None, false) => None,
        };
        let back_token = e
            .back_id_token
            .ok_or_else(|| invalid("back ID token missing", "no id_token in the token response"))?;
        let back = self.id_token(back_token, "back")?;
        let mut subs = Vec::with_capacity(3);
        for (which, (alg, claims)) in front.iter().map(|f| ("front", f)).chain([("back", &back)]) {
            let nonce = claims["nonce"].as_str();
            if nonce != Some(e.nonce_sent) {
                return Err(invalid(
                    format!("{which} ID token nonce"),
                    format!("{nonce:?}, sent {:?}", e.nonce_sent),
                ));
            }
            if let Some(azp) = claims.get("azp")
                && azp.as_str() != Some(self.client_id.as_str())
            {
                return Err(invalid(
                    format!("{which} ID token azp"),
                    format!("{azp} is not the client"),
                ));
            }
            let sub = claims["sub"]
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid(format!("{which} ID token sub"), "no sub"))?;
            subs.push((which, sub));
            let at_hash = claims.get("at_hash").and_then(Value::as_str);
            let access_token = if which == "front" {
                e.front_access_token
            } else {
                Some(e.back_access_token)
            };
            if let (Some(at_hash), Some(token)) = (at_hash, access_token)
                && at_hash != half_hash(*alg, token)
            {
                return Err(invalid(
                    format!("{which} ID token at_hash"),
                    "at_hash does not match the access token",
                ));
            }
            if which == "front" {
                // Hybrid flow: c_hash is required in the front-channel ID token (§3.3.2.11).
                let Some(c_hash) = claims.get("c_hash").and_then(Value::as_str) else {
                    return Err(invalid("front ID token c_hash", "no c_hash"));
                };
                if c_hash != half_hash(*alg, e.code) {
                    return Err(invalid(
                        "front ID token c_hash",
                        "c_hash does not match the code",
                    ));
                }
                if e.front_access_token.is_some() && at_hash.is_none() {
                    return Err(invalid(
                        "front ID token at_hash",
                        "no at_hash although an access token came with it",
                    ));
                }
            }
        }
        let userinfo: Option<Value> = match e.userinfo {
            Some(body) => Some(serde_json::from_slice(body).map_err(|_| {
                invalid(
                    "UserInfo",
                    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
                )
            })?),
            None => None,
        };
        if let Some(claims) = &userinfo {
            subs.push(("UserInfo", claims["sub"].as_str().unwrap_or_default()));
        }
        if let Some((first, sub)) = subs.first()
            && let Some((other, differs)) = subs.iter().find(|(_, s)| s != sub)
        {
            return Err(invalid(
                "sub differs",
                format!("{first} {sub:?}, {other} {differs:?}"),
            ));
        }
        Ok(())
    }
}

/// A validation failure: what failed (a short kind, errors are counted by it) and the details.
#[derive(Debug)]
pub(crate) struct Invalid {
    pub(crate) what: String,
    pub(crate) detail: String,
}

fn invalid(what: impl Into<String>, detail: impl Into<String>) -> Invalid {
    Invalid {
        what: what.into(),
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64UrlUnpadded, Encoding as _};

    #[test]
    fn hash_claims_follow_the_algorithm() {
        // OIDC Core §A.4's example: code "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
        // has c_hash "LDktKdoQak3Pk0cnXxCltA" under RS256.
        assert_eq!(
            half_hash(
                Algorithm::RS256,
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
            ),
            "LDktKdoQak3Pk0cnXxCltA"
        );
        assert_eq!(half_hash(Algorithm::ES256, "x").len(), 22);
        assert_eq!(half_hash(Algorithm::PS384, "x").len(), 32);
        assert_eq!(half_hash(Algorithm::EdDSA, "x").len(), 43);
    }

    const ISSUER: &str = "http://127.0.0.1:8080";
    const CLIENT: &str = "rp";
    const CODE: &str = "the-code";
    const TOKEN: &str = "the-access-token";

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    }

    /// A JWS signed by one of the committed test keys.
    fn sign(signer: &dyn oidc_hybrid::Signer, kid: &str, claims: &Value) -> String {
        let header = serde_json::json!({
            "alg": signer.algorithm().as_str(), "kid": kid, "typ": "JWT",
        });
        let input = format!(
            "{}.{}",
            Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
            Base64UrlUnpadded::encode_string(claims.to_string().as_bytes())
        );
        let signature = signer
            .try_sign(input.as_bytes(), &oidc_hybrid_rustcrypto::OsRandom)
            .expect("signs");
        format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
    }

    fn claims(alg: Algorithm, nonce: &str) -> Value {
        serde_json::json!({
            "iss": ISSUER, "aud": CLIENT, "azp": CLIENT, "sub": "alice",
            "iat": now(), "exp": now() + 300, "nonce": nonce,
            "c_hash": half_hash(alg, CODE), "at_hash": half_hash(alg, TOKEN),
        })
    }

    /// A verifier trusting both committed test keys, and an ES256 signer with its kid.
    fn setup() -> (Verifier, oidc_hybrid_rustcrypto::Es256Signer) {
        let es = oidc_hybrid_tests::es256_signer();
        let rs = oidc_hybrid_tests::rs256_signer();
        use oidc_hybrid::Signer as _;
        let jwks = serde_json::json!({"keys": [
            serde_json::to_value(es.public_jwk()).expect("JWK"),
            serde_json::to_value(rs.public_jwk()).expect("JWK"),
        ]});
        let verifier = Verifier::new(&jwks, ISSUER, CLIENT).expect("usable keys");
        assert_eq!(verifier.key_count(), 2);
        (verifier, es)
    }

    /// The evidence of a good flow with these ID tokens.
    fn evidence<'a>(front: &'a str, back: &'a str) -> Evidence<'a> {
        Evidence {
            state_sent: "st",
            nonce_sent: "n-1",
            state: Some("st"),
            iss: Some(ISSUER),
            code: CODE,
            front_id_token: Some(front),
            front_access_token: None,
            back_id_token: Some(back),
            back_access_token: TOKEN,
            userinfo: Some(br#"{"sub":"alice","name":"Alice"}"#),
            expect_front_id_token: true,
        }
    }

    fn what(result: Result<(), Invalid>) -> String {
        result.expect_err("rejected").what
    }

    #[test]
    fn a_good_flow_passes_and_each_defect_is_named() {
        use oidc_hybrid::Signer as _;
        let (verifier, es) = setup();
        let kid = es.key_id().to_owned();
        let good = claims(Algorithm::ES256, "n-1");
        let token = sign(&es, &kid, &good);
        verifier
            .flow(&evidence(&token, &token))
            .expect("a good flow");

        // An RS256 back-channel token from the other published key is fine too.
        let rs = oidc_hybrid_tests::rs256_signer();
        let rs_token = sign(&rs, rs.key_id(), &claims(Algorithm::RS256, "n-1"));
        verifier.flow(&evidence(&token, &rs_token)).expect("RS256");

        let with = |edit: &dyn Fn(&mut Value)| {
            let mut c = good.clone();
            edit(&mut c);
            sign(&es, &kid, &c)
        };
        let bad_c_hash = with(&|c| c["c_hash"] = "AAAAAAAAAAAAAAAAAAAAAA".into());
        assert_eq!(
            what(verifier.flow(&evidence(&bad_c_hash, &token))),
            "front ID token c_hash"
        );
        let no_c_hash = with(&|c| {
            c.as_object_mut().expect("object").remove("c_hash");
        });
        assert_eq!(
            what(verifier.flow(&evidence(&no_c_hash, &token))),
            "front ID token c_hash"
        );
        let bad_nonce = with(&|c| c["nonce"] = "other".into());
        assert_eq!(
            what(verifier.flow(&evidence(&bad_nonce, &token))),
            "front ID token nonce"
        );
        assert_eq!(
            what(verifier.flow(&evidence(&token, &bad_nonce))),
            "back ID token nonce"
        );
        let bad_aud = with(&|c| c["aud"] = "someone-else".into());
        assert_eq!(
            what(verifier.flow(&evidence(&bad_aud, &token))),
            "front ID token InvalidAudience"
        );
        let bad_iss = with(&|c| c["iss"] = "http://evil.example".into());
        assert_eq!(
            what(verifier.flow(&evidence(&token, &bad_iss))),
            "back ID token InvalidIssuer"
        );
        let expired = with(&|c| c["exp"] = (now() - 3600).into());
        assert_eq!(
            what(verifier.flow(&evidence(&token, &expired))),
            "back ID token ExpiredSignature"
        );
        let bad_at_hash = with(&|c| c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA".into());
        assert_eq!(
            what(verifier.flow(&evidence(&token, &bad_at_hash))),
            "back ID token at_hash"
        );
        let other_sub = with(&|c| c["sub"] = "bob".into());
        assert_eq!(
            what(verifier.flow(&evidence(&token, &other_sub))),
            "sub differs"
        );
        let mut e = evidence(&token, &token);
        e.userinfo = Some(br#"{"sub":"bob"}"#);
        assert_eq!(what(verifier.flow(&e)), "sub differs");

        // A signature that does not verify, a key that is not published.
        let mut tampered = token.clone();
        let last = tampered.pop().expect("a character");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(what(verifier.flow(&evidence(&tampered, &token))).starts_with("front ID token "),);
        // Another token's claims under this token's signature.
        let other = sign(&es, &kid, &claims(Algorithm::ES256, "n-2"));
        let parts: Vec<&str> = token.split('.').collect();
        let payload = other.split('.').nth(1).expect("payload");
        let tampered_claims = format!("{}.{payload}.{}", parts[0], parts[2]);
        assert_eq!(
            what(verifier.flow(&evidence(&tampered_claims, &token))),
            "front ID token InvalidSignature"
        );
        let unknown_kid = sign(&es, "not-published", &good);
        assert_eq!(
            what(verifier.flow(&evidence(&unknown_kid, &token))),
            "front ID token key"
        );

        // The response parameters.
        let mut e = evidence(&token, &token);
        e.state = Some("other");
        assert_eq!(what(verifier.flow(&e)), "state");
        let mut e = evidence(&token, &token);
        e.iss = Some("http://evil.example");
        assert_eq!(what(verifier.flow(&e)), "iss parameter");
        let mut e = evidence(&token, &token);
        e.iss = None; // optional (RFC 9207 is not required of every OP)
        verifier.flow(&e).expect("no iss parameter");
        let mut e = evidence(&token, &token);
        e.front_id_token = None;
        assert_eq!(what(verifier.flow(&e)), "front ID token missing");
        e.expect_front_id_token = false; // response_type=code token
        verifier.flow(&e).expect("no front ID token asked for");
        // A front-channel access token needs at_hash in the front ID token, and a right one.
        let mut e = evidence(&token, &token);
        e.front_access_token = Some("another-token");
        assert_eq!(what(verifier.flow(&e)), "front ID token at_hash");
        e.front_access_token = Some(TOKEN);
        verifier.flow(&e).expect("matching front at_hash");
    }

    #[test]
    fn jwks_without_usable_keys_is_refused() {
        let jwks = serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});
        assert!(Verifier::new(&jwks, "https://op", "rp").is_err());
        assert!(Verifier::new(&serde_json::json!({}), "https://op", "rp").is_err());
    }
}
