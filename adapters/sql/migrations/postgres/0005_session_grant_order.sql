-- oidc-hybrid storage, schema version 5.
--
-- The next grant of a session is numbered MAX(seq) + 1 over the session's grants: with this
-- index that is one index lookup; without it, every grant row of the session is read, a cost
-- that grows with each grant recorded under a long-lived session.
CREATE INDEX session_grants_seq ON session_grants (sid, seq);
