//! The provider's signing keys and their rollover (OIDC Core §10.1.1): a [`KeySet`] value with
//! the states of each key, and the [`KeySource`] the driver takes one snapshot from per request,
//! so a host can change the keys at runtime without a restart.
//!
//! # Rollover
//!
//! 1. [`KeySet::add_next`]: the new key is published in the JWK set but signs nothing yet.
//!    Relying parties that cache the JWK set pick it up (wait at least the JWK set's cache
//!    lifetime, e.g. `max-age=300` in the axum adapter).
//! 2. [`KeySet::promote`]: the new key signs from now on; the old active key of the same
//!    algorithm is retired until `now + retention`: it stays published and still verifies
//!    `id_token_hint`s, so tokens it signed keep verifying.
//! 3. After the retention (at least the longest ID token and JWT access token lifetime, plus
//!    the JWK set's cache lifetime), retired keys drop out of the JWK set by themselves;
//!    [`KeySet::prune`] removes them for good.
//!
//! With several provider nodes, every node must load the same set (from shared files or a
//! shared store) so that they all publish the same JWK set; see docs/integration.md, "Rotating
//! keys".
//!
//! Without atomics (`thumbv6m-none-eabi`) a key set cannot be shared between threads or cloned;
//! there it is fixed at start ([`Provider::new`](crate::Provider::new)), as before.

#[cfg(not(target_has_atomic = "ptr"))]
use alloc::boxed::Box as Shared;
use alloc::boxed::Box;
#[cfg(target_has_atomic = "ptr")]
use alloc::sync::Arc as Shared;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;

use crate::clock::UnixTime;
use crate::config::{ConfigError, Rs256Policy};
use crate::signer::{Jwk, JwsAlgorithm, Signer};

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum KeyState {
    /// Published, not signing yet (rollover step 1).
    Next,
    /// Signing: the first active key of an algorithm signs with it.
    Active,
    /// Published and verifying until the time given, signing nothing (rollover step 2).
    Retired(UnixTime),
}

struct Entry {
    signer: Shared<dyn Signer>,
    state: KeyState,
}

#[cfg(target_has_atomic = "ptr")]
impl Clone for Entry {
    fn clone(&self) -> Self {
        Self {
            signer: Shared::clone(&self.signer),
            state: self.state,
        }
    }
}

/// The provider's signing keys with their [`KeyState`]s. Cheap to clone where the target has
/// atomics (the signers are shared).
#[cfg_attr(target_has_atomic = "ptr", derive(Clone))]
pub struct KeySet {
    entries: Vec<Entry>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|e| (e.signer.key_id(), e.signer.algorithm(), e.state)),
            )
            .finish()
    }
}

impl KeySet {
    /// A set whose keys are all active: for each algorithm the first one listed signs.
    #[must_use]
    pub fn new(active: Vec<Box<dyn Signer>>) -> Self {
        Self {
            entries: active
                .into_iter()
                .map(|signer| Entry {
                    signer: Shared::from(signer),
                    state: KeyState::Active,
                })
                .collect(),
        }
    }

    /// Rollover step 1: publishes `signer` without signing with it.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Keys`] if its `kid` is taken.
    pub fn add_next(mut self, signer: Box<dyn Signer>) -> Result<Self, ConfigError> {
        if self.entry(signer.key_id()).is_some() {
            return Err(ConfigError::Keys);
        }
        self.entries.push(Entry {
            signer: Shared::from(signer),
            state: KeyState::Next,
        });
        Ok(self)
    }

    /// Rollover step 2: the key `kid` signs from now on, ahead of every other key of its
    /// algorithm; the keys of that algorithm that were active are retired until
    /// `now + retention` seconds.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Keys`] if no key has this `kid`.
    pub fn promote(
        mut self,
        kid: &str,
        now: UnixTime,
        retention: u64,
    ) -> Result<Self, ConfigError> {
        let index = self
            .entries
            .iter()
            .position(|e| e.signer.key_id() == kid)
            .ok_or(ConfigError::Keys)?;
        let mut entry = self.entries.remove(index);
        let alg = entry.signer.algorithm();
        for other in &mut self.entries {
            if other.signer.algorithm() == alg && other.state == KeyState::Active {
                other.state = KeyState::Retired(now.saturating_add_secs(retention));
            }
        }
        entry.state = KeyState::Active;
        self.entries.insert(0, entry);
        Ok(self)
    }

