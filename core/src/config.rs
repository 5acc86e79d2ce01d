//! Provider configuration: the issuer, endpoint URLs, lifetimes and policies.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::session::LogoutPolicy;

/// Whether ID tokens carry `auth_time` (OIDC Core §2: required when `max_age` was used; an OP
/// must be able to return it).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub enum AuthTimePolicy {
    /// Always (the default): both ID tokens of a flow then agree trivially (OIDC Core §3.3.3.6).
    #[default]
    Always,
    /// Only when `max_age` was in the request.
    WhenRequired,
}

/// Whether [`Provider::new`](crate::Provider::new) insists on an RS256 key.
///
/// OIDC Core §15.1 makes RS256 a MUST for every OpenID Provider that issues ID tokens from the
/// authorization endpoint, which every hybrid flow does. The default keeps that rule. The waiver
/// exists for devices that cannot afford RSA (flash, RAM, or a Cortex-M0+ without the atomics the
/// RSA arithmetic needs); a provider built with it is **not a conforming OpenID Provider**, and
/// says so nowhere but here: its discovery document lists only the algorithms of its keys, so it
/// never claims RS256, and relying parties that insist on RS256 cannot use it. See
/// `docs/decisions/0008-rs256-on-small-devices.md`.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub enum Rs256Policy {
    /// An RS256 key is required (OIDC Core §15.1). The default.
    #[default]
    Require,
    /// **Not conforming to OIDC Core §15.1**: no RS256 key is required. Clients must then be
    /// registered with an `id_token_signed_response_alg` of a configured key (e.g. ES256), since
    /// the registration default is RS256 (Registration §2).
    WaiveNonConforming,
}

