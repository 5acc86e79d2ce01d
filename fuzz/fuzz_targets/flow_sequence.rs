//! Random interleavings of whole-flow operations against one provider over the memory store:
//! authorize (structured or raw parameters), approve, deny, redeem (also replays, wrong client,
//! wrong redirect URI, wrong PKCE verifier), refresh (also reuse), revoke, userinfo, advance the
//! clock, sweep, and raw token requests.
//!
//! An oracle tracks every code, grant and token the provider handed out. After every step:
//!
//! - a code is redeemed at most once;
//! - every ID token verifies and its `c_hash`/`at_hash`/`s_hash` match the code, access token
//!   and state returned with it (recomputed with sha2 for the header's `alg`), `nonce` is echoed;
//! - once a grant is revoked (code replay, failed redemption, refresh-token reuse, revocation of
//!   its refresh token) none of its access tokens works and none of its refresh tokens refreshes;
//!   tokens of live grants keep working until they expire;
//! - no authorization response ever targets a URI the client did not register;
//! - nothing panics.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oidc_hybrid::{
    Approval, AuthorizeError, BoundRequest, Client, Consent, Disposition, EndpointError, Params,
    RefreshLookup, Reject, ResponseMode, Scope, SecretDigest, Session, Storage, Subject, UnixTime,
};
use oidc_hybrid_fuzz::{
    Auth, Directory, FIXTURES, FuzzProvider, ISSUER, InsecureHashSigner, SECRET, START, TestClock,
    basic, block_on, check_id_token, check_response, clients, form, hash_signers, provider,
};
use oidc_hybrid_testkit::rp::IdTokenRules;

const MAX_OPS: usize = 48;
const RESPONSE_TYPES: [&str; 7] = [
    "code",
    "code id_token",
    "code token",
    "code id_token token",
    "id_token code",
    "token id_token code",
    "id_token",
];
const MODES: [Option<&str>; 5] = [
    None,
    Some("query"),
    Some("fragment"),
    Some("form_post"),
    Some("jwt"),
];
const SCOPES: [&str; 5] = [
    "openid",
    "openid profile email",
    "email openid offline_access phone",
    "profile",
    "openid address",
];
const PROMPTS: [Option<&str>; 5] = [
    None,
    Some("none"),
    Some("login"),
    Some("consent"),
    Some("select_account login"),
];
const EXTRA_NAMES: [&str; 15] = [
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "ui_locales",
    "acr_values",
    "display",
    "login_hint",
    "request",
    "id_token_hint",
    "max_age",
    "prompt",
    "response_mode",
    "code_challenge_method",
];
const SUBJECTS: [&str; 3] = ["alice", "bob", "carol"];
const REFRESH_SCOPES: [Option<&str>; 5] = [
    None,
    Some("openid"),
    Some("openid email"),
    Some("email"),
    Some("openid phone address"),
];
const ADVANCES: [u64; 11] = [1, 59, 60, 61, 299, 300, 301, 3599, 3600, 86_400, 2_592_000];

#[derive(Arbitrary, Debug)]
struct AuthorizeOp {
    client: u8,
    /// Mostly a registered URI; else another loopback port, a suffix, raw text or none.
    redirect: u8,
    redirect_text: String,
    response_type: u8,
    mode: u8,
    scope: u8,
    state: Option<String>,
    nonce: Option<String>,
    pkce: u8,
    prompt: u8,
    max_age: Option<u8>,
    hint: Option<u8>,
    extra: Vec<(u8, String)>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// A well-formed request for a fixture client, approved and (optionally) redeemed with the
    /// right parameters: gets sequences to the interesting states quickly.
    Flow {
        client: u8,
        response_type: u8,
        mode: u8,
        state: Option<String>,
        nonce: String,
        subject: u8,
        redeem: bool,
    },
    Authorize(AuthorizeOp),
    RawAuthorize(String),
    Approve {
        pending: u8,
        subject: u8,
        auth_age: u8,
        narrow: bool,
        consent: bool,
    },
    Deny {
        pending: u8,
    },
    Redeem {
        code: u8,
        as_client: u8,
        redirect: u8,
        verifier: u8,
    },
    Refresh {
        token: u8,
        as_client: u8,
        scope: u8,
    },
    Revoke {
        token: u8,
        refresh: bool,
        as_client: u8,
        hint: bool,
    },
    UserInfo {
        token: u8,
        body: bool,
    },
    Advance(u8),
    Sweep,
    RawToken {
        body: String,
        authorization: Option<String>,
    },
}

