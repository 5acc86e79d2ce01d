//! The handlers: request bytes in, the core's decisions out as HTTP.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oidc_hybrid::params::MAX_INPUT_LEN;
use oidc_hybrid::{
    Approval, AuthorizationResponse, AuthorizeError, BoundRequest, Clock, Config, Consent,
    Credentials, EndpointError, Params, Reject, SecureRandom, Step, Storage,
};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};
use tracing::{Level, Span, info, warn};

use crate::respond::{self, endpoint_error, error_page, json_no_store};
use crate::{Authentication, Endpoints, Host};

/// The route paths, taken from the configuration's endpoint URLs.
#[derive(Clone, Debug)]
pub(crate) struct Paths {
    authorize: String,
    token: String,
    userinfo: String,
    revoke: String,
    jwks: String,
    discovery: String,
}

/// The route path a configured URL is served at: the path of the absolute URL `url`, without
/// query or fragment (`/` if it has none). An issuer `https://idp.example/tenant` puts the
/// token endpoint at `/tenant/token`; a host mounts its own pages under the same prefix.
#[must_use]
pub fn route_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    if path.is_empty() {
        "/".into()
    } else {
        path.into()
    }
}

impl Paths {
    pub(crate) fn from_config(config: &Config) -> Self {
        Self {
            authorize: route_path(&config.authorization_endpoint),
            token: route_path(&config.token_endpoint),
            userinfo: route_path(&config.userinfo_endpoint),
            revoke: route_path(&config.revocation_endpoint),
            jwks: route_path(&config.jwks_uri),
            discovery: route_path(&config.discovery_url()),
        }
    }
}

pub(crate) fn routes<S, C, R, H>(endpoints: Endpoints<S, C, R, H>) -> Router
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let paths = endpoints.inner.paths.clone();
    Router::new()
        .route(
            &paths.authorize,
            get(authorize_get::<S, C, R, H>).post(authorize_post::<S, C, R, H>),
        )
        .route(&paths.token, post(token::<S, C, R, H>))
        .route(
            &paths.userinfo,
            get(userinfo::<S, C, R, H>).post(userinfo::<S, C, R, H>),
        )
        .route(&paths.revoke, post(revoke::<S, C, R, H>))
        .route(
            &paths.discovery,
            get(discovery::<S, C, R, H>).options(preflight),
        )
        .route(&paths.jwks, get(jwks::<S, C, R, H>).options(preflight))
        .layer(axum::middleware::map_response(respond::harden_html))
        .with_state(endpoints)
}

/// A request span that records the method and the path, never the query (it may carry
/// `login_hint` or `id_token_hint`) nor any header.
#[derive(Clone, Copy, Debug, Default)]
pub struct PathOnlySpan;

impl<B> MakeSpan<B> for PathOnlySpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
        )
    }
}

/// A [`TraceLayer`] for the whole application: one span per request with its method and path
/// ([`PathOnlySpan`]), and the status and latency of each response at `INFO`.
#[must_use]
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, PathOnlySpan> {
    TraceLayer::new_for_http()
        .make_span_with(PathOnlySpan)
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}

// ---------------------------------------------------------------------------------------------
// Request bodies and headers

/// Whether the request declares an `application/x-www-form-urlencoded` body.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Reads a form body: at most [`MAX_INPUT_LEN`] bytes ([`Reject::RequestTooLarge`], answered
/// with 413), declared as `application/x-www-form-urlencoded` and UTF-8
/// ([`Reject::MalformedEncoding`] otherwise).
async fn form_body(parts: &Parts, body: Body) -> Result<String, Reject> {
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_INPUT_LEN as u64) {
        return Err(Reject::RequestTooLarge);
    }
    if !is_form(&parts.headers) {
        return Err(Reject::MalformedEncoding);
    }
    let bytes = axum::body::to_bytes(body, MAX_INPUT_LEN)
        .await
        .map_err(|_| Reject::RequestTooLarge)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| Reject::MalformedEncoding)
}

