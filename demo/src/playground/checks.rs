//! The relying party's checks, made by `oidc-hybrid-testkit`'s independent RP-side validator
//! (the one the test suites use): an ID token validated as OIDC Core §3.3.2.12 and §3.1.3.7 ask
//! of a relying party (signature against the provider's JWKS, `iss`, `aud`, `azp`, `exp`,
//! `iat`, `nonce`, `c_hash`, `at_hash`, `s_hash`), and the agreement of the ID tokens of one
//! flow (§3.3.3.6, §12.2). Each outcome becomes a [`Check`] for the result page.
//!
//! This module only adapts the validator to the page: the provider's keys (checked with the
//! RustCrypto verifier) and the check identifiers shown as `data-check`.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::{JwsAlgorithm, UnixTime};
use oidc_hybrid_rustcrypto::PublicKey;
use oidc_hybrid_testkit::rp::{
    self, Expected, IdTokenRules, Jws, KeyError, KeySet, Profile, consistency as agree,
    refresh_consistency,
};
use serde_json::Value;

/// How far a relying party allows the provider's clock to be off, in seconds.
const LEEWAY: u64 = 60;

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

    /// The validator's `check`, identified under `prefix`.
    fn from_rp(prefix: &str, check: rp::Check) -> Self {
        Self::new(
            &format!("{prefix}.{}", check.name),
            check.name,
            check.passed,
            check.detail,
        )
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

impl<'a> Expect<'a> {
    /// The validator's rules for this expectation.
    fn rules(&self) -> IdTokenRules<'a> {
        let nonce = match self.nonce {
            Some(sent) => Expected::Equal(sent),
            None => Expected::AbsentOr(self.original_nonce),
        };
        let at_hash = match (self.access_token, self.at_hash_required) {
            (Some(token), true) => Expected::Equal(token),
            (Some(token), false) => Expected::AbsentOr(token),
            (None, _) => Expected::Any,
        };
        let mut rules = IdTokenRules::new(self.issuer, self.client_id)
            .profile(Profile::Interop)
            .alg(self.alg.as_str())
            .at(UnixTime::from_secs(self.now))
            .leeway(LEEWAY)
            .nonce(nonce)
            .at_hash(at_hash)
            .s_hash(self.state.map_or(Expected::Absent, Expected::AbsentOr));
        if let Some(code) = self.code {
            rules = rules.c_hash(Expected::Equal(code));
        }
        rules
    }
}

/// An ID token's decoded header and claims (decoded even if a check failed, for display).
#[derive(Debug)]
pub(super) struct IdToken {
    pub(super) header: Value,
    pub(super) claims: Value,
}

/// The provider's published keys, verified with the RustCrypto verifier: the key the header's
/// `kid` names, under the header's `alg`.
struct ProviderKeys<'k>(&'k [PublicKey]);

impl KeySet for ProviderKeys<'_> {
    fn verify(&self, jws: &Jws<'_>) -> Result<(), KeyError> {
        let alg = jws
            .alg()
            .and_then(JwsAlgorithm::from_name)
            .ok_or_else(|| KeyError::NoKey(format!("alg {:?}", jws.alg())))?;
        let key = self
            .0
            .iter()
            .find(|k| k.key_id() == jws.kid() && k.accepts(alg))
            .ok_or_else(|| KeyError::NoKey(format!("kid {:?} in the JWKS", jws.kid())))?;
        let signature = Base64UrlUnpadded::decode_vec(jws.signature())
            .map_err(|_| KeyError::BadSignature("not base64url".into()))?;
        key.verify(alg, jws.signing_input().as_bytes(), &signature)
            .map_err(|_| KeyError::BadSignature(format!("kid {:?}", jws.kid())))
    }
}

