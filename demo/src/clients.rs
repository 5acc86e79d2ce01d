//! The demo's clients: built-in ones for the playground, or a `--clients` JSON file of RFC 7591
//! metadata (with RFC 7523 / RFC 9101 / RFC 9126 members: `jwks`, `jwks_uri`,
//! `token_endpoint_auth_signing_alg`, `request_object_signing_alg`,
//! `require_pushed_authorization_requests`).

use alloc::sync::Arc;
use std::collections::HashSet;
use std::path::Path;

use oidc_hybrid::{
    Client, ClientMetadata, GrantType, JwsAlgorithm, ResponseType, Signer, TokenEndpointAuthMethod,
};
use serde_json::{Value, json};

use crate::DemoError;
use crate::users::entry_label;

/// The secret of the built-in clients (a demo secret: never use it elsewhere).
pub const BUILTIN_CLIENT_SECRET: &str = "demo-secret-for-the-playground-only-0123456789";

/// What the playground needs to act as one of the registered clients.
#[derive(Clone, Debug)]
pub(crate) struct PlaygroundClient {
    pub(crate) client_id: String,
    pub(crate) name: String,
    pub(crate) secret: Option<String>,
    pub(crate) method: TokenEndpointAuthMethod,
    pub(crate) alg: JwsAlgorithm,
    pub(crate) response_types: Vec<ResponseType>,
    /// The client's own key (`private_key_jwt`, request objects), if the playground holds it.
    pub(crate) key: Option<Arc<dyn Signer>>,
}

impl PlaygroundClient {
    /// Whether the playground can authenticate as this client: it knows its secret, or holds
    /// its key for `private_key_jwt`.
    fn usable(&self) -> bool {
        match self.method {
            TokenEndpointAuthMethod::PrivateKeyJwt => self.key.is_some(),
            TokenEndpointAuthMethod::None => true,
            _ => self.secret.is_some(),
        }
    }
}

/// The clients to register.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) clients: Vec<Client>,
    /// Those the playground can use (registered with its callback).
    pub(crate) playground: Vec<PlaygroundClient>,
    /// Whether these are the built-in clients.
    pub(crate) builtin: bool,
}

/// The playground's redirect URI.
pub(crate) fn callback(issuer: &str) -> String {
    format!("{issuer}/playground/callback")
}

fn builtin(issuer: &str) -> Vec<ClientMetadata> {
    let all = ["code", "code id_token", "code token", "code id_token token"]
        .map(String::from)
        .to_vec();
    let grants = vec![
        GrantType::AuthorizationCode,
        GrantType::Implicit,
        GrantType::RefreshToken,
    ];
    vec![
        ClientMetadata {
            client_id: "demo-client".into(),
            client_secret: Some(BUILTIN_CLIENT_SECRET.into()),
            client_name: Some("Demo client (RS256, client_secret_basic)".into()),
            redirect_uris: vec![callback(issuer)],
            post_logout_redirect_uris: vec![format!("{issuer}/playground")],
            backchannel_logout_uri: Some(format!("{issuer}/playground/backchannel")),
            backchannel_logout_session_required: true,
            frontchannel_logout_uri: Some(format!("{issuer}/playground/frontchannel")),
            frontchannel_logout_session_required: true,
            response_types: Some(all.clone()),
            grant_types: Some(grants.clone()),
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            id_token_signed_response_alg: Some(JwsAlgorithm::RS256),
            ..ClientMetadata::default()
        },
        ClientMetadata {
            client_id: "demo-client-es256".into(),
            client_secret: Some(BUILTIN_CLIENT_SECRET.into()),
            client_name: Some("Demo client (ES256, client_secret_post, s_hash)".into()),
            redirect_uris: vec![callback(issuer)],
            post_logout_redirect_uris: vec![format!("{issuer}/playground")],
            response_types: Some(all),
            grant_types: Some(grants),
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
            id_token_signed_response_alg: Some(JwsAlgorithm::ES256),
            id_token_s_hash: true,
            ..ClientMetadata::default()
        },
    ]
}

