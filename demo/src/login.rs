//! `POST /login` and `POST /logout`: the password check (Argon2id, a new session id at login)
//! and the end of a session.

use axum::extract::{Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oidc_hybrid::Step;
use oidc_hybrid_axum::{Authentication, Host as _};
use tracing::info;

use crate::DemoStore;
use crate::form::read_form;
use crate::host::DemoEndpoints;
use crate::session::{CurrentSession, LoggedIn, Sessions};
use crate::users;

/// `POST /login`: checks the password, records the login (a new session id), resumes the
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
    let (sid, interaction, pending) = match host.take_pending(&parts, &form, Step::Login, now) {
        Ok(taken) => taken,
        Err(response) => return response,
    };
    if form.get("cancel").is_some() {
        info!("login cancelled by the user");
        return endpoints.deny(pending.request);
    }
    let username = form.get("username").unwrap_or_default().to_owned();
    let password = form.get("password").unwrap_or_default().to_owned();
    let (user, hash) = host.users().hash_for(&username);
    let user = user.cloned();
    let matches = tokio::task::spawn_blocking(move || users::check(&hash, &password))
        .await
        .unwrap_or(false);
    let sessions = host.sessions();
    let Some(user) = user.filter(|_| matches) else {
        info!("login failed: wrong username or password");
        let request = pending.request.clone();
        let csrf = sessions.with(&sid, now, |s| {
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
    let Some(new_sid) = sessions.rotate(&sid) else {
        return host.problem(StatusCode::BAD_REQUEST, "Sign-in expired", "Start again.");
    };
    sessions.with(&new_sid, now, |s| {
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
        .append(SET_COOKIE, sessions.cookie(&new_sid));
    response
}

/// `POST /logout`: ends the session.
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
    if let Some(sid) = Sessions::id_from(&parts) {
        let csrf_ok = sessions
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
        sessions.remove(&sid);
        info!("logged out");
    }
    let target = format!("{}/playground", host.base_path());
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::try_from(target) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
        .headers_mut()
        .append(SET_COOKIE, sessions.clear_cookie());
    response
}
