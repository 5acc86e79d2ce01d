//! The token endpoint (OIDC Core §3.1.3; RFC 6749 §4.1.3, §6): request parsing, client
//! authentication, code redemption and refresh, and the token response.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use base64ct::{Base64, Encoding};
use serde::Serialize;

use crate::authorize::Mint;
use crate::client::{Client, GrantType, TokenEndpointAuthMethod};
use crate::config::AuthTimePolicy;
use crate::error::{EndpointError, Reject};
use crate::id_token::{AuthEvent, Hashed};
use crate::jose::sign_jwt;
use crate::params::{Params, decode};
use crate::secret::{AccessToken, AuthorizationCode, ClientSecret, RefreshToken};
use crate::storage::{AccessTokenRecord, CodeRecord, RefreshTokenRecord};
use crate::value::{ClientId, GrantId, Scope, Subject};

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
    /// The presented client id.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::Public { client_id } => client_id,
        }
    }

    fn method(&self) -> TokenEndpointAuthMethod {
        match self {
            Self::Basic { .. } => TokenEndpointAuthMethod::ClientSecretBasic,
            Self::Post { .. } => TokenEndpointAuthMethod::ClientSecretPost,
            Self::Public { .. } => TokenEndpointAuthMethod::None,
        }
    }

    /// Parses the credentials of a request to the token or revocation endpoint: exactly one
    /// method (RFC 6749 §2.3; REQUIREMENTS 98–100).
    ///
    /// # Errors
    ///
    /// `invalid_request` for a malformed header, more than one method, or no client id;
    /// `invalid_client` when the header and the body name different clients.
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
            // private_key_jwt is not offered (not advertised in discovery).
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

    /// Authenticates against the registered `client` (`None`: unknown id) with the registered
    /// method only; secrets are compared as digests in constant time (REQUIREMENTS 97, 101).
    ///
    /// # Errors
    ///
    /// `invalid_client` ([`Reject::ClientAuthenticationFailed`], [`Reject::AuthMethodMismatch`]).
    pub fn authenticate(&self, client: Option<&Client>) -> Result<(), EndpointError> {
        let basic = matches!(self, Self::Basic { .. });
        let err = |reject| Err(EndpointError::new(reject, basic));
        let Some(client) = client else {
            return err(Reject::ClientAuthenticationFailed);
        };
        if client.id() != self.client_id() {
            return err(Reject::ClientAuthenticationFailed);
        }
        if client.auth_method() != self.method() {
            return err(Reject::AuthMethodMismatch);
        }
        match (self, client.secret_digest()) {
            (Self::Public { .. }, None) => Ok(()),
            (Self::Basic { secret, .. } | Self::Post { secret, .. }, Some(stored)) => {
                if secret.digest().ct_eq(stored) {
                    Ok(())
                } else {
                    err(Reject::ClientAuthenticationFailed)
                }
            }
            _ => err(Reject::ClientAuthenticationFailed),
        }
    }

    /// Whether the credentials came in the `Authorization` header (errors then answer 401).
    #[must_use]
    pub fn used_header(&self) -> bool {
        matches!(self, Self::Basic { .. })
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

/// A grant presented at the token endpoint.
#[derive(Debug)]
#[non_exhaustive]
pub enum Grant {
    /// `authorization_code` (RFC 6749 §4.1.3).
    AuthorizationCode {
        /// The code.
        code: AuthorizationCode,
        /// The `redirect_uri`, if sent.
        redirect_uri: Option<String>,
        /// The PKCE `code_verifier`, if sent.
        code_verifier: Option<String>,
    },
    /// `refresh_token` (RFC 6749 §6).
    RefreshToken {
        /// The refresh token.
        refresh_token: RefreshToken,
        /// A narrower scope, if requested.
        scope: Option<Scope>,
    },
}

impl Grant {
    /// Parses the grant parameters.
    ///
    /// # Errors
    ///
    /// `invalid_request` for missing or repeated parameters, `unsupported_grant_type`,
    /// `invalid_scope`.
    pub fn parse(params: &Params<'_>) -> Result<Self, Reject> {
        match params.get("grant_type")? {
            None => Err(Reject::GrantTypeMissing),
            Some("authorization_code") => Ok(Self::AuthorizationCode {
                code: AuthorizationCode::new(params.get("code")?.ok_or(Reject::CodeMissing)?),
                redirect_uri: params.get("redirect_uri")?.map(String::from),
                code_verifier: params.get("code_verifier")?.map(String::from),
            }),
            Some("refresh_token") => Ok(Self::RefreshToken {
                refresh_token: RefreshToken::new(
                    params
                        .get("refresh_token")?
                        .ok_or(Reject::RefreshTokenMissing)?,
                ),
                scope: params.get("scope")?.map(Scope::parse).transpose()?,
            }),
            Some(_) => Err(Reject::GrantTypeUnsupported),
        }
    }

    /// The grant type.
    #[must_use]
    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
        }
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). `Debug` is redacted.
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    scope: String,
}

