//! `/playground`: a relying party inside the demo. It starts a flow (response type and mode of
//! the user's choice, with state, nonce and PKCE), receives the response (query, the fragment —
//! relayed by a small inline script — or form_post), and then, in server-side Rust and over
//! HTTP like any RP: validates the front-channel ID token against the provider's JWKS with its
//! `c_hash` / `at_hash` / `s_hash`, redeems the code, validates the second ID token, checks
//! that both ID tokens agree, calls UserInfo and refreshes.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use core::time::Duration;
use oidc_hybrid::{
    Config, JwkSet, JwsAlgorithm, ResponseMode, ResponseType, TokenEndpointAuthMethod, UnixTime,
};
use oidc_hybrid_rustcrypto::PublicKey;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tracing::info;

use crate::DemoStore;
use crate::clients::{PlaygroundClient, callback};
use crate::host::{DemoEndpoints, Form, read_form};
use crate::pages;
use crate::session::{Sessions, fresh, random_token};
use oidc_hybrid_axum::respond::escape;
use oidc_hybrid_axum::route_path;

/// The relay page's script: posts the fragment to the server, then forgets it.
const RELAY_SCRIPT: &str = "var f=document.getElementById('relay');\
f.elements.namedItem('fragment').value=location.hash.slice(1);\
history.replaceState(null,'',location.pathname);f.submit();";

/// Scope values the playground offers besides `openid`.
const SCOPES: [&str; 5] = ["profile", "email", "address", "phone", "offline_access"];

/// A flow started by the playground, waiting for its response.
#[derive(Clone, Debug)]
pub(super) struct Flow {
    client_id: String,
    response_type: ResponseType,
    nonce: String,
    verifier: String,
    pub(super) created: UnixTime,
}

/// The playground's configuration and HTTP client.
#[derive(Debug)]
pub(super) struct Rp {
    issuer: String,
    base: String,
    redirect_uri: String,
    clients: Vec<PlaygroundClient>,
    back_channel: String,
    http: Option<reqwest::Client>,
    relay_hash: String,
}

impl Rp {
    pub(super) fn new(
        issuer: &str,
        base: &str,
        clients: Vec<PlaygroundClient>,
        back_channel: String,
    ) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .ok();
        let relay_hash = format!(
            "sha256-{}",
            Base64::encode_string(&Sha256::digest(RELAY_SCRIPT.as_bytes()))
        );
        Self {
            issuer: issuer.to_owned(),
            base: base.to_owned(),
            redirect_uri: callback(issuer),
            clients,
            back_channel,
            http,
            relay_hash,
        }
    }

    fn client(&self, id: &str) -> Option<&PlaygroundClient> {
        self.clients.iter().find(|c| c.client_id == id)
    }

    /// The back-channel URL of an endpoint: its path, on the local listener.
    fn url(&self, endpoint: &str) -> String {
        format!("{}{}", self.back_channel, route_path(endpoint))
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<(u16, String), String> {
        let response = request
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| format!("reading the response failed: {e}"))?;
        Ok((status, text))
    }

    fn http(&self) -> Result<&reqwest::Client, String> {
        self.http
            .as_ref()
            .ok_or_else(|| "the HTTP client could not be built".to_owned())
    }

    async fn jwks(&self, config: &Config) -> Result<Vec<PublicKey>, String> {
        let (status, text) = self
            .call(self.http()?.get(self.url(&config.jwks_uri)))
            .await?;
        if status != 200 {
            return Err(format!("JWKS answered {status}"));
        }
        let set: JwkSet =
            serde_json::from_str(&text).map_err(|e| format!("JWKS is not a JWK set: {e}"))?;
        set.keys
            .iter()
            .map(|jwk| {
                PublicKey::from_jwk(jwk).map_err(|e| format!("unusable key {}: {e}", jwk.kid))
            })
            .collect()
    }

    /// A token request as `client` (its registered authentication method).
    async fn token(
        &self,
        config: &Config,
        client: &PlaygroundClient,
        mut pairs: Vec<(&str, &str)>,
    ) -> Result<(u16, Value), String> {
        let mut request = self
            .http()?
            .post(self.url(&config.token_endpoint))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        let secret = client.secret.as_deref().unwrap_or_default();
        match client.method {
            TokenEndpointAuthMethod::ClientSecretBasic => {
                let encode =
                    |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let credentials = format!("{}:{}", encode(&client.client_id), encode(secret));
                request = request.header(
                    AUTHORIZATION,
                    format!("Basic {}", Base64::encode_string(credentials.as_bytes())),
                );
            }
            TokenEndpointAuthMethod::ClientSecretPost => {
                pairs.push(("client_id", &client.client_id));
                pairs.push(("client_secret", secret));
            }
            _ => pairs.push(("client_id", &client.client_id)),
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let (status, text) = self.call(request.body(body)).await?;
        let json = serde_json::from_str(&text)
            .map_err(|_| format!("the token endpoint answered {status} with no JSON"))?;
        Ok((status, json))
    }

    async fn userinfo(&self, config: &Config, access_token: &str) -> Result<(u16, Value), String> {
        let request = self
            .http()?
            .get(self.url(&config.userinfo_endpoint))
            .header(AUTHORIZATION, format!("Bearer {access_token}"));
        let (status, text) = self.call(request).await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, json))
    }
}