/// Validates the ID token `jwt` against `keys` and `expect`, adding a check for each rule to
/// `checks`, and returns it decoded.
pub(super) fn validate_id_token(
    checks: &mut Vec<Check>,
    jwt: &str,
    keys: &[PublicKey],
    expect: &Expect<'_>,
) -> IdToken {
    let report = expect.rules().check(jwt, &ProviderKeys(keys));
    checks.extend(
        report
            .checks()
            .iter()
            .cloned()
            .map(|c| Check::from_rp(expect.prefix, c)),
    );
    IdToken {
        header: report.header().clone(),
        claims: report.claims().clone(),
    }
}

/// One check per claim the front- and back-channel ID tokens must share (OIDC Core §3.3.3.6).
pub(super) fn consistency(front: &Value, back: &Value) -> Vec<Check> {
    agree(front, back)
        .into_iter()
        .map(|c| Check::from_rp("consistency", c))
        .collect()
}

/// A refreshed ID token keeps the original's `iss`, `sub`, `aud`, `azp`, `auth_time` and `acr`
/// and repeats no other nonce (OIDC Core §12.2).
pub(super) fn same_as_original(renewed: &Value, original: &Value) -> Vec<Check> {
    refresh_consistency(original, renewed)
        .into_iter()
        .map(|c| Check::from_rp("refresh.same", c))
        .collect()
}

/// Validates a back-channel logout token as a relying party must (Back-Channel Logout 1.0
/// §2.6): the signature against the provider's JWKS, `typ: logout+jwt`, `iss`, an `aud` among
/// `clients`, `iat` not in the future and `exp` not past, the logout event, `sid` or `sub`, and
/// no `nonce`. Returns the claims (decoded even if a check failed) and one check per rule.
pub(super) fn validate_logout_token(
    jwt: &str,
    keys: &[PublicKey],
    issuer: &str,
    clients: &[&str],
    now: u64,
) -> (Value, Vec<Check>) {
    let check = |id: &str, label: &str, ok: bool, detail: String| {
        Check::new(&format!("logout.{id}"), label, ok, detail)
    };
    let jws = match Jws::parse(jwt) {
        Ok(jws) => jws,
        Err(e) => {
            return (
                Value::Null,
                vec![check("jws", "compact JWS", false, e.to_string())],
            );
        }
    };
    let claims = jws.payload().clone();
    let signed = ProviderKeys(keys).verify(&jws);
    let typ = jws.header()["typ"].as_str().unwrap_or_default().to_owned();
    let aud = claims["aud"].as_str().unwrap_or_default().to_owned();
    let (iat, exp) = (claims["iat"].as_u64(), claims["exp"].as_u64());
    let event = &claims["events"]["http://schemas.openid.net/event/backchannel-logout"];
    let checks = vec![
        check(
            "signature",
            "signature (provider JWKS)",
            signed.is_ok(),
            signed.map_or_else(|e| e.to_string(), |()| "verified".into()),
        ),
        check("typ", "typ is logout+jwt", typ == "logout+jwt", typ),
        check(
            "iss",
            "iss is the issuer",
            claims["iss"] == issuer,
            claims["iss"].to_string(),
        ),
        check(
            "aud",
            "aud is one of our clients",
            clients.contains(&aud.as_str()),
            aud,
        ),
        check(
            "time",
            "iat not in the future, exp not past",
            iat.is_some_and(|t| t <= now + LEEWAY) && exp.is_some_and(|t| now < t + LEEWAY),
            format!("iat {iat:?}, exp {exp:?}, now {now}"),
        ),
        check(
            "events",
            "the logout event",
            event.is_object(),
            claims["events"].to_string(),
        ),
        check(
            "sid",
            "sid or sub",
            claims["sid"].is_string() || claims["sub"].is_string(),
            format!("sid {}, sub {}", claims["sid"], claims["sub"]),
        ),
        check(
            "nonce",
            "no nonce",
            claims.get("nonce").is_none(),
            String::new(),
        ),
    ];
    (claims, checks)
}