/// The provider's configuration.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// The issuer identifier, equal to `iss` everywhere, byte for byte (Discovery §3, §4.3).
    pub issuer: String,
    /// The authorization endpoint URL.
    pub authorization_endpoint: String,
    /// The token endpoint URL.
    pub token_endpoint: String,
    /// The UserInfo endpoint URL.
    pub userinfo_endpoint: String,
    /// The JWK set URL.
    pub jwks_uri: String,
    /// The revocation endpoint URL (RFC 7009).
    pub revocation_endpoint: String,
    /// The end-session endpoint URL (RP-Initiated Logout 1.0 §2), default `{issuer}/end_session`.
    pub end_session_endpoint: String,
    /// The `check_session_iframe` URL (Session Management 1.0 §3.3). `None` (the default):
    /// Session Management is off — no `session_state` in authorization responses, nothing in
    /// discovery; [`Config::with_session_management`] turns it on at `{issuer}/check_session`.
    pub check_session_iframe: Option<String>,
    /// How long an OP session lives without use, in seconds (default 12 hours): each use
    /// ([`Provider::session`](crate::Provider::session)) moves its end this far from now,
    /// rounded down to a step of at most a minute
    /// ([`session::idle_expiry`](crate::session::idle_expiry)).
    pub session_idle_lifetime: u64,
    /// The longest an OP session lives from its beginning, whatever its use, in seconds
    /// (default 7 days).
    pub session_max_lifetime: u64,
    /// What logout does to the grants of the session it ends (default
    /// [`LogoutPolicy::KeepOffline`]; decision 0031).
    pub logout_policy: LogoutPolicy,
    /// Lifetime of back-channel logout tokens, in seconds (default 120; Back-Channel Logout
    /// 1.0 §2.4 recommends at most two minutes).
    pub logout_token_lifetime: u64,
    /// The introspection endpoint URL (RFC 7662), default `{issuer}/introspect`.
    pub introspection_endpoint: String,
    /// Authorization code lifetime in seconds (default 60, at most 600: RFC 6749 §4.1.2).
    pub code_lifetime: u64,
    /// Lifetime of access tokens from the token endpoint, in seconds (default 3600).
    pub access_token_lifetime: u64,
    /// Lifetime of front-channel access tokens (`code token`, `code id_token token`) in seconds
    /// (default 300: short, RFC 9700 §2.1.2).
    pub front_channel_token_lifetime: u64,
    /// Refresh token lifetime in seconds (default 30 days): sliding, each rotation starts it
    /// anew.
    pub refresh_token_lifetime: u64,
    /// The absolute lifetime of a grant's refresh-token chain, from the code's redemption, in
    /// seconds: no rotation extends it (RFC 9700 §4.14.2 "refresh token expiration"). Default
    /// `None`: no cap besides the sliding lifetime.
    pub refresh_token_max_lifetime: Option<u64>,
    /// How long, in seconds, a rotated refresh token may still be used once more without
    /// revoking the grant, for a client's concurrent retries (RFC 9700 §4.14.2 allows it;
    /// REQUIREMENTS 140). Default 0: any reuse revokes the grant. A use within the window
    /// rotates again from the old token; a use after it revokes the grant as before.
    pub refresh_token_reuse_grace: u64,
    /// ID token lifetime in seconds (default 600).
    pub id_token_lifetime: u64,
    /// Whether PKCE `plain` is accepted (default false: S256 only, RFC 9700 §2.1.1).
    pub allow_pkce_plain: bool,
    /// When `auth_time` appears in ID tokens.
    pub auth_time: AuthTimePolicy,
    /// Longest lifetime accepted for a client assertion, from now to its `exp`, in seconds
    /// (default 300; RFC 7523 §3 asks for a limit).
    pub assertion_max_lifetime: u64,
    /// Clock skew allowed when checking `exp`, `iat` and `nbf` of clients' JWTs, in seconds
    /// (default 30).
    pub clock_skew: u64,
    /// Longest lifetime accepted for a request object, from its `nbf` (else `iat`, else now) to
    /// its `exp`, in seconds (default 3600; FAPI 1.0 Advanced §5.2.2 item 13 allows 60 minutes).
    pub request_object_max_lifetime: u64,
    /// Whether clients that registered `request_object_signing_alg: none` may send unsigned
    /// request objects (default false; RFC 9101 §10.2).
    pub allow_unsigned_request_objects: bool,
    /// The pushed authorization request endpoint URL (RFC 9126 §5), default `{issuer}/par`.
    pub pushed_authorization_request_endpoint: String,
    /// Lifetime of a pushed request's `request_uri`, in seconds (default 60; RFC 9126 §2.2).
    pub pushed_request_lifetime: u64,
    /// Whether every client must push its authorization requests (RFC 9126 §5; per client with
    /// `require_pushed_authorization_requests`).
    pub require_pushed_authorization_requests: bool,
    /// How far a DPoP proof's `iat` may be from now, in seconds (default 60; RFC 9449 §11.1).
    pub dpop_proof_window: u64,
    /// The key of stateless DPoP server nonces (RFC 9449 §8); `None` (the default): no nonce
    /// is demanded. Nodes that share the key accept each other's nonces.
    pub dpop_nonce_key: Option<NonceKey>,
    /// Whether the host's TLS layer passes the client certificates of mutual-TLS connections
    /// to the endpoints ([`Presented::with_certificate`]): then `tls_client_auth` and
    /// `self_signed_tls_client_auth` are offered and certificate-bound access tokens issued
    /// (RFC 8705). Default `false`: nothing of mutual TLS is advertised.
    ///
    /// [`Presented::with_certificate`]: crate::binding::Presented::with_certificate
    pub mutual_tls: bool,
    /// Every client is in the FAPI 1.0 Advanced profile ([`fapi`](crate::fapi)); per client
    /// with the `fapi1_advanced` metadata. Default `false`.
    pub fapi1_advanced: bool,
    /// Where the host serves the mutual-TLS variants of the endpoints, if elsewhere than the
    /// plain ones (`mtls_endpoint_aliases`, RFC 8705 §5): absolute URLs by endpoint metadata
    /// name, e.g. `("token_endpoint", "https://mtls.op.example/token")`. Client assertions may
    /// name an alias as their audience.
    pub mtls_endpoint_aliases: Vec<(String, String)>,
    /// The scope values the provider understands, advertised in discovery: the OpenID Connect
    /// ones by default (`openid`, `profile`, `email`, `address`, `phone`, `offline_access`);
    /// a host adds its own (e.g. `api:read`). Other requested values are ignored: not granted,
    /// not shown for consent, not in tokens (OIDC Core §3.1.2.1). Must contain `openid`.
    pub scopes_supported: Vec<String>,
    /// Whether an RS256 key is required (default: yes, OIDC Core §15.1).
    pub rs256: Rs256Policy,
    /// The claims the provider can release, advertised in discovery (Discovery §3): by default
    /// the ID token's own claims and the standard claims of OIDC Core §5.1. A host adds the
    /// custom claims it supplies; only listed claims can be asked for with the `claims`
    /// parameter (OIDC Core §5.5, [`claims`](crate::claims)).
    pub claims_supported: Vec<String>,
    /// Custom scope values and the claims each releases, in UserInfo and in the token
    /// endpoint's ID token (e.g. `("roles", ["roles"])`). Each scope value must be in
    /// [`scopes_supported`](Self::scopes_supported), no claim may be protected
    /// ([`PROTECTED_CLAIMS`](crate::claims::PROTECTED_CLAIMS)), and each claim is added to
    /// `claims_supported` in discovery.
    pub scope_claims: Vec<(String, Vec<String>)>,
    /// The `acr` values the host can satisfy, advertised in discovery (Discovery §3); empty:
    /// not advertised.
    pub acr_values_supported: Vec<String>,
    /// The secret of pairwise subject identifiers (OIDC Core §8.1; see
    /// [`pairwise`](crate::pairwise) on key management). `None` (the default): only `public`
    /// subjects, and clients registered with `subject_type: pairwise` are refused at the
    /// authorization endpoint.
    pub pairwise: Option<PairwiseSecret>,
    /// The resource indicators (RFC 8707) clients may ask access tokens for, e.g.
    /// `https://api.example/`: absolute URIs without a fragment. A token issued for resources
    /// has them as its audience. Empty (the default): any `resource` is `invalid_target`.
    pub resources: Vec<String>,
}