// ---------------------------------------------------------------------------------------------
// Pages

fn page_response(rp: &Rp, status: StatusCode, title: &str, body: &str) -> Response {
    pages::respond(
        status,
        pages::layout(&rp.base, title, false, body),
        &pages::csp(None, None),
    )
}

fn problem(rp: &Rp, status: StatusCode, title: &str, text: &str) -> Response {
    pages::respond(
        status,
        pages::message(&rp.base, title, text),
        &pages::csp(None, None),
    )
}

/// `GET /playground`.
pub(super) async fn page<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let rp = &host.rp;
    let (parts, _) = request.into_parts();
    let ((csrf, user), sid, created) = host.sessions.with_or_create(&parts, endpoints.now(), |s| {
        (s.csrf.clone(), s.user.clone())
    });
    let base = escape(&rp.base);
    let clients: String = rp
        .clients
        .iter()
        .map(|c| {
            format!(
                "<option value=\"{}\">{}</option>",
                escape(&c.client_id),
                escape(&c.name)
            )
        })
        .collect();
    let scopes: String = SCOPES
        .iter()
        .map(|s| {
            let checked = if *s == "offline_access" {
                ""
            } else {
                " checked"
            };
            format!(
                "<label><input type=\"checkbox\" name=\"scope\" value=\"{s}\"{checked}> {s}</label>"
            )
        })
        .collect();
    let session = match &user {
        Some(user) => format!(
            "<p>Signed in at the provider as <strong id=\"signed-in\">{}</strong> \
             (<code>auth_time</code> {}).</p>\
             <form method=\"post\" action=\"{base}/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            escape(&user.username),
            user.auth_time,
            escape(&csrf)
        ),
        None => "<p class=\"muted\" id=\"signed-in\">Not signed in at the provider: the flow \
                 will show its login page.</p>"
            .into(),
    };
    let no_clients = if rp.clients.is_empty() {
        format!(
            "<p class=\"error\">No registered client has the playground's redirect URI \
             <code>{}</code>.</p>",
            escape(&rp.redirect_uri)
        )
    } else {
        String::new()
    };
    let body = format!(
        "<div class=\"card\"><h1>Relying-party playground</h1>\
         <p class=\"muted\">This page is a relying party. It sends you to the provider's \
         authorization endpoint, receives the response, and then — in server-side Rust, over \
         HTTP — checks the front-channel ID token against the provider's JWKS (<code>c_hash</code>, \
         <code>at_hash</code>), redeems the code, checks the second ID token and that both agree, \
         and calls UserInfo.</p>{no_clients}\
         <form method=\"post\" action=\"{base}/playground/start\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <div class=\"grid\">\
         <div><label for=\"client\">Client</label><select id=\"client\" name=\"client\">{clients}</select></div>\
         <div><label for=\"response_type\">Response type</label>\
         <select id=\"response_type\" name=\"response_type\">\
         <option value=\"code id_token\" selected>code id_token</option>\
         <option value=\"code token\">code token</option>\
         <option value=\"code id_token token\">code id_token token</option>\
         <option value=\"code\">code</option></select></div>\
         <div><label for=\"response_mode\">Response mode</label>\
         <select id=\"response_mode\" name=\"response_mode\">\
         <option value=\"fragment\" selected>fragment</option>\
         <option value=\"form_post\">form_post</option>\
         <option value=\"query\">query (code only)</option></select></div>\
         <div><label for=\"prompt\">prompt</label><select id=\"prompt\" name=\"prompt\">\
         <option value=\"\" selected>(not sent)</option><option value=\"none\">none</option>\
         <option value=\"login\">login</option><option value=\"consent\">consent</option>\
         <option value=\"select_account\">select_account</option></select></div>\
         <div><label for=\"max_age\">max_age (seconds)</label>\
         <input type=\"number\" id=\"max_age\" name=\"max_age\" min=\"0\"></div>\
         </div>\
         <fieldset><legend>Scopes</legend>\
         <label><input type=\"checkbox\" checked disabled> openid</label>{scopes}</fieldset>\
         <p class=\"muted\"><code>offline_access</code> is granted only with \
         <code>prompt=consent</code> (OIDC Core §11).</p>\
         <div class=\"actions\"><button type=\"submit\" class=\"primary\" id=\"start\">\
         Start the flow</button></div></form></div>\
         <div class=\"card\"><h2>Session</h2>{session}</div>",
        csrf = escape(&csrf),
    );
    let mut response = page_response(rp, StatusCode::OK, "Playground", &body);
    if created {
        response.headers_mut().append(SET_COOKIE, host.cookie(&sid));
    }
    response
}

