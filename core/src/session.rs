//! The OP session: who signed in to this provider from one browser, when, and which grants were
//! issued under it (OpenID Connect Front-Channel Logout 1.0 §2, Back-Channel Logout 1.0 §2.1,
//! Session Management 1.0 §3).
//!
//! The host's login creates a session ([`Provider::begin_session`](crate::Provider)) and keeps
//! its [`SessionId`] (`sid`) in its own cookie; every approval made under it carries the id
//! ([`Approval::with_session`](crate::Approval::with_session)), so the ID tokens carry `sid` and
//! the store records the grant with the session ([`SessionGrant`]). Logout ends the session in
//! the store — for every OP node sharing it — and returns the grants, so that the clients can be
//! notified and the grants revoked ([`logout`](crate::logout)).

use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::UnixTime;
use crate::error::Reject;
use crate::random::{RandomError, SecureRandom};
use crate::value::{ClientId, GrantId, Subject};

/// Longest accepted session id, in octets.
pub const MAX_SESSION_ID_LEN: usize = 255;

/// The longest step, in seconds, by which [`idle_expiry`] rounds a session's idle expiry down.
pub const IDLE_EXPIRY_STEP_SECS: u64 = 60;

/// The idle expiry a use of a session at `now` moves it on to: `now + idle_lifetime`, rounded
/// down to a step of [`IDLE_EXPIRY_STEP_SECS`] (or an eighth of `idle_lifetime`, if shorter;
/// at least one second).
///
/// Rounding makes the uses of one session within a step ask for the same expiry, so only the
/// first of them changes the stored session (Storage::touch_session never moves an expiry
/// back): a signed-in browser running flow after flow costs one session write per step, not
/// one per request. The price is that an idle session ends up to one step (at most an eighth
/// of its idle lifetime) earlier than `idle_lifetime` after its last use — earlier, never
/// later.
#[must_use]
pub fn idle_expiry(now: UnixTime, idle_lifetime: u64) -> UnixTime {
    let step = (idle_lifetime / 8).clamp(1, IDLE_EXPIRY_STEP_SECS);
    let until = now.saturating_add_secs(idle_lifetime).as_secs();
    UnixTime::from_secs(until - until % step)
}

/// An OP session's identifier, the `sid` of ID tokens and logout tokens (Front-Channel Logout
/// 1.0 §3, Back-Channel Logout 1.0 §2.1): 256 random bits, unpadded base64url, when the provider
/// draws it. It names a session to the clients; it is not a credential — the host's cookie is.
#[derive(Clone, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// A fresh random id.
    ///
    /// # Errors
    ///
    /// [`RandomError`] if the random source fails.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self, RandomError> {
        let mut bytes = [0u8; 32];
        rng.try_fill(&mut bytes)?;
        Ok(Self(Base64UrlUnpadded::encode_string(&bytes)))
    }

    /// The id of the session whose host cookie holds `secret` (at least 128 random bits):
    /// unpadded base64url of SHA-256 over a fixed label and the secret. The id travels to
    /// clients in tokens; the secret cannot be derived from it, so a host can keep only the
    /// secret in its cookie and find the shared session from it on any node.
    #[must_use]
    pub fn from_secret(secret: &str) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"oidc-hybrid session id\0");
        hash.update(secret.as_bytes());
        Self(Base64UrlUnpadded::encode_string(&hash.finalize()))
    }

    /// Parses a stored or received id: 1–255 printable ASCII characters without spaces.
    ///
    /// # Errors
    ///
    /// [`Reject::SessionIdMalformed`].
    pub fn new(value: impl Into<String>) -> Result<Self, Reject> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= MAX_SESSION_ID_LEN
            && value.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if ok {
            Ok(Self(value))
        } else {
            Err(Reject::SessionIdMalformed)
        }
    }

    /// The id as it appears in tokens.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The OP browser state of Session Management 1.0 §3 for this session: unpadded base64url
    /// of SHA-256 over a fixed label and the id. The host keeps it in the cookie the
    /// `check_session_iframe` reads ([`BROWSER_STATE_COOKIE`]) while the session lives and
    /// clears it at logout; it changes with the session and says nothing about the End-User.
    #[must_use]
    pub fn browser_state(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"oidc-hybrid browser state\0");
        hash.update(self.0.as_bytes());
        Base64UrlUnpadded::encode_string(&hash.finalize())
    }
}

