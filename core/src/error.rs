//! Errors: one enum of precise, data-free reasons ([`Reject`]), one mapping to wire codes
//! ([`ErrorCode`]), and the error of the token, UserInfo and revocation endpoints
//! ([`EndpointError`]). Authorization errors, which may travel to the client as a response, are
//! [`AuthorizeError`](crate::AuthorizeError)s (in [`response`](crate::response)).
//!
//! No variant carries user input, so no `error_description` can echo it (REQUIREMENTS 70). Every
//! description is fixed printable ASCII without `"` or `\` (RFC 6749 §4.1.2.1).

use core::fmt;

/// Why a request, a registration or an operation was refused.
///
/// The wire `error` code is chosen in exactly one place, [`Reject::code`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Reject {
    /// The user denied the request, or authentication failed.
    AccessDenied,
    /// The server demands a fresh DPoP nonce (RFC 9449 §8): answer `use_dpop_nonce` with a
    /// `DPoP-Nonce` header.
    DpopNonceRequired,
    /// A DPoP proof is malformed, signed wrongly, or names another request or time
    /// (RFC 9449 §4.3).
    DpopProofInvalid,
    /// A DPoP proof's `jti` was seen before (RFC 9449 §11.1).
    DpopProofReplayed,
    /// The `claims` parameter asked for an essential `acr` with values the authentication does
    /// not satisfy: a failed authentication (OIDC Core §5.5.1.1).
    AcrNotSatisfied,
    /// The presented client certificate is not the one the grant (a refresh token) is bound to
    /// (RFC 8705 §3): `invalid_grant`.
    CertificateMismatch,
    /// An access token presented without the key or certificate it is bound to, or bound
    /// to none but presented with the `DPoP` scheme (RFC 9449 §7.1, RFC 8705 §3):
    /// `invalid_token`.
    TokenBindingMismatch,
    /// A client registered with `dpop_bound_access_tokens` lists a response type that issues
    /// an access token in the front channel, which cannot be bound (RFC 9449 §5.2).
    DpopFrontChannelToken,
    /// A `tls_client_auth` client without exactly one of `tls_client_auth_subject_dn`,
    /// `…_san_dns`, `…_san_uri`, `…_san_ip`, `…_san_email`, or another client with one
    /// (RFC 8705 §2.1.2).
    TlsClientAuthNameInvalid,
    /// The client's certificate does not authenticate it (missing, other names, or not in its
    /// JWK set; RFC 8705 §2): `invalid_client`.
    CertificateAuthenticationFailed,
    /// The client's tokens are bound to its certificate, and the request came without one
    /// (RFC 8705 §3): `invalid_request`.
    CertificateRequired,
    /// A client registered in the FAPI 1.0 Advanced profile whose metadata breaks it
    /// ([`Client::check_fapi`](crate::Client::check_fapi)): `invalid_client_metadata`.
    FapiClientMetadata,
    /// A client in the FAPI profile (by the configuration) whose registration breaks it:
    /// `unauthorized_client`.
    FapiClientNotConforming,
    /// The FAPI profile requires a signed request object or a pushed request (§5.2.2-1).
    FapiRequestObjectRequired,
    /// The FAPI profile's hybrid variant requires `response_type=code id_token` (§5.2.2-2).
    FapiResponseTypeRequired,
    /// The FAPI profile requires an https redirect URI (§5.2.2-20).
    FapiRedirectUriInsecure,
    /// The FAPI profile requires PKCE with `S256` for pushed requests (§5.2.2-18).
    FapiPkceRequired,
    /// A FAPI request object without `exp`, `nbf` or `aud`, with an `nbf` over 60 minutes old
    /// or living over 60 minutes (§5.2.2-13, -15, -17): `invalid_request_object`.
    FapiRequestObjectClaims,
    /// The FAPI profile requires sender-constrained access tokens: a DPoP proof or a client
    /// certificate at the token endpoint (§5.2.2-5).
    FapiSenderConstraintRequired,
    /// `dpop_jkt` is not a JWK SHA-256 thumbprint (RFC 9449 §10).
    DpopJktMalformed,
    /// The DPoP key of the token request is not the one the code (`dpop_jkt`) or refresh
    /// token is bound to (RFC 9449 §5, §10): `invalid_grant`.
    DpopKeyMismatch,
    /// The client must send a DPoP proof (`dpop_bound_access_tokens`, RFC 9449 §5.2).
    DpopProofRequired,
    /// A client assertion's `aud` names neither the issuer nor the endpoint.
    AssertionAudienceMismatch,
    /// A client assertion has expired (`exp`), or is not valid yet (`iat`, `nbf`).
    AssertionExpired,
    /// A client assertion's `iss` or `sub` is not the client id.
    AssertionIssuerMismatch,
    /// A client assertion has no `jti`.
    AssertionJtiMissing,
    /// A client assertion lives longer than the configured maximum.
    AssertionLifetimeTooLong,
    /// A client assertion is not a well-formed signed JWT with the required claims.
    AssertionMalformed,
    /// A client assertion's `jti` was seen before (a replay).
    AssertionReplayed,
    /// A client assertion's signature algorithm is refused (`none`, another family, not the
    /// registered one, not implemented).
    AssertionAlgorithmRefused,
    /// No key of the client matches the assertion's `kid` and algorithm.
    AssertionKeyUnknown,
    /// A client assertion's signature does not verify.
    AssertionSignatureInvalid,
    /// `client_assertion_type` is not `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    AssertionTypeUnsupported,
    /// `client_assertion_type` without `client_assertion`, or the reverse.
    AssertionIncomplete,
    /// `prompt=select_account` or account choice needed but impossible without UI.
    AccountSelectionRequired,
    /// A secret or `client_assertion` was presented to a client that authenticates otherwise.
    AuthMethodMismatch,
    /// Client authentication failed (unknown client or wrong secret).
    ClientAuthenticationFailed,
    /// The `claims` parameter is not a JSON object of the form OIDC Core §5.5 defines.
    ClaimsMalformed,
    /// The `claims` parameter asked for an ID token of another `sub` than the End-User's
    /// (OIDC Core §5.5.1).
    ClaimsSubjectMismatch,
    /// The client's `jwks_uri` could not be fetched.
    ClientJwksUnavailable,
    /// Different client ids were presented in the Authorization header and the body.
    ClientIdConflict,
    /// The client id is malformed.
    ClientIdMalformed,
    /// The request has no `client_id`.
    ClientIdMissing,
    /// A client name is longer than 256 octets.
    ClientNameTooLong,
    /// No client is registered with this id.
    ClientUnknown,
    /// A confidential client was registered without a secret.
    ClientSecretMissing,
    /// A client secret is shorter than the minimum length.
    ClientSecretTooShort,
    /// A public client (`none` auth method) was registered with a secret.
    ClientSecretUnexpected,
    /// The `code_challenge` is malformed.
    CodeChallengeMalformed,
    /// The `code_challenge_method` is not supported (or `plain` while it is disabled).
    CodeChallengeMethodUnsupported,
    /// PKCE is required for this client and the request has no `code_challenge`.
    CodeChallengeMissing,
    /// The code was issued to another client.
    CodeClientMismatch,
    /// The code has expired.
    CodeExpired,
    /// The token request has no `code`.
    CodeMissing,
    /// The code is unknown (or expired and swept).
    CodeUnknown,
    /// The code was already redeemed; its grant has been revoked.
    CodeReplayed,
    /// A `code_verifier` was sent for a code issued without a challenge (PKCE downgrade).
    CodeVerifierUnexpected,
    /// The `code_verifier` is malformed.
    CodeVerifierMalformed,
    /// The `code_verifier` does not match the challenge.
    CodeVerifierMismatch,
    /// The code was issued with a challenge and no `code_verifier` was sent.
    CodeVerifierMissing,
    /// Consent is required and cannot be obtained without UI.
    ConsentRequired,
    /// The grant type is not allowed for this client.
    GrantTypeNotAllowed,
    /// A client's `front_channel_token_lifetime` is zero.
    FrontChannelLifetimeInvalid,
    /// The request has no `grant_type`.
    GrantTypeMissing,
    /// The grant type is not supported.
    GrantTypeUnsupported,
    /// Registered grant types do not correspond to the response types.
    GrantTypesInconsistent,
    /// The `id_token_hint` is not an ID token this provider issued.
    IdTokenHintInvalid,
    /// The `id_token_hint` names another user than the authenticated one.
    IdTokenHintSubjectMismatch,
    /// Some interaction is required and cannot happen without UI.
    InteractionRequired,
    /// A public client tried to introspect a token (RFC 7662 §2.1).
    IntrospectionClientPublic,
    /// An introspection request has no `token`.
    IntrospectionTokenMissing,
    /// A bearer token was sent in more than one way.
    InvalidTokenMultipleMethods,
    /// Authentication is required and cannot happen without UI.
    LoginRequired,
    /// A client's logout URI (`post_logout_redirect_uris`, `backchannel_logout_uri`,
    /// `frontchannel_logout_uri`) is not an absolute https URL without a fragment (http only on
    /// loopback).
    LogoutUriInvalid,
    /// A logout request's `client_id` is not the audience of its `id_token_hint`
    /// (RP-Initiated Logout 1.0 §2).
    LogoutClientMismatch,
    /// A `post_logout_redirect_uri` is not one of the client's registered
    /// `post_logout_redirect_uris` (RP-Initiated Logout 1.0 §3).
    PostLogoutRedirectUriUnregistered,
    /// A `post_logout_redirect_uri` was sent without `client_id` or `id_token_hint`, so no
    /// client's registration can vouch for it (RP-Initiated Logout 1.0 §3).
    PostLogoutRedirectUriWithoutClient,
    /// A session id (`sid`) is empty, too long or not printable ASCII.
    SessionIdMalformed,
    /// The `Authorization` header is malformed.
    MalformedAuthorizationHeader,
    /// The request is not valid `application/x-www-form-urlencoded`.
    MalformedEncoding,
    /// `max_age` is not a non-negative integer.
    MaxAgeMalformed,
    /// A registration has both `jwks` and `jwks_uri` (RFC 7591 §2).
    JwksConflict,
    /// A registered JWK set is not a set of public keys with at least one usable key.
    JwksInvalid,
    /// A client that authenticates with its keys registered neither `jwks` nor `jwks_uri`.
    JwksMissing,
    /// A `jwks_uri` is not an https URL (http only on loopback).
    JwksUriInvalid,
    /// A registered signing algorithm is not supported, or not for this method.
    SigningAlgorithmUnsupported,
    /// More than one client authentication method was used.
    MultipleAuthMethods,
    /// `nonce` is required (`id_token` in the response type) and missing.
    NonceMissing,
    /// A client registered with `subject_type: pairwise` while the provider has no pairwise
    /// secret.
    PairwiseUnavailable,
    /// A parameter appears more than once.
    ParameterDuplicated,
    /// A parameter value is longer than allowed.
    ParameterTooLong,
    /// `prompt=none` was combined with another value.
    PromptNoneWithOther,
    /// A `prompt` value is not supported.
    PromptUnsupported,
    /// A redirect URI is malformed (or carries a fragment, or a reserved query parameter).
    RedirectUriMalformed,
    /// The request's `redirect_uri` matches no registered URI.
    RedirectUriMismatch,
    /// The request has no `redirect_uri`.
    RedirectUriMissing,
    /// The token request's `redirect_uri` differs from the authorization request's.
    RedirectUriTokenMismatch,
    /// A redirect URI uses `http` off loopback, or a private-use scheme for a web client.
    RedirectUriInsecure,
    /// A redirect URI uses a scheme that runs code or reads local data (`javascript`, `data`, …).
    RedirectUriSchemeForbidden,
    /// A native client's private-use scheme is not a reverse domain name (RFC 8252 §7.1).
    RedirectUriSchemeNotReverseDomain,
    /// A registration has no redirect URIs.
    RedirectUrisMissing,
    /// A registration has too many redirect URIs.
    RedirectUrisTooMany,
    /// The refresh token is unknown, expired or bound to another client.
    RefreshTokenInvalid,
    /// The token request has no `refresh_token`.
    RefreshTokenMissing,
    /// A rotated refresh token was used again; the grant has been revoked.
    RefreshTokenReused,
    /// `request` and `request_uri` were both sent (RFC 9101 §5).
    RequestAndRequestUri,
    /// The `request` parameter (request objects) is not supported.
    RequestNotSupported,
    /// A request object's signature algorithm is refused (`none` without the client's
    /// registration and the configuration's permission, another family, not the registered one,
    /// not implemented).
    RequestObjectAlgorithmRefused,
    /// A request object's `aud` does not name the issuer.
    RequestObjectAudienceMismatch,
    /// A request object's `client_id` or `iss` is not the client that sent it.
    RequestObjectClientMismatch,
    /// A request object is encrypted (JWE), which is not supported.
    RequestObjectEncrypted,
    /// A request object has expired or is not valid yet.
    RequestObjectExpired,
    /// No key of the client matches the request object's `kid` and algorithm.
    RequestObjectKeyUnknown,
    /// A request object lives longer than the configured maximum.
    RequestObjectLifetimeTooLong,
    /// A request object is not a well-formed JWT, or a claim has the wrong type.
    RequestObjectMalformed,
    /// A request by value lacks `response_type` or a `scope` with `openid` outside the request
    /// object (OIDC Core §6.1).
    RequestObjectOuterParametersMissing,
    /// A request object's `jti` was seen before.
    RequestObjectReplayed,
    /// A request object's `response_type` differs from the query's (OIDC Core §6.1).
    RequestObjectResponseTypeMismatch,
    /// A request object's signature does not verify.
    RequestObjectSignatureInvalid,
    /// A request object's client keys could not be fetched.
    RequestObjectKeysUnavailable,
    /// The client must push its authorization requests (RFC 9126 §6).
    PushedRequestRequired,
    /// A pushed request carries `request_uri` (RFC 9126 §2.1).
    PushedRequestUriForbidden,
    /// A `request_uri` is unknown, expired or already used (RFC 9126 §4).
    RequestUriInvalid,
    /// A `request_uri` was pushed by another client (RFC 9126 §4).
    RequestUriClientMismatch,
    /// The request is larger than allowed.
    RequestTooLarge,
    /// The `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// The requested `response_mode` is not supported.
    ResponseModeUnsupported,
    /// `response_mode=query` was requested for a response type that returns tokens.
    ResponseModeQueryWithTokens,
    /// A `resource` is not an absolute URI without a fragment (RFC 8707 §2).
    ResourceInvalid,
    /// A `resource` at the token endpoint is not one the grant was authorized for
    /// (RFC 8707 §2.2).
    ResourceNotGranted,
    /// A `resource` is not a resource indicator the provider knows (RFC 8707 §2).
    ResourceUnknown,
    /// The request has no `response_type`.
    ResponseTypeMissing,
    /// The response type is not allowed for this client.
    ResponseTypeNotAllowed,
    /// The response type is not supported.
    ResponseTypeUnsupported,
    /// The revocation request has no `token` parameter.
    RevocationTokenMissing,
    /// The scope is malformed.
    ScopeMalformed,
    /// The request has no `scope`, or a scope without `openid`.
    ScopeOpenIdMissing,
    /// The requested scope exceeds what the client may request, or what the grant holds.
    ScopeNotAllowed,
    /// The storage, the signer or the random source failed.
    ServerError,
    /// No signing key is configured for the algorithm the client registered.
    SigningKeyUnavailable,
    /// A pairwise client's redirect URIs are on several hosts and it has no
    /// `sector_identifier_uri` (Registration §5).
    SectorIdentifierRequired,
    /// A client's `sector_identifier_uri` could not be fetched (Registration §5).
    SectorIdentifierUnavailable,
    /// A `sector_identifier_uri` is not an https URL (Registration §5).
    SectorIdentifierUriInvalid,
    /// A redirect URI is not listed at the client's `sector_identifier_uri` (Registration §5).
    SectorRedirectUriUnlisted,
    /// A subject identifier is malformed.
    SubjectMalformed,
    /// A `subject_type` other than `public` or `pairwise`, or `pairwise` for a client whose
    /// redirect URIs have no host.
    SubjectTypeUnsupported,
    /// The access token is missing.
    TokenMissing,
    /// The access token is unknown, expired or revoked.
    TokenInvalid,
    /// The access token does not carry the `openid` scope.
    TokenScopeInsufficient,
    /// Too many parameters in one request.
    TooManyParameters,
}

