//! A reference model of the [`Storage`] contract (`core/src/storage.rs`) and a checker that
//! runs one operation sequence against a real store and the model side by side, comparing every
//! observable result.
//!
//! The model is a few `HashMap`s and flags with the documented semantics and nothing else:
//!
//! - a code is [`Redemption::Fresh`] once while unexpired; after that (or after its grant was
//!   revoked) it is a tombstone that answers [`Redemption::Replayed`] until the code would have
//!   expired or, if later, until the last token of its grant expires; otherwise
//!   [`Redemption::Unknown`];
//! - [`Storage::insert_tokens`] answers [`Insertion::GrantRevoked`] and stores nothing for a
//!   revoked grant;
//! - an access token is found while unexpired, not revoked and its grant not revoked;
//! - a refresh token is [`RefreshLookup::Live`] while unexpired, not rotated and its grant not
//!   revoked, [`RefreshLookup::Rotated`] with its rotation time once rotated (grant live),
//!   [`RefreshLookup::Retired`] while unexpired otherwise, [`RefreshLookup::Unknown`]
//!   once expired; rotation answers [`Rotation::Rotated`] with the old record exactly once,
//!   [`Rotation::Reused`] for a retired token or a revoked grant, [`Rotation::Unknown`] for an
//!   expired one;
//! - revoking a grant spends its code, removes its access tokens and retires its refresh tokens;
//! - a `jti` is new unless recorded before with an expiry still in the future;
//! - expiry is `expires_at <= now`, and a sweep changes no answer (it only deletes what every
//!   read already treats as gone).
//!
//! Operations are generated the way the provider uses a store, so that every answer is fixed by
//! the contract: each grant starts with one code, optionally with a front-channel access token
//! that does not outlive the code (see `docs/fuzzing.md`, *Findings*); its first tokens are
//! stored while the code is still unexpired, and later ones only while some token of the grant
//! is unexpired; tokens are never stored for a revoked grant whose members have all expired (how
//! long a store keeps a revocation marker after that is its own business).
//!
//! [`check`] is generic over [`Storage`], so any store can be plugged in:
//!
//! ```
//! use oidc_hybrid_memory::MemoryStore;
//! use oidc_hybrid_tests::block_on;
//! use oidc_hybrid_tests::model::{StorageOp, check};
//!
//! let ops = [
//!     StorageOp::NewGrant { front_token: true, code_ttl: 60, token_ttl: 30 },
//!     StorageOp::Redeem { code: 0 },
//!     StorageOp::Redeem { code: 0 },
//! ];
//! block_on(check(&MemoryStore::new(), &ops)).expect("the store follows the contract");
//! ```

use std::collections::HashMap;
use std::fmt;

use oidc_hybrid::binding::Confirmation;
use oidc_hybrid::{
    AccessTokenRecord, ClaimsRequest, ClientId, CodeRecord, GrantId, Insertion, Nonce, Redemption,
    RedirectUri, RefreshLookup, RefreshTokenRecord, ResponseType, Rotation, Scope, SecretDigest,
    Storage, Subject, UnixTime,
};

/// The time every checked sequence starts at.
pub const START: u64 = 1_800_000_000;

/// The client ids the generated records use.
pub const CLIENTS: [&str; 2] = ["rs-basic", "es-post"];

