//! Logout: RP-Initiated Logout 1.0 (the end-session endpoint), Back-Channel Logout 1.0 (logout
//! tokens), Front-Channel Logout 1.0 (the logout page's frames) and the clients' logout
//! metadata.
//!
//! The end-session endpoint's steps, each consuming the last:
//!
//! ```text
//! EndSessionRequest::parse(params)                    errors shown, never redirected
//!   │ client_to_look_up() → (await Storage::client)
//!   └─ verify(client, trusted keys, issuer) ─▶ LogoutRequest   (serialisable: the host keeps it
//!        │ needs_confirmation(current session)                  across its confirmation page)
//!        │ (await Storage::end_session, revoke_grant per LogoutPolicy,
//!        │  Storage::client per client, LogoutSender::send per back-channel client)
//!        └─ LoggedOut: the front-channel frames, then the post-logout redirect
//! ```
//!
//! Logout ends the OP session for every node sharing the store; the host clears its own cookie.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::Reject;
use crate::jose::{CompactJws, sign_typed};
use crate::mint::Mint;
use crate::params::Params;
use crate::response::push_escaped;
use crate::secret::random_token;
use crate::session::{EndedSession, SessionGrant, SessionId, SessionRecord};
use crate::signer::Signer;
use crate::value::{ClientId, Subject};

/// The `events` member of a logout token (Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The `typ` header of a logout token (Back-Channel Logout 1.0 §2.4).
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";

/// Longest accepted `state`, `logout_hint` or `ui_locales` at the end-session endpoint, in
/// octets.
pub const MAX_LOGOUT_PARAM_LEN: usize = 2048;

// ---------------------------------------------------------------------------------------------
// Client metadata

impl Client {
    /// The registered `post_logout_redirect_uris`.
    #[must_use]
    pub fn post_logout_redirect_uris(&self) -> &[String] {
        &self.metadata().post_logout_redirect_uris
    }

    /// The registered `backchannel_logout_uri`, if any.
    #[must_use]
    pub fn backchannel_logout_uri(&self) -> Option<&str> {
        self.metadata().backchannel_logout_uri.as_deref()
    }

    /// The registered `frontchannel_logout_uri`, if any.
    #[must_use]
    pub fn frontchannel_logout_uri(&self) -> Option<&str> {
        self.metadata().frontchannel_logout_uri.as_deref()
    }
}

// ---------------------------------------------------------------------------------------------
// The end-session endpoint

/// Step 1 of the end-session endpoint (RP-Initiated Logout 1.0 §2): the parsed request, its
/// `id_token_hint` not yet verified. Every error here and in [`EndSessionRequest::verify`] is
/// shown to the End-User, never redirected (the redirect URI is not trusted yet, REQUIREMENTS
/// 26).
#[derive(Clone, Debug)]
pub struct EndSessionRequest {
    id_token_hint: Option<String>,
    logout_hint: Option<String>,
    client_id: Option<ClientId>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    ui_locales: Vec<String>,
}

