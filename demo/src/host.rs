//! The demo's [`Host`]: who is logged in (the session cookie), remembered consents, and the
//! login and consent pages it shows when the core asks for them.

use alloc::sync::Arc;
use core::convert::Infallible;
use core::fmt;
use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::response::Response;
use oidc_hybrid::{
    BoundRequest, Claims, ClaimsSource, ClientId, Clock as _, Consent, LogoutRequest, Provider,
    Scope, SessionId, Step, Subject, SystemClock, UnixTime,
};
use oidc_hybrid_axum::respond::escape;
use oidc_hybrid_axum::{Authentication, Endpoints, Host};
use oidc_hybrid_rustcrypto::OsRandom;

use crate::form::Form;
use crate::limits::Limits;
use crate::pages::{self, ConsentPage, Login};
use crate::session::{Found, LoggedIn, Pending, Sessions, SharedSessions, fresh};
use crate::users::Users;
use crate::{BUILTIN_USER, DemoStore};

/// The demo's endpoints type.
pub(crate) type DemoEndpoints<S> = Endpoints<Provider<S, SystemClock, OsRandom>, DemoHost>;

/// The demo's host: users, sessions, remembered consents, and the limits on password checks.
pub(crate) struct DemoHost {
    base: String,
    users: Users,
    sessions: Arc<Sessions>,
    consents: Mutex<HashMap<Subject, Vec<(ClientId, Scope)>>>,
    limits: Limits,
}

impl fmt::Debug for DemoHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoHost")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl DemoHost {
    /// The host of an issuer whose path is `base`, with `users`, keeping its sessions in
    /// `sessions` (shared with the playground).
    pub(crate) fn new(base: &str, users: Users, sessions: Arc<Sessions>) -> Self {
        Self {
            base: base.to_owned(),
            users,
            sessions,
            consents: Mutex::new(HashMap::new()),
            limits: Limits::new(),
        }
    }

    /// The limits on password checks.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The path the issuer's URL has (`""` for an issuer at the root).
    pub(crate) fn base_path(&self) -> &str {
        &self.base
    }

    /// The browser sessions.
    pub(crate) fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The user directory.
    pub(crate) fn users(&self) -> &Users {
        &self.users
    }

    /// Drops stale sessions and requests.
    pub(crate) fn prune(&self, now: UnixTime) {
        self.sessions.prune(now);
    }

    /// A page with a title and a message.
    pub(crate) fn problem(&self, status: StatusCode, title: &str, text: &str) -> Response {
        pages::problem(&self.base, status, title, text)
    }

    /// Remembers that `subject` consented to `scope` for `client` (replacing an earlier one).
    pub(crate) fn remember_consent(&self, subject: &Subject, client: &ClientId, scope: &Scope) {
        let mut consents = self
            .consents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = consents.entry(subject.clone()).or_default();
        list.retain(|(c, _)| c != client);
        list.push((client.clone(), scope.clone()));
    }

    /// The login page for `request`, waiting under `interaction`.
    pub(crate) fn login_page(
        &self,
        request: &BoundRequest,
        interaction: &str,
        csrf: &str,
        username: &str,
        error: Option<&str>,
        signed_in_as: Option<&str>,
    ) -> Response {
        let html = pages::login(&Login {
            base: &self.base,
            client: request
                .client_name()
                .unwrap_or(request.client_id().as_str()),
            interaction,
            csrf,
            username,
            error,
            demo_hint: self.users.builtin,
            signed_in_as,
        });
        let csp = pages::csp(
            pages::form_action_source(request.redirect_uri().as_str()).as_deref(),
            None,
        );
        pages::respond(StatusCode::OK, html, &csp)
    }

    /// The consent page for `request`, waiting under `interaction`.
    fn consent_page(
        &self,
        request: &BoundRequest,
        interaction: &str,
        csrf: &str,
        user: Option<&LoggedIn>,
    ) -> Response {
        let return_to = pages::form_action_source(request.redirect_uri().as_str());
        let html = pages::consent(&ConsentPage {
            base: &self.base,
            client: request
                .client_name()
                .unwrap_or(request.client_id().as_str()),
            scopes: request.scope().iter().collect(),
            return_to: return_to.as_deref(),
            user: user.map_or("?", |u| u.username.as_str()),
            interaction,
            csrf,
        });
        pages::respond(
            StatusCode::OK,
            html,
            &pages::csp(return_to.as_deref(), None),
        )
    }

    /// Takes the waiting request a login or consent form refers to, after checking the
    /// interaction cookie and the form's CSRF token; returns the interaction (the cookie's
    /// value), the waiting request's id and the request.
    #[allow(
        clippy::result_large_err,
        reason = "the error is the finished page, returned once per request"
    )]
    pub(crate) fn take_pending(
        &self,
        parts: &Parts,
        form: &Form,
        step: Step,
        now: UnixTime,
    ) -> Result<(String, String, Pending), Response> {
        let expired = || {
            self.problem(
                StatusCode::BAD_REQUEST,
                "Sign-in expired",
                "This sign-in request has expired or was already answered. Start again from \
                 the application.",
            )
        };
        let iid = Sessions::interaction_of(parts).ok_or_else(expired)?;
        if !self
            .sessions
            .csrf_ok(&iid, form.get("csrf").unwrap_or_default())
        {
            return Err(self.problem(
                StatusCode::FORBIDDEN,
                "Form rejected",
                "The form's security token does not match this browser's sign-in (CSRF). Start \
                 again from the application.",
            ));
        }
        let waiting = form.get("interaction").unwrap_or_default().to_owned();
        let pending = self
            .sessions
            .with_interaction(&iid, now, |i| i.take_pending(&waiting, step))
            .flatten()
            .filter(|pending| fresh(pending.created, now))
            .ok_or_else(expired)?;
        Ok((iid, waiting, pending))
    }
}

