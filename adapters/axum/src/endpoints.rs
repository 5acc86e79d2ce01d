//! The router and its handlers: an extracted input in, the core's answer out as a [`Reply`],
//! each step logged.

use core::net::IpAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ALLOW, CACHE_CONTROL,
    CONTENT_SECURITY_POLICY, PRAGMA,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oidc_hybrid::logout::{CHECK_SESSION_HTML, SIGNED_OUT_HTML, check_session_csp};
use oidc_hybrid::{
    Approval, AuthorizeError, BoundRequest, ClientId, Config, Consent, Credentials, Disposition,
    EndpointError, ErrorCode, Params, Reject, Step,
};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};
use tracing::{Level, Span, info, warn};

use crate::respond::{self, Reply};
use crate::throttle::Backoff;
use crate::{
    Authentication, AuthorizeInput, Endpoints, Host, HttpProvider, IntrospectionInput, PushInput,
    RevocationInput, TokenInput, UserInfoInput,
};
pub use oidc_hybrid::config::route_path;

pub(crate) fn routes<P: HttpProvider, H: Host>(endpoints: Endpoints<P, H>) -> Router {
    let config: &Config = endpoints.provider().config();
    let par = route_path(&config.pushed_authorization_request_endpoint);
    let revocation = route_path(&config.revocation_endpoint);
    let nonce = || axum::middleware::map_response_with_state(endpoints.clone(), dpop_nonce::<P, H>);
    let end_session = get(end_session::<P, H>).post(end_session::<P, H>);
    let mut router = Router::new()
        .route(
            &route_path(&config.authorization_endpoint),
            get(authorize::<P, H>)
                .post(authorize::<P, H>)
                // A safe method must not bind a request or mint a code (docs/decisions/0011).
                .head(|| async { (StatusCode::METHOD_NOT_ALLOWED, [(ALLOW, "GET, POST")]) }),
        )
        .route(
            &route_path(&config.token_endpoint),
            post(token::<P, H>).layer(nonce()),
        )
        .route(&par, post(push::<P, H>).layer(nonce()))
        .route(
            &route_path(&config.userinfo_endpoint),
            get(userinfo::<P, H>)
                .post(userinfo::<P, H>)
                .layer(nonce())
                .options(|| preflight("GET, POST, OPTIONS", "Authorization, Content-Type, DPoP"))
                .layer(axum::middleware::map_response(any_origin)),
        )
        .route(&revocation, post(revoke::<P, H>))
        .route(
            &route_path(&config.introspection_endpoint),
            post(introspect::<P, H>),
        )
        .route(
            &route_path(&config.discovery_url()),
            get(discovery::<P, H>).options(|| preflight("GET, HEAD, OPTIONS", "*")),
        )
        .route(
            &route_path(&config.jwks_uri),
            get(jwks::<P, H>).options(|| preflight("GET, HEAD, OPTIONS", "*")),
        )
        .route(&route_path(&config.end_session_endpoint), end_session);
    if let Some(url) = &config.check_session_iframe {
        router = router.route(&route_path(url), get(check_session));
    }
    router
        .layer(axum::middleware::map_response(respond::harden_html))
        .with_state(endpoints)
}

/// A fresh `DPoP-Nonce` on every answer of the endpoints that take DPoP proofs, when the
/// configuration demands server nonces (RFC 9449 §8, §9).
async fn dpop_nonce<P: HttpProvider, H: Host>(
    State(endpoints): State<Endpoints<P, H>>,
    mut response: Response,
) -> Response {
    if let Some(value) = (endpoints.provider().dpop_nonce()).and_then(|n| n.try_into().ok()) {
        response.headers_mut().insert("dpop-nonce", value);
    }
    response
}

/// A request span that records the method and the path, never the query (it may carry
/// `login_hint` or `id_token_hint`) nor any header.
#[derive(Clone, Copy, Debug, Default)]
pub struct PathOnlySpan;

impl<B> MakeSpan<B> for PathOnlySpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        let id = request.headers().get("x-request-id");
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = id.and_then(|v| v.to_str().ok()).unwrap_or_default(),
        )
    }
}

/// A [`TraceLayer`] for the whole application: one span per request with its method, path and
/// `x-request-id` ([`PathOnlySpan`]), and the status and latency of each response at `INFO`.
#[must_use]
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, PathOnlySpan> {
    TraceLayer::new_for_http()
        .make_span_with(PathOnlySpan)
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}

