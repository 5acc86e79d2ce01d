//! Authorization requests that do not arrive as plain parameters: request objects (RFC 9101;
//! OIDC Core §6.1) and `request_uri` references to pushed requests (RFC 9126 §4).
//!
//! ```text
//! AuthorizeInput::classify(params)
//!   ├─ Plain                                   AuthorizeRequest::parse(params)
//!   ├─ Object(RequestObject)                   await Storage::client (+ JwksFetcher::fetch)
//!   │    └─ verify(client, fetched, &context) → VerifiedRequest
//!   │         │                                await Storage::record_jti (when it has a jti)
//!   │         └─ recorded(fresh) → RequestParams → AuthorizeRequest::parse
//!   └─ Pushed(PushedReference)                 await Storage::take_pushed_request
//!        └─ resolve(record, now) → RequestParams → AuthorizeRequest::parse
//! ```
//!
//! A request object's parameters are authoritative: the query's other parameters are ignored
//! (RFC 9101 §6.3), except that `client_id` must be in the query and match, and a query
//! `response_type` must equal the object's (OIDC Core §6.1). Problems with a request object are
//! shown to the user, not redirected: until it verifies, nothing in it (nor in the query it
//! supersedes) says where a response may go.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, RequestObjectSigning};
use crate::client_keys::{
    ClientJwks, ClientKeys, JwsFailure, JwsVerifier, KeyFamily, SignatureAlgorithm,
    verify_client_jws,
};
use crate::clock::UnixTime;
use crate::config::Config;
use crate::error::Reject;
use crate::jose::{CompactJws, JwsHeader};
use crate::params::Params;
use crate::response::AuthorizeError;
use crate::secret::SecretDigest;
use crate::storage::PushedRequestRecord;
use crate::value::ClientId;

/// The prefix of every `request_uri` the PAR endpoint issues (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Claims of a request object that are about the object, not authorization parameters.
const ENVELOPE_CLAIMS: [&str; 8] = [
    "iss",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "request",
    "request_uri",
];

/// How an authorization request arrived.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthorizeInput {
    /// Plain parameters (OAuth 2.0 syntax).
    Plain,
    /// A `request` object (RFC 9101 §5.1).
    Object(RequestObject),
    /// A `request_uri` issued by the PAR endpoint (RFC 9126 §4).
    Pushed(PushedReference),
}

impl AuthorizeInput {
    /// Tells a plain request from one by value (`request`) or by reference (`request_uri`).
    ///
    /// # Errors
    ///
    /// Shown to the user: [`Reject::RequestAndRequestUri`]; [`Reject::ClientIdMissing`] (the
    /// query must name the client, RFC 9101 §5); [`Reject::RequestUriNotSupported`] for a
    /// `request_uri` this provider did not issue (fetching by reference is not offered);
    /// [`Reject::RequestObjectOuterParametersMissing`] for a `request` without `response_type`
    /// and a `scope` with `openid` outside it (OIDC Core §6.1);
    /// [`Reject::RequestObjectMalformed`] / [`Reject::RequestObjectEncrypted`].
    pub fn classify(params: &Params<'_>) -> Result<Self, AuthorizeError> {
        let show = AuthorizeError::show;
        let request = params.get("request").map_err(show)?;
        let request_uri = params.get("request_uri").map_err(show)?;
        if request.is_none() && request_uri.is_none() {
            return Ok(Self::Plain);
        }
        let client_id = params
            .get("client_id")
            .map_err(show)?
            .ok_or(show(Reject::ClientIdMissing))?;
        let client_id = ClientId::new(client_id).map_err(show)?;
        match (request, request_uri) {
            (Some(_), Some(_)) => Err(show(Reject::RequestAndRequestUri)),
            (Some(jwt), None) => {
                // OIDC Core §6.1: response_type and a scope with openid are also sent outside
                // the object (OAuth 2.0 syntax); the object's values win (§6.3.3).
                let query_response_type = params.get("response_type").map_err(show)?;
                let query_scope = params.get("scope").map_err(show)?;
                let openid = query_scope.is_some_and(|s| s.split(' ').any(|v| v == "openid"));
                if query_response_type.is_none() || !openid {
                    return Err(show(Reject::RequestObjectOuterParametersMissing));
                }
                Ok(Self::Object(RequestObject::parse(
                    client_id,
                    jwt,
                    query_response_type,
                )?))
            }
            (None, Some(uri)) => {
                let handle = uri
                    .strip_prefix(REQUEST_URI_PREFIX)
                    .ok_or(show(Reject::RequestUriNotSupported))?;
                Ok(Self::Pushed(PushedReference {
                    client_id,
                    digest: SecretDigest::of(handle),
                }))
            }
            (None, None) => Ok(Self::Plain),
        }
    }
}

