//! Browser state, in memory, in two bounded tables that never share an entry:
//!
//! - **sign-in sessions** (`oidc_demo_session` cookie): who is logged in. Created only by a
//!   successful login, never by a page view; the cookie is set only then and cleared at logout.
//! - **interactions** (`oidc_demo_interaction` cookie, 10 minutes): the authorization requests
//!   waiting for a login or a consent and the playground's flows. Anonymous visitors create
//!   these (by starting a flow, or reaching a login page), so they have their own table: however
//!   many of them come and go, no sign-in session is pushed out.
//!
//! Both tables are LRU caches with O(1) insertion and eviction. Page views create nothing: the
//! CSRF token of a form is derived from the cookie it goes with (a keyed SHA-256 of the
//! cookie's value, with a key drawn at start), so no server state is needed to check it. See
//! docs/decisions/0010.

use alloc::sync::Arc;
use core::future::Future;
use core::num::NonZeroUsize;
use core::pin::Pin;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use axum::http::HeaderValue;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use base64ct::{Base64UrlUnpadded, Encoding as _};
use lru::LruCache;
use oidc_hybrid::{
    BoundRequest, LogoutRequest, ResponseType, SecureRandom as _, SessionId, SessionRecord, Step,
    Subject, UnixTime,
};
use oidc_hybrid_rustcrypto::OsRandom;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The sign-in session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "oidc_demo_session";
/// The interaction cookie's name.
pub(crate) const INTERACTION_COOKIE: &str = "oidc_demo_interaction";

/// How long an idle sign-in session lives, in seconds.
const SESSION_IDLE: u64 = 12 * 3600;
/// How long a waiting authorization request, a playground flow and an idle interaction live,
/// in seconds (also the interaction cookie's `Max-Age`).
const PENDING_TTL: u64 = 600;
/// Most sign-in sessions kept at once (the least recently used one goes first).
const MAX_SESSIONS: usize = 10_000;
/// Most interactions kept at once (the least recently used one goes first).
const MAX_INTERACTIONS: usize = 10_000;
/// Most waiting requests (and, separately, playground flows) per interaction.
const MAX_PENDING: usize = 16;

/// What [`SharedSessions::find`] answers: the session and its user's name.
pub(crate) type Found<'a> =
    Pin<Box<dyn Future<Output = Option<(SessionRecord, String)>> + Send + 'a>>;

/// The OP sessions of the shared store (every demo node on one database sees the same), with
/// each session's user name: what decides who is signed in.
pub(crate) trait SharedSessions: Send + Sync {
    /// The live session `sid` (its idle expiry moved on) and its user's name.
    fn find<'a>(&'a self, sid: &'a SessionId) -> Found<'a>;
}

impl core::fmt::Debug for dyn SharedSessions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedSessions")
    }
}

/// The sign-in session a handler just created, for code that reads the session from the
/// request before the browser has the new cookie (put into `Parts::extensions`).
#[derive(Clone, Debug)]
pub(crate) struct CurrentSession(pub(crate) String);

/// A logged-in End-User.
#[derive(Clone, Debug)]
pub(crate) struct LoggedIn {
    pub(crate) username: String,
    pub(crate) subject: Subject,
    pub(crate) auth_time: UnixTime,
}

/// An authorization request waiting for the user's login or consent.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub(crate) request: BoundRequest,
    pub(crate) step: Step,
    pub(crate) created: UnixTime,
}

/// A relying-party flow the playground started from this browser, waiting for its response.
#[derive(Clone, Debug)]
pub(crate) struct Flow {
    pub(crate) client_id: String,
    pub(crate) response_type: ResponseType,
    pub(crate) nonce: String,
    pub(crate) verifier: String,
    pub(crate) created: UnixTime,
}

/// One browser's sign-in session.
#[derive(Debug)]
struct Session {
    user: LoggedIn,
    last_seen: UnixTime,
}

