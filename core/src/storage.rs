//! Persistence: the [`Storage`] trait and the records it keeps.
//!
//! Only [`SecretDigest`]s of codes and tokens are stored. The grant ([`GrantId`]) is the unit of
//! revocation: a code, the access tokens issued from it (front channel and token endpoint) and
//! its whole refresh-token chain share one grant id, and [`Storage::revoke_grant`] ends them all
//! (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.14).

use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;

use serde::{Deserialize, Serialize};

use crate::binding::Confirmation;
use crate::claims::ClaimsRequest;
use crate::client::Client;
use crate::clock::UnixTime;
use crate::pkce::CodeChallenge;
use crate::secret::SecretDigest;
use crate::session::{EndedSession, SessionGrant, SessionId, SessionRecord};
use crate::value::{ClientId, GrantId, Nonce, RedirectUri, ResponseType, Scope, Subject};

pub mod model;

/// How long, in seconds, a store keeps a revoked grant's marker after the later of the
/// revocation time and the latest expiry of anything of the grant: 600.
///
/// While the marker lives, [`Storage::insert_tokens`] for the grant returns
/// [`Insertion::GrantRevoked`]; [`Storage::sweep_expired`] removes it once `now` reaches its end.
/// The grace covers a token request that redeemed a code just before it expired and stores its
/// tokens after a concurrent revocation: had the marker been swept meanwhile, the tokens would
/// be stored for a revoked grant. Part of the contract every store keeps (the shared contract
/// suite checks the marker's end to the second), so that stores sharing one deployment agree.
pub const REVOCATION_GRACE_SECS: u64 = 600;

/// Everything bound to an authorization code, as needed to redeem it and to mint the second ID
/// token (RFC 6749 §4.1.2, §10.6; OIDC Core §3.1.3.2, REQUIREMENTS 90, 95, 204).
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct CodeRecord {
    /// Digest of the code.
    pub digest: SecretDigest,
    /// The grant the code starts.
    pub grant_id: GrantId,
    /// The client the code was issued to.
    pub client_id: ClientId,
    /// The verified redirect URI of the authorization request, exactly as sent.
    pub redirect_uri: RedirectUri,
    /// The response type of the request (an OpenID Connect request: the token endpoint always
    /// returns an ID token).
    pub response_type: ResponseType,
    /// The granted scope.
    pub scope: Scope,
    /// The request's nonce, repeated in every ID token of this grant.
    pub nonce: Option<Nonce>,
    /// The authenticated End-User.
    pub subject: Subject,
    /// When the End-User authenticated.
    pub auth_time: UnixTime,
    /// Whether `auth_time` must appear in ID tokens (`max_age` was used).
    pub auth_time_required: bool,
    /// The authentication context class satisfied, if any.
    pub acr: Option<String>,
    /// Authentication methods used (RFC 8176 values).
    pub amr: Vec<String>,
    /// The PKCE challenge, if one was sent.
    pub code_challenge: Option<CodeChallenge>,
    /// When the code was issued.
    pub issued_at: UnixTime,
    /// When the code stops being redeemable.
    pub expires_at: UnixTime,
    /// Whether redeeming it issues a refresh token (decision 0018). Records written before it
    /// existed read as `false`.
    #[serde(default)]
    pub refresh_token: bool,
    /// The resources the grant was authorized for (RFC 8707); empty: none asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The `claims` request parameter and `claims_locales` of the authorization request (OIDC
    /// Core §5.5), honoured by every ID token and UserInfo answer of the grant (REQUIREMENTS 90).
    /// Records written before it existed read as empty.
    #[serde(default, skip_serializing_if = "ClaimsRequest::is_empty")]
    pub claims: ClaimsRequest,
    /// The `sub` the client sees when it differs from `subject`: a pairwise client's (OIDC Core
    /// §8.1). Records written before it existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairwise_subject: Option<Subject>,
    /// The DPoP key the authorization request bound the code to (`dpop_jkt`, RFC 9449 §10):
    /// the token request's proof must use it. Records written before it existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// The OP session the grant was issued under: the `sid` of its ID tokens (Front-Channel
    /// Logout 1.0 §3, Back-Channel Logout 1.0 §2.1). Records written before it existed read as
    /// `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<SessionId>,
}