/// The one `Authorization` header, if any (two are malformed).
fn authorization(headers: &HeaderMap) -> Result<Option<&str>, Reject> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(Reject::MalformedAuthorizationHeader);
    }
    first
        .map(|v| v.to_str().map_err(|_| Reject::MalformedAuthorizationHeader))
        .transpose()
}

/// An endpoint error found before the core was asked: 413 for an oversized body, otherwise the
/// error's own status.
fn endpoint_reject(endpoint: &'static str, reject: Reject) -> Response {
    let error = EndpointError::from(reject);
    info!(
        endpoint,
        error = error.code().as_str(),
        reason = ?reject,
        "request refused"
    );
    let mut response = endpoint_error(&error);
    if reject == Reject::RequestTooLarge {
        *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    }
    response
}

/// The client a token or revocation request names, for the logs (a validated identifier).
fn client_for_log(params: &Params<'_>, authorization: Option<&str>) -> String {
    Credentials::parse(params, authorization)
        .map(|c| c.client_id().to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Authorization endpoint

async fn authorize_get<S, C, R, H>(
    State(endpoints): State<Endpoints<S, C, R, H>>,
    request: Request,
) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let (parts, _) = request.into_parts();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    if query.len() > MAX_INPUT_LEN {
        let mut page = authorize_error(AuthorizeError::from(Reject::RequestTooLarge));
        *page.status_mut() = StatusCode::URI_TOO_LONG;
        return page;
    }
    authorize(&endpoints, &query, &parts).await
}

async fn authorize_post<S, C, R, H>(
    State(endpoints): State<Endpoints<S, C, R, H>>,
    request: Request,
) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let (parts, body) = request.into_parts();
    match form_body(&parts, body).await {
        Ok(body) => authorize(&endpoints, &body, &parts).await,
        Err(reject) => authorize_error(AuthorizeError::from(reject)),
    }
}

async fn authorize<S, C, R, H>(
    endpoints: &Endpoints<S, C, R, H>,
    raw: &str,
    parts: &Parts,
) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let params = match Params::parse(raw) {
        Ok(params) => params,
        Err(reject) => return authorize_error(AuthorizeError::from(reject)),
    };
    let request = match endpoints.provider().authorize(&params).await {
        Ok(request) => request,
        Err(error) => return authorize_error(error),
    };
    info!(
        endpoint = "authorize",
        client_id = %request.client_id(),
        response_type = request.response_type().as_str(),
        response_mode = request.response_mode().as_str(),
        scope = %request.scope(),
        "request bound to its client"
    );
    let host = endpoints.host();
    let authentication = host.authentication(parts).await;
    let consent = match &authentication {
        Some(authentication) => host.consent(authentication, &request).await,
        None => Consent::Missing,
    };
    proceed(
        endpoints,
        request,
        authentication.as_ref(),
        consent,
        parts,
        true,
    )
    .await
}

/// Asks the core for the step and acts on it. `entry`: the request has just arrived.
pub(crate) async fn proceed<S, C, R, H>(
    endpoints: &Endpoints<S, C, R, H>,
    request: BoundRequest,
    authentication: Option<&Authentication>,
    consent: Consent,
    parts: &Parts,
    entry: bool,
) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    // The core decides: on arrival with `first_step` (`prompt=login`, `max_age=0` and
    // `prompt=select_account` start with the login page), afterwards with `next_step`.
    let session = authentication.map(Authentication::session);
    let issuer = &endpoints.provider().config().issuer;
    let step = if entry {
        request.first_step(session.as_ref(), consent, issuer)
    } else {
        request.next_step(session.as_ref(), consent, issuer)
    };
    let step = match step {
        Ok(step) => step,
        Err(error) => return authorize_error(error),
    };
    match (step, authentication) {
        (Step::Approve, Some(authentication)) => {
            approve(endpoints, request, authentication.approval()).await
        }
        (step, _) => {
            let step = if step == Step::Approve {
                Step::Login
            } else {
                step
            };
            info!(
                endpoint = "authorize",
                client_id = %request.client_id(),
                step = ?step,
                "interaction handed to the host"
            );
            endpoints.host().interact(request, step, parts).await
        }
    }
}

