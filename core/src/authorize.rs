//! The authorization endpoint: parse → bind → (host login/consent) → approve or deny.
//!
//! 1. [`AuthorizeRequest::parse`] reads the raw parameters. Only problems with what decides
//!    *where* a response may go (`client_id`, `redirect_uri`, `response_mode`) fail here, and they
//!    are shown to the user, never redirected. Every other problem is kept and reported after
//!    binding.
//! 2. [`AuthorizeRequest::bind`] checks the redirect URI against the client's registration
//!    (exact match, REQUIREMENTS 18–20). From here errors are redirected to the client in the
//!    request's response mode (fragment by default for hybrid types, never query when tokens are
//!    involved; REQUIREMENTS 57–59, 68).
//! 3. The host authenticates the End-User and obtains consent, guided by
//!    [`BoundRequest::first_step`] when the request arrives and [`BoundRequest::next_step`]
//!    after each of its pages; `prompt=none` turns any needed interaction into an error
//!    (OIDC Core §3.1.2.3, §3.1.2.6).
//! 4. [`BoundRequest::approve`] mints the code, the optional front-channel access token and ID
//!    token, and the response; [`BoundRequest::deny`] answers `access_denied`.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::access_token::{TokenFacts, mint_access_token, requested_resources};
use crate::binding::Confirmation;
use crate::claims::{ClaimsRequest, ClaimsTarget};
use crate::client::{AccessTokenFormat, Client, GrantType};
use crate::clock::UnixTime;
use crate::config::{AuthTimePolicy, Config};
use crate::error::Reject;
use crate::id_token::{AuthEvent, Hashed};
use crate::jose::sign_jwt;
use crate::mint::Mint;
use crate::pairwise::SectorKey;
use crate::params::Params;
use crate::pkce::CodeChallenge;
use crate::request_object::{RequestOrigin, RequestParams};
use crate::response::{AuthorizationResponse, AuthorizeError};
use crate::secret::{AccessToken, AuthorizationCode};
use crate::session::{SessionGrant, SessionId, session_state};
use crate::signer::{JwsAlgorithm, Signer};
use crate::storage::{AccessTokenRecord, CodeRecord};
use crate::value::{
    ClientId, Nonce, Prompt, RedirectUri, ResponseMode, ResponseType, Scope, State, Subject,
};

/// The `display` parameter (OIDC Core §3.1.2.1). Unknown values are ignored (REQUIREMENTS 12).
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DisplayMode {
    /// A full page.
    Page,
    /// A popup window.
    Popup,
    /// A touch device.
    Touch,
    /// A feature phone.
    Wap,
}

/// A parsed authorization request whose client is not yet known.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    client_id: ClientId,
    redirect_uri: String,
    state: Option<State>,
    mode: ResponseMode,
    body: Result<Body, Reject>,
    origin: RequestOrigin,
}

#[derive(Clone, Debug)]
struct Body {
    response_type: ResponseType,
    scope: Scope,
    nonce: Option<Nonce>,
    code_challenge: Option<CodeChallenge>,
    prompt: Prompt,
    max_age: Option<u64>,
    id_token_hint: Option<String>,
    login_hint: Option<String>,
    display: Option<DisplayMode>,
    ui_locales: Vec<String>,
    claims_locales: Vec<String>,
    acr_values: Vec<String>,
    claims: ClaimsRequest,
    resources: Vec<String>,
    dpop_jkt: Option<String>,
}

/// Reads a parameter whose duplication must be shown to the user.
fn shown<'p>(params: &'p Params<'_>, name: &str) -> Result<Option<&'p str>, AuthorizeError> {
    params.get(name).map_err(AuthorizeError::show)
}

