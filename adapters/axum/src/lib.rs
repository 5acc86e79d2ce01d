//! HTTP endpoints for [`oidc_hybrid`] on [axum]: a thin layer of extractors that read each
//! endpoint's input with its limits, [`IntoResponse`](axum::response::IntoResponse) for the
//! core's answers ([`Reply`]), and a router that strings them together.
//!
//! | route (from the [`Config`](oidc_hybrid::Config) URLs) | methods | input | answer |
//! | --- | --- | --- | --- |
//! | `/authorize` | `GET` (query), `POST` (form) | [`AuthorizeInput`] | a **303** redirect (fragment or query) or a form_post page; the [`Host`]'s login or consent page; errors the client cannot be trusted with are an HTML page, never a redirect |
//! | `/token` | `POST` (form) | [`TokenInput`] | code and refresh grants; JSON with `Cache-Control: no-store`; errors with their status and `WWW-Authenticate` (RFC 6749 §5.2) |
//! | `/userinfo` | `GET`, `POST` | [`UserInfoInput`] | bearer token in the `Authorization` header, or `access_token` in a form body |
//! | `/revoke` | `POST` (form) | [`RevocationInput`] | RFC 7009 revocation |
//! | `/.well-known/openid-configuration`, `/jwks` | `GET`, `OPTIONS` | | discovery and the JWK set, with `Access-Control-Allow-Origin: *` and `Cache-Control: public, max-age=300` |
//!
//! Every route sits at the [`route_path`] of the URL the configuration gives it (for an issuer
//! `https://idp.example/tenant`, the token endpoint is `/tenant/token`).
//!
//! # Limits
//!
//! Request bodies above [`MAX_INPUT_LEN`](oidc_hybrid::params::MAX_INPUT_LEN) (16 KiB) are
//! answered with **413**, an authorization query above that size with **414**. Too many
//! parameters, an over-long value or bad encoding are refused by
//! [`Params::parse`](oidc_hybrid::Params::parse) with a 400 whose text says which limit was
//! hit. The token and revocation endpoints accept only `application/x-www-form-urlencoded`
//! bodies, and at most one `Authorization` header. Such refusals are [`InputRejection`]s.
//!
//! # The interaction boundary
//!
//! The adapter never renders a login or consent page, and decides nothing about them: for each
//! bound authorization request it asks the [`Host`] who is logged in
//! ([`Host::authentication`]) and whether that user already consented ([`Host::consent`]),
//! lets the core decide the [`Step`] ([`BoundRequest::first_step`]), and then either answers at
//! once (approved, or an error such as `login_required` under `prompt=none`) or hands the
//! request to [`Host::interact`], which renders the host's own page and keeps the
//! [`BoundRequest`] in its server-side session.
//!
//! When the user has submitted that page, the host's own route resumes the flow through the
//! [`Endpoints`] handle:
//!
//! - [`Endpoints::resume`] after a login (or any change): the core decides the step again
//!   ([`BoundRequest::next_step`]), so a consent page follows if needed, or the response is
//!   delivered;
//! - [`Endpoints::approve`] with an [`Approval`] (e.g. after consent, with the scope the user
//!   granted);
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
//! use oidc_hybrid_axum::{Authentication, Host, HttpProvider};
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
//! # async fn run(provider: impl HttpProvider) -> std::io::Result<()> {
//! let app = oidc_hybrid_axum::router(Arc::new(provider), MyHost);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! # Logs
//!
//! Each step is logged with [`tracing`] (`target: "oidc_hybrid_axum"`): the endpoint, the
//! client, the response type and mode, the step, the outcome and the error code. At the token
//! and revocation endpoints the client is the `client_id` of the form body, and `basic_auth`
//! says whether an `Authorization` header was sent (its credentials are decoded only by the
//! core). No code, token, secret, password, nonce or state is ever logged. [`trace_layer`]
//! gives a request span that records the method and path only (queries carry `login_hint` and
//! `id_token_hint`).
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod endpoints;
mod extract;
pub mod respond;

