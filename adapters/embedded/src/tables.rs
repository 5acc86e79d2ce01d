//! The tables and every operation on them. Callers hold the lock; nothing here blocks, awaits or
//! calls code outside this crate but `Clone` of records.

use alloc::vec::Vec;
use core::ops::Range;

use oidc_hybrid::storage::model::{
    Entry, SessionEntry, alive, renew_jti, revocation_marker_until, unless_revoked,
};
use oidc_hybrid::{
    AccessTokenRecord, Client, ClientId, CodeRecord, EndedSession, GrantId, Insertion,
    PushedRequestRecord, Redemption, RefreshLookup, RefreshTokenRecord, Rotation, SecretDigest,
    SessionGrant, SessionId, SessionRecord, UnixTime,
};
use sha2::{Digest, Sha256};

use crate::{Capacity, Counts, StoreError, Table};

/// What the store knows about a grant. Its members are found by scanning the other tables for
/// its id, so no member lists are kept.
struct GrantEntry {
    id: GrantId,
    /// Set by `revoke_grant`, never cleared.
    revoked: bool,
    /// The latest expiry of anything of the grant and, once revoked, at least the revocation
    /// time plus the grace period.
    expires_at: UnixTime,
}

/// A `jti` key: SHA-256 over the client id's length, the client id and the `jti`, so that an
/// entry has a fixed size however long the `jti` is.
type JtiKey = [u8; 32];

fn jti_key(client: &ClientId, jti: &str) -> JtiKey {
    let id = client.as_str().as_bytes();
    let mut hash = Sha256::new();
    hash.update((id.len() as u64).to_be_bytes());
    hash.update(id);
    hash.update(jti.as_bytes());
    hash.finalize().into()
}

/// Every table, each a `Vec` reserved to its capacity.
pub(crate) struct Tables {
    pub(crate) capacity: Capacity,
    clients: Vec<Client>,
    codes: Vec<(SecretDigest, Entry<CodeRecord>)>,
    access: Vec<AccessTokenRecord>,
    refresh: Vec<(SecretDigest, Entry<RefreshTokenRecord>)>,
    grants: Vec<GrantEntry>,
    jtis: Vec<(JtiKey, UnixTime)>,
    pushed: Vec<PushedRequestRecord>,
    sessions: Vec<SessionEntry>,
}

impl Tables {
    pub(crate) fn new(capacity: Capacity) -> Self {
        Self {
            capacity,
            clients: Vec::with_capacity(capacity.clients),
            codes: Vec::with_capacity(capacity.codes),
            access: Vec::with_capacity(capacity.access_tokens),
            refresh: Vec::with_capacity(capacity.refresh_tokens),
            grants: Vec::with_capacity(capacity.grants),
            jtis: Vec::with_capacity(capacity.jtis),
            pushed: Vec::with_capacity(capacity.pushed_requests),
            sessions: Vec::with_capacity(capacity.sessions),
        }
    }

    pub(crate) fn counts(&self) -> Counts {
        Counts::new(
            self.clients.len(),
            self.codes.len(),
            self.access.len(),
            self.refresh.len(),
            self.grants.len(),
            self.jtis.len(),
            self.pushed.len(),
        )
    }

    // -----------------------------------------------------------------------------------------
    // Clients

    pub(crate) fn insert_client(&mut self, client: Client) -> Result<Option<Client>, StoreError> {
        if let Some(slot) = self.clients.iter_mut().find(|c| c.id() == client.id()) {
            return Ok(Some(core::mem::replace(slot, client)));
        }
        self.room(Table::Clients)?;
        self.clients.push(client);
        Ok(None)
    }

    pub(crate) fn remove_client(&mut self, id: &ClientId) -> Option<Client> {
        let index = self.clients.iter().position(|c| c.id() == id)?;
        Some(self.clients.swap_remove(index))
    }

    pub(crate) fn client(&self, id: &ClientId) -> Option<Client> {
        self.clients.iter().find(|c| c.id() == id).cloned()
    }

    // -----------------------------------------------------------------------------------------
    // Lookups

    fn grant(&self, id: &GrantId) -> Option<&GrantEntry> {
        self.grants.iter().find(|g| &g.id == id)
    }