/// Shortest accepted pairwise secret, in bytes.
pub const MIN_PAIRWISE_SECRET_LEN: usize = 32;

/// The provider's secret for pairwise subjects (see [`pairwise`](crate::pairwise) on key
/// management).
/// `Debug` is redacted; the bytes are zeroed on drop.
#[derive(Clone, Eq, PartialEq)]
pub struct PairwiseSecret(Vec<u8>);

impl PairwiseSecret {
    /// A secret of at least [`MIN_PAIRWISE_SECRET_LEN`] bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::PairwiseSecret`] for a shorter one.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_PAIRWISE_SECRET_LEN {
            return Err(ConfigError::PairwiseSecret);
        }
        Ok(Self(bytes))
    }

    /// The secret's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for PairwiseSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PairwiseSecret(<redacted>)")
    }
}

impl Drop for PairwiseSecret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Longest code lifetime accepted (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const MAX_CODE_LIFETIME: u64 = 600;

impl Config {
    /// A configuration for `issuer` with endpoints at `{issuer}/authorize`, `/token`,
    /// `/userinfo`, `/jwks`, `/revoke`, `/introspect` and `/par`, and the default lifetimes and policies.
    ///
    /// The issuer must be an `https` URL without query or fragment (OIDC Core §2). Plain `http` is
    /// accepted only for loopback hosts (`127.0.0.1`, `[::1]`, `localhost`), for development.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Issuer`] for an invalid issuer.
    pub fn new(issuer: &str) -> Result<Self, ConfigError> {
        let https = issuer.strip_prefix("https://");
        let http = issuer.strip_prefix("http://");
        let rest = match (https, http) {
            (Some(rest), _) => rest,
            (None, Some(rest))
                if ["127.0.0.1", "[::1]", "localhost"].iter().any(|h| {
                    rest.strip_prefix(h)
                        .is_some_and(|t| t.is_empty() || t.starts_with([':', '/']))
                }) =>
            {
                rest
            }
            _ => return Err(ConfigError::Issuer),
        };
        if rest.is_empty()
            || rest.starts_with('/')
            || issuer.contains(['?', '#'])
            || issuer.ends_with('/')
            || !issuer.bytes().all(|b| (0x21..=0x7e).contains(&b))
        {
            return Err(ConfigError::Issuer);
        }
        Ok(Self {
            issuer: issuer.into(),
            authorization_endpoint: format!("{issuer}/authorize"),
            token_endpoint: format!("{issuer}/token"),
            userinfo_endpoint: format!("{issuer}/userinfo"),
            jwks_uri: format!("{issuer}/jwks"),
            revocation_endpoint: format!("{issuer}/revoke"),
            end_session_endpoint: format!("{issuer}/end_session"),
            check_session_iframe: None,
            session_idle_lifetime: 12 * 3600,
            session_max_lifetime: 7 * 24 * 3600,
            logout_policy: LogoutPolicy::KeepOffline,
            logout_token_lifetime: 120,
            introspection_endpoint: format!("{issuer}/introspect"),
            code_lifetime: 60,
            access_token_lifetime: 3600,
            front_channel_token_lifetime: 300,
            refresh_token_lifetime: 30 * 24 * 3600,
            refresh_token_max_lifetime: None,
            refresh_token_reuse_grace: 0,
            id_token_lifetime: 600,
            allow_pkce_plain: false,
            auth_time: AuthTimePolicy::Always,
            request_object_max_lifetime: 3600,
            allow_unsigned_request_objects: false,
            pushed_authorization_request_endpoint: format!("{issuer}/par"),
            pushed_request_lifetime: 60,
            require_pushed_authorization_requests: false,
            dpop_proof_window: 60,
            dpop_nonce_key: None,
            mutual_tls: false,
            fapi1_advanced: false,
            mtls_endpoint_aliases: Vec::new(),
            assertion_max_lifetime: 300,
            clock_skew: 30,
            scopes_supported: [
                "openid",
                "profile",
                "email",
                "address",
                "phone",
                "offline_access",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            rs256: Rs256Policy::Require,
            claims_supported: default_claims_supported(),
            scope_claims: Vec::new(),
            acr_values_supported: Vec::new(),
            pairwise: None,
            resources: Vec::new(),
        })
    }

    /// **Not conforming to OIDC Core §15.1**: lets [`Provider::new`](crate::Provider::new) accept
    /// a key set without an RS256 key ([`Rs256Policy::WaiveNonConforming`]). Meant for devices
    /// that cannot carry RSA; the discovery document then never lists RS256.
    #[must_use]
    pub fn waive_rs256_nonconforming(mut self) -> Self {
        self.rs256 = Rs256Policy::WaiveNonConforming;
        self
    }

    /// Sets the code lifetime.
    ///
    /// # Errors
    ///
    /// [`ConfigError::CodeLifetime`] for zero or more than [`MAX_CODE_LIFETIME`] seconds.
    pub fn with_code_lifetime(mut self, secs: u64) -> Result<Self, ConfigError> {
        if secs == 0 || secs > MAX_CODE_LIFETIME {
            return Err(ConfigError::CodeLifetime);
        }
        self.code_lifetime = secs;
        Ok(self)
    }

    /// Turns Session Management 1.0 on: `session_state` in authorization responses made under
    /// an OP session, and the `check_session_iframe` page at `{issuer}/check_session`.
    #[must_use]
    pub fn with_session_management(mut self) -> Self {
        self.check_session_iframe = Some(format!("{}/check_session", self.issuer));
        self
    }

    /// The discovery document URL: issuer + `/.well-known/openid-configuration` (Discovery §4).
    #[must_use]
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    /// Checks the lifetimes and the scope values (the fields are public, so a host may have
    /// changed them).
    ///
    /// # Errors
    ///
    /// [`ConfigError::CodeLifetime`], [`ConfigError::Lifetime`] or [`ConfigError::Scopes`].
    pub fn check(&self) -> Result<(), ConfigError> {
        let scopes_valid = self.scopes_supported.iter().any(|s| s == "openid")
            && self
                .scopes_supported
                .iter()
                .all(|s| crate::value::Scope::parse(s).is_ok_and(|p| p.iter().count() == 1));
        if !scopes_valid {
            return Err(ConfigError::Scopes);
        }
        let claims_valid = self.scope_claims.iter().all(|(scope, claims)| {
            self.scopes_supported.contains(scope)
                && claims
                    .iter()
                    .all(|c| !crate::claims::PROTECTED_CLAIMS.contains(&c.as_str()))
        });
        if !claims_valid {
            return Err(ConfigError::Claims);
        }
        if self.code_lifetime == 0 || self.code_lifetime > MAX_CODE_LIFETIME {
            return Err(ConfigError::CodeLifetime);
        }
        if [
            self.pushed_request_lifetime,
            self.access_token_lifetime,
            self.front_channel_token_lifetime,
            self.refresh_token_lifetime,
            self.id_token_lifetime,
            self.refresh_token_max_lifetime.unwrap_or(1),
            self.session_idle_lifetime,
            self.session_max_lifetime,
            self.logout_token_lifetime,
        ]
        .contains(&0)
        {
            return Err(ConfigError::Lifetime);
        }
        Ok(())
    }
}

/// The route path a configured URL is served at: the path of the absolute URL `url`, without
/// query or fragment (`/` if it has none). An issuer `https://idp.example/tenant` puts the
/// token endpoint at `/tenant/token`; a host mounts its own pages under the same prefix.
#[must_use]
pub fn route_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    if path.is_empty() {
        "/".into()
    } else {
        path.into()
    }
}

/// The ID token's claims and the standard claims (OIDC Core §2, §5.1).
fn default_claims_supported() -> Vec<String> {
    let mut claims: Vec<String> = [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for (_, names) in crate::claims::SCOPE_CLAIMS {
        claims.extend(names.iter().map(|n| String::from(*n)));
    }
    claims
}

/// An invalid configuration.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The issuer is not an https URL without query and fragment (http only on loopback).
    Issuer,
    /// The code lifetime is zero or above 600 seconds.
    CodeLifetime,
    /// A token lifetime is zero.
    Lifetime,
    /// No signing key is configured, none for RS256 (OIDC Core §15.1) while
    /// [`Rs256Policy::Require`] is in force, or two keys share a `kid`.
    Keys,
    /// `scopes_supported` lacks `openid` or holds a value that is not one scope token.
    Scopes,
    /// A custom scope's claims name a scope value that is not supported, or a protected claim.
    Claims,
    /// The pairwise secret is shorter than 32 bytes.
    PairwiseSecret,
    /// A signer's algorithm needs SHA-384 or SHA-512 for its hash claims, which this build
    /// leaves out (the `sha512` feature of `oidc-hybrid` is off).
    HashUnavailable,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Issuer => "issuer must be an https URL without query, fragment or trailing slash (http only on loopback)",
            Self::CodeLifetime => "code lifetime must be between 1 and 600 seconds",
            Self::Lifetime => "token lifetimes must be positive",
            Self::Keys => {
                "an RS256 signing key is required (OIDC Core 15.1), and key ids must be distinct"
            }
            Self::Scopes => "scopes_supported must contain openid and only single scope tokens",
            Self::Claims => {
                "scope_claims must name supported scope values and no protected claim"
            }
            Self::PairwiseSecret => "the pairwise secret must be at least 32 bytes",
            Self::HashUnavailable => {
                "a signing key needs SHA-384/SHA-512, built only with the `sha512` feature"
            }
        })
    }
}

impl core::error::Error for ConfigError {}

/// The key of DPoP server nonces (RFC 9449 §8). `Debug` is redacted.
#[derive(Clone, Eq, PartialEq)]
pub struct NonceKey([u8; 32]);

impl NonceKey {
    /// A key from 32 random bytes.
    #[must_use]
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's bytes.
    #[must_use]
    pub(crate) const fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NonceKey(<redacted>)")
    }
}

#[cfg(test)]
mod route_tests {
    use super::route_path;

    #[test]
    fn paths_of_urls() {
        assert_eq!(route_path("https://idp.example/token"), "/token");
        assert_eq!(route_path("https://idp.example/t/a/token"), "/t/a/token");
        assert_eq!(route_path("http://127.0.0.1:8080/jwks"), "/jwks");
        assert_eq!(route_path("https://idp.example"), "/");
        assert_eq!(route_path("https://idp.example/x?y#z"), "/x");
    }
}
