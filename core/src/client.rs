//! Registered clients: RFC 7591 metadata in, a validated [`Client`] out.
//!
//! Registration is where redirect URIs, response types, grant types and the authentication
//! method are checked once (OpenID Connect Dynamic Client Registration §2, RFC 7591 §2), so the
//! authorization and token endpoints can trust a [`Client`].

#[cfg(not(target_has_atomic = "ptr"))]
use alloc::boxed::Box as Shared;
use alloc::string::String;
#[cfg(target_has_atomic = "ptr")]
use alloc::sync::Arc as Shared;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Reject;
use crate::secret::{ClientSecret, SecretDigest};
use crate::signer::JwsAlgorithm;
use crate::value::{ClientId, RedirectUri, ResponseType, Scope};

/// Shortest accepted client secret, in characters. Secrets are stored as SHA-256 digests, which
/// is only safe for high-entropy secrets; generate them (e.g. 32 random bytes, base64url).
pub const MIN_CLIENT_SECRET_LEN: usize = 32;

/// How a client authenticates at the token endpoint (OIDC Core §9, RFC 7591 §2).
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with form-urlencoded id and secret (RFC 6749 §2.3.1). The default.
    #[default]
    ClientSecretBasic,
    /// Id and secret in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A public client: no secret, PKCE required.
    None,
}

impl TokenEndpointAuthMethod {
    /// The registered name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }
}

/// The kind of application (OpenID Connect Dynamic Client Registration §2).
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApplicationType {
    /// A web application (the default): https redirect URIs (or http on loopback).
    #[default]
    Web,
    /// A native application: loopback redirect ports may vary, private-use schemes allowed.
    Native,
}

/// An OAuth grant type (RFC 7591 §2).
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GrantType {
    /// The authorization code grant.
    AuthorizationCode,
    /// Front-channel tokens, needed by `code token` and `code id_token token` (and, per
    /// Registration §2, by every hybrid response type).
    Implicit,
    /// The refresh token grant.
    RefreshToken,
}

/// Client metadata in RFC 7591 / OpenID Registration field names: the wire and file format.
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientMetadata {
    /// The client identifier.
    pub client_id: String,
    /// The client secret in clear, only on input (registration or a clients file); it is
    /// digested at once and never stored or serialised back.
    #[serde(default, skip_serializing)]
    pub client_secret: Option<String>,
    /// A human-readable name shown on the consent page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Registered redirection URIs (at least one).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Allowed response types; default `["code", "code id_token"]`. Token-bearing hybrid types
    /// must be listed explicitly (RFC 9700 §2.1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<String>>,
    /// Allowed grant types; default derived from `response_types`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<GrantType>>,
    /// The token endpoint authentication method; default `client_secret_basic`.
    #[serde(default)]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// `web` (default) or `native`.
    #[serde(default)]
    pub application_type: ApplicationType,
    /// The ID token signing algorithm; default RS256 (Registration §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<JwsAlgorithm>,
    /// Scopes the client may request (space-separated); absent means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Extension: add `s_hash` to front-channel ID tokens when `state` is sent (FAPI 1.0
    /// Advanced §5.2.2.1).
    #[serde(default)]
    pub id_token_s_hash: bool,
    /// Extension: require PKCE even for a confidential client.
    #[serde(default)]
    pub require_pkce: bool,
}

/// Whether `uri` is `http://localhost` followed by a port, a path, a query or nothing
/// (RFC 8252 §8.3), and not a host that merely starts with `localhost`.
fn is_localhost_http(uri: &str) -> bool {
    uri.get(..16)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://localhost"))
        && uri[16..]
            .chars()
            .next()
            .is_none_or(|c| matches!(c, ':' | '/' | '?'))
}

