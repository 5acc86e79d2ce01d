//! Client authentication at the token, revocation and pushed authorization request endpoints
//! (RFC 6749 §2.3; OIDC Core §9; RFC 7523 §2.2, §3):
//!
//! ```text
//! Credentials::parse(params, authorization)        exactly one method
//!   └─ authenticate(client)                         the registered method only
//!        ├─ Authentication::Done(AuthenticatedClient)        secrets, public clients
//!        └─ Authentication::Assertion(PendingAssertion)      private_key_jwt, client_secret_jwt
//!             │  (driver: await JwksFetcher::fetch when the client has a jwks_uri)
//!             └─ verify(fetched, &context) → ReplayCheck     claims, then signature
//!                  │  (driver: await Storage::record_jti)
//!                  └─ recorded(fresh) → AuthenticatedClient  jti single use
//! ```
//!
//! Every endpoint that authenticates clients goes through this one path, so each rule (one
//! method per request, the registered method only, constant-time comparison, assertion claims,
//! single-use `jti`, 401 with a challenge when the `Authorization` header was used) has one
//! home.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64ct::{Base64, Encoding};
use serde::Deserialize;

use crate::binding::ClientCertificate;
use crate::client::{Client, TokenEndpointAuthMethod};
use crate::client_keys::{
    ClientJwks, ClientKeys, JwsFailure, JwsVerifier, KeyFamily, verify_client_jws,
};
use crate::clock::UnixTime;
use crate::config::Config;
use crate::error::{EndpointError, Reject};
use crate::jose::{CompactJws, JwsHeader};
use crate::params::{Params, decode};
use crate::secret::{ClientSecret, SecretDigest};
use crate::value::ClientId;

/// The only `client_assertion_type` (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Longest accepted `jti`, in octets.
pub const MAX_JTI_LEN: usize = 256;

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
    /// `private_key_jwt` or `client_secret_jwt`: a signed JWT whose `sub` names the client
    /// (RFC 7523 §2.2, §3). Not verified yet.
    Assertion {
        /// The client id (the assertion's `sub`).
        client_id: ClientId,
        /// The assertion.
        assertion: Box<ClientAssertion>,
    },
}

/// A client assertion, decoded and not yet verified. `Debug` omits the signature.
#[derive(Clone, Eq, PartialEq)]
pub struct ClientAssertion {
    header: JwsHeader,
    signing_input: String,
    signature: Vec<u8>,
    claims: AssertionClaims,
}

impl fmt::Debug for ClientAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAssertion")
            .field("alg", &self.header.alg)
            .field("kid", &self.header.kid)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// The claims of a client assertion (RFC 7523 §3).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: u64,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    jti: Option<String>,
}

/// `aud`: one string or an array of strings (RFC 7519 §4.1.3).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, value: &str) -> bool {
        match self {
            Self::One(one) => one == value,
            Self::Many(many) => many.iter().any(|a| a == value),
        }
    }
}

impl ClientAssertion {
    /// Decodes `client_assertion` (a compact JWS) and its claims, without verifying anything.
    ///
    /// # Errors
    ///
    /// [`Reject::AssertionMalformed`].
    pub fn parse(jwt: &str) -> Result<Self, Reject> {
        let jws = CompactJws::parse(jwt).map_err(|_| Reject::AssertionMalformed)?;
        let claims: AssertionClaims =
            serde_json::from_slice(&jws.payload).map_err(|_| Reject::AssertionMalformed)?;
        Ok(Self {
            header: jws.header,
            signing_input: jws.signing_input.into(),
            signature: jws.signature,
            claims,
        })
    }

    /// The client the assertion claims to come from (`sub`).
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    /// The `kid` of its header, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    fn jws(&self) -> CompactJws<'_> {
        CompactJws {
            header: self.header.clone(),
            payload: Vec::new(),
            signing_input: &self.signing_input,
            signature: self.signature.clone(),
        }
    }
}

/// What client authentication needs from the provider: the time, the configuration (issuer,
/// assertion limits), the URL of the endpoint being called and the host's signature verifier.
#[derive(Clone, Copy)]
pub struct AuthContext<'a> {
    /// The current time.
    pub now: UnixTime,
    /// The configuration.
    pub config: &'a Config,
    /// The URL of the endpoint the client called (an accepted assertion audience).
    pub endpoint: &'a str,
    /// The host's verifier for asymmetric signatures, if one is configured.
    pub verifier: Option<&'a dyn JwsVerifier>,
}

