//! What both backends share: the SQL text (portable between SQLite and PostgreSQL), value
//! conversions, client encoding and the retry loop.

use core::fmt;
#[cfg(feature = "postgres")]
use core::future::Future;

use oidc_hybrid::{
    AccessTokenRecord, Client, ClientMetadata, ClientSecret, CodeRecord, GrantId, RefreshLookup,
    RefreshTokenRecord, SecretDigest, UnixTime,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "postgres")]
use crate::MAX_ATTEMPTS;
use crate::{MAX_METADATA_BYTES, SqlError};

/// The stored form of a client: its metadata JSON, secret digest and, for
/// `client_secret_jwt`, the secret itself. Public in name only: the PostgreSQL store's sealed
/// traits name it.
#[cfg_attr(
    not(feature = "postgres"),
    expect(unreachable_pub, reason = "named by the sealed traits only")
)]
pub struct StoredClient {
    pub(crate) id: String,
    pub(crate) metadata: String,
    pub(crate) secret: Option<[u8; 32]>,
    pub(crate) secret_key: Option<String>,
}

/// Names the client only: no metadata, no digest.
impl fmt::Debug for StoredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredClient")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Unix seconds as stored: a signed 64-bit integer. Times beyond `i64::MAX` seconds (about
/// 292 billion years) are clamped, which only ever makes something live longer than that.
pub(crate) fn secs(time: UnixTime) -> i64 {
    i64::try_from(time.as_secs()).unwrap_or(i64::MAX)
}

/// A stored time read back (negative values, never written, read as the epoch).
pub(crate) fn at_secs(secs: i64) -> UnixTime {
    UnixTime::from_secs(u64::try_from(secs).unwrap_or(0))
}

/// Encodes a record as its JSON column.
pub(crate) fn to_json<T: Serialize>(record: &T) -> Result<String, SqlError> {
    serde_json::to_string(record).map_err(SqlError::Encode)
}

/// Decodes a record read from `table`.
pub(crate) fn from_json<T: DeserializeOwned>(
    table: &'static str,
    json: &str,
) -> Result<T, SqlError> {
    serde_json::from_str(json).map_err(|source| SqlError::CorruptRecord { table, source })
}

/// Checks that `client` can be stored and read back unchanged, and returns its stored form.
///
/// # Errors
///
/// [`SqlError::MetadataTooLarge`] over [`MAX_METADATA_BYTES`]; [`SqlError::MetadataRoundTrip`]
/// if the stored form would not read back as the same client.
pub(crate) fn encode_client(client: &Client) -> Result<StoredClient, SqlError> {
    let metadata = serde_json::to_string(client.metadata()).map_err(SqlError::Encode)?;
    if metadata.len() > MAX_METADATA_BYTES {
        return Err(SqlError::MetadataTooLarge {
            len: metadata.len(),
            max: MAX_METADATA_BYTES,
        });
    }
    let secret = client.secret_digest().map(|d| *d.as_bytes());
    let secret_key = client.secret_key().map(|k| k.expose().to_owned());
    let back = decode_client(
        &metadata,
        secret.as_ref().map(<[u8; 32]>::as_slice),
        secret_key.as_deref(),
    );
    match back {
        Ok(back) if back == *client => {}
        _ => return Err(SqlError::MetadataRoundTrip),
    }
    Ok(StoredClient {
        id: client.id().as_str().to_owned(),
        metadata,
        secret,
        secret_key,
    })
}

/// Parses and validates RFC 7591 metadata JSON (registration input).
///
/// # Errors
///
/// [`SqlError::MetadataTooLarge`] before parsing anything over [`MAX_METADATA_BYTES`];
/// [`SqlError::MetadataMalformed`] for JSON that is not RFC 7591 metadata;
/// [`SqlError::MetadataInvalid`] for metadata that breaks a registration rule.
pub(crate) fn parse_registration(json: &str) -> Result<Client, SqlError> {
    if json.len() > MAX_METADATA_BYTES {
        return Err(SqlError::MetadataTooLarge {
            len: json.len(),
            max: MAX_METADATA_BYTES,
        });
    }
    let metadata: ClientMetadata =
        serde_json::from_str(json).map_err(SqlError::MetadataMalformed)?;
    Client::register(metadata).map_err(SqlError::MetadataInvalid)
}

