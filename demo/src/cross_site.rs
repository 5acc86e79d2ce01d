//! A POST authorization request without the sign-in session cookie is answered with a **303**
//! to the same request as a GET (OIDC Core §3.1.2.1 allows both methods); so is a POST logout
//! request to the end-session endpoint (RP-Initiated Logout 1.0 §2 allows both too), which
//! would otherwise not see the session it is to end.
//!
//! The session cookie is `SameSite=Lax`: a browser leaves it out of a POST that another site
//! started, so such a request could not see who is signed in (a `prompt=none` would fail with
//! `login_required`). A top-level GET navigation carries Lax cookies even when another site
//! started it, so the GET of the same parameters sees the session. A POST that carries the
//! cookie is served as it is. See docs/decisions/0010.

use alloc::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use oidc_hybrid::Reject;
use oidc_hybrid::params::MAX_INPUT_LEN;
use oidc_hybrid_axum::{Endpoint, InputRejection};
use tracing::info;

use crate::session::Sessions;

/// Middleware for the whole application; `paths` are the authorization and end-session
/// endpoints' paths.
pub(crate) async fn post_to_get(
    State(paths): State<Arc<[String; 2]>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if request.method() != Method::POST || !paths.contains(&path) {
        return next.run(request).await;
    }
    let authorize = path;
    let (parts, body) = request.into_parts();
    let is_form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if Sessions::session_id(&parts).is_some() || !is_form {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_INPUT_LEN).await else {
        return InputRejection::new(Endpoint::Authorize, Reject::RequestTooLarge).into_response();
    };
    // A form body has the syntax of a query; anything a Location header cannot carry as it
    // is (or a `#`, which would start a fragment) is served as a POST after all.
    let target = core::str::from_utf8(&bytes)
        .ok()
        .filter(|query| !query.contains('#'))
        .and_then(|query| HeaderValue::try_from(format!("{authorize}?{query}")).ok());
    let Some(location) = target else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    info!("POST without the session cookie: answered with a GET of the same request");
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, location),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}