    /// Retires the key `kid` until `until` (e.g. a compromised key: retire it with `until` now
    /// and it is neither published nor trusted any more).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Keys`] if no key has this `kid`.
    pub fn retire(mut self, kid: &str, until: UnixTime) -> Result<Self, ConfigError> {
        let index = self
            .entries
            .iter()
            .position(|e| e.signer.key_id() == kid)
            .ok_or(ConfigError::Keys)?;
        self.entries[index].state = KeyState::Retired(until);
        Ok(self)
    }

    /// Rollover step 3: drops the keys whose retirement ended at or before `now`.
    #[must_use]
    pub fn prune(mut self, now: UnixTime) -> Self {
        self.entries.retain(|e| e.live(now));
        self
    }

    /// Checks the set as [`Provider::new`](crate::Provider::new) checks its keys: at least one
    /// active key, an active RS256 key unless `rs256` waives it (OIDC Core §15.1), distinct
    /// `kid`s, and hashes this build computes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Keys`] or [`ConfigError::HashUnavailable`].
    pub fn check(&self, rs256: Rs256Policy) -> Result<(), ConfigError> {
        let active = || self.entries.iter().filter(|e| e.state == KeyState::Active);
        let has_rs256 = active().any(|e| e.signer.algorithm() == JwsAlgorithm::RS256);
        if active().next().is_none() || (!has_rs256 && rs256 == Rs256Policy::Require) {
            return Err(ConfigError::Keys);
        }
        if self
            .entries
            .iter()
            .any(|e| !e.signer.algorithm().hash().is_built_in())
        {
            return Err(ConfigError::HashUnavailable);
        }
        for (i, entry) in self.entries.iter().enumerate() {
            let kid = entry.signer.key_id();
            if self.entries[..i].iter().any(|o| o.signer.key_id() == kid) {
                return Err(ConfigError::Keys);
            }
        }
        Ok(())
    }

    /// The signing key for `alg`: the first active key of that algorithm.
    #[must_use]
    pub fn signer(&self, alg: JwsAlgorithm) -> Option<&dyn Signer> {
        self.entries
            .iter()
            .find(|e| e.state == KeyState::Active && e.signer.algorithm() == alg)
            .map(|e| &*e.signer)
    }

    /// The algorithms the active keys sign with, sorted, each once.
    #[must_use]
    pub fn algorithms(&self) -> Vec<JwsAlgorithm> {
        let mut algorithms: Vec<JwsAlgorithm> = self
            .entries
            .iter()
            .filter(|e| e.state == KeyState::Active)
            .map(|e| e.signer.algorithm())
            .collect();
        algorithms.sort_unstable();
        algorithms.dedup();
        algorithms
    }

    /// The keys trusted at `now` (active, next, and retired ones whose retirement has not
    /// ended): they verify the provider's own signatures (`id_token_hint`, OIDC Core §3.1.2.2).
    pub fn trusted(&self, now: UnixTime) -> impl Iterator<Item = &dyn Signer> {
        self.entries
            .iter()
            .filter(move |e| e.live(now))
            .map(|e| &*e.signer)
    }

    /// The public keys to publish at `now`: the [trusted](Self::trusted) ones, active first.
    #[must_use]
    pub fn public_jwks(&self, now: UnixTime) -> Vec<Jwk> {
        self.trusted(now).map(|k| k.public_jwk()).collect()
    }

    /// The state of the key `kid`, if the set has it.
    #[must_use]
    pub fn state(&self, kid: &str) -> Option<KeyState> {
        self.entry(kid).map(|e| e.state)
    }

    fn entry(&self, kid: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.signer.key_id() == kid)
    }
}