fn words(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(' ')
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

impl AuthorizeRequest {
    /// Parses an authorization request from its GET query or POST form parameters
    /// (OIDC Core §3.1.2.1; REQUIREMENTS 2–16).
    ///
    /// # Errors
    ///
    /// An [`AuthorizeError`] with [`Disposition::ShowToUser`](crate::Disposition::ShowToUser)
    /// when `client_id` or `redirect_uri` is missing, malformed or repeated, or `response_mode`
    /// is unsupported (HTTP 400, no redirect: OIDC Core §3.1.2.6).
    pub fn parse(params: &Params<'_>, config: &Config) -> Result<Self, AuthorizeError> {
        let client_id =
            shown(params, "client_id")?.ok_or(AuthorizeError::show(Reject::ClientIdMissing))?;
        let client_id = ClientId::new(client_id).map_err(AuthorizeError::show)?;
        let redirect_uri = shown(params, "redirect_uri")?
            .ok_or(AuthorizeError::show(Reject::RedirectUriMissing))?
            .to_string();
        let explicit_mode = match shown(params, "response_mode")? {
            Some(mode) => Some(ResponseMode::parse(mode).map_err(AuthorizeError::show)?),
            None => None,
        };
        let state = params.get("state");
        let response_type = params
            .get("response_type")
            .and_then(|rt| rt.ok_or(Reject::ResponseTypeMissing))
            .and_then(ResponseType::parse);
        // The mode errors travel in: never query if the response could carry tokens.
        let mut mode = match (explicit_mode, &response_type) {
            (Some(mode), _) => mode,
            (None, Ok(rt)) => rt.default_mode(),
            (None, Err(_)) => ResponseMode::Fragment,
        };
        let query_with_tokens =
            mode == ResponseMode::Query && !matches!(response_type, Ok(ResponseType::Code));
        if query_with_tokens {
            mode = ResponseMode::Fragment;
        }
        let body = (|| {
            state?;
            let response_type = response_type?;
            if query_with_tokens {
                return Err(Reject::ResponseModeQueryWithTokens);
            }
            if params.contains("request") {
                return Err(Reject::RequestNotSupported);
            }
            if params.contains("request_uri") {
                return Err(Reject::RequestUriNotSupported);
            }
            let scope = match params.get("scope")? {
                Some(raw) => Scope::parse(raw)?,
                None => return Err(Reject::ScopeOpenIdMissing),
            };
            if !scope.contains(Scope::OPENID) {
                return Err(Reject::ScopeOpenIdMissing);
            }
            let nonce = params.get("nonce")?.map(Nonce::new);
            if response_type.has_id_token() && nonce.is_none() {
                return Err(Reject::NonceMissing);
            }
            let prompt = match params.get("prompt")? {
                Some(raw) => Prompt::parse(raw)?,
                None => Prompt::default(),
            };
            let max_age = match params.get("max_age")? {
                Some(raw)
                    if !raw.is_empty()
                        && raw.len() <= 10
                        && raw.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Some(raw.parse::<u64>().map_err(|_| Reject::MaxAgeMalformed)?)
                }
                Some(_) => return Err(Reject::MaxAgeMalformed),
                None => None,
            };
            let code_challenge = match (
                params.get("code_challenge")?,
                params.get("code_challenge_method")?,
            ) {
                (Some(challenge), method) => Some(CodeChallenge::parse(
                    challenge,
                    method,
                    config.allow_pkce_plain,
                )?),
                (None, Some(_)) => return Err(Reject::CodeChallengeMalformed),
                (None, None) => None,
            };
            let display = match params.get("display")? {
                Some("page") => Some(DisplayMode::Page),
                Some("popup") => Some(DisplayMode::Popup),
                Some("touch") => Some(DisplayMode::Touch),
                Some("wap") => Some(DisplayMode::Wap),
                _ => None,
            };
            Ok(Body {
                response_type,
                scope,
                nonce,
                code_challenge,
                prompt,
                max_age,
                id_token_hint: params.get("id_token_hint")?.map(String::from),
                login_hint: params.get("login_hint")?.map(String::from),
                display,
                ui_locales: words(params.get("ui_locales")?),
                claims_locales: words(params.get("claims_locales")?),
                acr_values: words(params.get("acr_values")?),
                claims: match params.get("claims")? {
                    Some(raw) => ClaimsRequest::parse(raw)?,
                    None => ClaimsRequest::default(),
                },
                resources: requested_resources(params, Some(&config.resources))?,
                dpop_jkt: match params.get("dpop_jkt")? {
                    // A JWK SHA-256 thumbprint: 43 base64url characters (RFC 9449 §10).
                    Some(jkt)
                        if jkt.len() == 43
                            && jkt
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
                    {
                        Some(jkt.into())
                    }
                    Some(_) => return Err(Reject::DpopJktMalformed),
                    None => None,
                },
            })
        })();
        Ok(Self {
            client_id,
            redirect_uri,
            state: state.ok().flatten().map(State::new),
            mode,
            body,
            origin: RequestOrigin::Plain,
        })
    }

    /// Parses the parameters of a request that came as a verified request object or a pushed
    /// request ([`request_object`](crate::request_object)), remembering where they came from.
    ///
    /// # Errors
    ///
    /// As for [`AuthorizeRequest::parse`]; the limits of [`Params::from_pairs`] are shown.
    pub fn parse_resolved(
        request: &RequestParams,
        config: &Config,
    ) -> Result<Self, AuthorizeError> {
        let params = request.params().map_err(AuthorizeError::show)?;
        let mut parsed = Self::parse(&params, config)?;
        parsed.origin = request.origin();
        Ok(parsed)
    }

    /// The client the request claims to come from; the driver looks it up.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// Binds the request to its registered client (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.2).
    ///
    /// # Errors
    ///
    /// - shown to the user: [`Reject::RedirectUriMismatch`] when the `redirect_uri` matches no
    ///   registered URI (never redirect to it, REQUIREMENTS 20);
    /// - redirected to the client: any problem found while parsing, then
    ///   [`Reject::ResponseTypeNotAllowed`] (`unauthorized_client`), [`Reject::ScopeNotAllowed`]
    ///   when `openid` is not among the client's scopes, [`Reject::CodeChallengeMissing`] when the
    ///   client must use PKCE.
    pub fn bind(
        self,
        client: &Client,
        config: &Config,
        now: UnixTime,
    ) -> Result<BoundRequest, AuthorizeError> {
        if client.id() != &self.client_id {
            return Err(AuthorizeError::show(Reject::ClientUnknown));
        }
        let Some(redirect_uri) = client.match_redirect_uri(&self.redirect_uri) else {
            return Err(AuthorizeError::show(Reject::RedirectUriMismatch));
        };
        let target = ErrorTarget {
            redirect_uri: &redirect_uri,
            mode: self.mode,
            state: self.state.as_ref().map(State::as_str),
            issuer: &config.issuer,
        };
        let body = self.body.map_err(|r| target.error(r))?;
        let must_push = client.requires_par() || config.require_pushed_authorization_requests;
        if must_push && self.origin != RequestOrigin::Pushed {
            return Err(target.error(Reject::PushedRequestRequired));
        }
        if !client.allows_response_type(body.response_type) {
            return Err(target.error(Reject::ResponseTypeNotAllowed));
        }
        // Values the provider does not understand are ignored (OIDC Core §3.1.2.1).
        let known = body
            .scope
            .filter(|token| config.scopes_supported.iter().any(|s| s == token));
        let scope = match client.allowed_scope() {
            Some(allowed) => known.intersection(allowed),
            None => known,
        };
        if !scope.contains(Scope::OPENID) {
            return Err(target.error(Reject::ScopeNotAllowed));
        }
        if client.requires_pkce() && body.code_challenge.is_none() {
            return Err(target.error(Reject::CodeChallengeMissing));
        }
        let fapi = crate::fapi::applies(client, config);
        if fapi {
            let challenge = body.code_challenge.as_ref();
            crate::fapi::check_authorization(
                client,
                (
                    self.origin == RequestOrigin::Object,
                    self.origin == RequestOrigin::Pushed,
                ),
                body.response_type,
                &redirect_uri,
                challenge,
            )
            .map_err(|r| target.error(r))?;
        }
        let sector_key = match client.sector_identifier() {
            Some(sector) => match &config.pairwise {
                Some(secret) => Some(secret.sector_key(sector)),
                None => return Err(target.error(Reject::PairwiseUnavailable)),
            },
            None => None,
        };
        Ok(BoundRequest {
            client_id: self.client_id,
            client_name: client.metadata().client_name.clone(),
            redirect_uri,
            response_type: body.response_type,
            response_mode: self.mode,
            state: self.state,
            scope,
            nonce: body.nonce,
            code_challenge: body.code_challenge,
            prompt: body.prompt,
            max_age: body.max_age,
            id_token_hint: body.id_token_hint,
            hint_subject: None,
            login_hint: body.login_hint,
            display: body.display,
            ui_locales: body.ui_locales,
            claims: body.claims.with_locales(body.claims_locales.clone()),
            resources: body.resources,
            claims_locales: body.claims_locales,
            acr_values: body.acr_values,
            received_at: now,
            origin: self.origin,
            dpop_jkt: body.dpop_jkt,
            id_token_alg: client.id_token_alg(),
            s_hash: client.wants_s_hash() || fapi,
            fapi,
            refresh_allowed: client.allows_grant(GrantType::RefreshToken),
            front_channel: FrontChannelPolicy {
                format: client.access_token_format(),
                lifetime: client.metadata().front_channel_token_lifetime,
                scope: client.front_channel_scope().cloned(),
            },
            sector_key,
        })
    }
}