#[derive(Debug)]
struct Pending {
    bound: BoundRequest,
    client: usize,
    verifier: Option<String>,
}

#[derive(Debug)]
struct Code {
    value: String,
    grant: usize,
    client: usize,
    redirect_uri: String,
    verifier: Option<String>,
    nonce: Option<String>,
    expires_at: u64,
    redeemed: bool,
}

#[derive(Debug, Default)]
struct Grant {
    revoked: bool,
    subject: String,
    client: usize,
    /// The latest expiry of any token of the grant (a used code's tombstone lives as long).
    tokens_until: u64,
}

#[derive(Debug)]
struct Token {
    value: String,
    grant: usize,
    expires_at: u64,
    revoked: bool,
    rotated: bool,
    openid: bool,
}

struct World {
    clock: TestClock,
    provider: FuzzProvider,
    clients: Vec<Client>,
    signers: Vec<InsecureHashSigner>,
    pending: Vec<Pending>,
    codes: Vec<Code>,
    grants: Vec<Grant>,
    access: Vec<Token>,
    refresh: Vec<Token>,
    id_tokens: Vec<String>,
}

fn pick<T>(items: &[T], i: u8) -> Option<&T> {
    (!items.is_empty()).then(|| &items[usize::from(i) % items.len()])
}

fn verifier_for(n: usize) -> String {
    format!("verifier-{n:04}-{}", "v".repeat(40))
}

fn s256(verifier: &str) -> String {
    oidc_hybrid::pkce::s256_challenge(verifier)
}

impl World {
    fn new() -> Self {
        let clock = TestClock::at(START);
        Self {
            provider: provider(clock.clone(), 0x5eed),
            clock,
            clients: clients(),
            signers: hash_signers(),
            pending: Vec::new(),
            codes: Vec::new(),
            grants: Vec::new(),
            access: Vec::new(),
            refresh: Vec::new(),
            id_tokens: Vec::new(),
        }
    }

    fn now(&self) -> u64 {
        self.provider.now().as_secs()
    }

    fn client_index(&self, id: &str) -> Option<usize> {
        self.clients.iter().position(|c| c.id().as_str() == id)
    }

    /// Checks an authorization error: shown, or redirected to a registered URI of the client
    /// the request named.
    fn check_authorize_error(&self, error: &AuthorizeError, client: Option<usize>) {
        if let Disposition::RedirectToClient(response) = error.disposition() {
            let client = client.expect("a redirected error names a registered client");
            check_response(response, &self.clients[client]);
            assert_eq!(response.param("iss"), Some(ISSUER));
        }
    }

    /// Adds the client's credentials for `fixture` to a token/revocation request.
    fn call_token(
        &self,
        client: usize,
        mut pairs: Vec<(&str, String)>,
        revoke: bool,
    ) -> Result<Option<oidc_hybrid::TokenResponse>, EndpointError> {
        let fixture = FIXTURES[client];
        let mut header = None;
        match fixture.auth {
            Auth::Basic => header = Some(basic(fixture.id, SECRET)),
            Auth::Post => {
                pairs.push(("client_id", fixture.id.into()));
                pairs.push(("client_secret", SECRET.into()));
            }
            Auth::Public => pairs.push(("client_id", fixture.id.into())),
        }
        let body = form(&pairs);
        let params = Params::parse(&body).expect("our own body parses");
        if revoke {
            block_on(self.provider.revoke(&params, header.as_deref())).map(|()| None)
        } else {
            block_on(self.provider.token(&params, header.as_deref())).map(Some)
        }
    }