    fn grant_revoked(&self, id: &GrantId) -> bool {
        self.grant(id).is_some_and(|g| g.revoked)
    }

    fn has_code(&self, digest: &SecretDigest) -> bool {
        self.codes.iter().any(|(d, _)| d == digest)
    }

    fn has_access(&self, digest: &SecretDigest) -> bool {
        self.access.iter().any(|r| &r.digest == digest)
    }

    fn has_refresh(&self, digest: &SecretDigest) -> bool {
        self.refresh.iter().any(|(d, _)| d == digest)
    }

    /// Fails with [`StoreError::Full`] if `table` is at its capacity.
    fn room(&self, table: Table) -> Result<(), StoreError> {
        let (len, capacity) = match table {
            Table::AccessTokens => (self.access.len(), self.capacity.access_tokens),
            Table::Clients => (self.clients.len(), self.capacity.clients),
            Table::Codes => (self.codes.len(), self.capacity.codes),
            Table::Grants => (self.grants.len(), self.capacity.grants),
            Table::Jtis => (self.jtis.len(), self.capacity.jtis),
            Table::PushedRequests => (self.pushed.len(), self.capacity.pushed_requests),
            Table::RefreshTokens => (self.refresh.len(), self.capacity.refresh_tokens),
            Table::Sessions => (self.sessions.len(), self.capacity.sessions),
        };
        if len < capacity {
            Ok(())
        } else {
            Err(StoreError::Full { table, capacity })
        }
    }

    /// Checks that a grant entry for `id` exists or can be added.
    fn grant_room(&self, id: &GrantId) -> Result<(), StoreError> {
        if self.grant(id).is_some() {
            Ok(())
        } else {
            self.room(Table::Grants)
        }
    }

    /// The grant's entry, created (not revoked, no expiry yet) if missing. Callers have checked
    /// [`grant_room`](Self::grant_room).
    fn grant_entry(&mut self, id: &GrantId) -> &mut GrantEntry {
        let index = match self.grants.iter().position(|g| &g.id == id) {
            Some(index) => index,
            None => {
                self.grants.push(GrantEntry {
                    id: id.clone(),
                    revoked: false,
                    expires_at: UnixTime::from_secs(0),
                });
                self.grants.len() - 1
            }
        };
        &mut self.grants[index]
    }

    /// Pushes the grant's lifetime out to at least `until`; returns the new lifetime.
    fn extend_grant(&mut self, id: &GrantId, until: UnixTime) -> UnixTime {
        let grant = self.grant_entry(id);
        grant.expires_at = grant.expires_at.max(until);
        grant.expires_at
    }