/// Where a redirected error goes.
struct ErrorTarget<'a> {
    redirect_uri: &'a RedirectUri,
    mode: ResponseMode,
    state: Option<&'a str>,
    issuer: &'a str,
}

impl ErrorTarget<'_> {
    /// An error response: `error`, `error_description`, `state` if sent, and `iss`
    /// (OIDC Core §3.1.2.6, RFC 9207 §2; REQUIREMENTS 33, 64, 69).
    fn response(&self, reject: Reject) -> AuthorizationResponse {
        let mut response = AuthorizationResponse::new(self.redirect_uri.clone(), self.mode);
        response.set("error", reject.code().as_str());
        response.set("error_description", reject.description());
        if let Some(state) = self.state {
            response.set("state", state);
        }
        response.set("iss", self.issuer);
        response
    }

    fn error(&self, reject: Reject) -> AuthorizeError {
        AuthorizeError::redirect(reject, self.response(reject))
    }
}

/// An End-User's existing authentication, as the host's session knows it.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Session {
    /// Who is logged in.
    pub subject: Subject,
    /// When they last actively authenticated.
    pub auth_time: UnixTime,
}

impl Session {
    /// A session of `subject` authenticated at `auth_time`.
    #[must_use]
    pub const fn new(subject: Subject, auth_time: UnixTime) -> Self {
        Self { subject, auth_time }
    }
}

/// How the End-User is authenticated in the host's session: who, when, and how.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct Authentication {
    /// The End-User (the `sub` of the ID tokens).
    pub subject: Subject,
    /// When they last actively authenticated (`auth_time`).
    pub auth_time: UnixTime,
    /// The authentication context class satisfied, if any (`acr`).
    pub acr: Option<String>,
    /// The authentication methods used (`amr`, RFC 8176), e.g. `pwd`.
    pub amr: Vec<String>,
    /// The host's refresh-token decision for the approvals it leads to
    /// ([`Approval::refresh_token`]; `None`: OIDC Core §11).
    pub refresh_token: Option<bool>,
    /// The OP session it belongs to ([`Provider::begin_session`](crate::Provider)), carried
    /// into every approval: `sid` in ID tokens, the grant recorded for logout.
    pub sid: Option<SessionId>,
}

