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

use crate::binding::ClientCertificate;
use crate::client_keys::{ClientJwks, SignatureAlgorithm};
use crate::error::Reject;
use crate::secret::{ClientSecret, SecretDigest};
use crate::signer::JwsAlgorithm;
use crate::value::{ClientId, RedirectUri, ResponseType, Scope};

/// Shortest accepted client secret, in characters. Secrets are stored as SHA-256 digests, which
/// is only safe for high-entropy secrets; generate them (e.g. 32 random bytes, base64url).
pub const MIN_CLIENT_SECRET_LEN: usize = 32;

/// A known client metadata field with a value this provider does not support: registration
/// answers `invalid_client_metadata` (RFC 7591 §3.2.2) with this text, which names the field and
/// the supported values, never the value sent.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct UnsupportedMetadata {
    field: &'static str,
    supported: &'static str,
}

impl UnsupportedMetadata {
    /// The metadata field.
    #[must_use]
    pub const fn field(&self) -> &'static str {
        self.field
    }
}

impl fmt::Display for UnsupportedMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the value is not supported (supported: {})",
            self.field, self.supported
        )
    }
}

impl core::error::Error for UnsupportedMetadata {}

/// Registered names for a metadata enum: `as_str`, and parsing with an error that says "not
/// supported" (instead of serde's "unknown variant").
macro_rules! metadata_names {
    ($type:ident, $field:literal, $($variant:ident => $name:literal),+ $(,)?) => {
        impl $type {
            /// The registered name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }

        impl TryFrom<String> for $type {
            type Error = UnsupportedMetadata;
            fn try_from(value: String) -> Result<Self, UnsupportedMetadata> {
                match value.as_str() {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(UnsupportedMetadata {
                        field: $field,
                        supported: concat!($($name, " "),+).trim_ascii_end(),
                    }),
                }
            }
        }

        impl From<$type> for &'static str {
            fn from(value: $type) -> Self {
                value.as_str()
            }
        }
    };
}

/// How a client authenticates at the token endpoint (OIDC Core §9, RFC 7591 §2).
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(try_from = "String", into = "&'static str")]
#[non_exhaustive]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with form-urlencoded id and secret (RFC 6749 §2.3.1). The default.
    #[default]
    ClientSecretBasic,
    /// Id and secret in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A public client: no secret, PKCE required.
    None,
    /// A JWT signed with the client's private key (OIDC Core §9, RFC 7523 §2.2).
    PrivateKeyJwt,
    /// A JWT MACed with the client secret (OIDC Core §9, RFC 7523 §2.2).
    ClientSecretJwt,
    /// Mutual TLS with a PKI certificate whose subject DN or one SAN is registered
    /// (RFC 8705 §2.1).
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate registered in the client's JWK set as `x5c`
    /// (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
}

metadata_names!(TokenEndpointAuthMethod, "token_endpoint_auth_method",
    ClientSecretBasic => "client_secret_basic",
    ClientSecretPost => "client_secret_post",
    None => "none",
    PrivateKeyJwt => "private_key_jwt",
    ClientSecretJwt => "client_secret_jwt",
    TlsClientAuth => "tls_client_auth",
    SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
);

/// The signing algorithms the FAPI 1.0 Advanced profile allows (§8.6; [`fapi`](crate::fapi)).
pub const FAPI_ALGORITHMS: [JwsAlgorithm; 2] = [JwsAlgorithm::PS256, JwsAlgorithm::ES256];

/// The kind of application (OpenID Connect Dynamic Client Registration §2).
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(try_from = "String", into = "&'static str")]
#[non_exhaustive]
pub enum ApplicationType {
    /// A web application (the default): https redirect URIs (or http on loopback).
    #[default]
    Web,
    /// A native application: loopback redirect ports may vary, private-use schemes allowed.
    Native,
}

metadata_names!(ApplicationType, "application_type", Web => "web", Native => "native");

/// An OAuth grant type (RFC 7591 §2).
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(try_from = "String", into = "&'static str")]
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

metadata_names!(GrantType, "grant_types",
    AuthorizationCode => "authorization_code",
    Implicit => "implicit",
    RefreshToken => "refresh_token",
);

