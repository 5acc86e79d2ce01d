//! The storage model's rules, written once for the stores that keep their entries in memory
//! (`oidc-hybrid-memory`, `oidc-hybrid-embedded-store`): when an entry expires, what a used
//! code and a rotated refresh token leave behind and for how long, how long a revocation marker
//! lives, when a `jti` counts as seen, and how a store whose operations complete at once
//! implements [`Storage`].
//!
//! Pure: nothing here locks, allocates beyond the records it is given, or reads a clock. Each
//! store keeps its own tables and locking and calls these rules under its locks. The SQL
//! stores state the same rules in SQL; the shared contract suite checks every store against
//! them.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::future::{Future, ready};
use core::ops::Range;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use super::{
    AccessTokenRecord, CodeRecord, Insertion, PushedRequestRecord, REVOCATION_GRACE_SECS,
    Redemption, RefreshLookup, RefreshTokenRecord, Rotation, Storage,
};
use crate::client::Client;
use crate::clock::UnixTime;
use crate::secret::SecretDigest;
use crate::session::{EndedSession, SessionGrant, SessionId, SessionRecord};
use crate::value::{ClientId, GrantId};

/// Whether something that stops being valid at `expires_at` is still valid at `now`: live while
/// `now < expires_at`, expired from `expires_at` on (`expires_at <= now`), for every read and
/// for [`Storage::sweep_expired`].
#[inline]
#[must_use]
pub fn alive(expires_at: UnixTime, now: UnixTime) -> bool {
    now < expires_at
}

/// Until when a grant revoked at `now` keeps its revocation marker: [`REVOCATION_GRACE_SECS`]
/// after the later of `now` and `expires_at`, the latest expiry of anything of the grant.
#[must_use]
pub fn revocation_marker_until(expires_at: UnixTime, now: UnixTime) -> UnixTime {
    expires_at
        .max(now)
        .saturating_add_secs(REVOCATION_GRACE_SECS)
}

/// Records that a client assertion's `jti`, last seen until `*seen_until`, is used again for
/// `span` (from now until the assertion's expiry); returns whether it counts as new (RFC 7523
/// §3). A `jti` still remembered at `span.start` is a replay and changes nothing; one whose
/// memory has expired is remembered again until `span.end`. A `jti` a store has never seen is
/// new: the store keeps it until `span.end`.
pub fn renew_jti(seen_until: &mut UnixTime, span: Range<UnixTime>) -> bool {
    if alive(*seen_until, span.start) {
        return false;
    }
    *seen_until = span.end;
    true
}

/// A record that belongs to a grant and expires: what a tombstone keeps of it.
pub trait GrantMember: Clone {
    /// The grant it belongs to.
    fn grant_id(&self) -> &GrantId;

    /// When it expires.
    fn expires_at(&self) -> UnixTime;
}

impl GrantMember for CodeRecord {
    fn grant_id(&self) -> &GrantId {
        &self.grant_id
    }

    fn expires_at(&self) -> UnixTime {
        self.expires_at
    }
}

impl GrantMember for RefreshTokenRecord {
    fn grant_id(&self) -> &GrantId {
        &self.grant_id
    }

    fn expires_at(&self) -> UnixTime {
        self.expires_at
    }
}

/// A stored single-use secret: a code or a refresh token, live or retired.
///
/// A code is retired when it is redeemed, a refresh token when it is rotated away, and both when
/// their grant is revoked. Retiring keeps a tombstone, so that a later use is recognised as a
/// replay ([`Redemption::Replayed`], [`Rotation::Reused`], [`RefreshLookup::Rotated`] /
/// [`RefreshLookup::Retired`]) until the secret would have expired. A rotated refresh token's
/// tombstone keeps its record and the time of its first rotation, so that a reuse inside the
/// grace window can be refreshed again ([`Entry::rotate`]). A used code's tombstone is pushed out
/// further, to the end of its grant ([`Entry::extend_tombstone`]): a code replayed while tokens
/// from it live must still revoke them (RFC 6749 §4.1.2).
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Entry<R>(State<R>);

