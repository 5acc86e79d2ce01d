//! Sessions and logout end to end through the axum router on loopback: a host whose session
//! "cookie" is the `x-test-session` header, a memory store, the provider with a back-channel
//! sender that hands each logout token to a receiver in the test, which verifies it with
//! `jsonwebtoken` (another JOSE implementation) as a relying party would.
//!
//! OpenID Connect RP-Initiated Logout 1.0 §2–§3, Back-Channel Logout 1.0 §2.4–§2.6,
//! Front-Channel Logout 1.0 §2–§4, Session Management 1.0 §3; REQUIREMENTS 26 (no open
//! redirector), 44 (expired `id_token_hint` accepted), 170 (`end_session_endpoint` advertised).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use base64ct::{Base64UrlUnpadded, Encoding as _};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use oidc_hybrid::logout::{BACKCHANNEL_LOGOUT_EVENT, SendFuture};
use oidc_hybrid::session::session_state;
use oidc_hybrid::{
    Authentication, BoundRequest, Claims, ClaimsSource, Client, Clock as _, Config, Consent,
    LogoutPolicy, LogoutRequest, LogoutSender, Provider, SessionId, Step, Subject, SystemClock,
};
use oidc_hybrid_axum::{Endpoints, Host};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_tests::{ISSUER, SECRET, basic, client, test_keys};
use serde_json::{Value, json};
use sha2::Digest as _;

/// Logout requests the host was asked to confirm, and its sessions by "cookie".
#[derive(Default)]
struct TestHost {
    sessions: Mutex<HashMap<String, Authentication>>,
    confirmations: Mutex<Vec<LogoutRequest>>,
}

fn cookie(parts: &Parts) -> Option<String> {
    let value = parts.headers.get("x-test-session")?.to_str().ok()?;
    Some(value.to_owned())
}

impl ClaimsSource for TestHost {
    type Error = core::convert::Infallible;

    async fn claims(&self, _: &Subject) -> Result<Option<Claims>, Self::Error> {
        Ok(Some(Claims::new()))
    }
}

impl Host for TestHost {
    async fn authentication(&self, parts: &Parts) -> Option<Authentication> {
        let sessions = self.sessions.lock().expect("lock");
        sessions.get(&cookie(parts)?).cloned()
    }

    /// Consent is given on the spot (even under `prompt=consent`).
    async fn consent(&self, _: &Authentication, _: &BoundRequest) -> Consent {
        Consent::GivenNow
    }

    async fn interact(&self, _: BoundRequest, step: Step, _: &Parts) -> Response {
        Html(format!("<p id=\"step\">{step:?}</p>")).into_response()
    }

    async fn confirm_logout(&self, request: LogoutRequest, _: &Parts) -> Response {
        self.confirmations.lock().expect("lock").push(request);
        Html("<p id=\"confirm\">Sign out?</p>").into_response()
    }

    async fn signed_out(&self, parts: &Parts, page: Response) -> Response {
        if let Some(cookie) = cookie(parts) {
            self.sessions.lock().expect("lock").remove(&cookie);
        }
        page
    }
}

/// The back-channel receiver: every (URI, logout token) the provider queued.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<(String, String)>>>);

impl LogoutSender for Receiver {
    fn send<'a>(&'a self, uri: &'a str, logout_token: String) -> SendFuture<'a> {
        self.0
            .lock()
            .expect("lock")
            .push((uri.to_owned(), logout_token));
        Box::pin(async { Ok(()) })
    }
}

type TestEndpoints = Endpoints<Provider<MemoryStore, SystemClock, OsRandom>, TestHost>;