impl ClaimsSource for DemoHost {
    type Error = Infallible;

    async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Infallible> {
        Ok(self.users.by_subject(subject).map(|u| u.claims.clone()))
    }
}

impl Host for DemoHost {
    async fn authentication(&self, parts: &Parts) -> Option<Authentication> {
        let user = self.sessions.user(parts, SystemClock.now()).await?;
        let mut authentication =
            Authentication::new(user.subject, user.auth_time).with_amr(["pwd"]);
        authentication.sid = Sessions::sid(parts);
        Some(authentication)
    }

    async fn consent(&self, authentication: &Authentication, request: &BoundRequest) -> Consent {
        let consents = self
            .consents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let remembered = consents.get(&authentication.subject).is_some_and(|list| {
            list.iter().any(|(client, scope)| {
                client == request.client_id() && request.scope().is_subset_of(scope)
            })
        });
        if remembered {
            Consent::Remembered
        } else {
            Consent::Missing
        }
    }

    /// The login or consent page. The request waits in the browser's interaction (its own
    /// cookie, created here if needed); the sign-in session cookie is never set here.
    async fn interact(&self, request: BoundRequest, step: Step, parts: &Parts) -> Response {
        let now = SystemClock.now();
        let shown = request.clone();
        let iid = Sessions::interaction_id(parts);
        let pending = Pending {
            request,
            step,
            created: now,
        };
        let waiting = self
            .sessions
            .with_interaction_or_new(&iid, now, |i| i.add_pending(pending));
        let csrf = self.sessions.csrf_for(&iid);
        let user = self.sessions.user(parts, now).await;
        let mut response = if step == Step::Consent {
            self.consent_page(&shown, &waiting, &csrf, user.as_ref())
        } else {
            let signed_in_as = user.as_ref().map(|u| u.username.as_str());
            let username = shown.login_hint().or(signed_in_as).unwrap_or_default();
            self.login_page(&shown, &waiting, &csrf, username, None, signed_in_as)
        };
        response
            .headers_mut()
            .append(SET_COOKIE, self.sessions.interaction_cookie(&iid));
        response
    }

