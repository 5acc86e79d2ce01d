//! Token introspection (RFC 7662) as typed steps:
//!
//! ```text
//! IntrospectionRequest::parse(params, authorization)
//!   └─ into_parts() → (Credentials, PendingIntrospection)   client authentication (client_auth)
//!        └─ PendingIntrospection::authenticated(client)      RFC 7662 §2.1: no public clients
//!        └─ AuthenticatedIntrospection                 await Storage::access_token
//!             └─ access(record, issuer) → IntrospectionStep
//!                  ├─ Done(Introspection)
//!                  └─ CheckRefreshToken(step)          await Storage::refresh_token
//!                       └─ refresh(lookup, issuer) → Introspection
//! ```
//!
//! # Who may introspect what
//!
//! Introspection needs client authentication by one of the methods the token endpoint accepts;
//! public clients (`token_endpoint_auth_method: none`) are refused with `invalid_client`
//! (RFC 7662 §2.1 asks for authorization of the caller, and a public client proves nothing). An
//! authenticated caller learns about a token only when
//!
//! - it is the token's own client (access and refresh tokens), or
//! - it is registered as a resource server for one of the access token's audiences
//!   ([`ClientMetadata::resource_server_audiences`](crate::ClientMetadata)); the audience of a
//!   token issued without resource indicators is its client id.
//!
//! Every other token, and every unknown, expired, revoked or replay-revoked token, is answered
//! `{"active":false}` and nothing else, so the answer does not tell a foreign token from an
//! unknown one (RFC 7662 §2.2, §4; decision 0014).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Serialize;

use crate::client_auth::{AuthenticatedClient, Credentials, token_parameter};
use crate::clock::UnixTime;
use crate::error::{EndpointError, Reject};
use crate::params::Params;
use crate::secret::SecretDigest;
use crate::storage::{AccessTokenRecord, RefreshLookup};
use crate::value::ClientId;

/// A parsed introspection request whose client is not yet authenticated (RFC 7662 §2.1).
#[derive(Debug)]
pub struct IntrospectionRequest {
    credentials: Credentials,
    /// Reported only once the client is authenticated.
    token: Result<SecretDigest, Reject>,
}

impl IntrospectionRequest {
    /// Parses the credentials and the `token` parameter (RFC 7662 §2.1). `token_type_hint` is
    /// read (a repeated hint is `invalid_request`) and otherwise ignored: access tokens are
    /// looked up first, then refresh tokens (RFC 7662 §2.1 allows ignoring the hint).
    ///
    /// # Errors
    ///
    /// Credential errors from [`Credentials::parse`].
    pub fn parse(params: &Params<'_>, authorization: Option<&str>) -> Result<Self, EndpointError> {
        let credentials = Credentials::parse(params, authorization)?;
        let token = token_parameter(params, Reject::IntrospectionTokenMissing);
        Ok(Self { credentials, token })
    }

    /// The client the request claims to come from; the driver looks it up.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        self.credentials.client_id()
    }

    /// Splits the request: the credentials go through client authentication
    /// ([`client_auth`](crate::client_auth)), the token waits for its result.
    #[must_use]
    pub fn into_parts(self) -> (Credentials, PendingIntrospection) {
        (self.credentials, PendingIntrospection { token: self.token })
    }
}

/// An introspection whose client is being authenticated.
#[derive(Debug)]
pub struct PendingIntrospection {
    token: Result<SecretDigest, Reject>,
}

impl PendingIntrospection {
    /// Continues with the authenticated client.
    ///
    /// # Errors
    ///
    /// `invalid_client` ([`Reject::IntrospectionClientPublic`]) for a public client (RFC 7662
    /// §2.1); `invalid_request` without `token` or with a repeated parameter.
    pub fn authenticated(
        self,
        client: AuthenticatedClient,
    ) -> Result<AuthenticatedIntrospection, EndpointError> {
        if client.client().is_public() {
            return Err(client.error(Reject::IntrospectionClientPublic));
        }
        let token = self.token.map_err(|r| client.error(r))?;
        Ok(AuthenticatedIntrospection { client, token })
    }
}

/// An authenticated introspection request: look the token up as an access token first.
#[derive(Debug)]
pub struct AuthenticatedIntrospection {
    client: AuthenticatedClient,
    token: SecretDigest,
}

impl AuthenticatedIntrospection {
    /// The authenticated client.
    #[must_use]
    pub fn client(&self) -> &AuthenticatedClient {
        &self.client
    }

    /// The digest of the token to introspect.
    #[must_use]
    pub fn digest(&self) -> &SecretDigest {
        &self.token
    }