impl EndSessionRequest {
    /// Parses the query (GET) or form (POST) parameters.
    ///
    /// # Errors
    ///
    /// [`Reject::ParameterDuplicated`], [`Reject::ParameterTooLong`],
    /// [`Reject::ClientIdMalformed`].
    pub fn parse(params: &Params<'_>) -> Result<Self, Reject> {
        let text = |name| -> Result<Option<String>, Reject> {
            match params.get(name)? {
                Some(v) if v.len() > MAX_LOGOUT_PARAM_LEN => Err(Reject::ParameterTooLong),
                v => Ok(v.map(String::from)),
            }
        };
        let client_id = params.get("client_id")?.map(ClientId::new).transpose()?;
        Ok(Self {
            id_token_hint: text("id_token_hint")?,
            logout_hint: text("logout_hint")?,
            client_id,
            post_logout_redirect_uri: text("post_logout_redirect_uri")?,
            state: text("state")?,
            ui_locales: text("ui_locales")?
                .map(|l| {
                    l.split(' ')
                        .filter(|t| !t.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The client whose registration the request relies on: `client_id`, else the audience of
    /// the (not yet verified) `id_token_hint`. The driver looks it up; `None`: no client.
    #[must_use]
    pub fn client_to_look_up(&self) -> Option<ClientId> {
        if let Some(id) = &self.client_id {
            return Some(id.clone());
        }
        let hint = self.id_token_hint.as_deref()?;
        let jws = CompactJws::parse(hint).ok()?;
        let claims: HintClaims = serde_json::from_slice(&jws.payload).ok()?;
        claims.client().and_then(|c| ClientId::new(c).ok())
    }

    /// Step 2: verifies the `id_token_hint` (one of `keys` signed it, its `iss` is `issuer`; an
    /// expired hint is accepted, RP-Initiated Logout 1.0 §2), that `client_id` is its audience,
    /// and that `post_logout_redirect_uri` is registered for the client, exactly (§3).
    ///
    /// `client` is the stored client [`client_to_look_up`](Self::client_to_look_up) named, or
    /// `None` if there was none or it is not registered.
    ///
    /// # Errors
    ///
    /// [`Reject::IdTokenHintInvalid`], [`Reject::ClientUnknown`] (a `client_id` that is not
    /// registered), [`Reject::LogoutClientMismatch`],
    /// [`Reject::PostLogoutRedirectUriWithoutClient`],
    /// [`Reject::PostLogoutRedirectUriUnregistered`].
    pub fn verify<'k>(
        self,
        client: Option<&Client>,
        keys: impl Iterator<Item = &'k dyn Signer>,
        issuer: &str,
    ) -> Result<LogoutRequest, Reject> {
        let hint = match self.id_token_hint.as_deref() {
            Some(hint) => {
                Some(verified_hint(hint, keys, issuer).ok_or(Reject::IdTokenHintInvalid)?)
            }
            None => None,
        };
        if self.client_id.is_some() && client.is_none() {
            return Err(Reject::ClientUnknown);
        }
        if let (Some(id), Some(hint)) = (&self.client_id, &hint)
            && !hint.audiences.iter().any(|a| a == id.as_str())
        {
            return Err(Reject::LogoutClientMismatch);
        }
        // The client the hint or client_id named; a hint's unregistered audience is no client.
        let client = client.filter(|c| {
            self.client_id.as_ref() == Some(c.id())
                || hint
                    .as_ref()
                    .is_some_and(|h| h.audiences.iter().any(|a| a == c.id().as_str()))
        });
        let redirect = match (&self.post_logout_redirect_uri, client) {
            (None, _) => None,
            (Some(_), None) => return Err(Reject::PostLogoutRedirectUriWithoutClient),
            (Some(uri), Some(client)) => {
                if !client.post_logout_redirect_uris().iter().any(|r| r == uri) {
                    return Err(Reject::PostLogoutRedirectUriUnregistered);
                }
                Some(uri.clone())
            }
        };
        Ok(LogoutRequest {
            client_id: client.map(|c| c.id().clone()),
            hint_subject: hint.as_ref().map(|h| h.subject.clone()),
            hint_sid: hint.and_then(|h| h.sid),
            post_logout_redirect_uri: redirect,
            state: self.state,
            logout_hint: self.logout_hint,
            ui_locales: self.ui_locales,
        })
    }
}

#[derive(Deserialize)]
struct HintClaims {
    iss: String,
    sub: String,
    #[serde(default)]
    aud: Option<serde_json::Value>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    sid: Option<String>,
}

impl HintClaims {
    fn audiences(&self) -> Vec<String> {
        match &self.aud {
            Some(serde_json::Value::String(a)) => alloc::vec![a.clone()],
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .filter_map(|a| a.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The client the token was issued to: `azp`, else a single audience.
    fn client(&self) -> Option<String> {
        if let Some(azp) = &self.azp {
            return Some(azp.clone());
        }
        let audiences = self.audiences();
        (audiences.len() == 1)
            .then(|| audiences.into_iter().next())
            .flatten()
    }
}

struct VerifiedHint {
    subject: Subject,
    audiences: Vec<String>,
    sid: Option<SessionId>,
}

/// The facts of an `id_token_hint` that one of `keys` signed and whose `iss` is `issuer`; an
/// expired one is accepted.
fn verified_hint<'k>(
    hint: &str,
    keys: impl Iterator<Item = &'k dyn Signer>,
    issuer: &str,
) -> Option<VerifiedHint> {
    let jws = CompactJws::parse(hint).ok()?;
    jws.verify_with(keys).ok()?;
    let claims: HintClaims = serde_json::from_slice(&jws.payload).ok()?;
    if claims.iss != issuer {
        return None;
    }
    Some(VerifiedHint {
        subject: Subject::new(claims.sub.clone()).ok()?,
        audiences: claims.audiences(),
        sid: claims.sid.clone().and_then(|s| SessionId::new(s).ok()),
    })
}

/// A verified logout request. Serialisable, so the host can keep it in its server-side state
/// while it asks the End-User to confirm (never hand it to the browser: it is trusted state).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct LogoutRequest {
    client_id: Option<ClientId>,
    hint_subject: Option<Subject>,
    hint_sid: Option<SessionId>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    logout_hint: Option<String>,
    ui_locales: Vec<String>,
}

impl LogoutRequest {
    /// A logout the host starts itself (its own "sign out" link): no client, no redirect.
    #[must_use]
    pub fn from_host() -> Self {
        Self {
            client_id: None,
            hint_subject: None,
            hint_sid: None,
            post_logout_redirect_uri: None,
            state: None,
            logout_hint: None,
            ui_locales: Vec::new(),
        }
    }

    /// The client that asked, if it was identified (`client_id` or the hint's audience).
    #[must_use]
    pub fn client_id(&self) -> Option<&ClientId> {
        self.client_id.as_ref()
    }

    /// `logout_hint`, as sent (advisory: which account to log out, for the confirmation page).
    #[must_use]
    pub fn logout_hint(&self) -> Option<&str> {
        self.logout_hint.as_deref()
    }

    /// `ui_locales`, in order of preference.
    #[must_use]
    pub fn ui_locales(&self) -> &[String] {
        &self.ui_locales
    }

    /// Whether the host must ask the End-User to confirm before logging them out: always when
    /// no `id_token_hint` identified the current session, or when it names another session or
    /// End-User (RP-Initiated Logout 1.0 §2: "the OP MUST ask the End-User"). A hint with `sid`
    /// must name the session; a hint without `sid` must name its End-User (a public subject).
    /// Without a current session there is nothing to confirm.
    #[must_use]
    pub fn needs_confirmation(&self, session: Option<&SessionRecord>) -> bool {
        let Some(session) = session else {
            return false;
        };
        match (&self.hint_sid, &self.hint_subject) {
            (Some(sid), _) => *sid != session.sid,
            (None, Some(subject)) => *subject != session.subject,
            (None, None) => true,
        }
    }

    /// Where the End-User goes once logged out: the registered `post_logout_redirect_uri` with
    /// `state` added, exactly as received (§3); `None`: the host shows its own page.
    #[must_use]
    pub fn post_logout_location(&self) -> Option<String> {
        let uri = self.post_logout_redirect_uri.as_deref()?;
        let Some(state) = &self.state else {
            return Some(uri.into());
        };
        let mut location = String::from(uri);
        location.push(if uri.contains('?') { '&' } else { '?' });
        location.push_str("state=");
        location.extend(form_urlencoded::byte_serialize(state.as_bytes()));
        Some(location)
    }
}

// ---------------------------------------------------------------------------------------------
// Back-channel logout

/// The claims of a logout token (Back-Channel Logout 1.0 §2.4): never a `nonce`.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LogoutTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The client.
    pub aud: String,
    /// Issue time.
    pub iat: UnixTime,
    /// Expiry.
    pub exp: UnixTime,
    /// A unique id (256 random bits).
    pub jti: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: serde_json::Map<String, serde_json::Value>,
    /// The `sub` the client knows.
    pub sub: String,
    /// The session that ended.
    pub sid: String,
}

/// Mints the logout token telling `client` that session `sid` of `grant`'s End-User ended,
/// signed with the client's ID token algorithm, `typ: logout+jwt` (Back-Channel Logout 1.0
/// §2.4). It carries both `sub` and `sid`, so it satisfies `backchannel_logout_session_required`.
///
/// # Errors
///
/// [`Reject::SigningKeyUnavailable`], [`Reject::ServerError`] (randomness or signing).
pub fn logout_token(
    client: &Client,
    grant: &SessionGrant,
    sid: &SessionId,
    mint: &Mint<'_>,
) -> Result<String, Reject> {
    let signer = mint.signer(client.id_token_alg())?;
    let mut events = serde_json::Map::new();
    events.insert(
        BACKCHANNEL_LOGOUT_EVENT.into(),
        serde_json::Value::Object(serde_json::Map::new()),
    );
    let claims = LogoutTokenClaims {
        iss: mint.config.issuer.clone(),
        aud: client.id().as_str().into(),
        iat: mint.now,
        exp: mint
            .now
            .saturating_add_secs(mint.config.logout_token_lifetime),
        jti: random_token(mint.rng).map_err(|_| Reject::ServerError)?,
        events,
        sub: grant.subject.as_str().into(),
        sid: sid.as_str().into(),
    };
    sign_typed(signer, &claims, mint.rng, LOGOUT_TOKEN_TYPE).map_err(|_| Reject::ServerError)
}

/// Why a back-channel delivery could not be queued.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum SendError {
    /// The URI is refused (the sender's SSRF guard).
    Refused,
    /// The sender cannot take more work now.
    Unavailable,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Refused => "back-channel logout URI refused",
            Self::Unavailable => "back-channel logout sender unavailable",
        })
    }
}

impl core::error::Error for SendError {}

/// The future [`LogoutSender::send`] returns.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Delivers logout tokens to clients' `backchannel_logout_uri` (Back-Channel Logout 1.0 §2.5):
/// an HTTP POST of `logout_token=<token>` as a form. The host supplies it (the fetch adapter
/// ships one with timeouts, bounded retries with backoff and the SSRF guard).
///
/// `send` must return promptly — queue the delivery and retry in the background — so that a
/// slow or failing client never holds up the End-User's logout; failures are the sender's to
/// log.
pub trait LogoutSender: Send + Sync {
    /// Queues the delivery of `logout_token` to `uri`.
    fn send<'a>(&'a self, uri: &'a str, logout_token: String) -> SendFuture<'a>;
}

// ---------------------------------------------------------------------------------------------
// Front-channel logout and the result

/// The URL the logout page frames for a client (Front-Channel Logout 1.0 §2): its
/// `frontchannel_logout_uri`, with `iss` and `sid` added when it registered
/// `frontchannel_logout_session_required`.
#[must_use]
pub fn frontchannel_url(client: &Client, issuer: &str, sid: &SessionId) -> Option<String> {
    let uri = client.frontchannel_logout_uri()?;
    if !client.metadata().frontchannel_logout_session_required {
        return Some(uri.into());
    }
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("iss", issuer)
        .append_pair("sid", sid.as_str())
        .finish();
    let join = if uri.contains('?') { '&' } else { '?' };
    Some(format!("{uri}{join}{query}"))
}

/// What a logout tells the clients of the ended session: the front-channel pages to frame and
/// the back-channel deliveries to queue, one per client that registered each.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Notices {
    /// Front-channel logout URLs ([`frontchannel_url`]).
    pub frames: Vec<String>,
    /// (`backchannel_logout_uri`, logout token) pairs.
    pub deliveries: Vec<(String, String)>,
}

