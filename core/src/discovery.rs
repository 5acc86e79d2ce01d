//! The discovery document (OpenID Connect Discovery 1.0 §3; RFC 8414 §2; RFC 9207 §3).

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::client_keys::MacAlgorithm;
use crate::config::Config;
use crate::signer::JwsAlgorithm;

/// Provider metadata served at `/.well-known/openid-configuration`. Only what is implemented is
/// advertised; empty arrays are omitted (Discovery §3).
#[derive(Clone, Debug, Eq, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// REQUIRED: the issuer identifier, byte-equal to every `iss`.
    pub issuer: String,
    /// REQUIRED.
    pub authorization_endpoint: String,
    /// REQUIRED (not implicit-only).
    pub token_endpoint: String,
    /// RECOMMENDED.
    pub userinfo_endpoint: String,
    /// REQUIRED.
    pub jwks_uri: String,
    /// RFC 7009.
    pub revocation_endpoint: String,
    /// RFC 7662 (RFC 8414 §2).
    pub introspection_endpoint: String,
    /// RECOMMENDED.
    pub scopes_supported: Vec<String>,
    /// REQUIRED: the response types enabled.
    pub response_types_supported: Vec<&'static str>,
    /// `query`, `fragment` and `form_post` (listed because form_post is not a default).
    pub response_modes_supported: Vec<&'static str>,
    /// Grant types.
    pub grant_types_supported: Vec<&'static str>,
    /// REQUIRED: `public`, and `pairwise` when a pairwise secret is configured.
    pub subject_types_supported: Vec<&'static str>,
    /// REQUIRED: the signing algorithms of the configured keys, and only those: RS256 among them
    /// unless [`Rs256Policy::WaiveNonConforming`](crate::Rs256Policy) left it out (OIDC Core
    /// §15.1), never claimed without a key.
    pub id_token_signing_alg_values_supported: Vec<JwsAlgorithm>,
    /// Client authentication methods at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Algorithms accepted for client assertions (`private_key_jwt`, `client_secret_jwt`).
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// Client authentication methods at the revocation endpoint.
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Algorithms accepted for client assertions at the revocation endpoint.
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// Client authentication methods at the introspection endpoint: those of the token
    /// endpoint except `none` (RFC 7662 §2.1, RFC 8414 §2).
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// Algorithms accepted for client assertions at the introspection endpoint.
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    /// PKCE methods (RFC 9700 §2.1.1).
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// The claims that can be released (from the configuration).
    pub claims_supported: Vec<String>,
    /// The `acr` values the host can satisfy (from the configuration; omitted when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acr_values_supported: Vec<String>,
    /// `page`, `popup`, `touch`, `wap` are accepted.
    pub display_values_supported: Vec<&'static str>,
    /// The `claims` request parameter is supported (OIDC Core §5.5).
    pub claims_parameter_supported: bool,
    /// Request objects by value (`request`, RFC 9101) are supported.
    pub request_parameter_supported: bool,
    /// Algorithms accepted for request objects (`none` only when unsigned objects are
    /// allowed).
    pub request_object_signing_alg_values_supported: Vec<&'static str>,
    /// `request_uri` by reference to a URL the provider would fetch is not offered; only the
    /// `request_uri` values the PAR endpoint issues are accepted (RFC 9126).
    pub request_uri_parameter_supported: bool,
    /// The pushed authorization request endpoint (RFC 9126 §5).
    pub pushed_authorization_request_endpoint: String,
    /// Whether every client must use PAR (RFC 9126 §5).
    pub require_pushed_authorization_requests: bool,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    /// The algorithms accepted for DPoP proofs (RFC 9449 §5.1): the asymmetric algorithms of
    /// the host's verifier; omitted (DPoP not offered) without one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dpop_signing_alg_values_supported: Vec<&'static str>,
    /// Certificate-bound access tokens are issued (RFC 8705 §3.3), with
    /// [`Config::mutual_tls`]; omitted otherwise.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub tls_client_certificate_bound_access_tokens: bool,
    /// The endpoints' mutual-TLS aliases (RFC 8705 §5), from the configuration.
    #[serde(skip_serializing_if = "alloc::collections::BTreeMap::is_empty")]
    pub mtls_endpoint_aliases: alloc::collections::BTreeMap<String, String>,
    /// The end-session endpoint (RP-Initiated Logout 1.0 §2.1).
    pub end_session_endpoint: String,
    /// Front-Channel Logout 1.0 §3: the logout page frames clients' `frontchannel_logout_uri`.
    pub frontchannel_logout_supported: bool,
    /// Front-Channel Logout 1.0 §3: `iss` and `sid` are passed to those pages on request, and
    /// ID tokens carry `sid`.
    pub frontchannel_logout_session_supported: bool,
    /// Back-Channel Logout 1.0 §2.1: logout tokens are delivered (only with a
    /// [`LogoutSender`](crate::LogoutSender)).
    pub backchannel_logout_supported: bool,
    /// Back-Channel Logout 1.0 §2.1: logout tokens and ID tokens carry `sid`.
    pub backchannel_logout_session_supported: bool,
    /// Session Management 1.0 §3.3: the OP iframe, when Session Management is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_session_iframe: Option<String>,
}