/// A validated client registration.
///
/// Cheap to clone: the registration is shared behind an [`Arc`](alloc::sync::Arc), so a store can
/// hand out its cached clients on every request without copying their metadata.
///
/// On targets without pointer-width atomic compare-and-swap (Cortex-M0/M0+, `thumbv6m-none-eabi`)
/// there is no `Arc`; there the registration sits in a `Box` and a clone copies it (a few hundred
/// bytes of heap per clone, freed with the clone). Nothing else differs: a registration never
/// changes after [`Client::register`].
#[derive(Clone, Eq, PartialEq)]
pub struct Client(Shared<Registration>);

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &*self.0;
        f.debug_struct("Client")
            .field("id", &r.id)
            .field("secret", &r.secret)
            .field("metadata", &r.metadata)
            .field("redirect_uris", &r.redirect_uris)
            .field("response_types", &r.response_types)
            .field("grant_types", &r.grant_types)
            .field("id_token_alg", &r.id_token_alg)
            .field("scope", &r.scope)
            .finish()
    }
}

/// What a [`Client`] shares.
#[cfg_attr(not(target_has_atomic = "ptr"), derive(Clone))]
#[derive(Eq, PartialEq)]
struct Registration {
    id: ClientId,
    secret: Option<SecretDigest>,
    metadata: ClientMetadata,
    redirect_uris: Vec<RedirectUri>,
    response_types: Vec<ResponseType>,
    grant_types: Vec<GrantType>,
    id_token_alg: JwsAlgorithm,
    scope: Option<Scope>,
}

impl Client {
    /// Validates metadata and digests the secret it carries (if any).
    ///
    /// # Errors
    ///
    /// The [`Reject`] naming the first rule the metadata breaks (RFC 7591 §3.2.2 maps them to
    /// `invalid_redirect_uri` or `invalid_client_metadata`).
    pub fn register(mut metadata: ClientMetadata) -> Result<Self, Reject> {
        let secret = metadata.client_secret.take().map(ClientSecret::new);
        let digest = match (&secret, metadata.token_endpoint_auth_method) {
            (Some(_), TokenEndpointAuthMethod::None) => return Err(Reject::ClientSecretUnexpected),
            (None, TokenEndpointAuthMethod::None) => None,
            (None, _) => return Err(Reject::ClientSecretMissing),
            (Some(s), _) if s.expose().len() < MIN_CLIENT_SECRET_LEN => {
                return Err(Reject::ClientSecretTooShort);
            }
            (Some(s), _) => Some(s.digest()),
        };
        Self::from_parts(metadata, digest)
    }

    /// Rebuilds a client from stored metadata and secret digest (the storage read path).
    ///
    /// # Errors
    ///
    /// As for [`Client::register`].
    pub fn from_parts(
        mut metadata: ClientMetadata,
        secret: Option<SecretDigest>,
    ) -> Result<Self, Reject> {
        metadata.client_secret = None;
        let id = ClientId::new(metadata.client_id.clone())?;
        match (metadata.token_endpoint_auth_method, secret.is_some()) {
            (TokenEndpointAuthMethod::None, true) => return Err(Reject::ClientSecretUnexpected),
            (
                TokenEndpointAuthMethod::ClientSecretBasic
                | TokenEndpointAuthMethod::ClientSecretPost,
                false,
            ) => {
                return Err(Reject::ClientSecretMissing);
            }
            _ => {}
        }
        if metadata.client_name.as_ref().is_some_and(|n| n.len() > 256) {
            return Err(Reject::ClientNameTooLong);
        }
        if metadata.redirect_uris.is_empty() {
            return Err(Reject::RedirectUrisMissing);
        }
        if metadata.redirect_uris.len() > 32 {
            return Err(Reject::RedirectUrisTooMany);
        }
        let native = metadata.application_type == ApplicationType::Native;
        let mut redirect_uris = Vec::with_capacity(metadata.redirect_uris.len());
        for raw in &metadata.redirect_uris {
            let uri = RedirectUri::parse(raw)?;
            let http = raw
                .get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
            let loopback = uri.is_loopback_http() || is_localhost_http(raw);
            let custom_scheme = !uri.is_https() && !http;
            if (http && !loopback) || (custom_scheme && !native) {
                return Err(Reject::RedirectUriInsecure);
            }
            redirect_uris.push(uri);
        }
        let response_types = match &metadata.response_types {
            None => vec![ResponseType::Code, ResponseType::CodeIdToken],
            Some(list) if list.is_empty() => return Err(Reject::ResponseTypeUnsupported),
            Some(list) => {
                let mut types = Vec::with_capacity(list.len());
                for raw in list {
                    types.push(ResponseType::parse(raw)?);
                }
                types.sort_unstable();
                types.dedup();
                types
            }
        };
        let needs_implicit = response_types.iter().any(|t| t.is_hybrid());
        let grant_types = match &metadata.grant_types {
            None => {
                let mut derived = vec![GrantType::AuthorizationCode];
                if needs_implicit {
                    derived.push(GrantType::Implicit);
                }
                derived
            }
            Some(list) => {
                // Registration §2: response_types and grant_types must correspond.
                let has_code = list.contains(&GrantType::AuthorizationCode);
                if !has_code || (needs_implicit && !list.contains(&GrantType::Implicit)) {
                    return Err(Reject::GrantTypesInconsistent);
                }
                list.clone()
            }
        };
        let scope = match &metadata.scope {
            Some(raw) => Some(Scope::parse(raw)?),
            None => None,
        };
        let id_token_alg = metadata
            .id_token_signed_response_alg
            .unwrap_or(JwsAlgorithm::RS256);
        Ok(Self(Shared::new(Registration {
            id,
            secret,
            metadata,
            redirect_uris,
            response_types,
            grant_types,
            id_token_alg,
            scope,
        })))
    }

