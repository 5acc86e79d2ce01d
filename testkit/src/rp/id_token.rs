//! ID token validation as OIDC Core §3.1.3.7 and §3.3.2.12 ask of a relying party, and the
//! consistency of several ID tokens of one authentication (§3.3.3.6, §12.2).

use core::fmt::Write as _;

use oidc_hybrid::UnixTime;
use serde_json::Value;

use super::hash::hash_claim;
use super::keys::{Jws, KeyError, KeySet};

/// The JWS algorithms an RP accepts for ID tokens: asymmetric ones only, never `none` and never
/// an HMAC (whose key would be the client secret, OIDC Core §10.1).
pub const ACCEPTED_ALGS: [&str; 10] = [
    "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
];

/// How much an RP requires beyond what OIDC Core says it must check.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub enum Profile {
    /// Any provider's ID tokens: `aud` may be an array containing the client, `azp` is checked
    /// when present, `typ` and `kid` are not required.
    Interop,
    /// What this project's provider guarantees, on top: header `typ` is `JWT` and `kid` names
    /// the key, `aud` is exactly the client id, `azp` is present, and no claim is `null`
    /// (absent claims are omitted).
    #[default]
    Strict,
}

/// What a string claim must be, or — for the hash claims `c_hash`, `at_hash` and `s_hash` —
/// the value whose hash it must carry.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub enum Expected<'a> {
    /// Not checked.
    #[default]
    Any,
    /// The claim must be absent.
    Absent,
    /// The claim must be absent or match the value.
    AbsentOr(&'a str),
    /// The claim must be present and match the value.
    Equal(&'a str),
}

/// `Some(value)`: [`Expected::Equal`]; `None`: [`Expected::Absent`] — a nonce or a hashed
/// value that was sent, or not.
impl<'a> From<Option<&'a str>> for Expected<'a> {
    fn from(value: Option<&'a str>) -> Self {
        value.map_or(Self::Absent, Self::Equal)
    }
}

impl Expected<'_> {
    /// Whether `claim` satisfies the rule, where `matches` compares a present claim with the
    /// value.
    fn holds(self, claim: Option<&str>, matches: impl Fn(&str, &str) -> bool) -> bool {
        match (self, claim) {
            (Self::Any, _) | (Self::Absent | Self::AbsentOr(_), None) => true,
            (Self::Absent, Some(_)) | (Self::Equal(_), None) => false,
            (Self::AbsentOr(value) | Self::Equal(value), Some(claim)) => matches(claim, value),
        }
    }
}

/// One check of a validation: a short name (the claim, or `jws`, `alg`, `typ`, `kid`, `key`,
/// `signature`, `nulls`), whether it passed, and what was found.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, passed: bool, detail: impl Into<String>) -> Self {
        Self {
            name,
            passed,
            detail: detail.into(),
        }
    }
}

/// What a relying party requires of one ID token: built with [`IdTokenRules::new`] and the
/// builder methods, then [`check`](Self::check)ed or [`validate`](Self::validate)d against a
/// [`KeySet`].
///
/// Always checked: the token is a compact JWS with an accepted `alg` ([`ACCEPTED_ALGS`], and
/// the registered one if [`alg`](Self::alg) is set), its signature verifies with a trusted key,
/// `iss` is the issuer, `aud` names the client, `azp` (when present) is the client, `exp` and
/// `iat` are numbers, `sub` is a non-empty string of at most 255 characters. With
/// [`at`](Self::at), `exp` is in the future and `iat` not (give or take the
/// [`leeway`](Self::leeway)). `nonce`, `sub`'s value and the hash claims are checked as their
/// [`Expected`] rules say (not at all by default). [`Profile::Strict`] (the default) adds the
/// checks listed there.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenRules<'a> {
    issuer: &'a str,
    client_id: &'a str,
    profile: Profile,
    alg: Option<&'a str>,
    now: Option<UnixTime>,
    leeway: u64,
    subject: Expected<'a>,
    nonce: Expected<'a>,
    c_hash: Expected<'a>,
    at_hash: Expected<'a>,
    s_hash: Expected<'a>,
}

/// Builder methods of [`IdTokenRules`], each setting the rule of the claim it is named after.
macro_rules! expect_rules {
    ($($(#[$doc:meta])* $claim:ident;)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $claim(mut self, rule: impl Into<Expected<'a>>) -> Self {
                self.$claim = rule.into();
                self
            }
        )*
    };
}

impl<'a> IdTokenRules<'a> {
    /// ID tokens of `issuer` for `client_id`, [`Profile::Strict`], times not checked.
    #[must_use]
    pub fn new(issuer: &'a str, client_id: &'a str) -> Self {
        Self {
            issuer,
            client_id,
            profile: Profile::Strict,
            alg: None,
            now: None,
            leeway: 0,
            subject: Expected::Any,
            nonce: Expected::Any,
            c_hash: Expected::Any,
            at_hash: Expected::Any,
            s_hash: Expected::Any,
        }
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &'a str {
        self.issuer
    }