/// The built-in clients that authenticate with JWTs (RFC 7523): `demo-client-jwt`
/// (`private_key_jwt` with `key`, whose public half is its registered `jwks`; it signs request
/// objects with it too) and `demo-client-hs256` (`client_secret_jwt`, HS256 with the built-in
/// secret). Nothing is added when the clients come from a file.
pub(crate) fn add_jwt_clients(
    loaded: &mut Loaded,
    issuer: &str,
    key: Arc<dyn Signer>,
) -> Result<(), DemoError> {
    if !loaded.builtin {
        return Ok(());
    }
    let alg = key.algorithm().as_str();
    let common = json!({
        "redirect_uris": [callback(issuer)],
        "response_types": ["code", "code id_token", "code token", "code id_token token"],
        "grant_types": ["authorization_code", "implicit", "refresh_token"],
        "id_token_signed_response_alg": "ES256",
    });
    let entries = [
        (
            json!({"client_id": "demo-client-jwt",
                   "client_name": "Demo client (ES256, private_key_jwt, request objects)",
                   "token_endpoint_auth_method": "private_key_jwt",
                   "token_endpoint_auth_signing_alg": alg, "request_object_signing_alg": alg,
                   "jwks": {"keys": [key.public_jwk()]}}),
            Some(key),
        ),
        (
            json!({"client_id": "demo-client-hs256",
                   "client_name": "Demo client (ES256, client_secret_jwt with HS256)",
                   "client_secret": BUILTIN_CLIENT_SECRET,
                   "token_endpoint_auth_method": "client_secret_jwt",
                   "token_endpoint_auth_signing_alg": "HS256"}),
            None,
        ),
    ];
    for (mut value, key) in entries {
        for (name, member) in common.as_object().into_iter().flatten() {
            value[name] = member.clone();
        }
        let fail = |e: String| DemoError::Clients(format!("built-in client {value}: {e}"));
        let metadata: ClientMetadata =
            serde_json::from_value(value.clone()).map_err(|e| fail(e.to_string()))?;
        let client = Client::register(metadata.clone())
            .map_err(|reject| fail(reject.description().to_owned()))?;
        loaded
            .playground
            .push(playground_client(&client, &metadata, key));
        loaded.clients.push(client);
    }
    Ok(())
}

fn playground_client(
    client: &Client,
    metadata: &ClientMetadata,
    key: Option<Arc<dyn Signer>>,
) -> PlaygroundClient {
    PlaygroundClient {
        client_id: client.id().to_string(),
        name: metadata
            .client_name
            .clone()
            .unwrap_or_else(|| client.id().to_string()),
        secret: metadata.client_secret.clone(),
        method: client.auth_method(),
        alg: client.id_token_alg(),
        response_types: client.response_types().to_vec(),
        key,
    }
}