pub(crate) async fn approve<S, C, R, H>(
    endpoints: &Endpoints<S, C, R, H>,
    request: BoundRequest,
    approval: Approval,
) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let client_id = request.client_id().clone();
    let subject = approval.subject.clone();
    match endpoints.provider().approve(request, approval).await {
        Ok(response) => {
            info!(
                endpoint = "authorize",
                client_id = %client_id,
                subject = %subject,
                response_mode = response.mode().as_str(),
                "approved; response delivered"
            );
            respond::deliver(&response)
        }
        Err(error) => authorize_error(error),
    }
}

pub(crate) fn deny<S, C, R, H>(endpoints: &Endpoints<S, C, R, H>, request: BoundRequest) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let client_id = request.client_id().clone();
    let response = endpoints.provider().deny(request);
    info!(
        endpoint = "authorize",
        client_id = %client_id,
        error = "access_denied",
        "denied by the end-user; error delivered to the client"
    );
    respond::deliver(&response)
}

fn redirected_error(reject: Reject, response: &AuthorizationResponse) -> Response {
    info!(
        endpoint = "authorize",
        error = reject.code().as_str(),
        reason = ?reject,
        response_mode = response.mode().as_str(),
        "error redirected to the client"
    );
    respond::deliver(response)
}

fn authorize_error(error: AuthorizeError) -> Response {
    let reject = error.reject();
    match error.into_response() {
        Some(response) => redirected_error(reject, &response),
        None => {
            if reject == Reject::ServerError {
                warn!(endpoint = "authorize", "internal failure shown to the user");
            } else {
                info!(
                    endpoint = "authorize",
                    error = reject.code().as_str(),
                    reason = ?reject,
                    "error shown to the user (not redirected)"
                );
            }
            error_page(reject)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Token and revocation endpoints

/// The form parameters and `Authorization` header of a token or revocation request.
async fn client_request(
    endpoint: &'static str,
    request: Request,
) -> Result<(Parts, String), Response> {
    let (parts, body) = request.into_parts();
    let body = form_body(&parts, body)
        .await
        .map_err(|reject| endpoint_reject(endpoint, reject))?;
    authorization(&parts.headers).map_err(|reject| endpoint_reject(endpoint, reject))?;
    Ok((parts, body))
}

async fn token<S, C, R, H>(
    State(endpoints): State<Endpoints<S, C, R, H>>,
    request: Request,
) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let (parts, body) = match client_request("token", request).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let params = match Params::parse(&body) {
        Ok(params) => params,
        Err(reject) => return endpoint_reject("token", reject),
    };
    let authorization = authorization(&parts.headers).unwrap_or_default();
    let client_id = client_for_log(&params, authorization);
    let grant_type = match params.get("grant_type") {
        Ok(Some(grant @ ("authorization_code" | "refresh_token"))) => grant,
        Ok(None) => "",
        _ => "other",
    };
    match endpoints.provider().token(&params, authorization).await {
        Ok(tokens) => {
            info!(
                endpoint = "token",
                client_id,
                grant_type,
                scope = tokens.scope(),
                refresh_token = tokens.refresh_token().is_some(),
                id_token = tokens.id_token().is_some(),
                "tokens issued"
            );
            json_no_store(StatusCode::OK, tokens.to_json())
        }
        Err(error) => {
            info!(
                endpoint = "token",
                client_id,
                grant_type,
                error = error.code().as_str(),
                reason = ?error.reject(),
                status = error.status(),
                "token request refused"
            );
            endpoint_error(&error)
        }
    }
}

async fn revoke<S, C, R, H>(
    State(endpoints): State<Endpoints<S, C, R, H>>,
    request: Request,
) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let (parts, body) = match client_request("revoke", request).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let params = match Params::parse(&body) {
        Ok(params) => params,
        Err(reject) => return endpoint_reject("revoke", reject),
    };
    let authorization = authorization(&parts.headers).unwrap_or_default();
    let client_id = client_for_log(&params, authorization);
    match endpoints.provider().revoke(&params, authorization).await {
        Ok(()) => {
            info!(
                endpoint = "revoke",
                client_id, "revocation request processed"
            );
            (
                StatusCode::OK,
                [
                    (CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    (
                        axum::http::header::PRAGMA,
                        HeaderValue::from_static("no-cache"),
                    ),
                ],
            )
                .into_response()
        }
        Err(error) => {
            info!(
                endpoint = "revoke",
                client_id,
                error = error.code().as_str(),
                reason = ?error.reject(),
                status = error.status(),
                "revocation request refused"
            );
            endpoint_error(&error)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// UserInfo

async fn userinfo<S, C, R, H>(
    State(endpoints): State<Endpoints<S, C, R, H>>,
    request: Request,
) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    let (parts, body) = request.into_parts();
    // RFC 6750 §2.2: the form-encoded body method, for POST with a form content type only.
    let form = if parts.method == Method::POST && is_form(&parts.headers) {
        match form_body(&parts, body).await {
            Ok(form) => Some(form),
            Err(reject) => return endpoint_reject("userinfo", reject),
        }
    } else {
        None
    };
    let params = match form.as_deref().map(Params::parse).transpose() {
        Ok(params) => params,
        Err(reject) => return endpoint_reject("userinfo", reject),
    };
    let authorization = match authorization(&parts.headers) {
        Ok(authorization) => authorization,
        Err(reject) => return endpoint_reject("userinfo", reject),
    };
    match endpoints
        .provider()
        .userinfo(endpoints.host(), authorization, params.as_ref())
        .await
    {
        Ok(claims) => {
            info!(
                endpoint = "userinfo",
                claims = claims.len(),
                "claims released"
            );
            // A JSON object of JSON values always serialises.
            json_no_store(
                StatusCode::OK,
                serde_json::to_string(&claims).unwrap_or_default(),
            )
        }
        Err(error) => {
            info!(
                endpoint = "userinfo",
                error = error.code().as_str(),
                reason = ?error.reject(),
                status = error.status(),
                "userinfo request refused"
            );
            endpoint_error(&error)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery and JWKS

/// Public metadata: JSON, readable from any origin, cacheable for five minutes.
fn public_json(body: String) -> Response {
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn discovery<S, C, R, H>(State(endpoints): State<Endpoints<S, C, R, H>>) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    public_json(endpoints.inner.discovery.clone())
}

async fn jwks<S, C, R, H>(State(endpoints): State<Endpoints<S, C, R, H>>) -> Response
where
    S: Storage + 'static,
    C: Clock + Send + Sync + 'static,
    R: SecureRandom + Send + Sync + 'static,
    H: Host,
{
    public_json(endpoints.inner.jwks.clone())
}

/// The CORS preflight of the two public documents.
async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
            (
                ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, OPTIONS"),
            ),
            (ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("*")),
            (ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400")),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::route_path;

    #[test]
    fn paths_of_urls() {
        assert_eq!(route_path("https://idp.example/token"), "/token");
        assert_eq!(route_path("https://idp.example/t/a/token"), "/t/a/token");
        assert_eq!(route_path("http://127.0.0.1:8080/jwks"), "/jwks");
        assert_eq!(route_path("https://idp.example"), "/");
        assert_eq!(route_path("https://idp.example/x?y#z"), "/x");
    }
}