/// `rp-a`: every logout URI, `frontchannel_logout_session_required`; `rp-b`: back-channel with
/// `backchannel_logout_session_required`, front-channel without `iss`/`sid`; `rp-c`: none.
fn clients() -> Vec<Client> {
    let rp = |id: &str, extra: Value| {
        let mut metadata = json!({
            "client_id": id,
            "client_secret": SECRET,
            "redirect_uris": [format!("https://{id}.example/cb")],
            "response_types": ["code", "code id_token", "code id_token token"],
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
        });
        for (k, v) in extra.as_object().expect("object") {
            metadata[k] = v.clone();
        }
        client(metadata)
    };
    vec![
        rp(
            "rp-a",
            json!({
                "post_logout_redirect_uris": ["https://rp-a.example/bye", "https://rp-a.example/bye?x=1"],
                "backchannel_logout_uri": "https://rp-a.example/bc",
                "frontchannel_logout_uri": "https://rp-a.example/fc",
                "frontchannel_logout_session_required": true,
            }),
        ),
        rp(
            "rp-b",
            json!({
                "backchannel_logout_uri": "https://rp-b.example/bc?tenant=1",
                "backchannel_logout_session_required": true,
                "frontchannel_logout_uri": "https://rp-b.example/fc",
            }),
        ),
        rp("rp-c", json!({})),
    ]
}

struct Op {
    base: String,
    http: reqwest::Client,
    endpoints: TestEndpoints,
    received: Receiver,
}

async fn start(config: Config) -> Op {
    let received = Receiver::default();
    let store = MemoryStore::with_clients(clients());
    let provider = Provider::new(config, store, test_keys(), SystemClock, OsRandom)
        .expect("provider")
        .with_logout_sender(received.clone());
    let endpoints = Endpoints::new(Arc::new(provider), TestHost::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = endpoints.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Op {
        base: format!("http://{addr}"),
        http,
        endpoints,
        received,
    }
}

impl Op {
    /// Logs `user` in on browser `cookie`: the host begins an OP session.
    async fn login(&self, cookie: &str, user: &str) -> SessionId {
        let subject = Subject::new(user).expect("subject");
        let auth = Authentication::new(subject, SystemClock.now()).with_amr(["pwd"]);
        let provider = self.endpoints.provider();
        let record = provider.begin_session(&auth).await.expect("session");
        let auth = auth.with_session(record.sid.clone());
        let host = self.endpoints.host();
        let mut sessions = host.sessions.lock().expect("lock");
        sessions.insert(cookie.to_owned(), auth);
        record.sid
    }

    async fn get(&self, path_and_query: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path_and_query}", self.base));
        if let Some(cookie) = cookie {
            request = request.header("x-test-session", cookie);
        }
        request.send().await.expect("GET")
    }

    /// An authorization of `client` (`code id_token`) from browser `cookie`: the 303's
    /// parameters.
    async fn authorize(&self, cookie: &str, client: &str, extra: &[(&str, &str)]) -> Params {
        let redirect = format!("https://{client}.example/cb");
        let mut pairs = vec![
            ("response_type", "code id_token"),
            ("client_id", client),
            ("redirect_uri", &redirect),
            ("scope", "openid"),
            ("state", "s-1"),
            ("nonce", "n-1"),
        ];
        for (name, value) in extra {
            pairs.retain(|(n, _)| n != name);
            pairs.push((name, value));
        }
        let query = form(&pairs);
        let response = self.get(&format!("/authorize?{query}"), Some(cookie)).await;
        assert_eq!(
            response.status(),
            303,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let location = response.headers()["location"].to_str().expect("ascii");
        assert!(location.starts_with(&redirect), "{location}");
        let fragment = location.split_once('#').expect("fragment").1;
        form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect()
    }

    async fn token(&self, client: &str, code: &str) -> Value {
        let redirect = format!("https://{client}.example/cb");
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect),
        ]);
        let response = self
            .http
            .post(format!("{}/token", self.base))
            .header("authorization", basic(client, SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 200);
        response.json().await.expect("JSON")
    }

    async fn refresh(&self, client: &str, refresh_token: &str) -> Value {
        let body = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ]);
        let response = self
            .http
            .post(format!("{}/token", self.base))
            .header("authorization", basic(client, SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 200);
        response.json().await.expect("JSON")
    }

    async fn userinfo_status(&self, token: &str) -> u16 {
        let response = self
            .http
            .get(format!("{}/userinfo", self.base))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .expect("GET");
        response.status().as_u16()
    }

    /// The provider's key for `kid`, as `jsonwebtoken` reads it.
    fn key(&self, kid: &str) -> DecodingKey {
        let jwks = serde_json::to_value(self.endpoints.provider().jwks()).expect("JSON");
        let jwks: JwkSet = serde_json::from_value(jwks).expect("JWK set");
        DecodingKey::from_jwk(jwks.find(kid).expect("kid published")).expect("key")
    }

    /// Verifies a JWT of ours for `audience` with `jsonwebtoken`: its claims and `typ`.
    fn verify(&self, token: &str, audience: &str) -> (Value, Option<String>) {
        let header = decode_header(token).expect("header");
        let kid = header.kid.clone().expect("kid");
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["iss", "aud", "exp", "iat"]);
        let data = decode::<Value>(token, &self.key(&kid), &validation).expect("verifies");
        (data.claims, header.typ)
    }

    fn received(&self) -> Vec<(String, String)> {
        self.received.0.lock().expect("lock").clone()
    }
}