impl Reject {
    /// The wire error code (RFC 6749 §4.1.2.1, §5.2; OIDC Core §3.1.2.6; RFC 6750 §3.1;
    /// RFC 7591 §3.2.2). The one place a reason becomes a code.
    #[must_use]
    pub const fn code(self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            Self::AccessDenied | Self::AcrNotSatisfied => C::AccessDenied,
            Self::AccountSelectionRequired => C::AccountSelectionRequired,
            Self::ConsentRequired => C::ConsentRequired,
            Self::InteractionRequired => C::InteractionRequired,
            Self::ClaimsSubjectMismatch
            | Self::IdTokenHintSubjectMismatch
            | Self::LoginRequired => C::LoginRequired,
            Self::AssertionAlgorithmRefused
            | Self::AssertionAudienceMismatch
            | Self::AssertionExpired
            | Self::AssertionIssuerMismatch
            | Self::AssertionJtiMissing
            | Self::AssertionKeyUnknown
            | Self::AssertionLifetimeTooLong
            | Self::AssertionMalformed
            | Self::AssertionReplayed
            | Self::AssertionSignatureInvalid
            | Self::AssertionTypeUnsupported
            | Self::AuthMethodMismatch
            | Self::ClientJwksUnavailable
            | Self::ClientAuthenticationFailed
            | Self::CertificateAuthenticationFailed
            | Self::ClientIdConflict
            | Self::ClientUnknown
            | Self::IntrospectionClientPublic => C::InvalidClient,
            Self::CodeClientMismatch
            | Self::CodeExpired
            | Self::CodeReplayed
            | Self::CodeUnknown
            | Self::CodeVerifierMismatch
            | Self::CodeVerifierMissing
            | Self::CodeVerifierUnexpected
            | Self::RedirectUriTokenMismatch
            | Self::RefreshTokenInvalid
            | Self::RefreshTokenReused => C::InvalidGrant,
            Self::GrantTypeNotAllowed | Self::ResponseTypeNotAllowed => C::UnauthorizedClient,
            Self::GrantTypeUnsupported => C::UnsupportedGrantType,
            Self::ResponseTypeMissing | Self::ResponseTypeUnsupported => C::UnsupportedResponseType,
            Self::ScopeMalformed | Self::ScopeNotAllowed | Self::ScopeOpenIdMissing => {
                C::InvalidScope
            }
            Self::RequestNotSupported => C::RequestNotSupported,
            Self::DpopProofInvalid | Self::DpopProofReplayed | Self::DpopProofRequired => {
                C::InvalidDpopProof
            }
            Self::CertificateMismatch | Self::DpopKeyMismatch => C::InvalidGrant,
            Self::TokenBindingMismatch => C::InvalidToken,
            Self::FapiClientNotConforming => C::UnauthorizedClient,
            Self::FapiRequestObjectClaims => C::InvalidRequestObject,
            Self::DpopNonceRequired => C::UseDpopNonce,
            Self::RequestObjectAlgorithmRefused
            | Self::RequestObjectAudienceMismatch
            | Self::RequestObjectClientMismatch
            | Self::RequestObjectEncrypted
            | Self::RequestObjectExpired
            | Self::RequestObjectKeyUnknown
            | Self::RequestObjectKeysUnavailable
            | Self::RequestObjectLifetimeTooLong
            | Self::RequestObjectMalformed
            | Self::RequestObjectReplayed
            | Self::RequestObjectResponseTypeMismatch
            | Self::RequestObjectSignatureInvalid => C::InvalidRequestObject,
            Self::RequestUriClientMismatch | Self::RequestUriInvalid => C::InvalidRequestUri,
            Self::RequestUriNotSupported => C::RequestUriNotSupported,
            Self::ResourceInvalid | Self::ResourceNotGranted | Self::ResourceUnknown => {
                C::InvalidTarget
            }
            Self::PairwiseUnavailable | Self::ServerError | Self::SigningKeyUnavailable => {
                C::ServerError
            }
            Self::TokenMissing => C::InvalidRequest,
            Self::TokenInvalid => C::InvalidToken,
            Self::TokenScopeInsufficient => C::InsufficientScope,
            Self::RedirectUriInsecure
            | Self::RedirectUriMalformed
            | Self::RedirectUriSchemeForbidden
            | Self::RedirectUriSchemeNotReverseDomain
            | Self::RedirectUrisMissing
            | Self::RedirectUrisTooMany => C::InvalidRedirectUri,
            Self::ClientNameTooLong
            | Self::ClientSecretMissing
            | Self::ClientSecretTooShort
            | Self::ClientSecretUnexpected
            | Self::FrontChannelLifetimeInvalid
            | Self::DpopFrontChannelToken
            | Self::FapiClientMetadata
            | Self::TlsClientAuthNameInvalid
            | Self::GrantTypesInconsistent
            | Self::JwksConflict
            | Self::JwksInvalid
            | Self::JwksMissing
            | Self::JwksUriInvalid
            | Self::LogoutUriInvalid
            | Self::SectorIdentifierRequired
            | Self::SectorIdentifierUnavailable
            | Self::SectorIdentifierUriInvalid
            | Self::SectorRedirectUriUnlisted
            | Self::SigningAlgorithmUnsupported
            | Self::SubjectMalformed
            | Self::SubjectTypeUnsupported => C::InvalidClientMetadata,
            Self::AssertionIncomplete
            | Self::ClaimsMalformed
            | Self::ClientIdMalformed
            | Self::ClientIdMissing
            | Self::CodeChallengeMalformed
            | Self::CodeChallengeMethodUnsupported
            | Self::CodeChallengeMissing
            | Self::CodeMissing
            | Self::CodeVerifierMalformed
            | Self::DpopJktMalformed
            | Self::CertificateRequired
            | Self::FapiRequestObjectRequired
            | Self::FapiResponseTypeRequired
            | Self::FapiRedirectUriInsecure
            | Self::FapiPkceRequired
            | Self::FapiSenderConstraintRequired
            | Self::GrantTypeMissing
            | Self::IdTokenHintInvalid
            | Self::IntrospectionTokenMissing
            | Self::InvalidTokenMultipleMethods
            | Self::LogoutClientMismatch
            | Self::PostLogoutRedirectUriUnregistered
            | Self::PostLogoutRedirectUriWithoutClient
            | Self::SessionIdMalformed
            | Self::MalformedAuthorizationHeader
            | Self::MalformedEncoding
            | Self::MaxAgeMalformed
            | Self::MultipleAuthMethods
            | Self::NonceMissing
            | Self::ParameterDuplicated
            | Self::ParameterTooLong
            | Self::PromptNoneWithOther
            | Self::PromptUnsupported
            | Self::PushedRequestRequired
            | Self::PushedRequestUriForbidden
            | Self::RedirectUriMismatch
            | Self::RedirectUriMissing
            | Self::RefreshTokenMissing
            | Self::RequestAndRequestUri
            | Self::RequestObjectOuterParametersMissing
            | Self::RequestTooLarge
            | Self::RevocationTokenMissing
            | Self::ResponseModeQueryWithTokens
            | Self::ResponseModeUnsupported
            | Self::TooManyParameters => C::InvalidRequest,
        }
    }

    /// A fixed, human-readable description for `error_description`: printable ASCII, never
    /// containing user input.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::AccessDenied => "the end-user denied the request",
            Self::CertificateMismatch => "the grant is bound to another client certificate",
            Self::DpopKeyMismatch => "the grant is bound to another DPoP key",
            Self::TokenBindingMismatch => {
                "the access token is not presented with the key or certificate it is bound to"
            }
            Self::DpopProofRequired => "this client must send a DPoP proof",
            Self::DpopJktMalformed => "dpop_jkt is not a JWK thumbprint",
            Self::TlsClientAuthNameInvalid => {
                "tls_client_auth needs exactly one tls_client_auth_* name, other methods none"
            }
            Self::CertificateAuthenticationFailed => {
                "the client certificate does not authenticate the client"
            }
            Self::CertificateRequired => "this client must present its TLS client certificate",
            Self::FapiClientMetadata => {
                "the FAPI profile needs private_key_jwt or mutual TLS, PS256 or ES256, https"
            }
            Self::FapiClientNotConforming => "the client's registration does not conform to FAPI",
            Self::FapiRequestObjectRequired => {
                "the FAPI profile requires a signed request object or a pushed request"
            }
            Self::FapiResponseTypeRequired => "the FAPI profile requires code id_token",
            Self::FapiRedirectUriInsecure => "the FAPI profile requires an https redirect URI",
            Self::FapiPkceRequired => "pushed FAPI requests require PKCE with S256",
            Self::FapiRequestObjectClaims => {
                "the FAPI request object needs aud, nbf at most 60 min old, exp within 60 min"
            }
            Self::FapiSenderConstraintRequired => {
                "the FAPI profile requires a DPoP proof or a client certificate"
            }
            Self::DpopFrontChannelToken => {
                "dpop_bound_access_tokens excludes response types that return an access token"
            }
            Self::DpopNonceRequired => "a fresh DPoP nonce from the server is required",
            Self::DpopProofInvalid => "the DPoP proof is invalid",
            Self::DpopProofReplayed => "the DPoP proof was already used",
            Self::AcrNotSatisfied => {
                "the authentication does not satisfy the essential acr values requested"
            }
            Self::ClaimsMalformed => "the claims parameter is not a valid claims request",
            Self::ClaimsSubjectMismatch => "the end-user is not the one the claims request names",
            Self::AssertionAlgorithmRefused => {
                "the client assertion's signature algorithm is not accepted for this client"
            }
            Self::AssertionAudienceMismatch => {
                "the client assertion's aud names neither this issuer nor this endpoint"
            }
            Self::AssertionExpired => "the client assertion has expired or is not valid yet",
            Self::AssertionIncomplete => {
                "client_assertion and client_assertion_type must be sent together"
            }
            Self::AssertionIssuerMismatch => {
                "the client assertion's iss and sub must be the client_id"
            }
            Self::AssertionJtiMissing => "the client assertion has no jti",
            Self::AssertionKeyUnknown => {
                "no registered key of the client matches the client assertion"
            }
            Self::AssertionLifetimeTooLong => "the client assertion's lifetime is too long",
            Self::AssertionMalformed => "the client assertion is not a well-formed signed JWT",
            Self::AssertionReplayed => "the client assertion was already used",
            Self::AssertionSignatureInvalid => "the client assertion's signature is invalid",
            Self::AssertionTypeUnsupported => "client_assertion_type is not supported",
            Self::AccountSelectionRequired => "account selection is required",
            Self::AuthMethodMismatch => {
                "the client authentication method is not the one registered for this client"
            }
            Self::ClientAuthenticationFailed => "client authentication failed",
            Self::ClientJwksUnavailable => "the client's jwks_uri could not be fetched",
            Self::ClientIdConflict => "different client ids were presented",
            Self::ClientIdMalformed => "client_id is malformed",
            Self::ClientIdMissing => "client_id is missing",
            Self::ClientNameTooLong => "client_name is longer than 256 octets",
            Self::ClientUnknown => "the client is unknown",
            Self::ClientSecretMissing => "a confidential client needs a client_secret",
            Self::ClientSecretTooShort => "client_secret is shorter than 32 characters",
            Self::ClientSecretUnexpected => "a public client must not have a client_secret",
            Self::CodeChallengeMalformed => "code_challenge is malformed",
            Self::CodeChallengeMethodUnsupported => "code_challenge_method is not supported",
            Self::CodeChallengeMissing => "this client must use PKCE (code_challenge)",
            Self::CodeClientMismatch => "the code was issued to another client",
            Self::CodeExpired => "the code has expired",
            Self::CodeMissing => "code is missing",
            Self::CodeUnknown => "the code is invalid or expired",
            Self::CodeReplayed => "the code was already used",
            Self::CodeVerifierUnexpected => "code_verifier sent but no code_challenge was used",
            Self::CodeVerifierMalformed => "code_verifier is malformed",
            Self::CodeVerifierMismatch => "code_verifier does not match the code_challenge",
            Self::CodeVerifierMissing => "code_verifier is missing",
            Self::ConsentRequired => "consent is required",
            Self::FrontChannelLifetimeInvalid => "front_channel_token_lifetime must be positive",
            Self::GrantTypeNotAllowed => "the grant type is not allowed for this client",
            Self::GrantTypeMissing => "grant_type is missing",
            Self::GrantTypeUnsupported => "the grant type is not supported",
            Self::GrantTypesInconsistent => "grant_types do not correspond to response_types",
            Self::IdTokenHintInvalid => "id_token_hint is not a valid ID token of this issuer",
            Self::LogoutUriInvalid => {
                "logout URIs must be absolute https URLs without a fragment (http only on loopback)"
            }
            Self::LogoutClientMismatch => "client_id is not the audience of id_token_hint",
            Self::PostLogoutRedirectUriUnregistered => {
                "post_logout_redirect_uri is not registered for the client"
            }
            Self::PostLogoutRedirectUriWithoutClient => {
                "post_logout_redirect_uri requires client_id or id_token_hint"
            }
            Self::SessionIdMalformed => "the session id is malformed",
            Self::IdTokenHintSubjectMismatch => {
                "the end-user is not the one named by id_token_hint"
            }
            Self::InteractionRequired => "interaction is required",
            Self::IntrospectionClientPublic => "a public client cannot introspect tokens",
            Self::IntrospectionTokenMissing => "token is missing",
            Self::InvalidTokenMultipleMethods => "the access token was sent in more than one way",
            Self::LoginRequired => "login is required",
            Self::MalformedAuthorizationHeader => "the Authorization header is malformed",
            Self::MalformedEncoding => "the request is not valid form-urlencoded UTF-8",
            Self::JwksConflict => "jwks and jwks_uri cannot both be registered",
            Self::JwksInvalid => "jwks must be a set of public keys with at least one usable key",
            Self::JwksMissing => "this token_endpoint_auth_method needs jwks or jwks_uri",
            Self::JwksUriInvalid => "jwks_uri must be an https URL",
            Self::MaxAgeMalformed => "max_age is not a non-negative integer",
            Self::MultipleAuthMethods => "more than one client authentication method was used",
            Self::NonceMissing => "nonce is required for this response_type",
            Self::PairwiseUnavailable => "pairwise subject identifiers are not enabled",
            Self::ParameterDuplicated => "a parameter appears more than once",
            Self::ParameterTooLong => "a parameter value is too long",
            Self::PromptNoneWithOther => "prompt=none cannot be combined with other values",
            Self::PromptUnsupported => "a prompt value is not supported",
            Self::RedirectUriMalformed => "redirect_uri is malformed",
            Self::RedirectUriMismatch => "redirect_uri is not registered for this client",
            Self::RedirectUriMissing => "redirect_uri is missing",
            Self::RedirectUriTokenMismatch => {
                "redirect_uri differs from the one of the authorization request"
            }
            Self::RedirectUriInsecure => {
                "redirect_uri must use https (http only on loopback, custom schemes only for native clients)"
            }
            Self::RedirectUriSchemeForbidden => {
                "redirect_uri uses a scheme that can run code or read local data"
            }
            Self::RedirectUriSchemeNotReverseDomain => {
                "a private-use redirect_uri scheme must be a reverse domain name, e.g. com.example.app"
            }
            Self::RedirectUrisMissing => "redirect_uris is missing or empty",
            Self::RedirectUrisTooMany => "too many redirect_uris",
            Self::RefreshTokenInvalid => "the refresh token is invalid or expired",
            Self::RefreshTokenMissing => "refresh_token is missing",
            Self::RefreshTokenReused => "the refresh token was already used",
            Self::PushedRequestRequired => "this client must push its authorization requests (PAR)",
            Self::PushedRequestUriForbidden => "a pushed request must not carry request_uri",
            Self::RequestAndRequestUri => "request and request_uri cannot both be sent",
            Self::RequestNotSupported => "the request parameter is not supported",
            Self::RequestObjectAlgorithmRefused => {
                "the request object's signature algorithm is not accepted for this client"
            }
            Self::RequestObjectAudienceMismatch => "the request object's aud must name this issuer",
            Self::RequestObjectClientMismatch => {
                "the request object's client_id and iss must be the client_id of the request"
            }
            Self::RequestObjectEncrypted => "encrypted request objects are not supported",
            Self::RequestObjectExpired => "the request object has expired or is not valid yet",
            Self::RequestObjectKeyUnknown => {
                "no registered key of the client matches the request object"
            }
            Self::RequestObjectKeysUnavailable => "the client's jwks_uri could not be fetched",
            Self::RequestObjectLifetimeTooLong => "the request object's lifetime is too long",
            Self::RequestObjectMalformed => "the request object is not a well-formed JWT",
            Self::RequestObjectOuterParametersMissing => {
                "response_type and a scope with openid must also be sent outside the request object"
            }
            Self::RequestObjectReplayed => "the request object was already used",
            Self::RequestObjectResponseTypeMismatch => {
                "the request object's response_type differs from the request's"
            }
            Self::RequestObjectSignatureInvalid => "the request object's signature is invalid",
            Self::RequestUriClientMismatch => "the request_uri was pushed by another client",
            Self::RequestUriInvalid => "the request_uri is unknown, expired or already used",
            Self::RequestTooLarge => "the request is too large",
            Self::RequestUriNotSupported => "the request_uri parameter is not supported",
            Self::RevocationTokenMissing => "token is missing",
            Self::ResponseModeUnsupported => "response_mode is not supported",
            Self::ResponseModeQueryWithTokens => {
                "response_mode=query is not allowed when tokens are returned"
            }
            Self::ResourceInvalid => "resource must be an absolute URI without a fragment",
            Self::ResourceNotGranted => "the resource was not authorized for this grant",
            Self::ResourceUnknown => "the resource is unknown",
            Self::ResponseTypeMissing => "response_type is missing",
            Self::ResponseTypeNotAllowed => "the response_type is not allowed for this client",
            Self::ResponseTypeUnsupported => "the response_type is not supported",
            Self::ScopeMalformed => "scope is malformed",
            Self::ScopeOpenIdMissing => "scope must contain openid",
            Self::ScopeNotAllowed => "the requested scope is not allowed",
            Self::ServerError => "the server failed to process the request",
            Self::SigningAlgorithmUnsupported => "a registered signing algorithm is not supported",
            Self::SigningKeyUnavailable => "no signing key for the client's algorithm",
            Self::SectorIdentifierRequired => {
                "a pairwise client with redirect_uris on several hosts needs a sector_identifier_uri"
            }
            Self::SectorIdentifierUnavailable => "the sector_identifier_uri could not be fetched",
            Self::SectorIdentifierUriInvalid => "sector_identifier_uri must be an https URL",
            Self::SectorRedirectUriUnlisted => {
                "a redirect_uri is not listed at the sector_identifier_uri"
            }
            Self::SubjectMalformed => "the subject identifier is malformed",
            Self::SubjectTypeUnsupported => "subject_type must be public or pairwise",
            Self::TokenMissing => "the access token is missing",
            Self::TokenInvalid => "the access token is invalid or expired",
            Self::TokenScopeInsufficient => "the access token lacks the openid scope",
            Self::TooManyParameters => "too many parameters",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code().as_str(), self.description())
    }
}