/// Rebuilds a client from its stored columns: the metadata, the secret digest, and the secret
/// itself for `client_secret_jwt` clients (HMAC needs it; see docs/storage.md).
pub(crate) fn decode_client(
    metadata: &str,
    secret: Option<&[u8]>,
    secret_key: Option<&str>,
) -> Result<Client, SqlError> {
    let metadata: ClientMetadata = from_json("clients", metadata)?;
    if let Some(key) = secret_key {
        return Client::from_parts_with_key(metadata, ClientSecret::new(key))
            .map_err(SqlError::CorruptClient);
    }
    let secret = secret.map(|bytes| digest("clients", bytes)).transpose()?;
    Client::from_parts(metadata, secret).map_err(SqlError::CorruptClient)
}

/// A digest read from a BLOB / BYTEA column.
pub(crate) fn digest(table: &'static str, bytes: &[u8]) -> Result<SecretDigest, SqlError> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| SqlError::CorruptDigest { table })?;
    Ok(SecretDigest::from_bytes(bytes))
}

/// The key under which a `jti` is cached: its SHA-256, so that the key has a fixed size
/// whatever the assertion carries.
pub(crate) fn jti_key(jti: &str) -> [u8; 32] {
    *SecretDigest::of(jti).as_bytes()
}

/// A grant id read from a column.
pub(crate) fn grant(id: String) -> GrantId {
    GrantId::new(id)
}

/// Whether `token` belongs to another grant than `code`: a caller bug that `insert_code` and
/// `insert_code_in_session` answer by storing neither (a front-channel token must belong to
/// its code's grant, or revoking the one would miss the other).
pub(crate) fn foreign_token(code: &CodeRecord, token: Option<&AccessTokenRecord>) -> bool {
    token.is_some_and(|t| t.grant_id != code.grant_id)
}

/// The indexed columns of a code or token row, and its record as JSON: what a write carries
/// to SQLite's writer thread, or to PostgreSQL's writer tasks (which bind it again each time the
/// statement runs).
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) digest: [u8; 32],
    pub(crate) grant_id: String,
    pub(crate) client_id: String,
    pub(crate) expires_at: i64,
    pub(crate) record: String,
}

/// A code or token record, stored as a [`Row`].
pub(crate) trait Member: Serialize {
    /// Its row.
    fn row(&self) -> Result<Row, SqlError>;
}

/// Implements [`Member`] for records with `digest`, `grant_id`, `client_id` and `expires_at`.
macro_rules! member {
    ($($record:ty),*) => {$(
        impl Member for $record {
            fn row(&self) -> Result<Row, SqlError> {
                Ok(Row {
                    digest: *self.digest.as_bytes(),
                    grant_id: self.grant_id.as_str().to_owned(),
                    client_id: self.client_id.as_str().to_owned(),
                    expires_at: secs(self.expires_at),
                    record: to_json(self)?,
                })
            }
        }
    )*};
}

member!(CodeRecord, AccessTokenRecord, RefreshTokenRecord);

/// A refresh token's row as [`sql::REFRESH`] reads it: grant, retired, record, the grant's
/// revoked flag, when a rotation retired it.
pub(crate) type RefreshRow = (String, bool, String, bool, Option<i64>);

/// What a refresh token's row (if any) says of it (`Storage::refresh_token`).
pub(crate) fn refresh_lookup(row: Option<RefreshRow>) -> Result<RefreshLookup, SqlError> {
    Ok(match row {
        None => RefreshLookup::Unknown,
        Some((_, true, record, false, Some(at))) => {
            RefreshLookup::Rotated(from_json("refresh_tokens", &record)?, at_secs(at))
        }
        Some((grant_id, retired, _, revoked, _)) if retired || revoked => {
            RefreshLookup::Retired(grant(grant_id))
        }
        Some((_, _, record, _, _)) => RefreshLookup::Live(from_json("refresh_tokens", &record)?),
    })
}