    /// The client.
    #[must_use]
    pub fn client_id(&self) -> &'a str {
        self.client_id
    }

    /// How much beyond OIDC Core is required.
    #[must_use]
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// The algorithm the client registered (`id_token_signed_response_alg`): the header's
    /// `alg` must be exactly this (OIDC Core §3.1.3.7 step 7).
    #[must_use]
    pub fn alg(mut self, alg: &'a str) -> Self {
        self.alg = Some(alg);
        self
    }

    /// Checks `exp` and `iat` against `now` (§3.1.3.7 steps 9, 10).
    #[must_use]
    pub fn at(mut self, now: UnixTime) -> Self {
        self.now = Some(now);
        self
    }

    /// Clock skew allowed for `exp` and `iat`, in seconds (0 unless set).
    #[must_use]
    pub fn leeway(mut self, secs: u64) -> Self {
        self.leeway = secs;
        self
    }

    expect_rules! {
        /// What `sub` must be.
        subject;
        /// What `nonce` must be: `Some(nonce)` the nonce sent, `None` absent (none was sent); on
        /// a refresh, [`Expected::AbsentOr`] the original nonce (§12.2).
        nonce;
        /// What `c_hash` must cover: `Some(code)` the code returned with the ID token
        /// (§3.3.2.11), `None` no `c_hash`.
        c_hash;
        /// What `at_hash` must cover: `Some(token)` the access token returned with the ID token,
        /// `None` no `at_hash`; [`Expected::AbsentOr`] where it is optional (the token endpoint,
        /// §3.3.3.6).
        at_hash;
        /// What `s_hash` must cover: the `state` sent (FAPI 1.0 Part 2 §5.1).
        s_hash;
    }

    /// Validates `token` and reports every check.
    #[must_use]
    pub fn check(&self, token: &str, keys: &(impl KeySet + ?Sized)) -> IdTokenReport {
        let jws = match Jws::parse(token) {
            Ok(jws) => jws,
            Err(e) => {
                return IdTokenReport {
                    header: Value::Null,
                    claims: Value::Null,
                    checks: vec![Check::new("jws", false, e.to_string())],
                };
            }
        };
        let strict = self.profile == Profile::Strict;
        let mut checks = Vec::new();
        let mut check =
            |name, passed, detail: String| checks.push(Check::new(name, passed, detail));
        let alg = jws.alg().unwrap_or_default();
        check(
            "alg",
            ACCEPTED_ALGS.contains(&alg) && self.alg.is_none_or(|registered| alg == registered),
            format!("{alg} (registered: {})", self.alg.unwrap_or("any accepted")),
        );
        if strict {
            let typ = jws.header()["typ"].as_str();
            check("typ", typ == Some("JWT"), format!("{typ:?}"));
            check("kid", jws.kid().is_some(), format!("{:?}", jws.kid()));
        }
        match keys.verify(&jws) {
            Ok(()) => check(
                "signature",
                true,
                format!("verified with the key {:?}", jws.kid()),
            ),
            Err(KeyError::NoKey(detail)) => check("key", false, detail),
            Err(KeyError::BadSignature(detail)) => check("signature", false, detail),
        }
        let claims = jws.payload();
        let text = |name: &str| claims.get(name).and_then(Value::as_str);
        let iss = text("iss");
        check("iss", iss == Some(self.issuer), format!("{iss:?}"));
        let aud_ok = match &claims["aud"] {
            Value::String(aud) => aud == self.client_id,
            Value::Array(list) if !strict => list.iter().any(|a| a == self.client_id),
            _ => false,
        };
        check("aud", aud_ok, claims["aud"].to_string());
        let azp = claims.get("azp");
        let azp_ok = match azp {
            Some(azp) => azp.as_str() == Some(self.client_id),
            None => !strict,
        };
        check("azp", azp_ok, format!("{azp:?}"));
        let now = self.now.map(UnixTime::as_secs);
        let exp = claims["exp"].as_u64();
        let exp_ok =
            exp.is_some_and(|exp| now.is_none_or(|now| exp.saturating_add(self.leeway) > now));
        check("exp", exp_ok, expiry_detail(exp, now));
        let iat = claims["iat"].as_u64();
        let iat_ok =
            iat.is_some_and(|iat| now.is_none_or(|now| iat <= now.saturating_add(self.leeway)));
        check("iat", iat_ok, format!("{iat:?}"));
        let sub = text("sub");
        let sub_ok = sub.is_some_and(|s| !s.is_empty() && s.chars().count() <= 255)
            && self.subject.holds(sub, |claim, value| claim == value);
        check("sub", sub_ok, format!("{sub:?}"));
        if self.nonce != Expected::Any {
            let nonce = text("nonce");
            let ok = claims.get("nonce").is_none_or(Value::is_string)
                && self.nonce.holds(nonce, |claim, value| claim == value);
            check("nonce", ok, format!("{nonce:?}"));
        }
        for (name, rule) in [
            ("c_hash", self.c_hash),
            ("at_hash", self.at_hash),
            ("s_hash", self.s_hash),
        ] {
            if rule != Expected::Any {
                let claim = text(name);
                let ok = claims.get(name).is_none_or(Value::is_string)
                    && rule.holds(claim, |claim, value| {
                        hash_claim(alg, value).is_some_and(|hash| hash == claim)
                    });
                check(name, ok, format!("{claim:?}"));
            }
        }
        if strict {
            let nulls: Vec<&String> = claims
                .as_object()
                .map(|c| {
                    c.iter()
                        .filter(|(_, v)| v.is_null())
                        .map(|(n, _)| n)
                        .collect()
                })
                .unwrap_or_default();
            check(
                "nulls",
                nulls.is_empty(),
                format!("claims that must be omitted rather than null: {nulls:?}"),
            );
        }
        IdTokenReport {
            header: jws.header().clone(),
            claims: claims.clone(),
            checks,
        }
    }

    /// Validates `token` and returns its claims.
    ///
    /// # Panics
    ///
    /// If any check fails (a test failure), naming every failed check.
    #[must_use]
    pub fn validate(&self, token: &str, keys: &(impl KeySet + ?Sized)) -> Value {
        self.check(token, keys).into_valid_claims()
    }
}

