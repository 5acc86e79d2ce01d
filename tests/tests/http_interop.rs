//! The demo IdP over real HTTP on loopback, driven by a scripted user agent (cookies, no
//! redirect following, the login and consent forms parsed and submitted) and validated by a
//! third-party relying-party library, the `openidconnect` crate: discovery, JWKS, every hybrid
//! response type in fragment and form_post mode, both client authentication methods, the
//! front-channel `c_hash` / `at_hash`, the second ID token and its consistency with the first,
//! UserInfo and refresh; then the negative cases.
//!
//! The `openidconnect` crate (4.x, on `oauth2` 5) authenticates clients only with
//! `client_secret_basic` and `client_secret_post`: it has no client assertions, request objects
//! or PAR, so `private_key_jwt`, `client_secret_jwt` and PAR are checked with `openid-client`
//! (http_node.rs) and the playground (http_browser.rs).

mod http_support;

use std::time::Duration;

use http_support::{Agent, ES_CLIENT, Outcome, RS_CLIENT, RunningDemo, SECRET, USER};
use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthType, AuthorizationCode, AuthorizationCodeHash, ClientId,
    ClientSecret, CsrfToken, IntrospectionUrl, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, SubjectIdentifier, TokenIntrospectionResponse,
    TokenResponse,
};
use serde_json::Value;

fn http_client() -> reqwest::Client {
    // An RP must not follow redirects from the provider's back channel.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A relying party configured from discovery, for one of the built-in clients.
async fn relying_party(
    demo: &RunningDemo,
    http: &reqwest::Client,
    client_id: &str,
) -> (
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    CoreJwsSigningAlgorithm,
) {
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(demo.issuer.clone()).expect("url"),
        http,
    )
    .await
    .expect("discovery and JWKS are accepted by openidconnect");
    let (auth, alg) = if client_id == RS_CLIENT {
        (
            AuthType::BasicAuth,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        )
    } else {
        (
            AuthType::RequestBody,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        )
    };
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(demo.redirect_uri()).expect("url"))
    .set_auth_type(auth);
    (client, alg)
}

#[derive(Clone, Copy, Debug)]
struct Case {
    client: &'static str,
    response_type: &'static [CoreResponseType],
    form_post: bool,
}

const CASES: [Case; 6] = [
    Case {
        client: RS_CLIENT,
        response_type: &[CoreResponseType::Code, CoreResponseType::IdToken],
        form_post: false,
    },
    Case {
        client: ES_CLIENT,
        response_type: &[CoreResponseType::Code, CoreResponseType::IdToken],
        form_post: true,
    },
    Case {
        client: ES_CLIENT,
        response_type: &[CoreResponseType::Code, CoreResponseType::Token],
        form_post: false,
    },
    Case {
        client: RS_CLIENT,
        response_type: &[CoreResponseType::Code, CoreResponseType::Token],
        form_post: true,
    },
    Case {
        client: RS_CLIENT,
        response_type: &[
            CoreResponseType::Code,
            CoreResponseType::IdToken,
            CoreResponseType::Token,
        ],
        form_post: false,
    },
    Case {
        client: ES_CLIENT,
        response_type: &[
            CoreResponseType::Code,
            CoreResponseType::IdToken,
            CoreResponseType::Token,
        ],
        form_post: true,
    },
];