#[derive(Clone, Debug, Eq, PartialEq)]
enum State<R> {
    Live(Box<R>),
    Retired {
        grant_id: GrantId,
        expires_at: UnixTime,
        /// A rotated refresh token's record and first rotation time; `None` for a used code
        /// and for a secret retired by its grant's revocation.
        rotated: Option<(Box<R>, UnixTime)>,
    },
}

impl<R: GrantMember> Entry<R> {
    /// A live entry holding `record`.
    #[must_use]
    pub fn live(record: R) -> Self {
        Self(State::Live(Box::new(record)))
    }

    /// The grant of the secret.
    #[must_use]
    pub fn grant_id(&self) -> &GrantId {
        match &self.0 {
            State::Live(record) => record.grant_id(),
            State::Retired { grant_id, .. } => grant_id,
        }
    }

    /// When the entry expires: the record's expiry while live, the tombstone's once retired.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        match &self.0 {
            State::Live(record) => record.expires_at(),
            State::Retired { expires_at, .. } => *expires_at,
        }
    }

    /// Whether the entry is a tombstone.
    #[must_use]
    pub fn is_retired(&self) -> bool {
        matches!(self.0, State::Retired { .. })
    }

    /// Turns a live entry into its tombstone (kept until the record would have expired),
    /// returning the record it held; `None` if it was already retired (a rotated tombstone
    /// then forgets its record: the grant is revoked).
    pub fn retire(&mut self) -> Option<R> {
        let tombstone = State::Retired {
            grant_id: self.grant_id().clone(),
            expires_at: self.expires_at(),
            rotated: None,
        };
        match core::mem::replace(&mut self.0, tombstone) {
            State::Live(record) => Some(*record),
            State::Retired { .. } => None,
        }
    }

    /// Keeps a tombstone at least until `until`; a live entry keeps its own expiry.
    pub fn extend_tombstone(&mut self, until: UnixTime) {
        if let State::Retired { expires_at, .. } = &mut self.0 {
            *expires_at = (*expires_at).max(until);
        }
    }
}

impl Entry<CodeRecord> {
    /// Redeems the code at `now` ([`Storage::redeem_code`]): a live code is retired and its
    /// record returned ([`Redemption::Fresh`]); a used one is a replay of its grant; an expired
    /// entry, live or used, is [`Redemption::Unknown`].
    pub fn redeem(&mut self, now: UnixTime) -> Redemption {
        if !alive(self.expires_at(), now) {
            return Redemption::Unknown;
        }
        match self.retire() {
            Some(record) => Redemption::Fresh(record),
            None => Redemption::Replayed(self.grant_id().clone()),
        }
    }
}

impl Entry<RefreshTokenRecord> {
    /// What looking the token up at `now` finds ([`Storage::refresh_token`]) before its grant's
    /// revocation marker is consulted (see [`unless_revoked`]): an expired entry is
    /// [`RefreshLookup::Unknown`], a rotated one [`RefreshLookup::Rotated`] with its record and
    /// first rotation time, one retired by a revocation [`RefreshLookup::Retired`].
    #[must_use]
    pub fn lookup(&self, now: UnixTime) -> RefreshLookup {
        match &self.0 {
            _ if !alive(self.expires_at(), now) => RefreshLookup::Unknown,
            State::Live(record) => RefreshLookup::Live(RefreshTokenRecord::clone(record)),
            State::Retired {
                rotated: Some((record, at)),
                ..
            } => RefreshLookup::Rotated(RefreshTokenRecord::clone(record), *at),
            State::Retired { grant_id, .. } => RefreshLookup::Retired(grant_id.clone()),
        }
    }