impl TryFrom<String> for SessionId {
    type Error = Reject;
    fn try_from(value: String) -> Result<Self, Reject> {
        Self::new(value)
    }
}

impl From<SessionId> for String {
    fn from(value: SessionId) -> Self {
        value.0
    }
}

impl core::fmt::Display for SessionId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of the cookie holding the OP browser state ([`SessionId::browser_state`]), which the
/// `check_session_iframe` page reads (Session Management 1.0 §3.3). Not `HttpOnly`: the page's
/// script reads it.
pub const BROWSER_STATE_COOKIE: &str = "oidc_browser_state";

/// A stored OP session.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SessionRecord {
    /// Its id.
    pub sid: SessionId,
    /// Who signed in.
    pub subject: Subject,
    /// When they last actively authenticated.
    pub auth_time: UnixTime,
    /// The authentication context class satisfied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Authentication methods (RFC 8176).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// When the session began.
    pub created_at: UnixTime,
    /// When it ends unless touched again (the idle limit); never after `ends_at`.
    pub expires_at: UnixTime,
    /// When it ends whatever its use (`created_at + Config::session_max_lifetime`).
    pub ends_at: UnixTime,
}

/// A grant issued under a session: what logout needs to notify its client and end the grant.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct SessionGrant {
    /// The grant.
    pub grant_id: GrantId,
    /// Its client.
    pub client_id: ClientId,
    /// The `sub` its client sees (pairwise or public): the logout token's `sub`.
    pub subject: Subject,
    /// Whether the grant carries `offline_access` with a refresh token: under
    /// [`LogoutPolicy::KeepOffline`] it outlives the session (OIDC Core §11).
    pub offline: bool,
}

/// A session that logout ended, with the grants issued under it.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct EndedSession {
    /// The session as it was.
    pub record: SessionRecord,
    /// Its grants, in the order they were recorded.
    pub grants: Vec<SessionGrant>,
}

impl EndedSession {
    /// An ended session.
    #[must_use]
    pub fn new(record: SessionRecord, grants: Vec<SessionGrant>) -> Self {
        Self { record, grants }
    }

    /// The clients of the session, each once, in the order of their first grant.
    #[must_use]
    pub fn clients(&self) -> Vec<&ClientId> {
        let mut clients: Vec<&ClientId> = Vec::new();
        for grant in &self.grants {
            if !clients.contains(&&grant.client_id) {
                clients.push(&grant.client_id);
            }
        }
        clients
    }
}

/// What logout does to the grants of the session it ends (decision 0031).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub enum LogoutPolicy {
    /// Revoke every grant of the session except those with `offline_access` and a refresh token,
    /// which exist to outlive the End-User's presence (OIDC Core §11). The default.
    #[default]
    KeepOffline,
    /// Revoke every grant of the session.
    RevokeAll,
    /// Revoke nothing: only the session ends (the clients are still notified).
    KeepAll,
}

impl LogoutPolicy {
    /// Whether logout revokes `grant`.
    #[must_use]
    pub fn revokes(self, grant: &SessionGrant) -> bool {
        match self {
            Self::KeepOffline => !grant.offline,
            Self::RevokeAll => true,
            Self::KeepAll => false,
        }
    }
}