/// The kind of `sub` a client receives (OIDC Core §8, Registration §2).
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(try_from = "String", into = "&'static str")]
#[non_exhaustive]
pub enum SubjectType {
    /// A value of its own per sector (OIDC Core §8.1, [`pairwise`](crate::pairwise)).
    Pairwise,
    /// The same value for every client (the default).
    #[default]
    Public,
}

metadata_names!(SubjectType, "subject_type", Pairwise => "pairwise", Public => "public");

/// The format of a client's access tokens.
#[derive(Clone, Copy, Debug, Default, Deserialize, Eq, Hash, PartialEq, Serialize)]
#[serde(try_from = "String", into = "&'static str")]
#[non_exhaustive]
pub enum AccessTokenFormat {
    /// A JWT access token (RFC 9068): signed, `typ: at+jwt`, verifiable by a resource server
    /// with the provider's JWK set; still revocable (its digest is stored like an opaque one).
    Jwt,
    /// 256 random bits, base64url: meaningful only to the provider (introspection). The
    /// default.
    #[default]
    Opaque,
}

metadata_names!(AccessTokenFormat, "access_token_format", Jwt => "jwt", Opaque => "opaque");

/// Client metadata in RFC 7591 / OpenID Registration field names: the wire and file format.
///
/// Fields this provider does not use (`logo_uri`, `contacts`, `client_name#ja`, `policy_uri`,
/// `software_id`, …) are accepted and kept in [`ClientMetadata::other`] (RFC 7591 §2); a field it
/// knows with a value it does not support is refused with [`UnsupportedMetadata`].
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
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
    /// The client's public keys (RFC 7591 §2 `jwks`), for `private_key_jwt` and signed request
    /// objects; never together with `jwks_uri`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// The URL of the client's JWK set (RFC 7591 §2), fetched by the host's
    /// [`JwksFetcher`](crate::client_keys::JwksFetcher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The only algorithm the client's assertions may use (OIDC Registration §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// The only algorithm the client's request objects may use; `none` for unsigned ones,
    /// accepted only when the configuration allows them (OIDC Registration §2, RFC 9101 §10.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    /// The client must push its authorization requests (RFC 9126 §6).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// The client's access tokens must be bound to a DPoP key: token requests without a DPoP
    /// proof are refused (RFC 9449 §5.2).
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// The client is in the FAPI 1.0 Advanced profile ([`fapi`](crate::fapi)): its
    /// registration must conform ([`Client::check_fapi`]) and its requests follow the
    /// profile's rules.
    #[serde(default)]
    pub fapi1_advanced: bool,
    /// The client's access tokens are bound to its mutual-TLS certificate (RFC 8705 §3.4):
    /// token requests without one are refused.
    #[serde(default)]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// `tls_client_auth`: the expected subject DN, RFC 4514 string form (RFC 8705 §2.1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_subject_dn: Option<String>,
    /// `tls_client_auth`: an expected `dNSName` SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_dns: Option<String>,
    /// `tls_client_auth`: an expected `uniformResourceIdentifier` SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_uri: Option<String>,
    /// `tls_client_auth`: an expected `iPAddress` SAN, in textual form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_ip: Option<String>,
    /// `tls_client_auth`: an expected `rfc822Name` SAN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_auth_san_email: Option<String>,
    /// `public` (default) or `pairwise` subject identifiers (OIDC Core §8, Registration §2).
    #[serde(default)]
    pub subject_type: SubjectType,
    /// For a pairwise client: an https URL listing its redirect URIs, whose host is its sector
    /// identifier (Registration §5); without one, its redirect URIs must share one host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// URLs the End-User may be sent to after an RP-initiated logout, each matched exactly
    /// (RP-Initiated Logout 1.0 §3.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens are POSTed (Back-Channel Logout 1.0 §2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Whether logout tokens to this client must carry `sid` (Back-Channel Logout 1.0 §2.2).
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub backchannel_logout_session_required: bool,
    /// The page the OP's logout page frames to log the End-User out of this client
    /// (Front-Channel Logout 1.0 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Whether that page gets `iss` and `sid` as query parameters (Front-Channel Logout 1.0 §2).
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub frontchannel_logout_session_required: bool,
    /// Extension: the format of the access tokens issued to this client: `opaque` (the
    /// default) or `jwt` (RFC 9068).
    #[serde(default)]
    pub access_token_format: AccessTokenFormat,
    /// Extension: the token audiences this client serves as a resource server (client ids, or
    /// resource indicators of RFC 8707): it may introspect the access tokens issued for them
    /// (RFC 7662 §2.1, [`introspection`](crate::introspection)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_server_audiences: Vec<String>,
    /// Extension: the longest lifetime, in seconds, of the front-channel access tokens
    /// (`code token`, `code id_token token`) issued to this client; the configuration's
    /// `front_channel_token_lifetime` caps it. Front-channel tokens are for the client itself
    /// (their audience is the client id, never a resource) and never come with a refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front_channel_token_lifetime: Option<u64>,
    /// Extension: the scope values a front-channel access token may carry (space-separated);
    /// absent: the granted scope. The token endpoint's tokens carry the whole granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub front_channel_token_scope: Option<String>,
    /// Every other member, kept as registered (RFC 7591 §2).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The key-related metadata, checked (RFC 7591 §2; OIDC Registration §2; RFC 9101 §10.5).
