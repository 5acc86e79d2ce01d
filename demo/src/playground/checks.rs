//! The relying party's checks: an ID token validated the way OIDC Core §3.3.2.12 and §3.1.3.7
//! ask of a relying party (signature against the provider's JWKS, `iss`, `aud`, `azp`, `exp`,
//! `iat`, `nonce`, and the hash claims `c_hash`, `at_hash`, `s_hash`), and the agreement of the
//! ID tokens of one flow (§3.3.3.6, §12.2). Each outcome is a [`Check`] for the result page.
//!
//! This is the playground's only RP-side validation; nothing here knows about pages or HTTP.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::JwsAlgorithm;
use oidc_hybrid_rustcrypto::PublicKey;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The claims both ID tokens of a hybrid flow must agree on (OIDC Core §3.3.3.6).
const AGREEING: [&str; 7] = ["iss", "sub", "aud", "nonce", "auth_time", "acr", "amr"];

/// One check and its outcome.
#[derive(Debug)]
pub(super) struct Check {
    /// A stable identifier (`front.c_hash`), shown as `data-check`.
    pub(super) id: String,
    /// What was checked.
    pub(super) label: String,
    /// Whether it passed.
    pub(super) ok: bool,
    /// What was found.
    pub(super) detail: String,
}

impl Check {
    pub(super) fn new(id: &str, label: &str, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            ok,
            detail: detail.into(),
        }
    }
}

/// What an RP expects of an ID token.
#[derive(Debug)]
pub(super) struct Expect<'a> {
    /// The prefix of the checks' identifiers (`front`, `back`, `refresh`).
    pub(super) prefix: &'a str,
    pub(super) issuer: &'a str,
    pub(super) client_id: &'a str,
    pub(super) alg: JwsAlgorithm,
    /// `Some(n)`: the nonce must be `n`; `None`: absent or equal to `original_nonce`.
    pub(super) nonce: Option<&'a str>,
    pub(super) original_nonce: &'a str,
    /// The current time, in seconds since the epoch.
    pub(super) now: u64,
    /// The code the token came with (`c_hash` required).
    pub(super) code: Option<&'a str>,
    /// The access token the token came with (`at_hash` checked when present).
    pub(super) access_token: Option<&'a str>,
    pub(super) at_hash_required: bool,
    /// The `state` sent (`s_hash` checked when present).
    pub(super) state: Option<&'a str>,
}

/// An ID token's decoded header and claims (decoded even if a check failed, for display).
#[derive(Debug)]
pub(super) struct IdToken {
    pub(super) header: Value,
    pub(super) claims: Value,
}

/// The left half of SHA-256, base64url (`c_hash`, `at_hash`, `s_hash` for the *256 algorithms,
/// OIDC Core §3.3.2.11).
pub(super) fn half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    Base64UrlUnpadded::encode_string(&digest[..16])
}

