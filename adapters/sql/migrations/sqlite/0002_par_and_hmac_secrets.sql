-- oidc-hybrid storage, schema version 2 (SQLite).
--
-- client_secret_jwt clients: their secret in clear, which HMAC needs (RFC 7523 §2.2; the digest
-- stays in secret_digest). NULL for every other client. Protect the database file at rest.
ALTER TABLE clients ADD COLUMN secret_key TEXT;

-- Pushed authorization requests (RFC 9126): the digest of the random part of the request_uri,
-- the pushing client, the authorization parameters as a JSON array of [name, value] pairs (no
-- client credentials), and the expiry. A row is deleted when used (single use) or swept.
CREATE TABLE pushed_requests (
    digest     BLOB    NOT NULL PRIMARY KEY CHECK (length(digest) = 32),
    client_id  TEXT    NOT NULL,
    params     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX pushed_requests_expires_at ON pushed_requests (expires_at);
