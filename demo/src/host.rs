//! The demo's [`Host`]: sessions, the login and consent pages and their form handlers.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use core::convert::Infallible;
use core::fmt;
use oidc_hybrid::params::MAX_INPUT_LEN;
use oidc_hybrid::{
    BoundRequest, Claims, ClaimsSource, ClientId, Clock as _, Consent, Scope, Step, Subject,
    SystemClock,
};
use oidc_hybrid_rustcrypto::OsRandom;
use tracing::info;

use crate::clients::PlaygroundClient;
use crate::pages::{self, ConsentPage, Login};
use crate::playground::Rp;
use crate::session::{
    CurrentSession, LoggedIn, Pending, Sessions, clear_cookie, fresh, set_cookie,
};
use crate::users::{self, Users};
use crate::{BUILTIN_USER, DemoStore};
use oidc_hybrid_axum::{Authentication, Endpoints, Host};

/// The demo's endpoints type.
pub(super) type DemoEndpoints<S> = Endpoints<S, SystemClock, OsRandom, DemoHost>;

/// The demo's host: users, sessions, remembered consents and the playground.
pub(super) struct DemoHost {
    base: String,
    secure: bool,
    users: Users,
    pub(super) sessions: Sessions,
    consents: Mutex<HashMap<Subject, Vec<(ClientId, Scope)>>>,
    pub(super) rp: Rp,
}

impl fmt::Debug for DemoHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoHost")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl DemoHost {
    pub(super) fn new(
        issuer: &str,
        users: Users,
        clients: Vec<PlaygroundClient>,
        back_channel: String,
    ) -> Self {
        let base = oidc_hybrid_axum::route_path(issuer)
            .trim_end_matches('/')
            .to_owned();
        Self {
            secure: issuer.starts_with("https://"),
            users,
            sessions: Sessions::default(),
            consents: Mutex::new(HashMap::new()),
            rp: Rp::new(issuer, &base, clients, back_channel),
            base,
        }
    }

    /// The path the issuer's URL has (`""` for an issuer at the root).
    pub(super) fn base_path(&self) -> &str {
        &self.base
    }

    /// The `Set-Cookie` value for session `id`.
    pub(super) fn cookie(&self, id: &str) -> HeaderValue {
        set_cookie(id, &self.base, self.secure)
    }

    /// Drops stale sessions and requests.
    pub(super) fn prune(&self, now: oidc_hybrid::UnixTime) {
        self.sessions.prune(now);
    }

    /// A page with a title and a message.
    pub(super) fn problem(&self, status: StatusCode, title: &str, text: &str) -> Response {
        pages::respond(
            status,
            pages::message(&self.base, title, text),
            &pages::csp(None, None),
        )
    }

    fn remember_consent(&self, subject: &Subject, client: &ClientId, scope: &Scope) {
        let mut consents = self
            .consents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = consents.entry(subject.clone()).or_default();
        list.retain(|(c, _)| c != client);
        list.push((client.clone(), scope.clone()));
    }

    fn login_page(
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
            pages::form_action_source(request.redirect_uri()).as_deref(),
            None,
        );
        pages::respond(StatusCode::OK, html, &csp)
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
        let id = Sessions::id_from(parts)?;
        let user = self
            .sessions
            .with(&id, SystemClock.now(), |s| s.user.clone())
            .flatten()?;
        Some(Authentication::new(user.subject, user.auth_time).with_amr(["pwd"]))
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

    async fn interact(&self, request: BoundRequest, step: Step, parts: &Parts) -> Response {
        let now = SystemClock.now();
        let shown = request.clone();
        let ((interaction, csrf, user), id, created) =
            self.sessions.with_or_create(parts, now, |s| {
                let interaction = s.add_pending(Pending {
                    request,
                    step,
                    created: now,
                });
                (interaction, s.csrf.clone(), s.user.clone())
            });
        let mut response = if step == Step::Consent {
            let html = pages::consent(&ConsentPage {
                base: &self.base,
                client: shown.client_name().unwrap_or(shown.client_id().as_str()),
                scopes: shown.scope().iter().collect(),
                return_to: pages::form_action_source(shown.redirect_uri()).as_deref(),
                user: user.as_ref().map_or("?", |u| u.username.as_str()),
                interaction: &interaction,
                csrf: &csrf,
            });
            let csp = pages::csp(
                pages::form_action_source(shown.redirect_uri()).as_deref(),
                None,
            );
            pages::respond(StatusCode::OK, html, &csp)
        } else {
            let username = shown
                .login_hint()
                .or(user.as_ref().map(|u| u.username.as_str()))
                .unwrap_or_default()
                .to_owned();
            self.login_page(
                &shown,
                &interaction,
                &csrf,
                &username,
                None,
                user.as_ref().map(|u| u.username.as_str()),
            )
        };
        if created {
            response.headers_mut().append(SET_COOKIE, self.cookie(&id));
        }
        response
    }
}