/// A stored access token.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct AccessTokenRecord {
    /// Digest of the token.
    pub digest: SecretDigest,
    /// The grant it belongs to.
    pub grant_id: GrantId,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The End-User.
    pub subject: Subject,
    /// The scope it carries.
    pub scope: Scope,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// When it expires.
    pub expires_at: UnixTime,
    /// The resources it is meant for (RFC 8707 §2); empty: its client. Stores keep it with the
    /// record (records written before it existed read as empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// The `claims` request parameter and `claims_locales` of the authorization request (OIDC
    /// Core §5.5), honoured by every ID token and UserInfo answer of the grant (REQUIREMENTS 90).
    /// Records written before it existed read as empty.
    #[serde(default, skip_serializing_if = "ClaimsRequest::is_empty")]
    pub claims: ClaimsRequest,
    /// The `sub` the client sees when it differs from `subject`: a pairwise client's (OIDC Core
    /// §8.1). Records written before it existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairwise_subject: Option<Subject>,
    /// What the token is bound to (RFC 9449 §6, RFC 8705 §3); unbound: a bearer token.
    #[serde(default, skip_serializing_if = "Confirmation::is_empty")]
    pub confirmation: Confirmation,
}

impl AccessTokenRecord {
    /// The `sub` its client sees: the pairwise one, or the End-User's subject.
    #[must_use]
    pub fn client_subject(&self) -> &Subject {
        self.pairwise_subject.as_ref().unwrap_or(&self.subject)
    }

    /// The token's audiences (`aud` in JWT access tokens and introspection, RFC 9068 §2.2,
    /// RFC 7662 §2.2): its resources, or its client id when it has none.
    #[must_use]
    pub fn audience(&self) -> Vec<String> {
        if self.audience.is_empty() {
            alloc::vec![self.client_id.as_str().into()]
        } else {
            self.audience.clone()
        }
    }
}

/// A stored refresh token, one link of a grant's rotation chain.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct RefreshTokenRecord {
    /// Digest of the token.
    pub digest: SecretDigest,
    /// The grant it belongs to.
    pub grant_id: GrantId,
    /// The client it is bound to (RFC 6749 §6).
    pub client_id: ClientId,
    /// The End-User.
    pub subject: Subject,
    /// The scope of the grant; refreshes may narrow but never widen it (RFC 6749 §6).
    pub scope: Scope,
    /// The original authentication time, repeated in refreshed ID tokens (OIDC Core §12.2).
    pub auth_time: UnixTime,
    /// Whether `auth_time` must appear in ID tokens.
    pub auth_time_required: bool,
    /// The original `acr`.
    pub acr: Option<String>,
    /// The original `amr`.
    pub amr: Vec<String>,
    /// When it was issued.
    pub issued_at: UnixTime,
    /// When it expires.
    pub expires_at: UnixTime,
    /// The resources the grant was authorized for (RFC 8707); a refresh may narrow, never
    /// widen them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The end of the whole rotation chain, whatever the rotations (the absolute lifetime,
    /// [`Config::refresh_token_max_lifetime`](crate::Config)); `None`: no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_expires_at: Option<UnixTime>,
    /// The `claims` request parameter and `claims_locales` of the authorization request (OIDC
    /// Core §5.5), honoured by every ID token and UserInfo answer of the grant (REQUIREMENTS 90).
    /// Records written before it existed read as empty.
    #[serde(default, skip_serializing_if = "ClaimsRequest::is_empty")]
    pub claims: ClaimsRequest,
    /// The `sub` the client sees when it differs from `subject`: a pairwise client's (OIDC Core
    /// §8.1). Records written before it existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairwise_subject: Option<Subject>,
    /// What the token is bound to: a public client's DPoP key (RFC 9449 §5), or the client
    /// certificate (RFC 8705 §4); unbound: usable with the client's authentication alone.
    #[serde(default, skip_serializing_if = "Confirmation::is_empty")]
    pub confirmation: Confirmation,
    /// The OP session the grant was issued under, repeated as `sid` in refreshed ID tokens.
    /// Records written before it existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<SessionId>,
}

/// A pushed authorization request (RFC 9126 §2), stored until it is used once or expires.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq, Serialize)]
pub struct PushedRequestRecord {
    /// Digest of the random part of its `request_uri`.
    pub digest: SecretDigest,
    /// The client that pushed it.
    pub client_id: ClientId,
    /// Its authorization parameters (from the body or a request object), without client
    /// credentials.
    pub params: Vec<(String, String)>,
    /// When it expires.
    pub expires_at: UnixTime,
}

/// The outcome of [`Storage::redeem_code`].
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant, reason = "boxing would cost an allocation")]
pub enum Redemption {
    /// First redemption: the code is now marked used and this is its record.
    Fresh(CodeRecord),
    /// The code was already used; its grant must be revoked (RFC 6749 §4.1.2).
    Replayed(GrantId),
    /// No such code, or it has expired.
    Unknown,
}