impl fmt::Debug for AuthContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("now", &self.now)
            .field("endpoint", &self.endpoint)
            .field("verifier", &self.verifier.is_some())
            .finish_non_exhaustive()
    }
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
        let assertion = params.get("client_assertion").map_err(err)?;
        let assertion_type = params.get("client_assertion_type").map_err(err)?;
        let asserted = assertion.is_some() || assertion_type.is_some();
        let methods =
            usize::from(basic) + usize::from(body_secret.is_some()) + usize::from(asserted);
        if methods > 1 {
            return Err(err(Reject::MultipleAuthMethods));
        }
        if asserted {
            let (Some(assertion), Some(assertion_type)) = (assertion, assertion_type) else {
                return Err(err(Reject::AssertionIncomplete));
            };
            if assertion_type != JWT_BEARER {
                return Err(err(Reject::AssertionTypeUnsupported));
            }
            let assertion = ClientAssertion::parse(assertion).map_err(err)?;
            let client_id = ClientId::new(assertion.subject())
                .map_err(|_| err(Reject::AssertionIssuerMismatch))?;
            if body_id.is_some_and(|b| b != client_id.as_str()) {
                return Err(err(Reject::ClientIdConflict));
            }
            return Ok(Self::Assertion {
                client_id,
                assertion: Box::new(assertion),
            });
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
            | Self::Public { client_id }
            | Self::Assertion { client_id, .. } => client_id,
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
            Self::Assertion { .. } => TokenEndpointAuthMethod::PrivateKeyJwt,
        }
    }

    /// Authenticates against the registered `client` (`None`: unknown id) with the registered
    /// method only; secrets are compared as digests in constant time (REQUIREMENTS 97, 101). A
    /// client assertion goes on to [`PendingAssertion::verify`].
    ///
    /// # Errors
    ///
    /// `invalid_client` ([`Reject::ClientAuthenticationFailed`], [`Reject::AuthMethodMismatch`]).
    pub fn authenticate(self, client: Option<Client>) -> Result<Authentication, EndpointError> {
        let fail = |reject| Err(self.error(reject));
        let Some(client) = client else {
            return fail(Reject::ClientAuthenticationFailed);
        };
        if client.id() != self.client_id() {
            return fail(Reject::ClientAuthenticationFailed);
        }
        if let Self::Assertion { assertion, .. } = self {
            let family = match client.auth_method() {
                TokenEndpointAuthMethod::PrivateKeyJwt => KeyFamily::Public,
                TokenEndpointAuthMethod::ClientSecretJwt => KeyFamily::Secret,
                _ => return Err(EndpointError::new(Reject::AuthMethodMismatch, false)),
            };
            return Ok(Authentication::Assertion(Box::new(PendingAssertion {
                client,
                assertion: *assertion,
                family,
            })));
        }
        let by_certificate = matches!(
            client.auth_method(),
            TokenEndpointAuthMethod::TlsClientAuth
                | TokenEndpointAuthMethod::SelfSignedTlsClientAuth
        );
        if by_certificate && matches!(self, Self::Public { .. }) {
            return Ok(Authentication::Certificate(PendingCertificate { client }));
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
        Ok(Authentication::Done(AuthenticatedClient {
            client,
            header: self.used_header(),
        }))
    }
}

/// The outcome of [`Credentials::authenticate`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Authentication {
    /// Authenticated (secret or public client).
    Done(AuthenticatedClient),
    /// A client assertion to verify: fetch the client's keys if
    /// [`PendingAssertion::jwks_uri`] says so, then call [`PendingAssertion::verify`].
    Assertion(Box<PendingAssertion>),
    /// A mutual-TLS client (RFC 8705 §2): fetch its keys if [`PendingCertificate::jwks_uri`]
    /// says so, then call [`PendingCertificate::verify`] with the connection's certificate.
    Certificate(PendingCertificate),
}

