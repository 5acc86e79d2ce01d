//! Responses: [`Reply`], the HTTP form of every answer of the core — authorization responses
//! (303 redirects and form_post pages), authorization errors (shown or redirected), token and
//! introspection responses, endpoint errors with their challenges, UserInfo claims, discovery
//! and JWKS — and the security headers every HTML page gets, public so hosts render their own
//! pages with the same rules.

use axum::body::Bytes;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION,
    PRAGMA, REFERRER_POLICY, RETRY_AFTER, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use oidc_hybrid::response::{FORM_POST_CSP, error_page_html, push_escaped};
use oidc_hybrid::{
    AuthorizationResponse, AuthorizeError, Claims, EndpointError, Introspection, JwkSet,
    ProviderMetadata, PushedResponse, Reject, TokenResponse,
};

/// A core answer as an HTTP response: `Reply(answer).into_response()`.
///
/// | answer | response |
/// | --- | --- |
/// | [`AuthorizationResponse`] | **303 See Other** to the redirect URI (fragment or query; never 307, which would repost a login form to the client), or the form_post page under [`FORM_POST_CSP`]; `Cache-Control: no-store` |
/// | [`AuthorizeError`] | redirected to the client like a response, or, when the client cannot be trusted with it, an escaped HTML page (400; 500 for `server_error`) |
/// | [`TokenResponse`], [`Introspection`], [`Claims`] | 200 JSON with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1) |
/// | [`PushedResponse`] | **201 Created**, JSON with `Cache-Control: no-store` and `Pragma: no-cache` (RFC 9126 §2.2) |
/// | [`EndpointError`] | its status (401 for `invalid_client` after Basic authentication and for `invalid_token`), its `WWW-Authenticate` challenge and its JSON body (RFC 6749 §5.2, RFC 6750 §3); a request without any token gets the bare `Bearer` challenge and no body (RFC 6750 §3.1) |
/// | [`ProviderMetadata`], [`JwkSet`] | 200 JSON readable from any origin (`Access-Control-Allow-Origin: *`), cacheable for five minutes |
#[derive(Clone, Debug)]
pub struct Reply<T>(pub T);

impl IntoResponse for Reply<AuthorizationResponse> {
    fn into_response(self) -> Response {
        deliver(&self.0)
    }
}

impl IntoResponse for Reply<AuthorizeError> {
    fn into_response(self) -> Response {
        let reject = self.0.reject();
        match self.0.into_response() {
            Some(response) => deliver(&response),
            None => error_page(reject),
        }
    }
}

/// 200 JSON: with `Cache-Control: no-store` for answers that carry or describe tokens or claims
/// ([`json_no_store`]), public and cacheable for the documents ([`public_json`]). Plain strings,
/// numbers and JSON values always serialise.
macro_rules! json_reply {
    ($respond:expr => $($answer:ty),*) => {$(
        impl IntoResponse for Reply<$answer> {
            fn into_response(self) -> Response {
                $respond(serde_json::to_string(&self.0).unwrap_or_default())
            }
        }
    )*};
}

json_reply!(|json| json_no_store(StatusCode::OK, json) => TokenResponse, Introspection, Claims);
json_reply!(|json| json_no_store(StatusCode::CREATED, json) => PushedResponse);
json_reply!(|json: String| public_json(Bytes::from(json)) => ProviderMetadata, JwkSet);

impl IntoResponse for Reply<EndpointError> {
    fn into_response(self) -> Response {
        let error = self.0;
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        // No error information for a request without any authentication (RFC 6750 §3.1).
        let mut response = if error.reject() == Reject::TokenMissing {
            (status, [(CACHE_CONTROL, "no-store")]).into_response()
        } else {
            json_no_store(status, error.to_json())
        };
        if let Some(challenge) = error.www_authenticate() {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

/// Public metadata: JSON, readable from any origin, cacheable for five minutes.
pub(crate) fn public_json(body: Bytes) -> Response {
    let h = HeaderValue::from_static;
    let headers = [
        (CONTENT_TYPE, h(JSON)),
        (ACCESS_CONTROL_ALLOW_ORIGIN, h("*")),
        (CACHE_CONTROL, h("public, max-age=300")),
    ];
    (StatusCode::OK, headers, body).into_response()
}

/// The Content-Security-Policy of the adapter's own pages (error pages): nothing loads, nothing
/// runs, no form posts, no framing.
pub const PAGE_CSP: &str =
    "default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// `text` HTML-escaped for element content or a double-quoted attribute value.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    push_escaped(&mut out, text);
    out
}

/// Delivers an authorization response to the client's verified redirect URI: **303 See Other**
/// with `Location` for the `fragment` and `query` modes, the auto-submitting page for
/// `form_post`.
fn deliver(response: &AuthorizationResponse) -> Response {
    let Some(location) = response.location() else {
        return form_post(response);
    };
    let Ok(location) = HeaderValue::try_from(location) else {
        // The redirect URI was verified and the parameters are form-urlencoded: never expected.
        return error_page(Reject::ServerError);
    };
    let h = HeaderValue::from_static;
    let headers = [
        (LOCATION, location),
        (CACHE_CONTROL, h("no-store")),
        (PRAGMA, h("no-cache")),
        (REFERRER_POLICY, h("no-referrer")),
    ];
    (StatusCode::SEE_OTHER, headers).into_response()
}

/// The form_post page (Form Post Response Mode §2) with its strict CSP (only the submit script
/// runs), `Cache-Control: no-store`, `Pragma: no-cache`, `Referrer-Policy: no-referrer` and
/// `X-Frame-Options: DENY`.
fn form_post(response: &AuthorizationResponse) -> Response {
    let mut page = html(StatusCode::OK, response.form_post_html());
    page.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FORM_POST_CSP),
    );
    page
}