fn decode_segment(segment: Option<&str>) -> Value {
    segment
        .and_then(|s| Base64UrlUnpadded::decode_vec(s).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// Validates the ID token `jwt` against `keys` and `expect`, adding a check for each rule to
/// `checks`, and returns it decoded.
pub(super) fn validate_id_token(
    checks: &mut Vec<Check>,
    jwt: &str,
    keys: &[PublicKey],
    expect: &Expect<'_>,
) -> IdToken {
    let mut segments = jwt.split('.');
    let header = decode_segment(segments.next());
    let claims = decode_segment(segments.next());
    check_signature(checks, jwt, &header, keys, expect);
    check_claims(checks, &claims, expect);
    check_hashes(checks, &claims, expect);
    IdToken { header, claims }
}

/// The registered algorithm, and a signature by a key of the provider's JWKS.
fn check_signature(
    checks: &mut Vec<Check>,
    jwt: &str,
    header: &Value,
    keys: &[PublicKey],
    expect: &Expect<'_>,
) {
    let p = expect.prefix;
    let alg = header["alg"].as_str().unwrap_or_default();
    checks.push(Check::new(
        &format!("{p}.alg"),
        "alg",
        alg == expect.alg.as_str(),
        format!("{alg} (registered: {})", expect.alg.as_str()),
    ));
    let kid = header["kid"].as_str().unwrap_or_default();
    let verified = keys
        .iter()
        .filter(|k| k.key_id() == Some(kid))
        .any(|k| k.verify_compact(&[expect.alg], jwt).is_ok());
    checks.push(Check::new(
        &format!("{p}.signature"),
        "signature",
        verified,
        format!("kid {kid} in the provider's JWKS"),
    ));
}

/// `iss`, `aud`, `azp`, `exp`, `iat` and `nonce`.
fn check_claims(checks: &mut Vec<Check>, claims: &Value, expect: &Expect<'_>) {
    let p = expect.prefix;
    let iss = claims["iss"].as_str().unwrap_or_default();
    checks.push(Check::new(
        &format!("{p}.iss"),
        "iss",
        iss == expect.issuer,
        iss,
    ));
    let aud_ok = match &claims["aud"] {
        Value::String(aud) => aud == expect.client_id,
        Value::Array(list) => list.iter().any(|a| a == expect.client_id),
        _ => false,
    };
    checks.push(Check::new(
        &format!("{p}.aud"),
        "aud",
        aud_ok,
        claims["aud"].to_string(),
    ));
    let azp = claims["azp"].as_str();
    checks.push(Check::new(
        &format!("{p}.azp"),
        "azp",
        azp.is_none_or(|azp| azp == expect.client_id),
        azp.unwrap_or("(absent)"),
    ));
    let exp = claims["exp"].as_u64().unwrap_or(0);
    checks.push(Check::new(
        &format!("{p}.exp"),
        "exp",
        exp > expect.now,
        format!("expires in {} s", exp.saturating_sub(expect.now)),
    ));
    let iat = claims["iat"].as_u64();
    checks.push(Check::new(
        &format!("{p}.iat"),
        "iat",
        iat.is_some_and(|iat| iat <= expect.now + 60),
        iat.map_or("(absent)".into(), |iat| iat.to_string()),
    ));
    checks.push(check_nonce(claims["nonce"].as_str(), expect));
}

/// The nonce sent in the request, or on refresh, absent or the original one (§12.2).
fn check_nonce(nonce: Option<&str>, expect: &Expect<'_>) -> Check {
    let ok = match expect.nonce {
        Some(sent) => nonce == Some(sent),
        None => nonce.is_none_or(|n| n == expect.original_nonce),
    };
    Check::new(
        &format!("{}.nonce", expect.prefix),
        "nonce",
        ok,
        match (expect.nonce, nonce) {
            (Some(_), Some(_)) => "equals the nonce sent",
            (Some(_), None) => "missing",
            (None, None) => "absent (allowed on refresh)",
            (None, Some(_)) => "repeats the original nonce",
        },
    )
}

/// `c_hash` of the code, `at_hash` of the access token, `s_hash` of the state.
fn check_hashes(checks: &mut Vec<Check>, claims: &Value, expect: &Expect<'_>) {
    let p = expect.prefix;
    if let Some(code) = expect.code {
        let c_hash = claims["c_hash"].as_str();
        checks.push(Check::new(
            &format!("{p}.c_hash"),
            "c_hash",
            c_hash == Some(half_hash(code).as_str()),
            c_hash.map_or("missing".into(), |h| {
                format!("{h} = left half of SHA-256(code)")
            }),
        ));
    }
    if let Some(token) = expect.access_token {
        let at_hash = claims["at_hash"].as_str();
        let ok = match at_hash {
            Some(h) => h == half_hash(token),
            None => !expect.at_hash_required,
        };
        checks.push(Check::new(
            &format!("{p}.at_hash"),
            "at_hash",
            ok,
            at_hash.map_or("absent (optional here)".into(), |h| {
                format!("{h} = left half of SHA-256(access_token)")
            }),
        ));
    }
    if let Some(s_hash) = claims["s_hash"].as_str() {
        let ok = expect.state.is_some_and(|s| half_hash(s) == s_hash);
        checks.push(Check::new(
            &format!("{p}.s_hash"),
            "s_hash",
            ok,
            format!("{s_hash} = left half of SHA-256(state)"),
        ));
    }
}

/// One check per claim the front- and back-channel ID tokens must share (OIDC Core §3.3.3.6).
pub(super) fn consistency(front: &Value, back: &Value) -> Vec<Check> {
    AGREEING
        .iter()
        .map(|claim| {
            let (f, b) = (
                front.get(claim).unwrap_or(&Value::Null),
                back.get(claim).unwrap_or(&Value::Null),
            );
            let same = front.get(claim) == back.get(claim);
            let detail = if same {
                format!("equal: {f}")
            } else {
                format!("front {f} / back {b}")
            };
            Check::new(&format!("consistency.{claim}"), claim, same, detail)
        })
        .collect()
}

/// A refreshed ID token keeps the original's `sub` and `auth_time` (OIDC Core §12.2).
pub(super) fn same_as_original(renewed: &Value, original: &Value) -> Vec<Check> {
    ["sub", "auth_time"]
        .iter()
        .map(|claim| {
            Check::new(
                &format!("refresh.same_{claim}"),
                &format!("same {claim}"),
                renewed.get(claim) == original.get(claim),
                "as the original ID token (OIDC Core §12.2)",
            )
        })
        .collect()
}