/// The notices for the clients of `ended` (each client once; `clients` are their stored
/// registrations — a client no longer registered is not notified). A logout token that cannot
/// be minted (no key for the client's algorithm) is left out.
#[must_use]
pub fn notices(ended: &EndedSession, clients: &[Client], mint: &Mint<'_>) -> Notices {
    let sid = &ended.record.sid;
    let mut notices = Notices::default();
    for client in clients {
        let Some(grant) = ended.grants.iter().find(|g| &g.client_id == client.id()) else {
            continue;
        };
        if let Some(url) = frontchannel_url(client, &mint.config.issuer, sid) {
            notices.frames.push(url);
        }
        if let Some(uri) = client.backchannel_logout_uri()
            && let Ok(token) = logout_token(client, grant, sid, mint)
        {
            notices.deliveries.push((uri.into(), token));
        }
    }
    notices
}

/// The outcome of a logout: what the End-User's browser does next.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct LoggedOut {
    /// Whether an OP session was ended (`false`: none was current, or another node ended it).
    pub ended: bool,
    /// The front-channel logout URLs to frame.
    pub frames: Vec<String>,
    /// How many back-channel deliveries were queued.
    pub backchannel: usize,
    /// Grants revoked under the [`LogoutPolicy`](crate::session::LogoutPolicy).
    pub revoked: usize,
    /// The post-logout redirect (with `state`), if the request asked for a registered one.
    pub redirect: Option<String>,
}