impl core::error::Error for Reject {}

/// A wire error code (the `error` member).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `access_denied`
    AccessDenied,
    /// `account_selection_required`
    AccountSelectionRequired,
    /// `consent_required`
    ConsentRequired,
    /// `insufficient_scope` (RFC 6750)
    InsufficientScope,
    /// `interaction_required`
    InteractionRequired,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_client_metadata` (RFC 7591)
    InvalidClientMetadata,
    /// `invalid_dpop_proof` (RFC 9449 §5, §7.1)
    InvalidDpopProof,
    /// `invalid_grant`
    InvalidGrant,
    /// `invalid_redirect_uri` (RFC 7591)
    InvalidRedirectUri,
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_request_object` (OIDC Core §3.1.2.6, RFC 9101 §6.3)
    InvalidRequestObject,
    /// `invalid_request_uri` (OIDC Core §3.1.2.6, RFC 9126 §4)
    InvalidRequestUri,
    /// `invalid_scope`
    InvalidScope,
    /// `invalid_target` (RFC 8707 §2)
    InvalidTarget,
    /// `invalid_token` (RFC 6750)
    InvalidToken,
    /// `login_required`
    LoginRequired,
    /// `request_not_supported`
    RequestNotSupported,
    /// `request_uri_not_supported`
    RequestUriNotSupported,
    /// `server_error`
    ServerError,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `use_dpop_nonce` (RFC 9449 §8)
    UseDpopNonce,
}