/// A registered `tls_client_auth` / `self_signed_tls_client_auth` client that named itself
/// with `client_id`, not authenticated yet.
#[derive(Debug)]
pub struct PendingCertificate {
    client: Client,
}

impl PendingCertificate {
    /// The `jwks_uri` to fetch a `self_signed_tls_client_auth` client's certificates from, when
    /// it registered one.
    #[must_use]
    pub fn jwks_uri(&self) -> Option<&str> {
        match self.client.auth_method() {
            TokenEndpointAuthMethod::SelfSignedTlsClientAuth => self.client.jwks_uri(),
            _ => None,
        }
    }

    /// Authenticates the client by the certificate of the connection (whose possession the
    /// host's TLS layer verified): for `tls_client_auth` its registered subject DN or SAN
    /// (RFC 8705 §2.1.2; the host's TLS layer validated the chain), for
    /// `self_signed_tls_client_auth` its thumbprint among the `x5c` certificates of the
    /// registered `jwks` or the `fetched` set (§2.2).
    ///
    /// # Errors
    ///
    /// `invalid_client` ([`Reject::CertificateAuthenticationFailed`]) without a certificate or
    /// with one that does not match.
    pub fn verify(
        self,
        certificate: Option<&ClientCertificate>,
        fetched: Option<&ClientJwks>,
    ) -> Result<AuthenticatedClient, EndpointError> {
        let client = self.client;
        let proven = certificate.is_some_and(|certificate| match client.auth_method() {
            TokenEndpointAuthMethod::TlsClientAuth => client.certificate_names_match(certificate),
            _ => client
                .jwks()
                .or(fetched)
                .is_some_and(|jwks| jwks.has_certificate(&certificate.x5t_s256)),
        });
        if !proven {
            return Err(EndpointError::new(
                Reject::CertificateAuthenticationFailed,
                false,
            ));
        }
        Ok(AuthenticatedClient {
            client,
            header: false,
        })
    }
}

/// A client assertion of a registered `private_key_jwt` / `client_secret_jwt` client, not
/// verified yet.
#[derive(Debug)]
pub struct PendingAssertion {
    client: Client,
    assertion: ClientAssertion,
    family: KeyFamily,
}

impl PendingAssertion {
    /// The `jwks_uri` to fetch the client's keys from, when it registered one and the assertion
    /// needs public keys (the driver awaits the host's fetcher).
    #[must_use]
    pub fn jwks_uri(&self) -> Option<&str> {
        match self.family {
            KeyFamily::Public => self.client.jwks_uri(),
            KeyFamily::Secret => None,
        }
    }