/// The outcome of [`Storage::rotate_refresh_token`].
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant, reason = "boxing would cost an allocation")]
pub enum Rotation {
    /// The old token was live; it is now retired (this is its record) and the new one is stored
    /// in its place.
    Rotated(RefreshTokenRecord),
    /// The old token had already been rotated (or its grant revoked): reuse. The caller revokes
    /// the grant (RFC 9700 §4.14.2).
    Reused(GrantId),
    /// No such token, or it has expired.
    Unknown,
}

/// The outcome of [`Storage::refresh_token`].
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant, reason = "boxing would cost an allocation")]
pub enum RefreshLookup {
    /// A live token: unexpired, not rotated, grant not revoked.
    Live(RefreshTokenRecord),
    /// A token rotated at the given time, of a grant that is not revoked: presenting it again is
    /// reuse (RFC 9700 §4.14.2), unless the provider's reuse grace window still covers it
    /// (`Config::refresh_token_reuse_grace`; decision 0018). The record is the token's own.
    Rotated(RefreshTokenRecord, UnixTime),
    /// A token of a revoked grant: presenting it is reuse.
    Retired(GrantId),
    /// No such token, or it has expired.
    Unknown,
}

/// The outcome of inserting tokens for an existing grant.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Insertion {
    /// Stored.
    Stored,
    /// The grant was revoked meanwhile (e.g. a concurrent code replay); nothing was stored.
    GrantRevoked,
}

/// Where codes, tokens and clients live.
///
/// Every method takes `&self` and is safe to call concurrently; the atomicity each method must
/// provide is stated on it. Lookups return `Ok(None)` for "not found"; `Err` is reserved for the
/// store failing, and renders as `server_error` with no detail.
///
/// # Example
///
/// The reference implementation is `oidc-hybrid-memory`; `oidc-hybrid-sql` persists the same
/// contract in SQLite or PostgreSQL. Both are checked by one contract suite.
pub trait Storage: Send + Sync {
    /// The store's own error type.
    type Error: core::error::Error + Send + Sync + 'static;

    /// The registered client with this id.
    fn client(
        &self,
        id: &ClientId,
    ) -> impl Future<Output = Result<Option<Client>, Self::Error>> + Send;