struct ClientKeysMetadata {
    jwks: Option<ClientJwks>,
    auth_signing_alg: Option<SignatureAlgorithm>,
    request_object_signing: RequestObjectSigning,
}

impl ClientKeysMetadata {
    fn check(metadata: &ClientMetadata) -> Result<Self, Reject> {
        let jwks = match (&metadata.jwks, &metadata.jwks_uri) {
            (Some(_), Some(_)) => return Err(Reject::JwksConflict),
            (Some(value), None) => Some(ClientJwks::from_value(value)?),
            (None, Some(uri)) => {
                check_jwks_uri(uri)?;
                None
            }
            (None, None) => None,
        };
        let has_keys = metadata.jwks.is_some() || metadata.jwks_uri.is_some();
        let method = metadata.token_endpoint_auth_method;
        let needs_keys = matches!(
            method,
            TokenEndpointAuthMethod::PrivateKeyJwt
                | TokenEndpointAuthMethod::SelfSignedTlsClientAuth
        );
        if needs_keys && !has_keys {
            return Err(Reject::JwksMissing);
        }
        // RFC 8705 §2.1.2: exactly one of the names a PKI certificate is matched by.
        let names = [
            &metadata.tls_client_auth_subject_dn,
            &metadata.tls_client_auth_san_dns,
            &metadata.tls_client_auth_san_uri,
            &metadata.tls_client_auth_san_ip,
            &metadata.tls_client_auth_san_email,
        ];
        let named = names.iter().filter(|n| n.is_some()).count();
        if (method == TokenEndpointAuthMethod::TlsClientAuth) != (named == 1) || named > 1 {
            return Err(Reject::TlsClientAuthNameInvalid);
        }
        let auth_signing_alg = match metadata.token_endpoint_auth_signing_alg.as_deref() {
            None => None,
            Some(name) => {
                let alg = SignatureAlgorithm::from_name(name)
                    .ok_or(Reject::SigningAlgorithmUnsupported)?;
                let fits = matches!(
                    (method, alg),
                    (
                        TokenEndpointAuthMethod::PrivateKeyJwt,
                        SignatureAlgorithm::Asymmetric(_)
                    ) | (
                        TokenEndpointAuthMethod::ClientSecretJwt,
                        SignatureAlgorithm::Mac(_)
                    )
                );
                if !fits {
                    return Err(Reject::SigningAlgorithmUnsupported);
                }
                Some(alg)
            }
        };
        let request_object_signing = match metadata.request_object_signing_alg.as_deref() {
            None => RequestObjectSigning::AnySigned,
            Some("none") => RequestObjectSigning::Unsigned,
            Some(name) => {
                let alg = SignatureAlgorithm::from_name(name)
                    .ok_or(Reject::SigningAlgorithmUnsupported)?;
                match alg {
                    SignatureAlgorithm::Asymmetric(_) if !has_keys => {
                        return Err(Reject::JwksMissing);
                    }
                    SignatureAlgorithm::Mac(_)
                        if method != TokenEndpointAuthMethod::ClientSecretJwt =>
                    {
                        return Err(Reject::SigningAlgorithmUnsupported);
                    }
                    _ => {}
                }
                RequestObjectSigning::Signed(alg)
            }
        };
        Ok(Self {
            jwks,
            auth_signing_alg,
            request_object_signing,
        })
    }
}