type Params = HashMap<String, String>;

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn config() -> Config {
    Config::new(ISSUER).expect("issuer")
}

fn claims_of(op: &Op, id_token: &str, client: &str) -> Value {
    op.verify(id_token, client).0
}

#[tokio::test]
async fn single_logout_from_one_client_logs_out_of_both() {
    let op = start(config()).await;
    let sid = op.login("browser-1", "alice").await;
    let a = op.authorize("browser-1", "rp-a", &[]).await;
    let b = op.authorize("browser-1", "rp-b", &[]).await;
    // Both ID tokens of each flow carry the session's sid (Front-/Back-Channel Logout §2.1, §3).
    let front = claims_of(&op, &a["id_token"], "rp-a");
    assert_eq!(front["sid"], sid.as_str());
    let tokens_a = op.token("rp-a", &a["code"]).await;
    let back = claims_of(
        &op,
        tokens_a["id_token"].as_str().expect("id_token"),
        "rp-a",
    );
    assert_eq!(back["sid"], sid.as_str());
    let tokens_b = op.token("rp-b", &b["code"]).await;
    let access_a = tokens_a["access_token"].as_str().expect("token");
    let access_b = tokens_b["access_token"].as_str().expect("token");
    assert_eq!(op.userinfo_status(access_a).await, 200);

    // RP-initiated logout at rp-a with its ID token, a registered redirect and a state.
    let query = form(&[
        ("id_token_hint", &a["id_token"]),
        ("post_logout_redirect_uri", "https://rp-a.example/bye"),
        ("state", "bye state&1"),
        ("ui_locales", "fr en"),
    ]);
    let response = op
        .get(&format!("/end_session?{query}"), Some("browser-1"))
        .await;
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let page = response.text().await.expect("page");
    // Front-channel: a frame per client, exactly those frames allowed, then the redirect.
    let iss = form(&[("iss", ISSUER), ("sid", sid.as_str())]);
    let frame_a = format!("https://rp-a.example/fc?{iss}").replace('&', "&amp;");
    assert!(page.contains(&format!("src=\"{frame_a}\"")), "{page}");
    assert!(page.contains("src=\"https://rp-b.example/fc\""), "{page}");
    assert!(
        csp.contains("frame-src https://rp-a.example/fc https://rp-b.example/fc;"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(page.contains("data-next=\"https://rp-a.example/bye?state=bye+state%261\""));

    // Back-channel: one logout token per client, verified as each RP would (§2.6).
    let mut received = op.received();
    received.sort();
    let uris: Vec<&str> = received.iter().map(|(uri, _)| uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "https://rp-a.example/bc",
            "https://rp-b.example/bc?tenant=1"
        ]
    );
    for ((_, token), client) in received.iter().zip(["rp-a", "rp-b"]) {
        let (claims, typ) = op.verify(token, client);
        assert_eq!(typ.as_deref(), Some("logout+jwt"));
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], client);
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["sid"], sid.as_str());
        assert_eq!(claims["events"], json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 32));
        assert!(claims.get("nonce").is_none(), "never a nonce (§2.4)");
        let (iat, exp) = (claims["iat"].as_u64(), claims["exp"].as_u64());
        assert_eq!(exp.zip(iat).map(|(e, i)| e - i), Some(120));
    }

    // The grants issued under the session are revoked (no offline_access).
    assert_eq!(op.userinfo_status(access_a).await, 401);
    assert_eq!(op.userinfo_status(access_b).await, 401);
    // The session is over: prompt=none now answers login_required, even were the host's
    // cookie still to name the ended session.
    let again = op
        .get(
            &format!(
                "/authorize?{}",
                form(&[
                    ("response_type", "code id_token"),
                    ("client_id", "rp-b"),
                    ("redirect_uri", "https://rp-b.example/cb"),
                    ("scope", "openid"),
                    ("state", "s"),
                    ("nonce", "n"),
                    ("prompt", "none"),
                ])
            ),
            Some("browser-1"),
        )
        .await;
    let location = again.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(location.contains("error=login_required"), "{location}");
    assert_eq!(op.endpoints.provider().session(&sid).await, Ok(None));
}

