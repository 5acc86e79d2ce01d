//! The relying party's own JWTs: client assertions (RFC 7523 §2.2, OIDC Core §9) for
//! `private_key_jwt` and `client_secret_jwt`, and signed request objects (RFC 9101, OIDC Core
//! §6.1). Keys never leave the server: the browser only ever sees the finished JWT in a URL.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::{MacAlgorithm, TokenEndpointAuthMethod, UnixTime};
use oidc_hybrid_rustcrypto::OsRandom;
use serde_json::{Map, Value, json};

use crate::clients::PlaygroundClient;
use crate::session::random_token;

/// An assertion's and a request object's lifetime, in seconds.
const LIFETIME: u64 = 60;

/// The `client_assertion` for `client` at an endpoint of the provider identified by `issuer`
/// (the issuer is an audience every endpoint accepts, RFC 7523 §3), or `None` when the client
/// authenticates another way.
///
/// # Errors
///
/// The message for the result page when the JWT cannot be made.
pub(super) fn assertion(
    client: &PlaygroundClient,
    issuer: &str,
    now: UnixTime,
) -> Result<Option<String>, String> {
    if !matches!(
        client.method,
        TokenEndpointAuthMethod::PrivateKeyJwt | TokenEndpointAuthMethod::ClientSecretJwt
    ) {
        return Ok(None);
    }
    let now = now.as_secs();
    let claims = json!({
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": issuer,
        "iat": now,
        "exp": now + LIFETIME,
        "jti": random_token(),
    });
    jws(client, "JWT", &claims).map(Some)
}

/// A request object carrying every authorization parameter of `pairs`, signed with `client`'s
/// key, for the provider identified by `issuer` (`iss` the client, `aud` the issuer, OIDC Core
/// §6.1; a short `exp` and a `jti`).
///
/// # Errors
///
/// The message for the user when the client has no key or signing fails.
pub(super) fn request_object(
    client: &PlaygroundClient,
    issuer: &str,
    pairs: &[(String, String)],
    now: UnixTime,
) -> Result<String, String> {
    if client.key.is_none() {
        return Err("only a client whose key the playground holds signs request objects".into());
    }
    let now = now.as_secs();
    let mut claims: Map<String, Value> = pairs
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    for (name, value) in [
        ("iss", json!(client.client_id)),
        ("aud", json!(issuer)),
        ("iat", json!(now)),
        ("nbf", json!(now)),
        ("exp", json!(now + LIFETIME)),
        ("jti", json!(random_token())),
    ] {
        claims.insert(name.into(), value);
    }
    jws(client, "oauth-authz-req+jwt", &Value::Object(claims))
}

/// A compact JWS over `claims`: signed with the client's key if the playground holds one,
/// else HS256 over its secret (`client_secret_jwt`).
fn jws(client: &PlaygroundClient, typ: &str, claims: &Value) -> Result<String, String> {
    let encode = |value: &Value| Base64UrlUnpadded::encode_string(value.to_string().as_bytes());
    let signature = match (&client.key, &client.secret) {
        (Some(key), _) => {
            let header = json!({"alg": key.algorithm().as_str(), "kid": key.key_id(), "typ": typ});
            let input = format!("{}.{}", encode(&header), encode(claims));
            let signature = key
                .try_sign(input.as_bytes(), &OsRandom)
                .map_err(|e| format!("the client key cannot sign: {e}"))?;
            (input, signature)
        }
        (None, Some(secret)) => {
            let header = json!({"alg": "HS256", "typ": typ});
            let input = format!("{}.{}", encode(&header), encode(claims));
            let tag = MacAlgorithm::HS256.sign(secret.as_bytes(), input.as_bytes());
            (input, tag)
        }
        (None, None) => return Err("the client has neither a key nor a secret".into()),
    };
    let (input, signature) = signature;
    Ok(format!(
        "{input}.{}",
        Base64UrlUnpadded::encode_string(&signature)
    ))
}