    /// The client id.
    #[must_use]
    pub fn id(&self) -> &ClientId {
        &self.0.id
    }

    /// The digest of the client secret, `None` for public clients.
    #[must_use]
    pub fn secret_digest(&self) -> Option<&SecretDigest> {
        self.0.secret.as_ref()
    }

    /// The metadata as registered (without the secret).
    #[must_use]
    pub fn metadata(&self) -> &ClientMetadata {
        &self.0.metadata
    }

    /// The registered redirect URIs.
    #[must_use]
    pub fn redirect_uris(&self) -> &[RedirectUri] {
        &self.0.redirect_uris
    }

    /// The allowed response types.
    #[must_use]
    pub fn response_types(&self) -> &[ResponseType] {
        &self.0.response_types
    }

    /// Whether `response_type` is allowed for this client (RFC 6749 §4.1.2.1
    /// `unauthorized_client`).
    #[must_use]
    pub fn allows_response_type(&self, response_type: ResponseType) -> bool {
        self.0.response_types.contains(&response_type)
    }

    /// Whether `grant` is allowed for this client.
    #[must_use]
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.0.grant_types.contains(&grant)
    }

    /// The token endpoint authentication method.
    #[must_use]
    pub fn auth_method(&self) -> TokenEndpointAuthMethod {
        self.0.metadata.token_endpoint_auth_method
    }

    /// Whether this is a public client (no secret).
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.0.secret.is_none()
    }

    /// Whether this is a native application.
    #[must_use]
    pub fn is_native(&self) -> bool {
        self.0.metadata.application_type == ApplicationType::Native
    }

    /// The algorithm its ID tokens are signed with.
    #[must_use]
    pub fn id_token_alg(&self) -> JwsAlgorithm {
        self.0.id_token_alg
    }

    /// The scopes it may request, `None` for any.
    #[must_use]
    pub fn allowed_scope(&self) -> Option<&Scope> {
        self.0.scope.as_ref()
    }

    /// Whether front-channel ID tokens carry `s_hash`.
    #[must_use]
    pub fn wants_s_hash(&self) -> bool {
        self.0.metadata.id_token_s_hash
    }

    /// Whether PKCE is required (always for public clients).
    #[must_use]
    pub fn requires_pkce(&self) -> bool {
        self.is_public() || self.0.metadata.require_pkce
    }

    /// The registered URI that `requested` matches, if any (REQUIREMENTS 18–19).
    #[must_use]
    pub fn match_redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        let native = self.is_native();
        self.0
            .redirect_uris
            .iter()
            .find(|uri| uri.matches(requested, native))
    }
}