    /// Rotates the token away at `now` into a new token of `grant`, whose revocation flag is
    /// `grant_revoked` ([`Storage::rotate_refresh_token`]): the record it held, to store the new
    /// token in its place, or the answer the rotation gives without storing anything.
    ///
    /// A live token is retired, remembering `now` as its rotation time. A token rotated at or
    /// after `grace_since` (inside the reuse grace window, RFC 9700 §4.14.2) is rotated again,
    /// its rotation time unchanged. An expired token, or a `grant` other than its own (a caller
    /// bug that must not move a token out of its grant's revocation), is [`Rotation::Unknown`]
    /// and left as it is; a token of a revoked grant is retired (revocation has retired it
    /// already: this only makes sure) and, like any other retired one, [`Rotation::Reused`].
    ///
    /// # Errors
    ///
    /// The [`Rotation`] to answer when nothing may be stored.
    #[allow(
        clippy::result_large_err,
        reason = "the error is only ever Unknown or Reused, both small"
    )]
    pub fn rotate(
        &mut self,
        grant: &GrantId,
        now: UnixTime,
        grant_revoked: bool,
        grace_since: Option<UnixTime>,
    ) -> Result<RefreshTokenRecord, Rotation> {
        if !alive(self.expires_at(), now) || self.grant_id() != grant {
            return Err(Rotation::Unknown);
        }
        if grant_revoked {
            self.retire();
            return Err(Rotation::Reused(grant.clone()));
        }
        match &mut self.0 {
            State::Live(record) => {
                let record = RefreshTokenRecord::clone(record);
                self.0 = State::Retired {
                    grant_id: record.grant_id.clone(),
                    expires_at: record.expires_at,
                    rotated: Some((Box::new(record.clone()), now)),
                };
                Ok(record)
            }
            State::Retired {
                rotated: Some((record, at)),
                ..
            } if grace_since.is_some_and(|since| *at >= since) => {
                Ok(RefreshTokenRecord::clone(record))
            }
            State::Retired { .. } => Err(Rotation::Reused(grant.clone())),
        }
    }
}

/// Applies the revocation of a token's grant to a lookup: a live or rotated token of a revoked
/// grant is [`RefreshLookup::Retired`] (presenting it is reuse). `revoked` is asked only for
/// such a token, so that a store may consult its grants after releasing the token's lock.
pub fn unless_revoked(
    lookup: RefreshLookup,
    revoked: impl FnOnce(&GrantId) -> bool,
) -> RefreshLookup {
    let grant = match &lookup {
        RefreshLookup::Live(record) | RefreshLookup::Rotated(record, _) => &record.grant_id,
        _ => return lookup,
    };
    if revoked(grant) {
        RefreshLookup::Retired(grant.clone())
    } else {
        lookup
    }
}

/// A stored OP session and the grants recorded under it, for the stores that keep sessions in
/// memory: each keeps one per session id under one lock, so each method is atomic.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SessionEntry {
    record: SessionRecord,
    grants: Vec<SessionGrant>,
}

impl SessionEntry {
    /// A new session without grants.
    #[must_use]
    pub fn new(record: SessionRecord) -> Self {
        Self {
            record,
            grants: Vec::new(),
        }
    }

    /// Whether the session lives at `now`.
    #[must_use]
    pub fn live(&self, now: UnixTime) -> bool {
        alive(self.record.expires_at, now)
    }

    /// When the session expires.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.record.expires_at
    }

    /// Its id.
    #[must_use]
    pub fn sid(&self) -> &SessionId {
        &self.record.sid
    }

    /// How many grants are recorded.
    #[must_use]
    pub fn grant_count(&self) -> usize {
        self.grants.len()
    }

    /// [`Storage::touch_session`] on this entry.
    pub fn touch(&mut self, now: UnixTime, expires_at: UnixTime) -> Option<SessionRecord> {
        if !self.live(now) {
            return None;
        }
        let target = expires_at.min(self.record.ends_at);
        self.record.expires_at = self.record.expires_at.max(target);
        Some(self.record.clone())
    }

    /// [`Storage::add_session_grant`] on this entry.
    pub fn add(&mut self, grant: &SessionGrant, now: UnixTime) -> bool {
        if !self.live(now) {
            return false;
        }
        if !self.grants.iter().any(|g| g.grant_id == grant.grant_id) {
            self.grants.push(grant.clone());
        }
        true
    }

    /// The recorded grants while the session lives ([`Storage::session_grants`]).
    #[must_use]
    pub fn grants(&self, now: UnixTime) -> Vec<SessionGrant> {
        if self.live(now) {
            self.grants.clone()
        } else {
            Vec::new()
        }
    }

    /// The ended session, if it was live at `now` ([`Storage::end_session`], once the store has
    /// removed the entry).
    #[must_use]
    pub fn end(self, now: UnixTime) -> Option<EndedSession> {
        let live = self.live(now);
        live.then(|| EndedSession::new(self.record, self.grants))
    }
}