// ---------------------------------------------------------------------------------------------
// Authorization endpoint

async fn authorize<P: HttpProvider, H: Host>(
    State(endpoints): State<Endpoints<P, H>>,
    input: AuthorizeInput,
) -> Result<Response, Response> {
    let params = input.params().map_err(IntoResponse::into_response)?;
    let request = endpoints.provider().authorize(&params).await;
    let request = request.map_err(authorize_error)?;
    info!(
        endpoint = "authorize",
        client_id = %request.client_id(),
        response_type = request.response_type().as_str(),
        response_mode = request.response_mode().as_str(),
        scope = %request.scope(),
        "request bound to its client"
    );
    let (host, parts) = (endpoints.host(), input.parts());
    let authentication = host.authentication(parts).await;
    let consent = match &authentication {
        Some(authentication) => host.consent(authentication, &request).await,
        None => Consent::Missing,
    };
    let session = authentication.as_ref().map(Authentication::session);
    let issuer = &endpoints.provider().config().issuer;
    let step = request.first_step(session.as_ref(), consent, issuer);
    Ok(proceed(&endpoints, request, step, authentication.as_ref(), parts).await)
}

/// Acts on the step the core decided: approves, hands the request to the host's page, or
/// delivers the error.
pub(crate) async fn proceed<P: HttpProvider, H: Host>(
    endpoints: &Endpoints<P, H>,
    request: BoundRequest,
    step: Result<Step, AuthorizeError>,
    authentication: Option<&Authentication>,
    parts: &Parts,
) -> Response {
    let step = match step {
        Ok(step) => step,
        Err(error) => return authorize_error(error),
    };
    // The core answers `Approve` only for a session, which only an authentication gives.
    if let (Step::Approve, Some(authentication)) = (step, authentication) {
        return approve(endpoints, request, authentication.approval()).await;
    }
    let client_id = request.client_id();
    info!(endpoint = "authorize", %client_id, ?step, "interaction handed to the host");
    endpoints.host().interact(request, step, parts).await
}

pub(crate) async fn approve<P: HttpProvider, H: Host>(
    endpoints: &Endpoints<P, H>,
    request: BoundRequest,
    approval: Approval,
) -> Response {
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
            Reply(response).into_response()
        }
        Err(error) => authorize_error(error),
    }
}

pub(crate) fn deny<P: HttpProvider, H: Host>(
    endpoints: &Endpoints<P, H>,
    request: BoundRequest,
) -> Response {
    let client_id = request.client_id().clone();
    let response = endpoints.provider().deny(request);
    info!(
        endpoint = "authorize",
        client_id = %client_id,
        error = "access_denied",
        "denied by the end-user; error delivered to the client"
    );
    Reply(response).into_response()
}

/// Logs an authorization error and delivers it: redirected to the client, or shown.
fn authorize_error(error: AuthorizeError) -> Response {
    let reject = error.reject();
    let (endpoint, code) = ("authorize", reject.code().as_str());
    match error.disposition() {
        Disposition::RedirectToClient(response) => {
            let response_mode = response.mode().as_str();
            info!(endpoint, error = code, reason = ?reject, response_mode,
                "error redirected to the client");
        }
        _ if reject == Reject::ServerError => {
            warn!(endpoint, "internal failure shown to the user");
        }
        _ => info!(endpoint, error = code, reason = ?reject,
            "error shown to the user (not redirected)"),
    }
    Reply(error).into_response()
}

// ---------------------------------------------------------------------------------------------
// Logout (RP-Initiated, Front-Channel; Back-Channel through the provider's sender)