/// A distinguished name in a comparable form: lower case, no spaces around `,`, `+`, `=`.
fn normalized_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    for part in dn.split(',') {
        if !out.is_empty() {
            out.push(',');
        }
        let rdn: Vec<String> = part
            .split('+')
            .map(|ava| match ava.split_once('=') {
                Some((t, v)) => alloc::format!("{}={}", t.trim(), v.trim()),
                None => ava.trim().into(),
            })
            .collect();
        out.push_str(&rdn.join("+").to_lowercase());
    }
    out
}

/// A `jwks_uri` must be an https URL (http only on loopback, for development) without a
/// fragment or credentials.
fn check_jwks_uri(uri: &str) -> Result<(), Reject> {
    let parsed = RedirectUri::parse(uri).map_err(|_| Reject::JwksUriInvalid)?;
    let http_loopback = parsed.is_loopback_http() || is_localhost_http(uri);
    if parsed.is_https() || http_loopback {
        Ok(())
    } else {
        Err(Reject::JwksUriInvalid)
    }
}

/// Checks a client's logout metadata (RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0
/// §2.2, Front-Channel Logout 1.0 §2): every URI absolute, https (http only on a loopback
/// host, for development), without a fragment.
///
/// # Errors
///
/// [`Reject::LogoutUriInvalid`].
fn check_logout_uris(metadata: &ClientMetadata) -> Result<(), Reject> {
    let uris = metadata
        .post_logout_redirect_uris
        .iter()
        .chain(&metadata.backchannel_logout_uri)
        .chain(&metadata.frontchannel_logout_uri);
    for uri in uris {
        let parsed = RedirectUri::parse(uri).map_err(|_| Reject::LogoutUriInvalid)?;
        if !(parsed.is_https() || parsed.is_loopback_http() || is_localhost_http(uri)) {
            return Err(Reject::LogoutUriInvalid);
        }
    }
    if metadata.post_logout_redirect_uris.len() > 32 {
        return Err(Reject::LogoutUriInvalid);
    }
    Ok(())
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

/// A pairwise client's sector identifier (Registration §5): the host of its
/// `sector_identifier_uri` (https), or the one host of its redirect URIs; `None` for a public
/// client.
fn sector_identifier(
    metadata: &ClientMetadata,
    redirect_uris: &[RedirectUri],
) -> Result<Option<String>, Reject> {
    if let Some(uri) = &metadata.sector_identifier_uri {
        let parsed = RedirectUri::parse(uri).map_err(|_| Reject::SectorIdentifierUriInvalid)?;
        if !parsed.is_https() {
            return Err(Reject::SectorIdentifierUriInvalid);
        }
    }
    if metadata.subject_type != SubjectType::Pairwise {
        return Ok(None);
    }
    if let Some(uri) = &metadata.sector_identifier_uri {
        return crate::pairwise::host_of(uri)
            .map(Some)
            .ok_or(Reject::SectorIdentifierUriInvalid);
    }
    let mut hosts = redirect_uris
        .iter()
        .map(|r| crate::pairwise::host_of(r.as_str()));
    let first = hosts
        .next()
        .flatten()
        .ok_or(Reject::SubjectTypeUnsupported)?;
    if hosts.any(|h| h.as_deref() != Some(first.as_str())) {
        return Err(Reject::SectorIdentifierRequired);
    }
    Ok(Some(first))
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
            .field("secret_key", &r.secret_key)
            .field("metadata", &r.metadata)
            .field("redirect_uris", &r.redirect_uris)
            .field("response_types", &r.response_types)
            .field("grant_types", &r.grant_types)
            .field("id_token_alg", &r.id_token_alg)
            .field("scope", &r.scope)
            .finish()
    }
}