/// The parameters of an authorization request that came by value or by reference, owned, in
/// the form [`AuthorizeRequest::parse`](crate::AuthorizeRequest::parse) reads.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RequestParams {
    pairs: Vec<(String, String)>,
    origin: RequestOrigin,
}

/// Where an authorization request's parameters came from.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequestOrigin {
    /// The query or form (OAuth 2.0 syntax).
    #[default]
    Plain,
    /// A verified request object (RFC 9101).
    Object,
    /// A pushed request (RFC 9126), itself possibly from a request object.
    Pushed,
}

impl RequestParams {
    pub(crate) fn new(pairs: Vec<(String, String)>, origin: RequestOrigin) -> Self {
        Self { pairs, origin }
    }

    /// Adds a parameter the server derived (e.g. `dpop_jkt` from a pushed request's proof).
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        self.pairs.push((name.into(), value.into()));
    }

    /// The parameters.
    ///
    /// # Errors
    ///
    /// The limits of [`Params::from_pairs`] (too many or too long values).
    pub fn params(&self) -> Result<Params<'_>, Reject> {
        Params::from_pairs(self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// Where they came from.
    #[must_use]
    pub fn origin(&self) -> RequestOrigin {
        self.origin
    }

    /// The pairs.
    #[must_use]
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// A reference to a pushed request (`request_uri`), not yet resolved.
#[derive(Debug)]
pub struct PushedReference {
    client_id: ClientId,
    digest: SecretDigest,
}

impl PushedReference {
    /// The digest under which the pushed request is stored.
    #[must_use]
    pub fn digest(&self) -> &SecretDigest {
        &self.digest
    }

    /// Decides on the outcome of
    /// [`Storage::take_pushed_request`](crate::Storage::take_pushed_request): the pushed
    /// parameters, if the reference was live and pushed by the client the query names.
    ///
    /// # Errors
    ///
    /// Shown to the user: [`Reject::RequestUriInvalid`] (unknown, expired or used: single use,
    /// RFC 9126 §4), [`Reject::RequestUriClientMismatch`].
    pub fn resolve(
        self,
        record: Option<PushedRequestRecord>,
    ) -> Result<RequestParams, AuthorizeError> {
        let record = record.ok_or(AuthorizeError::show(Reject::RequestUriInvalid))?;
        if record.client_id != self.client_id {
            return Err(AuthorizeError::show(Reject::RequestUriClientMismatch));
        }
        Ok(RequestParams::new(record.params, RequestOrigin::Pushed))
    }
}

/// A request object (RFC 9101 §4), decoded and not yet verified.
#[derive(Clone)]
pub struct RequestObject {
    client_id: ClientId,
    header: JwsHeader,
    signing_input: String,
    signature: Vec<u8>,
    claims: Map<String, Value>,
    query_response_type: Option<String>,
}

impl fmt::Debug for RequestObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestObject")
            .field("client_id", &self.client_id)
            .field("alg", &self.header.alg)
            .field("kid", &self.header.kid)
            .finish_non_exhaustive()
    }
}

/// What verifying a request object needs from the provider.
#[derive(Clone, Copy)]
pub struct ObjectContext<'a> {
    /// The current time.
    pub now: UnixTime,
    /// The configuration (issuer, lifetimes, whether unsigned objects are allowed).
    pub config: &'a Config,
    /// The host's verifier for asymmetric signatures, if one is configured.
    pub verifier: Option<&'a dyn JwsVerifier>,
}

impl fmt::Debug for ObjectContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectContext")
            .field("now", &self.now)
            .field("verifier", &self.verifier.is_some())
            .finish_non_exhaustive()
    }
}

impl RequestObject {
    /// Decodes a request object sent by `client_id` (the query's), without verifying it.
    ///
    /// # Errors
    ///
    /// Shown to the user: [`Reject::RequestObjectEncrypted`] for a JWE (five parts),
    /// [`Reject::RequestObjectMalformed`] otherwise.
    pub fn parse(
        client_id: ClientId,
        jwt: &str,
        query_response_type: Option<&str>,
    ) -> Result<Self, AuthorizeError> {
        let show = AuthorizeError::show;
        if jwt.split('.').count() == 5 {
            return Err(show(Reject::RequestObjectEncrypted));
        }
        // An unsigned object has an empty signature part, which parses as empty.
        let jws = CompactJws::parse(jwt).map_err(|_| show(Reject::RequestObjectMalformed))?;
        let claims: Map<String, Value> = serde_json::from_slice(&jws.payload)
            .map_err(|_| show(Reject::RequestObjectMalformed))?;
        Ok(Self {
            client_id,
            header: jws.header,
            signing_input: jws.signing_input.into(),
            signature: jws.signature,
            claims,
            query_response_type: query_response_type.map(String::from),
        })
    }

