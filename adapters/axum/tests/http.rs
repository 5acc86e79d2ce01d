//! The adapter over real HTTP on loopback: a memory store, a minimal host whose "pages" report
//! the step and resume through the [`Endpoints`] API, and a reqwest client that never follows
//! redirects.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "a std test crate"
)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;
use oidc_hybrid::response::FORM_POST_CSP;
use oidc_hybrid::{
    BoundRequest, Claims, ClaimsSource, Client, ClientMetadata, Config, Consent, JwsAlgorithm,
    Provider, Signer, Step, Subject, SystemClock,
};
use oidc_hybrid_axum::{Authentication, Endpoints, Host, Timeouts};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom, RsaSigner};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const RS256_PEM: &str = include_str!("../../../tests/keys/rs256.pem");
const ES256_PEM: &str = include_str!("../../../tests/keys/es256.pem");
const SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";
const REDIRECT_URI: &str = "https://rp.example/cb";

/// A host whose login and consent "pages" say which step they are and under which id the
/// request waits; `x-test-user` stands for a session cookie, and `carol` has consented before.
#[derive(Default)]
struct TestHost {
    pending: Mutex<HashMap<u64, BoundRequest>>,
    next: AtomicU64,
}

impl ClaimsSource for TestHost {
    type Error = core::convert::Infallible;

    async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
        let Value::Object(claims) = json!({
            "email": format!("{subject}@example.org"),
            "email_verified": true,
            "name": "Test User",
        }) else {
            unreachable!()
        };
        Ok(Some(claims))
    }
}

impl Host for TestHost {
    async fn authentication(&self, parts: &Parts) -> Option<Authentication> {
        let user = parts.headers.get("x-test-user")?.to_str().ok()?;
        let now = oidc_hybrid::Clock::now(&SystemClock);
        // The test host issues refresh tokens to clients that may refresh (its decision, not
        // OIDC Core §11's offline_access).
        let mut auth = Authentication::new(Subject::new(user).ok()?, now).with_amr(["pwd"]);
        auth.refresh_token = Some(true);
        Some(auth)
    }

    async fn consent(&self, authentication: &Authentication, _: &BoundRequest) -> Consent {
        if authentication.subject.as_str() == "carol" {
            Consent::Remembered
        } else {
            Consent::Missing
        }
    }

    async fn interact(&self, request: BoundRequest, step: Step, _parts: &Parts) -> Response {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        self.pending.lock().expect("lock").insert(id, request);
        Html(format!("<p id=\"step\">{step:?}</p><p id=\"id\">{id}</p>")).into_response()
    }
}

type TestEndpoints = Endpoints<Provider<MemoryStore, SystemClock, OsRandom>, TestHost>;

fn take(endpoints: &TestEndpoints, id: u64) -> BoundRequest {
    endpoints
        .host()
        .pending
        .lock()
        .expect("lock")
        .remove(&id)
        .expect("a waiting request")
}

/// The host's login form handler: logs `user` in now and resumes.
async fn resume(
    State(endpoints): State<TestEndpoints>,
    Path((id, user)): Path<(u64, String)>,
    parts: Parts,
) -> Response {
    let request = take(&endpoints, id);
    let mut auth = Authentication::new(Subject::new(user).expect("subject"), endpoints.now())
        .with_amr(["pwd"]);
    auth.refresh_token = Some(true);
    endpoints
        .resume(request, Some(&auth), Consent::Missing, &parts)
        .await
}

/// The host's consent form handler: approves for `user`.
async fn approve(
    State(endpoints): State<TestEndpoints>,
    Path((id, user)): Path<(u64, String)>,
) -> Response {
    let request = take(&endpoints, id);
    let mut auth = Authentication::new(Subject::new(user).expect("subject"), endpoints.now());
    auth.refresh_token = Some(true);
    endpoints.approve(request, auth.approval()).await
}

async fn deny(State(endpoints): State<TestEndpoints>, Path(id): Path<u64>) -> Response {
    let request = take(&endpoints, id);
    endpoints.deny(request)
}

struct Server {
    base: String,
    http: reqwest::Client,
}

impl Server {
    async fn start() -> Self {
        Self::start_with(Timeouts::default()).await
    }

