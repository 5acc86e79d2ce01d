-- oidc-hybrid storage, schema version 4 (SQLite).
--
-- OP sessions (OpenID Connect Front-Channel / Back-Channel Logout 1.0): the session id (sid),
-- the SessionRecord as JSON, its idle expiry (moved on by each use) and its absolute end. A
-- row is deleted by logout (single use: exactly one logout gets it) or swept once expired.
CREATE TABLE sessions (
    sid        TEXT    NOT NULL PRIMARY KEY,
    record     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- The grants issued under a session (SessionGrant as JSON), in the order they were recorded
-- (seq): the clients a logout notifies and the grants it ends. Deleted with their session.
CREATE TABLE session_grants (
    sid      TEXT    NOT NULL,
    grant_id TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    record   TEXT    NOT NULL,
    PRIMARY KEY (sid, grant_id)
) STRICT;