/// An error page, never a redirect: the reason's code and description (REQUIREMENTS 26).
async fn assert_refused(op: &Op, query: &str, code: &str, description: &str) {
    let response = op
        .get(&format!("/end_session?{query}"), Some("browser-1"))
        .await;
    assert_eq!(response.status(), 400, "{query}");
    assert!(
        response.headers().get("location").is_none(),
        "never redirected"
    );
    let page = response.text().await.expect("page");
    assert!(
        page.contains(&format!("<code id=\"error\">{code}</code>")),
        "{page}"
    );
    assert!(page.contains(description), "{page}");
}

#[tokio::test]
async fn end_session_errors_are_shown_and_never_redirect() {
    let op = start(config()).await;
    op.login("browser-1", "alice").await;
    let a = op.authorize("browser-1", "rp-a", &[]).await;
    let hint = &a["id_token"];
    // Not registered, not even as a prefix or with another query (RP-Initiated Logout §3).
    for uri in [
        "https://evil.example/",
        "https://rp-a.example/bye/",
        "https://rp-a.example/bye?x=2",
        "https://rp-a.example/cb",
    ] {
        let query = form(&[("id_token_hint", hint), ("post_logout_redirect_uri", uri)]);
        let text = "post_logout_redirect_uri is not registered for the client";
        assert_refused(&op, &query, "invalid_request", text).await;
    }
    // Without a client, no registration vouches for the URI.
    let query = form(&[("post_logout_redirect_uri", "https://rp-a.example/bye")]);
    let text = "post_logout_redirect_uri requires client_id or id_token_hint";
    assert_refused(&op, &query, "invalid_request", text).await;
    // client_id must be the hint's audience.
    let query = form(&[("id_token_hint", hint), ("client_id", "rp-b")]);
    let text = "client_id is not the audience of id_token_hint";
    assert_refused(&op, &query, "invalid_request", text).await;
    // An unknown client_id.
    let query = form(&[("client_id", "nobody")]);
    assert_refused(&op, &query, "invalid_client", "").await;
    // A hint whose signature does not verify, or that is not a JWS.
    let (head, rest) = hint.split_once('.').expect("JWS");
    let payload = rest.split_once('.').expect("JWS").0;
    let mut claims: Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).expect("b64"))
            .expect("JSON");
    claims["sub"] = json!("mallory");
    let forged_payload = Base64UrlUnpadded::encode_string(claims.to_string().as_bytes());
    let signature = rest.split_once('.').expect("JWS").1;
    let forged = format!("{head}.{forged_payload}.{signature}");
    for bad in [forged.as_str(), "not-a-jwt"] {
        let query = form(&[("id_token_hint", bad)]);
        let text = "id_token_hint is not a valid ID token of this issuer";
        assert_refused(&op, &query, "invalid_request", text).await;
    }
    // Duplicated parameters.
    let query = form(&[("state", "a"), ("state", "b")]);
    assert_refused(&op, &query, "invalid_request", "").await;
    // Nothing was ended by the refusals.
    assert!(op.received().is_empty());
}