/// `POST /playground/start`: a new flow, then a 303 to the authorization endpoint.
pub(super) async fn start<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let host = endpoints.host();
    let rp = &host.rp;
    let (parts, body) = request.into_parts();
    let form = match read_form(host, &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let bad = |text: &str| problem(rp, StatusCode::BAD_REQUEST, "Cannot start", text);
    let Some(client) = form.get("client").and_then(|id| rp.client(id)) else {
        return bad("Choose one of the listed clients.");
    };
    let Some(response_type) = form
        .get("response_type")
        .and_then(|t| ResponseType::parse(t).ok())
    else {
        return bad("Choose a response type.");
    };
    if !client.response_types.contains(&response_type) {
        return bad("This client is not registered for that response type.");
    }
    let Some(mode) = form
        .get("response_mode")
        .and_then(|m| ResponseMode::parse(m).ok())
    else {
        return bad("Choose a response mode.");
    };
    let mut scope = vec!["openid"];
    for value in form.all("scope") {
        match SCOPES.iter().find(|s| **s == value) {
            Some(s) if !scope.contains(s) => scope.push(s),
            Some(_) => {}
            None => return bad("Unknown scope value."),
        }
    }
    let prompt = form.get("prompt").unwrap_or_default();
    if !["", "none", "login", "consent", "select_account"].contains(&prompt) {
        return bad("Unknown prompt value.");
    }
    let max_age = form.get("max_age").unwrap_or_default();
    if max_age.len() > 9 || !max_age.bytes().all(|b| b.is_ascii_digit()) {
        return bad("max_age must be a number of seconds.");
    }

    let now = endpoints.now();
    let state = random_token();
    let nonce = random_token();
    let verifier = random_token();
    let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()));
    let flow = Flow {
        client_id: client.client_id.clone(),
        response_type,
        nonce: nonce.clone(),
        verifier,
        created: now,
    };
    let csrf = form.get("csrf").unwrap_or_default();
    let (csrf_ok, sid, created) = host.sessions.with_or_create(&parts, now, |s| {
        let ok = s.csrf_ok(csrf);
        if ok {
            s.add_flow(state.clone(), flow);
        }
        ok
    });
    if !csrf_ok {
        return problem(
            rp,
            StatusCode::FORBIDDEN,
            "Form rejected",
            "The form's security token does not match this session (CSRF). Reload the \
             playground and try again.",
        );
    }
    let scope = scope.join(" ");
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", response_type.as_str())
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &rp.redirect_uri)
        .append_pair("scope", &scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if mode != response_type.default_mode() {
        query.append_pair("response_mode", mode.as_str());
    }
    if !prompt.is_empty() {
        query.append_pair("prompt", prompt);
    }
    if !max_age.is_empty() {
        query.append_pair("max_age", max_age);
    }
    let target = format!(
        "{}?{}",
        endpoints.provider().config().authorization_endpoint,
        query.finish()
    );
    info!(
        client_id = %client.client_id,
        response_type = response_type.as_str(),
        response_mode = mode.as_str(),
        "playground: flow started"
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::try_from(target) {
        response.headers_mut().insert(LOCATION, location);
    }
    if created {
        response.headers_mut().append(SET_COOKIE, host.cookie(&sid));
    }
    response
}

/// `GET /playground/callback`: a query response is processed; otherwise the page relays the
/// fragment (which never reaches the server by itself) with its one inline script.
pub(super) async fn callback_get<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    if let Some(query) = parts.uri.query().filter(|q| !q.is_empty()) {
        let pairs = Form::parse(query).into_pairs();
        return process(&endpoints, &parts, ResponseMode::Query, pairs).await;
    }
    let rp = &endpoints.host().rp;
    let body = format!(
        "<div class=\"card\"><h1>Receiving the response…</h1>\
         <form id=\"relay\" method=\"post\" action=\"{}/playground/callback/fragment\">\
         <input type=\"hidden\" name=\"fragment\">\
         <noscript><p>The response is in the URL fragment, which only a script can read: \
         enable JavaScript.</p></noscript></form></div><script>{RELAY_SCRIPT}</script>",
        escape(&rp.base)
    );
    pages::respond(
        StatusCode::OK,
        pages::layout(&rp.base, "Receiving", false, &body),
        &pages::csp(None, Some(&rp.relay_hash)),
    )
}