/// One operation on a store. Indices pick among the codes, grants or tokens created so far
/// (modulo their number); an operation whose index has nothing to pick, or that the contract
/// leaves open in the current state (see the module docs), is skipped.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum StorageOp {
    /// [`Storage::insert_code`] for a new grant, with a front-channel access token if asked.
    NewGrant {
        /// Whether a front-channel access token is stored with the code.
        front_token: bool,
        /// The code's lifetime in seconds (clamped to 1..=600).
        code_ttl: u64,
        /// The front-channel token's lifetime (clamped to 1..=`code_ttl`).
        token_ttl: u64,
    },
    /// [`Storage::redeem_code`] of an existing code.
    Redeem {
        /// Which code.
        code: usize,
    },
    /// [`Storage::redeem_code`] of a digest no code has.
    RedeemUnknown,
    /// [`Storage::insert_tokens`] for an existing grant whose code was redeemed.
    InsertTokens {
        /// Which grant.
        grant: usize,
        /// Whether a refresh token is stored too.
        refresh: bool,
        /// The access token's lifetime (at least 1 s).
        access_ttl: u64,
        /// The refresh token's lifetime (at least 1 s).
        refresh_ttl: u64,
    },
    /// [`Storage::access_token`].
    AccessLookup {
        /// Which access token.
        token: usize,
    },
    /// [`Storage::refresh_token`].
    RefreshLookup {
        /// Which refresh token.
        token: usize,
    },
    /// [`Storage::rotate_refresh_token`] with a new token of the same grant.
    Rotate {
        /// Which refresh token is presented.
        token: usize,
        /// The new token's lifetime (at least 1 s).
        ttl: u64,
    },
    /// [`Storage::revoke_grant`].
    RevokeGrant {
        /// Which grant.
        grant: usize,
    },
    /// [`Storage::revoke_access_token`].
    RevokeAccess {
        /// Which access token.
        token: usize,
    },
    /// [`Storage::record_jti`].
    RecordJti {
        /// Which client of [`CLIENTS`].
        client: usize,
        /// Which of three `jti` values.
        jti: usize,
        /// The `jti`'s lifetime (at least 1 s).
        ttl: u64,
    },
    /// Moves the clock forward.
    Advance {
        /// Seconds.
        secs: u64,
    },
    /// [`Storage::sweep_expired`] (its count is not compared: it is store-specific).
    Sweep,
}

/// Where the store and the model disagreed.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Mismatch {
    /// The index of the operation in the sequence.
    pub step: usize,
    /// The operation.
    pub op: StorageOp,
    /// What the store answered.
    pub store: String,
    /// What the model answered.
    pub model: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} {:?}: store answered {}, the model {}",
            self.step, self.op, self.store, self.model
        )
    }
}

impl std::error::Error for Mismatch {}

#[derive(Clone, Debug)]
struct ModelCode {
    record: CodeRecord,
    used: bool,
}

#[derive(Clone, Debug)]
struct ModelGrant {
    id: GrantId,
    code: usize,
    client: ClientId,
    revoked: bool,
    /// Whether tokens were ever stored for it.
    has_tokens: bool,
    /// The latest expiry of any token ever stored for it (front-channel token included).
    tokens_until: UnixTime,
}

#[derive(Clone, Debug)]
struct ModelAccess {
    record: AccessTokenRecord,
    revoked: bool,
}

#[derive(Clone, Debug)]
struct ModelRefresh {
    record: RefreshTokenRecord,
    retired: bool,
    /// When a rotation retired it (`None`: live, or retired by a revocation).
    rotated_at: Option<UnixTime>,
}

/// The reference model: the contract's observable state.
#[derive(Debug, Default)]
struct Model {
    now: u64,
    codes: Vec<ModelCode>,
    grants: Vec<ModelGrant>,
    access: Vec<ModelAccess>,
    refresh: Vec<ModelRefresh>,
    jtis: HashMap<(usize, usize), UnixTime>,
    serial: usize,
}

fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs)
}

fn pick(len: usize, i: usize) -> Option<usize> {
    (len > 0).then(|| i % len)
}

impl Model {
    /// An empty model at [`START`].
    fn new() -> Self {
        Self {
            now: START,
            ..Self::default()
        }
    }

    fn now(&self) -> UnixTime {
        at(self.now)
    }

    fn alive(&self, expires_at: UnixTime) -> bool {
        self.now() < expires_at
    }

    fn next_digest(&mut self, kind: &str) -> SecretDigest {
        self.serial += 1;
        SecretDigest::of(&format!("{kind}-{}", self.serial))
    }