#[tokio::test]
async fn a_logout_that_does_not_name_the_session_is_confirmed_by_the_host() {
    let op = start(config()).await;
    let sid = op.login("browser-1", "alice").await;
    op.authorize("browser-1", "rp-a", &[]).await;
    // Another session's ID token (bob on another browser) does not name alice's session.
    op.login("browser-2", "bob").await;
    let bob = op.authorize("browser-2", "rp-a", &[]).await;
    for query in [
        form(&[("client_id", "rp-a")]),
        form(&[("id_token_hint", &bob["id_token"])]),
        String::new(),
    ] {
        let response = op
            .get(&format!("/end_session?{query}"), Some("browser-1"))
            .await;
        assert_eq!(response.status(), 200);
        assert!(
            response
                .text()
                .await
                .expect("page")
                .contains("id=\"confirm\"")
        );
    }
    let confirmations = op
        .endpoints
        .host()
        .confirmations
        .lock()
        .expect("lock")
        .len();
    assert_eq!(confirmations, 3);
    // Nothing ended until the host's page confirms; then Endpoints::logout does it.
    assert!(
        op.endpoints
            .provider()
            .session(&sid)
            .await
            .expect("store")
            .is_some()
    );
    let request = op
        .endpoints
        .host()
        .confirmations
        .lock()
        .expect("lock")
        .remove(0);
    let page = op
        .endpoints
        .logout(Some(&sid), &request, "<p>bye</p>")
        .await;
    assert_eq!(page.status(), 200);
    assert_eq!(op.endpoints.provider().session(&sid).await, Ok(None));
    assert_eq!(op.received().len(), 1, "rp-a notified");
    // Without a session there is nothing to confirm: the redirect happens at once.
    let query = form(&[
        ("client_id", "rp-a"),
        ("post_logout_redirect_uri", "https://rp-a.example/bye?x=1"),
        ("state", "s"),
    ]);
    let response = op.get(&format!("/end_session?{query}"), None).await;
    let page = response.text().await.expect("page");
    assert!(
        page.contains("data-next=\"https://rp-a.example/bye?x=1&amp;state=s\""),
        "{page}"
    );
}

#[tokio::test]
async fn an_expired_id_token_hint_is_accepted() {
    let mut config = config();
    config.id_token_lifetime = 1;
    let op = start(config).await;
    let sid = op.login("browser-1", "alice").await;
    let a = op.authorize("browser-1", "rp-a", &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let query = form(&[("id_token_hint", &a["id_token"])]);
    let response = op
        .get(&format!("/end_session?{query}"), Some("browser-1"))
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        !response
            .text()
            .await
            .expect("page")
            .contains("id=\"confirm\"")
    );
    assert_eq!(op.endpoints.provider().session(&sid).await, Ok(None));
}

#[tokio::test]
async fn a_session_ended_elsewhere_refuses_new_grants_with_login_required() {
    let op = start(config()).await;
    let sid = op.login("browser-1", "alice").await;
    // Another node (here: the provider directly) ends the session; this host's "cookie" still
    // names it.
    let ended = op
        .endpoints
        .provider()
        .logout(Some(&sid), &LogoutRequest::from_host())
        .await;
    assert!(ended.expect("logout").ended);
    let redirect = "https://rp-a.example/cb";
    let query = form(&[
        ("response_type", "code id_token"),
        ("client_id", "rp-a"),
        ("redirect_uri", redirect),
        ("scope", "openid"),
        ("state", "s"),
        ("nonce", "n"),
    ]);
    let response = op
        .get(&format!("/authorize?{query}"), Some("browser-1"))
        .await;
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(location.contains("error=login_required"), "{location}");
    assert!(!location.contains("code="), "{location}");
}

#[tokio::test]
async fn offline_grants_outlive_the_session_unless_the_policy_says_otherwise() {
    for (policy, survives) in [
        (LogoutPolicy::KeepOffline, true),
        (LogoutPolicy::RevokeAll, false),
    ] {
        let mut config = config();
        config.logout_policy = policy;
        let op = start(config).await;
        let sid = op.login("browser-1", "alice").await;
        let offline = op
            .authorize(
                "browser-1",
                "rp-c",
                &[("scope", "openid offline_access"), ("prompt", "consent")],
            )
            .await;
        let online = op.authorize("browser-1", "rp-a", &[]).await;
        let offline = op.token("rp-c", &offline["code"]).await;
        assert!(
            offline["refresh_token"].is_string(),
            "offline_access granted"
        );
        // A refreshed ID token repeats the session's sid (Back-Channel Logout §2.1).
        let refreshed = op
            .refresh("rp-c", offline["refresh_token"].as_str().expect("rt"))
            .await;
        let claims = claims_of(
            &op,
            refreshed["id_token"].as_str().expect("id_token"),
            "rp-c",
        );
        assert_eq!(claims["sid"], sid.as_str());
        let offline = refreshed;
        let online = op.token("rp-a", &online["code"]).await;
        let page = op
            .endpoints
            .logout(Some(&sid), &LogoutRequest::from_host(), "")
            .await;
        assert_eq!(page.status(), 200);
        let status = op
            .userinfo_status(offline["access_token"].as_str().expect("token"))
            .await;
        assert_eq!(status == 200, survives, "{policy:?}");
        let status = op
            .userinfo_status(online["access_token"].as_str().expect("token"))
            .await;
        assert_eq!(status, 401, "{policy:?}");
    }
}

