//! Property tests over generated inputs:
//!
//! - authorization responses built by real flows (arbitrary `state` and `nonce`) decode, in
//!   fragment, form_post and query mode, to exactly the parameters the provider set;
//! - a request that cannot be bound to a registered client and redirect URI is never
//!   redirected, and one that can be bound is only ever redirected to the requested URI;
//! - hash claims are the left half of the digest named by the algorithm, base64url without
//!   padding, equal to an independent recomputation;
//! - `response_type` and `scope` parse order-insensitively and round-trip;
//! - the memory and SQLite stores give the same answers as the reference model of the `Storage`
//!   contract for random operation sequences (`oidc_hybrid_tests::model`).

use std::sync::OnceLock;

use base64ct::{Base64UrlUnpadded, Encoding};
use oidc_hybrid::jose::hash_claim;
use oidc_hybrid::{Disposition, JwsAlgorithm, ResponseMode, ResponseType, Scope};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_testkit::rp::IdTokenRules;
use oidc_hybrid_tests::model::{StorageOp, check};
use oidc_hybrid_tests::{
    Delivered, Harness, ISSUER, REDIRECT_URI, block_on, form, pkce_pair, rp_hash, standard_clients,
};
use proptest::prelude::*;
use proptest::sample::select;

/// Arbitrary text: any code points, control characters and markup included.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

/// Text biased towards the characters that need escaping somewhere.
fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        text(24),
        prop::collection::vec(
            select(vec![
                "&",
                "<",
                ">",
                "\"",
                "'",
                "`",
                "#",
                "%",
                "+",
                "=",
                "?",
                " ",
                "%20",
                "&amp;",
                "</script>",
                "<script>",
                "\u{0}",
                "\n",
                "é",
                "🔑",
                "a",
                "Z",
                "9",
                "\\",
            ]),
            0..12
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// One provider for all cases of a property (building the RSA key is the slow part).
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::new)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// parse → render → parse of authorization responses is the identity.
    #[test]
    fn responses_decode_to_exactly_their_parameters(
        state in nasty_text(),
        nonce in nasty_text(),
        response_type in select(ResponseType::ALL.to_vec()),
        mode in select(vec![None, Some(ResponseMode::Fragment), Some(ResponseMode::FormPost), Some(ResponseMode::Query)]),
    ) {
        let h = harness();
        // ES256 keeps the signing cost low; es-post also asks for s_hash.
        let client = "es-post";
        let (_, challenge) = pkce_pair("prop");
        let mut pairs = vec![
            ("response_type", response_type.as_str()),
            ("client_id", client),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid email"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(mode) = mode {
            pairs.push(("response_mode", mode.as_str()));
        }
        let bound = h.authorize(&form(&pairs));
        let needs_nonce = response_type.has_id_token() && nonce.is_empty();
        let query_with_tokens = mode == Some(ResponseMode::Query) && response_type.is_hybrid();
        let response = match bound {
            Ok(bound) => {
                prop_assert!(!needs_nonce && !query_with_tokens);
                h.approve(bound, "alice").expect("approved")
            }
            Err(error) => {
                // The only refusals these requests can meet: no nonce with id_token, tokens in
                // the query. Both are redirected, and decode the same way.
                prop_assert!(needs_nonce || query_with_tokens);
                match error.disposition() {
                    Disposition::RedirectToClient(response) => response.clone(),
                    Disposition::ShowToUser => panic!("{:?} was not redirected", error.reject()),
                    _ => unreachable!(),
                }
            }
        };
        let delivered = Delivered::from_response(&response);
        let expected: Vec<(String, String)> = response
            .params()
            .iter()
            .map(|(n, v)| ((*n).to_string(), v.clone()))
            .collect();
        prop_assert_eq!(&delivered.pairs, &expected);
        prop_assert_eq!(delivered.mode, response.mode());
        prop_assert_eq!(delivered.target.as_str(), REDIRECT_URI);
        let sent_state = (!state.is_empty()).then_some(state.as_str());
        prop_assert_eq!(delivered.get("state"), sent_state, "state echoed exactly");
        prop_assert_eq!(delivered.get("iss"), Some(ISSUER));
        if let Some(id_token) = delivered.get("id_token") {
            let claims = IdTokenRules::new(ISSUER, client)
                .alg("ES256")
                .nonce(Some(nonce.as_str()))
                .at(h.now())
                .validate(id_token, &h.rp());
            prop_assert_eq!(claims["nonce"].as_str(), Some(nonce.as_str()));
            let code = delivered.get("code").expect("a code");
            prop_assert_eq!(claims["c_hash"].as_str().map(String::from),
                    Some(rp_hash("ES256", code)));
            match sent_state {
                Some(state) => prop_assert_eq!(
                    claims["s_hash"].as_str().map(String::from),
                    Some(rp_hash("ES256", state))
                ),
                None => prop_assert!(claims.get("s_hash").is_none()),
            }
            match delivered.get("access_token") {
                Some(token) => prop_assert_eq!(
                    claims["at_hash"].as_str().map(String::from),
                    Some(rp_hash("ES256", token))
                ),
                None => prop_assert!(claims.get("at_hash").is_none()),
            }
        }
    }
}