/// How a client's request objects must be signed (RFC 9101 §10.5).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum RequestObjectSigning {
    /// With this algorithm only.
    Signed(SignatureAlgorithm),
    /// Any algorithm the client has keys for (the default).
    AnySigned,
    /// Unsigned (`alg: none`), as registered; accepted only when the configuration allows it.
    Unsigned,
}

/// What a [`Client`] shares.
#[cfg_attr(not(target_has_atomic = "ptr"), derive(Clone))]
#[derive(Eq, PartialEq)]
struct Registration {
    id: ClientId,
    secret: Option<SecretDigest>,
    /// The secret itself, kept only for `client_secret_jwt` (HMAC needs it).
    secret_key: Option<ClientSecret>,
    jwks: Option<ClientJwks>,
    auth_signing_alg: Option<SignatureAlgorithm>,
    request_object_signing: RequestObjectSigning,
    metadata: ClientMetadata,
    redirect_uris: Vec<RedirectUri>,
    response_types: Vec<ResponseType>,
    grant_types: Vec<GrantType>,
    id_token_alg: JwsAlgorithm,
    scope: Option<Scope>,
    front_channel_scope: Option<Scope>,
    /// A pairwise client's sector identifier.
    sector: Option<String>,
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
        let method = metadata.token_endpoint_auth_method;
        let keyless = matches!(
            method,
            TokenEndpointAuthMethod::None
                | TokenEndpointAuthMethod::PrivateKeyJwt
                | TokenEndpointAuthMethod::TlsClientAuth
                | TokenEndpointAuthMethod::SelfSignedTlsClientAuth
        );
        match (secret, keyless) {
            (Some(_), true) => Err(Reject::ClientSecretUnexpected),
            (None, true) => Self::from_parts(metadata, None),
            (None, false) => Err(Reject::ClientSecretMissing),
            (Some(s), false) if s.expose().len() < MIN_CLIENT_SECRET_LEN => {
                Err(Reject::ClientSecretTooShort)
            }
            (Some(s), false) if method == TokenEndpointAuthMethod::ClientSecretJwt => {
                Self::from_parts_with_key(metadata, s)
            }
            (Some(s), false) => Self::from_parts(metadata, Some(s.digest())),
        }
    }

    /// Rebuilds a `client_secret_jwt` client from stored metadata and its secret, which HMAC
    /// needs in clear (the storage read path; see docs/storage.md on protecting it at rest).
    ///
    /// # Errors
    ///
    /// As for [`Client::register`]; [`Reject::ClientSecretUnexpected`] for another method.
    pub fn from_parts_with_key(
        metadata: ClientMetadata,
        key: ClientSecret,
    ) -> Result<Self, Reject> {
        if metadata.token_endpoint_auth_method != TokenEndpointAuthMethod::ClientSecretJwt {
            return Err(Reject::ClientSecretUnexpected);
        }
        if key.expose().len() < MIN_CLIENT_SECRET_LEN {
            return Err(Reject::ClientSecretTooShort);
        }
        Self::build(metadata, Some(key.digest()), Some(key))
    }

    /// Rebuilds a client from stored metadata and secret digest (the storage read path).
    ///
    /// # Errors
    ///
    /// As for [`Client::register`].
    pub fn from_parts(
        metadata: ClientMetadata,
        secret: Option<SecretDigest>,
    ) -> Result<Self, Reject> {
        Self::build(metadata, secret, None)
    }

    fn build(
        mut metadata: ClientMetadata,
        secret: Option<SecretDigest>,
        secret_key: Option<ClientSecret>,
    ) -> Result<Self, Reject> {
        metadata.client_secret = None;
        let id = ClientId::new(metadata.client_id.clone())?;
        let method = metadata.token_endpoint_auth_method;
        match (method, secret.is_some(), secret_key.is_some()) {
            (
                TokenEndpointAuthMethod::None
                | TokenEndpointAuthMethod::PrivateKeyJwt
                | TokenEndpointAuthMethod::TlsClientAuth
                | TokenEndpointAuthMethod::SelfSignedTlsClientAuth,
                true,
                _,
            ) => {
                return Err(Reject::ClientSecretUnexpected);
            }
            (
                TokenEndpointAuthMethod::ClientSecretBasic
                | TokenEndpointAuthMethod::ClientSecretPost,
                false,
                _,
            )
            | (TokenEndpointAuthMethod::ClientSecretJwt, _, false) => {
                return Err(Reject::ClientSecretMissing);
            }
            _ => {}
        }
        let keys = ClientKeysMetadata::check(&metadata)?;
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
            if custom_scheme && !uri.has_reverse_domain_scheme() {
                return Err(Reject::RedirectUriSchemeNotReverseDomain);
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
        // A front-channel access token cannot be bound to a key (RFC 9449 §5.2): a client that
        // must use DPoP-bound tokens cannot ask for one.
        if metadata.dpop_bound_access_tokens && response_types.iter().any(|t| t.has_token()) {
            return Err(Reject::DpopFrontChannelToken);
        }
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
        let front_channel_scope = match &metadata.front_channel_token_scope {
            Some(raw) => Some(Scope::parse(raw)?),
            None => None,
        };
        if metadata.front_channel_token_lifetime == Some(0) {
            return Err(Reject::FrontChannelLifetimeInvalid);
        }
        check_logout_uris(&metadata)?;
        let sector = sector_identifier(&metadata, &redirect_uris)?;
        let id_token_alg = metadata
            .id_token_signed_response_alg
            .unwrap_or(JwsAlgorithm::RS256);
        let client = Self(Shared::new(Registration {
            id,
            secret,
            secret_key,
            jwks: keys.jwks,
            auth_signing_alg: keys.auth_signing_alg,
            request_object_signing: keys.request_object_signing,
            metadata,
            redirect_uris,
            response_types,
            grant_types,
            id_token_alg,
            scope,
            front_channel_scope,
            sector,
        }));
        if client.metadata().fapi1_advanced {
            client.check_fapi()?;
        }
        Ok(client)
    }

    /// The client's registration in the FAPI 1.0 Advanced profile ([`fapi`](crate::fapi)):
    /// its authentication method `private_key_jwt`, `tls_client_auth` or
    /// `self_signed_tls_client_auth` (§5.2.2-14); PS256 or ES256 for its ID tokens (registered
    /// explicitly: the default is RS256), request objects and assertions (§8.6); https redirect
    /// URIs (§5.2.2-20).
    ///
    /// # Errors
    ///
    /// [`Reject::FapiClientMetadata`].
    pub fn check_fapi(&self) -> Result<(), Reject> {
        let metadata = self.metadata();
        let method_ok = matches!(
            self.auth_method(),
            TokenEndpointAuthMethod::PrivateKeyJwt
                | TokenEndpointAuthMethod::TlsClientAuth
                | TokenEndpointAuthMethod::SelfSignedTlsClientAuth
        );
        let alg_ok = |alg: Option<&str>| {
            alg.is_none_or(|alg| FAPI_ALGORITHMS.iter().any(|a| a.as_str() == alg))
        };
        let https = (self.redirect_uris().iter()).all(|uri| uri.as_str().starts_with("https://"));
        let conforming = method_ok
            && FAPI_ALGORITHMS.contains(&self.id_token_alg())
            && alg_ok(metadata.request_object_signing_alg.as_deref())
            && alg_ok(metadata.token_endpoint_auth_signing_alg.as_deref())
            && https;
        if conforming {
            Ok(())
        } else {
            Err(Reject::FapiClientMetadata)
        }
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

    /// The client secret itself, kept only for `client_secret_jwt` (HMAC needs it).
    #[must_use]
    pub fn secret_key(&self) -> Option<&ClientSecret> {
        self.0.secret_key.as_ref()
    }

    /// The registered public keys (`jwks`), if any.
    #[must_use]
    pub fn jwks(&self) -> Option<&ClientJwks> {
        self.0.jwks.as_ref()
    }

    /// The registered `jwks_uri`, if any.
    #[must_use]
    pub fn jwks_uri(&self) -> Option<&str> {
        self.0.metadata.jwks_uri.as_deref()
    }

    /// The only algorithm the client's assertions may use, if registered.
    #[must_use]
    pub fn auth_signing_alg(&self) -> Option<SignatureAlgorithm> {
        self.0.auth_signing_alg
    }

    /// How the client's request objects must be signed.
    #[must_use]
    pub fn request_object_signing(&self) -> RequestObjectSigning {
        self.0.request_object_signing
    }

    /// Whether the client must push its authorization requests (RFC 9126 §6).
    #[must_use]
    pub fn requires_par(&self) -> bool {
        self.0.metadata.require_pushed_authorization_requests
    }

    /// Whether the client's access tokens must be DPoP-bound (RFC 9449 §5.2).
    #[must_use]
    pub fn requires_dpop(&self) -> bool {
        self.0.metadata.dpop_bound_access_tokens
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

    /// Whether the client's access tokens are bound to its mutual-TLS certificate (RFC 8705
    /// §3.4).
    #[must_use]
    pub fn binds_certificate(&self) -> bool {
        self.0.metadata.tls_client_certificate_bound_access_tokens
    }

    /// Whether `certificate` authenticates this `tls_client_auth` client: its subject DN or a
    /// SAN of the registered kind equals the registered value (RFC 8705 §2.1.2). DNs compare
    /// case-insensitively with spaces around `,`, `+` and `=` ignored; DNS names
    /// case-insensitively; IP addresses as addresses; URIs and e-mail addresses exactly.
    #[must_use]
    pub fn certificate_names_match(&self, certificate: &ClientCertificate) -> bool {
        let m = &self.0.metadata;
        let any = |names: &[String], expected: &str, eq: fn(&str, &str) -> bool| {
            names.iter().any(|n| eq(n, expected))
        };
        if let Some(dn) = &m.tls_client_auth_subject_dn {
            return certificate
                .subject_dn
                .as_deref()
                .is_some_and(|presented| normalized_dn(presented) == normalized_dn(dn));
        }
        if let Some(dns) = &m.tls_client_auth_san_dns {
            return any(&certificate.san_dns, dns, |a, b| a.eq_ignore_ascii_case(b));
        }
        if let Some(uri) = &m.tls_client_auth_san_uri {
            return any(&certificate.san_uri, uri, |a, b| a == b);
        }
        if let Some(ip) = &m.tls_client_auth_san_ip {
            return any(&certificate.san_ip, ip, |a, b| {
                match (
                    a.parse::<core::net::IpAddr>(),
                    b.parse::<core::net::IpAddr>(),
                ) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => false,
                }
            });
        }
        if let Some(email) = &m.tls_client_auth_san_email {
            return any(&certificate.san_email, email, |a, b| a == b);
        }
        false
    }

    /// Whether this is a public client (no secret).
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.0.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None
    }

    /// The format of this client's access tokens.
    #[must_use]
    pub fn access_token_format(&self) -> AccessTokenFormat {
        self.0.metadata.access_token_format
    }

    /// The sector identifier of a pairwise client (OIDC Core §8.1); `None` for a public one.
    #[must_use]
    pub fn sector_identifier(&self) -> Option<&str> {
        self.0.sector.as_deref()
    }

    /// The scope values its front-channel access tokens may carry (`None`: the granted scope).
    #[must_use]
    pub fn front_channel_scope(&self) -> Option<&Scope> {
        self.0.front_channel_scope.as_ref()
    }

    /// The token audiences this client serves as a resource server (it may introspect their
    /// access tokens).
    #[must_use]
    pub fn resource_server_audiences(&self) -> &[String] {
        &self.0.metadata.resource_server_audiences
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

    /// `requested` as a verified redirect URI, if it matches a registered one
    /// (REQUIREMENTS 18–19): exactly, or for a native client's loopback URI with another port
    /// (RFC 8252 §7.3).
    #[must_use]
    pub fn match_redirect_uri(&self, requested: &str) -> Option<RedirectUri> {
        let native = self.is_native();
        self.0
            .redirect_uris
            .iter()
            .find_map(|uri| uri.verify(requested, native))
    }
}