fn expiry_detail(exp: Option<u64>, now: Option<u64>) -> String {
    match (exp, now) {
        (Some(exp), Some(now)) if exp > now => format!("expires in {} s", exp - now),
        (Some(exp), Some(now)) => format!("expired {} s ago", now - exp),
        (exp, None) => format!("{exp:?}"),
        (None, Some(_)) => "missing".into(),
    }
}

/// The outcome of [`IdTokenRules::check`]: the decoded header and claims (`null` if the token
/// is not a JWS; decoded even when a check failed, for display) and every check made.
#[derive(Clone, Debug)]
pub struct IdTokenReport {
    header: Value,
    claims: Value,
    checks: Vec<Check>,
}

impl IdTokenReport {
    /// The protected header.
    #[must_use]
    pub fn header(&self) -> &Value {
        &self.header
    }

    /// The claims.
    #[must_use]
    pub fn claims(&self) -> &Value {
        &self.claims
    }

    /// Every check, in order.
    #[must_use]
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Whether every check passed.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The first check that failed.
    #[must_use]
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.passed)
    }

    /// The claims of a valid token.
    ///
    /// # Panics
    ///
    /// If any check failed, naming every failed check.
    #[must_use]
    pub fn into_valid_claims(self) -> Value {
        assert_passed(&self.checks, "ID token");
        self.claims
    }
}

/// Asserts that every check passed.
///
/// # Panics
///
/// If one failed, naming every failed check and what it found, and `what` was checked.
pub fn assert_passed(checks: &[Check], what: &str) {
    let mut failed = String::new();
    for check in checks.iter().filter(|c| !c.passed) {
        let _ = write!(failed, "\n  {}: {}", check.name, check.detail);
    }
    assert!(
        failed.is_empty(),
        "{what} rejected by the relying party:{failed}"
    );
}

/// The claims about the authentication that every ID token of one authorization repeats.
const AUTHENTICATION_CLAIMS: [&str; 6] = ["aud", "azp", "nonce", "auth_time", "acr", "amr"];

/// Checks the two ID tokens of a hybrid flow against each other, as OIDC Core §3.3.3.6 asks:
/// `iss` and `sub` present and identical, and each claim about the authentication (`aud`,
/// `azp`, `nonce`, `auth_time`, `acr`, `amr`) identical (or absent from both). One check per
/// claim, named after it.
#[must_use]
pub fn consistency(front: &Value, back: &Value) -> Vec<Check> {
    compare(front, back, &AUTHENTICATION_CLAIMS)
}

/// Checks an ID token issued on refresh against the original, as OIDC Core §12.2 asks: `iss`
/// and `sub` present and identical, `aud`, `azp`, `auth_time` and `acr` identical (or absent
/// from both), and `nonce` absent or the original one.
#[must_use]
pub fn refresh_consistency(original: &Value, refreshed: &Value) -> Vec<Check> {
    let mut checks = compare(original, refreshed, &["aud", "azp", "auth_time", "acr"]);
    let nonce = refreshed.get("nonce");
    checks.push(Check::new(
        "nonce",
        nonce.is_none_or(|n| Some(n) == original.get("nonce")),
        format!("{nonce:?}"),
    ));
    checks
}

fn compare(first: &Value, second: &Value, same: &[&'static str]) -> Vec<Check> {
    let mut checks = Vec::new();
    for (claim, required) in [("iss", true), ("sub", true)]
        .into_iter()
        .chain(same.iter().map(|c| (*c, false)))
    {
        let (a, b) = (first.get(claim), second.get(claim));
        let passed = a == b && (a.is_some() || !required);
        let detail = if a == b {
            format!("equal: {}", a.unwrap_or(&Value::Null))
        } else {
            format!(
                "{} / {}",
                a.unwrap_or(&Value::Null),
                b.unwrap_or(&Value::Null)
            )
        };
        checks.push(Check::new(claim, passed, detail));
    }
    checks
}
