//! `/playground`: a relying party inside the demo. It starts a flow (response type and mode of
//! the user's choice, with state, nonce and PKCE), receives the response (query, the fragment —
//! relayed by a small inline script — or form_post), and then, in server-side Rust and over
//! HTTP like any RP: validates the front-channel ID token against the provider's JWKS with its
//! `c_hash` / `at_hash` / `s_hash`, redeems the code, validates the second ID token, checks
//! that both ID tokens agree, calls UserInfo and refreshes.
//!
//! The flow can be started as a plain query, as a request object signed by the client
//! (RFC 9101), or pushed first (RFC 9126); the client authenticates with its registered method,
//! `private_key_jwt` and `client_secret_jwt` included.
//!
//! The handlers here keep the flows in the browser's session; `rp` plays the relying party,
//! `jwt` makes its client assertions and request objects, `checks` holds its ID-token checks and
//! `html` renders the pages.

mod checks;
mod html;
mod jwt;
mod rp;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use std::collections::HashMap;
use std::sync::Mutex;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oidc_hybrid::{Clock as _, Config, ResponseMode, SystemClock};
use tracing::info;

use crate::clients::PlaygroundClient;
use crate::form::{Form, read_form};
use crate::pages;
use crate::session::{Sessions, fresh};
use checks::Check;
use oidc_hybrid_axum::respond::escape;
use rp::Rp;

/// The playground: its relying party and the browser sessions it keeps flows in.
#[derive(Debug)]
pub(crate) struct Playground {
    base: String,
    rp: Rp,
    sessions: Arc<Sessions>,
    relay_hash: String,
    /// The last logout notices the playground's clients received: (how, claims, checks).
    logouts: Mutex<VecDeque<(&'static str, serde_json::Value, Vec<Check>)>>,
}

/// How many logout notices the playground shows.
const SHOWN_LOGOUTS: usize = 5;

impl Playground {
    /// The playground of the provider configured by `config` (at path `base`), acting as
    /// `clients` and calling the provider's back-channel endpoints at `back_channel`.
    pub(crate) fn new(
        config: &Config,
        base: &str,
        clients: Vec<PlaygroundClient>,
        back_channel: String,
        sessions: Arc<Sessions>,
    ) -> Self {
        Self {
            base: base.to_owned(),
            rp: Rp::new(config, clients, back_channel),
            sessions,
            relay_hash: html::relay_script_hash(),
            logouts: Mutex::new(VecDeque::new()),
        }
    }

    fn record_logout(&self, how: &'static str, claims: serde_json::Value, checks: Vec<Check>) {
        let mut logouts = self
            .logouts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if logouts.len() == SHOWN_LOGOUTS {
            logouts.pop_back();
        }
        logouts.push_front((how, claims, checks));
    }

    /// The card with the logout link and the notices received.
    fn logout_card(&self) -> String {
        let base = escape(&self.base);
        let client = self.rp.clients.first().map_or("", |c| c.client_id.as_str());
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client)
            .append_pair(
                "post_logout_redirect_uri",
                &format!("{}/playground", self.rp.issuer),
            )
            .append_pair("state", "playground")
            .finish();
        let mut card = format!(
            "<div class=\"card\" id=\"logout\"><h2>Logout</h2><p><a id=\"rp-logout\" \
             href=\"{base}/end_session?{}\">Log out as the relying party</a> \
             (RP-Initiated Logout: the provider asks to confirm, frames the clients' \
             front-channel pages, posts their back-channel logout tokens, and comes back \
             here).</p>",
            escape(&query)
        );
        let logouts = self
            .logouts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if logouts.is_empty() {
            card.push_str("<p class=\"muted\">No logout notice received yet.</p>");
        }
        for (how, claims, checks) in logouts.iter() {
            let ok = checks.iter().all(|c| c.ok);
            card.push_str(&format!(
                "<h3 class=\"logout-notice\" data-ok=\"{ok}\">{} ({})</h3><pre>{}</pre><ul>",
                escape(how),
                if ok { "verified" } else { "rejected" },
                escape(&serde_json::to_string_pretty(claims).unwrap_or_default())
            ));
            for check in checks {
                card.push_str(&format!(
                    "<li data-check=\"{}\">{} {}: {}</li>",
                    escape(&check.id),
                    if check.ok { "✓" } else { "✗" },
                    escape(&check.label),
                    escape(&check.detail)
                ));
            }
            card.push_str("</ul>");
        }
        card.push_str("</div>");
        card
    }