    fn new_code(&mut self, code_ttl: u64) -> (CodeRecord, usize) {
        let grant_index = self.grants.len();
        let client = ClientId::new(CLIENTS[grant_index % CLIENTS.len()]).expect("client id");
        let grant_id = GrantId::new(format!("grant-{grant_index}"));
        let record = CodeRecord {
            digest: self.next_digest("code"),
            grant_id: grant_id.clone(),
            client_id: client.clone(),
            redirect_uri: RedirectUri::parse("https://rp.example/cb").expect("redirect URI"),
            response_type: ResponseType::CodeIdToken,
            scope: Scope::parse("openid email").expect("scope"),
            nonce: Some(Nonce::new(format!("n-{grant_index}"))),
            subject: Subject::new("alice").expect("subject"),
            auth_time: self.now(),
            auth_time_required: grant_index.is_multiple_of(2),
            acr: Some("urn:example:loa:1".into()),
            amr: vec!["pwd".into()],
            code_challenge: None,
            issued_at: self.now(),
            expires_at: at(self.now + code_ttl),
            refresh_token: true,
            resources: Vec::new(),
            claims: ClaimsRequest::default(),
            pairwise_subject: None,
            dpop_jkt: None,
            sid: None,
        };
        self.grants.push(ModelGrant {
            id: grant_id,
            code: self.codes.len(),
            client,
            revoked: false,
            has_tokens: false,
            tokens_until: UnixTime::EPOCH,
        });
        (record, grant_index)
    }

    fn access_record(&mut self, grant: usize, ttl: u64) -> AccessTokenRecord {
        let g = &self.grants[grant];
        let (id, client) = (g.id.clone(), g.client.clone());
        AccessTokenRecord {
            digest: self.next_digest("access"),
            grant_id: id,
            client_id: client,
            subject: Subject::new("alice").expect("subject"),
            scope: Scope::parse("openid email").expect("scope"),
            issued_at: self.now(),
            expires_at: at(self.now + ttl),
            audience: Vec::new(),
            claims: ClaimsRequest::default(),
            pairwise_subject: None,
            confirmation: Confirmation::default(),
        }
    }

    fn refresh_record(&mut self, grant: usize, ttl: u64) -> RefreshTokenRecord {
        let g = &self.grants[grant];
        let (id, client) = (g.id.clone(), g.client.clone());
        RefreshTokenRecord {
            digest: self.next_digest("refresh"),
            grant_id: id,
            client_id: client,
            subject: Subject::new("alice").expect("subject"),
            scope: Scope::parse("openid email").expect("scope"),
            auth_time: at(START),
            auth_time_required: grant.is_multiple_of(2),
            acr: None,
            amr: vec!["pwd".into()],
            issued_at: self.now(),
            expires_at: at(self.now + ttl),
            chain_expires_at: None,
            resources: Vec::new(),
            claims: ClaimsRequest::default(),
            pairwise_subject: None,
            confirmation: Confirmation::default(),
            sid: None,
        }
    }

    fn redeem(&mut self, code: usize) -> Redemption {
        let now = self.now();
        let record = self.codes[code].record.clone();
        if !self.codes[code].used {
            if now < record.expires_at {
                self.codes[code].used = true;
                return Redemption::Fresh(record);
            }
            return Redemption::Unknown;
        }
        let grant = &self.grants[self.grant_index(&record.grant_id)];
        let tombstone_until = record.expires_at.max(grant.tokens_until);
        if now < tombstone_until {
            Redemption::Replayed(record.grant_id)
        } else {
            Redemption::Unknown
        }
    }

    fn grant_index(&self, id: &GrantId) -> usize {
        self.grants
            .iter()
            .position(|g| &g.id == id)
            .expect("a model grant")
    }

    fn insert_tokens(
        &mut self,
        access: AccessTokenRecord,
        refresh: Option<RefreshTokenRecord>,
    ) -> Insertion {
        let grant = self.grant_index(&access.grant_id);
        if self.grants[grant].revoked {
            return Insertion::GrantRevoked;
        }
        let g = &mut self.grants[grant];
        g.has_tokens = true;
        g.tokens_until = g.tokens_until.max(access.expires_at);
        if let Some(r) = &refresh {
            g.tokens_until = g.tokens_until.max(r.expires_at);
        }
        self.access.push(ModelAccess {
            record: access,
            revoked: false,
        });
        if let Some(record) = refresh {
            self.refresh.push(ModelRefresh {
                record,
                retired: false,
                rotated_at: None,
            });
        }
        Insertion::Stored
    }

    fn access_lookup(&self, token: usize) -> Option<AccessTokenRecord> {
        let t = &self.access[token];
        let grant = &self.grants[self.grant_index(&t.record.grant_id)];
        (self.alive(t.record.expires_at) && !t.revoked && !grant.revoked).then(|| t.record.clone())
    }

