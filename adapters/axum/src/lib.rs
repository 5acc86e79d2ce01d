//! HTTP endpoints for [`oidc_hybrid`] on [axum]: a thin layer that turns requests into the
//! core's [`Params`](oidc_hybrid::Params) and the core's answers into HTTP responses, with the
//! headers each endpoint needs.
//!
//! | route (from the [`Config`](oidc_hybrid::Config) URLs) | methods | what it does |
//! | --- | --- | --- |
//! | `/authorize` | `GET` (query), `POST` (form) | binds the request, asks the [`Host`] for login and consent, answers with a **303** redirect (fragment or query) or a form_post page; errors the client cannot be trusted with are a 400 HTML page, never a redirect |
//! | `/token` | `POST` (form) | code and refresh grants; `client_secret_basic` (the `Authorization` header) or `client_secret_post`; JSON with `Cache-Control: no-store`; errors with their status and `WWW-Authenticate` (RFC 6749 §5.2) |
//! | `/userinfo` | `GET`, `POST` | bearer token in the `Authorization` header, or `access_token` in a form body |
//! | `/revoke` | `POST` (form) | RFC 7009 revocation |
//! | `/.well-known/openid-configuration`, `/jwks` | `GET`, `OPTIONS` | discovery and the JWK set, with `Access-Control-Allow-Origin: *` and `Cache-Control: public, max-age=300` |
//!
//! Every route sits at the path of the URL the configuration gives it (for an issuer
//! `https://idp.example/tenant`, the token endpoint is `/tenant/token`).
//!
//! # Limits
//!
//! Request bodies above [`MAX_INPUT_LEN`](oidc_hybrid::params::MAX_INPUT_LEN) (16 KiB) are
//! answered with **413** (a query string above that size with **414**). Too many parameters, an over-long value or bad encoding are refused
//! by [`Params::parse`](oidc_hybrid::Params::parse) with a 400 whose text says which limit was
//! hit. The token and revocation endpoints accept only
//! `application/x-www-form-urlencoded` bodies.
//!
//! # The interaction boundary
//!
//! The adapter never renders a login or consent page: a [`Host`] does. For each bound
//! authorization request the adapter asks the host who is logged in
//! ([`Host::authentication`]) and whether that user already consented ([`Host::consent`]),
//! lets the core decide the next [`Step`], and then either answers at once
//! (approved, or an error such as `login_required` under `prompt=none`) or hands the request to
//! [`Host::interact`], which renders the host's own page and keeps the
//! [`BoundRequest`] in its server-side session.
//!
//! When the user has submitted that page, the host's own route resumes the flow through the
//! [`Endpoints`] handle:
//!
//! - [`Endpoints::resume`] after a login (or any change): the step is decided again, so a
//!   consent page follows if needed, or the response is delivered;
//! - [`Endpoints::approve`] with an [`Approval`] (e.g. after consent, with
//!   the scope the user granted);
//! - [`Endpoints::deny`] when the user declines (`access_denied` to the client).
//!
//! Each returns the finished HTTP response (a 303, a form_post page or the next page of the
//! host); the host may add its own headers (a session cookie) before sending it.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use axum::http::request::Parts;
//! use axum::response::{Html, IntoResponse, Response};
//! use oidc_hybrid::{BoundRequest, Claims, ClaimsSource, Step, Subject};
//! use oidc_hybrid_axum::{Authentication, Host};
//!
//! struct MyHost;
//!
//! impl ClaimsSource for MyHost {
//!     type Error = core::convert::Infallible;
//!     async fn claims(&self, _subject: &Subject) -> Result<Option<Claims>, Self::Error> {
//!         Ok(Some(Claims::new()))
//!     }
//! }
//!
//! impl Host for MyHost {
//!     async fn authentication(&self, _parts: &Parts) -> Option<Authentication> {
//!         None // read the host's session cookie here
//!     }
//!
//!     async fn interact(&self, request: BoundRequest, step: Step, _parts: &Parts) -> Response {
//!         // keep `request` in the server-side session, then render the page for `step`
//!         let _ = request;
//!         Html(format!("<p>{step:?} page</p>")).into_response()
//!     }
//! }
//!
//! # async fn run<S, C, R>(provider: oidc_hybrid::Provider<S, C, R>) -> std::io::Result<()>
//! # where S: oidc_hybrid::Storage + 'static, C: oidc_hybrid::Clock + Send + Sync + 'static,
//! #       R: oidc_hybrid::SecureRandom + Send + Sync + 'static {
//! let app = oidc_hybrid_axum::router(Arc::new(provider), MyHost);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! # Logs
//!
//! Each step is logged with [`tracing`] (`target: "oidc_hybrid_axum"`): the endpoint, the
//! client, the response type and mode, the step, the outcome and the error code. No code,
//! token, secret, password, nonce or state is ever logged. [`trace_layer`] gives a request span
//! that records the method and path only (queries carry `login_hint` and `id_token_hint`).
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod endpoints;
pub mod respond;

use alloc::sync::Arc;
use core::fmt;
use core::future::Future;

use axum::Router;
use axum::http::request::Parts;
use axum::response::Response;
use oidc_hybrid::{
    Approval, BoundRequest, ClaimsSource, Clock, Consent, Provider, SecureRandom, Session, Step,
    Storage, Subject, UnixTime,
};

