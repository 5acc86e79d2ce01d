//! Interop with `openid-client` (Node.js), a third-party relying-party library, for
//! `code id_token` in fragment and form_post mode against the demo IdP on loopback
//! (`tests/interop/node/openid-client.mjs`): with client secrets, with client assertions
//! (`private_key_jwt` with ES256 and PS256, `client_secret_jwt`), and through PAR with a request
//! object signed by the client. When Node.js or the npm packages are missing,
//! `cargo test` lists the test as `ignored, needs …` (the crate's build script sees what is
//! missing), except under CI (`CI=true`), where that is a failure.

mod http_support;

use std::time::Duration;

use http_support::{ES_CLIENT, RS_CLIENT, SECRET, USER};
use oidc_hybrid::{JwsAlgorithm, Signer};
use oidc_hybrid_rustcrypto::{Es256Signer, RsaSigner};
use serde_json::{Value, json};

/// The relying parties' own keys (public test keys).
const CLIENT_ES256_PEM: &str = include_str!("../keys/client-es256.pem");
const CLIENT_PS256_PEM: &str = include_str!("../keys/client-ps256.pem");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_openid_client,
    ignore = "needs Node.js and openid-client: bash scripts/install-node-deps.sh"
)]
async fn openid_client_completes_code_id_token_in_both_modes() {
    if !http_support::node_ready(&["openid-client"]) {
        return;
    }
    let demo = http_support::start().await;
    for (client, auth, alg, mode) in [
        (RS_CLIENT, "basic", "RS256", "fragment"),
        (ES_CLIENT, "post", "ES256", "form_post"),
    ] {
        let env = [
            ("ISSUER", demo.issuer.clone()),
            ("CLIENT_ID", client.to_owned()),
            ("CLIENT_SECRET", SECRET.to_owned()),
            ("AUTH", auth.to_owned()),
            ("ID_TOKEN_ALG", alg.to_owned()),
            ("RESPONSE_MODE", mode.to_owned()),
            ("USERNAME", USER.0.to_owned()),
            ("PASSWORD", USER.1.to_owned()),
        ];
        let (ok, stdout, stderr) =
            http_support::run_node("openid-client.mjs", &env, Duration::from_secs(60)).await;
        assert!(
            ok,
            "openid-client failed for {client} / {mode}:\n{stderr}\n{stdout}"
        );
        let result: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
        assert_eq!(result["ok"], true);
        assert_eq!(result["delivered"], mode);
        assert_eq!(result["iss"], demo.issuer);
        assert_eq!(result["sub"], "alice");
        assert_eq!(result["nonce_matches"], true);
        assert_eq!(result["userinfo_sub"], "alice");
        assert_eq!(result["email"], "alice@wonderland.example");
        assert_eq!(result["refreshed_sub"], "alice");
        assert_eq!(result["refreshed_auth_time"], result["auth_time"]);
        // Introspection (RFC 7662) through openid-client, as a resource server would call it.
        assert_eq!(result["introspected_active"], true);
        assert_eq!(result["introspected_sub"], "alice");
        assert_eq!(result["introspected_client_id"], client);
        assert_eq!(result["introspected_token_type"], "Bearer");
        assert!(
            result["introspected_scope"]
                .as_str()
                .is_some_and(|s| s.split(' ').any(|v| v == "openid")),
            "{result}"
        );
        assert_eq!(result["unknown_active"], false);
    }
}

/// Asserts a completed flow as openid-client reported it.
fn assert_completed(result: &Value, issuer: &str, mode: &str) {
    assert_eq!(result["ok"], true);
    assert_eq!(result["delivered"], mode);
    assert_eq!(result["iss"], issuer);
    assert_eq!(result["sub"], "alice");
    assert_eq!(result["nonce_matches"], true);
    assert_eq!(result["userinfo_sub"], "alice");
    assert_eq!(result["refreshed_sub"], "alice");
    assert_eq!(result["refreshed_auth_time"], result["auth_time"]);
}