    fn refresh_lookup(&self, token: usize) -> RefreshLookup {
        let t = &self.refresh[token];
        let grant = &self.grants[self.grant_index(&t.record.grant_id)];
        if !self.alive(t.record.expires_at) {
            RefreshLookup::Unknown
        } else if grant.revoked {
            RefreshLookup::Retired(t.record.grant_id.clone())
        } else if let (true, Some(at)) = (t.retired, t.rotated_at) {
            RefreshLookup::Rotated(t.record.clone(), at)
        } else if t.retired {
            RefreshLookup::Retired(t.record.grant_id.clone())
        } else {
            RefreshLookup::Live(t.record.clone())
        }
    }

    fn rotate(&mut self, token: usize, new: RefreshTokenRecord) -> Rotation {
        let t = &self.refresh[token];
        let grant = self.grant_index(&t.record.grant_id);
        if !self.alive(t.record.expires_at) {
            return Rotation::Unknown;
        }
        if t.retired || self.grants[grant].revoked {
            self.refresh[token].retired = true;
            return Rotation::Reused(self.grants[grant].id.clone());
        }
        self.refresh[token].retired = true;
        self.refresh[token].rotated_at = Some(self.now());
        let old = self.refresh[token].record.clone();
        let g = &mut self.grants[grant];
        g.tokens_until = g.tokens_until.max(new.expires_at);
        self.refresh.push(ModelRefresh {
            record: new,
            retired: false,
            rotated_at: None,
        });
        Rotation::Rotated(old)
    }

    fn revoke_grant(&mut self, grant: usize) {
        let id = self.grants[grant].id.clone();
        self.grants[grant].revoked = true;
        let code = self.grants[grant].code;
        self.codes[code].used = true;
        for t in self.access.iter_mut().filter(|t| t.record.grant_id == id) {
            t.revoked = true;
        }
        for t in self.refresh.iter_mut().filter(|t| t.record.grant_id == id) {
            t.retired = true;
        }
    }

    fn record_jti(&mut self, client: usize, jti: usize, expires_at: UnixTime) -> bool {
        let now = self.now();
        match self.jtis.get_mut(&(client, jti)) {
            Some(until) if now < *until => false,
            Some(until) => {
                *until = expires_at;
                true
            }
            None => {
                self.jtis.insert((client, jti), expires_at);
                true
            }
        }
    }

    /// Whether tokens may be stored for `grant` now with a contract-fixed answer (module docs).
    fn may_insert_tokens(&self, grant: usize) -> bool {
        let g = &self.grants[grant];
        let code = &self.codes[g.code];
        if !code.used {
            return false;
        }
        if g.has_tokens {
            self.alive(g.tokens_until)
        } else {
            self.alive(code.record.expires_at)
        }
    }
}

fn mismatch<T: fmt::Debug, U: fmt::Debug>(
    step: usize,
    op: &StorageOp,
    store: &T,
    model: &U,
) -> Mismatch {
    Mismatch {
        step,
        op: op.clone(),
        store: format!("{store:?}"),
        model: format!("{model:?}"),
    }
}

/// Compares the store's answer with the model's.
fn agree<T: PartialEq + fmt::Debug>(
    step: usize,
    op: &StorageOp,
    store: &T,
    model: &T,
) -> Result<(), Mismatch> {
    if store == model {
        Ok(())
    } else {
        Err(mismatch(step, op, store, model))
    }
}

/// Unwraps a store result; a store failure is a mismatch too.
fn ok<T, E: fmt::Debug>(step: usize, op: &StorageOp, result: Result<T, E>) -> Result<T, Mismatch> {
    result.map_err(|e| mismatch(step, op, &format!("Err({e:?})"), &"Ok(..)"))
}

