//! The pushed authorization request endpoint (RFC 9126) as typed steps:
//!
//! ```text
//! PushRequest::parse(params, authorization)
//!   └─ into_parts() → (Credentials, PendingPush)         client authentication (client_auth)
//!        └─ PendingPush::authenticated(client)
//!             ├─ PushStep::Plain(ValidatePush)
//!             └─ PushStep::Object(PushedObject)          (+ JwksFetcher::fetch)
//!                  └─ verify(fetched, &context) → VerifiedPush
//!                       │                                 await Storage::record_jti
//!                       └─ recorded(fresh) → ValidatePush
//!                            └─ validate(&mint) → (PushedRequestRecord, PushedResponse)
//!                                                         await Storage::insert_pushed_request
//! ```
//!
//! The pushed request is validated as the authorization endpoint would validate it, but errors
//! are answered as JSON (RFC 9126 §2.3), never redirected. The stored request keeps no client
//! credentials; its `request_uri` is single use and expires after
//! `Config::pushed_request_lifetime` seconds.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Serialize;

use crate::authorize::AuthorizeRequest;
use crate::client_auth::{AuthenticatedClient, Credentials};
use crate::client_keys::ClientJwks;
use crate::error::{EndpointError, Reject};
use crate::mint::Mint;
use crate::params::Params;
use crate::request_object::{
    ObjectContext, REQUEST_URI_PREFIX, RequestObject, RequestOrigin, RequestParams, VerifiedRequest,
};
use crate::secret::SecretDigest;
use crate::storage::PushedRequestRecord;
use crate::value::ClientId;

/// Parameters that authenticate the client and are never stored with the pushed request.
const CREDENTIAL_PARAMS: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// A parsed pushed authorization request whose client is not yet authenticated.
#[derive(Debug)]
pub struct PushRequest {
    credentials: Credentials,
    body: Result<PushBody, Reject>,
}

#[derive(Debug)]
struct PushBody {
    pairs: Vec<(String, String)>,
    request: Option<String>,
    response_type: Option<String>,
}

impl PushRequest {
    /// Parses the credentials and the pushed parameters (RFC 9126 §2.1).
    ///
    /// # Errors
    ///
    /// Credential errors from [`Credentials::parse`]. Problems with the pushed parameters
    /// ([`Reject::PushedRequestUriForbidden`], duplicates) wait for authentication.
    pub fn parse(params: &Params<'_>, authorization: Option<&str>) -> Result<Self, EndpointError> {
        let credentials = Credentials::parse(params, authorization)?;
        let body = (|| {
            if params.contains("request_uri") {
                return Err(Reject::PushedRequestUriForbidden);
            }
            let request = params.get("request")?.map(String::from);
            let response_type = params.get("response_type")?.map(String::from);
            let pairs = params
                .iter()
                .filter(|(name, _)| !CREDENTIAL_PARAMS.contains(name) && *name != "request")
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect();
            Ok(PushBody {
                pairs,
                request,
                response_type,
            })
        })();
        Ok(Self { credentials, body })
    }

    /// Splits the request: the credentials go through client authentication, the pushed
    /// parameters wait for its result.
    #[must_use]
    pub fn into_parts(self) -> (Credentials, PendingPush) {
        (self.credentials, PendingPush { body: self.body })
    }
}

/// Pushed parameters whose client is being authenticated.
#[derive(Debug)]
pub struct PendingPush {
    body: Result<PushBody, Reject>,
}

impl PendingPush {
    /// Continues with the authenticated client.
    ///
    /// # Errors
    ///
    /// The body's parse error; a request object that does not decode (`invalid_request_object`).
    pub fn authenticated(self, client: AuthenticatedClient) -> Result<PushStep, EndpointError> {
        let mut body = self.body.map_err(|r| client.error(r))?;
        // The pushed request names its client, even when the body did not (Basic).
        body.pairs.retain(|(name, _)| name != "client_id");
        body.pairs
            .push(("client_id".to_string(), client.id().as_str().to_string()));
        let Some(jwt) = body.request else {
            let params = RequestParams::new(body.pairs, RequestOrigin::Pushed);
            return Ok(PushStep::Plain(ValidatePush { client, params }));
        };
        let object = RequestObject::parse(client.id().clone(), &jwt, body.response_type.as_deref())
            .map_err(|e| client.error(e.reject()))?;
        Ok(PushStep::Object(PushedObject { client, object }))
    }
}

/// What the driver does next with a pushed request.
#[derive(Debug)]
#[non_exhaustive]
pub enum PushStep {
    /// Plain parameters: validate them.
    Plain(ValidatePush),
    /// A request object: fetch the client's keys if needed, then verify it.
    Object(PushedObject),
}

/// A pushed request object (RFC 9126 §3), not yet verified.
#[derive(Debug)]
pub struct PushedObject {
    client: AuthenticatedClient,
    object: RequestObject,
}

impl PushedObject {
    /// The `jwks_uri` to fetch the client's keys from, if the object needs them.
    #[must_use]
    pub fn jwks_uri(&self) -> Option<&str> {
        self.object.jwks_uri(self.client.client())
    }