/// Loads the clients file (or the built-in clients) and validates every registration.
pub(crate) fn load(path: Option<&Path>, issuer: &str) -> Result<Loaded, DemoError> {
    let (entries, origin) = match path {
        None => (builtin(issuer), None),
        Some(path) => {
            let name = path.display().to_string();
            let fail =
                |message: String| DemoError::Clients(format!("clients file {name}: {message}"));
            let text = std::fs::read_to_string(path).map_err(|e| fail(format!("{e}")))?;
            let values: Vec<Value> = serde_json::from_str(&text).map_err(|e| {
                fail(format!(
                    "not a JSON array of RFC 7591 client metadata objects ({e})"
                ))
            })?;
            if values.is_empty() {
                return Err(fail("the array is empty: no client could sign in".into()));
            }
            let mut entries = Vec::with_capacity(values.len());
            for (i, value) in values.into_iter().enumerate() {
                let label = entry_label(i, &value, "client_id");
                let metadata: ClientMetadata =
                    serde_json::from_value(value).map_err(|e| fail(format!("{label}: {e}")))?;
                entries.push(metadata);
            }
            (entries, Some(name))
        }
    };
    let callback = callback(issuer);
    let mut seen = HashSet::new();
    let mut loaded = Loaded {
        clients: Vec::with_capacity(entries.len()),
        playground: Vec::new(),
        builtin: origin.is_none(),
    };
    for (i, metadata) in entries.into_iter().enumerate() {
        let fail = |reason: String| {
            let label = format!("entry {} ({:?})", i + 1, metadata.client_id);
            DemoError::Clients(match &origin {
                Some(name) => format!("clients file {name}: {label}: {reason}"),
                None => format!("built-in client {label}: {reason}"),
            })
        };
        if !seen.insert(metadata.client_id.clone()) {
            return Err(fail(format!(
                "client_id {:?} appears twice",
                metadata.client_id
            )));
        }
        let client = Client::register(metadata.clone()).map_err(|reject| {
            fail(format!(
                "{} ({})",
                reject.description(),
                reject.code().as_str()
            ))
        })?;
        let registered_for_playground = client
            .redirect_uris()
            .iter()
            .any(|u| u.as_str() == callback);
        let playground = playground_client(&client, &metadata, None);
        if registered_for_playground && playground.usable() {
            loaded.playground.push(playground);
        }
        loaded.clients.push(client);
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:8080";

    fn error(json: &str) -> String {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("clients.json");
        std::fs::write(&path, json).expect("write");
        load(Some(&path), ISSUER).expect_err("rejected").to_string()
    }

    #[test]
    fn builtin_clients_cover_every_response_type() {
        let loaded = load(None, ISSUER).expect("built-in clients");
        assert!(loaded.builtin);
        assert_eq!(loaded.clients.len(), 2);
        assert_eq!(loaded.playground.len(), 2);
        for client in &loaded.clients {
            assert_eq!(client.response_types().len(), 4);
            assert!(client.allows_grant(GrantType::RefreshToken));
            assert!(
                client
                    .match_redirect_uri("http://127.0.0.1:8080/playground/callback")
                    .is_some()
            );
        }
    }

    #[test]
    fn jwt_clients_join_the_builtin_list_only() {
        let key: Arc<dyn Signer> = Arc::new(
            oidc_hybrid_rustcrypto::Es256Signer::generate(&oidc_hybrid_rustcrypto::OsRandom, None)
                .expect("key"),
        );
        let mut loaded = load(None, ISSUER).expect("built-in clients");
        add_jwt_clients(&mut loaded, ISSUER, Arc::clone(&key)).expect("registered");
        let methods: Vec<&str> = loaded
            .playground
            .iter()
            .map(|c| c.method.as_str())
            .collect();
        assert_eq!(
            methods,
            [
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "client_secret_jwt"
            ]
        );
        assert_eq!(loaded.clients.len(), 4);
        let jwt = &loaded.playground[2];
        assert!(jwt.key.is_some() && jwt.secret.is_none());
        // Only the public key is registered.
        let registered = serde_json::to_value(key.public_jwk()).expect("JWK");
        assert!(registered.get("d").is_none());
        // A clients file gets nothing added, and the playground skips key clients it has no
        // key for.
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("clients.json");
        let file = serde_json::json!([{
            "client_id": "pkj", "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [key.public_jwk()]},
            "redirect_uris": [callback(ISSUER)],
        }]);
        std::fs::write(&path, file.to_string()).expect("write");
        let mut loaded = load(Some(&path), ISSUER).expect("the file loads");
        add_jwt_clients(&mut loaded, ISSUER, key).expect("nothing to add");
        assert_eq!(loaded.clients.len(), 1);
        assert!(loaded.playground.is_empty());
    }

    #[test]
    fn bad_files_name_the_file_the_entry_and_the_reason() {
        let e = error(
            r#"[{"client_id": "rp", "client_secret": "0123456789abcdef0123456789abcdef",
                 "redirect_uris": ["http://rp.example/cb"]}]"#,
        );
        assert!(e.contains("clients.json"), "{e}");
        assert!(e.contains("entry 1 (\"rp\")"), "{e}");
        assert!(e.contains("must use https"), "{e}");
        // Unknown members are kept (RFC 7591 §2), so a misspelt field shows as the missing one.
        let e = error(
            r#"[{"client_id": "rp", "client_secret": "0123456789abcdef0123456789abcdef",
                 "redirect_uri": ["https://rp.example/cb"]}]"#,
        );
        assert!(e.contains("redirect_uris is missing"), "{e}");
        let e = error(
            r#"[{"client_id": "rp", "token_endpoint_auth_method": "attest_jwt_client_auth",
                 "redirect_uris": ["https://rp.example/cb"]}]"#,
        );
        assert!(
            e.contains("token_endpoint_auth_method: the value is not supported"),
            "{e}"
        );
        let e = error(
            r#"[{"client_id": "rp", "client_secret": "short", "redirect_uris": ["https://rp.example/cb"]}]"#,
        );
        assert!(e.contains("shorter than 32"), "{e}");
        let e = error("not json");
        assert!(e.contains("not a JSON array"), "{e}");
    }
}
