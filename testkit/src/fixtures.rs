//! The standard test clients, which every store under the contract suite holds, and a user
//! directory for UserInfo.

use core::convert::Infallible;

use oidc_hybrid::{Claims, ClaimsSource, Client, ClientMetadata, Subject};
use serde_json::{Value, json};

/// The registered redirect URI of the standard web clients.
pub const REDIRECT_URI: &str = "https://rp.example/cb";

/// The secret of the standard confidential clients: long enough to register, with characters
/// that need form-urlencoding in a Basic header (RFC 6749 §2.3.1).
pub const SECRET: &str = "s3cr:t+with%special&chars=and-more-than-32";

/// Registers a client from RFC 7591 JSON metadata.
///
/// # Panics
///
/// If the metadata does not parse or register (the test's own fixture is wrong).
#[must_use]
pub fn client(metadata: Value) -> Client {
    let metadata: ClientMetadata =
        serde_json::from_value(metadata).expect("fixture metadata parses");
    Client::register(metadata).expect("fixture metadata registers")
}

/// The standard test clients:
/// - `rs-basic`: confidential, `client_secret_basic`, RS256, every response type, refresh; a
///   second redirect URI with a query (`…/cb?tenant=7`);
/// - `es-post`: confidential, `client_secret_post`, ES256, every response type, refresh,
///   `s_hash`;
/// - `default`: confidential with default response types (`code`, `code id_token`);
/// - `native`: public native app, loopback redirect, PKCE required.
#[must_use]
pub fn standard_clients() -> Vec<Client> {
    let all = ["code", "code id_token", "code token", "code id_token token"];
    vec![
        client(json!({
            "client_id": "rs-basic",
            "client_secret": SECRET,
            "redirect_uris": [REDIRECT_URI, "https://rp.example/cb?tenant=7"],
            "response_types": all,
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
        })),
        client(json!({
            "client_id": "es-post",
            "client_secret": SECRET,
            "redirect_uris": [REDIRECT_URI],
            "response_types": all,
            "grant_types": ["authorization_code", "implicit", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post",
            "id_token_signed_response_alg": "ES256",
            "id_token_s_hash": true,
        })),
        client(json!({
            "client_id": "default",
            "client_secret": SECRET,
            "redirect_uris": [REDIRECT_URI],
        })),
        client(json!({
            "client_id": "native",
            "redirect_uris": ["http://127.0.0.1/cb"],
            "application_type": "native",
            "token_endpoint_auth_method": "none",
            "response_types": ["code", "code id_token"],
        })),
    ]
}

/// A user directory with one user per subject, all with a full set of standard claims (OIDC
/// Core §5.1): `name` (`User <subject>`), `given_name`, `family_name`, `preferred_username`
/// (the subject), `email` (`<subject>@example.org`, verified), `address`, `phone_number` (not
/// verified).
#[derive(Clone, Copy, Debug, Default)]
pub struct Directory;

impl ClaimsSource for Directory {
    type Error = Infallible;

    async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
        let Value::Object(claims) = json!({
            "name": format!("User {subject}"),
            "given_name": "Alice",
            "family_name": "Liddell",
            "preferred_username": subject.as_str(),
            "email": format!("{subject}@example.org"),
            "email_verified": true,
            "address": { "country": "GB", "locality": "Oxford" },
            "phone_number": "+44 1865 000000",
            "phone_number_verified": false,
        }) else {
            unreachable!("a JSON object literal is an object")
        };
        Ok(Some(claims))
    }
}
