//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3; OIDC Core §9):
//! parse the presented [`Credentials`], then [`Credentials::authenticate`] them against the
//! registered client, which yields an [`AuthenticatedClient`].
//!
//! Every endpoint that authenticates clients goes through this one path, so each rule (one
//! method per request, the registered method only, constant-time comparison, 401 with a
//! challenge when the `Authorization` header was used) has one home.

use alloc::string::String;

use base64ct::{Base64, Encoding};

use crate::client::{Client, TokenEndpointAuthMethod};
use crate::error::{EndpointError, Reject};
use crate::params::{Params, decode};
use crate::secret::ClientSecret;
use crate::value::ClientId;

/// Client credentials as presented (RFC 6749 §2.3.1).
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Credentials {
    /// `client_secret_basic`: id and secret from the `Authorization: Basic` header, each
    /// form-urldecoded after base64 decoding (RFC 6749 §2.3.1, Appendix B).
    Basic {
        /// The client id.
        client_id: ClientId,
        /// The secret.
        secret: ClientSecret,
    },
    /// `client_secret_post`: id and secret in the form body.
    Post {
        /// The client id.
        client_id: ClientId,
        /// The secret.
        secret: ClientSecret,
    },
    /// No secret: a public client identified by `client_id` in the body.
    Public {
        /// The client id.
        client_id: ClientId,
    },
}

impl Credentials {
    /// Parses the credentials of a request to the token or revocation endpoint: exactly one
    /// method (RFC 6749 §2.3; REQUIREMENTS 98–100).
    ///
    /// # Errors
    ///
    /// `invalid_request` for a malformed header, more than one method, or no client id;
    /// `invalid_client` when the header and the body name different clients or a client
    /// assertion is presented (not offered, so not advertised in discovery).
    pub fn parse(params: &Params<'_>, authorization: Option<&str>) -> Result<Self, EndpointError> {
        let basic = authorization.is_some();
        let err = |reject| EndpointError::new(reject, basic);
        let body_id = params.get("client_id").map_err(err)?;
        let body_secret = params.get("client_secret").map_err(err)?;
        let assertion =
            params.contains("client_assertion") || params.contains("client_assertion_type");
        let methods =
            usize::from(basic) + usize::from(body_secret.is_some()) + usize::from(assertion);
        if methods > 1 {
            return Err(err(Reject::MultipleAuthMethods));
        }
        if assertion {
            return Err(err(Reject::AuthMethodMismatch));
        }
        if let Some(header) = authorization {
            let (id, secret) = parse_basic(header).map_err(err)?;
            let client_id =
                ClientId::new(id).map_err(|_| err(Reject::ClientAuthenticationFailed))?;
            if body_id.is_some_and(|b| b != client_id.as_str()) {
                return Err(err(Reject::ClientIdConflict));
            }
            return Ok(Self::Basic {
                client_id,
                secret: ClientSecret::new(secret),
            });
        }
        let client_id = body_id.ok_or(err(Reject::ClientIdMissing))?;
        let client_id = ClientId::new(client_id).map_err(err)?;
        Ok(match body_secret {
            Some(secret) => Self::Post {
                client_id,
                secret: ClientSecret::new(secret),
            },
            None => Self::Public { client_id },
        })
    }

    /// The presented client id.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::Public { client_id } => client_id,
        }
    }

    /// Whether the credentials came in the `Authorization` header (errors then answer 401).
    #[must_use]
    pub fn used_header(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }

    /// An error answered to this request: 401 with a challenge for `invalid_client` when the
    /// `Authorization` header was used (RFC 6749 §5.2).
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        EndpointError::new(reject, self.used_header())
    }

    fn method(&self) -> TokenEndpointAuthMethod {
        match self {
            Self::Basic { .. } => TokenEndpointAuthMethod::ClientSecretBasic,
            Self::Post { .. } => TokenEndpointAuthMethod::ClientSecretPost,
            Self::Public { .. } => TokenEndpointAuthMethod::None,
        }
    }

    /// Authenticates against the registered `client` (`None`: unknown id) with the registered
    /// method only; secrets are compared as digests in constant time (REQUIREMENTS 97, 101).
    ///
    /// # Errors
    ///
    /// `invalid_client` ([`Reject::ClientAuthenticationFailed`], [`Reject::AuthMethodMismatch`]).
    pub fn authenticate(
        self,
        client: Option<Client>,
    ) -> Result<AuthenticatedClient, EndpointError> {
        let fail = |reject| Err(self.error(reject));
        let Some(client) = client else {
            return fail(Reject::ClientAuthenticationFailed);
        };
        if client.id() != self.client_id() {
            return fail(Reject::ClientAuthenticationFailed);
        }
        if client.auth_method() != self.method() {
            return fail(Reject::AuthMethodMismatch);
        }
        let proven = match (&self, client.secret_digest()) {
            (Self::Public { .. }, None) => true,
            (Self::Basic { secret, .. } | Self::Post { secret, .. }, Some(stored)) => {
                secret.digest().ct_eq(stored)
            }
            _ => false,
        };
        if !proven {
            return fail(Reject::ClientAuthenticationFailed);
        }
        Ok(AuthenticatedClient {
            client,
            header: self.used_header(),
        })
    }
}

/// A client that proved its identity with its registered method (RFC 6749 §2.3).
#[derive(Clone, Debug)]
pub struct AuthenticatedClient {
    client: Client,
    header: bool,
}

impl AuthenticatedClient {
    /// The registered client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The client id.
    #[must_use]
    pub fn id(&self) -> &ClientId {
        self.client.id()
    }

    /// Whether the client authenticated with the `Authorization` header.
    #[must_use]
    pub fn used_header(&self) -> bool {
        self.header
    }

    /// An error answered to this client (401 with a challenge for `invalid_client` when it
    /// authenticated with the `Authorization` header, RFC 6749 §5.2).
    #[must_use]
    pub fn error(&self, reject: Reject) -> EndpointError {
        EndpointError::new(reject, self.header)
    }
}

/// Decodes `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 7617, RFC 6749 §2.3.1).
fn parse_basic(header: &str) -> Result<(String, String), Reject> {
    let (scheme, value) = header
        .trim()
        .split_once(' ')
        .ok_or(Reject::MalformedAuthorizationHeader)?;
    if !scheme.eq_ignore_ascii_case("basic") || value.len() > 2048 {
        return Err(Reject::MalformedAuthorizationHeader);
    }
    let decoded =
        Base64::decode_vec(value.trim()).map_err(|_| Reject::MalformedAuthorizationHeader)?;
    let text = String::from_utf8(decoded).map_err(|_| Reject::MalformedAuthorizationHeader)?;
    let (id, secret) = text
        .split_once(':')
        .ok_or(Reject::MalformedAuthorizationHeader)?;
    let id = decode(id).map_err(|_| Reject::MalformedAuthorizationHeader)?;
    let secret = decode(secret).map_err(|_| Reject::MalformedAuthorizationHeader)?;
    if id.is_empty() {
        return Err(Reject::MalformedAuthorizationHeader);
    }
    Ok((id.into_owned(), secret.into_owned()))
}