impl ProviderMetadata {
    /// Builds the document for `config`, the algorithms of the configured keys and the
    /// asymmetric algorithms the host's [`JwsVerifier`](crate::JwsVerifier) implements for
    /// clients' signatures (empty without one: then `private_key_jwt` is not offered).
    #[must_use]
    pub fn new(
        config: &Config,
        algorithms: Vec<JwsAlgorithm>,
        client_algorithms: &[JwsAlgorithm],
    ) -> Self {
        let mut auth_methods = alloc::vec![
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "none",
        ];
        if !client_algorithms.is_empty() {
            auth_methods.push("private_key_jwt");
        }
        if config.mutual_tls {
            auth_methods.extend(["tls_client_auth", "self_signed_tls_client_auth"]);
        }
        let mut auth_algs: Vec<&'static str> =
            client_algorithms.iter().map(|a| a.as_str()).collect();
        auth_algs.extend(
            MacAlgorithm::ALL
                .iter()
                .filter(|m| m.is_built_in())
                .map(|m| m.as_str()),
        );
        let mut claims = config.claims_supported.clone();
        for (_, names) in &config.scope_claims {
            claims.extend(names.iter().cloned());
        }
        claims.dedup();
        let mut code_challenge_methods = alloc::vec!["S256"];
        if config.allow_pkce_plain {
            code_challenge_methods.push("plain");
        }
        let mut object_algs = auth_algs.clone();
        if config.allow_unsigned_request_objects {
            object_algs.push("none");
        }
        Self {
            issuer: config.issuer.clone(),
            authorization_endpoint: config.authorization_endpoint.clone(),
            token_endpoint: config.token_endpoint.clone(),
            userinfo_endpoint: config.userinfo_endpoint.clone(),
            jwks_uri: config.jwks_uri.clone(),
            revocation_endpoint: config.revocation_endpoint.clone(),
            introspection_endpoint: config.introspection_endpoint.clone(),
            scopes_supported: config.scopes_supported.clone(),
            response_types_supported: crate::value::ResponseType::ALL
                .iter()
                .map(|t| t.as_str())
                .collect(),
            response_modes_supported: alloc::vec!["query", "fragment", "form_post"],
            grant_types_supported: crate::token::grant_types_supported(),
            subject_types_supported: if config.pairwise.is_some() {
                alloc::vec!["public", "pairwise"]
            } else {
                alloc::vec!["public"]
            },
            id_token_signing_alg_values_supported: algorithms,
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            token_endpoint_auth_signing_alg_values_supported: auth_algs.clone(),
            introspection_endpoint_auth_methods_supported: auth_methods
                .iter()
                .copied()
                .filter(|m| *m != "none")
                .collect(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            introspection_endpoint_auth_signing_alg_values_supported: auth_algs.clone(),
            revocation_endpoint_auth_signing_alg_values_supported: auth_algs,
            code_challenge_methods_supported: code_challenge_methods,
            claims_supported: claims,
            acr_values_supported: config.acr_values_supported.clone(),
            display_values_supported: alloc::vec!["page", "popup", "touch", "wap"],
            claims_parameter_supported: true,
            request_parameter_supported: true,
            request_object_signing_alg_values_supported: object_algs,
            request_uri_parameter_supported: false,
            pushed_authorization_request_endpoint: config
                .pushed_authorization_request_endpoint
                .clone(),
            require_pushed_authorization_requests: config.require_pushed_authorization_requests,
            authorization_response_iss_parameter_supported: true,
            dpop_signing_alg_values_supported: client_algorithms
                .iter()
                .map(|a| a.as_str())
                .collect(),
            tls_client_certificate_bound_access_tokens: config.mutual_tls,
            mtls_endpoint_aliases: config.mtls_endpoint_aliases.iter().cloned().collect(),
            end_session_endpoint: config.end_session_endpoint.clone(),
            frontchannel_logout_supported: true,
            frontchannel_logout_session_supported: true,
            backchannel_logout_supported: false,
            backchannel_logout_session_supported: false,
            check_session_iframe: config.check_session_iframe.clone(),
        }
    }

    /// The JSON document.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Strings, booleans and arrays of strings always serialise.
        serde_json::to_string(self).unwrap_or_default()
    }
}