impl TokenResponse {
    /// The JSON body; send it with `Cache-Control: no-store` and `Pragma: no-cache`
    /// (RFC 6749 §5.1).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The access token.
    #[must_use]
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token, if issued.
    #[must_use]
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// The ID token, if issued.
    #[must_use]
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_deref()
    }

    /// The granted scope.
    #[must_use]
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The access token lifetime in seconds.
    #[must_use]
    pub fn expires_in(&self) -> u64 {
        self.expires_in
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("scope", &self.scope)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Tokens minted at the token endpoint: the response and the records to store first.
#[derive(Debug)]
#[non_exhaustive]
pub struct Issued {
    /// The response to send once the records are stored.
    pub response: TokenResponse,
    /// The access token's record.
    pub access: AccessTokenRecord,
    /// The refresh token's record, if one was issued.
    pub refresh: Option<RefreshTokenRecord>,
}

/// What a grant knows about its authentication, for minting tokens.
struct GrantFacts<'a> {
    grant_id: &'a GrantId,
    client_id: &'a ClientId,
    subject: &'a Subject,
    scope: &'a Scope,
    auth_time: crate::clock::UnixTime,
    auth_time_required: bool,
    nonce: Option<&'a str>,
    acr: Option<&'a str>,
    amr: &'a [String],
}

fn mint_tokens(facts: &GrantFacts<'_>, refresh: bool, mint: Mint<'_>) -> Result<Issued, Reject> {
    let config = mint.config;
    let now = mint.now;
    let access = AccessToken::generate(mint.rng).map_err(|_| Reject::ServerError)?;
    let refresh_token = if refresh {
        Some(RefreshToken::generate(mint.rng).map_err(|_| Reject::ServerError)?)
    } else {
        None
    };
    let id_token = if facts.scope.contains(Scope::OPENID) {
        let auth_time = (facts.auth_time_required || config.auth_time == AuthTimePolicy::Always)
            .then_some(facts.auth_time);
        let event = AuthEvent {
            issuer: &config.issuer,
            subject: facts.subject.as_str(),
            client_id: facts.client_id.as_str(),
            auth_time,
            nonce: facts.nonce,
            acr: facts.acr,
            amr: facts.amr,
        };
        let hashed = Hashed {
            access_token: Some(access.expose()),
            ..Hashed::default()
        };
        let claims = event.claims(
            now,
            config.id_token_lifetime,
            mint.signer.algorithm(),
            hashed,
        );
        Some(sign_jwt(mint.signer, &claims, mint.rng).map_err(|_| Reject::ServerError)?)
    } else {
        None
    };
    let access_record = AccessTokenRecord {
        digest: access.digest(),
        grant_id: facts.grant_id.clone(),
        client_id: facts.client_id.clone(),
        subject: facts.subject.clone(),
        scope: facts.scope.clone(),
        issued_at: now,
        expires_at: now.saturating_add_secs(config.access_token_lifetime),
    };
    let refresh_record = refresh_token.as_ref().map(|token| RefreshTokenRecord {
        digest: token.digest(),
        grant_id: facts.grant_id.clone(),
        client_id: facts.client_id.clone(),
        subject: facts.subject.clone(),
        scope: facts.scope.clone(),
        auth_time: facts.auth_time,
        auth_time_required: facts.auth_time_required,
        acr: facts.acr.map(String::from),
        amr: facts.amr.to_vec(),
        issued_at: now,
        expires_at: now.saturating_add_secs(config.refresh_token_lifetime),
    });
    let response = TokenResponse {
        access_token: access.expose().to_string(),
        token_type: "Bearer",
        expires_in: config.access_token_lifetime,
        refresh_token: refresh_token.as_ref().map(|t| t.expose().to_string()),
        id_token,
        scope: facts.scope.to_string(),
    };
    Ok(Issued {
        response,
        access: access_record,
        refresh: refresh_record,
    })
}

