//! `POST /login` and `POST /logout`: the password check (Argon2id under the [`Limits`], a new
//! sign-in session at login) and the end of a session.
//!
//! [`Limits`]: crate::limits::Limits

use core::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::response::Response;
use oidc_hybrid::{LogoutRequest, SessionId, Step};
use oidc_hybrid_axum::respond::escape;
use oidc_hybrid_axum::{Authentication, Host as _};
use tracing::{info, warn};

use crate::DemoStore;
use crate::form::read_form;
use crate::host::DemoEndpoints;
use crate::session::{CurrentSession, LoggedIn, Pending, Sessions};

/// The client's address, when the server gave it (`oidc_hybrid_axum::serve` does).
pub(crate) fn client_addr(parts: &Parts) -> Option<IpAddr> {
    let info = parts.extensions.get::<ConnectInfo<SocketAddr>>()?;
    Some(info.0.ip())
}

/// `POST /login`: checks the password, records the login (a new sign-in session), resumes the
/// authorization flow.
pub(crate) async fn login<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let (mut parts, body) = request.into_parts();
    let form = match read_form(host.base_path(), &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let now = endpoints.now();
    let (iid, waiting, pending) = match host.take_pending(&parts, &form, Step::Login, now) {
        Ok(taken) => taken,
        Err(response) => return response,
    };
    if form.get("cancel").is_some() {
        info!("login cancelled by the user");
        return endpoints.deny(pending.request);
    }
    let username = form.get("username").unwrap_or_default().to_owned();
    let password = form.get("password").unwrap_or_default().to_owned();
    let addr = client_addr(&parts);
    let sessions = host.sessions();
    // The page shown again after a refusal: the request waits again under the same id.
    let again = |pending: Pending, error: &str| {
        let request = pending.request.clone();
        sessions.with_interaction(&iid, now, |i| i.restore_pending(waiting.clone(), pending));
        let csrf = sessions.csrf_for(&iid);
        host.login_page(&request, &waiting, &csrf, &username, Some(error), None)
    };
    if let Err(wait) = host.limits().check(&username, addr) {
        let secs = wait.as_secs() + 1;
        warn!(username = ?username, client_addr = ?addr, retry_after = secs, "login refused: too many failed attempts");
        let text = format!("Too many failed sign-ins. Try again in {secs} seconds.");
        let mut page = again(pending, &text);
        *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        page.headers_mut().insert(RETRY_AFTER, secs.into());
        return page;
    }
    let (user, hash) = host.users().hash_for(&username);
    let user = user.cloned();
    let matches = host.limits().verify(hash, password).await;
    let Some(user) = user.filter(|_| matches) else {
        host.limits().failed(&username, addr);
        warn!(username = ?username, client_addr = ?addr, "login failed: wrong username or password");
        return again(pending, "Wrong username or password.");
    };
    host.limits().succeeded(&username);
    // A session id that existed before the login never carries it (session fixation).
    let previous = Sessions::session_id(&parts);
    let logged_in = LoggedIn {
        username: user.username.clone(),
        subject: user.subject.clone(),
        auth_time: now,
    };
    let sid = sessions.log_in(previous.as_deref(), logged_in, now);
    // The OP session, in the shared store: every node sees it, a restart keeps it.
    let authentication = Authentication::new(user.subject.clone(), now)
        .with_amr(["pwd"])
        .with_session(SessionId::from_secret(&sid));
    if endpoints
        .provider()
        .begin_session(&authentication)
        .await
        .is_err()
    {
        let text = "The sign-in could not be recorded. Try again.";
        return host.problem(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in failed", text);
    }
    info!(subject = %user.subject, username = ?user.username, client_addr = ?addr, "login succeeded");
    parts.extensions.insert(CurrentSession(sid.clone()));
    let consent = host.consent(&authentication, &pending.request).await;
    let mut response = endpoints
        .resume(pending.request, Some(&authentication), consent, &parts)
        .await;
    response
        .headers_mut()
        .append(SET_COOKIE, sessions.session_cookie(&sid));
    response
}

/// `POST /logout`: the demo's own "Sign out" button (its CSRF token bound to the sign-in
/// cookie), or the confirmation of a logout a client asked for (its token bound to the
/// interaction where the request waits). Either ends the OP session for every node — the
/// clients are notified, front- and back-channel — and the sign-in cookie.
pub(crate) async fn logout<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let sessions = host.sessions();
    let (parts, body) = request.into_parts();
    let form = match read_form(host.base_path(), &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let csrf = form.get("csrf").unwrap_or_default();
    let forged = || {
        host.problem(
            StatusCode::FORBIDDEN,
            "Form rejected",
            "The form's security token does not match this session (CSRF).",
        )
    };
    let request = match form.get("logout") {
        Some(waiting) => {
            let iid = Sessions::interaction_of(&parts).unwrap_or_default();
            if !sessions.csrf_ok(&iid, csrf) {
                return forged();
            }
            let now = endpoints.now();
            let taken = sessions.with_interaction(&iid, now, |i| i.take_logout(waiting));
            let Some(request) = taken.flatten() else {
                let text =
                    "This sign-out request has expired. Sign out again from the application.";
                return host.problem(StatusCode::BAD_REQUEST, "Sign-out expired", text);
            };
            if form.get("decision") != Some("logout") {
                info!("logout declined by the user");
                return host.problem(
                    StatusCode::OK,
                    "Still signed in",
                    "You are still signed in.",
                );
            }
            request
        }
        None => match Sessions::session_id(&parts) {
            Some(cookie) if !sessions.csrf_ok(&cookie, csrf) => return forged(),
            _ => LogoutRequest::from_host(),
        },
    };
    let done = format!(
        "<p id=\"signed-out\">You are signed out.</p><p><a href=\"{}/playground\">Back to the \
         playground</a></p>",
        escape(host.base_path())
    );
    let sid = Sessions::sid(&parts);
    let page = endpoints.logout(sid.as_ref(), &request, &done).await;
    info!("logged out");
    host.signed_out(&parts, page).await
}