/// One browser's interactions: waiting requests and playground flows.
#[derive(Debug)]
pub(crate) struct Interaction {
    last_seen: UnixTime,
    pending: HashMap<String, Pending>,
    flows: HashMap<String, Flow>,
    /// Logout requests waiting for the End-User's confirmation.
    logouts: HashMap<String, LogoutRequest>,
}

impl Interaction {
    /// Keeps `pending` under a fresh interaction id and returns the id.
    pub(crate) fn add_pending(&mut self, pending: Pending) -> String {
        let id = random_token();
        trim(&mut self.pending, |p| p.created);
        self.pending.insert(id.clone(), pending);
        id
    }

    /// Takes the waiting request `id` if it waits for `step` (single use).
    pub(crate) fn take_pending(&mut self, id: &str, step: Step) -> Option<Pending> {
        match self.pending.get(id) {
            Some(p) if p.step == step => self.pending.remove(id),
            _ => None,
        }
    }

    /// Puts a request back (e.g. after a wrong password).
    pub(crate) fn restore_pending(&mut self, id: String, pending: Pending) {
        self.pending.insert(id, pending);
    }

    /// Keeps a playground flow under its `state`.
    pub(crate) fn add_flow(&mut self, state: String, flow: Flow) {
        trim(&mut self.flows, |f| f.created);
        self.flows.insert(state, flow);
    }

    /// Takes the playground flow of `state` (single use).
    pub(crate) fn take_flow(&mut self, state: &str) -> Option<Flow> {
        self.flows.remove(state)
    }

    /// Keeps a logout request waiting for confirmation; returns its id.
    pub(crate) fn add_logout(&mut self, request: LogoutRequest) -> String {
        let id = random_token();
        if self.logouts.len() >= MAX_PENDING {
            self.logouts.clear();
        }
        self.logouts.insert(id.clone(), request);
        id
    }

    /// Takes the logout request `id` (single use).
    pub(crate) fn take_logout(&mut self, id: &str) -> Option<LogoutRequest> {
        self.logouts.remove(id)
    }
}

/// Drops the oldest entries so that one more fits under [`MAX_PENDING`].
fn trim<T>(map: &mut HashMap<String, T>, created: impl Fn(&T) -> UnixTime) {
    while map.len() >= MAX_PENDING {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| created(v))
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        map.remove(&oldest);
    }
}

/// 256 random bits, base64url.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator does not fail in practice; refuse to go on rather than use a weak
    // token.
    if OsRandom.try_fill(&mut bytes).is_err() {
        panic!("the operating system's random generator failed");
    }
    Base64UrlUnpadded::encode_string(&bytes)
}

