//! UserInfo (OIDC Core §5.3): bearer token extraction (RFC 6750 §2) and claim selection by
//! scope (OIDC Core §5.4).

use alloc::string::String;
use core::future::Future;

use serde_json::{Map, Value};

use crate::error::{EndpointError, Reject};
use crate::params::Params;
use crate::secret::AccessToken;
use crate::value::{Scope, Subject};

/// End-User claims as a JSON object.
pub type Claims = Map<String, Value>;

/// The host's source of End-User claims (its user directory).
///
/// # Example
///
/// ```
/// use oidc_hybrid::userinfo::{Claims, ClaimsSource};
/// use oidc_hybrid::Subject;
///
/// struct Directory;
///
/// impl ClaimsSource for Directory {
///     type Error = core::convert::Infallible;
///     async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
///         let mut claims = Claims::new();
///         claims.insert("name".into(), format!("User {subject}").into());
///         Ok(Some(claims))
///     }
/// }
/// ```
pub trait ClaimsSource: Send + Sync {
    /// The source's error type.
    type Error: core::error::Error + Send + Sync + 'static;

    /// All claims of `subject` (the selection by scope happens in [`select_claims`]);
    /// `Ok(None)` if the End-User no longer exists.
    fn claims(
        &self,
        subject: &Subject,
    ) -> impl Future<Output = Result<Option<Claims>, Self::Error>> + Send;
}

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

/// The claims `scope` releases from `all`, always with `sub` set to `subject`
/// (OIDC Core §5.3.2: `sub` always present and equal to the ID token's).
#[must_use]
pub fn select_claims(scope: &Scope, subject: &Subject, all: &Claims) -> Claims {
    let mut out = Claims::new();
    out.insert("sub".into(), Value::String(subject.as_str().into()));
    for (scope_value, names) in SCOPE_CLAIMS {
        if scope.contains(scope_value) {
            for name in names {
                if let Some(value) = all.get(*name).filter(|v| !v.is_null()) {
                    out.insert((*name).into(), value.clone());
                }
            }
        }
    }
    out
}

/// The bearer token of a UserInfo request: `Authorization: Bearer` header or `access_token`
/// form parameter, exactly one (RFC 6750 §2.1, §2.2, §2; the query method is refused,
/// RFC 9700 §4.3.2).
///
/// # Errors
///
/// `invalid_request` (missing: with a bare `Bearer` challenge; sent twice; malformed header).
pub fn bearer_token(
    authorization: Option<&str>,
    body: Option<&Params<'_>>,
) -> Result<AccessToken, EndpointError> {
    let err = |reject| EndpointError::new(reject, false);
    let from_body = match body {
        Some(params) => params.get("access_token").map_err(err)?,
        None => None,
    };
    match (authorization, from_body) {
        (Some(_), Some(_)) => Err(err(Reject::InvalidTokenMultipleMethods)),
        (None, None) => Err(err(Reject::TokenMissing)),
        (None, Some(token)) => Ok(AccessToken::new(token)),
        (Some(header), None) => {
            let (scheme, token) = header
                .trim()
                .split_once(' ')
                .ok_or(err(Reject::MalformedAuthorizationHeader))?;
            let token = token.trim();
            // b64token syntax (RFC 6750 §2.1).
            let b64token = !token.is_empty()
                && token.len() <= 4096
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
            if !scheme.eq_ignore_ascii_case("bearer") || !b64token {
                return Err(err(Reject::MalformedAuthorizationHeader));
            }
            Ok(AccessToken::new(token))
        }
    }
}
