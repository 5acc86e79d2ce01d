//! Token revocation (RFC 7009) as typed steps:
//!
//! ```text
//! RevocationRequest::parse(params, authorization)
//!   └─ into_parts() → (Credentials, PendingRevocation)   client authentication (client_auth)
//!        └─ PendingRevocation::authenticated(client)      RFC 7009 §2.1
//!        └─ AuthenticatedRevocation                 await Storage::refresh_token
//!             └─ refresh(lookup) → RevocationStep
//!                  ├─ RevokeGrant(grant)            await Storage::revoke_grant
//!                  ├─ Done
//!                  └─ CheckAccessToken(step)        await Storage::access_token
//!                       └─ access(record) → digest  await Storage::revoke_access_token
//! ```
//!
//! Revoking a refresh token revokes its whole grant; revoking an access token revokes that
//! token. Tokens that are unknown, already revoked or issued to another client are answered
//! with success and left alone (RFC 7009 §2.2: the response does not reveal whether the token
//! existed; decision 0005).

use crate::client_auth::{AuthenticatedClient, Credentials, token_parameter};
use crate::error::{EndpointError, Reject};
use crate::params::Params;
use crate::secret::SecretDigest;
use crate::storage::{AccessTokenRecord, RefreshLookup};
use crate::value::{ClientId, GrantId};

/// A parsed revocation request whose client is not yet authenticated.
#[derive(Debug)]
pub struct RevocationRequest {
    credentials: Credentials,
    /// Reported only once the client is authenticated.
    token: Result<SecretDigest, Reject>,
}

impl RevocationRequest {
    /// Parses the credentials and the `token` parameter (RFC 7009 §2.1). `token_type_hint` is
    /// read (a repeated hint is `invalid_request`) and otherwise ignored: both token types are
    /// looked up (RFC 7009 §2.1 allows the server to ignore the hint).
    ///
    /// # Errors
    ///
    /// Credential errors from [`Credentials::parse`].
    pub fn parse(params: &Params<'_>, authorization: Option<&str>) -> Result<Self, EndpointError> {
        let credentials = Credentials::parse(params, authorization)?;
        let token = token_parameter(params, Reject::RevocationTokenMissing);
        Ok(Self { credentials, token })
    }

    /// The client the request claims to come from; the driver looks it up.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        self.credentials.client_id()
    }

    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.credentials.error(reject)
    }

    /// Splits the request: the credentials go through client authentication
    /// ([`client_auth`](crate::client_auth)), the token waits for its result.
    #[must_use]
    pub fn into_parts(self) -> (Credentials, PendingRevocation) {
        (self.credentials, PendingRevocation { token: self.token })
    }
}

/// A revocation whose client is being authenticated.
#[derive(Debug)]
pub struct PendingRevocation {
    token: Result<SecretDigest, Reject>,
}

impl PendingRevocation {
    /// Continues with the authenticated client.
    ///
    /// # Errors
    ///
    /// `invalid_request` without `token` or with a repeated parameter.
    pub fn authenticated(
        self,
        client: AuthenticatedClient,
    ) -> Result<AuthenticatedRevocation, EndpointError> {
        let token = self.token.map_err(|r| client.error(r))?;
        Ok(AuthenticatedRevocation { client, token })
    }
}

/// An authenticated revocation request: look the token up as a refresh token first.
#[derive(Debug)]
pub struct AuthenticatedRevocation {
    client: AuthenticatedClient,
    token: SecretDigest,
}

impl AuthenticatedRevocation {
    /// The authenticated client.
    #[must_use]
    pub fn client(&self) -> &AuthenticatedClient {
        &self.client
    }

    /// The digest of the token to revoke.
    #[must_use]
    pub fn digest(&self) -> &SecretDigest {
        &self.token
    }

    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.client.error(reject)
    }

    /// Decides on the outcome of [`Storage::refresh_token`](crate::Storage::refresh_token): a
    /// live refresh token of this client revokes its grant; one of another client is left
    /// alone; anything else may be an access token.
    #[must_use]
    pub fn refresh(self, lookup: RefreshLookup) -> RevocationStep {
        match lookup {
            RefreshLookup::Live(record) if &record.client_id == self.client.id() => {
                RevocationStep::RevokeGrant(record.grant_id)
            }
            RefreshLookup::Live(_) => RevocationStep::Done,
            RefreshLookup::Rotated(..) | RefreshLookup::Retired(_) | RefreshLookup::Unknown => {
                RevocationStep::CheckAccessToken(AccessTokenRevocation {
                    client: self.client,
                    token: self.token,
                })
            }
        }
    }
}

/// What the driver must do next for a revocation; each ends in success (RFC 7009 §2.2).
#[derive(Debug)]
#[non_exhaustive]
pub enum RevocationStep {
    /// Await [`Storage::revoke_grant`](crate::Storage::revoke_grant) for this grant.
    RevokeGrant(GrantId),
    /// Nothing to revoke.
    Done,
    /// Await [`Storage::access_token`](crate::Storage::access_token), then call
    /// [`AccessTokenRevocation::access`].
    CheckAccessToken(AccessTokenRevocation),
}

/// A revocation that may concern an access token.
#[derive(Debug)]
pub struct AccessTokenRevocation {
    client: AuthenticatedClient,
    token: SecretDigest,
}

impl AccessTokenRevocation {
    /// The digest to look up.
    #[must_use]
    pub fn digest(&self) -> &SecretDigest {
        &self.token
    }

    /// An error answered to this request.
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        self.client.error(reject)
    }

    /// Decides on the outcome of [`Storage::access_token`](crate::Storage::access_token): the
    /// digest to pass to [`Storage::revoke_access_token`](crate::Storage::revoke_access_token)
    /// when the token is live and belongs to this client.
    #[must_use]
    pub fn access(self, record: Option<AccessTokenRecord>) -> Option<SecretDigest> {
        record
            .is_some_and(|record| &record.client_id == self.client.id())
            .then_some(self.token)
    }
}