impl ErrorCode {
    /// The registered string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::AccountSelectionRequired => "account_selection_required",
            Self::ConsentRequired => "consent_required",
            Self::InsufficientScope => "insufficient_scope",
            Self::InteractionRequired => "interaction_required",
            Self::InvalidClient => "invalid_client",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidToken => "invalid_token",
            Self::LoginRequired => "login_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::ServerError => "server_error",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::UseDpopNonce => "use_dpop_nonce",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error at the token, userinfo or revocation endpoint (RFC 6749 §5.2, RFC 6750 §3).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct EndpointError {
    reject: Reject,
    basic_auth: bool,
    dpop: bool,
}

impl EndpointError {
    pub(crate) const fn new(reject: Reject, basic_auth: bool) -> Self {
        Self {
            reject,
            basic_auth,
            dpop: false,
        }
    }

    /// The same error at a protected resource whose request used (or whose token needs) the
    /// `DPoP` scheme: challenged with `DPoP`, proof errors with 401 (RFC 9449 §7.1).
    #[must_use]
    pub(crate) const fn dpop_challenge(mut self) -> Self {
        self.dpop = true;
        self
    }

    /// Whether the response must carry a fresh `DPoP-Nonce` header (RFC 9449 §8, §9).
    #[must_use]
    pub const fn needs_dpop_nonce(&self) -> bool {
        matches!(self.reject.code(), ErrorCode::UseDpopNonce)
    }