/// The script of the logout page: once every frame has loaded (or after five seconds), go to
/// the `data-next` address of the page, if any.
pub const LOGOUT_PAGE_SCRIPT: &str = "(function(){var b=document.body,n=b.getAttribute('data-next'),f=document.getElementsByTagName('iframe'),l=f.length,d=false;function go(){if(!d&&n){d=true;window.location.replace(n);}}if(l===0){go();return;}for(var i=0;i<f.length;i++){f[i].addEventListener('load',function(){if(--l===0){go();}});}setTimeout(go,5000);})();";

impl LoggedOut {
    /// The logout page (Front-Channel Logout 1.0 §4): a hidden `iframe` per client page, then
    /// the post-logout redirect (or `done` — host HTML, e.g. "You are signed out" — shown in
    /// place). Every value is HTML-escaped. Serve it with [`LoggedOut::content_security_policy`]
    /// and `Cache-Control: no-store`.
    #[must_use]
    pub fn html(&self, done: &str) -> String {
        let mut page = String::from(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Signed out</title></head><body",
        );
        if let Some(next) = &self.redirect {
            page.push_str(" data-next=\"");
            push_escaped(&mut page, next);
            page.push('"');
        }
        page.push('>');
        page.push_str(done);
        for frame in &self.frames {
            page.push_str("<iframe hidden width=\"0\" height=\"0\" src=\"");
            push_escaped(&mut page, frame);
            page.push_str("\"></iframe>");
        }
        if let Some(next) = &self.redirect {
            page.push_str("<noscript><a href=\"");
            push_escaped(&mut page, next);
            page.push_str("\">Continue</a></noscript>");
        }
        page.push_str("<script>");
        page.push_str(LOGOUT_PAGE_SCRIPT);
        page.push_str("</script></body></html>");
        page
    }