/// Checks a freshly redeemed code against the token request and mints the tokens
/// (OIDC Core §3.1.3.2, §3.3.3.6; RFC 6749 §4.1.3; RFC 7636 §4.6; REQUIREMENTS 109–120).
///
/// The second ID token repeats `iss`, `sub`, `aud`, `nonce`, `auth_time`, `acr` and `amr` of the
/// first (they come from the same [`CodeRecord`]); it carries `at_hash` for its access token and
/// no `c_hash`.
///
/// # Errors
///
/// `invalid_grant`: [`Reject::CodeClientMismatch`], [`Reject::CodeExpired`],
/// [`Reject::RedirectUriTokenMismatch`], PKCE failures; `server_error` if minting fails.
pub fn redeem_code(
    record: &CodeRecord,
    client: &Client,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    mint: Mint<'_>,
) -> Result<Issued, Reject> {
    if &record.client_id != client.id() {
        return Err(Reject::CodeClientMismatch);
    }
    if record.expires_at <= mint.now {
        return Err(Reject::CodeExpired);
    }
    // The authorization request always carries redirect_uri (OIDC Core §3.1.2.1), so the token
    // request must repeat it exactly (RFC 6749 §4.1.3).
    if redirect_uri != Some(record.redirect_uri.as_str()) {
        return Err(Reject::RedirectUriTokenMismatch);
    }
    crate::pkce::verify(record.code_challenge.as_ref(), code_verifier)?;
    let facts = GrantFacts {
        grant_id: &record.grant_id,
        client_id: &record.client_id,
        subject: &record.subject,
        scope: &record.scope,
        auth_time: record.auth_time,
        auth_time_required: record.auth_time_required,
        nonce: record.nonce.as_ref().map(crate::value::Nonce::as_str),
        acr: record.acr.as_deref(),
        amr: &record.amr,
    };
    mint_tokens(&facts, client.allows_grant(GrantType::RefreshToken), mint)
}

/// Mints the tokens of a refresh: a new access token, a rotated refresh token and an ID token
/// with the original `auth_time` and no `nonce` (RFC 6749 §6; OIDC Core §12.2;
/// REQUIREMENTS 135–138).
///
/// # Errors
///
/// [`Reject::RefreshTokenInvalid`] if the token is bound to another client;
/// [`Reject::ScopeNotAllowed`] if `scope` widens the grant; `server_error` if minting fails.
pub fn refresh(
    record: &RefreshTokenRecord,
    client: &Client,
    scope: Option<&Scope>,
    mint: Mint<'_>,
) -> Result<Issued, Reject> {
    if &record.client_id != client.id() {
        return Err(Reject::RefreshTokenInvalid);
    }
    let scope = match scope {
        Some(requested) if !requested.is_subset_of(&record.scope) => {
            return Err(Reject::ScopeNotAllowed);
        }
        Some(requested) => requested.clone(),
        None => record.scope.clone(),
    };
    let facts = GrantFacts {
        grant_id: &record.grant_id,
        client_id: &record.client_id,
        subject: &record.subject,
        scope: &scope,
        auth_time: record.auth_time,
        auth_time_required: record.auth_time_required,
        nonce: None,
        acr: record.acr.as_deref(),
        amr: &record.amr,
    };
    let mut issued = mint_tokens(&facts, true, mint)?;
    // A narrowed access token, but the refresh chain keeps the grant's scope (RFC 6749 §6).
    if let Some(refresh) = issued.refresh.as_mut() {
        refresh.scope = record.scope.clone();
    }
    Ok(issued)
}

/// A list of grant types, for discovery.
pub(crate) fn grant_types_supported() -> Vec<&'static str> {
    alloc::vec!["authorization_code", "implicit", "refresh_token"]
}
