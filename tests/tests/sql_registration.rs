//! Bad input at registration, for every SQL backend: oversized, malformed and invalid client
//! metadata is refused with a typed, explanatory error and nothing is written (row counts
//! before and after); what is stored is RFC 7591 JSON and a secret digest, never the secret;
//! corrupt rows are reported as errors, never misread.

use oidc_hybrid::{Client, ClientId, ClientMetadata, Reject, SecretDigest, Storage, UnixTime};
use oidc_hybrid_sql::{MAX_METADATA_BYTES, PostgresStore, SqlError, SqliteStore};
use oidc_hybrid_testkit::contract::{T0, code, digest};
use oidc_hybrid_tests::{backends, standard_clients};
use serde_json::{Value, json};

const SECRET: &str = "a-registration-secret-of-at-least-32-chars";

fn metadata(value: Value) -> String {
    value.to_string()
}

/// A valid client whose metadata JSON is larger than the limit (each field within its own
/// limit: 32 redirect URIs of ~600 octets).
fn oversized_client() -> Client {
    let redirect_uris = (0..32)
        .map(|i| format!("https://rp.example/cb/{i}/{}", "a".repeat(600)))
        .collect();
    Client::register(ClientMetadata {
        client_id: "big".into(),
        client_secret: Some(SECRET.into()),
        redirect_uris,
        ..ClientMetadata::default()
    })
    .expect("each field is within its limit")
}