/// Whether a waiting request or flow created at `created` is still usable at `now`.
pub(crate) fn fresh(created: UnixTime, now: UnixTime) -> bool {
    now.secs_since(created) <= PENDING_TTL
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Both tables, the CSRF key, and how the cookies are set.
#[derive(Debug)]
pub(crate) struct Sessions {
    sessions: Mutex<LruCache<String, Session>>,
    interactions: Mutex<LruCache<String, Interaction>>,
    /// The key of the CSRF tokens derived from cookie values.
    csrf_key: String,
    /// The cookies' `Path`: the issuer's path (`""` for an issuer at the root).
    path: String,
    /// Whether the cookies are `Secure` (an https issuer).
    secure: bool,
    /// The shared store's sessions, once the provider exists.
    shared: OnceLock<Arc<dyn SharedSessions>>,
}

impl Sessions {
    /// No sessions yet; their cookies are scoped to `path` and `Secure` if `secure`.
    pub(crate) fn new(path: &str, secure: bool) -> Self {
        Self::with_capacity(path, secure, MAX_SESSIONS, MAX_INTERACTIONS)
    }

    fn with_capacity(path: &str, secure: bool, sessions: usize, interactions: usize) -> Self {
        let capacity = |n: usize| NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN);
        Self {
            sessions: Mutex::new(LruCache::new(capacity(sessions))),
            interactions: Mutex::new(LruCache::new(capacity(interactions))),
            csrf_key: random_token(),
            path: path.to_owned(),
            secure,
            shared: OnceLock::new(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Cookies and CSRF tokens

    /// The value of cookie `name` in the request.
    fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
        parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The sign-in session id of a request: a [`CurrentSession`] extension, else the cookie.
    pub(crate) fn session_id(parts: &Parts) -> Option<String> {
        if let Some(CurrentSession(id)) = parts.extensions.get::<CurrentSession>() {
            return Some(id.clone());
        }
        Self::cookie_value(parts, SESSION_COOKIE)
    }

    /// The request's interaction cookie, if it sent one.
    pub(crate) fn interaction_of(parts: &Parts) -> Option<String> {
        Self::cookie_value(parts, INTERACTION_COOKIE)
    }

    /// The request's interaction id, or a new one (the response sets the cookie either way,
    /// with [`interaction_cookie`](Self::interaction_cookie), renewing its lifetime).
    pub(crate) fn interaction_id(parts: &Parts) -> String {
        Self::interaction_of(parts).unwrap_or_else(random_token)
    }

    /// The CSRF token of the forms that go with cookie value `id`: a keyed digest, so that it
    /// needs no server state and cannot be computed without the key.
    pub(crate) fn csrf_for(&self, id: &str) -> String {
        let digest = Sha256::new()
            .chain_update(self.csrf_key.as_bytes())
            .chain_update(b"\0")
            .chain_update(id.as_bytes())
            .finalize();
        Base64UrlUnpadded::encode_string(&digest)
    }

    /// Whether `token` is the CSRF token for cookie value `id` (constant time).
    pub(crate) fn csrf_ok(&self, id: &str, token: &str) -> bool {
        self.csrf_for(id).as_bytes().ct_eq(token.as_bytes()).into()
    }

    fn set_cookie(&self, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        let max_age = max_age.map_or_else(String::new, |secs| format!("; Max-Age={secs}"));
        // HttpOnly, SameSite=Lax: sent on the top-level navigations of a sign-in, not on
        // cross-site subrequests or posts.
        HeaderValue::try_from(format!(
            "{name}={value}; Path={path}{max_age}; HttpOnly; SameSite=Lax{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("oidc_demo=; Max-Age=0"))
    }

    /// The `Set-Cookie` value for sign-in session `id` (a browser-session cookie).
    pub(crate) fn session_cookie(&self, id: &str) -> HeaderValue {
        self.set_cookie(SESSION_COOKIE, id, None)
    }

    /// The `Set-Cookie` value that ends the sign-in session cookie.
    pub(crate) fn clear_session_cookie(&self) -> HeaderValue {
        self.set_cookie(SESSION_COOKIE, "", Some(0))
    }

    /// The `Set-Cookie` value for interaction `id` (10 minutes, renewed with each page).
    pub(crate) fn interaction_cookie(&self, id: &str) -> HeaderValue {
        self.set_cookie(INTERACTION_COOKIE, id, Some(PENDING_TTL))
    }

    // -----------------------------------------------------------------------------------------
    // Sign-in sessions

    /// Reads sign-in sessions from the shared store from now on.
    pub(crate) fn share(&self, shared: Arc<dyn SharedSessions>) {
        let _ = self.shared.set(shared);
    }

    /// The OP session id of the request's sign-in cookie ([`SessionId::from_secret`]: the
    /// cookie stays the secret, the id goes into tokens).
    pub(crate) fn sid(parts: &Parts) -> Option<SessionId> {
        Self::session_id(parts).map(|cookie| SessionId::from_secret(&cookie))
    }

    /// Who is logged in on the request's sign-in session, marking it used. With the shared
    /// store, the store decides (a logout on any node, a restart, a second node: all see the
    /// same), and the local table only remembers.
    pub(crate) async fn user(&self, parts: &Parts, now: UnixTime) -> Option<LoggedIn> {
        let id = Self::session_id(parts)?;
        if let Some(shared) = self.shared.get() {
            let sid = SessionId::from_secret(&id);
            let Some((record, username)) = shared.find(&sid).await else {
                lock(&self.sessions).pop(&id);
                return None;
            };
            let user = LoggedIn {
                username,
                subject: record.subject,
                auth_time: record.auth_time,
            };
            let session = Session {
                user: user.clone(),
                last_seen: now,
            };
            lock(&self.sessions).put(id, session);
            return Some(user);
        }
        let mut sessions = lock(&self.sessions);
        let session = sessions.get_mut(&id)?;
        if now.secs_since(session.last_seen) > SESSION_IDLE {
            sessions.pop(&id);
            return None;
        }
        session.last_seen = now;
        Some(session.user.clone())
    }

    /// Starts a sign-in session for `user` under a new id (a session id known before the
    /// login never carries it: session fixation), ending `previous`; returns the new id. When
    /// the table is full the least recently used session ends.
    pub(crate) fn log_in(&self, previous: Option<&str>, user: LoggedIn, now: UnixTime) -> String {
        let id = random_token();
        let mut sessions = lock(&self.sessions);
        if let Some(previous) = previous {
            sessions.pop(previous);
        }
        sessions.put(
            id.clone(),
            Session {
                user,
                last_seen: now,
            },
        );
        id
    }

    /// Ends a sign-in session.
    pub(crate) fn log_out(&self, id: &str) {
        lock(&self.sessions).pop(id);
    }

    // -----------------------------------------------------------------------------------------
    // Interactions

    /// Runs `f` on live interaction `id`, marking it used; `None` if there is none.
    pub(crate) fn with_interaction<T>(
        &self,
        id: &str,
        now: UnixTime,
        f: impl FnOnce(&mut Interaction) -> T,
    ) -> Option<T> {
        let mut interactions = lock(&self.interactions);
        let interaction = interactions.get_mut(id)?;
        if now.secs_since(interaction.last_seen) > PENDING_TTL {
            interactions.pop(id);
            return None;
        }
        interaction.last_seen = now;
        Some(f(interaction))
    }

    /// Runs `f` on interaction `id`, creating it if needed. When the table is full the least
    /// recently used interaction goes; sign-in sessions are never touched.
    pub(crate) fn with_interaction_or_new<T>(
        &self,
        id: &str,
        now: UnixTime,
        f: impl FnOnce(&mut Interaction) -> T,
    ) -> T {
        let mut interactions = lock(&self.interactions);
        let interaction = interactions.get_or_insert_mut(id.to_owned(), || Interaction {
            last_seen: now,
            pending: HashMap::new(),
            flows: HashMap::new(),
            logouts: HashMap::new(),
        });
        if now.secs_since(interaction.last_seen) > PENDING_TTL {
            interaction.pending.clear();
            interaction.flows.clear();
        }
        interaction.last_seen = now;
        f(interaction)
    }

    /// Drops idle sessions and interactions, and stale waiting requests and flows.
    pub(crate) fn prune(&self, now: UnixTime) {
        let mut sessions = lock(&self.sessions);
        let idle: Vec<String> = sessions
            .iter()
            .filter(|(_, s)| now.secs_since(s.last_seen) > SESSION_IDLE)
            .map(|(id, _)| id.clone())
            .collect();
        for id in idle {
            sessions.pop(&id);
        }
        drop(sessions);
        let mut interactions = lock(&self.interactions);
        let idle: Vec<String> = interactions
            .iter()
            .filter(|(_, i)| now.secs_since(i.last_seen) > PENDING_TTL)
            .map(|(id, _)| id.clone())
            .collect();
        for id in idle {
            interactions.pop(&id);
        }
        for (_, interaction) in interactions.iter_mut() {
            interaction.pending.retain(|_, p| fresh(p.created, now));
            interaction.flows.retain(|_, f| fresh(f.created, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Sessions::user` without a shared store completes at once.
    fn user_now(sessions: &Sessions, parts: &Parts, now: UnixTime) -> Option<LoggedIn> {
        oidc_hybrid::storage::model::complete_now(sessions.user(parts, now)).expect("ready")
    }

    fn user(name: &str, now: UnixTime) -> LoggedIn {
        LoggedIn {
            username: name.into(),
            subject: Subject::new(name).expect("subject"),
            auth_time: now,
        }
    }

    fn parts_with_cookie(cookie: &str) -> Parts {
        let request = axum::http::Request::builder()
            .header(COOKIE, cookie)
            .body(())
            .expect("request");
        request.into_parts().0
    }

    #[test]
    fn anonymous_interactions_never_push_out_a_sign_in_session() {
        let sessions = Sessions::new("", false);
        let now = UnixTime::from_secs(1_700_000_000);
        let id = sessions.log_in(None, user("alice", now), now);
        // Twice as many anonymous interactions as the table holds.
        for _ in 0..2 * MAX_INTERACTIONS {
            sessions.with_interaction_or_new(&random_token(), now, |_| ());
        }
        let parts = parts_with_cookie(&format!("{SESSION_COOKIE}={id}"));
        let alice = user_now(&sessions, &parts, now).expect("still logged in");
        assert_eq!(alice.username, "alice");
        assert_eq!(lock(&sessions.interactions).len(), MAX_INTERACTIONS);
        assert_eq!(lock(&sessions.sessions).len(), 1);
    }

    #[test]
    fn a_full_table_evicts_the_least_recently_used_session() {
        let sessions = Sessions::with_capacity("", false, 3, 3);
        let now = UnixTime::from_secs(1_700_000_000);
        let ids: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|name| sessions.log_in(None, user(name, now), now))
            .collect();
        // "a" is used, so "b" is now the least recently used.
        let cookie = |id: &str| parts_with_cookie(&format!("{SESSION_COOKIE}={id}"));
        assert!(user_now(&sessions, &cookie(&ids[0]), now).is_some());
        sessions.log_in(None, user("d", now), now);
        assert!(user_now(&sessions, &cookie(&ids[0]), now).is_some());
        assert!(
            user_now(&sessions, &cookie(&ids[1]), now).is_none(),
            "b evicted"
        );
        assert!(user_now(&sessions, &cookie(&ids[2]), now).is_some());
        // Logging in again ends the previous session.
        let again = sessions.log_in(Some(&ids[2]), user("c", now), now);
        assert!(user_now(&sessions, &cookie(&ids[2]), now).is_none());
        assert!(user_now(&sessions, &cookie(&again), now).is_some());
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_cookie_and_the_key() {
        let sessions = Sessions::new("", false);
        let other = Sessions::new("", false);
        let token = sessions.csrf_for("cookie-value");
        assert!(sessions.csrf_ok("cookie-value", &token));
        assert!(!sessions.csrf_ok("another-value", &token));
        assert!(!other.csrf_ok("cookie-value", &token), "another key");
        assert!(!sessions.csrf_ok("cookie-value", ""));
    }

    #[test]
    fn cookies_are_http_only_lax_and_scoped() {
        let sessions = Sessions::new("/tenant", true);
        let session = sessions.session_cookie("s");
        assert_eq!(
            session,
            "oidc_demo_session=s; Path=/tenant; HttpOnly; SameSite=Lax; Secure"
        );
        let interaction = sessions.interaction_cookie("i");
        assert_eq!(
            interaction,
            "oidc_demo_interaction=i; Path=/tenant; Max-Age=600; HttpOnly; SameSite=Lax; Secure"
        );
        let cleared = sessions.clear_session_cookie();
        assert!(cleared.to_str().is_ok_and(|c| c.contains("Max-Age=0")));
    }
}