// ---------------------------------------------------------------------------------------------
// Form handling

/// A submitted form's fields.
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    /// The value of a field sent exactly once.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        let mut values = self.0.iter().filter(|(n, _)| n == name);
        let first = values.next()?;
        values.next().is_none().then_some(first.1.as_str())
    }

    /// Every value of a field (checkboxes).
    pub(super) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The pairs.
    pub(super) fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// Parses form-urlencoded text.
    pub(super) fn parse(text: &str) -> Self {
        Self(
            form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect(),
        )
    }
}

/// Reads a form body of at most 16 KiB.
pub(super) async fn read_form(
    host: &DemoHost,
    parts: &Parts,
    body: Body,
) -> Result<Form, Response> {
    let too_large = || {
        host.problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Form too large",
            "The submitted form is larger than 16 KiB.",
        )
    };
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_INPUT_LEN) {
        return Err(too_large());
    }
    let is_form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(host.problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Not a form",
            "Expected an application/x-www-form-urlencoded form.",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_INPUT_LEN)
        .await
        .map_err(|_| too_large())?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        host.problem(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form is not UTF-8.",
        )
    })?;
    Ok(Form::parse(&text))
}

/// Takes the waiting request a login or consent form refers to, after checking the session
/// and the form's CSRF token.
#[allow(
    clippy::result_large_err,
    reason = "the error is the finished page, returned once per request"
)]
fn take_pending(
    host: &DemoHost,
    parts: &Parts,
    form: &Form,
    step: Step,
    now: oidc_hybrid::UnixTime,
) -> Result<(String, String, Pending), Response> {
    let expired = || {
        host.problem(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "This sign-in request has expired or was already answered. Start again from the \
             application.",
        )
    };
    let sid = Sessions::id_from(parts).ok_or_else(expired)?;
    let interaction = form.get("interaction").unwrap_or_default().to_owned();
    let csrf = form.get("csrf").unwrap_or_default();
    let taken = host
        .sessions
        .with(&sid, now, |s| {
            if !s.csrf_ok(csrf) {
                return Err(true);
            }
            s.take_pending(&interaction, step).ok_or(false)
        })
        .ok_or_else(expired)?;
    match taken {
        Ok(pending) if fresh(pending.created, now) => Ok((sid, interaction, pending)),
        Ok(_) | Err(false) => Err(expired()),
        Err(true) => Err(host.problem(
            StatusCode::FORBIDDEN,
            "Form rejected",
            "The form's security token does not match this session (CSRF). Start again from \
             the application.",
        )),
    }
}

/// `POST /login`: checks the password, records the login (a new session id), resumes the
/// authorization flow.
pub(super) async fn login<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let (mut parts, body) = request.into_parts();
    let form = match read_form(host, &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let now = endpoints.now();
    let (sid, interaction, pending) = match take_pending(host, &parts, &form, Step::Login, now) {
        Ok(taken) => taken,
        Err(response) => return response,
    };
    if form.get("cancel").is_some() {
        info!("login cancelled by the user");
        return endpoints.deny(pending.request);
    }
    let username = form.get("username").unwrap_or_default().to_owned();
    let password = form.get("password").unwrap_or_default().to_owned();
    let (user, hash) = host.users.hash_for(&username);
    let user = user.cloned();
    let matches = tokio::task::spawn_blocking(move || users::check(&hash, &password))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| matches) else {
        info!("login failed: wrong username or password");
        let request = pending.request.clone();
        let csrf = host.sessions.with(&sid, now, |s| {
            s.restore_pending(interaction.clone(), pending);
            s.csrf.clone()
        });
        let Some(csrf) = csrf else {
            return host.problem(StatusCode::BAD_REQUEST, "Sign-in expired", "Start again.");
        };
        return host.login_page(
            &request,
            &interaction,
            &csrf,
            &username,
            Some("Wrong username or password."),
            None,
        );
    };
    // A session id that existed before the login never carries it (session fixation).
    let Some(new_sid) = host.sessions.rotate(&sid) else {
        return host.problem(StatusCode::BAD_REQUEST, "Sign-in expired", "Start again.");
    };
    host.sessions.with(&new_sid, now, |s| {
        s.user = Some(LoggedIn {
            username: user.username.clone(),
            subject: user.subject.clone(),
            auth_time: now,
        });
    });
    info!(subject = %user.subject, "login succeeded");
    parts.extensions.insert(CurrentSession(new_sid.clone()));
    let authentication = Authentication::new(user.subject.clone(), now).with_amr(["pwd"]);
    let consent = host.consent(&authentication, &pending.request).await;
    let mut response = endpoints
        .resume(pending.request, Some(&authentication), consent, &parts)
        .await;
    response
        .headers_mut()
        .append(SET_COOKIE, host.cookie(&new_sid));
    response
}