    /// Served by [`oidc_hybrid_axum::serve`] with `timeouts`.
    async fn start_with(timeouts: Timeouts) -> Self {
        Self::start_configured(timeouts, |config| config).await
    }

    /// With DPoP proofs verified and server nonces demanded (RFC 9449 §8).
    async fn start_dpop() -> Self {
        Self::start_configured(Timeouts::default(), |mut config| {
            config.dpop_nonce_key = Some(oidc_hybrid::config::NonceKey::new([5; 32]));
            config
        })
        .await
    }

    async fn start_configured(timeouts: Timeouts, tune: impl FnOnce(Config) -> Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let all = ["code", "code id_token", "code token", "code id_token token"];
        let metadata: ClientMetadata = serde_json::from_value(json!({
            "client_id": "rp",
            "client_secret": SECRET,
            "redirect_uris": [REDIRECT_URI],
            "response_types": all,
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
        }))
        .expect("metadata");
        let store = MemoryStore::with_clients([Client::register(metadata).expect("client")]);
        let keys: Vec<Box<dyn Signer>> = vec![
            Box::new(
                RsaSigner::from_pkcs8_pem(RS256_PEM, JwsAlgorithm::RS256, Some("rs")).expect("rs"),
            ),
            Box::new(Es256Signer::from_pkcs8_pem(ES256_PEM, Some("es")).expect("es")),
        ];
        let config = tune(Config::new(&base).expect("config"));
        let provider = Provider::new(config, store, keys, SystemClock, OsRandom)
            .expect("provider")
            .with_jws_verifier(oidc_hybrid_rustcrypto::ClientKeyVerifier);
        let endpoints = Endpoints::new(Arc::new(provider), TestHost::default());
        let host_routes = Router::new()
            .route("/host/resume/{id}/{user}", post(resume))
            .route("/host/approve/{id}/{user}", post(approve))
            .route("/host/deny/{id}", post(deny))
            .with_state(endpoints.clone());
        let app = endpoints.router().merge(host_routes);
        tokio::spawn(async move {
            oidc_hybrid_axum::serve(listener, app, timeouts, core::future::pending()).await;
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { base, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send().await.expect("GET")).await
    }

    async fn post(
        &self,
        path: &str,
        body: String,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send().await.expect("POST")).await
    }

    /// A waiting request's id, from the test host's page.
    fn waiting(body: &str) -> u64 {
        let start = body.find("<p id=\"id\">").expect("an interaction page") + 11;
        let end = body[start..].find('<').expect("end") + start;
        body[start..end].parse().expect("id")
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, HeaderMap, String) {
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// The parameters of a fragment or query.
fn params(encoded: &str) -> HashMap<String, String> {
    form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .collect()
}

fn authorize_query(response_type: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", response_type),
        ("client_id", "rp"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid email"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("state", "st<\"&'>"),
    ];
    pairs.extend_from_slice(extra);
    form(&pairs)
}

/// Asserts a 303 to the redirect URI and returns the fragment's parameters.
fn fragment_of(status: StatusCode, headers: &HeaderMap) -> HashMap<String, String> {
    assert_eq!(status, StatusCode::SEE_OTHER, "303, never 307");
    let location = header(headers, "location").expect("Location");
    let (target, fragment) = location.split_once('#').expect("a fragment");
    assert_eq!(target, REDIRECT_URI);
    assert_eq!(header(headers, "cache-control"), Some("no-store"));
    params(fragment)
}

fn assert_html_page_headers(headers: &HeaderMap) {
    assert_eq!(header(headers, "x-frame-options"), Some("DENY"));
    assert_eq!(header(headers, "cache-control"), Some("no-store"));
    assert_eq!(header(headers, "pragma"), Some("no-cache"));
    assert_eq!(header(headers, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(headers, "x-content-type-options"), Some("nosniff"));
    assert!(
        headers.get_all("content-security-policy").iter().any(|v| v
            .to_str()
            .is_ok_and(|v| v.contains("frame-ancestors 'none'"))),
        "frame-ancestors 'none'"
    );
    assert!(header(headers, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn discovery_and_jwks_are_public_cacheable_json() {
    let server = Server::start().await;
    for path in ["/.well-known/openid-configuration", "/jwks"] {
        let (status, headers, body) = server.get(path, &[("origin", "https://spa.example")]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
        assert_eq!(
            header(&headers, "cache-control"),
            Some("public, max-age=300")
        );
        let json: Value = serde_json::from_str(&body).expect("JSON");
        if path == "/jwks" {
            let keys = json["keys"].as_array().expect("keys");
            assert_eq!(keys.len(), 2);
            for key in keys {
                assert!(key.get("d").is_none(), "no private member");
            }
        } else {
            assert_eq!(json["issuer"], server.base);
            assert_eq!(json["token_endpoint"], server.url("/token"));
            assert_eq!(json["jwks_uri"], server.url("/jwks"));
        }
        let preflight = server
            .http
            .request(reqwest::Method::OPTIONS, server.url(path))
            .header("origin", "https://spa.example")
            .header("access-control-request-method", "GET")
            .send()
            .await
            .expect("OPTIONS");
        assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            header(preflight.headers(), "access-control-allow-origin"),
            Some("*")
        );
    }
}

#[tokio::test]
async fn a_logged_in_user_with_consent_gets_a_303_with_the_fragment() {
    let server = Server::start().await;
    let query = authorize_query("code id_token", &[]);
    let (status, headers, _) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    let params = fragment_of(status, &headers);
    assert!(params.contains_key("code") && params.contains_key("id_token"));
    assert_eq!(params["state"], "st<\"&'>");
    assert_eq!(params["iss"], server.base);
    assert!(header(&headers, "access-control-allow-origin").is_none());

    // The same request as a POST form.
    let (status, headers, _) = server
        .post("/authorize", query, &[("x-test-user", "carol")])
        .await;
    let params = fragment_of(status, &headers);
    assert!(params.contains_key("code"));
}

#[tokio::test]
async fn login_and_consent_go_through_the_host_and_resume() {
    let server = Server::start().await;
    let query = authorize_query("code id_token token", &[]);
    // Nobody logged in: the host's login page.
    let (status, headers, body) = server.get(&format!("/authorize?{query}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<p id=\"step\">Login</p>"), "{body}");
    assert_html_page_headers(&headers);
    let id = Server::waiting(&body);
    // The host logs alice in and resumes: consent is next.
    let (status, _, body) = server
        .post(&format!("/host/resume/{id}/alice"), String::new(), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<p id=\"step\">Consent</p>"), "{body}");
    let id = Server::waiting(&body);
    // The host approves after consent: a 303 with the tokens in the fragment.
    let (status, headers, _) = server
        .post(&format!("/host/approve/{id}/alice"), String::new(), &[])
        .await;
    let params = fragment_of(status, &headers);
    for name in [
        "code",
        "id_token",
        "access_token",
        "token_type",
        "expires_in",
    ] {
        assert!(params.contains_key(name), "{name}");
    }

    // A denial: access_denied to the client.
    let (_, _, body) = server.get(&format!("/authorize?{query}"), &[]).await;
    let id = Server::waiting(&body);
    let (status, headers, _) = server
        .post(&format!("/host/deny/{id}"), String::new(), &[])
        .await;
    let params = fragment_of(status, &headers);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st<\"&'>");

    // prompt=select_account shows the login page even with a session and consent.
    let query = authorize_query("code id_token", &[("prompt", "select_account")]);
    let (_, _, body) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    assert!(body.contains("<p id=\"step\">Login</p>"), "{body}");
}

#[tokio::test]
async fn prompt_none_answers_without_a_page() {
    let server = Server::start().await;
    let query = authorize_query("code id_token", &[("prompt", "none")]);
    let (status, headers, _) = server.get(&format!("/authorize?{query}"), &[]).await;
    let params = fragment_of(status, &headers);
    assert_eq!(params["error"], "login_required");
    let (status, headers, _) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "dave")])
        .await;
    assert_eq!(fragment_of(status, &headers)["error"], "consent_required");
    let (status, headers, _) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    assert!(fragment_of(status, &headers).contains_key("code"));
}

#[tokio::test]
async fn form_post_pages_are_escaped_and_locked_down() {
    let server = Server::start().await;
    let query = authorize_query("code id_token", &[("response_mode", "form_post")]);
    let (status, headers, body) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        header(&headers, "content-security-policy"),
        Some(FORM_POST_CSP)
    );
    assert_html_page_headers(&headers);
    assert!(header(&headers, "location").is_none());
    assert!(body.contains("action=\"https://rp.example/cb\""));
    assert!(
        body.contains("value=\"st&lt;&quot;&amp;&#39;&gt;\""),
        "state escaped: {body}"
    );
    assert!(!body.contains("st<\""));
}

