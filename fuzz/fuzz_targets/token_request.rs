//! Token endpoint input: the form body, then (after the first `\n`) the `Authorization` header.
//! `Params::parse` → `TokenRequest::parse` and `Credentials::parse` → `authenticate` against the
//! fixture clients, then the whole `Provider::token` and `Provider::revoke` over a memory store;
//! the same header and body as a UserInfo request (`UserInfoRequest::parse`,
//! `Provider::userinfo`).
//!
//! Invariants: no panic; `invalid_client` after the header was used answers 401 with a Basic
//! challenge (RFC 6749 §5.2); authentication succeeds only with the registered method and the
//! fixture secret; error bodies are JSON with a safe description.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc_hybrid::client_auth::Authentication;
use oidc_hybrid::{
    Client, Credentials, EndpointError, ErrorCode, Params, TokenEndpointAuthMethod, TokenRequest,
    UserInfoRequest,
};
use oidc_hybrid_fuzz::{
    Directory, FuzzProvider, SECRET, START, TestClock, block_on, clients, provider,
};
use serde_json::Value;

struct Fixture {
    clients: Vec<Client>,
    provider: FuzzProvider,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        clients: clients(),
        provider: provider(TestClock::at(START), 1),
    })
}

fn check_error(error: &EndpointError, header: bool) {
    if header && error.code() == ErrorCode::InvalidClient {
        assert_eq!(error.status(), 401, "invalid_client via the header is 401");
        assert!(
            error
                .www_authenticate()
                .is_some_and(|c| c.starts_with("Basic"))
        );
    }
    if !header && error.code() == ErrorCode::InvalidClient {
        assert_eq!(
            error.status(),
            400,
            "invalid_client without the header is 400"
        );
    }
    let body: Value = serde_json::from_str(&error.to_json()).expect("error body is JSON");
    assert_eq!(body["error"], error.code().as_str());
    assert!(oidc_hybrid_fuzz::safe_description(
        body["error_description"].as_str().expect("a description")
    ));
}

fuzz_target!(|data: &[u8]| {
    let (body, header) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(body) = std::str::from_utf8(body) else {
        return;
    };
    let header = match header.map(std::str::from_utf8) {
        Some(Ok(h)) => Some(h),
        Some(Err(_)) => return,
        None => None,
    };
    let fx = fixture();
    let Ok(params) = Params::parse(body) else {
        return;
    };
    if let Err(error) = TokenRequest::parse(&params, header) {
        check_error(&error, header.is_some());
    }
    match Credentials::parse(&params, header) {
        Err(error) => check_error(&error, header.is_some()),
        Ok(credentials) => {
            assert_eq!(credentials.used_header(), header.is_some());
            let client = fx
                .clients
                .iter()
                .find(|c| c.id() == credentials.client_id());
            match credentials.clone().authenticate(client.cloned()) {
                Err(error) => {
                    assert_eq!(error.code(), ErrorCode::InvalidClient);
                    check_error(&error, header.is_some());
                }
                Ok(Authentication::Done(authenticated)) => {
                    let client = client.expect("authenticated a registered client");
                    assert_eq!(authenticated.id(), client.id());
                    assert_eq!(authenticated.used_header(), header.is_some());
                    match (&credentials, client.auth_method()) {
                        (
                            Credentials::Basic { secret, .. },
                            TokenEndpointAuthMethod::ClientSecretBasic,
                        )
                        | (
                            Credentials::Post { secret, .. },
                            TokenEndpointAuthMethod::ClientSecretPost,
                        ) => assert_eq!(secret.expose(), SECRET, "only the right secret"),
                        (Credentials::Public { .. }, TokenEndpointAuthMethod::None) => {}
                        other => panic!("authenticated with the wrong method: {other:?}"),
                    }
                }
                Ok(other) => panic!("no fixture client authenticates with a JWT: {other:?}"),
            }
        }
    }
    // The whole endpoint: no code or refresh token exists in this store, so it always fails.
    match block_on(fx.provider.token(&params, header)) {
        Ok(_) => panic!("a token was issued without any code or refresh token"),
        Err(error) => check_error(&error, header.is_some()),
    }
    if let Err(error) = block_on(fx.provider.revoke(&params, header)) {
        check_error(&error, header.is_some());
    }
    // UserInfo: a bearer token from the header or the body, never both (RFC 6750 §2).
    for body in [None, Some(&params)] {
        match UserInfoRequest::parse(header, body) {
            Ok(request) => {
                let token = request.token();
                assert!(!token.expose().is_empty());
                if header.is_some() {
                    assert!(token.expose().len() <= 4096);
                }
            }
            Err(error) => {
                assert_ne!(error.code(), ErrorCode::InvalidClient);
                check_error(&error, false);
            }
        }
        match block_on(fx.provider.userinfo(&Directory, header, body)) {
            Ok(_) => panic!("userinfo answered for a token never issued"),
            Err(error) => {
                assert!(
                    matches!(error.status(), 400 | 401),
                    "status {}",
                    error.status()
                );
                check_error(&error, false);
            }
        }
    }
});