/// The end-session endpoint: errors are shown, never redirected; a logout the End-User must
/// confirm goes to the host's page; otherwise the logout page, the host's cookie cleared.
async fn end_session<P: HttpProvider, H: Host>(
    State(endpoints): State<Endpoints<P, H>>,
    input: AuthorizeInput,
) -> Result<Response, Response> {
    let (provider, host, parts) = (endpoints.provider(), endpoints.host(), input.parts());
    let params = input.params().map_err(IntoResponse::into_response)?;
    let request = provider
        .end_session_request(&params)
        .await
        .map_err(|reject| {
            let error = reject.code().as_str();
            info!(endpoint = "end_session", error, reason = ?reject, "logout request refused");
            respond::error_page(reject)
        })?;
    let sid = host.authentication(parts).await.and_then(|a| a.sid);
    let session = match &sid {
        Some(sid) => provider.session(sid).await.unwrap_or_default(),
        None => None,
    };
    if request.needs_confirmation(session.as_ref()) {
        return Ok(host.confirm_logout(request, parts).await);
    }
    let response = endpoints
        .logout(sid.as_ref(), &request, SIGNED_OUT_HTML)
        .await;
    Ok(host.signed_out(parts, response).await)
}

/// The `check_session_iframe` page (Session Management 1.0 §3.3), frameable by any page.
async fn check_session() -> Response {
    let page = respond::html(StatusCode::OK, CHECK_SESSION_HTML.into());
    with_csp(page, &check_session_csp())
}

pub(crate) fn with_csp(mut page: Response, csp: &str) -> Response {
    if let Ok(value) = HeaderValue::try_from(csp) {
        page.headers_mut().insert(CONTENT_SECURITY_POLICY, value);
    }
    page
}

// ---------------------------------------------------------------------------------------------
// Token, revocation and PAR endpoints