    /// The `kid` of the object's header, for the fetcher's cache.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.object.kid()
    }

    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.client.error(reject)
    }

    /// Verifies the object as [`RequestObject::verify`] does.
    ///
    /// # Errors
    ///
    /// `invalid_request_object` with the precise reason.
    pub fn verify(
        self,
        fetched: Option<&ClientJwks>,
        context: &ObjectContext<'_>,
    ) -> Result<VerifiedPush, EndpointError> {
        let verified = self
            .object
            .verify(self.client.client(), fetched, context)
            .map_err(|e| self.client.error(e.reject()))?;
        Ok(VerifiedPush {
            client: self.client,
            verified,
        })
    }
}

/// A verified pushed request object whose `jti` (if any) must be recorded.
#[derive(Debug)]
pub struct VerifiedPush {
    client: AuthenticatedClient,
    verified: VerifiedRequest,
}

impl VerifiedPush {
    /// The `jti` to record for the client, and until when.
    #[must_use]
    pub fn jti(&self) -> Option<(&ClientId, &str, crate::clock::UnixTime)> {
        self.verified.jti()
    }

    /// Decides on the outcome of [`Storage::record_jti`](crate::Storage::record_jti).
    ///
    /// # Errors
    ///
    /// [`Reject::RequestObjectReplayed`].
    pub fn recorded(self, fresh: bool) -> Result<ValidatePush, EndpointError> {
        let params = self
            .verified
            .recorded(fresh)
            .map_err(|e| self.client.error(e.reject()))?;
        Ok(ValidatePush {
            client: self.client,
            params: RequestParams::new(params.pairs().to_vec(), RequestOrigin::Pushed),
        })
    }
}

/// Pushed parameters of an authenticated client, to validate and store.
#[derive(Debug)]
pub struct ValidatePush {
    client: AuthenticatedClient,
    params: RequestParams,
}

impl ValidatePush {
    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.client.error(reject)
    }

    /// The DPoP proof the push carried, verified by the driver: the code the request leads to is
    /// bound to its key, as if `dpop_jkt` had been sent (RFC 9449 §10.1).
    ///
    /// # Errors
    ///
    /// `invalid_dpop_proof` when a pushed `dpop_jkt` names another key.
    pub fn with_proof(
        mut self,
        proof: Option<crate::dpop::VerifiedProof>,
    ) -> Result<Self, EndpointError> {
        let Some(proof) = proof else {
            return Ok(self);
        };
        let pushed = self.params.pairs().iter().find(|(n, _)| n == "dpop_jkt");
        match pushed {
            Some((_, jkt)) if jkt != proof.jkt() => Err(self.error(Reject::DpopProofInvalid)),
            Some(_) => Ok(self),
            None => {
                self.params.push("dpop_jkt", proof.jkt());
                Ok(self)
            }
        }
    }

    /// Validates the parameters as an authorization request of this client (RFC 9126 §2.1) and
    /// mints the `request_uri`: `urn:ietf:params:oauth:request_uri:` and 256 random bits,
    /// stored as a digest.
    ///
    /// # Errors
    ///
    /// The authorization request's error as JSON (`invalid_request`, `invalid_scope`,
    /// `unauthorized_client`, …; RFC 9126 §2.3); `server_error` if randomness fails.
    pub fn validate(
        self,
        mint: &Mint<'_>,
    ) -> Result<(PushedRequestRecord, PushedResponse), EndpointError> {
        let fail = |reject| self.client.error(reject);
        let config = mint.config;
        let request =
            AuthorizeRequest::parse_resolved(&self.params, config).map_err(|e| fail(e.reject()))?;
        request
            .bind(self.client.client(), config, mint.now)
            .map_err(|e| fail(e.reject()))?;
        let mut handle = [0u8; 32];
        mint.rng
            .try_fill(&mut handle)
            .map_err(|_| fail(Reject::ServerError))?;
        let handle = Base64UrlUnpadded::encode_string(&handle);
        let lifetime = config.pushed_request_lifetime;
        let record = PushedRequestRecord {
            digest: SecretDigest::of(&handle),
            client_id: self.client.id().clone(),
            params: self.params.pairs().to_vec(),
            expires_at: mint.now.saturating_add_secs(lifetime),
        };
        let response = PushedResponse {
            request_uri: format!("{REQUEST_URI_PREFIX}{handle}"),
            expires_in: lifetime,
        };
        Ok((record, response))
    }
}

/// The PAR endpoint's answer (RFC 9126 §2.2), sent with HTTP 201 and `Cache-Control: no-store`.
#[derive(Clone, Debug, Eq, PartialEq, Serialize)]
pub struct PushedResponse {
    request_uri: String,
    expires_in: u64,
}

impl PushedResponse {
    /// The `request_uri` to send to the authorization endpoint with `client_id`.
    #[must_use]
    pub fn request_uri(&self) -> &str {
        &self.request_uri
    }

    /// Its lifetime in seconds.
    #[must_use]
    pub fn expires_in(&self) -> u64 {
        self.expires_in
    }

    /// The JSON body.
    #[must_use]
    pub fn to_json(&self) -> String {
        // A string and a number always serialise.
        serde_json::to_string(self).unwrap_or_default()
    }
}