#[cfg(feature = "postgres")]
/// Runs `op` until it succeeds, fails for good, or [`MAX_ATTEMPTS`] are used up. `retryable`
/// says which database errors aborted a transaction that may simply be run again (every
/// operation is one transaction or one statement, so a failed attempt left nothing behind).
pub(crate) async fn retrying<T, F, Fut>(
    retryable: fn(&sqlx::Error) -> bool,
    mut op: F,
) -> Result<T, SqlError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SqlError>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Err(SqlError::Database(e)) if attempt < MAX_ATTEMPTS && retryable(&e) => {
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// The SQL statements, in syntax both SQLite (3.35+, for `RETURNING`) and PostgreSQL accept.
/// Placeholders are `$n`; times are Unix seconds; `now` is always a parameter, never the
/// database's clock.
pub(crate) mod sql {
    /// The single-statement redemption.
    pub(crate) const REDEEM: &str = "UPDATE codes SET used = TRUE \
         WHERE digest = $1 AND used = FALSE AND expires_at > $2 RETURNING record";

    /// After a redemption matched nothing: is there a live tombstone?
    pub(crate) const CODE_STATE: &str =
        "SELECT grant_id, used FROM codes WHERE digest = $1 AND expires_at > $2";

    pub(crate) const ACCESS: &str = "SELECT a.record FROM access_tokens a \
         LEFT JOIN grants g ON g.id = a.grant_id \
         WHERE a.digest = $1 AND a.expires_at > $2 \
         AND (g.revoked IS NULL OR g.revoked = FALSE)";

    pub(crate) const REFRESH: &str = "SELECT r.grant_id, r.retired, r.record, \
         COALESCE(g.revoked, FALSE), r.retired_at FROM refresh_tokens r \
         LEFT JOIN grants g ON g.id = r.grant_id \
         WHERE r.digest = $1 AND r.expires_at > $2";

    pub(crate) const DELETE_ACCESS: &str = "DELETE FROM access_tokens WHERE digest = $1";

    /// Test-and-set: inserts, or re-arms an expired entry; affects no row for a live one.
    pub(crate) const RECORD_JTI: &str = "INSERT INTO jtis (client_id, jti_digest, expires_at) \
         VALUES ($1, $2, $3) \
         ON CONFLICT (client_id, jti_digest) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE jtis.expires_at <= $4";

    pub(crate) const CLIENT: &str =
        "SELECT metadata, secret_digest, secret_key FROM clients WHERE client_id = $1";

    pub(crate) const INSERT_CLIENT: &str = "INSERT INTO clients \
         (client_id, metadata, secret_digest, secret_key) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (client_id) DO NOTHING";

    pub(crate) const UPSERT_CLIENT: &str = "INSERT INTO clients \
         (client_id, metadata, secret_digest, secret_key) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (client_id) DO UPDATE \
         SET metadata = excluded.metadata, secret_digest = excluded.secret_digest, \
         secret_key = excluded.secret_key";

    pub(crate) const INSERT_PUSHED: &str = "INSERT INTO pushed_requests \
         (digest, client_id, params, expires_at) VALUES ($1, $2, $3, $4)";

    /// Take-once: one `DELETE … RETURNING`, so of concurrent takes exactly one gets the row.
    pub(crate) const TAKE_PUSHED: &str = "DELETE FROM pushed_requests WHERE digest = $1 \
         RETURNING client_id, params, expires_at";

    pub(crate) const DELETE_CLIENT: &str = "DELETE FROM clients WHERE client_id = $1";

    pub(crate) const CLIENT_IDS: &str = "SELECT client_id FROM clients ORDER BY client_id";

    pub(crate) const COUNTS: &str = "SELECT \
         (SELECT COUNT(*) FROM clients), (SELECT COUNT(*) FROM codes), \
         (SELECT COUNT(*) FROM access_tokens), (SELECT COUNT(*) FROM refresh_tokens), \
         (SELECT COUNT(*) FROM grants), (SELECT COUNT(*) FROM jtis)";

    /// One `DELETE` per table, each its own statement (no transaction spans the sweep, so it
    /// never holds locks on more than one table at a time).
    pub(crate) const SWEEP: [&str; 6] = [
        "DELETE FROM codes WHERE expires_at <= $1",
        "DELETE FROM access_tokens WHERE expires_at <= $1",
        "DELETE FROM refresh_tokens WHERE expires_at <= $1",
        "DELETE FROM jtis WHERE expires_at <= $1",
        "DELETE FROM pushed_requests WHERE expires_at <= $1",
        "DELETE FROM grants WHERE expires_at <= $1",
    ];
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[cfg(feature = "postgres")]
    use core::cell::Cell;

    use super::*;

    #[test]
    fn times_are_clamped_into_i64() {
        assert_eq!(secs(UnixTime::from_secs(0)), 0);
        assert_eq!(secs(UnixTime::from_secs(1_800_000_000)), 1_800_000_000);
        assert_eq!(secs(UnixTime::from_secs(i64::MAX as u64)), i64::MAX);
        assert_eq!(secs(UnixTime::from_secs(u64::MAX)), i64::MAX);
    }

    #[test]
    fn jti_keys_are_fixed_size_digests() {
        assert_eq!(jti_key("a"), *SecretDigest::of("a").as_bytes());
        assert_ne!(jti_key("a"), jti_key("A"));
        assert_eq!(jti_key(&"x".repeat(100_000)).len(), 32);
    }

    #[test]
    fn digests_of_the_wrong_length_are_corrupt() {
        assert!(digest("codes", &[0; 32]).is_ok());
        for len in [0, 31, 33] {
            assert!(matches!(
                digest("codes", &vec![0; len]),
                Err(SqlError::CorruptDigest { table: "codes" })
            ));
        }
    }

    #[test]
    fn registration_input_is_size_checked_before_parsing() {
        let huge = "{".repeat(MAX_METADATA_BYTES + 1);
        assert!(matches!(
            parse_registration(&huge),
            Err(SqlError::MetadataTooLarge { len, max: MAX_METADATA_BYTES }) if len == huge.len()
        ));
        assert!(matches!(
            parse_registration(&"{".repeat(MAX_METADATA_BYTES)),
            Err(SqlError::MetadataMalformed(_))
        ));
    }

    #[test]
    fn a_client_round_trips_through_its_stored_form() {
        let client = Client::register(ClientMetadata {
            client_id: "rp".into(),
            client_secret: Some("0123456789abcdef0123456789abcdef".into()),
            redirect_uris: vec!["https://rp.example/cb".into()],
            response_types: Some(vec!["code token".into(), "code".into()]),
            grant_types: Some(vec![
                oidc_hybrid::GrantType::AuthorizationCode,
                oidc_hybrid::GrantType::Implicit,
            ]),
            scope: Some("openid email".into()),
            ..ClientMetadata::default()
        })
        .unwrap();
        let stored = encode_client(&client).unwrap();
        assert!(!stored.metadata.contains("0123456789abcdef"));
        assert_eq!(
            decode_client(
                &stored.metadata,
                stored.secret.as_ref().map(|s| s.as_slice()),
                stored.secret_key.as_deref(),
            )
            .unwrap(),
            client
        );
        assert_eq!(
            stored.secret_key, None,
            "a digest suffices for client_secret_basic"
        );
    }

    /// A `client_secret_jwt` client keeps its secret, which HMAC needs, outside the metadata.
    #[test]
    fn client_secret_jwt_clients_keep_their_key() {
        let client = Client::register(ClientMetadata {
            client_id: "jwt".into(),
            client_secret: Some("0123456789abcdef0123456789abcdef-hmac".into()),
            redirect_uris: vec!["https://rp.example/cb".into()],
            token_endpoint_auth_method: oidc_hybrid::TokenEndpointAuthMethod::ClientSecretJwt,
            ..ClientMetadata::default()
        })
        .unwrap();
        let stored = encode_client(&client).unwrap();
        assert!(!stored.metadata.contains("0123456789abcdef"));
        assert_eq!(
            stored.secret_key.as_deref(),
            Some("0123456789abcdef0123456789abcdef-hmac")
        );
        let back = decode_client(
            &stored.metadata,
            stored.secret.as_ref().map(|s| s.as_slice()),
            stored.secret_key.as_deref(),
        )
        .unwrap();
        assert_eq!(back, client);
        assert_eq!(back.secret_key().map(|k| k.expose().len()), Some(37));
    }

    #[cfg(feature = "postgres")]
    fn run<F: Future>(future: F) -> F::Output {
        let mut future = core::pin::pin!(future);
        match future.as_mut().poll(&mut core::task::Context::from_waker(
            core::task::Waker::noop(),
        )) {
            core::task::Poll::Ready(output) => output,
            core::task::Poll::Pending => panic!("the test futures are always ready"),
        }
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn retryable_errors_are_retried_up_to_the_limit() {
        let calls = Cell::new(0);
        let result: Result<(), SqlError> = run(retrying(
            |_| true,
            || {
                calls.set(calls.get() + 1);
                async { Err(SqlError::Database(sqlx::Error::PoolTimedOut)) }
            },
        ));
        assert!(matches!(result, Err(SqlError::Database(_))));
        assert_eq!(calls.get(), MAX_ATTEMPTS);

        // Success on a later attempt is returned.
        calls.set(0);
        let result = run(retrying(
            |_| true,
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 3 {
                        Err(SqlError::Database(sqlx::Error::PoolTimedOut))
                    } else {
                        Ok(n)
                    }
                }
            },
        ));
        assert_eq!(result.unwrap(), 3);

        // Other errors are returned at once.
        calls.set(0);
        let result: Result<(), SqlError> = run(retrying(
            |_| false,
            || {
                calls.set(calls.get() + 1);
                async { Err(SqlError::Database(sqlx::Error::PoolTimedOut)) }
            },
        ));
        assert!(result.is_err());
        assert_eq!(calls.get(), 1);
    }
}
