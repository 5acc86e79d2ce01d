-- oidc-hybrid storage, schema version 1 (PostgreSQL).
--
-- Codes, tokens and client secrets are stored only as the SHA-256 digest of their wire form
-- (32 bytes), never in clear. Times are Unix seconds; a row is expired once expires_at <= now.

-- Registered clients: RFC 7591 metadata as JSON text (without client_secret) and the secret
-- digest (NULL for public clients).
CREATE TABLE clients (
    client_id     TEXT    NOT NULL PRIMARY KEY,
    metadata      TEXT    NOT NULL,
    secret_digest BYTEA   CHECK (secret_digest IS NULL OR octet_length(secret_digest) = 32)
);

-- Grants: the unit of revocation. A revoked grant's row is its revocation marker; every
-- operation that changes a grant's members locks this row first.
CREATE TABLE grants (
    id         TEXT    NOT NULL PRIMARY KEY,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX grants_expires_at ON grants (expires_at);

-- Authorization codes: live (used = FALSE) or a used tombstone (used = TRUE) kept so that a
-- replay names the grant to revoke.
CREATE TABLE codes (
    digest     BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(digest) = 32),
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at BIGINT  NOT NULL,
    record     TEXT    NOT NULL
);
CREATE INDEX codes_grant_id ON codes (grant_id);
CREATE INDEX codes_expires_at ON codes (expires_at);

-- Access tokens (front channel and token endpoint). Revocation deletes them.
CREATE TABLE access_tokens (
    digest     BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(digest) = 32),
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    record     TEXT    NOT NULL
);
CREATE INDEX access_tokens_grant_id ON access_tokens (grant_id);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

-- Refresh tokens: live (retired = FALSE) or a retired tombstone (rotated, or its grant
-- revoked) kept so that reuse is detected.
CREATE TABLE refresh_tokens (
    digest     BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(digest) = 32),
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    retired    BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at BIGINT  NOT NULL,
    record     TEXT    NOT NULL
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- Client-assertion jti replay cache (RFC 7523 §3), keyed by client and the SHA-256 of the jti.
CREATE TABLE jtis (
    client_id  TEXT    NOT NULL,
    jti_digest BYTEA   NOT NULL CHECK (octet_length(jti_digest) = 32),
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (client_id, jti_digest)
);
CREATE INDEX jtis_expires_at ON jtis (expires_at);