/// The key clients, registered through the demo's `--clients` file: `private_key_jwt` with an
/// ES256 key, `private_key_jwt` with a PS256 key that also signs its request objects, and
/// `client_secret_jwt` (HS256).
fn key_clients(redirect_uri: &str, es256: &dyn Signer, ps256: &dyn Signer) -> Value {
    let client = |id: &str, extra: Value| {
        let mut value = json!({
            "client_id": id,
            "redirect_uris": [redirect_uri],
            "response_types": ["code id_token"],
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
        });
        for (name, member) in extra.as_object().expect("an object") {
            value[name] = member.clone();
        }
        value
    };
    json!([
        client(
            "node-pkj-es",
            json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks": {"keys": [es256.public_jwk()]},
            })
        ),
        client(
            "node-pkj-ps",
            json!({
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "PS256",
                "request_object_signing_alg": "PS256",
                "jwks": {"keys": [ps256.public_jwk()]},
            })
        ),
        client(
            "node-csj",
            json!({
                "token_endpoint_auth_method": "client_secret_jwt",
                "token_endpoint_auth_signing_alg": "HS256",
                "client_secret": SECRET,
            })
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    skip_openid_client,
    ignore = "needs Node.js and openid-client: bash scripts/install-node-deps.sh"
)]
async fn openid_client_authenticates_with_jwts_and_pushes_signed_requests() {
    if !http_support::node_ready(&["openid-client"]) {
        return;
    }
    let es256 = Es256Signer::from_pkcs8_pem(CLIENT_ES256_PEM, Some("node-es256")).expect("key");
    let ps256 =
        RsaSigner::from_pkcs8_pem(CLIENT_PS256_PEM, JwsAlgorithm::PS256, Some("node-ps256"))
            .expect("key");
    // The clients file lives in the demo's temporary directory; the SQLite store keeps them
    // (client_secret_jwt's secret included) and the flows read them back from it.
    let demo = http_support::start_with(|options, dir| {
        let issuer = format!("http://{}", options.addr);
        let clients = key_clients(&format!("{issuer}/playground/callback"), &es256, &ps256);
        let path = dir.join("clients.json");
        std::fs::write(&path, clients.to_string()).expect("clients file");
        options.clients = Some(path);
    })
    .await;
    let base = |client: &str, auth: &str, mode: &str| {
        vec![
            ("ISSUER", demo.issuer.clone()),
            ("CLIENT_ID", client.to_owned()),
            ("AUTH", auth.to_owned()),
            ("RESPONSE_MODE", mode.to_owned()),
            ("ID_TOKEN_ALG", "RS256".to_owned()),
            ("USERNAME", USER.0.to_owned()),
            ("PASSWORD", USER.1.to_owned()),
        ]
    };
    let with_key = |mut env: Vec<(&'static str, String)>, pem: &str, alg: &str, kid: &str| {
        env.push(("CLIENT_KEY", pem.to_owned()));
        env.push(("CLIENT_KEY_ALG", alg.to_owned()));
        env.push(("CLIENT_KEY_KID", kid.to_owned()));
        env
    };
    let mut runs = vec![
        (
            "private_key_jwt ES256",
            with_key(
                base("node-pkj-es", "private_key_jwt", "fragment"),
                CLIENT_ES256_PEM,
                "ES256",
                "node-es256",
            ),
        ),
        (
            "private_key_jwt PS256",
            with_key(
                base("node-pkj-ps", "private_key_jwt", "form_post"),
                CLIENT_PS256_PEM,
                "PS256",
                "node-ps256",
            ),
        ),
    ];
    let mut csj = base("node-csj", "client_secret_jwt", "fragment");
    csj.push(("CLIENT_SECRET", SECRET.to_owned()));
    runs.push(("client_secret_jwt HS256", csj));
    let mut pushed = with_key(
        base("node-pkj-ps", "private_key_jwt", "fragment"),
        CLIENT_PS256_PEM,
        "PS256",
        "node-ps256",
    );
    pushed.push(("PAR", "1".to_owned()));
    runs.push(("PAR with a PS256 request object", pushed));
    for (name, env) in &runs {
        let (ok, stdout, stderr) =
            http_support::run_node("openid-client.mjs", env, Duration::from_secs(60)).await;
        assert!(ok, "openid-client failed ({name}):\n{stderr}\n{stdout}");
        let result: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
        let mode = &env
            .iter()
            .find(|(n, _)| *n == "RESPONSE_MODE")
            .expect("mode")
            .1;
        assert_completed(&result, &demo.issuer, mode);
        assert_eq!(
            result["pushed"],
            name.starts_with("PAR"),
            "{name}: {result}"
        );
    }
    // A client signing with a key it did not register is refused at the token endpoint.
    let wrong = with_key(
        base("node-pkj-es", "private_key_jwt", "fragment"),
        CLIENT_PS256_PEM,
        "PS256",
        "node-es256",
    );
    let (ok, stdout, stderr) =
        http_support::run_node("openid-client.mjs", &wrong, Duration::from_secs(60)).await;
    assert!(!ok, "a foreign key must not authenticate: {stdout}");
    assert!(stderr.contains("invalid_client"), "{stderr}");
}