    /// Persists a new code and, for `code token` / `code id_token token`, the front-channel access
    /// token of the same grant. Both or neither are stored. Called before the authorization
    /// response leaves.
    fn insert_code(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// **Atomically** marks the code used and returns its record, so that of any number of
    /// concurrent redemptions exactly one sees [`Redemption::Fresh`]. A used code leaves a
    /// tombstone that lives until the code would have expired or, if later, until the last token
    /// of its grant expires, so that a replay returns [`Redemption::Replayed`] with its grant id
    /// for as long as revoking the grant matters. Unused codes past `expires_at` (`<= now`) give
    /// [`Redemption::Unknown`].
    fn redeem_code(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<Redemption, Self::Error>> + Send;

    /// Stores the tokens issued at the token endpoint for a grant, atomically with a check that
    /// the grant is not revoked: if it is, nothing is stored and [`Insertion::GrantRevoked`] is
    /// returned.
    fn insert_tokens(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> impl Future<Output = Result<Insertion, Self::Error>> + Send;

    /// The live access token with this digest: not expired, not revoked, grant not revoked.
    fn access_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, Self::Error>> + Send;

    /// Looks up a refresh token: [`RefreshLookup::Live`] if it is unexpired, not yet rotated and
    /// its grant not revoked; [`RefreshLookup::Rotated`] with its record and the time of its
    /// first rotation if it was rotated and its grant is not revoked; [`RefreshLookup::Retired`]
    /// if its grant was revoked (presenting it again is reuse, RFC 9700 §4.14.2);
    /// [`RefreshLookup::Unknown`] otherwise (including expired).
    fn refresh_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<RefreshLookup, Self::Error>> + Send;

    /// **Atomically** retires the live refresh token `old` (remembering `now` as its rotation
    /// time) and stores `new` (same grant) in its place. Of concurrent rotations of one token
    /// exactly one sees [`Rotation::Rotated`]; the others, and any later use of `old`, see
    /// [`Rotation::Reused`] — except that with `grace_since`, a token whose first rotation was at
    /// or after `grace_since` is rotated again: `new` is stored beside the first successor and
    /// [`Rotation::Rotated`] answered (the reuse grace window, RFC 9700 §4.14.2; its rotation
    /// time never moves, so the window never extends). Never for a revoked grant: that is
    /// [`Rotation::Reused`]. A retired token is kept as a tombstone until it would have expired.
    fn rotate_refresh_token(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> impl Future<Output = Result<Rotation, Self::Error>> + Send;

    /// Revokes a grant: its code (if unused), every access token and every refresh token. Later
    /// [`Storage::insert_tokens`] for the grant return [`Insertion::GrantRevoked`]. Idempotent.
    fn revoke_grant(
        &self,
        grant: &GrantId,
        now: UnixTime,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Revokes one access token (RFC 7009). Unknown digests are not an error.
    fn revoke_access_token(
        &self,
        digest: &SecretDigest,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Records a client assertion's `jti` until `expires_at` (RFC 7523 §3, OIDC Core §9).
    /// Returns `true` if it was new, `false` if it was seen before (a replay). Atomic. Callers
    /// reject assertions with `exp <= now` first: such a `jti` would expire at once.
    fn record_jti(
        &self,
        client: &ClientId,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Stores a pushed authorization request (RFC 9126 §2.2).
    fn insert_pushed_request(
        &self,
        record: &PushedRequestRecord,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// **Atomically** removes and returns the live pushed request with this digest, so that of
    /// any number of concurrent uses of one `request_uri` exactly one gets it (single use,
    /// RFC 9126 §4); `None` if unknown, used or expired (`expires_at <= now`).
    fn take_pushed_request(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<PushedRequestRecord>, Self::Error>> + Send;

    /// Deletes everything that expired at or before `now` (`expires_at <= now`) (codes, tombstones, tokens, `jti`s,
    /// pushed requests, revocation markers, sessions with their grant lists) and returns how many entries were removed. Hosts schedule it.
    fn sweep_expired(&self, now: UnixTime)
    -> impl Future<Output = Result<u64, Self::Error>> + Send;

    // -- OP sessions (crate::session): shared by every node, so that logout on one ends the
    // -- session for all.

    /// Stores a new session. Returns `false` (and changes nothing) if a session with its id
    /// exists, live or expired but not yet swept.
    fn create_session(
        &self,
        record: &SessionRecord,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// **Atomically** moves the live session's expiry on to `expires_at` — never back (an expiry
    /// already at or after it stays), never past its `ends_at` — and returns the record as it
    /// now is; `None` if there is no such session, it ended, or it expired (`expires_at <=
    /// now`: an expired session is never revived).
    ///
    /// [`Provider::session`](crate::Provider::session) passes expiries rounded down to a step
    /// ([`session::idle_expiry`](crate::session::idle_expiry)), so most calls change nothing:
    /// a store may answer those from a read, without a write.
    fn touch_session(
        &self,
        sid: &SessionId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> impl Future<Output = Result<Option<SessionRecord>, Self::Error>> + Send;

    /// Records that `grant` was issued under the live session `sid`, **atomically** with a check
    /// that the session lives: returns `false` and stores nothing if it ended or expired, so a
    /// grant is never recorded for a session that a concurrent [`Storage::end_session`] has
    /// already ended (that logout would miss it). Recording the same grant again changes
    /// nothing and returns `true`.
    fn add_session_grant(
        &self,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// The two writes of an approval made under an OP session in one call: records `grant`
    /// under the live session `sid` ([`Storage::add_session_grant`]) and stores the code and
    /// its front-channel token ([`Storage::insert_code`]). Returns `false` and stores nothing
    /// if the session ended or expired (the grant would escape its logout; the approval then
    /// fails with `login_required`). Called before the authorization response leaves.
    ///
    /// The default makes the two calls in that order. A store that can do both in one request,
    /// transaction or statement should: an authorization then costs it one write, not two
    /// (both SQL stores do). Either way a grant recorded without its code is harmless — the
    /// code was never delivered — and a code is never stored for a session that is gone.
    fn insert_code_in_session(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        async move {
            if !self.add_session_grant(sid, grant, now).await? {
                return Ok(false);
            }
            self.insert_code(code, front_channel_token).await?;
            Ok(true)
        }
    }

    /// The grants recorded for the live session `sid`, in the order they were recorded (empty
    /// for an unknown, ended or expired session): the clients a logout would notify.
    fn session_grants(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> impl Future<Output = Result<Vec<SessionGrant>, Self::Error>> + Send;

    /// **Atomically** ends the live session `sid`: removes it and its grant list and returns
    /// both, so that of any number of concurrent logouts exactly one gets the session (and
    /// notifies its clients); the others, and any later call, get `None`. An expired session is
    /// removed too and gives `None`.
    fn end_session(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<EndedSession>, Self::Error>> + Send;
}