/// `POST /consent`: the first button approves, the second denies.
pub(super) async fn consent<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let (parts, body) = request.into_parts();
    let form = match read_form(host, &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let now = endpoints.now();
    let (sid, interaction, pending) = match take_pending(host, &parts, &form, Step::Consent, now) {
        Ok(taken) => taken,
        Err(response) => return response,
    };
    let user = host.sessions.with(&sid, now, |s| s.user.clone()).flatten();
    let Some(user) = user else {
        return endpoints
            .resume(pending.request, None, Consent::Missing, &parts)
            .await;
    };
    let authentication =
        Authentication::new(user.subject.clone(), user.auth_time).with_amr(["pwd"]);
    match form.get("decision") {
        Some("approve") => {
            host.remember_consent(
                &user.subject,
                pending.request.client_id(),
                pending.request.scope(),
            );
            info!(subject = %user.subject, client_id = %pending.request.client_id(), "consent given");
            endpoints
                .approve(pending.request, authentication.approval())
                .await
        }
        Some("deny") => {
            info!(subject = %user.subject, client_id = %pending.request.client_id(), "consent refused");
            endpoints.deny(pending.request)
        }
        _ => {
            host.sessions
                .with(&sid, now, |s| s.restore_pending(interaction, pending));
            host.problem(
                StatusCode::BAD_REQUEST,
                "No decision",
                "Choose Allow or Deny on the consent page.",
            )
        }
    }
}

/// `POST /logout`: ends the session.
pub(super) async fn logout<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let (parts, body) = request.into_parts();
    let form = match read_form(host, &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Some(sid) = Sessions::id_from(&parts) {
        let csrf_ok = host
            .sessions
            .with(&sid, endpoints.now(), |s| {
                s.csrf_ok(form.get("csrf").unwrap_or_default())
            })
            .unwrap_or(false);
        if !csrf_ok {
            return host.problem(
                StatusCode::FORBIDDEN,
                "Form rejected",
                "The form's security token does not match this session (CSRF).",
            );
        }
        host.sessions.remove(&sid);
        info!("logged out");
    }
    let target = format!("{}/playground", host.base);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::try_from(target) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
        .headers_mut()
        .append(SET_COOKIE, clear_cookie(&host.base, host.secure));
    response
}

/// `GET /`: what the demo is and where things are.
pub(super) async fn index<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let (parts, _) = request.into_parts();
    let issuer = &endpoints.provider().config().issuer;
    let ((csrf, user), sid, created) = host.sessions.with_or_create(&parts, endpoints.now(), |s| {
        (s.csrf.clone(), s.user.clone())
    });
    let esc = oidc_hybrid_axum::respond::escape;
    let base = esc(&host.base);
    let who = match &user {
        Some(user) => format!(
            "<p>Signed in as <strong id=\"signed-in\">{}</strong>.</p>\
             <form method=\"post\" action=\"{base}/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            esc(&user.username),
            esc(&csrf)
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
        issuer = esc(issuer),
    );
    let mut response = pages::respond(
        StatusCode::OK,
        pages::layout(&host.base, "Home", false, &body),
        &pages::csp(None, None),
    );
    if created {
        response.headers_mut().append(SET_COOKIE, host.cookie(&sid));
    }
    response
}