impl Authentication {
    /// `subject`, authenticated at `auth_time`.
    #[must_use]
    pub fn new(subject: Subject, auth_time: UnixTime) -> Self {
        Self {
            subject,
            auth_time,
            acr: None,
            amr: Vec::new(),
            refresh_token: None,
            sid: None,
        }
    }

    /// Names its OP session.
    #[must_use]
    pub fn with_session(mut self, sid: SessionId) -> Self {
        self.sid = Some(sid);
        self
    }

    /// Sets the `acr`.
    #[must_use]
    pub fn with_acr(mut self, acr: impl Into<String>) -> Self {
        self.acr = Some(acr.into());
        self
    }

    /// Sets the `amr`.
    #[must_use]
    pub fn with_amr<I: IntoIterator<Item = T>, T: Into<String>>(mut self, amr: I) -> Self {
        self.amr = amr.into_iter().map(Into::into).collect();
        self
    }

    /// The core's view of this authentication, for [`BoundRequest::next_step`].
    #[must_use]
    pub fn session(&self) -> Session {
        Session::new(self.subject.clone(), self.auth_time)
    }

    /// An approval for this authentication, granting the requested scope.
    #[must_use]
    pub fn approval(&self) -> Approval {
        let mut approval =
            Approval::new(self.subject.clone(), self.auth_time).with_amr(self.amr.iter().cloned());
        if let Some(acr) = &self.acr {
            approval = approval.with_acr(acr.clone());
        }
        approval.refresh_token = self.refresh_token;
        approval.sid.clone_from(&self.sid);
        approval
    }
}

/// Whether the End-User has consented to this client and scope.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Consent {
    /// No consent on record.
    Missing,
    /// Consent given earlier and remembered by the host.
    Remembered,
    /// Consent given during this request.
    GivenNow,
}

/// What the host must do next for a bound request.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// Authenticate the End-User (again).
    Login,
    /// Ask for consent.
    Consent,
    /// Nothing: call [`BoundRequest::approve`].
    Approve,
}

/// The host's decision to authorize, after authenticating the End-User and obtaining consent.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct Approval {
    /// The authenticated End-User.
    pub subject: Subject,
    /// When they authenticated.
    pub auth_time: UnixTime,
    /// The authentication context class satisfied, preferably one of the requested
    /// `acr_values` (REQUIREMENTS 82).
    pub acr: Option<String>,
    /// Authentication methods (RFC 8176), e.g. `pwd`.
    pub amr: Vec<String>,
    /// The scope the End-User granted (`None`: all requested). Must keep `openid`.
    pub granted_scope: Option<Scope>,
    /// The host's decision on a refresh token for this grant (decision 0018): `None` follows
    /// OIDC Core §11 — one is issued when `offline_access` was requested with `prompt=consent`
    /// and stays granted; `Some(true)` issues one (e.g. a first-party client, or consent the
    /// host obtained otherwise); `Some(false)` never. Only ever to clients registered with the
    /// `refresh_token` grant, and never in the front channel.
    pub refresh_token: Option<bool>,
    /// The OP session the End-User authenticated in ([`session`](crate::session)): the grant
    /// is recorded with it (for logout), its ID tokens carry it as `sid`, and with Session
    /// Management on, the response carries `session_state`. `None`: no session (no logout
    /// will find the grant).
    pub sid: Option<SessionId>,
}

impl Approval {
    /// An approval for `subject`, authenticated at `auth_time`, granting the requested scope.
    #[must_use]
    pub fn new(subject: Subject, auth_time: UnixTime) -> Self {
        Self {
            subject,
            auth_time,
            acr: None,
            amr: Vec::new(),
            granted_scope: None,
            refresh_token: None,
            sid: None,
        }
    }

    /// Names the OP session the approval is made in (see [`Approval::sid`]).
    #[must_use]
    pub fn with_session(mut self, sid: SessionId) -> Self {
        self.sid = Some(sid);
        self
    }

    /// Decides whether the grant gets a refresh token (see [`Approval::refresh_token`]).
    #[must_use]
    pub fn with_refresh_token(mut self, issue: bool) -> Self {
        self.refresh_token = Some(issue);
        self
    }

    /// Sets the `acr`.
    #[must_use]
    pub fn with_acr(mut self, acr: impl Into<String>) -> Self {
        self.acr = Some(acr.into());
        self
    }

    /// Sets the `amr`.
    #[must_use]
    pub fn with_amr<I: IntoIterator<Item = S>, S: Into<String>>(mut self, amr: I) -> Self {
        self.amr = amr.into_iter().map(Into::into).collect();
        self
    }

    /// Restricts the granted scope.
    #[must_use]
    pub fn with_granted_scope(mut self, scope: Scope) -> Self {
        self.granted_scope = Some(scope);
        self
    }
}

/// An approved authorization: what to persist, then what to send.
#[derive(Debug)]
#[non_exhaustive]
pub struct Approved {
    /// The response to deliver once the records are stored.
    pub response: AuthorizationResponse,
    /// The code's record.
    pub code: CodeRecord,
    /// The front-channel access token's record (`code token`, `code id_token token`).
    pub front_channel_token: Option<AccessTokenRecord>,
    /// The session the grant joins, recorded before the response leaves
    /// ([`Storage::add_session_grant`](crate::Storage::add_session_grant)).
    pub session: Option<(SessionId, SessionGrant)>,
}