    /// The client the query names; the driver looks it up.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The `kid` of its header, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The `jwks_uri` to fetch the client's keys from, when the object is signed with an
    /// asymmetric algorithm and the client registered a `jwks_uri`.
    #[must_use]
    pub fn jwks_uri<'c>(&self, client: &'c Client) -> Option<&'c str> {
        let asymmetric = matches!(
            SignatureAlgorithm::from_name(&self.header.alg),
            Some(SignatureAlgorithm::Asymmetric(_))
        );
        asymmetric.then(|| client.jwks_uri()).flatten()
    }

    /// Verifies the object sent by `client` (RFC 9101 §6; OIDC Core §6.1, §6.3):
    ///
    /// - the signature: the algorithm registered as `request_object_signing_alg`, or any the
    ///   client has keys for (its JWK set through the host's verifier, or HMAC with a
    ///   `client_secret_jwt` secret); `none` only when the client registered it and the
    ///   configuration allows unsigned objects;
    /// - `client_id` (if present) and `iss` (if present) are the client; `aud` (if present)
    ///   names the issuer;
    /// - `exp` has not passed, `nbf`/`iat` are not in the future (with the clock skew), and
    ///   the object lives at most `Config::request_object_max_lifetime` (from `nbf`, else
    ///   `iat`, else now);
    /// - a query `response_type` equals the object's.
    ///
    /// # Errors
    ///
    /// Shown to the user, `invalid_request_object` with the precise reason.
    pub fn verify(
        self,
        client: &Client,
        fetched: Option<&ClientJwks>,
        context: &ObjectContext<'_>,
    ) -> Result<VerifiedRequest, AuthorizeError> {
        let show = AuthorizeError::show;
        if client.id() != &self.client_id {
            return Err(show(Reject::RequestObjectClientMismatch));
        }
        // The FAPI profile's algorithms (§8.6) before any key is looked for.
        let fapi = crate::fapi::applies(client, context.config);
        if fapi && !crate::fapi::algorithm_allowed(&self.header.alg) {
            return Err(show(Reject::RequestObjectAlgorithmRefused));
        }
        self.check_signature(client, fetched, context)
            .map_err(show)?;
        if fapi {
            self.check_fapi(context).map_err(show)?;
        }
        let jti = self.check_claims(context).map_err(show)?;
        let pairs = self.parameters().map_err(show)?;
        Ok(VerifiedRequest {
            client_id: self.client_id,
            jti,
            params: RequestParams::new(pairs, RequestOrigin::Object),
        })
    }

    fn check_signature(
        &self,
        client: &Client,
        fetched: Option<&ClientJwks>,
        context: &ObjectContext<'_>,
    ) -> Result<(), Reject> {
        let signing = client.request_object_signing();
        if self.header.alg == "none" {
            let allowed = signing == RequestObjectSigning::Unsigned
                && context.config.allow_unsigned_request_objects;
            return if allowed && self.signature.is_empty() {
                Ok(())
            } else {
                Err(Reject::RequestObjectAlgorithmRefused)
            };
        }
        let required = match signing {
            RequestObjectSigning::Signed(alg) => Some(alg),
            RequestObjectSigning::AnySigned => None,
            RequestObjectSigning::Unsigned => return Err(Reject::RequestObjectAlgorithmRefused),
        };
        let family = match SignatureAlgorithm::from_name(&self.header.alg) {
            Some(SignatureAlgorithm::Mac(_)) => KeyFamily::Secret,
            Some(SignatureAlgorithm::Asymmetric(_)) => KeyFamily::Public,
            None => return Err(Reject::RequestObjectAlgorithmRefused),
        };
        let keys = ClientKeys {
            jwks: client.jwks().or(fetched),
            secret: client.secret_key().map(|s| s.expose().as_bytes()),
            verifier: context.verifier,
        };
        let jws = CompactJws {
            header: self.header.clone(),
            payload: Vec::new(),
            signing_input: &self.signing_input,
            signature: self.signature.clone(),
        };
        verify_client_jws(&jws, family, required, keys).map_err(|failure| match failure {
            JwsFailure::Algorithm => Reject::RequestObjectAlgorithmRefused,
            JwsFailure::UnknownKey => Reject::RequestObjectKeyUnknown,
            JwsFailure::Signature => Reject::RequestObjectSignatureInvalid,
        })
    }

    /// The FAPI profile's claims rules for request objects: `exp`, `nbf` and `aud` present,
    /// within 60 minutes ([`fapi::check_request_object`](crate::fapi)).
    fn check_fapi(&self, context: &ObjectContext<'_>) -> Result<(), Reject> {
        let time = |name: &str| self.claims.get(name).and_then(Value::as_u64);
        let has_aud = self.claims.contains_key("aud");
        crate::fapi::check_request_object(time("exp"), time("nbf"), has_aud, context.now.as_secs())
    }

    /// The claim checks; the `jti` to record and until when, if the object has one.
    fn check_claims(
        &self,
        context: &ObjectContext<'_>,
    ) -> Result<Option<(String, UnixTime)>, Reject> {
        let claims = &self.claims;
        let text = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Reject::RequestObjectMalformed),
        };
        let time = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or(Reject::RequestObjectMalformed),
        };
        let id = self.client_id.as_str();
        if text("client_id")?.is_some_and(|c| c != id) || text("iss")?.is_some_and(|i| i != id) {
            return Err(Reject::RequestObjectClientMismatch);
        }
        let issuer = context.config.issuer.as_str();
        let audience_ok = match claims.get("aud") {
            None => true,
            Some(Value::String(aud)) => aud == issuer,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
            Some(_) => return Err(Reject::RequestObjectMalformed),
        };
        if !audience_ok {
            return Err(Reject::RequestObjectAudienceMismatch);
        }
        let now = context.now.as_secs();
        let skew = context.config.clock_skew;
        let (exp, nbf, iat) = (time("exp")?, time("nbf")?, time("iat")?);
        let future = |t: Option<u64>| t.is_some_and(|t| t > now.saturating_add(skew));
        if exp.is_some_and(|exp| exp.saturating_add(skew) <= now) || future(nbf) || future(iat) {
            return Err(Reject::RequestObjectExpired);
        }
        let start = nbf.or(iat).unwrap_or(now);
        let max = context.config.request_object_max_lifetime;
        if exp.is_some_and(|exp| exp.saturating_sub(start) > max) {
            return Err(Reject::RequestObjectLifetimeTooLong);
        }
        if let (Some(query), Some(object)) =
            (self.query_response_type.as_deref(), text("response_type")?)
            && query != object
        {
            return Err(Reject::RequestObjectResponseTypeMismatch);
        }
        let until =
            UnixTime::from_secs(exp.unwrap_or(now.saturating_add(max)).saturating_add(skew));
        Ok(text("jti")?.map(|jti| (format!("request_object#{jti}"), until)))
    }

    /// The authorization parameters: every claim but the envelope, strings as they are,
    /// numbers in decimal, the `claims` object as JSON, a `resource` array as one parameter per
    /// resource; the query's `client_id`.
    fn parameters(&self) -> Result<Vec<(String, String)>, Reject> {
        let mut pairs = Vec::with_capacity(self.claims.len() + 1);
        pairs.push(("client_id".to_string(), self.client_id.as_str().to_string()));
        for (name, value) in &self.claims {
            if ENVELOPE_CLAIMS.contains(&name.as_str()) || name == "client_id" {
                continue;
            }
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Object(_) if name == "claims" => value.to_string(),
                // RFC 8707 §2: several resources, each its own parameter.
                Value::Array(list) if name == "resource" => {
                    for item in list {
                        let item = item.as_str().ok_or(Reject::RequestObjectMalformed)?;
                        pairs.push((name.clone(), item.to_string()));
                    }
                    continue;
                }
                Value::Null => continue,
                _ => return Err(Reject::RequestObjectMalformed),
            };
            pairs.push((name.clone(), value));
        }
        Ok(pairs)
    }
}

/// A verified request object; its `jti` (if any) must be recorded before it counts
/// (single use, [`Storage::record_jti`](crate::Storage::record_jti)).
#[derive(Debug)]
pub struct VerifiedRequest {
    client_id: ClientId,
    jti: Option<(String, UnixTime)>,
    params: RequestParams,
}

impl VerifiedRequest {
    /// The `jti` to record for the client, and until when; `None` when the object has none.
    #[must_use]
    pub fn jti(&self) -> Option<(&ClientId, &str, UnixTime)> {
        self.jti
            .as_ref()
            .map(|(jti, until)| (&self.client_id, jti.as_str(), *until))
    }

    /// Decides on the outcome of [`Storage::record_jti`](crate::Storage::record_jti) (`true`
    /// when the object has no `jti`).
    ///
    /// # Errors
    ///
    /// Shown to the user: [`Reject::RequestObjectReplayed`].
    pub fn recorded(self, fresh: bool) -> Result<RequestParams, AuthorizeError> {
        if fresh {
            Ok(self.params)
        } else {
            Err(AuthorizeError::show(Reject::RequestObjectReplayed))
        }
    }
}