    fn authorize(&mut self, op: AuthorizeOp) {
        let n = self.codes.len() + self.pending.len();
        let client = usize::from(op.client) % (FIXTURES.len() + 1);
        let client_id = FIXTURES.get(client).map_or("unknown-client", |f| f.id);
        let registered: Vec<String> = self
            .clients
            .get(client)
            .map(|c| c.redirect_uris().iter().map(|u| u.to_string()).collect())
            .unwrap_or_else(|| vec!["https://rp.example/cb".into()]);
        let redirect = match op.redirect % 16 {
            0..=11 => pick(&registered, op.redirect).cloned(),
            12 => Some(format!("http://127.0.0.1:{}/cb", op.redirect_text.len())),
            13 => pick(&registered, 0).map(|r| format!("{r}{}", op.redirect_text)),
            14 => Some(op.redirect_text),
            _ => None,
        };
        let verifier = match op.pkce % 8 {
            0..=3 | 6 => Some(verifier_for(n)),
            _ => None,
        };
        let mut pairs: Vec<(&str, String)> = vec![
            ("client_id", client_id.into()),
            (
                "response_type",
                RESPONSE_TYPES[usize::from(op.response_type) % RESPONSE_TYPES.len()].into(),
            ),
            ("scope", SCOPES[usize::from(op.scope) % SCOPES.len()].into()),
        ];
        if let Some(redirect) = redirect {
            pairs.push(("redirect_uri", redirect));
        }
        if let Some(mode) = MODES[usize::from(op.mode) % MODES.len()] {
            pairs.push(("response_mode", mode.into()));
        }
        if let Some(state) = op.state {
            pairs.push(("state", state));
        }
        if let Some(nonce) = op.nonce {
            pairs.push(("nonce", nonce));
        }
        match (op.pkce % 8, &verifier) {
            (0..=3, Some(v)) => {
                pairs.push(("code_challenge", s256(v)));
                pairs.push(("code_challenge_method", "S256".into()));
            }
            (6, Some(v)) => pairs.push(("code_challenge", s256(v))),
            (7, _) => {
                pairs.push(("code_challenge", "short".into()));
                pairs.push(("code_challenge_method", "S256".into()));
            }
            _ => {}
        }
        if let Some(prompt) = PROMPTS[usize::from(op.prompt) % PROMPTS.len()] {
            pairs.push(("prompt", prompt.into()));
        }
        if let Some(max_age) = op.max_age {
            pairs.push(("max_age", max_age.to_string()));
        }
        if let Some(hint) = op.hint.and_then(|i| pick(&self.id_tokens, i)) {
            pairs.push(("id_token_hint", hint.clone()));
        }
        for (name, value) in op.extra.into_iter().take(4) {
            pairs.push((EXTRA_NAMES[usize::from(name) % EXTRA_NAMES.len()], value));
        }
        let query = form(&pairs);
        self.authorize_query(&query, verifier);
    }

    fn authorize_query(&mut self, query: &str, verifier: Option<String>) {
        let Ok(params) = Params::parse(query) else {
            return;
        };
        let named = params
            .get("client_id")
            .ok()
            .flatten()
            .and_then(|id| self.client_index(id));
        match block_on(self.provider.authorize(&params)) {
            Ok(bound) => {
                let client = self
                    .client_index(bound.client_id().as_str())
                    .expect("bound to a registered client");
                assert_eq!(Some(client), named);
                assert!(
                    self.clients[client]
                        .match_redirect_uri(bound.redirect_uri().as_str())
                        .is_some(),
                    "bound to an unregistered redirect URI"
                );
                assert!(
                    !(bound.response_type().is_hybrid()
                        && bound.response_mode() == ResponseMode::Query),
                    "hybrid response in the query"
                );
                if self.pending.len() < 16 {
                    self.pending.push(Pending {
                        bound,
                        client,
                        verifier,
                    });
                }
            }
            Err(error) => self.check_authorize_error(&error, named),
        }
    }