/// An HTML response with the headers of every page: `Content-Type: text/html; charset=utf-8`,
/// `Cache-Control: no-store`, `Pragma: no-cache`, `Referrer-Policy: no-referrer`,
/// `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and [`PAGE_CSP`] (replace it
/// for pages that load styles or post forms).
#[must_use]
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(HTML));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    set_page_headers(headers);
    response
}

fn set_page_headers(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// The HTTP status of an authorization error shown to the user: 500 for `server_error`, 413
/// for a request over the size limit, 400 otherwise.
pub(crate) fn error_status(reject: Reject) -> StatusCode {
    match reject {
        Reject::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        Reject::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The error page for an authorization error that must not be redirected (the client or its
/// redirect URI could not be verified; OIDC Core §3.1.2.6): the error code and its fixed
/// description, escaped, with the status of [`error_status`].
pub(crate) fn error_page(reject: Reject) -> Response {
    html(error_status(reject), error_page_html(reject))
}

/// A JSON response (`application/json`) with `Cache-Control: no-store` and `Pragma: no-cache`
/// (RFC 6749 §5.1: token responses must not be cached).
pub(crate) fn json_no_store(status: StatusCode, body: String) -> Response {
    let h = HeaderValue::from_static;
    let headers = [
        (CONTENT_TYPE, h(JSON)),
        (CACHE_CONTROL, h("no-store")),
        (PRAGMA, h("no-cache")),
    ];
    (status, headers, body).into_response()
}

/// **429** with `Retry-After: secs`: a client that must wait after failed authentications.
pub(crate) fn too_many_attempts(secs: u64) -> Response {
    let json = r#"{"error":"invalid_client","error_description":"too many failed client authentications: retry after the Retry-After delay"}"#;
    let mut response = json_no_store(StatusCode::TOO_MANY_REQUESTS, json.into());
    response.headers_mut().insert(RETRY_AFTER, secs.into());
    response
}

/// Whether the `Content-Type` header names `media` (parameters ignored, case-insensitive).
pub(crate) fn has_media_type(headers: &HeaderMap, media: &str) -> bool {
    let value = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let declared = value.and_then(|v| v.split(';').next());
    declared.is_some_and(|t| t.trim().eq_ignore_ascii_case(media))
}

/// Middleware (use with [`axum::middleware::map_response`]) that gives every HTML response the
/// clickjacking and caching protections a host page needs, without overriding what the page
/// set itself: `X-Frame-Options: DENY`, a `frame-ancestors 'none'` policy (added as a second
/// CSP header when the page's own policy has no `frame-ancestors`), `Cache-Control: no-store`
/// with `Pragma: no-cache`, `Referrer-Policy: no-referrer` and `X-Content-Type-Options: nosniff`.
pub async fn harden_html(mut response: Response) -> Response {
    let (headers, fixed) = (response.headers_mut(), HeaderValue::from_static);
    let is_html = has_media_type(headers, "text/html");
    headers
        .entry(X_CONTENT_TYPE_OPTIONS)
        .or_insert(fixed("nosniff"));
    if !is_html {
        return response;
    }
    headers.entry(X_FRAME_OPTIONS).or_insert(fixed("DENY"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    }
    headers
        .entry(REFERRER_POLICY)
        .or_insert(fixed("no-referrer"));
    let framing_denied = headers
        .get_all(CONTENT_SECURITY_POLICY)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("frame-ancestors")));
    if !framing_denied {
        headers.append(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    response
}