pub use endpoints::{PathOnlySpan, route_path, trace_layer};

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
        }
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

    /// The core's view of this authentication, for [`Provider::next_step`].
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
        approval
    }
}

/// The host: its user directory (for UserInfo) and its login and consent pages.
///
/// The adapter calls [`authentication`](Self::authentication) and
/// [`consent`](Self::consent) for every bound authorization request, and
/// [`interact`](Self::interact) when the core says the user must log in or consent. The host
/// resumes the flow from its own routes with [`Endpoints::resume`], [`Endpoints::approve`] or
/// [`Endpoints::deny`].
///
/// `prompt=select_account` arrives at [`interact`](Self::interact) as [`Step::Login`] even for
/// a logged-in user (the login page is where an account is chosen); after the host's login the
/// flow is resumed normally.
pub trait Host: ClaimsSource + Send + Sync + 'static {
    /// The End-User's current authentication in the host's session (e.g. from a cookie in
    /// `parts`), or `None` if nobody is logged in.
    fn authentication(&self, parts: &Parts) -> impl Future<Output = Option<Authentication>> + Send;

    /// Whether `authentication`'s user has already consented to `request`'s client and scope
    /// ([`Consent::Remembered`]) or not ([`Consent::Missing`], the default: ask every time).
    fn consent(
        &self,
        authentication: &Authentication,
        request: &BoundRequest,
    ) -> impl Future<Output = Consent> + Send {
        let _ = (authentication, request);
        async { Consent::Missing }
    }

    /// Shows the page for `step` ([`Step::Login`] or [`Step::Consent`]).
    ///
    /// The host keeps `request` in its server-side session (it is trusted state: never hand
    /// it to the browser), renders its page — protected against CSRF and, through
    /// [`respond::harden_html`], against framing — and later resumes the flow with the
    /// [`Endpoints`] methods.
    fn interact(
        &self,
        request: BoundRequest,
        step: Step,
        parts: &Parts,
    ) -> impl Future<Output = Response> + Send;
}

/// The provider, the host and the route paths: the state of the [`router`], and the API the
/// host's pages resume authorization flows with. Cloning is cheap (one `Arc`).
pub struct Endpoints<S, C, R, H> {
    inner: Arc<Inner<S, C, R, H>>,
}

struct Inner<S, C, R, H> {
    provider: Arc<Provider<S, C, R>>,
    host: H,
    paths: endpoints::Paths,
    discovery: String,
    jwks: String,
}

impl<S, C, R, H> Clone for Endpoints<S, C, R, H> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S, C, R, H> fmt::Debug for Endpoints<S, C, R, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("paths", &self.inner.paths)
            .finish_non_exhaustive()
    }
}

impl<S, C, R, H> Endpoints<S, C, R, H>
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    /// The endpoints of `provider`, with `host` for login, consent and UserInfo claims.
    pub fn new(provider: Arc<Provider<S, C, R>>, host: H) -> Self {
        let paths = endpoints::Paths::from_config(provider.config());
        let discovery = provider.discovery().to_json();
        // A set of public keys always serialises.
        let jwks = serde_json::to_string(&provider.jwks()).unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                provider,
                host,
                paths,
                discovery,
                jwks,
            }),
        }
    }

    /// The routes of the provider's endpoints, with this handle as their state. Merge the
    /// host's own routes (login and consent forms) into it.
    pub fn router(&self) -> Router {
        endpoints::routes(self.clone())
    }

    /// The provider.
    pub fn provider(&self) -> &Provider<S, C, R> {
        &self.inner.provider
    }

    /// The host.
    pub fn host(&self) -> &H {
        &self.inner.host
    }

    /// The current time, from the provider's clock (for `auth_time` after a login).
    pub fn now(&self) -> UnixTime {
        self.inner.provider.now()
    }

    /// Continues an authorization after the host changed something — typically right after a
    /// successful login: the core decides the step again with `authentication` and `consent`
    /// and the result is delivered: a redirect (approved, or a redirected error) or the host's
    /// next page through [`Host::interact`] (e.g. consent).
    ///
    /// `parts` are handed to [`Host::interact`]; a host that just rotated its session cookie
    /// can put what its `interact` needs to find the new session into `parts.extensions`.
    pub async fn resume(
        &self,
        request: BoundRequest,
        authentication: Option<&Authentication>,
        consent: Consent,
        parts: &Parts,
    ) -> Response {
        endpoints::proceed(self, request, authentication, consent, parts, false).await
    }

    /// Approves `request` (after consent) and delivers the authorization response: a 303
    /// redirect, or a form_post page. Errors decided by the core at this point (`prompt=login`
    /// or `max_age` not satisfied by `approval.auth_time`, another user than `id_token_hint`)
    /// are delivered to the client the same way.
    pub async fn approve(&self, request: BoundRequest, approval: Approval) -> Response {
        endpoints::approve(self, request, approval).await
    }

    /// Refuses `request` (`access_denied`: the user declined) and delivers the error response
    /// to the client.
    pub fn deny(&self, request: BoundRequest) -> Response {
        endpoints::deny(self, request)
    }
}

/// The provider's endpoints as a [`Router`], with `host` for login, consent and UserInfo
/// claims. Same as `Endpoints::new(provider, host).router()`; build an [`Endpoints`] yourself
/// when the host's routes need it to resume flows.
pub fn router<S, C, R, H>(provider: Arc<Provider<S, C, R>>, host: H) -> Router
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    Endpoints::new(provider, host).router()
}