/// Runs a token, revocation, PAR or introspection call under the failure count of the
/// (client, address) it names (RFC 6749 §2.3.1; the client as the core reads it from the form
/// or the `Authorization` header): 429 while it must wait; `invalid_client` counts a failure,
/// other answers clear the count. Logs the outcome, never a secret.
async fn counted<T>(
    backoff: &Backoff<(ClientId, Option<IpAddr>)>,
    (endpoint, grant_type): (&str, &str),
    (params, authorization, addr): (&Params<'_>, Option<&str>, Option<IpAddr>),
    call: impl Future<Output = Result<T, EndpointError>>,
) -> Result<T, Response> {
    let credentials = Credentials::parse(params, authorization).ok();
    let client = credentials.map(|c| c.client_id().clone());
    let (client_id, basic_auth) = (
        client.as_ref().map_or("", ClientId::as_str),
        authorization.is_some(),
    );
    let key = client.clone().map(|id| (id, addr));
    if let Some(Err(wait)) = key.as_ref().map(|key| backoff.check(key, Instant::now())) {
        let secs = wait.as_secs() + 1; // Retry-After in whole seconds, rounded up
        info!(
            endpoint,
            client_id,
            retry_after = secs,
            "too many failed authentications"
        );
        return Err(respond::too_many_attempts(secs));
    }
    let result = call.await;
    match (&result, key) {
        (Err(error), Some(key)) if error.code() == ErrorCode::InvalidClient => {
            backoff.fail(key, Instant::now());
        }
        (_, Some(key)) => backoff.succeed(&key),
        _ => {}
    }
    match &result {
        Ok(_) => info!(
            endpoint,
            client_id, basic_auth, grant_type, "request served"
        ),
        Err(error) => {
            let (error_code, reason, status) =
                (error.code().as_str(), error.reject(), error.status());
            info!(endpoint, client_id, basic_auth, grant_type, error = error_code, reason = ?reason,
                status, "request refused");
        }
    }
    result.map_err(|error| Reply(error).into_response())
}

async fn token<P: HttpProvider, H: Host>(
    State(endpoints): State<Endpoints<P, H>>,
    input: TokenInput,
) -> Result<Response, Response> {
    let params = input.params().map_err(IntoResponse::into_response)?;
    let grant_type = match params.get("grant_type") {
        Ok(Some(grant @ ("authorization_code" | "refresh_token"))) => grant,
        Ok(None) => "",
        _ => "other",
    };
    let presented = input.presented();
    let call = (endpoints.provider()).token_with_claims(endpoints.host(), &params, presented);
    let request = (&params, presented.authorization(), input.client_addr());
    let backoff = &endpoints.inner.client_auth;
    let tokens = counted(backoff, ("token", grant_type), request, call).await?;
    info!(
        endpoint = "token",
        scope = tokens.scope(),
        token_type = tokens.token_type(),
        refresh_token = tokens.refresh_token().is_some(),
        id_token = tokens.id_token().is_some(),
        "tokens issued"
    );
    Ok(Reply(tokens).into_response())
}

/// Token revocation (RFC 7009): an empty 200 whatever became of the token.
async fn revoke<P: HttpProvider, H: Host>(
    State(endpoints): State<Endpoints<P, H>>,
    input: RevocationInput,
) -> Result<Response, Response> {
    let params = input.params().map_err(IntoResponse::into_response)?;
    let presented = input.presented();
    let call = endpoints.provider().revoke(&params, presented);
    let request = (&params, presented.authorization(), input.client_addr());
    counted(&endpoints.inner.client_auth, ("revoke", ""), request, call).await?;
    let no_store = [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")];
    Ok((StatusCode::OK, no_store).into_response())
}

/// The pushed authorization request endpoint (RFC 9126): the client authenticates as at the
/// token endpoint (and is throttled the same way); the answer is 201 with the `request_uri`.
async fn push<P: HttpProvider, H: Host>(
    State(endpoints): State<Endpoints<P, H>>,
    input: PushInput,
) -> Result<Response, Response> {
    let params = input.params().map_err(IntoResponse::into_response)?;
    let presented = input.presented();
    let call = endpoints.provider().push(&params, presented);
    let request = (&params, presented.authorization(), input.client_addr());
    let pushed = counted(&endpoints.inner.client_auth, ("par", ""), request, call).await?;
    Ok(Reply(pushed).into_response())
}

/// Token introspection (RFC 7662): who may learn what is the core's rule.
async fn introspect<P: HttpProvider, H: Host>(
    State(endpoints): State<Endpoints<P, H>>,
    input: IntrospectionInput,
) -> Result<Response, Response> {
    let params = input.params().map_err(IntoResponse::into_response)?;
    let presented = input.presented();
    let call = endpoints.provider().introspect(&params, presented);
    let request = (&params, presented.authorization(), input.client_addr());
    let backoff = &endpoints.inner.client_auth;
    let answer = counted(backoff, ("introspect", ""), request, call).await?;
    info!(
        endpoint = "introspect",
        active = answer.active,
        "token introspected"
    );
    Ok(Reply(answer).into_response())
}

// ---------------------------------------------------------------------------------------------
// UserInfo

/// Lets any origin read UserInfo's answers (OIDC Core §5.3.1): it takes bearer tokens, never
/// cookies, so no credentials are allowed (docs/decisions/0012).
async fn any_origin(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    let exposed = HeaderValue::from_static("WWW-Authenticate, DPoP-Nonce");
    headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
    response
}

async fn userinfo<P: HttpProvider, H: Host>(
    State(endpoints): State<Endpoints<P, H>>,
    input: UserInfoInput,
) -> Result<Response, Response> {
    let params = input.params().map_err(IntoResponse::into_response)?;
    let (host, provider, presented) = (endpoints.host(), endpoints.provider(), input.presented());
    let answer = provider.userinfo(host, presented, params.as_ref()).await;
    let claims = answer.map_err(|error| {
        let (code, reason, status) = (error.code().as_str(), error.reject(), error.status());
        info!(endpoint = "userinfo", error = code, reason = ?reason, status, "request refused");
        Reply(error).into_response()
    })?;
    let released = claims.len();
    info!(endpoint = "userinfo", released, "claims released");
    Ok(Reply(claims).into_response())
}

// ---------------------------------------------------------------------------------------------
// Discovery and JWKS (of the moment: keys roll over at runtime, `oidc_hybrid::keys`)

async fn discovery<P: HttpProvider, H: Host>(State(endpoints): State<Endpoints<P, H>>) -> Response {
    Reply(endpoints.provider().discovery()).into_response()
}

async fn jwks<P: HttpProvider, H: Host>(State(endpoints): State<Endpoints<P, H>>) -> Response {
    Reply(endpoints.provider().jwks()).into_response()
}

/// A CORS preflight answer: any origin, `methods`, request `headers`, no credentials.
async fn preflight(methods: &'static str, headers: &'static str) -> Response {
    let origin = (ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    let (methods, headers) = (
        (ACCESS_CONTROL_ALLOW_METHODS, methods),
        (ACCESS_CONTROL_ALLOW_HEADERS, headers),
    );
    let max_age = (ACCESS_CONTROL_MAX_AGE, "86400");
    let headers = [origin, methods, headers, max_age];
    (StatusCode::NO_CONTENT, headers).into_response()
}