impl Approved {
    /// The redirected error that replaces this response when its records could not be stored:
    /// same redirect URI, mode and `state`, no code or token.
    #[must_use]
    pub fn failed(self, reject: Reject, issuer: &str) -> AuthorizeError {
        ErrorTarget {
            redirect_uri: self.response.redirect_uri(),
            mode: self.response.mode(),
            state: self.response.param("state"),
            issuer,
        }
        .error(reject)
    }
}

/// An authorization request bound to its client, with a verified redirect URI.
///
/// It is serialisable so the host can keep it in its server-side session while the End-User
/// logs in and consents (never hand it to the browser: it is trusted state).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct BoundRequest {
    client_id: ClientId,
    client_name: Option<String>,
    redirect_uri: RedirectUri,
    response_type: ResponseType,
    response_mode: ResponseMode,
    state: Option<State>,
    scope: Scope,
    nonce: Option<Nonce>,
    code_challenge: Option<CodeChallenge>,
    prompt: Prompt,
    max_age: Option<u64>,
    id_token_hint: Option<String>,
    hint_subject: Option<Subject>,
    login_hint: Option<String>,
    display: Option<DisplayMode>,
    ui_locales: Vec<String>,
    claims_locales: Vec<String>,
    acr_values: Vec<String>,
    received_at: UnixTime,
    #[serde(default)]
    origin: RequestOrigin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<String>,
    id_token_alg: JwsAlgorithm,
    s_hash: bool,
    /// In the FAPI profile: codes live at most [`fapi::MAX_CODE_LIFETIME`](crate::fapi).
    #[serde(default)]
    fapi: bool,
    refresh_allowed: bool,
    #[serde(default)]
    front_channel: FrontChannelPolicy,
    #[serde(default)]
    claims: ClaimsRequest,
    /// A pairwise client's sector key (OIDC Core §8.1).
    #[serde(default)]
    sector_key: Option<SectorKey>,
    #[serde(default)]
    resources: Vec<String>,
}

/// What a client's registration says about its front-channel access tokens (seed 002: limited
/// in lifetime, scope and audience; RFC 9700 §2.1.2).
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
struct FrontChannelPolicy {
    format: AccessTokenFormat,
    lifetime: Option<u64>,
    scope: Option<Scope>,
}

impl BoundRequest {
    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The client's display name, if registered.
    #[must_use]
    pub fn client_name(&self) -> Option<&str> {
        self.client_name.as_deref()
    }

    /// The verified redirect URI, as requested.
    #[must_use]
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// The response type.
    #[must_use]
    pub fn response_type(&self) -> ResponseType {
        self.response_type
    }

    /// The response mode in effect.
    #[must_use]
    pub fn response_mode(&self) -> ResponseMode {
        self.response_mode
    }

    /// The requested scope (limited to what the client may request).
    #[must_use]
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The `prompt` values.
    #[must_use]
    pub fn prompt(&self) -> Prompt {
        self.prompt
    }

    /// `max_age` in seconds, if sent.
    #[must_use]
    pub fn max_age(&self) -> Option<u64> {
        self.max_age
    }

    /// The raw `id_token_hint`, if sent (see [`BoundRequest::verify_id_token_hint`]).
    #[must_use]
    pub fn id_token_hint(&self) -> Option<&str> {
        self.id_token_hint.as_deref()
    }

    /// The `sub` the client sees for the End-User `subject`: its pairwise value for a pairwise
    /// client (OIDC Core §8.1), else `subject` itself.
    #[must_use]
    pub fn public_subject(&self, subject: &Subject) -> Subject {
        match &self.sector_key {
            Some(key) => key.subject(subject),
            None => subject.clone(),
        }
    }

    /// The subject named by a verified `id_token_hint`: a pairwise value for a pairwise client
    /// (compare it with [`BoundRequest::public_subject`]).
    #[must_use]
    pub fn hint_subject(&self) -> Option<&Subject> {
        self.hint_subject.as_ref()
    }