use alloc::sync::Arc;
use core::fmt;
use core::future::Future;

use axum::Router;
use axum::body::Bytes;
use axum::http::request::Parts;
use axum::response::Response;
use oidc_hybrid::{
    Approval, BoundRequest, ClaimsSource, Clock, Consent, Provider, SecureRandom, Session, Step,
    Storage, Subject, UnixTime,
};

pub use endpoints::{PathOnlySpan, route_path, trace_layer};
pub use extract::{
    AuthorizeInput, Endpoint, InputRejection, RevocationInput, TokenInput, UserInfoInput,
};
pub use respond::Reply;

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
/// a logged-in user (the login page is where an account is chosen), and so do `prompt=login`
/// and `max_age=0` ([`BoundRequest::requires_fresh_login`]: ask for credentials even when
/// someone is signed in); after the host's login the flow is resumed normally.
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

/// A [`Provider`] the router can serve: its storage, clock and randomness usable from every
/// request's task for the life of the server. It names those bounds once, for every handler;
/// every `Provider<S, C, R>` that meets them implements it.
pub trait HttpProvider: Send + Sync + 'static {
    /// The storage.
    type Storage: Storage + 'static;
    /// The clock.
    type Clock: Clock + Send + Sync + 'static;
    /// The source of randomness.
    type Random: SecureRandom + Send + Sync + 'static;

    /// The provider itself.
    fn provider(&self) -> &Provider<Self::Storage, Self::Clock, Self::Random>;
}

impl<S, C, R> HttpProvider for Provider<S, C, R>
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
{
    type Storage = S;
    type Clock = C;
    type Random = R;

    fn provider(&self) -> &Self {
        self
    }
}

/// The provider, the host and the documents computed once: the state of the [`router`], and
/// the API the host's pages resume authorization flows with. Cloning is cheap (one `Arc`).
pub struct Endpoints<P, H> {
    inner: Arc<Inner<P, H>>,
}

struct Inner<P, H> {
    provider: Arc<P>,
    host: H,
    discovery: Bytes,
    jwks: Bytes,
}

impl<P, H> Clone for Endpoints<P, H> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P, H> fmt::Debug for Endpoints<P, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints").finish_non_exhaustive()
    }
}

impl<P: HttpProvider, H: Host> Endpoints<P, H> {
    /// The endpoints of `provider`, with `host` for login, consent and UserInfo claims.
    pub fn new(provider: Arc<P>, host: H) -> Self {
        let core = provider.provider();
        let discovery = Bytes::from(core.discovery().to_json());
        // A set of public keys always serialises.
        let jwks = Bytes::from(serde_json::to_string(&core.jwks()).unwrap_or_default());
        Self {
            inner: Arc::new(Inner {
                provider,
                host,
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
    pub fn provider(&self) -> &Provider<P::Storage, P::Clock, P::Random> {
        self.inner.provider.provider()
    }

    /// The host.
    pub fn host(&self) -> &H {
        &self.inner.host
    }

    /// The current time, from the provider's clock (for `auth_time` after a login).
    pub fn now(&self) -> UnixTime {
        self.provider().now()
    }

    /// Continues an authorization after the host changed something — typically right after a
    /// successful login: the core decides the step again ([`BoundRequest::next_step`]) with
    /// `authentication` and `consent`, and the result is delivered: a redirect (approved, or a
    /// redirected error) or the host's next page through [`Host::interact`] (e.g. consent).
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
        let session = authentication.map(Authentication::session);
        let issuer = &self.provider().config().issuer;
        let step = request.next_step(session.as_ref(), consent, issuer);
        endpoints::proceed(self, request, step, authentication, parts).await
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
pub fn router<P: HttpProvider, H: Host>(provider: Arc<P>, host: H) -> Router {
    Endpoints::new(provider, host).router()
}
