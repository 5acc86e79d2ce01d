//! Interop with `openid-client` (Node.js), a third-party relying-party library, for
//! `code id_token` in fragment and form_post mode against the demo IdP on loopback
//! (`tests/interop/node/openid-client.mjs`). When Node.js or the npm packages are missing,
//! `cargo test` lists the test as `ignored, needs …` (the crate's build script sees what is
//! missing), except under CI (`CI=true`), where that is a failure.

mod http_support;

use std::time::Duration;

use http_support::{ES_CLIENT, RS_CLIENT, SECRET, USER};
use serde_json::Value;

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