    /// Step 2b: verifies the `id_token_hint`, if one was sent: one of `keys` (the trusted keys,
    /// [`KeySet::trusted`](crate::keys::KeySet::trusted): active, next and still-retiring ones)
    /// signed it and its `iss` is `issuer`; an expired hint is accepted (OIDC Core §3.1.2.2;
    /// REQUIREMENTS 43–44).
    /// Its `sub` must then be the End-User who approves ([`BoundRequest::hint_subject`]).
    ///
    /// # Errors
    ///
    /// Redirected [`Reject::IdTokenHintInvalid`].
    pub fn verify_id_token_hint<'k>(
        mut self,
        keys: impl Iterator<Item = &'k dyn Signer>,
        issuer: &str,
    ) -> Result<Self, AuthorizeError> {
        let Some(hint) = self.id_token_hint.as_deref() else {
            return Ok(self);
        };
        match crate::id_token::hint_subject(hint, keys, issuer) {
            Some(subject) => {
                self.hint_subject = Some(subject);
                Ok(self)
            }
            None => Err(self.target(issuer).error(Reject::IdTokenHintInvalid)),
        }
    }

    /// `login_hint`, if sent (advisory, OIDC Core §3.1.2.1).
    #[must_use]
    pub fn login_hint(&self) -> Option<&str> {
        self.login_hint.as_deref()
    }

    /// `display`, if sent and known.
    #[must_use]
    pub fn display(&self) -> Option<DisplayMode> {
        self.display
    }

    /// `ui_locales`, in order of preference.
    #[must_use]
    pub fn ui_locales(&self) -> &[String] {
        &self.ui_locales
    }

    /// `claims_locales`, in order of preference.
    #[must_use]
    pub fn claims_locales(&self) -> &[String] {
        &self.claims_locales
    }

    /// `acr_values`, in order of preference.
    #[must_use]
    pub fn acr_values(&self) -> &[String] {
        &self.acr_values
    }

    /// The resources (RFC 8707) the access tokens of this grant are for; empty: the client.
    #[must_use]
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// The `claims` request parameter (OIDC Core §5.5), empty if none was sent.
    #[must_use]
    pub fn claims(&self) -> &ClaimsRequest {
        &self.claims
    }

    /// The `acr` values the `claims` parameter requires as an essential ID token claim (OIDC
    /// Core §5.5.1.1): the host's authentication must satisfy one of them (it may ask for more
    /// factors), or [`BoundRequest::approve`] fails with `access_denied`. Empty: no requirement.
    #[must_use]
    pub fn essential_acr(&self) -> Vec<&str> {
        match self.claims.claim(ClaimsTarget::IdToken, "acr") {
            Some(acr) if acr.is_essential() => {
                acr.wanted().iter().filter_map(|v| v.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The nonce, if sent.
    #[must_use]
    pub fn nonce(&self) -> Option<&Nonce> {
        self.nonce.as_ref()
    }

    /// The state, if sent.
    #[must_use]
    pub fn state(&self) -> Option<&State> {
        self.state.as_ref()
    }

    /// When the request was bound; a login for `prompt=login` or `max_age=0` must be later.
    #[must_use]
    pub fn received_at(&self) -> UnixTime {
        self.received_at
    }

    /// Where the request's parameters came from (query, request object, pushed request).
    #[must_use]
    pub fn origin(&self) -> RequestOrigin {
        self.origin
    }

    /// The algorithm the client's ID tokens use.
    #[must_use]
    pub fn id_token_alg(&self) -> JwsAlgorithm {
        self.id_token_alg
    }

    fn target<'s>(&'s self, issuer: &'s str) -> ErrorTarget<'s> {
        ErrorTarget {
            redirect_uri: &self.redirect_uri,
            mode: self.response_mode,
            state: self.state.as_ref().map(State::as_str),
            issuer,
        }
    }

    /// Whether an authentication at `auth_time` satisfies `prompt=login`, `max_age` and
    /// `id_token_hint` for `subject`.
    ///
    /// `max_age` is measured from the authentication to the moment the request arrived
    /// (OIDC Core §3.1.2.1): a login during the request always satisfies it, however long the
    /// consent page then takes; `max_age=0` therefore behaves exactly like `prompt=login`.
    fn authentication_fresh(&self, subject: &Subject, auth_time: UnixTime) -> Result<(), Reject> {
        if self
            .hint_subject
            .as_ref()
            .is_some_and(|hint| *hint != self.public_subject(subject))
        {
            return Err(Reject::IdTokenHintSubjectMismatch);
        }
        if self.requires_fresh_login() && auth_time < self.received_at {
            return Err(Reject::LoginRequired);
        }
        if let Some(max_age) = self.max_age
            && self.received_at.secs_since(auth_time) > max_age
        {
            return Err(Reject::LoginRequired);
        }
        Ok(())
    }

    /// Whether the approval satisfies the `claims` parameter's demands on the authentication:
    /// an ID token `sub` requested with a value must be the End-User's (OIDC Core §5.5.1), and
    /// an essential `acr` with values must be met, else the authentication failed
    /// (§5.5.1.1).
    fn claims_satisfied(&self, approval: &Approval) -> Result<(), Reject> {
        let sub = self.claims.claim(ClaimsTarget::IdToken, "sub");
        let wanted_sub = sub.map_or(&[][..], |s| s.wanted());
        let subject = self.public_subject(&approval.subject);
        let subject = serde_json::Value::String(subject.as_str().into());
        if !wanted_sub.is_empty() && !wanted_sub.contains(&subject) {
            return Err(Reject::ClaimsSubjectMismatch);
        }
        let essential = self.essential_acr();
        let acr = approval.acr.as_deref().unwrap_or_default();
        if !essential.is_empty() && !essential.contains(&acr) {
            return Err(Reject::AcrNotSatisfied);
        }
        Ok(())
    }

    /// Whether the End-User must authenticate during this request whatever their session:
    /// `prompt=login`, or `max_age=0` (OIDC Core §3.1.2.1). A host's login page for such a
    /// request asks for credentials even when someone is signed in.
    #[must_use]
    pub fn requires_fresh_login(&self) -> bool {
        self.prompt.login || self.max_age == Some(0)
    }

    /// The first step for a request that has just arrived at the authorization endpoint: the
    /// step of [`next_step`](Self::next_step), except that no login can have been made for this
    /// request yet (OIDC Core §3.1.2.1, §3.1.2.3):
    ///
    /// - when it [`requires_fresh_login`](Self::requires_fresh_login), the End-User logs in
    ///   ([`Step::Login`]) even if the session's `auth_time` falls in the second the request
    ///   arrived (times are whole seconds); under `prompt=none` that is `login_required`;
    /// - with `prompt=select_account`, the login page (where an account is chosen) comes
    ///   first, even for a logged-in End-User.
    ///
    /// After the host's page, continue with [`next_step`](Self::next_step).
    ///
    /// # Errors
    ///
    /// As for [`next_step`](Self::next_step), and `login_required` under `prompt=none` when the
    /// request requires a fresh login (`max_age=0`).
    pub fn first_step(
        &self,
        session: Option<&Session>,
        consent: Consent,
        issuer: &str,
    ) -> Result<Step, AuthorizeError> {
        let step = self.next_step(session, consent, issuer)?;
        if self.requires_fresh_login() && self.prompt.none {
            return Err(self.target(issuer).error(Reject::LoginRequired));
        }
        if self.requires_fresh_login() || self.prompt.select_account {
            return Ok(Step::Login);
        }
        Ok(step)
    }

    /// What the host must do next, given the End-User's session and consent
    /// (OIDC Core §3.1.2.3, §3.1.2.4; REQUIREMENTS 35–41, 43).
    ///
    /// `prompt=select_account` is exposed through [`BoundRequest::prompt`]: the host shows its
    /// account chooser (usually on its login page) before asking; it cannot be combined with
    /// `prompt=none`, which [`AuthorizeRequest::parse`] refuses.
    ///
    /// # Errors
    ///
    /// With `prompt=none`, any needed interaction becomes a redirected error:
    /// `login_required` (no session, stale per `max_age`, another user than `id_token_hint`) or
    /// `consent_required`.
    pub fn next_step(
        &self,
        session: Option<&Session>,
        consent: Consent,
        issuer: &str,
    ) -> Result<Step, AuthorizeError> {
        let login = match session {
            None => Some(Reject::LoginRequired),
            Some(s) => self.authentication_fresh(&s.subject, s.auth_time).err(),
        };
        let wants_consent = match consent {
            Consent::Missing => true,
            Consent::Remembered => self.prompt.consent,
            Consent::GivenNow => false,
        };
        let step = match (login, wants_consent) {
            (Some(reject), _) if self.prompt.none => return Err(self.target(issuer).error(reject)),
            (Some(_), _) => Step::Login,
            (None, true) if self.prompt.none => {
                return Err(self.target(issuer).error(Reject::ConsentRequired));
            }
            (None, true) => Step::Consent,
            (None, false) => Step::Approve,
        };
        Ok(step)
    }

    /// Refuses the request with `access_denied` (the End-User declined, OIDC Core §3.1.2.6).
    #[must_use]
    pub fn deny(self, issuer: &str) -> AuthorizationResponse {
        self.reject(Reject::AccessDenied, issuer)
    }

    /// Refuses the request with any reason (e.g. `login_required` decided by the host).
    #[must_use]
    pub fn reject(self, reject: Reject, issuer: &str) -> AuthorizationResponse {
        self.target(issuer).response(reject)
    }

    /// Approves the request: mints the code, the front-channel access token (token-bearing types)
    /// and ID token (`id_token` types), and assembles the response (OIDC Core §3.3.2.5,
    /// §3.3.2.11; REQUIREMENTS 51–57, 74–79, 89–91).
    ///
    /// # Errors
    ///
    /// Redirected errors: [`Reject::LoginRequired`] / [`Reject::IdTokenHintSubjectMismatch`] if
    /// the authentication does not satisfy `prompt=login`, `max_age` or `id_token_hint`;
    /// [`Reject::AccessDenied`] if the granted scope lacks `openid`;
    /// [`Reject::SigningKeyUnavailable`] if no key of `mint` signs with the client's algorithm; [`Reject::ServerError`] if randomness or signing fails.
    pub fn approve(self, approval: Approval, mint: Mint<'_>) -> Result<Approved, AuthorizeError> {
        let config = mint.config;
        let fail = |reject: Reject| self.target(&config.issuer).error(reject);
        self.authentication_fresh(&approval.subject, approval.auth_time)
            .map_err(fail)?;
        self.claims_satisfied(&approval).map_err(fail)?;
        let signer = mint.signer(self.id_token_alg).map_err(fail)?;
        let mut scope = match &approval.granted_scope {
            Some(granted) => self.scope.intersection(granted),
            None => self.scope.clone(),
        };
        if !scope.contains(Scope::OPENID) {
            return Err(fail(Reject::AccessDenied));
        }
        // OIDC Core §11: offline_access only with prompt=consent and a refresh-capable client.
        if !(self.prompt.consent && self.refresh_allowed) {
            scope = scope.without("offline_access");
        }
        let grant_id = mint.grant_id().map_err(fail)?;
        let code = AuthorizationCode::generate(mint.rng).map_err(|_| fail(Reject::ServerError))?;
        let now = mint.now;
        let auth_time_required = self.max_age.is_some();
        // Decision 0018: OIDC Core §11 by default, else the host's decision.
        let refresh_token = self.refresh_allowed
            && approval
                .refresh_token
                .unwrap_or_else(|| scope.contains("offline_access"));
        let sub = self.public_subject(&approval.subject);
        let pairwise_subject = self.sector_key.is_some().then(|| sub.clone());
        let auth_time = (auth_time_required || config.auth_time == AuthTimePolicy::Always)
            .then_some(approval.auth_time);
        // Front-channel tokens: the client's lifetime and scope limits, for the client alone.
        let front_lifetime = self
            .front_channel
            .lifetime
            .map_or(config.front_channel_token_lifetime, |l| {
                l.min(config.front_channel_token_lifetime)
            });
        let front_scope = match &self.front_channel.scope {
            Some(limit) => scope.intersection(limit),
            None => scope.clone(),
        };
        let front_token = if self.response_type.has_token() {
            let scope_text = front_scope.to_string();
            let audience = [self.client_id.as_str().into()];
            let facts = TokenFacts {
                subject: sub.as_str(),
                client_id: self.client_id.as_str(),
                audience: &audience,
                scope: &scope_text,
                lifetime: front_lifetime,
                auth_time,
                acr: approval.acr.as_deref(),
                confirmation: &Confirmation::default(),
            };
            let format = self.front_channel.format;
            Some(mint_access_token(format, &facts, self.id_token_alg, &mint).map_err(fail)?)
        } else {
            None
        };

        let mut response =
            AuthorizationResponse::new(self.redirect_uri.clone(), self.response_mode);
        response.set("code", code.expose());
        if self.response_type.has_id_token() {
            let event = AuthEvent {
                issuer: &config.issuer,
                subject: sub.as_str(),
                client_id: self.client_id.as_str(),
                auth_time,
                nonce: self.nonce.as_ref().map(Nonce::as_str),
                acr: approval.acr.as_deref(),
                amr: &approval.amr,
                sid: approval.sid.as_ref().map(SessionId::as_str),
            };
            let hashed = Hashed {
                code: Some(code.expose()),
                access_token: front_token.as_ref().map(AccessToken::expose),
                state: self
                    .state
                    .as_ref()
                    .filter(|_| self.s_hash)
                    .map(State::as_str),
            };
            let claims = event.claims(now, config.id_token_lifetime, self.id_token_alg, hashed);
            let id_token =
                sign_jwt(signer, &claims, mint.rng).map_err(|_| fail(Reject::ServerError))?;
            response.set("id_token", id_token);
        }
        if let Some(token) = &front_token {
            response.set("access_token", token.expose());
            response.set("token_type", "Bearer");
            response.set("expires_in", front_lifetime.to_string());
            if front_scope != self.scope {
                response.set("scope", front_scope.to_string());
            }
        }
        if let Some(state) = &self.state {
            response.set("state", state.as_str());
        }
        if let (Some(_), Some(sid)) = (&config.check_session_iframe, &approval.sid) {
            let salt =
                crate::secret::random_token(mint.rng).map_err(|_| fail(Reject::ServerError))?;
            let origin = crate::session::origin_of(self.redirect_uri.as_str()).unwrap_or_default();
            let state = session_state(
                self.client_id.as_str(),
                &origin,
                &sid.browser_state(),
                &salt[..22],
            );
            response.set("session_state", state);
        }
        response.set("iss", config.issuer.as_str());

        let front_channel_token = front_token.map(|token| AccessTokenRecord {
            digest: token.digest(),
            grant_id: grant_id.clone(),
            client_id: self.client_id.clone(),
            subject: approval.subject.clone(),
            scope: front_scope,
            issued_at: now,
            expires_at: now.saturating_add_secs(front_lifetime),
            audience: Vec::new(),
            claims: self.claims.clone(),
            pairwise_subject: pairwise_subject.clone(),
            confirmation: Confirmation::default(),
        });
        let session = approval.sid.clone().map(|sid| {
            let grant = SessionGrant {
                grant_id: grant_id.clone(),
                client_id: self.client_id.clone(),
                subject: sub.clone(),
                offline: refresh_token && scope.contains("offline_access"),
            };
            (sid, grant)
        });
        let code = CodeRecord {
            digest: code.digest(),
            grant_id,
            client_id: self.client_id,
            redirect_uri: self.redirect_uri,
            response_type: self.response_type,
            scope,
            nonce: self.nonce,
            subject: approval.subject,
            auth_time: approval.auth_time,
            auth_time_required,
            acr: approval.acr,
            amr: approval.amr,
            code_challenge: self.code_challenge,
            issued_at: now,
            expires_at: now.saturating_add_secs(if self.fapi {
                config.code_lifetime.min(crate::fapi::MAX_CODE_LIFETIME)
            } else {
                config.code_lifetime
            }),
            claims: self.claims,
            pairwise_subject,
            refresh_token,
            resources: self.resources,
            dpop_jkt: self.dpop_jkt,
            sid: approval.sid,
        };
        Ok(Approved {
            response,
            code,
            front_channel_token,
            session,
        })
    }
}
