#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod endpoints;
mod extract;
pub mod respond;
mod serve;
pub mod throttle;

use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::net::IpAddr;
use core::num::NonZeroUsize;
use core::time::Duration;

use axum::Router;
use axum::http::request::Parts;
use axum::response::Response;
pub use oidc_hybrid::Authentication;
use oidc_hybrid::{
    Approval, BoundRequest, ClaimsSource, ClientId, Clock, Consent, LogoutRequest, Provider,
    Reject, SecureRandom, SessionId, Step, Storage, UnixTime,
};

pub use endpoints::{PathOnlySpan, route_path, trace_layer};
pub use extract::{
    AuthorizeInput, Endpoint, InputRejection, IntrospectionInput, PushInput, RevocationInput,
    TokenInput, UserInfoInput,
};
pub use oidc_hybrid_fetch as fetch;
pub use respond::Reply;
pub use serve::{Timeouts, serve};
use throttle::Backoff;

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

    /// Asks the End-User to confirm a logout that did not name their session
    /// ([`LogoutRequest::needs_confirmation`], RP-Initiated Logout 1.0 §2), keeping `request`
    /// server-side; once confirmed the host answers with [`Endpoints::logout`]. The default
    /// refuses (`interaction_required`).
    fn confirm_logout(
        &self,
        _request: LogoutRequest,
        _parts: &Parts,
    ) -> impl Future<Output = Response> + Send {
        async { respond::error_page(Reject::InteractionRequired) }
    }

    /// Ends the host's own session once the End-User is logged out: typically clears its
    /// cookie on `page` (the logout page). The default changes nothing.
    fn signed_out(&self, parts: &Parts, page: Response) -> impl Future<Output = Response> + Send {
        let _ = parts;
        async { page }
    }
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

/// The provider, the host and the failure counts: the state of the [`router`], and
/// the API the host's pages resume authorization flows with. Cloning is cheap (one `Arc`).
pub struct Endpoints<P, H> {
    inner: Arc<Inner<P, H>>,
}

const MAX_COUNTED_CLIENTS: NonZeroUsize = NonZeroUsize::new(1 << 16).expect("not zero");

struct Inner<P, H> {
    provider: Arc<P>,
    host: H,
    client_auth: Backoff<(ClientId, Option<IpAddr>)>,
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
        Self {
            inner: Arc::new(Inner {
                provider,
                host,
                // Per client and address: 5 free failures, then 1 s, 2 s… up to 5 minutes.
                client_auth: Backoff::new(5, Duration::from_secs(300), MAX_COUNTED_CLIENTS),
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

    /// Logs the End-User out of OP session `sid` ([`Provider::logout`]: the session ends for
    /// every node, its grants as the policy says, the back-channel tokens are queued) and
    /// answers with the logout page: the clients' front-channel pages framed, `done` (host HTML)
    /// shown, then the post-logout redirect of `request`. The host clears its own cookie.
    pub async fn logout(
        &self,
        sid: Option<&SessionId>,
        request: &LogoutRequest,
        done: &str,
    ) -> Response {
        let out = match self.provider().logout(sid, request).await {
            Ok(out) => out,
            Err(reject) => return respond::error_page(reject),
        };
        let (ended, frames, backchannel) = (out.ended, out.frames.len(), out.backchannel);
        tracing::info!(
            endpoint = "end_session",
            ended,
            frames,
            backchannel,
            "logged out"
        );
        let page = respond::html(axum::http::StatusCode::OK, out.html(done));
        endpoints::with_csp(page, &out.content_security_policy())
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