#[tokio::test]
async fn discovery_advertises_what_is_implemented() {
    let op = start(config().with_session_management()).await;
    let response = op.get("/.well-known/openid-configuration", None).await;
    let doc: Value = response.json().await.expect("JSON");
    assert_eq!(doc["end_session_endpoint"], format!("{ISSUER}/end_session"));
    for flag in [
        "frontchannel_logout_supported",
        "frontchannel_logout_session_supported",
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
    ] {
        assert_eq!(doc[flag], true, "{flag}");
    }
    assert_eq!(
        doc["check_session_iframe"],
        format!("{ISSUER}/check_session")
    );
    // Without a sender, back-channel logout is not claimed; without Session Management, no
    // iframe.
    let provider = Provider::new(
        config(),
        MemoryStore::new(),
        test_keys(),
        SystemClock,
        OsRandom,
    )
    .expect("provider");
    let doc = serde_json::to_value(provider.discovery()).expect("JSON");
    assert_eq!(doc["backchannel_logout_supported"], false);
    assert!(doc.get("check_session_iframe").is_none());
}

#[tokio::test]
async fn session_state_is_verifiable_and_the_iframe_is_served() {
    let op = start(config().with_session_management()).await;
    let sid = op.login("browser-1", "alice").await;
    let a = op.authorize("browser-1", "rp-a", &[]).await;
    let state = &a["session_state"];
    let salt = state.split_once('.').expect("hash.salt").1;
    // Session Management 1.0 §3: client_id, the RP's origin, the OP browser state, the salt.
    let expected = session_state("rp-a", "https://rp-a.example", &sid.browser_state(), salt);
    assert_eq!(state, &expected);
    let input = format!("rp-a https://rp-a.example {} {salt}", sid.browser_state());
    let hex: String = sha2::Sha256::digest(input.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(state, &format!("{hex}.{salt}"), "computed independently");
    // Without Session Management, no session_state.
    let plain = start(config()).await;
    plain.login("browser-1", "alice").await;
    assert!(
        !plain
            .authorize("browser-1", "rp-a", &[])
            .await
            .contains_key("session_state")
    );
    // The OP iframe page: its own script only, frameable by the clients.
    let page = op.get("/check_session", None).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(
        page.text()
            .await
            .expect("page")
            .contains("oidc_browser_state")
    );
    assert_eq!(plain.get("/check_session", None).await.status(), 404);
}

#[test]
fn logout_uris_must_be_https_without_a_fragment() {
    use oidc_hybrid::{ClientMetadata, Reject};
    let register = |member: &str, uri: &str| {
        let mut metadata = json!({
            "client_id": "rp",
            "client_secret": SECRET,
            "redirect_uris": ["https://rp.example/cb"],
        });
        metadata[member] = if member == "post_logout_redirect_uris" {
            json!([uri])
        } else {
            json!(uri)
        };
        let metadata: ClientMetadata = serde_json::from_value(metadata).expect("metadata");
        Client::register(metadata).map(|_| ())
    };
    for member in [
        "post_logout_redirect_uris",
        "backchannel_logout_uri",
        "frontchannel_logout_uri",
    ] {
        for bad in [
            "http://rp.example/x",
            "https://rp.example/x#f",
            "/relative",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                register(member, bad),
                Err(Reject::LogoutUriInvalid),
                "{member} {bad}"
            );
        }
        for good in [
            "https://rp.example/x?y=1",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
        ] {
            assert_eq!(register(member, good), Ok(()), "{member} {good}");
        }
    }
}