    /// The reason.
    #[must_use]
    pub const fn reject(&self) -> Reject {
        self.reject
    }

    /// The wire code.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        self.reject.code()
    }

    /// The HTTP status: 401 for `invalid_client` when the client authenticated with the
    /// `Authorization` header (RFC 6749 §5.2), for `invalid_token` and for a request without any
    /// bearer token (RFC 6750 §3, §3.1), for DPoP proof errors at a protected resource
    /// (RFC 9449 §7.1, §9), 403 for `insufficient_scope`, 500 for `server_error`, 400 otherwise
    /// (DPoP proof errors at the token endpoint included, RFC 9449 §5, §8).
    #[must_use]
    pub const fn status(&self) -> u16 {
        if matches!(self.reject, Reject::TokenMissing) {
            return 401;
        }
        match self.reject.code() {
            ErrorCode::InvalidClient if self.basic_auth => 401,
            ErrorCode::InvalidToken => 401,
            ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce if self.dpop => 401,
            ErrorCode::InsufficientScope => 403,
            ErrorCode::ServerError => 500,
            _ => 400,
        }
    }

    /// The `WWW-Authenticate` challenge to send with the response, if any.
    #[must_use]
    pub const fn www_authenticate(&self) -> Option<&'static str> {
        if self.dpop {
            return match self.reject.code() {
                ErrorCode::InvalidToken => Some("DPoP error=\"invalid_token\""),
                ErrorCode::InvalidDpopProof => Some("DPoP error=\"invalid_dpop_proof\""),
                ErrorCode::UseDpopNonce => Some("DPoP error=\"use_dpop_nonce\""),
                ErrorCode::InsufficientScope => Some("DPoP error=\"insufficient_scope\""),
                ErrorCode::InvalidRequest => Some("DPoP error=\"invalid_request\""),
                _ => None,
            };
        }
        match self.reject.code() {
            ErrorCode::InvalidClient if self.basic_auth => Some("Basic realm=\"token\""),
            ErrorCode::InvalidToken => Some("Bearer error=\"invalid_token\""),
            ErrorCode::InsufficientScope => Some("Bearer error=\"insufficient_scope\""),
            ErrorCode::InvalidRequest if matches!(self.reject, Reject::TokenMissing) => {
                Some("Bearer")
            }
            _ => None,
        }
    }

    /// The JSON error body (RFC 6749 §5.2).
    #[must_use]
    pub fn to_json(&self) -> alloc::string::String {
        alloc::format!(
            "{{\"error\":\"{}\",\"error_description\":\"{}\"}}",
            self.reject.code().as_str(),
            self.reject.description()
        )
    }
}

/// A reason found before client authentication (e.g. by [`Params::parse`](crate::Params::parse)).
impl From<Reject> for EndpointError {
    fn from(reject: Reject) -> Self {
        Self::new(reject, false)
    }
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reject.fmt(f)
    }
}

impl core::error::Error for EndpointError {}