async fn run_case(demo: &RunningDemo, case: Case) {
    let http = http_client();
    let (rp, alg) = relying_party(demo, &http, case.client).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            CoreAuthenticationFlow::Hybrid(case.response_type.to_vec()),
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        // The flow refreshes: offline_access with prompt=consent (OIDC Core §11).
        .add_scope(Scope::new("offline_access".into()))
        .add_prompt(CoreAuthPrompt::Consent)
        .set_pkce_challenge(challenge);
    if case.form_post {
        request = request.add_extra_param("response_mode", "form_post");
    }
    let (url, csrf, nonce) = request.url();

    // The user agent: login page, consent page (first button), then the response.
    let agent = Agent::new(demo);
    let outcome = agent.authorize(url.as_str(), USER).await;
    match (&outcome, case.form_post) {
        (Outcome::Redirect(location), false) => {
            let (target, _) = location.split_once('#').expect("a fragment");
            assert_eq!(target, demo.redirect_uri(), "{case:?}");
        }
        (Outcome::FormPost { action, .. }, true) => assert_eq!(*action, demo.redirect_uri()),
        (other, _) => panic!("{case:?}: unexpected outcome {other:?}"),
    }
    let params = outcome.params();
    assert_eq!(params["state"], *csrf.secret(), "state echoed");
    assert_eq!(params["iss"], demo.issuer, "RFC 9207 iss");
    let code = AuthorizationCode::new(params["code"].clone());
    let front_token = params
        .get("access_token")
        .map(|t| AccessToken::new(t.clone()));
    let wants_token = case.response_type.contains(&CoreResponseType::Token);
    assert_eq!(front_token.is_some(), wants_token, "{case:?}");
    if wants_token {
        assert_eq!(params["token_type"], "Bearer");
    }

    let verifier_for_ids = rp.id_token_verifier().set_allowed_algs([alg.clone()]);
    // The front-channel ID token, with its hash claims (OIDC Core §3.3.2.11).
    let front = params.get("id_token").map(|raw| {
        let id_token: CoreIdToken = raw.parse().expect("an ID token");
        let claims = id_token
            .claims(&verifier_for_ids, &nonce)
            .expect("openidconnect accepts the front-channel ID token")
            .clone();
        let signing_alg = id_token.signing_alg().expect("alg");
        let key = id_token.signing_key(&verifier_for_ids).expect("key");
        let c_hash = AuthorizationCodeHash::from_code(&code, signing_alg, key).expect("c_hash");
        assert_eq!(claims.code_hash(), Some(&c_hash), "{case:?}: c_hash");
        if let Some(token) = &front_token {
            let at_hash = AccessTokenHash::from_token(token, signing_alg, key).expect("at_hash");
            assert_eq!(
                claims.access_token_hash(),
                Some(&at_hash),
                "{case:?}: at_hash"
            );
        }
        claims
    });
    assert_eq!(
        front.is_some(),
        case.response_type.contains(&CoreResponseType::IdToken)
    );

    // The front-channel access token works at UserInfo.
    if let Some(token) = &front_token {
        let claims: openidconnect::core::CoreUserInfoClaims = rp
            .user_info(token.clone(), None)
            .expect("userinfo endpoint")
            .request_async(&http)
            .await
            .expect("UserInfo accepts the front-channel access token");
        assert_eq!(claims.subject().as_str(), "alice");
    }

    // The code at the token endpoint, with the client's registered authentication method.
    let tokens = rp
        .exchange_code(code)
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the token endpoint answers");
    let id_token = tokens
        .id_token()
        .expect("an ID token from the token endpoint");
    let back = id_token
        .claims(&verifier_for_ids, &nonce)
        .expect("openidconnect accepts the back-channel ID token")
        .clone();
    let signing_alg = id_token.signing_alg().expect("alg");
    let key = id_token.signing_key(&verifier_for_ids).expect("key");
    let at_hash =
        AccessTokenHash::from_token(tokens.access_token(), signing_alg, key).expect("at_hash");
    assert_eq!(back.access_token_hash(), Some(&at_hash));

    // Both ID tokens describe the same authentication (OIDC Core §3.3.3.6).
    if let Some(front) = &front {
        assert_eq!(front.issuer(), back.issuer());
        assert_eq!(front.subject(), back.subject());
        assert_eq!(front.audiences(), back.audiences());
        assert_eq!(
            front.nonce().map(Nonce::secret),
            back.nonce().map(Nonce::secret)
        );
        assert_eq!(front.auth_time(), back.auth_time());
        assert!(back.auth_time().is_some());
    }

    // UserInfo, with the subject the RP expects.
    let userinfo: openidconnect::core::CoreUserInfoClaims = rp
        .user_info(
            tokens.access_token().clone(),
            Some(SubjectIdentifier::new("alice".into())),
        )
        .expect("userinfo endpoint")
        .request_async(&http)
        .await
        .expect("UserInfo answers for the ID token's subject");
    assert_eq!(
        userinfo.email().map(|e| e.as_str()),
        Some("alice@wonderland.example")
    );
    assert!(userinfo.name().is_some(), "profile claims released");

    // Introspection (RFC 7662) through openidconnect's client, at the endpoint discovery names.
    let discovery: Value = http
        .get(format!("{}/.well-known/openid-configuration", demo.issuer))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("JSON");
    let endpoint = discovery["introspection_endpoint"]
        .as_str()
        .expect("advertised");
    let introspector = rp
        .clone()
        .set_introspection_url(IntrospectionUrl::new(endpoint.into()).expect("a URL"));
    let introspection = introspector
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .expect("the introspection endpoint answers");
    assert!(introspection.active(), "{case:?}");
    assert_eq!(introspection.sub(), Some("alice"));
    assert_eq!(
        introspection.client_id().map(|c| c.as_str()),
        Some(case.client)
    );
    let foreign = AccessToken::new("not-a-token-of-this-provider".into());
    let unknown = introspector
        .introspect(&foreign)
        .request_async(&http)
        .await
        .expect("the introspection endpoint answers");
    assert!(!unknown.active());

    // Refresh: a new ID token for the same subject and authentication.
    let refresh = tokens.refresh_token().expect("a refresh token");
    let renewed = rp
        .exchange_refresh_token(refresh)
        .expect("token endpoint")
        .request_async(&http)
        .await
        .expect("refresh works");
    assert_ne!(
        renewed.refresh_token().map(|t| t.secret()),
        Some(refresh.secret())
    );
    let renewed_claims = renewed
        .id_token()
        .expect("an ID token on refresh")
        .claims(&verifier_for_ids, |_: Option<&Nonce>| Ok(()))
        .expect("openidconnect accepts the refreshed ID token");
    assert_eq!(renewed_claims.subject(), back.subject());
    assert_eq!(renewed_claims.auth_time(), back.auth_time());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hybrid_response_type_in_both_modes_with_openidconnect() {
    let demo = http_support::start().await;
    for case in CASES {
        run_case(&demo, case).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_and_jwks_headers() {
    let demo = http_support::start().await;
    let http = http_client();
    for path in ["/.well-known/openid-configuration", "/jwks"] {
        let response = http
            .get(demo.url(path))
            .header("origin", "https://spa.example")
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers["access-control-allow-origin"], "*");
        assert_eq!(headers["cache-control"], "public, max-age=300");
        let json: Value = response.json().await.expect("JSON");
        if path == "/jwks" {
            let algs: Vec<&str> = json["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .map(|k| k["alg"].as_str().expect("alg"))
                .collect();
            assert!(
                algs.contains(&"RS256") && algs.contains(&"ES256"),
                "{algs:?}"
            );
        } else {
            assert_eq!(json["issuer"], demo.issuer);
            assert_eq!(json["authorization_response_iss_parameter_supported"], true);
        }
    }
    // No CORS at the authorization endpoint.
    let response = http
        .get(demo.url("/authorize?client_id=demo-client"))
        .header("origin", "https://spa.example")
        .send()
        .await
        .expect("GET");
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// A raw authorization URL for the RS256 client.
fn authorize_url(demo: &RunningDemo, pairs: &[(&str, &str)]) -> String {
    let redirect = demo.redirect_uri();
    let mut all = vec![
        ("client_id", RS_CLIENT),
        ("redirect_uri", redirect.as_str()),
        ("scope", "openid"),
        ("state", "s-123"),
    ];
    all.extend_from_slice(pairs);
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&all)
        .finish();
    demo.url(&format!("/authorize?{query}"))
}

fn assert_error_page(page: &http_support::Page, message: &str) {
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.location().is_none(), "never redirected");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(page.body.contains(message), "{message}: {}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_cases() {
    let demo = http_support::start().await;
    let agent = Agent::new(&demo);

    // An unregistered redirect URI: an error page, never a redirect.
    let page = agent
        .get(&demo.url(
            "/authorize?response_type=code+id_token&client_id=demo-client&nonce=n&scope=openid\
             &redirect_uri=https%3A%2F%2Fattacker.example%2Fcb",
        ))
        .await;
    assert_error_page(&page, "redirect_uri is not registered for this client");
    // An unknown client.
    let page = agent
        .get(&demo.url(
            "/authorize?response_type=code+id_token&client_id=nobody&nonce=n&scope=openid\
             &redirect_uri=https%3A%2F%2Frp.example%2Fcb",
        ))
        .await;
    assert_error_page(&page, "the client is unknown");

    // A missing nonce: redirected (the client is verified) as invalid_request in the fragment.
    let page = agent
        .get(&authorize_url(&demo, &[("response_type", "code id_token")]))
        .await;
    assert_eq!(page.status, 303);
    let location = page.location().expect("Location");
    let (target, fragment) = location.split_once('#').expect("a fragment");
    assert_eq!(target, demo.redirect_uri());
    assert!(fragment.contains("error=invalid_request"), "{fragment}");
    assert!(fragment.contains("nonce"), "{fragment}");
    assert!(fragment.contains("state=s-123"));

    // Query mode with tokens: refused, and the error itself is not sent in the query.
    let page = agent
        .get(&authorize_url(
            &demo,
            &[
                ("response_type", "code id_token"),
                ("nonce", "n"),
                ("response_mode", "query"),
            ],
        ))
        .await;
    assert_eq!(page.status, 303);
    let location = page.location().expect("Location");
    assert!(!location.contains("?error"), "{location}");
    let (_, fragment) = location.split_once('#').expect("a fragment");
    assert!(fragment.contains("error=invalid_request"), "{fragment}");
    assert!(fragment.contains("response_mode%3Dquery"), "{fragment}");

    // A wrong password shows the login page again; the right one goes on to consent.
    let url = authorize_url(&demo, &[("response_type", "code id_token"), ("nonce", "n")]);
    let login = agent.get(&url).await;
    let form = login.forms().into_iter().next().expect("login form");
    assert!(form.has_field("username") && form.has_field("password"));
    let again = agent
        .submit(&form, &[("username", "alice"), ("password", "nope")], 0)
        .await;
    assert_eq!(again.status, 200);
    assert!(again.body.contains("Wrong username or password"));
    assert!(again.location().is_none());
    // A form without the session's CSRF token is refused.
    let form = again.forms().into_iter().next().expect("login form");
    let forged = agent
        .submit(
            &form,
            &[
                ("username", USER.0),
                ("password", USER.1),
                ("csrf", "forged"),
            ],
            0,
        )
        .await;
    assert_eq!(forged.status, 403);
    // Denying consent: access_denied to the client.
    let login = agent.get(&url).await;
    let form = login.forms().into_iter().next().expect("login form");
    let consent = agent
        .submit(&form, &[("username", USER.0), ("password", USER.1)], 0)
        .await;
    let form = consent.forms().into_iter().next().expect("consent form");
    assert_eq!(form.buttons[0], ("decision".into(), "approve".into()));
    assert_eq!(form.buttons[1], ("decision".into(), "deny".into()));
    assert!(
        consent.body.contains("<code>openid</code>"),
        "scopes listed"
    );
    let denied = agent.submit(&form, &[], 1).await;
    assert_eq!(denied.status, 303);
    assert!(
        denied
            .location()
            .expect("Location")
            .contains("error=access_denied")
    );

    // Code replay: the second redemption fails and revokes the first one's tokens.
    let http = http_client();
    let (rp, _) = relying_party(&demo, &http, RS_CLIENT).await;
    let (url, _, _) = rp
        .authorize_url(
            CoreAuthenticationFlow::Hybrid(vec![CoreResponseType::Code, CoreResponseType::IdToken]),
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let outcome = agent.authorize(url.as_str(), USER).await;
    let code = outcome.params()["code"].clone();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code.clone()))
        .expect("token endpoint")
        .request_async(&http)
        .await
        .expect("first redemption");
    let replay = rp
        .exchange_code(AuthorizationCode::new(code))
        .expect("token endpoint")
        .request_async(&http)
        .await;
    let error = format!("{:?}", replay.expect_err("a replayed code is refused"));
    assert!(error.contains("invalid_grant"), "{error}");
    let userinfo = http
        .get(demo.url("/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .expect("GET");
    assert_eq!(
        userinfo.status(),
        401,
        "the grant was revoked by the replay"
    );
    assert_eq!(
        userinfo.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );

    // A wrong secret through Basic: 401 with a challenge.
    let response = http
        .post(demo.url("/token"))
        .basic_auth(RS_CLIENT, Some("wrong-secret-wrong-secret-wrong-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=x&redirect_uri=x")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"token\""
    );
    // An oversized body: 413.
    let response = http
        .post(demo.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type={}", "x".repeat(20_000)))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_serves_prompt_none_and_max_age() {
    let demo = http_support::start().await;
    let agent = Agent::new(&demo);
    let base = [("response_type", "code id_token"), ("nonce", "n")];
    // Without a session, prompt=none fails at once.
    let page = agent
        .get(&authorize_url(
            &demo,
            &[base[0], base[1], ("prompt", "none")],
        ))
        .await;
    assert_eq!(page.status, 303);
    assert!(
        page.location()
            .expect("Location")
            .contains("error=login_required")
    );
    // Log in and consent once.
    let outcome = agent.authorize(&authorize_url(&demo, &base), USER).await;
    assert!(outcome.params().contains_key("code"));
    // Now prompt=none succeeds without any page (session cookie, remembered consent).
    let page = agent
        .get(&authorize_url(
            &demo,
            &[base[0], base[1], ("prompt", "none")],
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location().expect("Location").contains("code="));
    // max_age=0 asks for a new login even with a session, and prompt=none cannot have it.
    let page = agent
        .get(&authorize_url(&demo, &[base[0], base[1], ("max_age", "0")]))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.forms().iter().any(|f| f.has_field("password")));
    let page = agent
        .get(&authorize_url(
            &demo,
            &[base[0], base[1], ("max_age", "0"), ("prompt", "none")],
        ))
        .await;
    assert!(
        page.location()
            .expect("Location")
            .contains("error=login_required")
    );
    // A generous max_age is satisfied by the session.
    let page = agent
        .get(&authorize_url(
            &demo,
            &[base[0], base[1], ("max_age", "3600")],
        ))
        .await;
    assert_eq!(page.status, 303);
    // Another browser (no cookie) shares nothing.
    let stranger = Agent::new(&demo);
    let page = stranger
        .get(&authorize_url(
            &demo,
            &[base[0], base[1], ("prompt", "none")],
        ))
        .await;
    assert!(
        page.location()
            .expect("Location")
            .contains("error=login_required")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_and_users_files() {
    let demo = http_support::start_with(|options, dir| {
        let clients = dir.join("clients.json");
        let users = dir.join("users.json");
        std::fs::write(
            &clients,
            r#"[{"client_id": "files-rp", "client_secret": "files-rp-secret-0123456789abcdefghijkl",
                 "redirect_uris": ["https://files-rp.example/cb"],
                 "response_types": ["code id_token"], "token_endpoint_auth_method": "client_secret_post"}]"#,
        )
        .expect("write");
        std::fs::write(
            &users,
            r#"[{"username": "bob", "password": "builder", "sub": "bob-7", "email": "bob@example.org"}]"#,
        )
        .expect("write");
        options.clients = Some(clients);
        options.users = Some(users);
    })
    .await;
    let agent = Agent::new(&demo);
    let query = "response_type=code+id_token&client_id=files-rp&scope=openid+email&nonce=n\
                 &redirect_uri=https%3A%2F%2Ffiles-rp.example%2Fcb";
    let outcome = agent
        .authorize(
            &demo.url(&format!("/authorize?{query}")),
            ("bob", "builder"),
        )
        .await;
    let params = outcome.params();
    let response = http_client()
        .post(demo.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("grant_type", "authorization_code"),
                    ("code", params["code"].as_str()),
                    ("redirect_uri", "https://files-rp.example/cb"),
                    ("client_id", "files-rp"),
                    ("client_secret", "files-rp-secret-0123456789abcdefghijkl"),
                ])
                .finish(),
        )
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.expect("JSON");
    let userinfo: Value = http_client()
        .get(demo.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(userinfo["sub"], "bob-7");
    assert_eq!(userinfo["email"], "bob@example.org");
    // The built-in user does not exist when a users file is given.
    let page = agent
        .get(&demo.url(&format!("/authorize?{query}&prompt=login")))
        .await;
    let form = page.forms().into_iter().next().expect("login form");
    let again = agent
        .submit(&form, &[("username", USER.0), ("password", USER.1)], 0)
        .await;
    assert!(again.body.contains("Wrong username or password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_stop_the_demo_naming_the_file_entry_and_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clients = dir.path().join("clients.json");
    std::fs::write(
        &clients,
        r#"[{"client_id": "ok", "client_secret": "0123456789abcdef0123456789abcdef",
             "redirect_uris": ["https://ok.example/cb"]},
            {"client_id": "plain-http", "client_secret": "0123456789abcdef0123456789abcdef",
             "redirect_uris": ["http://rp.example/cb"]}]"#,
    )
    .expect("write");
    let mut options = oidc_hybrid_demo::Options::default();
    options.database_url = "sqlite::memory:".into();
    options.keys_dir = Some(dir.path().to_owned());
    options.clients = Some(clients.clone());
    let addr = "127.0.0.1:9".parse().expect("addr");
    let error = oidc_hybrid_demo::build(&options, addr)
        .await
        .expect_err("a bad clients file stops the demo")
        .to_string();
    assert!(error.contains(&clients.display().to_string()), "{error}");
    assert!(error.contains("entry 2 (\"plain-http\")"), "{error}");
    assert!(error.contains("must use https"), "{error}");
    assert!(
        !dir.path().join("oidc-demo.es256.pem").exists(),
        "nothing is created before the files are checked"
    );
}
