//! The driver's session and logout methods: the steps of [`session`](crate::session) and
//! [`logout`](crate::logout) with the storage operations and deliveries each one asks for.

use alloc::vec::Vec;

use super::Provider;
use crate::authorize::{Approved, Authentication};
use crate::client::Client;
use crate::clock::{Clock, UnixTime};
use crate::error::Reject;
use crate::logout::{EndSessionRequest, LoggedOut, LogoutRequest, LogoutSender, notices};
use crate::params::Params;
use crate::random::SecureRandom;
use crate::session::{SessionId, SessionRecord};
use crate::storage::Storage;

impl<S: Storage, C: Clock + Send + Sync, R: SecureRandom + Send + Sync> Provider<S, C, R> {
    /// Delivers back-channel logout tokens with `sender` (Back-Channel Logout 1.0); without one,
    /// clients' `backchannel_logout_uri`s are not called and discovery does not claim support.
    #[must_use]
    pub fn with_logout_sender(mut self, sender: impl LogoutSender + 'static) -> Self {
        self.logout_sender = Some(alloc::boxed::Box::new(sender));
        self
    }

    /// Whether back-channel logout is delivered (a [`LogoutSender`] is configured).
    pub fn backchannel_logout_supported(&self) -> bool {
        self.logout_sender.is_some()
    }

    /// Begins an OP session for an End-User who has just authenticated: stores it under
    /// `authentication.sid` (e.g. [`SessionId::from_secret`] of the host's cookie) or a fresh
    /// random id, to live [`Config::session_idle_lifetime`](crate::Config) without use and
    /// [`Config::session_max_lifetime`](crate::Config) at most. The host passes the `sid` with
    /// every approval ([`Authentication::with_session`]).
    ///
    /// # Errors
    ///
    /// [`Reject::ServerError`] if randomness or the store fails (the observer sees why), or if
    /// the id is taken.
    pub async fn begin_session(
        &self,
        authentication: &Authentication,
    ) -> Result<SessionRecord, Reject> {
        let now = self.clock.now();
        let sid = match &authentication.sid {
            Some(sid) => sid.clone(),
            None => SessionId::generate(&self.rng).map_err(|e| self.internal(&e))?,
        };
        let (idle, max) = (
            self.config.session_idle_lifetime,
            self.config.session_max_lifetime,
        );
        let record = SessionRecord {
            sid,
            subject: authentication.subject.clone(),
            auth_time: authentication.auth_time,
            acr: authentication.acr.clone(),
            amr: authentication.amr.clone(),
            created_at: now,
            expires_at: now.saturating_add_secs(idle.min(max)),
            ends_at: now.saturating_add_secs(max),
        };
        match self.storage.create_session(&record).await {
            Ok(true) => Ok(record),
            // A fresh id never collides; a host's id that does is refused.
            Ok(false) => Err(Reject::ServerError),
            Err(e) => Err(self.internal(&e)),
        }
    }

    /// The live OP session `sid`, its idle expiry moved on (never past its maximum lifetime);
    /// `None` if it ended (logout on any node) or expired. Hosts call it for every request that
    /// carries their session cookie, so that a logout elsewhere is seen at once.
    ///
    /// # Errors
    ///
    /// [`Reject::ServerError`] if the store fails.
    pub async fn session(&self, sid: &SessionId) -> Result<Option<SessionRecord>, Reject> {
        let now = self.clock.now();
        let idle = crate::session::idle_expiry(now, self.config.session_idle_lifetime);
        let touched = self.storage.touch_session(sid, now, idle).await;
        touched.map_err(|e| self.internal(&e))
    }

    /// The end-session endpoint's steps 1–2 (RP-Initiated Logout 1.0 §2, §3): parse, look up
    /// the client, verify the `id_token_hint` against the trusted keys and the
    /// `post_logout_redirect_uri` against the client's registration. The host then asks the
    /// End-User to confirm when [`LogoutRequest::needs_confirmation`] says so, and calls
    /// [`Provider::logout`].
    ///
    /// # Errors
    ///
    /// The reasons of [`EndSessionRequest::parse`] and [`EndSessionRequest::verify`], to show
    /// to the End-User (never redirect); [`Reject::ServerError`] if the store fails.
    pub async fn end_session_request(&self, params: &Params<'_>) -> Result<LogoutRequest, Reject> {
        let now = self.clock.now();
        let request = EndSessionRequest::parse(params)?;
        let client = match request.client_to_look_up() {
            Some(id) => self
                .storage
                .client(&id)
                .await
                .map_err(|e| self.internal(&e))?,
            None => None,
        };
        let keys = self.keys.current();
        request.verify(client.as_ref(), keys.trusted(now), &self.config.issuer)
    }

    /// Logs the End-User out of OP session `sid` (if any): ends it in the store (for every node),
    /// revokes its grants as [`Config::logout_policy`](crate::Config) says, queues a logout
    /// token for each client with a `backchannel_logout_uri` and returns the front-channel
    /// frames and the post-logout redirect of `request`. A delivery that cannot be queued is
    /// reported to the observer and does not fail the logout.
    ///
    /// # Errors
    ///
    /// [`Reject::ServerError`] if the store fails to end the session or revoke a grant.
    pub async fn logout(
        &self,
        sid: Option<&SessionId>,
        request: &LogoutRequest,
    ) -> Result<LoggedOut, Reject> {
        let now = self.clock.now();
        let mut out = LoggedOut {
            redirect: request.post_logout_location(),
            ..LoggedOut::default()
        };
        let Some(sid) = sid else {
            return Ok(out);
        };
        let ended = self.storage.end_session(sid, now).await;
        let Some(ended) = ended.map_err(|e| self.internal(&e))? else {
            return Ok(out);
        };
        out.ended = true;
        for grant in &ended.grants {
            if self.config.logout_policy.revokes(grant) {
                let revoked = self.storage.revoke_grant(&grant.grant_id, now).await;
                revoked.map_err(|e| self.internal(&e))?;
                out.revoked += 1;
            }
        }
        let mut clients: Vec<Client> = Vec::new();
        for id in ended.clients() {
            match self.storage.client(id).await {
                Ok(Some(client)) => clients.push(client),
                Ok(None) => {}
                Err(e) => {
                    self.internal(&e);
                }
            }
        }
        let keys = self.keys.current();
        let notices = notices(&ended, &clients, &self.mint(now, &keys));
        out.frames = notices.frames;
        if let Some(sender) = &self.logout_sender {
            for (uri, token) in notices.deliveries {
                match sender.send(&uri, token).await {
                    Ok(()) => out.backchannel += 1,
                    Err(e) => {
                        self.internal(&e);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Stores the approved code (and front-channel token) before the response leaves and, under
    /// an OP session, records the grant with it in the same storage call; a session that ended
    /// meanwhile (logout on another node) makes the approval `login_required`.
    pub(super) async fn store_approval(
        &self,
        approved: &Approved,
        now: UnixTime,
    ) -> Result<(), Reject> {
        let token = approved.front_channel_token.as_ref();
        let stored = match &approved.session {
            None => self
                .storage
                .insert_code(&approved.code, token)
                .await
                .map(|()| true),
            Some((sid, grant)) => {
                self.storage
                    .insert_code_in_session(&approved.code, token, sid, grant, now)
                    .await
            }
        };
        match stored {
            Ok(true) => Ok(()),
            Ok(false) => Err(Reject::LoginRequired),
            Err(e) => Err(self.internal(&e)),
        }
    }
}