    /// A page of the playground with the demo's layout.
    fn page(&self, title: &str, body: &str, script_hash: Option<&str>) -> Response {
        pages::respond(
            StatusCode::OK,
            pages::layout(&self.base, title, false, body),
            &pages::csp(None, script_hash),
        )
    }

    fn problem(&self, status: StatusCode, title: &str, text: &str) -> Response {
        pages::problem(&self.base, status, title, text)
    }
}

/// The playground's routes under `base`.
pub(crate) fn routes(playground: Arc<Playground>) -> Router {
    let at = |path: &str| format!("{}{path}", playground.base);
    Router::new()
        .route(&at("/playground"), get(page))
        .route(&at("/playground/start"), post(start))
        .route(
            &at("/playground/callback"),
            get(callback_get).post(callback_post),
        )
        .route(&at("/playground/callback/fragment"), post(fragment))
        .route(&at("/playground/backchannel"), post(backchannel))
        .route(&at("/playground/frontchannel"), get(frontchannel))
        .with_state(playground)
}

/// `POST /playground/backchannel`: the playground's clients' `backchannel_logout_uri`. The
/// logout token is validated as Back-Channel Logout 1.0 §2.6 asks (the provider's JWKS and every
/// claim rule) and shown on the playground page; 200 if valid, 400 if not (§2.8).
async fn backchannel(State(playground): State<Arc<Playground>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let form = match read_form(&playground.base, &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let token = form.get("logout_token").unwrap_or_default();
    let keys = playground.rp.jwks().await.unwrap_or_default();
    let clients: Vec<&str> = playground
        .rp
        .clients
        .iter()
        .map(|c| c.client_id.as_str())
        .collect();
    let now = SystemClock.now().as_secs();
    let (claims, checks) =
        checks::validate_logout_token(token, &keys, &playground.rp.issuer, &clients, now);
    let ok = checks.iter().all(|c| c.ok);
    info!(valid = ok, "back-channel logout token received");
    playground.record_logout("back-channel logout token", claims, checks);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, [(axum::http::header::CACHE_CONTROL, "no-store")]).into_response()
}

/// `GET /playground/frontchannel`: the clients' `frontchannel_logout_uri`, framed by the
/// provider's logout page; records `iss` and `sid` (Front-Channel Logout 1.0 §2).
async fn frontchannel(State(playground): State<Arc<Playground>>, request: Request) -> Response {
    let query = request.uri().query().unwrap_or_default();
    let params: serde_json::Map<String, serde_json::Value> =
        form_urlencoded::parse(query.as_bytes())
            .filter(|(name, _)| name == "iss" || name == "sid")
            .map(|(name, value)| (name.into_owned(), value.into_owned().into()))
            .collect();
    let iss_ok = params.get("iss").and_then(|v| v.as_str()) == Some(playground.rp.issuer.as_str());
    let checks = vec![Check::new(
        "frontchannel.iss",
        "iss is the issuer",
        iss_ok,
        String::new(),
    )];
    playground.record_logout("front-channel logout", params.into(), checks);
    (
        StatusCode::OK,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        "logged out",
    )
        .into_response()
}