/// A client id as sent: absent, registered, unknown, malformed or repeated.
#[derive(Clone, Debug)]
enum Sent {
    Absent,
    Once(String),
    Twice(String),
}

impl Sent {
    fn once(&self) -> Option<&str> {
        match self {
            Self::Once(v) if !v.is_empty() => Some(v),
            _ => None,
        }
    }

    fn push<'a>(&'a self, name: &'a str, pairs: &mut Vec<(&'a str, &'a str)>) {
        match self {
            Self::Absent => {}
            Self::Once(v) => pairs.push((name, v)),
            Self::Twice(v) => {
                pairs.push((name, v));
                pairs.push((name, v));
            }
        }
    }
}

fn sent(values: Vec<&'static str>) -> impl Strategy<Value = Sent> {
    prop_oneof![
        1 => Just(Sent::Absent),
        4 => select(values.clone()).prop_map(|v| Sent::Once(v.to_string())),
        1 => text(12).prop_map(Sent::Once),
        1 => select(values).prop_map(|v| Sent::Twice(v.to_string())),
    ]
}

/// Whether `requested` matches one of `client`'s registered URIs, decided without the crate:
/// exact match, or for a native client a loopback URI that differs only in its port.
fn registered_match(client: &oidc_hybrid::Client, requested: &str) -> bool {
    let loopback = |uri: &str| -> Option<String> {
        let rest = uri.strip_prefix("http://127.0.0.1")?;
        let (port, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        let port_ok = port.is_empty()
            || port.strip_prefix(':').is_some_and(|d| {
                !d.is_empty() && d.len() <= 5 && d.bytes().all(|b| b.is_ascii_digit())
            });
        port_ok.then(|| path.to_string())
    };
    client.redirect_uris().iter().any(|uri| {
        uri.as_str() == requested
            || (client.is_native()
                && loopback(uri.as_str()).is_some_and(|a| loopback(requested) == Some(a)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Errors before binding are shown; after binding, only the requested, registered URI is
    /// ever a redirect target.
    #[test]
    fn unbound_requests_are_never_redirected(
        client_id in sent(vec!["rs-basic", "es-post", "default", "native", "unknown", "bad id\u{7f}"]),
        redirect_uri in sent(vec![
            REDIRECT_URI,
            "https://rp.example/cb?tenant=7",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:5000/cb",
            "http://127.0.0.1:5000/cb/",
            "https://rp.example/cb/",
            "https://evil.example/cb",
            "HTTPS://rp.example/cb",
        ]),
        response_mode in sent(vec!["query", "fragment", "form_post", "jwt", "Fragment"]),
        response_type in select(vec!["code", "code id_token", "code token", "token", "", "code code"]),
        scope in select(vec!["openid", "profile", "openid email", "", "open id"]),
        state in text(8),
        nonce in select(vec!["", "n-1"]),
        pkce in any::<bool>(),
    ) {
        let h = harness();
        let (_, challenge) = pkce_pair("unbound");
        let mut pairs = vec![
            ("response_type", response_type),
            ("scope", scope),
            ("state", state.as_str()),
            ("nonce", nonce),
        ];
        if pkce {
            pairs.push(("code_challenge", challenge.as_str()));
            pairs.push(("code_challenge_method", "S256"));
        }
        client_id.push("client_id", &mut pairs);
        redirect_uri.push("redirect_uri", &mut pairs);
        response_mode.push("response_mode", &mut pairs);

        let clients = standard_clients();
        let client = client_id
            .once()
            .and_then(|id| clients.iter().find(|c| c.id().as_str() == id));
        let mode_ok = match &response_mode {
            Sent::Absent => true,
            Sent::Once(v) => v.is_empty() || ["query", "fragment", "form_post"].contains(&v.as_str()),
            Sent::Twice(_) => false,
        };
        let binds = client.is_some_and(|c| {
            redirect_uri.once().is_some_and(|uri| registered_match(c, uri))
        }) && mode_ok;

        match h.authorize(&form(&pairs)) {
            Ok(bound) => {
                prop_assert!(binds, "bound an unbindable request");
                prop_assert_eq!(Some(bound.redirect_uri().as_str()), redirect_uri.once());
            }
            Err(error) => match error.disposition() {
                Disposition::ShowToUser => prop_assert!(
                    !binds,
                    "{:?} shown for a bindable request", error.reject()
                ),
                Disposition::RedirectToClient(response) => {
                    prop_assert!(binds, "{:?} redirected before binding", error.reject());
                    prop_assert_eq!(Some(response.redirect_uri().as_str()), redirect_uri.once());
                    prop_assert!(registered_match(client.expect("bound"), response.redirect_uri().as_str()));
                    prop_assert!(response.is_error());
                }
                _ => unreachable!(),
            },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Hash claims: exactly half the digest, base64url without padding, equal to an independent
    /// recomputation, for every algorithm.
    #[test]
    fn hash_claims_match_an_independent_recomputation(value in text(200)) {
        for alg in JwsAlgorithm::ALL {
            let claim = hash_claim(alg.hash(), &value);
            prop_assert_eq!(&claim, &rp_hash(alg.as_str(), &value));
            let digest_len = match alg.as_str().get(2..) {
                Some("384") => 48,
                Some("256") => 32,
                _ => 64,
            };
            let decoded = Base64UrlUnpadded::decode_vec(&claim).expect("base64url, no padding");
            prop_assert_eq!(decoded.len(), digest_len / 2);
            prop_assert!(!claim.contains('='));
            prop_assert!(claim.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }

    /// `response_type` is a set: any order of its members parses to the same value, which
    /// renders canonically and parses back.
    #[test]
    fn response_type_is_an_order_insensitive_set(
        members in prop::sample::subsequence(vec!["code", "id_token", "token"], 1..=3)
            .prop_shuffle()
    ) {
        let raw = members.join(" ");
        match ResponseType::parse(&raw) {
            Ok(rt) => {
                prop_assert!(members.contains(&"code"));
                prop_assert_eq!(ResponseType::parse(rt.as_str()), Ok(rt));
                let mut reversed = members.clone();
                reversed.reverse();
                prop_assert_eq!(ResponseType::parse(&reversed.join(" ")), Ok(rt));
                prop_assert_eq!(rt.has_id_token(), members.contains(&"id_token"));
                prop_assert_eq!(rt.has_token(), members.contains(&"token"));
            }
            Err(_) => prop_assert!(!members.contains(&"code")),
        }
    }

    /// `scope` is a set: order and duplicates do not matter, and it round-trips.
    #[test]
    fn scope_is_an_order_insensitive_set(
        tokens in prop::collection::vec("[!#-\\[\\]-~]{1,8}", 1..8),
        seed in any::<u64>(),
    ) {
        let scope = Scope::parse(&tokens.join(" ")).expect("valid scope tokens");
        let mut shuffled = tokens.clone();
        shuffled.rotate_left((seed as usize) % tokens.len());
        shuffled.push(tokens[0].clone());
        prop_assert_eq!(Scope::parse(&shuffled.join(" ")), Ok(scope.clone()));
        prop_assert_eq!(Scope::parse(&scope.to_string()), Ok(scope.clone()));
        for token in &tokens {
            prop_assert!(scope.contains(token));
        }
    }
}

fn storage_op() -> impl Strategy<Value = StorageOp> {
    let ttl = || select(vec![1u64, 2, 30, 59, 60, 61, 300, 600, 3600]);
    prop_oneof![
        3 => (any::<bool>(), ttl(), ttl()).prop_map(|(front_token, code_ttl, token_ttl)| {
            StorageOp::NewGrant { front_token, code_ttl, token_ttl }
        }),
        3 => (0..8usize).prop_map(|code| StorageOp::Redeem { code }),
        1 => Just(StorageOp::RedeemUnknown),
        3 => (0..8usize, any::<bool>(), ttl(), ttl()).prop_map(
            |(grant, refresh, access_ttl, refresh_ttl)| StorageOp::InsertTokens {
                grant, refresh, access_ttl, refresh_ttl,
            }
        ),
        2 => (0..16usize).prop_map(|token| StorageOp::AccessLookup { token }),
        2 => (0..16usize).prop_map(|token| StorageOp::RefreshLookup { token }),
        2 => (0..16usize, ttl()).prop_map(|(token, ttl)| StorageOp::Rotate { token, ttl }),
        1 => (0..8usize).prop_map(|grant| StorageOp::RevokeGrant { grant }),
        1 => (0..16usize).prop_map(|token| StorageOp::RevokeAccess { token }),
        1 => (0..2usize, 0..3usize, ttl()).prop_map(|(client, jti, ttl)| StorageOp::RecordJti {
            client, jti, ttl,
        }),
        3 => select(vec![0u64, 1, 29, 30, 31, 59, 60, 61, 299, 300, 601, 3600, 4000])
            .prop_map(|secs| StorageOp::Advance { secs }),
        1 => Just(StorageOp::Sweep),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The memory store answers every operation exactly as the reference model of the
    /// `Storage` contract does.
    #[test]
    fn memory_store_follows_the_storage_model(
        ops in prop::collection::vec(storage_op(), 1..80)
    ) {
        let store = MemoryStore::new();
        if let Err(mismatch) = block_on(check(&store, &ops)) {
            prop_assert!(false, "{}", mismatch);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The SQLite store answers every operation exactly as the same reference model does
    /// (the two stores are thereby equivalent on these sequences).
    #[test]
    fn sqlite_store_follows_the_storage_model(
        ops in prop::collection::vec(storage_op(), 1..60)
    ) {
        let result = block_on(async {
            let fixture = oidc_hybrid_tests::backends::sqlite_memory(standard_clients())
                .await
                .expect("in-memory SQLite is always available");
            check(&*fixture.store, &ops).await
        });
        if let Err(mismatch) = result {
            prop_assert!(false, "{}", mismatch);
        }
    }
}

/// Hand-written sequences through the model: the contract's headline rules.
#[test]
fn model_headline_sequences() {
    use StorageOp::*;
    let sequences: Vec<Vec<StorageOp>> = vec![
        // A replay within the code's lifetime, and after it while tokens live.
        vec![
            NewGrant {
                front_token: false,
                code_ttl: 60,
                token_ttl: 1,
            },
            Redeem { code: 0 },
            InsertTokens {
                grant: 0,
                refresh: true,
                access_ttl: 3600,
                refresh_ttl: 7200,
            },
            Redeem { code: 0 },
            Advance { secs: 3000 },
            Sweep,
            Redeem { code: 0 },
            RevokeGrant { grant: 0 },
            AccessLookup { token: 0 },
            RefreshLookup { token: 0 },
            InsertTokens {
                grant: 0,
                refresh: false,
                access_ttl: 60,
                refresh_ttl: 1,
            },
        ],
        // Rotation, reuse, expiry.
        vec![
            NewGrant {
                front_token: true,
                code_ttl: 60,
                token_ttl: 60,
            },
            Redeem { code: 0 },
            InsertTokens {
                grant: 0,
                refresh: true,
                access_ttl: 60,
                refresh_ttl: 600,
            },
            Rotate { token: 0, ttl: 600 },
            Rotate { token: 0, ttl: 600 },
            RefreshLookup { token: 1 },
            Advance { secs: 601 },
            Sweep,
            RefreshLookup { token: 0 },
            Rotate { token: 0, ttl: 600 },
            RecordJti {
                client: 0,
                jti: 0,
                ttl: 30,
            },
            RecordJti {
                client: 0,
                jti: 0,
                ttl: 30,
            },
            RecordJti {
                client: 1,
                jti: 0,
                ttl: 30,
            },
            Advance { secs: 30 },
            RecordJti {
                client: 0,
                jti: 0,
                ttl: 30,
            },
        ],
    ];
    for ops in sequences {
        block_on(check(&MemoryStore::new(), &ops)).expect("the memory store follows the model");
    }
}