/// Runs `ops` against `store` (which must hold no codes or tokens of the generated ids) and the
/// reference model, starting at [`START`], and compares every answer.
///
/// # Errors
///
/// The first [`Mismatch`]: an answer of the store that differs from the model's, or a store
/// error.
pub async fn check<S: Storage>(store: &S, ops: &[StorageOp]) -> Result<(), Mismatch> {
    let mut model = Model::new();
    for (step, op) in ops.iter().enumerate() {
        let now = model.now();
        match *op {
            StorageOp::NewGrant {
                front_token,
                code_ttl,
                token_ttl,
            } => {
                let code_ttl = code_ttl.clamp(1, 600);
                let (record, grant) = model.new_code(code_ttl);
                let front =
                    front_token.then(|| model.access_record(grant, token_ttl.clamp(1, code_ttl)));
                ok(step, op, store.insert_code(&record, front.as_ref()).await)?;
                model.codes.push(ModelCode {
                    record,
                    used: false,
                });
                if let Some(front) = front {
                    let g = &mut model.grants[grant];
                    g.tokens_until = g.tokens_until.max(front.expires_at);
                    model.access.push(ModelAccess {
                        record: front,
                        revoked: false,
                    });
                }
            }
            StorageOp::Redeem { code } => {
                let Some(code) = pick(model.codes.len(), code) else {
                    continue;
                };
                let digest = model.codes[code].record.digest;
                let got = ok(step, op, store.redeem_code(&digest, now).await)?;
                agree(step, op, &got, &model.redeem(code))?;
            }
            StorageOp::RedeemUnknown => {
                let digest = SecretDigest::of("never-issued");
                let got = ok(step, op, store.redeem_code(&digest, now).await)?;
                agree(step, op, &got, &Redemption::Unknown)?;
            }
            StorageOp::InsertTokens {
                grant,
                refresh,
                access_ttl,
                refresh_ttl,
            } => {
                let Some(grant) = pick(model.grants.len(), grant) else {
                    continue;
                };
                if !model.may_insert_tokens(grant) {
                    continue;
                }
                let access = model.access_record(grant, access_ttl.max(1));
                let refresh = refresh.then(|| model.refresh_record(grant, refresh_ttl.max(1)));
                let got = ok(
                    step,
                    op,
                    store.insert_tokens(&access, refresh.as_ref()).await,
                )?;
                agree(step, op, &got, &model.insert_tokens(access, refresh))?;
            }
            StorageOp::AccessLookup { token } => {
                let Some(token) = pick(model.access.len(), token) else {
                    continue;
                };
                let digest = model.access[token].record.digest;
                let got = ok(step, op, store.access_token(&digest, now).await)?;
                agree(step, op, &got, &model.access_lookup(token))?;
            }
            StorageOp::RefreshLookup { token } => {
                let Some(token) = pick(model.refresh.len(), token) else {
                    continue;
                };
                let digest = model.refresh[token].record.digest;
                let got = ok(step, op, store.refresh_token(&digest, now).await)?;
                agree(step, op, &got, &model.refresh_lookup(token))?;
            }
            StorageOp::Rotate { token, ttl } => {
                let Some(token) = pick(model.refresh.len(), token) else {
                    continue;
                };
                let grant = model.grant_index(&model.refresh[token].record.grant_id);
                let old = model.refresh[token].record.digest;
                let new = model.refresh_record(grant, ttl.max(1));
                let got = ok(
                    step,
                    op,
                    store.rotate_refresh_token(&old, &new, now, None).await,
                )?;
                agree(step, op, &got, &model.rotate(token, new))?;
            }
            StorageOp::RevokeGrant { grant } => {
                let Some(grant) = pick(model.grants.len(), grant) else {
                    continue;
                };
                let id = model.grants[grant].id.clone();
                ok(step, op, store.revoke_grant(&id, now).await)?;
                model.revoke_grant(grant);
            }
            StorageOp::RevokeAccess { token } => {
                let Some(token) = pick(model.access.len(), token) else {
                    continue;
                };
                let digest = model.access[token].record.digest;
                ok(step, op, store.revoke_access_token(&digest).await)?;
                model.access[token].revoked = true;
            }
            StorageOp::RecordJti { client, jti, ttl } => {
                let (client, jti) = (client % CLIENTS.len(), jti % 3);
                let client_id = ClientId::new(CLIENTS[client]).expect("client id");
                let expires_at = at(model.now + ttl.max(1));
                let jti_value = format!("jti-{jti}");
                let got = ok(
                    step,
                    op,
                    store
                        .record_jti(&client_id, &jti_value, expires_at, now)
                        .await,
                )?;
                agree(step, op, &got, &model.record_jti(client, jti, expires_at))?;
            }
            StorageOp::Advance { secs } => model.now = model.now.saturating_add(secs),
            StorageOp::Sweep => {
                ok(step, op, store.sweep_expired(now).await)?;
            }
        }
    }
    Ok(())
}