    /// Decides on the outcome of [`Storage::access_token`](crate::Storage::access_token) (which
    /// finds only live tokens: unexpired, unrevoked, grant unrevoked): a live access token the
    /// caller may see is described; one it may not see is inactive; an unknown one may be a
    /// refresh token.
    #[must_use]
    pub fn access(self, record: Option<AccessTokenRecord>, issuer: &str) -> IntrospectionStep {
        let Some(record) = record else {
            return IntrospectionStep::CheckRefreshToken(RefreshIntrospection {
                client: self.client,
                token: self.token,
            });
        };
        let audience = record.audience();
        let caller = self.client.client();
        let own = &record.client_id == caller.id();
        let serves = caller
            .resource_server_audiences()
            .iter()
            .any(|a| audience.iter().any(|t| t == a));
        if !(own || serves) {
            return IntrospectionStep::Done(Introspection::inactive());
        }
        IntrospectionStep::Done(Introspection {
            active: true,
            scope: Some(record.scope.to_string()),
            client_id: Some(record.client_id.as_str().into()),
            sub: Some(record.client_subject().as_str().into()),
            exp: Some(record.expires_at),
            iat: Some(record.issued_at),
            aud: audience,
            iss: Some(issuer.into()),
            token_type: Some(if record.confirmation.jkt.is_some() {
                "DPoP"
            } else {
                "Bearer"
            }),
            cnf: (!record.confirmation.is_empty()).then(|| record.confirmation.clone()),
        })
    }
}

/// What the driver must do next for an introspection.
#[derive(Debug)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "a short-lived return value; boxing would cost an allocation per call"
)]
pub enum IntrospectionStep {
    /// The answer.
    Done(Introspection),
    /// Await [`Storage::refresh_token`](crate::Storage::refresh_token) with
    /// [`RefreshIntrospection::digest`], then call [`RefreshIntrospection::refresh`].
    CheckRefreshToken(RefreshIntrospection),
}

/// An introspection that may concern a refresh token.
#[derive(Debug)]
pub struct RefreshIntrospection {
    client: AuthenticatedClient,
    token: SecretDigest,
}

impl RefreshIntrospection {
    /// The digest to look up.
    #[must_use]
    pub fn digest(&self) -> &SecretDigest {
        &self.token
    }

    /// Decides on the outcome of [`Storage::refresh_token`](crate::Storage::refresh_token): a
    /// live refresh token of the caller itself is described (without `token_type`: it is not an
    /// access token); anything else is inactive. Looking a retired token up is not a use, so it
    /// revokes nothing.
    #[must_use]
    pub fn refresh(self, lookup: RefreshLookup, issuer: &str) -> Introspection {
        match lookup {
            RefreshLookup::Live(record) if &record.client_id == self.client.id() => Introspection {
                active: true,
                scope: Some(record.scope.to_string()),
                client_id: Some(record.client_id.as_str().into()),
                sub: Some(
                    record
                        .pairwise_subject
                        .as_ref()
                        .unwrap_or(&record.subject)
                        .as_str()
                        .into(),
                ),
                exp: Some(record.expires_at),
                iat: Some(record.issued_at),
                aud: Vec::new(),
                iss: Some(issuer.into()),
                token_type: None,
                cnf: (!record.confirmation.is_empty()).then(|| record.confirmation.clone()),
            },
            _ => Introspection::inactive(),
        }
    }
}

/// An introspection response (RFC 7662 §2.2). Inactive tokens are answered with `active` alone.
#[derive(Clone, Debug, Eq, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Introspection {
    /// Whether the token is live and the caller may know about it.
    pub active: bool,
    /// The token's scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The End-User (the same `sub` as the grant's ID tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<UnixTime>,
    /// Issue time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<UnixTime>,
    /// The audiences of an access token (resource indicators, or the client id).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aud: Vec<String>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// `Bearer` or `DPoP` for access tokens (RFC 6749 §7.1, RFC 9449 §6.2); absent for refresh
    /// tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// The confirmation of a sender-constrained token (RFC 7800 §3.1, RFC 8705 §3.2, RFC 9449
    /// §6.2): the resource server checks the request's DPoP key or client certificate against
    /// it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<crate::binding::Confirmation>,
}

impl Introspection {
    /// `{"active":false}`.
    #[must_use]
    pub const fn inactive() -> Self {
        Self {
            active: false,
            scope: None,
            client_id: None,
            sub: None,
            exp: None,
            iat: None,
            aud: Vec::new(),
            iss: None,
            token_type: None,
            cnf: None,
        }
    }

    /// The JSON body (`application/json`; send it with `Cache-Control: no-store`).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Strings, numbers and booleans always serialise.
        serde_json::to_string(self).unwrap_or_default()
    }
}