    fn approve(&mut self, i: u8, subject: u8, auth_age: u8, narrow: bool, consent: bool) {
        if self.pending.is_empty() {
            return;
        }
        let index = if i == u8::MAX {
            self.pending.len() - 1
        } else {
            usize::from(i) % self.pending.len()
        };
        let pending = self.pending.remove(index);
        let client = pending.client;
        let subject = SUBJECTS[usize::from(subject) % SUBJECTS.len()];
        let now = self.now();
        // Even ages: a login just now; odd ages: an older session.
        let age = if auth_age.is_multiple_of(2) {
            0
        } else {
            u64::from(auth_age)
        };
        let auth_time = UnixTime::from_secs(now - age);
        let session = Session::new(Subject::new(subject).expect("subject"), auth_time);
        let consent = if consent {
            Consent::Remembered
        } else {
            Consent::GivenNow
        };
        if let Err(error) = self
            .provider
            .next_step(&pending.bound, Some(&session), consent)
        {
            self.check_authorize_error(&error, Some(client));
        }
        let bound = pending.bound;
        let state = bound.state().map(|s| s.as_str().to_string());
        let nonce = bound.nonce().map(|n| n.as_str().to_string());
        let redirect_uri = bound.redirect_uri().to_string();
        let response_type = bound.response_type();
        let alg = bound.id_token_alg();
        let mut approval =
            // The fuzzing host issues refresh tokens to clients that may refresh (decision 0018),
            // so that refreshes and their reuse stay reachable.
            Approval::new(Subject::new(subject).expect("subject"), auth_time)
                .with_amr(["pwd"])
                .with_refresh_token(true);
        if narrow {
            approval = approval.with_granted_scope(Scope::parse("openid email").expect("a scope"));
        }
        let response = match block_on(self.provider.approve(bound, approval)) {
            Ok(response) => response,
            Err(error) => {
                self.check_authorize_error(&error, Some(client));
                return;
            }
        };
        check_response(&response, &self.clients[client]);
        assert!(!response.is_error());
        assert_eq!(response.redirect_uri().as_str(), redirect_uri);
        assert_eq!(response.param("state"), state.as_deref(), "state echoed");
        assert_eq!(response.param("iss"), Some(ISSUER));
        let code = response.param("code").expect("a code").to_string();
        let access = response.param("access_token").map(String::from);
        assert_eq!(access.is_some(), response_type.has_token());
        let id_token = response.param("id_token");
        assert_eq!(id_token.is_some(), response_type.has_id_token());
        if let Some(id_token) = id_token {
            let s_hash = self.clients[client].wants_s_hash();
            check_id_token(
                id_token,
                &self.signers,
                &IdTokenRules::new(ISSUER, FIXTURES[client].id)
                    .alg(alg.as_str())
                    .subject(Some(subject))
                    .nonce(nonce.as_deref())
                    .c_hash(Some(code.as_str()))
                    .at_hash(access.as_deref())
                    .s_hash(state.as_deref().filter(|_| s_hash)),
            );
            if self.id_tokens.len() < 8 {
                self.id_tokens.push(id_token.to_string());
            }
        }
        let grant = self.grants.len();
        let mut entry = Grant {
            subject: subject.into(),
            client,
            ..Grant::default()
        };
        if let Some(access) = access {
            let expires_at = now + self.provider.config().front_channel_token_lifetime;
            entry.tokens_until = expires_at;
            self.access.push(Token {
                value: access,
                grant,
                expires_at,
                revoked: false,
                rotated: false,
                openid: true,
            });
        }
        self.grants.push(entry);
        self.codes.push(Code {
            value: code,
            grant,
            client,
            redirect_uri,
            verifier: pending.verifier,
            nonce,
            expires_at: now + self.provider.config().code_lifetime,
            redeemed: false,
        });
    }

    fn deny(&mut self, i: u8) {
        if self.pending.is_empty() {
            return;
        }
        let pending = self.pending.remove(usize::from(i) % self.pending.len());
        let response = self.provider.deny(pending.bound);
        assert_eq!(response.param("error"), Some("access_denied"));
        check_response(&response, &self.clients[pending.client]);
    }

    /// Records the tokens of a successful token response for `grant`.
    fn record_tokens(&mut self, grant: usize, response: &oidc_hybrid::TokenResponse) {
        let now = self.now();
        let config = self.provider.config();
        let access_expires = now + config.access_token_lifetime;
        let refresh_expires = now + config.refresh_token_lifetime;
        let scope = Scope::parse(response.scope()).expect("the granted scope parses");
        self.access.push(Token {
            value: response.access_token().into(),
            grant,
            expires_at: access_expires,
            revoked: false,
            rotated: false,
            openid: scope.contains("openid"),
        });
        let g = &mut self.grants[grant];
        g.tokens_until = g.tokens_until.max(access_expires);
        if let Some(refresh) = response.refresh_token() {
            g.tokens_until = g.tokens_until.max(refresh_expires);
            self.refresh.push(Token {
                value: refresh.into(),
                grant,
                expires_at: refresh_expires,
                revoked: false,
                rotated: false,
                openid: true,
            });
        }
    }

