//! End-User claims: what the host's [`ClaimsSource`](crate::ClaimsSource) supplies and what the
//! core releases, in UserInfo and in the token endpoint's ID token (OIDC Core §5.1, §5.4, §5.5).
//!
//! The host is asked for the claims of one End-User, client, scope and target
//! ([`ClaimsQuery`]); whatever it answers, the core releases only
//!
//! - in UserInfo: `sub` (always, from the token), the standard claims of the standard scope
//!   values granted (§5.4), the claims the configuration maps to the custom scope values granted
//!   (`Config::scope_claims`), and the claims the `claims` request parameter
//!   asked for in its `userinfo` member (§5.5) that the configuration lists in
//!   `claims_supported`;
//! - in the token endpoint's ID token: the claims of the custom scope values granted and those
//!   asked for in the `id_token` member (listed in `claims_supported`). Standard scope claims stay
//!   in UserInfo (§5.4: an access token is issued), and the front-channel ID token carries no
//!   End-User claims (§3.3.3.6 allows fewer claims there; REQUIREMENTS 84).
//!
//! [`PROTECTED_CLAIMS`] are never taken from the host: the core sets them. A claim requested with
//! `value` or `values` is released only when the host's value is one of them (§5.5.1).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Reject;
use crate::value::{ClientId, Scope, Subject};

/// End-User claims as a JSON object.
pub type Claims = Map<String, Value>;

/// Claims the core sets and the host can never supply or override: the ID token's and JWT access
/// token's own claims (OIDC Core §2, §3.3.2.11; RFC 9068 §2.2; RFC 7800 §3.1).
pub const PROTECTED_CLAIMS: [&str; 18] = [
    "acr",
    "amr",
    "at_hash",
    "aud",
    "auth_time",
    "azp",
    "c_hash",
    "client_id",
    "cnf",
    "exp",
    "iat",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "s_hash",
    "sid",
    "sub",
];

/// Most claims one `claims` parameter may name (per member).
pub const MAX_REQUESTED_CLAIMS: usize = 64;

/// The standard claims each scope value releases (OIDC Core §5.4).
pub const SCOPE_CLAIMS: [(&str, &[&str]); 4] = [
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// How one claim is requested (OIDC Core §5.5.1): `null` (no member set), or with `essential`,
/// `value` or `values`.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct ClaimRequest {
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    essential: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    values: Option<Vec<Value>>,
}

impl ClaimRequest {
    /// Whether the claim is essential (§5.5.1).
    #[must_use]
    pub fn is_essential(&self) -> bool {
        self.essential
    }

    /// The values the claim is asked to have (`value`, else `values`); empty: any value.
    #[must_use]
    pub fn wanted(&self) -> &[Value] {
        match (&self.value, &self.values) {
            (Some(value), _) => core::slice::from_ref(value),
            (None, Some(values)) => values,
            (None, None) => &[],
        }
    }

    /// Whether `value` satisfies the request.
    fn accepts(&self, value: &Value) -> bool {
        let wanted = self.wanted();
        wanted.is_empty() || wanted.contains(value)
    }
}

/// The `claims` request parameter (OIDC Core §5.5), with `claims_locales` (§5.2): parsed once at
/// the authorization endpoint and kept with the grant, so that every ID token and UserInfo answer
/// of the grant honours it (REQUIREMENTS 90).
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    userinfo: BTreeMap<String, ClaimRequest>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    id_token: BTreeMap<String, ClaimRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    locales: Vec<String>,
}

impl ClaimsRequest {
    /// Parses the `claims` parameter: a JSON object whose `userinfo` and `id_token` members, when
    /// present, are objects mapping claim names to `null` or to an object with an optional
    /// boolean `essential`, a `value` and an array `values` (§5.5, §5.5.1). Other top-level
    /// members are ignored (§5.5: extensions).
    ///
    /// # Errors
    ///
    /// [`Reject::ClaimsMalformed`] (`invalid_request`) for anything else, and for more than
    /// [`MAX_REQUESTED_CLAIMS`] claims in a member.
    pub fn parse(raw: &str) -> Result<Self, Reject> {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(raw) else {
            return Err(Reject::ClaimsMalformed);
        };
        Ok(Self {
            userinfo: member(object.get("userinfo"))?,
            id_token: member(object.get("id_token"))?,
            locales: Vec::new(),
        })
    }

    /// Sets the `claims_locales` (§5.2), in order of preference.
    #[must_use]
    pub fn with_locales(mut self, locales: Vec<String>) -> Self {
        self.locales = locales;
        self
    }