#[tokio::test]
async fn untrusted_requests_get_an_escaped_error_page_and_no_redirect() {
    let server = Server::start().await;
    let cases = [
        (
            form(&[
                ("response_type", "code id_token"),
                ("client_id", "rp"),
                ("redirect_uri", "https://evil.example/cb"),
                ("scope", "openid"),
                ("nonce", "n"),
            ]),
            "redirect_uri is not registered for this client",
        ),
        (
            form(&[
                ("response_type", "code id_token"),
                ("client_id", "<script>alert(1)</script>"),
                ("redirect_uri", REDIRECT_URI),
                ("scope", "openid"),
                ("nonce", "n"),
            ]),
            "the client is unknown",
        ),
        (
            (0..70)
                .map(|i| format!("p{i}=1"))
                .collect::<Vec<_>>()
                .join("&"),
            "too many parameters",
        ),
        (
            format!("client_id=rp&state={}", "x".repeat(9000)),
            "a parameter value is too long",
        ),
    ];
    for (query, message) in cases {
        let (status, headers, body) = server.get(&format!("/authorize?{query}"), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{message}");
        assert!(header(&headers, "location").is_none(), "never redirected");
        assert!(body.contains(message), "{message}: {body}");
        assert!(!body.contains("<script>"), "escaped");
        assert_html_page_headers(&headers);
    }
    // A query over 16 KiB: 414.
    let (status, headers, body) = server
        .get(&format!("/authorize?a={}", "x".repeat(17 * 1024)), &[])
        .await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert!(header(&headers, "location").is_none());
    assert!(body.contains("the request is too large"));
    // Bodies over 16 KiB: 413 at both form endpoints.
    let big = format!("a={}", "x".repeat(17 * 1024));
    let (status, _, _) = server.post("/authorize", big.clone(), &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, headers, body) = server.post("/token", big, &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert!(body.contains("the request is too large"));
}

fn basic(id: &str, secret: &str) -> String {
    use base64ct::Encoding as _;
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let credentials = format!("{}:{}", encode(id), encode(secret));
    format!(
        "Basic {}",
        base64ct::Base64::encode_string(credentials.as_bytes())
    )
}

#[tokio::test]
async fn token_userinfo_and_revocation() {
    let server = Server::start().await;
    let query = authorize_query("code id_token", &[]);
    let (status, headers, _) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    let code = fragment_of(status, &headers)["code"].clone();
    let auth = basic("rp", SECRET);
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
    ]);

    // Wrong content type.
    let response = server
        .http
        .post(server.url("/token"))
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // GET is not allowed.
    let (status, _, _) = server.get("/token", &[]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // A wrong secret through Basic: 401 with a Basic challenge.
    let (status, headers, text) = server
        .post(
            "/token",
            body.clone(),
            &[(
                "authorization",
                &basic("rp", "wrong-secret-but-long-enough-000000000"),
            )],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&headers, "www-authenticate"),
        Some("Basic realm=\"token\"")
    );
    assert!(text.contains("invalid_client"));

    let (status, headers, text) = server
        .post("/token", body.clone(), &[("authorization", &auth)])
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(header(&headers, "pragma"), Some("no-cache"));
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let tokens: Value = serde_json::from_str(&text).expect("JSON");
    let access = tokens["access_token"].as_str().expect("access token");
    let refresh = tokens["refresh_token"].as_str().expect("refresh token");

    // Replay: invalid_grant, and the grant's tokens stop working.
    let (status, _, text) = server
        .post("/token", body, &[("authorization", &auth)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("invalid_grant"));
    let bearer = format!("Bearer {access}");
    let (status, headers, _) = server.get("/userinfo", &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&headers, "www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );

    // A fresh grant for UserInfo (GET and POST) and revocation.
    let (status, headers, _) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    let code = fragment_of(status, &headers)["code"].clone();
    let (_, _, text) = server
        .post(
            "/token",
            form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
            ]),
            &[("authorization", &auth)],
        )
        .await;
    let tokens: Value = serde_json::from_str(&text).expect("JSON");
    let access = tokens["access_token"].as_str().expect("access token");
    let refresh2 = tokens["refresh_token"].as_str().expect("refresh token");
    assert_ne!(refresh, refresh2);
    let bearer = format!("Bearer {access}");
    let (status, headers, text) = server.get("/userinfo", &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let claims: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(claims["sub"], "carol");
    assert_eq!(claims["email"], "carol@example.org");
    assert!(claims.get("name").is_none(), "profile was not granted");
    let (status, _, text) = server
        .post("/userinfo", form(&[("access_token", access)]), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (status, headers, _) = server.get("/userinfo", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(header(&headers, "www-authenticate"), Some("Bearer"));

    // Introspection (RFC 7662), as a resource server would call it over HTTP.
    let (status, headers, text) = server
        .post(
            "/introspect",
            form(&[("token", access)]),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(answer["active"], true);
    assert_eq!(answer["sub"], "carol");
    assert_eq!(answer["client_id"], "rp");
    assert_eq!(answer["token_type"], "Bearer");
    let wrong = basic("rp", "not-the-secret-but-long-enough-to-look-real");
    let (status, headers, _) = server
        .post(
            "/introspect",
            form(&[("token", access)]),
            &[("authorization", &wrong)],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(header(&headers, "www-authenticate").is_some());

    let (status, headers, _) = server
        .post(
            "/revoke",
            form(&[("token", refresh2)]),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    let (status, _, _) = server.get("/userinfo", &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the grant is revoked");
    let (_, _, text) = server
        .post(
            "/introspect",
            form(&[("token", access)]),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(text, r#"{"active":false}"#, "revoked: inactive");
    let (status, _, text) = server
        .post(
            "/token",
            form(&[("grant_type", "refresh_token"), ("refresh_token", refresh2)]),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("invalid_grant"));
}

#[tokio::test]
async fn head_authorize_is_refused_without_binding_the_request() {
    let server = Server::start().await;
    let query = authorize_query("code id_token", &[]);
    let response = server
        .http
        .head(server.url(&format!("/authorize?{query}")))
        .header("x-test-user", "carol")
        .send()
        .await
        .expect("HEAD");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(response.headers(), "allow"), Some("GET, POST"));
    assert!(header(response.headers(), "location").is_none(), "no code");
    // GET still works.
    let (status, headers, _) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    assert!(fragment_of(status, &headers).contains_key("code"));
}

#[tokio::test]
async fn userinfo_serves_browser_clients_and_a_bare_challenge() {
    let server = Server::start().await;
    let origin = [("origin", "https://spa.example")];
    // No token at all: 401, a bare Bearer challenge, no error information (RFC 6750 §3.1).
    let (status, headers, body) = server.get("/userinfo", &origin).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(header(&headers, "www-authenticate"), Some("Bearer"));
    assert!(body.is_empty(), "{body}");
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&headers, "access-control-expose-headers"),
        Some("WWW-Authenticate, DPoP-Nonce")
    );
    assert!(header(&headers, "access-control-allow-credentials").is_none());
    // A bad token: the error is readable from the browser too.
    let bad = [
        ("origin", "https://spa.example"),
        ("authorization", "Bearer nope"),
    ];
    let (status, headers, body) = server.get("/userinfo", &bad).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("invalid_token"), "{body}");
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    // The preflight of a request with an Authorization header.
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/userinfo"))
        .header("origin", "https://spa.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let headers = preflight.headers();
    assert_eq!(header(headers, "access-control-allow-origin"), Some("*"));
    assert!(
        header(headers, "access-control-allow-headers")
            .is_some_and(|h| h.contains("Authorization"))
    );
    assert!(header(headers, "access-control-allow-methods").is_some_and(|m| m.contains("GET")));
    assert!(header(headers, "access-control-allow-credentials").is_none());
    // The authorization endpoint still has no CORS.
    let (_, headers, _) = server.get("/authorize?client_id=rp", &origin).await;
    assert!(header(&headers, "access-control-allow-origin").is_none());
}

#[tokio::test]
async fn failed_client_authentication_is_slowed_down_per_client_and_address() {
    let server = Server::start().await;
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", "unknown-code"),
        ("redirect_uri", REDIRECT_URI),
    ]);
    let wrong = basic("rp", "wrong-secret-but-long-enough-000000000");
    for attempt in 1..=6 {
        let (status, _, text) = server
            .post("/token", body.clone(), &[("authorization", &wrong)])
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {text}"
        );
    }
    // The sixth failure costs a wait: even the right secret is not checked until it is over.
    for secret in ["wrong-secret-but-long-enough-000000000", SECRET] {
        let (status, headers, text) = server
            .post(
                "/token",
                body.clone(),
                &[("authorization", &basic("rp", secret))],
            )
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{text}");
        assert_eq!(header(&headers, "retry-after"), Some("1"));
        assert_eq!(header(&headers, "cache-control"), Some("no-store"));
        assert!(
            text.contains("too many failed client authentications"),
            "{text}"
        );
    }
    // The same at the revocation endpoint, with the secret in the form body.
    let revoke = form(&[
        ("token", "t"),
        ("client_id", "rp"),
        ("client_secret", "wrong-secret-but-long-enough-000000000"),
    ]);
    let (status, _, _) = server.post("/revoke", revoke, &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // After the wait the right secret is checked again, and success clears the count.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _, text) = server
        .post(
            "/token",
            body.clone(),
            &[("authorization", &basic("rp", SECRET))],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("invalid_grant"), "{text}");
    let (status, _, _) = server
        .post("/token", body, &[("authorization", &wrong)])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "counting starts afresh");
}

#[tokio::test]
async fn slow_requests_are_cut_off() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let limit = std::time::Duration::from_secs(1);
    let server = Server::start_with({
        let mut timeouts = Timeouts::default();
        timeouts.header_read = limit;
        timeouts.request = limit;
        timeouts
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    // A request head that never ends: the connection is closed.
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /jwks HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(limit * 4, stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a half-sent head is not kept open");
    // A body that never ends: 408.
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 100\r\n\r\ngrant_type=",
        )
        .await
        .expect("write");
    let mut answer = vec![0; 512];
    let read = tokio::time::timeout(limit * 4, stream.read(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn pushed_authorization_requests_over_http() {
    let server = Server::start().await;
    let pushed = authorize_query("code id_token", &[]);
    // Pushed with client_secret_basic: 201, JSON, never cached (RFC 9126 §2.2).
    let (status, headers, text) = server
        .post(
            "/par",
            pushed.clone(),
            &[("authorization", &basic("rp", SECRET))],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(header(&headers, "pragma"), Some("no-cache"));
    let answer: Value = serde_json::from_str(&text).expect("JSON");
    let request_uri = answer["request_uri"].as_str().expect("request_uri");
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(answer["expires_in"], 60);
    // The authorization endpoint resolves it once.
    let query = form(&[("client_id", "rp"), ("request_uri", request_uri)]);
    let (status, headers, _) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    let response = fragment_of(status, &headers);
    assert!(response.contains_key("code") && response.contains_key("id_token"));
    assert_eq!(response["state"], "st<\"&'>");
    let (status, _, text) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used once: {text}");

    // Errors are JSON with the status and challenge of the core's error.
    let (status, headers, text) = server
        .post(
            "/par",
            pushed.clone(),
            &[("authorization", &basic("rp", "x"))],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    assert!(header(&headers, "www-authenticate").is_some_and(|c| c.starts_with("Basic")));
    assert!(text.contains("\"invalid_client\""), "{text}");
    let with_uri = format!("{pushed}&request_uri=urn%3Ax");
    let (status, _, text) = server
        .post("/par", with_uri, &[("authorization", &basic("rp", SECRET))])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("\"invalid_request\""), "{text}");
    // The token endpoint's input limits.
    let (status, _, _) = server.get("/par", &[]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let big = format!("{pushed}&x={}", "a".repeat(17 * 1024));
    let (status, _, _) = server.post("/par", big, &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Failed authentications are throttled like the token endpoint's: five are free, the sixth
    // costs a wait (the request above authenticated, which cleared the count).
    for _ in 0..6 {
        server
            .post(
                "/par",
                pushed.clone(),
                &[("authorization", &basic("rp", "x"))],
            )
            .await;
    }
    let (status, headers, _) = server
        .post(
            "/par",
            pushed.clone(),
            &[("authorization", &basic("rp", SECRET))],
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&headers, "retry-after"), Some("1"));
}

/// A DPoP proof by `key` for `method` at `url`, with `extra` claims (RFC 9449 §4.2).
fn dpop_proof(key: &Es256Signer, method: &str, url: &str, extra: Value) -> String {
    use base64ct::Encoding as _;
    let b64 = |v: &Value| base64ct::Base64UrlUnpadded::encode_string(v.to_string().as_bytes());
    let mut jwk = serde_json::to_value(key.public_jwk()).expect("JWK");
    jwk.as_object_mut().expect("object").remove("kid");
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
    let mut claims = json!({
        "jti": format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_nanos()),
        "htm": method, "htu": url,
        "iat": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs(),
    });
    for (name, value) in extra.as_object().expect("object") {
        claims[name] = value.clone();
    }
    let input = format!("{}.{}", b64(&header), b64(&claims));
    let signature = key.try_sign(input.as_bytes(), &OsRandom).expect("signs");
    format!(
        "{input}.{}",
        base64ct::Base64UrlUnpadded::encode_string(&signature)
    )
}

/// DPoP over HTTP: `use_dpop_nonce` with a `DPoP-Nonce` header, then a DPoP-bound token; at
/// UserInfo the `DPoP` scheme with a proof, and the `DPoP` challenge for the same token as a
/// bearer token; two `DPoP` headers are refused (RFC 9449 §4.3, §7.1, §8, §9).
#[tokio::test]
async fn dpop_over_http() {
    let server = Server::start_dpop().await;
    let key = Es256Signer::generate(&OsRandom, None).expect("key");
    let query = authorize_query("code id_token", &[]);
    let (status, headers, _) = server
        .get(&format!("/authorize?{query}"), &[("x-test-user", "carol")])
        .await;
    let code = fragment_of(status, &headers)["code"].clone();
    let auth = basic("rp", SECRET);
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
    ]);
    let token_url = server.url("/token");
    let proof = dpop_proof(&key, "POST", &token_url, json!({}));
    let (status, headers, text) = server
        .post(
            "/token",
            body.clone(),
            &[("authorization", &auth), ("dpop", &proof)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let error: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(error["error"], "use_dpop_nonce");
    let nonce = header(&headers, "dpop-nonce")
        .expect("DPoP-Nonce")
        .to_owned();

    // Two DPoP headers: invalid_dpop_proof.
    let with_nonce = || dpop_proof(&key, "POST", &token_url, json!({"nonce": nonce}));
    let (first, second) = (with_nonce(), with_nonce());
    let (status, _, text) = server
        .post(
            "/token",
            body.clone(),
            &[
                ("authorization", &auth),
                ("dpop", &first),
                ("dpop", &second),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("invalid_dpop_proof"), "{text}");

    let (status, headers, text) = server
        .post(
            "/token",
            body,
            &[("authorization", &auth), ("dpop", &with_nonce())],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(header(&headers, "dpop-nonce").is_some());
    let tokens: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(tokens["token_type"], "DPoP");
    let at = tokens["access_token"].as_str().expect("access token");

    let userinfo_url = server.url("/userinfo");
    let ath = oidc_hybrid::dpop::access_token_hash(at);
    let proof = dpop_proof(
        &key,
        "GET",
        &userinfo_url,
        json!({"ath": ath, "nonce": nonce}),
    );
    let scheme = format!("DPoP {at}");
    let (status, _, text) = server
        .get("/userinfo", &[("authorization", &scheme), ("dpop", &proof)])
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("JSON")["sub"],
        "carol"
    );

    let bearer = format!("Bearer {at}");
    let (status, headers, _) = server.get("/userinfo", &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&headers, "www-authenticate"),
        Some("DPoP error=\"invalid_token\"")
    );
}
