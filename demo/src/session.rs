//! Browser sessions, in memory: who is logged in, the CSRF token of the session's forms, the
//! authorization requests waiting for a login or a consent, and the playground's flows.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::HeaderValue;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use base64ct::{Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::{BoundRequest, ResponseType, SecureRandom as _, Step, Subject, UnixTime};
use oidc_hybrid_rustcrypto::OsRandom;
use subtle::ConstantTimeEq as _;

/// The session cookie's name.
pub(crate) const COOKIE_NAME: &str = "oidc_demo_session";

/// How long an idle session lives, in seconds.
const SESSION_IDLE: u64 = 12 * 3600;
/// How long a waiting authorization request or a playground flow lives, in seconds.
const PENDING_TTL: u64 = 600;
/// Most sessions kept at once (the least recently used one goes first).
const MAX_SESSIONS: usize = 10_000;
/// Most waiting requests (and, separately, playground flows) per session.
const MAX_PENDING: usize = 16;

/// The session a handler just created or rotated to, for code that reads the session from the
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

/// One browser's session.
#[derive(Debug)]
pub(crate) struct SessionData {
    pub(crate) csrf: String,
    last_seen: UnixTime,
    pub(crate) user: Option<LoggedIn>,
    pending: HashMap<String, Pending>,
    flows: HashMap<String, Flow>,
}

impl SessionData {
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

    /// Whether `token` is this session's CSRF token (constant time).
    pub(crate) fn csrf_ok(&self, token: &str) -> bool {
        self.csrf.as_bytes().ct_eq(token.as_bytes()).into()
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
    // The OS generator does not fail in practice; a zero token would still be unique enough
    // to notice, but refuse to go on instead.
    if OsRandom.try_fill(&mut bytes).is_err() {
        panic!("the operating system's random generator failed");
    }
    Base64UrlUnpadded::encode_string(&bytes)
}

fn new_session(now: UnixTime) -> (String, SessionData) {
    let session = SessionData {
        csrf: random_token(),
        last_seen: now,
        user: None,
        pending: HashMap::new(),
        flows: HashMap::new(),
    };
    (random_token(), session)
}

/// Inserts a session, first evicting the least recently used one if the table is full.
fn insert(map: &mut HashMap<String, SessionData>, id: String, session: SessionData) {
    if map.len() >= MAX_SESSIONS
        && let Some(oldest) = map
            .iter()
            .min_by_key(|(_, s)| s.last_seen)
            .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
    map.insert(id, session);
}

/// All sessions, and how their cookie is set.
#[derive(Debug)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<String, SessionData>>,
    /// The cookie's `Path`: the issuer's path (`""` for an issuer at the root).
    path: String,
    /// Whether the cookie is `Secure` (an https issuer).
    secure: bool,
}

impl Sessions {
    /// No sessions yet; their cookie is scoped to `path` and `Secure` if `secure`.
    pub(crate) fn new(path: &str, secure: bool) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            path: path.to_owned(),
            secure,
        }
    }

    /// The `Set-Cookie` value for session `id`.
    pub(crate) fn cookie(&self, id: &str) -> HeaderValue {
        set_cookie(id, &self.path, self.secure)
    }

    /// The `Set-Cookie` value that ends the session cookie.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        clear_cookie(&self.path, self.secure)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionData>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session id of a request: a [`CurrentSession`] extension, else the cookie.
    pub(crate) fn id_from(parts: &Parts) -> Option<String> {
        if let Some(CurrentSession(id)) = parts.extensions.get::<CurrentSession>() {
            return Some(id.clone());
        }
        parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE_NAME)
            .map(|(_, value)| value.to_owned())
    }

    /// Runs `f` on the live session `id`, marking it used.
    pub(crate) fn with<T>(
        &self,
        id: &str,
        now: UnixTime,
        f: impl FnOnce(&mut SessionData) -> T,
    ) -> Option<T> {
        let mut map = self.lock();
        let session = map.get_mut(id)?;
        if now.secs_since(session.last_seen) > SESSION_IDLE {
            map.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(f(session))
    }

    /// Runs `f` on the request's session, creating one if there is none; returns whether it was
    /// created (then the response must set the cookie) and the session id.
    pub(crate) fn with_or_create<T>(
        &self,
        parts: &Parts,
        now: UnixTime,
        f: impl FnOnce(&mut SessionData) -> T,
    ) -> (T, String, bool) {
        let mut map = self.lock();
        if let Some(id) = Self::id_from(parts)
            && let Some(session) = map.get_mut(&id)
            && now.secs_since(session.last_seen) <= SESSION_IDLE
        {
            session.last_seen = now;
            return (f(session), id, false);
        }
        let (id, mut session) = new_session(now);
        let out = f(&mut session);
        insert(&mut map, id.clone(), session);
        (out, id, true)
    }

    /// Moves session `old` to a new id (at login: a session id known before the login is not
    /// the one that carries it) and a new CSRF token; returns the new id.
    pub(crate) fn rotate(&self, old: &str) -> Option<String> {
        let mut map = self.lock();
        let mut session = map.remove(old)?;
        session.csrf = random_token();
        let id = random_token();
        map.insert(id.clone(), session);
        Some(id)
    }

    /// Ends a session.
    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Drops idle sessions and stale waiting requests and flows.
    pub(crate) fn prune(&self, now: UnixTime) {
        let mut map = self.lock();
        map.retain(|_, s| now.secs_since(s.last_seen) <= SESSION_IDLE);
        for session in map.values_mut() {
            session
                .pending
                .retain(|_, p| now.secs_since(p.created) <= PENDING_TTL);
            session
                .flows
                .retain(|_, f| now.secs_since(f.created) <= PENDING_TTL);
        }
    }
}

/// Whether a waiting request or flow created at `created` is still usable at `now`.
pub(crate) fn fresh(created: UnixTime, now: UnixTime) -> bool {
    now.secs_since(created) <= PENDING_TTL
}

/// The `Set-Cookie` value for session `id`: `HttpOnly`, `SameSite=Lax` (sent on the top-level
/// navigations of a sign-in, not on cross-site subrequests), `Secure` on an https issuer.
fn set_cookie(id: &str, path: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let path = if path.is_empty() { "/" } else { path };
    HeaderValue::try_from(format!(
        "{COOKIE_NAME}={id}; Path={path}; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("oidc_demo_session=; Max-Age=0"))
}

/// The `Set-Cookie` value that ends the session cookie.
fn clear_cookie(path: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let path = if path.is_empty() { "/" } else { path };
    HeaderValue::try_from(format!(
        "{COOKIE_NAME}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("oidc_demo_session=; Max-Age=0"))
}