    /// The logout confirmation page (RP-Initiated Logout 1.0 §2): the request waits in the
    /// browser's interaction; `POST /logout` with its id logs out.
    async fn confirm_logout(&self, request: LogoutRequest, parts: &Parts) -> Response {
        let now = SystemClock.now();
        let iid = Sessions::interaction_id(parts);
        let waiting = self
            .sessions
            .with_interaction_or_new(&iid, now, |i| i.add_logout(request));
        let csrf = self.sessions.csrf_for(&iid);
        let mut response = pages::confirm_logout(&self.base, &waiting, &csrf);
        response
            .headers_mut()
            .append(SET_COOKIE, self.sessions.interaction_cookie(&iid));
        response
    }

    /// Ends the sign-in cookie with the OP session.
    async fn signed_out(&self, parts: &Parts, mut page: Response) -> Response {
        if let Some(cookie) = Sessions::session_id(parts) {
            self.sessions.log_out(&cookie);
        }
        let clear = self.sessions.clear_session_cookie();
        page.headers_mut().append(SET_COOKIE, clear);
        page
    }
}

/// The store's sessions for the demo's [`Sessions`]: the provider's (touched on each use) with
/// the user names of the directory.
pub(crate) struct StoreSessions<S: DemoStore> {
    pub(crate) provider: Arc<Provider<S, SystemClock, OsRandom>>,
    pub(crate) names: HashMap<Subject, String>,
}

impl<S: DemoStore> SharedSessions for StoreSessions<S> {
    fn find<'a>(&'a self, sid: &'a SessionId) -> Found<'a> {
        Box::pin(async move {
            let record = self.provider.session(sid).await.ok().flatten()?;
            let name = self.names.get(&record.subject)?.clone();
            Some((record, name))
        })
    }
}

/// `GET /`: what the demo is and where things are.
pub(crate) async fn index<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let (parts, _) = request.into_parts();
    let issuer = &endpoints.provider().config().issuer;
    // A page view creates no state: the logout form's token is derived from the cookie.
    let user = host.sessions.user(&parts, endpoints.now()).await;
    let csrf =
        Sessions::session_id(&parts).map_or_else(String::new, |sid| host.sessions.csrf_for(&sid));
    let base = escape(&host.base);
    let who = match &user {
        Some(user) => format!(
            "<p>Signed in as <strong id=\"signed-in\">{}</strong>.</p>\
             <form method=\"post\" action=\"{base}/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            escape(&user.username),
            escape(&csrf)
        ),
        None => "<p class=\"muted\">Not signed in.</p>".into(),
    };
    let demo_user = if host.users.builtin {
        format!(
            "<p class=\"hint\">Demo user: <code>{}</code> / <code>{}</code></p>",
            BUILTIN_USER.0, BUILTIN_USER.1
        )
    } else {
        String::new()
    };
    let body = format!(
        "<div class=\"card\"><h1>oidc-hybrid demo OpenID Provider</h1>\
         <p>An OpenID Provider for the hybrid flow (<code>code id_token</code>, \
         <code>code token</code>, <code>code id_token token</code>) built on the \
         <code>oidc-hybrid</code> core and its axum adapter.</p>\
         <table><tr><th>Issuer</th><td><code>{issuer}</code></td></tr>\
         <tr><th>Discovery</th><td><a href=\"{base}/.well-known/openid-configuration\">\
         /.well-known/openid-configuration</a></td></tr>\
         <tr><th>JWK set</th><td><a href=\"{base}/jwks\">/jwks</a></td></tr></table>\
         <p><a href=\"{base}/playground\">Open the playground</a> to run a flow as a relying \
         party and see every check.</p></div>\
         <div class=\"card\"><h2>Session</h2>{who}{demo_user}</div>",
        issuer = escape(issuer),
    );
    pages::respond(
        StatusCode::OK,
        pages::layout(&host.base, "Home", false, &body),
        &pages::csp(None, None),
    )
}
