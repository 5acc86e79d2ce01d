//! The error type of the SQL stores.

use oidc_hybrid::Reject;

/// Why a SQL store operation failed.
///
/// Storage failures reach the protocol driver as `server_error` with no detail (the
/// [`Storage`](oidc_hybrid::Storage) contract); registration errors
/// ([`SqlError::MetadataTooLarge`], [`SqlError::MetadataMalformed`],
/// [`SqlError::MetadataInvalid`], [`SqlError::ClientExists`]) are meant for the registering host,
/// which maps them to RFC 7591 §3.2.2 `invalid_client_metadata` / `invalid_redirect_uri`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// The PostgreSQL database failed: connection, query, constraint or transaction error.
    #[cfg(feature = "postgres")]
    #[error("database operation failed")]
    Database(#[from] sqlx::Error),
    /// Applying the PostgreSQL schema migrations failed (e.g. a migration already applied was
    /// changed, or the database has a newer schema than this build knows).
    #[cfg(feature = "postgres")]
    #[error("applying the storage schema migrations failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite database failed: opening, a statement, or the commit of the group of writes
    /// the request was part of (then nothing of the group was committed).
    #[cfg(feature = "sqlite")]
    #[error("SQLite operation failed")]
    Sqlite(#[from] rusqlite::Error),
    /// The database's storage schema is newer than this build knows: a newer version of the
    /// provider migrated it. Nothing was changed; run that version, or restore a backup made
    /// before the upgrade.
    #[error(
        "the database's storage schema is version {found}, newer than this build knows \
         (version {known}): run the provider version that migrated it"
    )]
    SchemaTooNew {
        /// The database's schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The database's schema record is inconsistent (the message says how).
    #[error("the database's storage schema is broken: {0}")]
    SchemaBroken(String),
    /// A database URL this store cannot open (the message says why).
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// The store was closed ([`SqliteStore::close`](crate::SqliteStore::close)), or its writer
    /// thread is gone.
    #[error("the store is closed")]
    Closed,
    /// Client metadata serialises to more JSON than [`MAX_METADATA_BYTES`](crate::MAX_METADATA_BYTES).
    #[error("client metadata is {len} bytes of JSON; at most {max} are accepted")]
    MetadataTooLarge {
        /// Size of the JSON, in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Client metadata is not RFC 7591 JSON: not JSON, a wrong type, or an unknown field.
    #[error("client metadata is not well-formed RFC 7591 JSON")]
    MetadataMalformed(#[source] serde_json::Error),
    /// Client metadata is well-formed but breaks a registration rule (RFC 7591 §2, OpenID
    /// Connect Dynamic Client Registration §2); the [`Reject`] names the rule.
    #[error("client metadata is invalid")]
    MetadataInvalid(#[source] Reject),
    /// The stored form of a client would not read back as the same client. Never expected:
    /// it would mean the metadata's JSON form loses information.
    #[error("client metadata does not survive a store-and-load round trip")]
    MetadataRoundTrip,
    /// A client with this id is already registered ([`insert_client`] and
    /// [`register_client`] never replace one).
    ///
    /// [`insert_client`]: crate::SqlStore::insert_client
    /// [`register_client`]: crate::SqlStore::register_client
    #[error("a client with this id is already registered")]
    ClientExists,
    /// A record could not be encoded as JSON. Never expected for the record types of
    /// `oidc-hybrid`.
    #[error("a record could not be encoded as JSON")]
    Encode(#[source] serde_json::Error),
    /// A stored record does not decode: the database was changed behind the store's back.
    #[error("a stored {table} record does not decode")]
    CorruptRecord {
        /// The table it was read from.
        table: &'static str,
        /// Why it does not decode.
        #[source]
        source: serde_json::Error,
    },
    /// A stored client no longer passes validation.
    #[error("a stored client does not validate")]
    CorruptClient(#[source] Reject),
    /// A stored digest is not 32 bytes.
    #[error("a stored digest in {table} is not 32 bytes")]
    CorruptDigest {
        /// The table it was read from.
        table: &'static str,
    },
}