/// `POST /playground/callback`: a form_post response.
pub(super) async fn callback_post<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let form = match read_form(endpoints.host(), &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    process(
        &endpoints,
        &parts,
        ResponseMode::FormPost,
        form.into_pairs(),
    )
    .await
}

/// `POST /playground/callback/fragment`: the relayed fragment.
pub(super) async fn fragment<S: DemoStore>(
    State(endpoints): State<DemoEndpoints<S>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let form = match read_form(endpoints.host(), &parts, body).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let fragment = form.get("fragment").unwrap_or_default();
    let pairs = Form::parse(fragment).into_pairs();
    process(&endpoints, &parts, ResponseMode::Fragment, pairs).await
}

// ---------------------------------------------------------------------------------------------
// Checks

/// One check and its outcome.
struct Check {
    id: String,
    label: String,
    ok: bool,
    detail: String,
}

impl Check {
    fn new(id: &str, label: &str, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            label: label.into(),
            ok,
            detail: detail.into(),
        }
    }
}

/// A section of the result page: HTML and the checks it made.
struct Section {
    title: String,
    html: String,
    checks: Vec<Check>,
}

impl Section {
    fn new(title: &str) -> Self {
        Self {
            title: title.into(),
            html: String::new(),
            checks: Vec::new(),
        }
    }

    fn check(&mut self, check: Check) -> bool {
        let ok = check.ok;
        self.checks.push(check);
        ok
    }
}

/// A token shortened for display.
fn short(token: &str) -> String {
    if token.chars().count() <= 14 {
        return token.to_owned();
    }
    let head: String = token.chars().take(10).collect();
    format!("{head}… ({} chars)", token.len())
}

/// The left half of SHA-256, base64url (`c_hash`, `at_hash`, `s_hash` for the *256 algorithms,
/// OIDC Core §3.3.2.11).
fn half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    Base64UrlUnpadded::encode_string(&digest[..16])
}

fn pretty(value: &Value) -> String {
    escape(&serde_json::to_string_pretty(value).unwrap_or_default())
}