/// The `session_state` of an authorization response (Session Management 1.0 §3): lower-case hex
/// SHA-256 over `client_id`, the origin of the redirect URI, the OP browser state and `salt`,
/// separated by spaces, then `.` and the salt. The `check_session_iframe`
/// computes the same value from its cookie.
#[must_use]
pub fn session_state(client_id: &str, origin: &str, browser_state: &str, salt: &str) -> String {
    let mut hash = Sha256::new();
    for (i, part) in [client_id, origin, browser_state, salt].iter().enumerate() {
        if i > 0 {
            hash.update(b" ");
        }
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut out = String::with_capacity(64 + 1 + salt.len());
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out.push('.');
    out.push_str(salt);
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The origin (`scheme://host[:port]`, RFC 6454) of an absolute URL, as the RP's page sees it:
/// the scheme and authority, lower-cased, without user info, path, query or fragment.
#[must_use]
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if scheme.is_empty() || authority.is_empty() {
        return None;
    }
    let mut origin = String::with_capacity(scheme.len() + 3 + authority.len());
    origin.push_str(&scheme.to_ascii_lowercase());
    origin.push_str("://");
    origin.push_str(&authority.to_ascii_lowercase());
    Some(origin)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn session_state_is_hex_sha256_of_the_four_values_and_the_salt() {
        // echo -n "rp https://rp.example:8443 bs salt" | sha256sum
        let value = session_state("rp", "https://rp.example:8443", "bs", "salt");
        let (hash, salt) = value.split_once('.').unwrap();
        assert_eq!(salt, "salt");
        assert_eq!(hash.len(), 64);
        let expected = Sha256::digest(b"rp https://rp.example:8443 bs salt");
        let hex: String = expected.iter().map(|b| alloc::format!("{b:02x}")).collect();
        assert_eq!(hash, hex);
    }

    #[test]
    fn idle_expiries_round_down_to_a_step_of_at_most_a_minute() {
        let at = UnixTime::from_secs;
        // 12 h idle: one-minute steps; every use within a minute asks for the same expiry.
        let twelve_hours = 12 * 3600;
        assert_eq!(idle_expiry(at(1_000_020), twelve_hours), at(1_043_220));
        assert_eq!(idle_expiry(at(1_000_079), twelve_hours), at(1_043_220));
        assert_eq!(idle_expiry(at(1_000_080), twelve_hours), at(1_043_280));
        // Never later than the full idle lifetime, never more than a step earlier.
        for now in 1_000_000..1_000_200 {
            let until = idle_expiry(at(now), twelve_hours).as_secs();
            assert!(until <= now + twelve_hours && until > now + twelve_hours - 60);
        }
        // A short idle lifetime: the step is an eighth of it.
        let until = idle_expiry(at(1_000_007), 40).as_secs();
        assert_eq!(until, 1_000_045);
        assert!(until > 1_000_007 + 40 - 5);
        // A very short one: one-second steps, the exact expiry.
        assert_eq!(idle_expiry(at(1_000_007), 3), at(1_000_010));
    }

    #[test]
    fn origins() {
        let o = |u| origin_of(u);
        assert_eq!(
            o("https://RP.example/cb?x#y").as_deref(),
            Some("https://rp.example")
        );
        assert_eq!(
            o("http://127.0.0.1:8080/cb").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            o("https://u:p@rp.example/").as_deref(),
            Some("https://rp.example")
        );
        assert_eq!(o("nope"), None);
    }

    #[test]
    fn session_ids() {
        assert!(SessionId::new("abc").is_ok());
        assert_eq!(SessionId::new(""), Err(Reject::SessionIdMalformed));
        assert_eq!(SessionId::new("a b"), Err(Reject::SessionIdMalformed));
        let long = "a".repeat(256);
        assert_eq!(SessionId::new(long), Err(Reject::SessionIdMalformed));
    }

    #[test]
    fn policy() {
        let grant = |offline| SessionGrant {
            grant_id: GrantId::new("g"),
            client_id: ClientId::new("c").unwrap(),
            subject: Subject::new("s").unwrap(),
            offline,
        };
        assert!(LogoutPolicy::KeepOffline.revokes(&grant(false)));
        assert!(!LogoutPolicy::KeepOffline.revokes(&grant(true)));
        assert!(LogoutPolicy::RevokeAll.revokes(&grant(true)));
        assert!(!LogoutPolicy::KeepAll.revokes(&grant(false)));
    }
}