    /// The page's Content-Security-Policy: frames only from exactly the clients' logout URLs
    /// (their scheme, host, port and path), only the page's own script, nothing else loads.
    #[must_use]
    pub fn content_security_policy(&self) -> String {
        let hash = Base64::encode_string(&Sha256::digest(LOGOUT_PAGE_SCRIPT.as_bytes()));
        let mut frames = String::new();
        for frame in &self.frames {
            let source = frame.split(['?', '#']).next().unwrap_or_default();
            // A CSP source is a URL without spaces, semicolons or commas.
            if !source.is_empty() && !source.contains([' ', ';', ',', '\'']) {
                frames.push(' ');
                frames.push_str(source);
            }
        }
        if frames.is_empty() {
            frames.push_str(" 'none'");
        }
        format!(
            "default-src 'none'; script-src 'sha256-{hash}'; frame-src{frames}; \
             frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
        )
    }
}

/// The `check_session_iframe` page (Session Management 1.0 §3.3): receives `client_id + " " +
/// session_state` by `postMessage`, recomputes the hash from the OP browser state cookie
/// ([`BROWSER_STATE_COOKIE`](crate::session::BROWSER_STATE_COOKIE)) and the sender's origin,
/// and answers `changed`, `unchanged` or `error`. Serve it with [`check_session_csp`]; it must
/// be frameable by the clients (no `frame-ancestors` restriction).
pub const CHECK_SESSION_HTML: &str = concat!(
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>check session</title></head><body><script>",
    include_str!("logout/check_session.js"),
    "</script></body></html>"
);

/// The Content-Security-Policy of [`CHECK_SESSION_HTML`]: only its own script runs, and any
/// page may frame it (the clients' pages do, Session Management 1.0 §3.3).
#[must_use]
pub fn check_session_csp() -> String {
    let script = include_str!("logout/check_session.js");
    let hash = Base64::encode_string(&Sha256::digest(script.as_bytes()));
    format!(
        "default-src 'none'; script-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors *"
    )
}

/// What the logout page shows while the clients' pages load.
pub const SIGNED_OUT_HTML: &str = "<p>You are signed out.</p>";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn post_logout_location_echoes_state() {
        let mut request = LogoutRequest::from_host();
        assert_eq!(request.post_logout_location(), None);
        request.post_logout_redirect_uri = Some("https://rp.example/bye".into());
        request.state = Some("a b&c".into());
        assert_eq!(
            request.post_logout_location().as_deref(),
            Some("https://rp.example/bye?state=a+b%26c")
        );
        request.post_logout_redirect_uri = Some("https://rp.example/bye?x=1".into());
        request.state = None;
        assert_eq!(
            request.post_logout_location().as_deref(),
            Some("https://rp.example/bye?x=1")
        );
    }

    #[test]
    fn logout_page_escapes_and_frames_exactly() {
        let out = LoggedOut {
            ended: true,
            frames: alloc::vec!["https://rp.example/fc?iss=x&sid=\"y".into()],
            backchannel: 0,
            revoked: 0,
            redirect: Some("https://rp.example/bye?state=<s>".into()),
        };
        let html = out.html("<p>bye</p>");
        assert!(html.contains("src=\"https://rp.example/fc?iss=x&amp;sid=&quot;y\""));
        assert!(html.contains("data-next=\"https://rp.example/bye?state=&lt;s&gt;\""));
        let csp = out.content_security_policy();
        assert!(csp.contains("frame-src https://rp.example/fc;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        let none = LoggedOut::default().content_security_policy();
        assert!(none.contains("frame-src 'none';"));
    }
}