fn decode_segment(segment: Option<&str>) -> Value {
    segment
        .and_then(|s| Base64UrlUnpadded::decode_vec(s).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// What an RP expects of an ID token.
struct Expect<'a> {
    prefix: &'a str,
    issuer: &'a str,
    client_id: &'a str,
    alg: JwsAlgorithm,
    /// `Some(n)`: the nonce must be `n`; `None`: absent or equal to `original_nonce`.
    nonce: Option<&'a str>,
    original_nonce: &'a str,
    now: u64,
    code: Option<&'a str>,
    access_token: Option<&'a str>,
    at_hash_required: bool,
    state: Option<&'a str>,
}

/// Validates an ID token the way OIDC Core §3.3.2.12 / §3.1.3.7 ask of a relying party and
/// returns its claims (decoded even if a check failed, for display).
fn validate_id_token(
    section: &mut Section,
    jwt: &str,
    keys: &[PublicKey],
    expect: &Expect<'_>,
) -> Value {
    let p = expect.prefix;
    let mut segments = jwt.split('.');
    let header = decode_segment(segments.next());
    let claims = decode_segment(segments.next());
    let alg = header["alg"].as_str().unwrap_or_default();
    section.check(Check::new(
        &format!("{p}.alg"),
        "alg",
        alg == expect.alg.as_str(),
        format!("{alg} (registered: {})", expect.alg.as_str()),
    ));
    let kid = header["kid"].as_str().unwrap_or_default();
    let verified = keys
        .iter()
        .filter(|k| k.key_id() == Some(kid))
        .any(|k| k.verify_compact(&[expect.alg], jwt).is_ok());
    section.check(Check::new(
        &format!("{p}.signature"),
        "signature",
        verified,
        format!("kid {kid} in the provider's JWKS"),
    ));
    let iss = claims["iss"].as_str().unwrap_or_default();
    section.check(Check::new(
        &format!("{p}.iss"),
        "iss",
        iss == expect.issuer,
        iss,
    ));
    let aud_ok = match &claims["aud"] {
        Value::String(aud) => aud == expect.client_id,
        Value::Array(list) => list.iter().any(|a| a == expect.client_id),
        _ => false,
    };
    section.check(Check::new(
        &format!("{p}.aud"),
        "aud",
        aud_ok,
        claims["aud"].to_string(),
    ));
    let azp = claims["azp"].as_str();
    section.check(Check::new(
        &format!("{p}.azp"),
        "azp",
        azp.is_none_or(|azp| azp == expect.client_id),
        azp.unwrap_or("(absent)"),
    ));
    let exp = claims["exp"].as_u64().unwrap_or(0);
    section.check(Check::new(
        &format!("{p}.exp"),
        "exp",
        exp > expect.now,
        format!("expires in {} s", exp.saturating_sub(expect.now)),
    ));
    let iat = claims["iat"].as_u64();
    section.check(Check::new(
        &format!("{p}.iat"),
        "iat",
        iat.is_some_and(|iat| iat <= expect.now + 60),
        iat.map_or("(absent)".into(), |iat| iat.to_string()),
    ));
    let nonce = claims["nonce"].as_str();
    let nonce_ok = match expect.nonce {
        Some(sent) => nonce == Some(sent),
        None => nonce.is_none_or(|n| n == expect.original_nonce),
    };
    section.check(Check::new(
        &format!("{p}.nonce"),
        "nonce",
        nonce_ok,
        match (expect.nonce, nonce) {
            (Some(_), Some(_)) => "equals the nonce sent",
            (Some(_), None) => "missing",
            (None, None) => "absent (allowed on refresh)",
            (None, Some(_)) => "repeats the original nonce",
        },
    ));
    if let Some(code) = expect.code {
        let c_hash = claims["c_hash"].as_str();
        section.check(Check::new(
            &format!("{p}.c_hash"),
            "c_hash",
            c_hash == Some(half_hash(code).as_str()),
            c_hash.map_or("missing".into(), |h| {
                format!("{h} = left half of SHA-256(code)")
            }),
        ));
    }
    if let Some(token) = expect.access_token {
        let at_hash = claims["at_hash"].as_str();
        let ok = match at_hash {
            Some(h) => h == half_hash(token),
            None => !expect.at_hash_required,
        };
        section.check(Check::new(
            &format!("{p}.at_hash"),
            "at_hash",
            ok,
            at_hash.map_or("absent (optional here)".into(), |h| {
                format!("{h} = left half of SHA-256(access_token)")
            }),
        ));
    }
    if let Some(s_hash) = claims["s_hash"].as_str() {
        let ok = expect.state.is_some_and(|s| half_hash(s) == s_hash);
        section.check(Check::new(
            &format!("{p}.s_hash"),
            "s_hash",
            ok,
            format!("{s_hash} = left half of SHA-256(state)"),
        ));
    }
    section.html.push_str(&format!(
        "<div class=\"columns\"><div><h3>Header</h3><pre>{}</pre></div>\
         <div><h3>Claims</h3><pre id=\"{p}-claims\">{}</pre></div></div>",
        pretty(&header),
        pretty(&claims)
    ));
    claims
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

async fn process<S: DemoStore>(
    endpoints: &DemoEndpoints<S>,
    parts: &Parts,
    mode: ResponseMode,
    pairs: Vec<(String, String)>,
) -> Response {
    let host = endpoints.host();
    let rp = &host.rp;
    let config = endpoints.provider().config();
    let now = endpoints.now();
    if pairs.is_empty() {
        return problem(
            rp,
            StatusCode::BAD_REQUEST,
            "Nothing received",
            "The callback received no authorization response parameters.",
        );
    }
    let params = match unique(pairs.clone()) {
        Ok(params) => params,
        Err(e) => return problem(rp, StatusCode::BAD_REQUEST, "Bad response", &e),
    };
    let state = params.get("state").cloned().unwrap_or_default();
    let flow = Sessions::id_from(parts)
        .and_then(|sid| host.sessions.with(&sid, now, |s| s.take_flow(&state)))
        .flatten()
        .filter(|f| fresh(f.created, now));
    let Some(flow) = flow else {
        return problem(
            rp,
            StatusCode::BAD_REQUEST,
            "Unknown state",
            "This response does not belong to a flow started from this browser's playground \
             (or it was already processed, or it expired).",
        );
    };
    let Some(client) = rp.client(&flow.client_id) else {
        return problem(rp, StatusCode::BAD_REQUEST, "Unknown client", "");
    };
    info!(
        client_id = %flow.client_id,
        response_mode = mode.as_str(),
        "playground: response received"
    );
    let mut sections = Vec::new();
    let mut consistency = String::from("<span class=\"badge na\">consistency n/a</span>");
    let mut userinfo_sub = String::new();
    run_checks(
        rp,
        config,
        now.as_secs(),
        client,
        &flow,
        mode,
        &pairs,
        &params,
        &mut sections,
        &mut consistency,
        &mut userinfo_sub,
    )
    .await;

    let total: usize = sections.iter().map(|s| s.checks.len()).sum();
    let failed: usize = sections
        .iter()
        .map(|s| s.checks.iter().filter(|c| !c.ok).count())
        .sum();
    let summary = if failed == 0 {
        format!("<span class=\"badge ok\">All {total} checks passed</span>")
    } else {
        format!("<span class=\"badge fail\">{failed} of {total} checks failed</span>")
    };
    let mut body = format!(
        "<div class=\"card\"><h1>Playground result</h1>\
         <table><tr><th>Client</th><td><code>{}</code></td></tr>\
         <tr><th>Response type</th><td><code id=\"response-type\">{}</code></td></tr>\
         <tr><th>Response mode</th><td><code id=\"response-mode\">{}</code></td></tr></table>\
         <p id=\"summary\">{summary}</p><p id=\"consistency\">{consistency}</p>\
         <p><a href=\"{}/playground\">Run another flow</a></p></div>",
        escape(&flow.client_id),
        flow.response_type.as_str(),
        mode.as_str(),
        escape(&rp.base),
    );
    for section in &sections {
        let checks: String = section
            .checks
            .iter()
            .map(|c| {
                format!(
                    "<li class=\"{}\" data-check=\"{}\"><strong>{}</strong> {} — {}</li>",
                    if c.ok { "ok" } else { "fail" },
                    escape(&c.id),
                    escape(&c.label),
                    if c.ok { "OK" } else { "FAILED" },
                    escape(&c.detail)
                )
            })
            .collect();
        let list = if checks.is_empty() {
            String::new()
        } else {
            format!("<ul class=\"checks\">{checks}</ul>")
        };
        body.push_str(&format!(
            "<div class=\"card\"><h2>{}</h2>{list}{}</div>",
            escape(&section.title),
            section.html
        ));
    }
    if !userinfo_sub.is_empty() {
        info!(subject = %userinfo_sub, checks = total, failed, "playground: flow checked");
    }
    page_response(rp, StatusCode::OK, "Playground result", &body)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one linear script; the outputs are the page's parts"
)]
async fn run_checks(
    rp: &Rp,
    config: &Config,
    now: u64,
    client: &PlaygroundClient,
    flow: &Flow,
    mode: ResponseMode,
    pairs: &[(String, String)],
    params: &HashMap<String, String>,
    sections: &mut Vec<Section>,
    consistency: &mut String,
    userinfo_sub: &mut String,
) {
    // 1. The authorization response.
    let mut response = Section::new(&format!("1. Authorization response ({})", mode.as_str()));
    let rows: String = pairs
        .iter()
        .map(|(name, value)| {
            let shown =
                if ["code", "access_token", "id_token", "refresh_token"].contains(&name.as_str()) {
                    short(value)
                } else {
                    value.clone()
                };
            format!(
                "<tr><th>{}</th><td><code>{}</code></td></tr>",
                escape(name),
                escape(&shown)
            )
        })
        .collect();
    response.html = format!("<table>{rows}</table>");
    let iss = params.get("iss").map(String::as_str);
    response.check(Check::new(
        "response.iss",
        "iss (RFC 9207)",
        iss == Some(rp.issuer.as_str()),
        iss.unwrap_or("missing"),
    ));
    if let Some(error) = params.get("error") {
        response.check(Check::new(
            "response.error",
            "error",
            false,
            format!(
                "{error}: {}",
                params.get("error_description").map_or("", String::as_str)
            ),
        ));
        sections.push(response);
        return;
    }
    let Some(code) = params.get("code") else {
        response.check(Check::new("response.code", "code", false, "missing"));
        sections.push(response);
        return;
    };
    response.check(Check::new("response.code", "code", true, "present"));
    let front_token = params.get("access_token").map(String::as_str);
    if flow.response_type.has_token() {
        response.check(Check::new(
            "response.access_token",
            "access_token",
            front_token.is_some() && params.get("token_type").map(String::as_str) == Some("Bearer"),
            "front-channel access token with token_type Bearer",
        ));
    }
    let front_jwt = params.get("id_token");
    response.check(Check::new(
        "response.id_token",
        "id_token",
        front_jwt.is_some() == flow.response_type.has_id_token(),
        if flow.response_type.has_id_token() {
            "present, as the response type asks"
        } else {
            "absent, as the response type asks"
        },
    ));
    sections.push(response);

    // 2. Keys.
    let keys = match rp.jwks(config).await {
        Ok(keys) => keys,
        Err(e) => {
            let mut section = Section::new("JWKS");
            section.check(Check::new("jwks", "JWKS", false, e));
            sections.push(section);
            return;
        }
    };
    let state = params.get("state").map(String::as_str);

    // 3. The front-channel ID token.
    let front = front_jwt.map(|jwt| {
        let mut section = Section::new("2. Front-channel ID token");
        let claims = validate_id_token(
            &mut section,
            jwt,
            &keys,
            &Expect {
                prefix: "front",
                issuer: &rp.issuer,
                client_id: &client.client_id,
                alg: client.alg,
                nonce: Some(&flow.nonce),
                original_nonce: &flow.nonce,
                now,
                code: Some(code),
                access_token: front_token,
                at_hash_required: true,
                state,
            },
        );
        sections.push(section);
        claims
    });

    // 4. The front-channel access token at UserInfo.
    if let Some(token) = front_token {
        let mut section = Section::new("Front-channel access token");
        match rp.userinfo(config, token).await {
            Ok((status, _)) => section.check(Check::new(
                "front.userinfo",
                "UserInfo",
                status == 200,
                format!("UserInfo answered {status} to the front-channel access token"),
            )),
            Err(e) => section.check(Check::new("front.userinfo", "UserInfo", false, e)),
        };
        sections.push(section);
    }

    // 5. The code at the token endpoint.
    let mut exchange = Section::new(&format!("3. Token response ({})", client.method.as_str()));
    let result = rp
        .token(
            config,
            client,
            vec![
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &rp.redirect_uri),
                ("code_verifier", &flow.verifier),
            ],
        )
        .await;
    let tokens = match result {
        Ok((200, tokens)) => tokens,
        Ok((status, body)) => {
            exchange.check(Check::new(
                "token.status",
                "token endpoint",
                false,
                format!("{status}: {body}"),
            ));
            sections.push(exchange);
            return;
        }
        Err(e) => {
            exchange.check(Check::new("token.status", "token endpoint", false, e));
            sections.push(exchange);
            return;
        }
    };
    exchange.check(Check::new("token.status", "token endpoint", true, "200 OK"));
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refresh = tokens["refresh_token"].as_str().map(str::to_owned);
    exchange.check(Check::new(
        "token.token_type",
        "token_type",
        tokens["token_type"] == "Bearer",
        tokens["token_type"].to_string(),
    ));
    let mut shown = tokens.clone();
    for name in ["access_token", "refresh_token", "id_token"] {
        if let Some(value) = shown[name].as_str().map(short) {
            shown[name] = Value::String(value);
        }
    }
    exchange.html = format!("<pre>{}</pre>", pretty(&shown));
    sections.push(exchange);

    // 6. The back-channel ID token.
    let Some(back_jwt) = tokens["id_token"].as_str() else {
        let mut section = Section::new("4. Back-channel ID token");
        section.check(Check::new("back.present", "id_token", false, "missing"));
        sections.push(section);
        return;
    };
    let mut section = Section::new("4. Back-channel ID token");
    let back = validate_id_token(
        &mut section,
        back_jwt,
        &keys,
        &Expect {
            prefix: "back",
            issuer: &rp.issuer,
            client_id: &client.client_id,
            alg: client.alg,
            nonce: Some(&flow.nonce),
            original_nonce: &flow.nonce,
            now,
            code: None,
            access_token: Some(&access),
            at_hash_required: false,
            state: None,
        },
    );
    sections.push(section);

    // 7. Both ID tokens agree (OIDC Core §3.3.3.6).
    let mut agree = Section::new("5. Consistency of the two ID tokens");
    match &front {
        Some(front) => {
            let mut all = true;
            for claim in ["iss", "sub", "aud", "nonce", "auth_time", "acr", "amr"] {
                let same = front.get(claim) == back.get(claim);
                all &= agree.check(Check::new(
                    &format!("consistency.{claim}"),
                    claim,
                    same,
                    if same {
                        format!("equal: {}", front.get(claim).unwrap_or(&Value::Null))
                    } else {
                        format!(
                            "front {} / back {}",
                            front.get(claim).unwrap_or(&Value::Null),
                            back.get(claim).unwrap_or(&Value::Null)
                        )
                    },
                ));
            }
            *consistency = if all {
                "<span class=\"badge ok\">consistency OK</span>".into()
            } else {
                "<span class=\"badge fail\">consistency FAILED</span>".into()
            };
        }
        None => {
            agree.html = "<p class=\"muted\">No front-channel ID token in this response type: \
                          nothing to compare.</p>"
                .into();
        }
    }
    sections.push(agree);

    // 8. UserInfo with the back-channel access token.
    let mut info = Section::new("6. UserInfo");
    match rp.userinfo(config, &access).await {
        Ok((200, claims)) => {
            let sub = claims["sub"].as_str().unwrap_or_default().to_owned();
            info.check(Check::new(
                "userinfo.sub",
                "sub",
                !sub.is_empty() && back["sub"] == sub.as_str(),
                "equals the ID token's sub (OIDC Core §5.3.2)",
            ));
            info.html = format!(
                "<p>sub: <code id=\"userinfo-sub\">{}</code></p><pre id=\"userinfo\">{}</pre>",
                escape(&sub),
                pretty(&claims)
            );
            sub.clone_into(userinfo_sub);
        }
        Ok((status, body)) => {
            info.check(Check::new(
                "userinfo.status",
                "UserInfo",
                false,
                format!("{status}: {body}"),
            ));
        }
        Err(e) => {
            info.check(Check::new("userinfo.status", "UserInfo", false, e));
        }
    }
    sections.push(info);

    // 9. Refresh.
    if let Some(refresh) = refresh {
        let mut renewed = Section::new("7. Refresh");
        let result = rp
            .token(
                config,
                client,
                vec![("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            )
            .await;
        match result {
            Ok((200, tokens)) => {
                renewed.check(Check::new(
                    "refresh.rotated",
                    "refresh token rotated",
                    tokens["refresh_token"]
                        .as_str()
                        .is_some_and(|new| new != refresh),
                    "a new refresh token replaces the old one",
                ));
                if let Some(jwt) = tokens["id_token"].as_str() {
                    let new_access = tokens["access_token"].as_str().unwrap_or_default();
                    let claims = validate_id_token(
                        &mut renewed,
                        jwt,
                        &keys,
                        &Expect {
                            prefix: "refresh",
                            issuer: &rp.issuer,
                            client_id: &client.client_id,
                            alg: client.alg,
                            nonce: None,
                            original_nonce: &flow.nonce,
                            now,
                            code: None,
                            access_token: Some(new_access),
                            at_hash_required: false,
                            state: None,
                        },
                    );
                    for claim in ["sub", "auth_time"] {
                        let same = claims.get(claim) == back.get(claim);
                        renewed.check(Check::new(
                            &format!("refresh.same_{claim}"),
                            &format!("same {claim}"),
                            same,
                            "as the original ID token (OIDC Core §12.2)",
                        ));
                    }
                }
            }
            Ok((status, body)) => {
                renewed.check(Check::new(
                    "refresh.status",
                    "token endpoint",
                    false,
                    format!("{status}: {body}"),
                ));
            }
            Err(e) => {
                renewed.check(Check::new("refresh.status", "token endpoint", false, e));
            }
        }
        sections.push(renewed);
    }
}