impl Entry {
    fn live(&self, now: UnixTime) -> bool {
        match self.state {
            KeyState::Next | KeyState::Active => true,
            KeyState::Retired(until) => now < until,
        }
    }
}

/// A snapshot of a [`KeySet`] for one request, as a [`KeySource`] hands it out.
pub struct KeysGuard<'a>(Box<dyn Deref<Target = KeySet> + Send + Sync + 'a>);

impl<'a> KeysGuard<'a> {
    /// A snapshot held by `keys` (a reference, an `Arc`, …).
    pub fn new(keys: impl Deref<Target = KeySet> + Send + Sync + 'a) -> Self {
        Self(Box::new(keys))
    }
}

impl Deref for KeysGuard<'_> {
    type Target = KeySet;

    fn deref(&self) -> &KeySet {
        &self.0
    }
}

impl fmt::Debug for KeysGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Where the driver takes the signing keys from, once per request: a fixed [`KeySet`], or a
/// handle the host updates at runtime (`SharedKeys` with the `std` feature).
pub trait KeySource: Send + Sync {
    /// The current key set.
    fn current(&self) -> KeysGuard<'_>;
}

impl KeySource for KeySet {
    fn current(&self) -> KeysGuard<'_> {
        KeysGuard::new(self)
    }
}

/// A key set the host replaces at runtime: every request takes the set current when it starts
/// (an `Arc` snapshot, so signing holds no lock). Keep an `Arc<SharedKeys>` to update it while
/// the provider holds another ([`Provider::with_key_source`](crate::Provider::with_key_source)).
#[cfg(feature = "std")]
pub struct SharedKeys {
    current: std::sync::RwLock<alloc::sync::Arc<KeySet>>,
    rs256: Rs256Policy,
}

#[cfg(feature = "std")]
impl fmt::Debug for SharedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedKeys")
            .field("current", &*self.snapshot())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "std")]
impl SharedKeys {
    /// A handle starting with `keys`, checked against `rs256` now and on every update.
    ///
    /// # Errors
    ///
    /// As for [`KeySet::check`].
    pub fn new(keys: KeySet, rs256: Rs256Policy) -> Result<Self, ConfigError> {
        keys.check(rs256)?;
        Ok(Self {
            current: std::sync::RwLock::new(alloc::sync::Arc::new(keys)),
            rs256,
        })
    }

    /// The current set.
    #[must_use]
    pub fn snapshot(&self) -> alloc::sync::Arc<KeySet> {
        let guard = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        alloc::sync::Arc::clone(&guard)
    }

    /// Applies `change` to a copy of the current set (e.g. `|k| k.add_next(signer)`) and, if
    /// the result passes [`KeySet::check`], makes it current. Requests already running keep the
    /// set they started with. Concurrent updates are applied one after the other.
    ///
    /// # Errors
    ///
    /// The error of `change` or of the check; the current set is then unchanged.
    pub fn update(
        &self,
        change: impl FnOnce(KeySet) -> Result<KeySet, ConfigError>,
    ) -> Result<(), ConfigError> {
        let mut guard = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = change(KeySet::clone(&guard))?;
        next.check(self.rs256)?;
        *guard = alloc::sync::Arc::new(next);
        Ok(())
    }

    /// Replaces the whole set (e.g. reloaded from shared files), if it passes [`KeySet::check`].
    ///
    /// # Errors
    ///
    /// As for [`KeySet::check`]; the current set is then unchanged.
    pub fn replace(&self, keys: KeySet) -> Result<(), ConfigError> {
        self.update(|_| Ok(keys))
    }
}

#[cfg(feature = "std")]
impl KeySource for SharedKeys {
    fn current(&self) -> KeysGuard<'_> {
        KeysGuard::new(self.snapshot())
    }
}

#[cfg(target_has_atomic = "ptr")]
impl<T: KeySource + ?Sized> KeySource for alloc::sync::Arc<T> {
    fn current(&self) -> KeysGuard<'_> {
        (**self).current()
    }
}