/// Raw SQL on either store, to look at and tamper with rows.
trait Raw {
    /// The stored `(metadata, secret_digest)` of a client.
    async fn client_row(&self, id: &str) -> (String, Option<Vec<u8>>);
    /// Runs one statement.
    async fn exec(&self, sql: &'static str);
}

impl Raw for SqliteStore {
    async fn client_row(&self, id: &str) -> (String, Option<Vec<u8>>) {
        let id = id.to_owned();
        self.with_write_connection(move |conn| {
            conn.query_row(
                "SELECT metadata, secret_digest FROM clients WHERE client_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .await
        .expect("raw row")
    }
    async fn exec(&self, sql: &'static str) {
        self.with_write_connection(move |conn| conn.execute(sql, []))
            .await
            .expect("raw statement");
    }
}

impl Raw for PostgresStore {
    async fn client_row(&self, id: &str) -> (String, Option<Vec<u8>>) {
        oidc_hybrid_sql::sqlx::query_as(
            "SELECT metadata, secret_digest FROM clients WHERE client_id = $1",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await
        .expect("raw row")
    }
    async fn exec(&self, sql: &'static str) {
        oidc_hybrid_sql::sqlx::query(sql)
            .execute(self.pool())
            .await
            .expect("raw statement");
    }
}

macro_rules! registration_tests {
    ($backend:ident => $fixture:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn oversized_metadata_is_rejected_and_nothing_is_written() {
                let Some(fx) = $fixture.await else { return };
                let s = &*fx.store;
                let before = s.counts().await.expect("counts");

                let huge = metadata(json!({
                    "client_id": "huge",
                    "client_secret": SECRET,
                    "redirect_uris": ["https://rp.example/cb"],
                    "client_name": "n".repeat(MAX_METADATA_BYTES),
                }));
                let err = s.register_client(&huge).await.expect_err("too large");
                assert!(
                    matches!(err, SqlError::MetadataTooLarge { len, max } if len == huge.len() && max == MAX_METADATA_BYTES),
                    "{err:?}"
                );
                assert_eq!(
                    err.to_string(),
                    format!(
                        "client metadata is {} bytes of JSON; at most 16384 are accepted",
                        huge.len()
                    )
                );

                let big = oversized_client();
                let err = s.insert_client(&big).await.expect_err("too large");
                assert!(matches!(err, SqlError::MetadataTooLarge { .. }), "{err:?}");
                let err = s.replace_client(&big).await.expect_err("too large");
                assert!(matches!(err, SqlError::MetadataTooLarge { .. }), "{err:?}");

                assert_eq!(s.counts().await.expect("counts"), before);
                for id in ["huge", "big"] {
                    let id = ClientId::new(id).expect("id");
                    assert_eq!(s.client(&id).await.expect("lookup"), None);
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn malformed_metadata_is_rejected_and_nothing_is_written() {
                let Some(fx) = $fixture.await else { return };
                let s = &*fx.store;
                let before = s.counts().await.expect("counts");
                let valid = json!({
                    "client_id": "web",
                    "client_secret": SECRET,
                    "redirect_uris": ["https://rp.example/cb"],
                });
                let mut wrong_type = valid.clone();
                wrong_type["redirect_uris"] = json!("https://rp.example/cb");
                let mut unknown_method = valid.clone();
                unknown_method["token_endpoint_auth_method"] = json!("private_key_jwt_v0");
                for input in [
                    "not json".to_owned(),
                    String::new(),
                    "[]".to_owned(),
                    metadata(json!({ "client_id": 5 })),
                    format!("{valid} trailing"),
                    metadata(wrong_type),
                    metadata(unknown_method),
                ] {
                    let err = s.register_client(&input).await.expect_err("malformed");
                    assert!(matches!(err, SqlError::MetadataMalformed(_)), "{input}: {err:?}");
                    assert_eq!(
                        err.to_string(),
                        "client metadata is not well-formed RFC 7591 JSON"
                    );
                    assert!(std::error::Error::source(&err).is_some(), "the parse error is the source");
                }
                assert_eq!(s.counts().await.expect("counts"), before);
                // Metadata the provider does not use is kept, not refused (RFC 7591 §2).
                let mut unknown_field = valid.clone();
                unknown_field["software_statement_v9"] = json!(true);
                unknown_field["client_name#ja"] = json!("クライアント");
                s.register_client(&metadata(unknown_field)).await.expect("registers");
                let id = ClientId::new("web").expect("client id");
                let stored = s.client(&id).await.expect("reads").expect("stored");
                assert_eq!(stored.metadata().other["software_statement_v9"], json!(true));
                assert_eq!(stored.metadata().other["client_name#ja"], json!("クライアント"));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn invalid_metadata_is_rejected_with_the_rule_it_breaks() {
                let Some(fx) = $fixture.await else { return };
                let s = &*fx.store;
                let before = s.counts().await.expect("counts");
                let cases = [
                    (
                        json!({ "client_id": "web", "client_secret": SECRET,
                                "redirect_uris": ["http://rp.example/cb"] }),
                        Reject::RedirectUriInsecure,
                    ),
                    (
                        json!({ "client_id": "web", "client_secret": "short",
                                "redirect_uris": ["https://rp.example/cb"] }),
                        Reject::ClientSecretTooShort,
                    ),
                    (
                        json!({ "client_id": "web", "client_secret": SECRET, "redirect_uris": [] }),
                        Reject::RedirectUrisMissing,
                    ),
                    (
                        json!({ "client_id": "app", "client_secret": SECRET,
                                "token_endpoint_auth_method": "none",
                                "redirect_uris": ["https://rp.example/cb"] }),
                        Reject::ClientSecretUnexpected,
                    ),
                    (
                        json!({ "client_id": "", "client_secret": SECRET,
                                "redirect_uris": ["https://rp.example/cb"] }),
                        Reject::ClientIdMalformed,
                    ),
                ];
                for (input, rule) in cases {
                    let err = s
                        .register_client(&metadata(input.clone()))
                        .await
                        .expect_err("invalid");
                    assert!(
                        matches!(err, SqlError::MetadataInvalid(r) if r == rule),
                        "{input}: {err:?}"
                    );
                }
                assert_eq!(s.counts().await.expect("counts"), before);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn duplicate_client_id_is_refused_and_the_first_registration_kept() {
                let Some(fx) = $fixture.await else { return };
                let s = &*fx.store;
                let id = ClientId::new("rs-basic").expect("id");
                let first = s.client(&id).await.expect("lookup").expect("registered");
                let before = s.counts().await.expect("counts");
                let again = metadata(json!({
                    "client_id": "rs-basic",
                    "client_secret": SECRET,
                    "redirect_uris": ["https://attacker.example/cb"],
                }));
                let err = s.register_client(&again).await.expect_err("duplicate");
                assert!(matches!(err, SqlError::ClientExists), "{err:?}");
                let err = s.insert_client(&first).await.expect_err("duplicate");
                assert!(matches!(err, SqlError::ClientExists), "{err:?}");
                assert_eq!(s.counts().await.expect("counts"), before);
                assert_eq!(s.client(&id).await.expect("lookup"), Some(first));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn registration_stores_rfc7591_metadata_and_only_a_secret_digest() {
                let Some(fx) = $fixture.await else { return };
                let s = &*fx.store;
                let input = metadata(json!({
                    "client_id": "web",
                    "client_secret": SECRET,
                    "client_name": "Web \u{e9}l\u{e8}ve \u{1F600}",
                    "redirect_uris": ["https://rp.example/cb", "https://rp.example/cb?x=1"],
                    "response_types": ["code id_token", "code"],
                    "token_endpoint_auth_method": "client_secret_post",
                    "id_token_signed_response_alg": "ES256",
                    "scope": "openid email",
                }));
                let before = s.counts().await.expect("counts");
                let client = s.register_client(&input).await.expect("registers");
                assert_eq!(s.counts().await.expect("counts").clients, before.clients + 1);
                let id = ClientId::new("web").expect("id");
                assert_eq!(s.client(&id).await.expect("lookup"), Some(client.clone()));

                let (stored, secret) = s.client_row("web").await;
                assert!(!stored.contains(SECRET), "the secret is never stored");
                assert_eq!(secret.as_deref(), Some(SecretDigest::of(SECRET).as_bytes().as_slice()));
                let stored: Value = serde_json::from_str(&stored).expect("JSON");
                assert_eq!(stored["client_id"], "web");
                assert_eq!(stored["token_endpoint_auth_method"], "client_secret_post");
                assert_eq!(stored["redirect_uris"][1], "https://rp.example/cb?x=1");
                assert_eq!(stored["id_token_signed_response_alg"], "ES256");
                assert!(stored.get("client_secret").is_none());

                // A public client has no digest at all.
                s.register_client(&metadata(json!({
                    "client_id": "app",
                    "application_type": "native",
                    "token_endpoint_auth_method": "none",
                    "redirect_uris": ["http://127.0.0.1/cb"],
                })))
                .await
                .expect("public client registers");
                let (_, secret) = s.client_row("app").await;
                assert_eq!(secret, None);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn replace_and_remove_client() {
                let Some(fx) = $fixture.await else { return };
                let s = &*fx.store;
                let id = ClientId::new("default").expect("id");
                let updated = Client::register(ClientMetadata {
                    client_id: "default".into(),
                    client_secret: Some(SECRET.into()),
                    client_name: Some("Renamed".into()),
                    redirect_uris: vec!["https://rp.example/other".into()],
                    ..ClientMetadata::default()
                })
                .expect("valid");
                s.replace_client(&updated).await.expect("replace");
                assert_eq!(s.client(&id).await.expect("lookup"), Some(updated));
                assert!(s.remove_client(&id).await.expect("remove"));
                assert!(!s.remove_client(&id).await.expect("remove again"));
                assert_eq!(s.client(&id).await.expect("lookup"), None);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn debug_output_shows_no_connection_string_or_data() {
                let Some(fx) = $fixture.await else { return };
                let text = format!("{:?}", fx.store);
                assert!(
                    text.starts_with("SqlStore { backend: ")
                        || text.starts_with("SqliteStore { backend: "),
                    "{text}"
                );
                for hidden in ["postgres://", "127.0.0.1", "op.sqlite", "rs-basic", "oidc_test_"] {
                    assert!(!text.contains(hidden), "{text} shows {hidden}");
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn corrupt_rows_are_reported_not_misread() {
                let Some(fx) = $fixture.await else { return };
                let s = &*fx.store;
                let now = UnixTime::from_secs(T0);
                s.insert_code(&code("c", "g", "rs-basic", T0 + 60), None)
                    .await
                    .expect("insert");
                s.exec("UPDATE codes SET record = 'not a record'").await;
                let err = s.redeem_code(&digest("c"), now).await.expect_err("corrupt");
                assert!(
                    matches!(err, SqlError::CorruptRecord { table: "codes", .. }),
                    "{err:?}"
                );

                s.exec(
                    "UPDATE clients SET metadata = '{\"client_id\":\"rs-basic\"}' \
                     WHERE client_id = 'rs-basic'",
                )
                .await;
                let err = s
                    .client(&ClientId::new("rs-basic").expect("id"))
                    .await
                    .expect_err("corrupt client");
                assert!(
                    matches!(err, SqlError::CorruptClient(Reject::ClientSecretMissing | Reject::RedirectUrisMissing)),
                    "{err:?}"
                );
            }
        }
    };
}

registration_tests!(sqlite_memory => backends::sqlite_memory(standard_clients()));
registration_tests!(sqlite_file => backends::sqlite_file(standard_clients()));
registration_tests!(postgres => backends::postgres(standard_clients()));