    /// Whether nothing was requested.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.userinfo.is_empty() && self.id_token.is_empty() && self.locales.is_empty()
    }

    /// The request for `name` in the member of `target`.
    #[must_use]
    pub fn claim(&self, target: ClaimsTarget, name: &str) -> Option<&ClaimRequest> {
        self.member(target).get(name)
    }

    /// `claims_locales`, in order of preference.
    #[must_use]
    pub fn locales(&self) -> &[String] {
        &self.locales
    }

    fn member(&self, target: ClaimsTarget) -> &BTreeMap<String, ClaimRequest> {
        match target {
            ClaimsTarget::IdToken => &self.id_token,
            ClaimsTarget::UserInfo => &self.userinfo,
        }
    }
}

fn member(value: Option<&Value>) -> Result<BTreeMap<String, ClaimRequest>, Reject> {
    let object = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(object)) if object.len() <= MAX_REQUESTED_CLAIMS => object,
        Some(_) => return Err(Reject::ClaimsMalformed),
    };
    let mut out = BTreeMap::new();
    for (name, request) in object {
        let request = match request {
            Value::Null => ClaimRequest::default(),
            Value::Object(fields) => {
                let essential = match fields.get("essential") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(Reject::ClaimsMalformed),
                };
                let values = match fields.get("values") {
                    None | Some(Value::Null) => None,
                    Some(Value::Array(values)) => Some(values.clone()),
                    Some(_) => return Err(Reject::ClaimsMalformed),
                };
                ClaimRequest {
                    essential,
                    value: fields.get("value").filter(|v| !v.is_null()).cloned(),
                    values,
                }
            }
            _ => return Err(Reject::ClaimsMalformed),
        };
        out.insert(name.clone(), request);
    }
    Ok(out)
}

/// Where released claims go.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum ClaimsTarget {
    /// The ID token issued at the token endpoint (after a code or a refresh).
    IdToken,
    /// The UserInfo response.
    UserInfo,
}

/// What the host is asked for: the End-User, the client, the granted scope, the target and the
/// names the core may release there (the host need not look up anything else).
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct ClaimsQuery {
    /// The End-User (the grant's subject as the host knows it, never a pairwise value).
    pub subject: Subject,
    /// The client the claims are for.
    pub client_id: ClientId,
    /// The granted scope.
    pub scope: Scope,
    /// Where the claims go.
    pub target: ClaimsTarget,
    /// The claim names the core may release there; the host may leave out the others.
    pub releasable: Vec<String>,
    /// `claims_locales`, in order of preference (§5.2).
    pub locales: Vec<String>,
}

/// The claim names releasable in `target` for `scope` and `request` (see the module docs),
/// given the configuration's `scope_claims` and `claims_supported`.
#[must_use]
pub fn releasable(
    (scope_claims, claims_supported): (&[(String, Vec<String>)], &[String]),
    target: ClaimsTarget,
    scope: &Scope,
    request: Option<&ClaimsRequest>,
) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if target == ClaimsTarget::UserInfo {
        for (scope_value, claims) in SCOPE_CLAIMS {
            if scope.contains(scope_value) {
                names.extend(claims.iter().map(|c| String::from(*c)));
            }
        }
    }
    for (scope_value, claims) in scope_claims {
        if scope.contains(scope_value) {
            names.extend(claims.iter().cloned());
        }
    }
    if let Some(request) = request {
        let supported = request
            .member(target)
            .keys()
            .filter(|name| claims_supported.iter().any(|s| s == *name));
        names.extend(supported.cloned());
    }
    names.retain(|name| !PROTECTED_CLAIMS.contains(&name.as_str()));
    names.sort_unstable();
    names.dedup();
    names
}

/// The claims released from the host's answer `all`: the [`releasable`] names whose values are
/// not `null` and satisfy a `value`/`values` request; never a [`PROTECTED_CLAIMS`] member.
#[must_use]
pub fn release(query: &ClaimsQuery, request: Option<&ClaimsRequest>, all: &Claims) -> Claims {
    let mut out = Claims::new();
    for name in &query.releasable {
        let Some(value) = all.get(name).filter(|v| !v.is_null()) else {
            continue;
        };
        let wanted = request.and_then(|r| r.claim(query.target, name));
        if wanted.is_none_or(|w| w.accepts(value)) {
            out.insert(name.clone(), value.clone());
        }
    }
    out
}