/// `GET /playground`.
async fn page(State(playground): State<Arc<Playground>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let now = SystemClock.now();
    // A page view creates no server state: the form's token is derived from the interaction
    // cookie, which is set (or renewed) here.
    let iid = Sessions::interaction_id(&parts);
    let csrf = playground.sessions.csrf_for(&iid);
    let user = playground.sessions.user(&parts, now).await;
    let logout_csrf = Sessions::session_id(&parts)
        .map_or_else(String::new, |sid| playground.sessions.csrf_for(&sid));
    let body = html::start_page(&html::StartPage {
        base: &playground.base,
        clients: &playground.rp.clients,
        redirect_uri: &playground.rp.redirect_uri,
        csrf: &csrf,
        user: user.as_ref(),
        logout_csrf: &logout_csrf,
    }) + &playground.logout_card();
    let mut response = playground.page("Playground", &body, None);
    let cookie = playground.sessions.interaction_cookie(&iid);
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

/// `POST /playground/start`: a new flow, then a 303 to the authorization endpoint.
async fn start(State(playground): State<Arc<Playground>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let form = match read_form(&playground.base, &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let now = SystemClock.now();
    let started = match playground.rp.start(&form, now) {
        Ok(started) => started,
        Err(text) => return playground.problem(StatusCode::BAD_REQUEST, "Cannot start", text),
    };
    let (client_id, response_type, mode) = (
        started.flow.client_id.clone(),
        started.flow.response_type,
        started.mode,
    );
    let (par, request_object) = (started.par, started.request_object);
    let csrf = form.get("csrf").unwrap_or_default();
    let iid = Sessions::interaction_of(&parts).filter(|iid| playground.sessions.csrf_ok(iid, csrf));
    let Some(iid) = iid else {
        return playground.problem(
            StatusCode::FORBIDDEN,
            "Form rejected",
            "The form's security token does not match this session (CSRF). Reload the \
             playground and try again.",
        );
    };
    // Signed and pushed only for a form of this session.
    let location = match playground.rp.location(&started, now).await {
        Ok(location) => location,
        Err(text) => return playground.problem(StatusCode::BAD_GATEWAY, "Cannot start", &text),
    };
    playground
        .sessions
        .with_interaction_or_new(&iid, now, |i| i.add_flow(started.state, started.flow));
    info!(
        client_id = %client_id,
        response_type = response_type.as_str(),
        response_mode = mode.as_str(),
        par,
        request_object,
        "playground: flow started"
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::try_from(location) {
        response.headers_mut().insert(LOCATION, location);
    }
    let cookie = playground.sessions.interaction_cookie(&iid);
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

/// `GET /playground/callback`: a query response is processed; otherwise the page relays the
/// fragment.
async fn callback_get(State(playground): State<Arc<Playground>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Some(query) = parts.uri.query().filter(|q| !q.is_empty()) {
        let pairs = Form::parse(query).into_pairs();
        return process(&playground, &parts, ResponseMode::Query, pairs).await;
    }
    let body = html::relay_page(&playground.base);
    playground.page("Receiving", &body, Some(&playground.relay_hash))
}

/// `POST /playground/callback`: a form_post response.
async fn callback_post(State(playground): State<Arc<Playground>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let form = match read_form(&playground.base, &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let pairs = form.into_pairs();
    process(&playground, &parts, ResponseMode::FormPost, pairs).await
}

/// `POST /playground/callback/fragment`: the relayed fragment.
async fn fragment(State(playground): State<Arc<Playground>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let form = match read_form(&playground.base, &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let fragment = form.get("fragment").unwrap_or_default();
    let pairs = Form::parse(fragment).into_pairs();
    process(&playground, &parts, ResponseMode::Fragment, pairs).await
}

/// The parameters of a response, each name once.
fn unique(pairs: Vec<(String, String)>) -> Result<HashMap<String, String>, String> {
    let mut map = HashMap::new();
    for (name, value) in pairs {
        if map.insert(name.clone(), value).is_some() {
            return Err(format!("parameter {name} appears twice"));
        }
    }
    Ok(map)
}

/// A response arrived in `mode`: finds the flow of its `state` in this browser's session, lets
/// the relying party finish it and shows the result.
async fn process(
    playground: &Playground,
    parts: &Parts,
    mode: ResponseMode,
    pairs: Vec<(String, String)>,
) -> Response {
    let now = SystemClock.now();
    let bad = |title: &str, text: &str| playground.problem(StatusCode::BAD_REQUEST, title, text);
    if pairs.is_empty() {
        return bad(
            "Nothing received",
            "The callback received no authorization response parameters.",
        );
    }
    let params = match unique(pairs.clone()) {
        Ok(params) => params,
        Err(e) => return bad("Bad response", &e),
    };
    let state = params.get("state").cloned().unwrap_or_default();
    let flow = Sessions::interaction_of(parts)
        .and_then(|iid| {
            playground
                .sessions
                .with_interaction(&iid, now, |i| i.take_flow(&state))
        })
        .flatten()
        .filter(|f| fresh(f.created, now));
    let Some(flow) = flow else {
        return bad(
            "Unknown state",
            "This response does not belong to a flow started from this browser's playground \
             (or it was already processed, or it expired).",
        );
    };
    let Some(client) = playground.rp.client(&flow.client_id) else {
        return bad("Unknown client", "");
    };
    info!(
        client_id = %flow.client_id,
        response_mode = mode.as_str(),
        "playground: response received"
    );
    let report = playground
        .rp
        .finish(&flow, client, mode, pairs, &params, now)
        .await;
    let (total, failed) = html::counts(&report);
    if let Some(subject) = report.userinfo_sub.as_deref().filter(|s| !s.is_empty()) {
        info!(subject = %subject, checks = total, failed, "playground: flow checked");
    }
    let outcome = html::Outcome {
        base: &playground.base,
        client_id: &flow.client_id,
        response_type: flow.response_type,
        mode,
    };
    playground.page(
        "Playground result",
        &html::result_page(&outcome, &report),
        None,
    )
}