    /// The `kid` the assertion names, for the fetcher's cache.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.assertion.kid()
    }

    /// Checks the assertion (RFC 7523 §3; OIDC Core §9), claims first, then the signature with
    /// the registered `jwks`, the `fetched` set (from `jwks_uri`) or the client secret:
    ///
    /// - `iss` and `sub` are the client id; `aud` names the issuer, the token endpoint or the
    ///   endpoint called;
    /// - `exp` has not passed, and is at most `Config::assertion_max_lifetime` ahead; `iat` and
    ///   `nbf` are not in the future (each with `Config::clock_skew`);
    /// - a `jti` is present (recorded next, for single use);
    /// - the algorithm is of the method's family (asymmetric for `private_key_jwt`, HMAC for
    ///   `client_secret_jwt`), equal to `token_endpoint_auth_signing_alg` when registered, and
    ///   implemented; never `none`.
    ///
    /// # Errors
    ///
    /// `invalid_client` with the precise reason.
    pub fn verify(
        self,
        fetched: Option<&ClientJwks>,
        context: &AuthContext<'_>,
    ) -> Result<ReplayCheck, EndpointError> {
        let fail = |reject| EndpointError::new(reject, false);
        // The FAPI profile allows PS256 and ES256 only (§8.6).
        let fapi = crate::fapi::applies(&self.client, context.config);
        if fapi && !crate::fapi::algorithm_allowed(&self.assertion.header.alg) {
            return Err(fail(Reject::AssertionAlgorithmRefused));
        }
        let expires_at = self.check_claims(context).map_err(fail)?;
        let keys = ClientKeys {
            jwks: self.client.jwks().or(fetched),
            secret: self.client.secret_key().map(|s| s.expose().as_bytes()),
            verifier: context.verifier,
        };
        let jws = self.assertion.jws();
        verify_client_jws(&jws, self.family, self.client.auth_signing_alg(), keys).map_err(
            |failure| {
                fail(match failure {
                    JwsFailure::Algorithm => Reject::AssertionAlgorithmRefused,
                    JwsFailure::UnknownKey => Reject::AssertionKeyUnknown,
                    JwsFailure::Signature => Reject::AssertionSignatureInvalid,
                })
            },
        )?;
        let jti = self.assertion.claims.jti.clone().unwrap_or_default();
        Ok(ReplayCheck {
            client: self.client,
            jti,
            expires_at,
        })
    }

    /// The claim checks; the time until which the `jti` must be remembered.
    fn check_claims(&self, context: &AuthContext<'_>) -> Result<UnixTime, Reject> {
        let claims = &self.assertion.claims;
        let id = self.client.id().as_str();
        if claims.iss != id || claims.sub != id {
            return Err(Reject::AssertionIssuerMismatch);
        }
        let config = context.config;
        let audiences = [
            config.issuer.as_str(),
            config.token_endpoint.as_str(),
            context.endpoint,
        ];
        // The mutual-TLS aliases of the endpoints are the same endpoints (RFC 8705 §5).
        let aliases = config
            .mtls_endpoint_aliases
            .iter()
            .map(|(_, url)| url.as_str());
        if !audiences
            .into_iter()
            .chain(aliases)
            .any(|a| claims.aud.contains(a))
        {
            return Err(Reject::AssertionAudienceMismatch);
        }
        let now = context.now.as_secs();
        let skew = config.clock_skew;
        let not_yet = |t: Option<u64>| t.is_some_and(|t| t > now.saturating_add(skew));
        if claims.exp.saturating_add(skew) <= now || not_yet(claims.iat) || not_yet(claims.nbf) {
            return Err(Reject::AssertionExpired);
        }
        let horizon = now
            .saturating_add(config.assertion_max_lifetime)
            .saturating_add(skew);
        if claims.exp > horizon {
            return Err(Reject::AssertionLifetimeTooLong);
        }
        match claims.jti.as_deref() {
            None | Some("") => Err(Reject::AssertionJtiMissing),
            Some(jti) if jti.len() > MAX_JTI_LEN => Err(Reject::AssertionMalformed),
            Some(_) => Ok(UnixTime::from_secs(claims.exp.saturating_add(skew))),
        }
    }
}

/// A verified assertion whose `jti` must be recorded (single use across every node,
/// [`Storage::record_jti`](crate::Storage::record_jti)) before the client counts as
/// authenticated.
#[derive(Debug)]
pub struct ReplayCheck {
    client: Client,
    jti: String,
    expires_at: UnixTime,
}

impl ReplayCheck {
    /// The client whose `jti` namespace this is.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        self.client.id()
    }

    /// The `jti`.
    #[must_use]
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// How long to remember it: the assertion's `exp` plus the clock skew.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// Decides on the outcome of [`Storage::record_jti`](crate::Storage::record_jti).
    ///
    /// # Errors
    ///
    /// [`Reject::AssertionReplayed`] when the `jti` was seen before.
    pub fn recorded(self, fresh: bool) -> Result<AuthenticatedClient, EndpointError> {
        if !fresh {
            return Err(EndpointError::new(Reject::AssertionReplayed, false));
        }
        Ok(AuthenticatedClient {
            client: self.client,
            header: false,
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

/// The `token` parameter of a request to a client-authenticated token endpoint — revocation
/// (RFC 7009 §2.1) or introspection (RFC 7662 §2.1) — as the digest the store looks up;
/// `missing` when it is absent. `token_type_hint` is read (a repeated hint is
/// `invalid_request`) and otherwise ignored: both endpoints look up every token type, which
/// both RFCs allow. The outcome is reported only once the client is authenticated.
pub(crate) fn token_parameter(
    params: &Params<'_>,
    missing: Reject,
) -> Result<SecretDigest, Reject> {
    params
        .get("token")
        .and_then(|token| token.ok_or(missing))
        .and_then(|token| {
            params.get("token_type_hint")?;
            Ok(SecretDigest::of(token))
        })
}