/// Polls `future` once, with a waker that does nothing: its output if it is complete. Every
/// future of an [`ImmediateStorage`] store is, so a caller without an executor (a test, an
/// interrupt handler) can run the store's operations with it.
pub fn complete_now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// How many entries each table of an in-memory store holds, tombstones, revocation markers and
/// expired but not yet swept entries included. A store that locks its tables one at a time
/// counts them one at a time: under concurrent use the numbers are then approximate.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
#[non_exhaustive]
pub struct Counts {
    /// Access tokens.
    pub access_tokens: usize,
    /// Registered clients.
    pub clients: usize,
    /// Codes, live or used.
    pub codes: usize,
    /// Grant entries (members' expiry and revocation markers).
    pub grants: usize,
    /// Recorded `jti`s.
    pub jtis: usize,
    /// Pushed authorization requests not yet used.
    pub pushed_requests: usize,
    /// Refresh tokens, live or retired.
    pub refresh_tokens: usize,
}

impl Counts {
    /// Counts of a store's tables, in the order of its `Debug` output.
    #[must_use]
    pub const fn new(
        clients: usize,
        codes: usize,
        access_tokens: usize,
        refresh_tokens: usize,
        grants: usize,
        jtis: usize,
        pushed_requests: usize,
    ) -> Self {
        Self {
            access_tokens,
            clients,
            codes,
            grants,
            jtis,
            pushed_requests,
            refresh_tokens,
        }
    }

    /// Each table's name and count, in the order of a store's `Debug` output.
    #[must_use]
    pub const fn by_table(&self) -> [(&'static str, usize); 7] {
        [
            ("clients", self.clients),
            ("codes", self.codes),
            ("access_tokens", self.access_tokens),
            ("refresh_tokens", self.refresh_tokens),
            ("grants", self.grants),
            ("jtis", self.jtis),
            ("pushed_requests", self.pushed_requests),
        ]
    }

    /// Writes the counts as the `Debug` output of the store `name`: entry counts only, never
    /// digests or records.
    ///
    /// # Errors
    ///
    /// The formatter's.
    pub fn debug_store(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut store = f.debug_struct(name);
        for (table, count) in self.by_table() {
            store.field(table, &count);
        }
        store.finish()
    }
}

/// A store whose every operation completes when it is called, such as one that keeps its
/// entries in memory: implementing this implements [`Storage`], each method doing its work when
/// called and returning an already completed future (dropping it unpolled does not undo the
/// work). Each method is the [`Storage`] method of the same name without `_now`, with the same
/// contract; [`ImmediateStorage::record_jti_now`] takes the span `now..expires_at`.
pub trait ImmediateStorage: Send + Sync {
    /// The store's own error type.
    type Error: core::error::Error + Send + Sync + 'static;

    /// [`Storage::client`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn client_now(&self, id: &ClientId) -> Result<Option<Client>, Self::Error>;

    /// [`Storage::record_jti`] at `span.start` (now), until `span.end` (the assertion's expiry).
    ///
    /// # Errors
    ///
    /// The store's.
    fn record_jti_now(
        &self,
        client: &ClientId,
        jti: &str,
        span: Range<UnixTime>,
    ) -> Result<bool, Self::Error>;

    /// [`Storage::insert_code`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn insert_code_now(
        &self,
        code: &CodeRecord,
        front_channel_token: Option<&AccessTokenRecord>,
    ) -> Result<(), Self::Error>;

    /// [`Storage::redeem_code`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn redeem_code_now(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Redemption, Self::Error>;

    /// [`Storage::insert_tokens`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn insert_tokens_now(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, Self::Error>;

    /// [`Storage::access_token`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn access_token_now(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<AccessTokenRecord>, Self::Error>;

    /// [`Storage::refresh_token`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn refresh_token_now(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<RefreshLookup, Self::Error>;

    /// [`Storage::rotate_refresh_token`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn rotate_refresh_token_now(
        &self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> Result<Rotation, Self::Error>;

    /// [`Storage::revoke_grant`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn revoke_grant_now(&self, grant: &GrantId, now: UnixTime) -> Result<(), Self::Error>;

