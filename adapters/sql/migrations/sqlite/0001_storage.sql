-- oidc-hybrid storage, schema version 1 (SQLite).
--
-- Codes, tokens and client secrets are stored only as the SHA-256 digest of their wire form
-- (32 bytes), never in clear. Times are Unix seconds; a row is expired once expires_at <= now.
-- Booleans are INTEGER 0/1 (STRICT tables have no BOOLEAN type).

-- Registered clients: RFC 7591 metadata as JSON (without client_secret) and the secret digest
-- (NULL for public clients).
CREATE TABLE clients (
    client_id     TEXT    NOT NULL PRIMARY KEY,
    metadata      TEXT    NOT NULL,
    secret_digest BLOB    CHECK (secret_digest IS NULL OR length(secret_digest) = 32)
) STRICT;

-- Grants: the unit of revocation. A revoked grant's row is its revocation marker.
CREATE TABLE grants (
    id         TEXT    NOT NULL PRIMARY KEY,
    revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX grants_expires_at ON grants (expires_at);

-- Authorization codes: live (used = 0) or a used tombstone (used = 1) kept so that a replay
-- names the grant to revoke.
CREATE TABLE codes (
    digest     BLOB    NOT NULL PRIMARY KEY CHECK (length(digest) = 32),
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    expires_at INTEGER NOT NULL,
    record     TEXT    NOT NULL
) STRICT;
CREATE INDEX codes_grant_id ON codes (grant_id);
CREATE INDEX codes_expires_at ON codes (expires_at);

-- Access tokens (front channel and token endpoint). Revocation deletes them.
CREATE TABLE access_tokens (
    digest     BLOB    NOT NULL PRIMARY KEY CHECK (length(digest) = 32),
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    record     TEXT    NOT NULL
) STRICT;
CREATE INDEX access_tokens_grant_id ON access_tokens (grant_id);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

-- Refresh tokens: live (retired = 0) or a retired tombstone (rotated, or its grant revoked)
-- kept so that reuse is detected.
CREATE TABLE refresh_tokens (
    digest     BLOB    NOT NULL PRIMARY KEY CHECK (length(digest) = 32),
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    retired    INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    expires_at INTEGER NOT NULL,
    record     TEXT    NOT NULL
) STRICT;
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- Client-assertion jti replay cache (RFC 7523 §3), keyed by client and the SHA-256 of the jti.
CREATE TABLE jtis (
    client_id  TEXT    NOT NULL,
    jti_digest BLOB    NOT NULL CHECK (length(jti_digest) = 32),
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti_digest)
) STRICT;
CREATE INDEX jtis_expires_at ON jtis (expires_at);