    /// Pushes the tombstones of the grant's used codes out to `until` (the grant's expiry): a
    /// code replayed while tokens from it live must still be recognised (RFC 6749 §4.1.2).
    fn extend_code_tombstones(&mut self, id: &GrantId, until: UnixTime) {
        for (_, entry) in &mut self.codes {
            if entry.grant_id() == id {
                entry.extend_tombstone(until);
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Codes

    pub(crate) fn insert_code(
        &mut self,
        code: &CodeRecord,
        token: Option<&AccessTokenRecord>,
    ) -> Result<(), StoreError> {
        if token.is_some_and(|t| t.grant_id != code.grant_id) || self.grant_revoked(&code.grant_id)
        {
            return Ok(());
        }
        if self.has_code(&code.digest) || token.is_some_and(|t| self.has_access(&t.digest)) {
            // Already stored: a retried call (digests of random secrets do not collide).
            return Ok(());
        }
        self.room(Table::Codes)?;
        if token.is_some() {
            self.room(Table::AccessTokens)?;
        }
        self.grant_room(&code.grant_id)?;
        self.codes.push((code.digest, Entry::live(code.clone())));
        self.extend_grant(&code.grant_id, code.expires_at);
        if let Some(token) = token {
            self.access.push(token.clone());
            self.extend_grant(&code.grant_id, token.expires_at);
        }
        Ok(())
    }

    pub(crate) fn redeem_code(&mut self, digest: &SecretDigest, now: UnixTime) -> Redemption {
        self.codes
            .iter_mut()
            .find(|(d, _)| d == digest)
            .map_or(Redemption::Unknown, |(_, entry)| entry.redeem(now))
    }

    // -----------------------------------------------------------------------------------------
    // Tokens

    pub(crate) fn insert_tokens(
        &mut self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<Insertion, StoreError> {
        if refresh.is_some_and(|r| r.grant_id != access.grant_id)
            || self.grant_revoked(&access.grant_id)
        {
            return Ok(Insertion::GrantRevoked);
        }
        if self.has_access(&access.digest) || refresh.is_some_and(|r| self.has_refresh(&r.digest)) {
            // Already stored: a retried call.
            return Ok(Insertion::Stored);
        }
        self.room(Table::AccessTokens)?;
        if refresh.is_some() {
            self.room(Table::RefreshTokens)?;
        }
        self.grant_room(&access.grant_id)?;
        self.access.push(access.clone());
        let mut until = self.extend_grant(&access.grant_id, access.expires_at);
        if let Some(refresh) = refresh {
            self.refresh
                .push((refresh.digest, Entry::live(refresh.clone())));
            until = self.extend_grant(&access.grant_id, refresh.expires_at);
        }
        self.extend_code_tombstones(&access.grant_id, until);
        Ok(Insertion::Stored)
    }

    pub(crate) fn access_token(
        &self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Option<AccessTokenRecord> {
        let record = self
            .access
            .iter()
            .find(|r| &r.digest == digest && alive(r.expires_at, now))?;
        (!self.grant_revoked(&record.grant_id)).then(|| record.clone())
    }

    pub(crate) fn refresh_token(&self, digest: &SecretDigest, now: UnixTime) -> RefreshLookup {
        let lookup = self
            .refresh
            .iter()
            .find(|(d, _)| d == digest)
            .map_or(RefreshLookup::Unknown, |(_, entry)| entry.lookup(now));
        unless_revoked(lookup, |grant| self.grant_revoked(grant))
    }

    pub(crate) fn rotate_refresh_token(
        &mut self,
        old: &SecretDigest,
        new: &RefreshTokenRecord,
        now: UnixTime,
        grace_since: Option<UnixTime>,
    ) -> Result<Rotation, StoreError> {
        let revoked = self.grant_revoked(&new.grant_id);
        let new_present = self.has_refresh(&new.digest);
        let Some(index) = self.refresh.iter().position(|(d, _)| d == old) else {
            return Ok(Rotation::Unknown);
        };
        // What the rotation answers, decided on a copy: nothing changes unless there is room.
        let mut rotated = self.refresh[index].1.clone();
        if let Err(refused) = rotated.rotate(&new.grant_id, now, revoked, grace_since) {
            // A token of a revoked grant is retired for sure (see `Entry::rotate`).
            self.refresh[index].1 = rotated;
            return Ok(refused);
        }
        if !new_present {
            self.room(Table::RefreshTokens)?;
        }
        self.grant_room(&new.grant_id)?;
        let retired = core::mem::replace(&mut self.refresh[index].1, rotated);
        let Ok(retired) = retired
            .clone()
            .rotate(&new.grant_id, now, revoked, grace_since)
        else {
            // The same rotation succeeded on the copy just above, under the same lock.
            return Ok(Rotation::Reused(new.grant_id.clone()));
        };
        if !new_present {
            self.refresh.push((new.digest, Entry::live(new.clone())));
        }
        let until = self.extend_grant(&new.grant_id, new.expires_at);
        self.extend_code_tombstones(&new.grant_id, until);
        Ok(Rotation::Rotated(retired))
    }

    // -----------------------------------------------------------------------------------------
    // Revocation

    pub(crate) fn revoke_grant(&mut self, id: &GrantId, now: UnixTime) -> Result<(), StoreError> {
        self.grant_room(id)?;
        let grant = self.grant_entry(id);
        grant.revoked = true;
        grant.expires_at = grant
            .expires_at
            .max(revocation_marker_until(grant.expires_at, now));
        for (_, entry) in &mut self.codes {
            if entry.grant_id() == id {
                entry.retire();
            }
        }
        self.access.retain(|r| &r.grant_id != id);
        for (_, entry) in &mut self.refresh {
            if entry.grant_id() == id {
                entry.retire();
            }
        }
        Ok(())
    }

    pub(crate) fn revoke_access_token(&mut self, digest: &SecretDigest) {
        if let Some(index) = self.access.iter().position(|r| &r.digest == digest) {
            self.access.swap_remove(index);
        }
    }

    // -----------------------------------------------------------------------------------------
    // jti

    pub(crate) fn record_jti(
        &mut self,
        client: &ClientId,
        jti: &str,
        span: Range<UnixTime>,
    ) -> Result<bool, StoreError> {
        let key = jti_key(client, jti);
        if let Some((_, seen_until)) = self.jtis.iter_mut().find(|(k, _)| *k == key) {
            return Ok(renew_jti(seen_until, span));
        }
        self.room(Table::Jtis)?;
        self.jtis.push((key, span.end));
        Ok(true)
    }

    // -----------------------------------------------------------------------------------------
    // Pushed authorization requests

    pub(crate) fn insert_pushed_request(
        &mut self,
        record: &PushedRequestRecord,
    ) -> Result<(), StoreError> {
        self.room(Table::PushedRequests)?;
        self.pushed.push(record.clone());
        Ok(())
    }

    /// Removes the entry under the one lock: of concurrent takes, exactly one finds it.
    pub(crate) fn take_pushed_request(
        &mut self,
        digest: &SecretDigest,
        now: UnixTime,
    ) -> Option<PushedRequestRecord> {
        let index = self.pushed.iter().position(|r| &r.digest == digest)?;
        let record = self.pushed.swap_remove(index);
        alive(record.expires_at, now).then_some(record)
    }

    // -----------------------------------------------------------------------------------------
    // Sweeping

    pub(crate) fn sweep(&mut self, now: UnixTime) -> u64 {
        fn retain<T>(table: &mut Vec<T>, mut keep: impl FnMut(&T) -> bool) -> u64 {
            let before = table.len();
            table.retain(|entry| keep(entry));
            (before - table.len()) as u64
        }
        retain(&mut self.codes, |(_, e)| alive(e.expires_at(), now))
            + retain(&mut self.access, |r| alive(r.expires_at, now))
            + retain(&mut self.refresh, |(_, e)| alive(e.expires_at(), now))
            + retain(&mut self.jtis, |(_, exp)| alive(*exp, now))
            + retain(&mut self.pushed, |r| alive(r.expires_at, now))
            + retain(&mut self.grants, |g| alive(g.expires_at, now))
            + retain(&mut self.sessions, |s| s.live(now))
    }

    // -----------------------------------------------------------------------------------------
    // Sessions

    fn session_mut(&mut self, sid: &SessionId) -> Option<&mut SessionEntry> {
        self.sessions.iter_mut().find(|s| s.sid() == sid)
    }

    pub(crate) fn create_session(&mut self, record: &SessionRecord) -> Result<bool, StoreError> {
        if self.sessions.iter().any(|s| s.sid() == &record.sid) {
            return Ok(false);
        }
        self.room(Table::Sessions)?;
        self.sessions.push(SessionEntry::new(record.clone()));
        Ok(true)
    }

    pub(crate) fn touch_session(
        &mut self,
        sid: &SessionId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Option<SessionRecord> {
        self.session_mut(sid)?.touch(now, expires_at)
    }

    /// A session records at most as many grants as the grants table holds.
    pub(crate) fn add_session_grant(
        &mut self,
        sid: &SessionId,
        grant: &SessionGrant,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let capacity = self.capacity.grants;
        let Some(session) = self.session_mut(sid) else {
            return Ok(false);
        };
        if session.grant_count() >= capacity && session.live(now) {
            return Err(StoreError::Full {
                table: Table::Sessions,
                capacity,
            });
        }
        Ok(session.add(grant, now))
    }

    pub(crate) fn session_grants(&mut self, sid: &SessionId, now: UnixTime) -> Vec<SessionGrant> {
        self.session_mut(sid)
            .map(|s| s.grants(now))
            .unwrap_or_default()
    }

    pub(crate) fn end_session(&mut self, sid: &SessionId, now: UnixTime) -> Option<EndedSession> {
        let index = self.sessions.iter().position(|s| s.sid() == sid)?;
        self.sessions.swap_remove(index).end(now)
    }
}
