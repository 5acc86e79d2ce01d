-- oidc-hybrid storage, schema version 3 (SQLite).
--
-- When a refresh token was rotated (Unix seconds): a reuse inside the provider's grace window
-- (RFC 9700 §4.14.2, `Config::refresh_token_reuse_grace`) is refreshed again instead of
-- revoking the grant. NULL for live tokens, tokens retired by a grant's revocation, and tokens
-- rotated before this version (their reuse revokes the grant, as before).
ALTER TABLE refresh_tokens ADD COLUMN retired_at INTEGER;