    fn redeem(&mut self, i: u8, as_client: u8, redirect: u8, verifier: u8) {
        if !self.codes.is_empty() {
            self.redeem_index(
                usize::from(i) % self.codes.len(),
                as_client,
                redirect,
                verifier,
            );
        }
    }

    fn redeem_index(&mut self, index: usize, as_client: u8, redirect: u8, verifier: u8) {
        let now = self.now();
        let code = &self.codes[index];
        let owner = code.client;
        let client = if as_client % 4 != 3 {
            owner
        } else {
            usize::from(as_client / 4) % FIXTURES.len()
        };
        let redirect_uri = match redirect % 4 {
            0 | 1 => Some(code.redirect_uri.clone()),
            2 => None,
            _ => Some(format!("{}x", code.redirect_uri)),
        };
        let sent_verifier = match verifier % 4 {
            0 | 1 => code.verifier.clone(),
            2 => None,
            _ => Some(verifier_for(9999)),
        };
        let mut pairs = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code.value.clone()),
        ];
        if let Some(uri) = &redirect_uri {
            pairs.push(("redirect_uri", uri.clone()));
        }
        if let Some(v) = &sent_verifier {
            pairs.push(("code_verifier", v.clone()));
        }
        let correct = client == owner
            && redirect_uri.as_deref() == Some(code.redirect_uri.as_str())
            && sent_verifier == code.verifier;
        let grant = code.grant;
        let was_redeemed = code.redeemed;
        let code_expires = code.expires_at;
        let nonce = code.nonce.clone();
        let result = self.call_token(client, pairs, false);
        let revoked_before = self.grants[grant].revoked;
        match result {
            Ok(response) => {
                let response = response.expect("a token response");
                assert!(!was_redeemed, "a code was redeemed twice");
                assert!(!revoked_before, "a revoked grant's code was redeemed");
                assert!(correct, "a code was redeemed with wrong parameters");
                assert!(now < code_expires, "an expired code was redeemed");
                self.codes[index].redeemed = true;
                let id_token = response
                    .id_token()
                    .expect("an openid grant has an ID token");
                let rules = self.token_endpoint_rules(owner, grant, &response);
                check_id_token(id_token, &self.signers, &rules.nonce(nonce.as_deref()));
                self.record_tokens(grant, &response);
            }
            Err(error) => {
                let reject = error.reject();
                let revokes = matches!(
                    reject,
                    Reject::CodeReplayed
                        | Reject::CodeClientMismatch
                        | Reject::CodeExpired
                        | Reject::RedirectUriTokenMismatch
                        | Reject::CodeVerifierMismatch
                        | Reject::CodeVerifierMissing
                        | Reject::CodeVerifierMalformed
                        | Reject::CodeVerifierUnexpected
                );
                let tombstone_until = code_expires.max(self.grants[grant].tokens_until);
                if was_redeemed && !revoked_before && now < tombstone_until {
                    assert_eq!(reject, Reject::CodeReplayed, "a replay must be detected");
                }
                if revokes {
                    self.grants[grant].revoked = true;
                }
            }
        }
    }

    fn refresh(&mut self, i: u8, as_client: u8, scope: u8) {
        let Some(index) = (!self.refresh.is_empty()).then(|| usize::from(i) % self.refresh.len())
        else {
            return;
        };
        let now = self.now();
        let token = &self.refresh[index];
        let grant = token.grant;
        let owner = self.grants[grant].client;
        let client = if as_client % 4 != 3 {
            owner
        } else {
            usize::from(as_client / 4) % FIXTURES.len()
        };
        let requested = REFRESH_SCOPES[usize::from(scope) % REFRESH_SCOPES.len()];
        let mut pairs = vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", token.value.clone()),
        ];
        if let Some(scope) = requested {
            pairs.push(("scope", scope.into()));
        }
        let live = !token.rotated && !token.revoked && now < token.expires_at;
        let unexpired = now < token.expires_at;
        let rotated = token.rotated;
        let revoked = self.grants[grant].revoked;
        let may_refresh = self.clients[client].allows_grant(oidc_hybrid::GrantType::RefreshToken);
        match self.call_token(client, pairs, false) {
            Ok(response) => {
                let response = response.expect("a token response");
                assert!(live && !revoked, "a dead refresh token was accepted");
                assert_eq!(client, owner, "a refresh token moved to another client");
                self.refresh[index].rotated = true;
                if let Some(id_token) = response.id_token() {
                    let rules = self.token_endpoint_rules(owner, grant, &response);
                    check_id_token(id_token, &self.signers, &rules.nonce(None));
                }
                assert!(response.refresh_token().is_some(), "refresh tokens rotate");
                self.record_tokens(grant, &response);
            }
            Err(error) => {
                if (rotated || revoked) && unexpired && may_refresh {
                    assert_eq!(
                        error.reject(),
                        Reject::RefreshTokenReused,
                        "reuse of a retired refresh token must be detected"
                    );
                }
                if error.reject() == Reject::RefreshTokenReused {
                    assert!(rotated || revoked, "reuse reported for a live token");
                    self.grants[grant].revoked = true;
                }
            }
        }
    }

    fn revoke(&mut self, i: u8, refresh: bool, as_client: u8, hint: bool) {
        let list = if refresh { &self.refresh } else { &self.access };
        let Some(index) = (!list.is_empty()).then(|| usize::from(i) % list.len()) else {
            return;
        };
        let now = self.now();
        let token = &list[index];
        let grant = token.grant;
        let owner = self.grants[grant].client;
        let client = if as_client.is_multiple_of(2) {
            owner
        } else {
            usize::from(as_client) % FIXTURES.len()
        };
        let live = !token.rotated
            && !token.revoked
            && now < token.expires_at
            && !self.grants[grant].revoked;
        let mut pairs = vec![("token", token.value.clone())];
        if hint {
            let hint = if refresh {
                "refresh_token"
            } else {
                "access_token"
            };
            pairs.push(("token_type_hint", hint.into()));
        }
        self.call_token(client, pairs, true)
            .expect("revocation with valid credentials succeeds");
        if live && client == owner {
            if refresh {
                self.grants[grant].revoked = true;
            } else {
                self.access[index].revoked = true;
            }
        }
    }

    fn userinfo(&mut self, i: u8, body: bool) {
        let Some(token) = pick(&self.access, i) else {
            return;
        };
        let live =
            !token.revoked && !self.grants[token.grant].revoked && self.now() < token.expires_at;
        let result = if body {
            let body = form(&[("access_token", token.value.as_str())]);
            let params = Params::parse(&body).expect("our own body parses");
            block_on(self.provider.userinfo(&Directory, None, Some(&params)))
        } else {
            let header = format!("Bearer {}", token.value);
            block_on(
                self.provider
                    .userinfo(&Directory, Some(header.as_str()), None),
            )
        };
        match result {
            Ok(claims) => {
                assert!(live, "a dead access token works at userinfo");
                assert!(token.openid);
                assert_eq!(claims["sub"], self.grants[token.grant].subject.as_str());
            }
            Err(error) => {
                if live && token.openid {
                    panic!(
                        "a live access token fails at userinfo: {:?}",
                        error.reject()
                    );
                }
                if live {
                    assert_eq!(error.reject(), Reject::TokenScopeInsufficient);
                }
            }
        }
    }

    fn raw_token(&self, body: &str, authorization: Option<&str>) {
        let Ok(params) = Params::parse(body) else {
            return;
        };
        let result = block_on(self.provider.token(&params, authorization));
        assert!(
            result.is_err(),
            "a token for a code or refresh token never issued"
        );
    }

    /// The rules of an ID token from the token endpoint for `owner`'s `grant`, issued with
    /// `response`'s access token; the nonce is the caller's.
    fn token_endpoint_rules<'a>(
        &'a self,
        owner: usize,
        grant: usize,
        response: &'a oidc_hybrid::TokenResponse,
    ) -> IdTokenRules<'a> {
        IdTokenRules::new(ISSUER, FIXTURES[owner].id)
            .alg(self.clients[owner].id_token_alg().as_str())
            .subject(Some(self.grants[grant].subject.as_str()))
            .c_hash(None)
            .at_hash(Some(response.access_token()))
            .s_hash(None)
    }

    /// The store agrees with the oracle about every token.
    fn check_store(&self) {
        let now = self.provider.now();
        let store = self.provider.storage();
        for token in &self.access {
            let found = block_on(store.access_token(&SecretDigest::of(&token.value), now));
            self.assert_liveness("access", token, token.revoked, found.map(|f| f.is_some()));
        }
        for token in &self.refresh {
            let found = block_on(store.refresh_token(&SecretDigest::of(&token.value), now));
            let live = found.map(|f| matches!(f, RefreshLookup::Live(_)));
            self.assert_liveness("refresh", token, token.rotated, live);
        }
    }

    /// Asserts that the store finds `token` live (`found`) exactly when the oracle says so: it
    /// was not `retired` (revoked or rotated), its grant is not revoked, and it has not expired.
    fn assert_liveness(
        &self,
        what: &str,
        token: &Token,
        retired: bool,
        found: Result<bool, core::convert::Infallible>,
    ) {
        let now = self.provider.now();
        let revoked = self.grants[token.grant].revoked;
        let live = !retired && !revoked && now.as_secs() < token.expires_at;
        let found = found.expect("infallible");
        assert_eq!(
            found, live,
            "{what} token liveness (grant revoked: {revoked})"
        );
    }

    fn step(&mut self, op: Op) {
        match op {
            Op::Flow {
                client,
                response_type,
                mode,
                state,
                nonce,
                subject,
                redeem,
            } => {
                let pending = self.pending.len();
                self.authorize(AuthorizeOp {
                    client: client % FIXTURES.len() as u8,
                    redirect: 0,
                    redirect_text: String::new(),
                    response_type: response_type % 4,
                    mode: mode % 4,
                    scope: 1,
                    state,
                    nonce: Some(nonce),
                    pkce: 0,
                    prompt: 0,
                    max_age: None,
                    hint: None,
                    extra: Vec::new(),
                });
                if self.pending.len() > pending {
                    let codes = self.codes.len();
                    self.approve(u8::MAX, subject, 0, false, false);
                    if redeem && self.codes.len() > codes {
                        self.redeem_index(codes, 0, 0, 0);
                    }
                }
            }
            Op::Authorize(op) => self.authorize(op),
            Op::RawAuthorize(query) => self.authorize_query(&query, None),
            Op::Approve {
                pending,
                subject,
                auth_age,
                narrow,
                consent,
            } => self.approve(pending, subject, auth_age, narrow, consent),
            Op::Deny { pending } => self.deny(pending),
            Op::Redeem {
                code,
                as_client,
                redirect,
                verifier,
            } => self.redeem(code, as_client, redirect, verifier),
            Op::Refresh {
                token,
                as_client,
                scope,
            } => self.refresh(token, as_client, scope),
            Op::Revoke {
                token,
                refresh,
                as_client,
                hint,
            } => self.revoke(token, refresh, as_client, hint),
            Op::UserInfo { token, body } => self.userinfo(token, body),
            Op::Advance(i) => self
                .clock
                .advance(ADVANCES[usize::from(i) % ADVANCES.len()]),
            Op::Sweep => {
                let now = self.provider.now();
                block_on(self.provider.storage().sweep_expired(now)).expect("infallible");
            }
            Op::RawToken {
                body,
                authorization,
            } => self.raw_token(&body, authorization.as_deref()),
        }
        self.check_store();
    }
}

/// With `FLOW_STATS` set in the environment, each input prints one line of what it reached, to
/// check that the corpus gets past the first steps of a flow.
fn stats_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("FLOW_STATS").is_some())
}

fuzz_target!(|ops: Vec<Op>| {
    let mut world = World::new();
    for op in ops.into_iter().take(MAX_OPS) {
        world.step(op);
    }
    if stats_enabled() {
        eprintln!(
            "flow-stats codes={} redeemed={} grants_revoked={} access={} refresh={} rotated={} id_tokens={}",
            world.codes.len(),
            world.codes.iter().filter(|c| c.redeemed).count(),
            world.grants.iter().filter(|g| g.revoked).count(),
            world.access.len(),
            world.refresh.len(),
            world.refresh.iter().filter(|t| t.rotated).count(),
            world.id_tokens.len(),
        );
    }
});