    /// [`Storage::revoke_access_token`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn revoke_access_token_now(&self, digest: &SecretDigest) -> Result<(), Self::Error>;

    /// [`Storage::insert_pushed_request`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn insert_pushed_request_now(&self, record: &PushedRequestRecord) -> Result<(), Self::Error>;

    /// [`Storage::take_pushed_request`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn take_pushed_request_now(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, Self::Error>;

    /// [`Storage::sweep_expired`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn sweep_expired_now(&self, now: UnixTime) -> Result<u64, Self::Error>;

    /// [`Storage::create_session`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn create_session_now(&self, record: &SessionRecord) -> Result<bool, Self::Error>;

    /// [`Storage::touch_session`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn touch_session_now(
        &self,
        sid: &SessionId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<Option<SessionRecord>, Self::Error>;

    /// [`Storage::add_session_grant`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn add_session_grant_now(
        &self,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> Result<bool, Self::Error>;

    /// [`Storage::session_grants`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn session_grants_now(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Vec<SessionGrant>, Self::Error>;

    /// [`Storage::end_session`].
    ///
    /// # Errors
    ///
    /// The store's.
    fn end_session_now(
        &self,
        sid: &SessionId,
        now: UnixTime,
    ) -> Result<Option<EndedSession>, Self::Error>;
}

/// [`Storage`] methods that return, as an already completed future, what the
/// [`ImmediateStorage`] method of the same name with `_now` returns.
macro_rules! ready_now {
    ($(fn $name:ident($($arg:ident: $type:ty),*) -> $output:ty = $now:ident;)*) => {
        $(
            fn $name(
                &self,
                $($arg: $type),*
            ) -> impl Future<Output = Result<$output, T::Error>> + Send {
                ready(self.$now($($arg),*))
            }
        )*
    };
}

impl<T: ImmediateStorage> Storage for T {
    type Error = T::Error;

    ready_now! {
        fn client(id: &ClientId) -> Option<Client> = client_now;
        fn insert_code(
            code: &CodeRecord, front_channel_token: Option<&AccessTokenRecord>
        ) -> () = insert_code_now;
        fn redeem_code(digest: &SecretDigest, now: UnixTime) -> Redemption = redeem_code_now;
        fn insert_tokens(
            access: &AccessTokenRecord, refresh: Option<&RefreshTokenRecord>
        ) -> Insertion = insert_tokens_now;
        fn access_token(
            digest: &SecretDigest, now: UnixTime
        ) -> Option<AccessTokenRecord> = access_token_now;
        fn refresh_token(digest: &SecretDigest, now: UnixTime) -> RefreshLookup = refresh_token_now;
        fn rotate_refresh_token(
            old: &SecretDigest, new: &RefreshTokenRecord, now: UnixTime,
            grace_since: Option<UnixTime>
        ) -> Rotation = rotate_refresh_token_now;
        fn revoke_grant(grant: &GrantId, now: UnixTime) -> () = revoke_grant_now;
        fn revoke_access_token(digest: &SecretDigest) -> () = revoke_access_token_now;
        fn insert_pushed_request(record: &PushedRequestRecord) -> () = insert_pushed_request_now;
        fn take_pushed_request(
            digest: &SecretDigest, now: UnixTime
        ) -> Option<PushedRequestRecord> = take_pushed_request_now;
        fn sweep_expired(now: UnixTime) -> u64 = sweep_expired_now;
        fn create_session(record: &SessionRecord) -> bool = create_session_now;
        fn touch_session(
            sid: &SessionId, now: UnixTime, expires_at: UnixTime
        ) -> Option<SessionRecord> = touch_session_now;
        fn add_session_grant(
            sid: &SessionId, grant: &SessionGrant, now: UnixTime
        ) -> bool = add_session_grant_now;
        fn session_grants(sid: &SessionId, now: UnixTime) -> Vec<SessionGrant> = session_grants_now;
        fn end_session(sid: &SessionId, now: UnixTime) -> Option<EndedSession> = end_session_now;
    }

    fn record_jti(
        &self,
        client: &ClientId,
        jti: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        ready(self.record_jti_now(client, jti, now..until))
    }
}
