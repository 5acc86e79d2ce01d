//! Pairwise subject identifiers (OIDC Core §8.1, Registration §5): per-client registration
//! rules, the same `sub` everywhere a client sees it, the same value within a sector and different
//! ones across sectors, `id_token_hint`s in pairwise form, and the `sector_identifier_uri` check
//! through the host's fetcher. The property test of the derivation is in core/src/pairwise.rs.
//!
//! REQUIREMENTS covered: 167 (`subject_types_supported`).

use oidc_hybrid::client_keys::FetchError;
use oidc_hybrid::pairwise::SectorFuture;
use oidc_hybrid::{ClientMetadata, Config, PairwiseSecret, Reject, ResponseMode, SectorFetcher};
use oidc_hybrid_testkit::rp::Jws;
use oidc_hybrid_tests::{
    Harness, ISSUER, REDIRECT_URI, SECRET, assert_redirected, auth_pairs, basic, block_on, client,
    form, set_param,
};
use serde_json::{Value, json};

fn pairwise_client(id: &str, redirect: &str, sector_uri: Option<&str>) -> oidc_hybrid::Client {
    let mut metadata = json!({
        "client_id": id,
        "client_secret": SECRET,
        "redirect_uris": [redirect],
        "response_types": ["code", "code id_token", "code id_token token"],
        "grant_types": ["authorization_code", "implicit", "refresh_token"],
        "subject_type": "pairwise",
    });
    if let Some(uri) = sector_uri {
        metadata["sector_identifier_uri"] = uri.into();
    }
    client(metadata)
}

fn config() -> Config {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.pairwise =
        Some(PairwiseSecret::new(*b"a-test-pairwise-secret-of-32-byt").expect("32 bytes"));
    config
}

fn harness() -> Harness {
    Harness::with_clients(
        config(),
        vec![
            // Sector rp.example (the redirect URI's host).
            pairwise_client("pw-a", REDIRECT_URI, None),
            // Same sector, another client.
            pairwise_client("pw-c", "https://rp.example/other", None),
            // Same redirect host, but its own sector.
            pairwise_client(
                "pw-b",
                REDIRECT_URI,
                Some("https://sector.example/uris.json"),
            ),
        ],
    )
}

fn sub(jwt: &str) -> String {
    let payload = Jws::parse(jwt).expect("JWS").payload().clone();
    payload["sub"].as_str().expect("sub").to_owned()
}

/// A `code id_token token` flow for `client` (redirecting to `redirect`) with an optional
/// `id_token_hint`: the subs of the front ID token, the back ID token, the refreshed ID token,
/// UserInfo and introspection.
fn subs(h: &Harness, client: &str, redirect: &str, hint: Option<&str>) -> Vec<String> {
    let mut pairs = auth_pairs("code id_token token", client);
    set_param(&mut pairs, "redirect_uri", Some(redirect));
    set_param(&mut pairs, "scope", Some("openid email"));
    set_param(&mut pairs, "id_token_hint", hint);
    let delivered = h.issue(&pairs, "alice");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", delivered["code"].as_str()),
        ("redirect_uri", redirect),
    ]);
    let auth = basic(client, SECRET);
    let tokens = h.token(&body, Some(&auth)).expect("tokens");
    let refresh = form(&[
        ("grant_type", "refresh_token"),
        (
            "refresh_token",
            tokens.refresh_token().expect("refresh token"),
        ),
    ]);
    let refreshed = h.token(&refresh, Some(&auth)).expect("refreshed");
    let info = h.userinfo(tokens.access_token()).expect("userinfo");
    assert_eq!(
        info["email"], "alice@example.org",
        "the host is asked for its own user"
    );
    let introspected = h
        .introspect(&form(&[("token", tokens.access_token())]), Some(&auth))
        .expect("introspection");
    let front_token = h
        .introspect(
            &form(&[("token", delivered["access_token"].as_str())]),
            Some(&auth),
        )
        .expect("introspection");
    vec![
        sub(&delivered["id_token"]),
        sub(tokens.id_token().expect("ID token")),
        sub(refreshed.id_token().expect("ID token")),
        info["sub"].as_str().expect("sub").to_owned(),
        introspected.sub.expect("sub"),
        front_token.sub.expect("sub"),
    ]
}

#[test]
fn a_pairwise_client_sees_one_sub_everywhere_shared_within_its_sector_only() {
    let h = harness();
    let a = subs(&h, "pw-a", REDIRECT_URI, None);
    assert!(a.iter().all(|s| s == &a[0]), "one sub everywhere: {a:?}");
    assert_ne!(a[0], "alice");
    assert_eq!(a[0].len(), 43);

    let c = subs(&h, "pw-c", "https://rp.example/other", None);
    assert_eq!(c[0], a[0], "same sector, same sub");
    let b = subs(&h, "pw-b", REDIRECT_URI, None);
    assert!(b.iter().all(|s| s == &b[0]));
    assert_ne!(b[0], a[0], "another sector, another sub");

    // Stable: a second flow gives the same value; a public client sees the local subject.
    assert_eq!(subs(&h, "pw-a", REDIRECT_URI, None)[0], a[0]);
    let public = h.issue(&auth_pairs("code id_token", "rs-basic"), "alice");
    assert_eq!(sub(&public["id_token"]), "alice");
}

#[test]
fn id_token_hints_of_pairwise_clients_name_the_pairwise_sub() {
    let h = harness();
    let mut pairs = auth_pairs("code id_token", "pw-a");
    let first = h.issue(&pairs, "alice");
    let hint = first["id_token"].clone();
    // Alice again: the hint's pairwise sub is hers.
    subs(&h, "pw-a", REDIRECT_URI, Some(&hint));
    // Bob is not the End-User the hint names.
    set_param(&mut pairs, "id_token_hint", Some(&hint));
    let bound = h.authorize(&form(&pairs)).expect("binds");
    let err = h.approve(bound, "bob").expect_err("another user");
    assert_eq!(err.reject(), Reject::IdTokenHintSubjectMismatch);
}

#[test]
fn a_pairwise_client_without_a_configured_secret_is_server_error() {
    let h = Harness::with_clients(
        Config::new(ISSUER).expect("issuer"),
        vec![pairwise_client("pw-a", REDIRECT_URI, None)],
    );
    let err = h
        .authorize(&form(&auth_pairs("code id_token", "pw-a")))
        .expect_err("no secret");
    assert_eq!(err.reject(), Reject::PairwiseUnavailable);
    assert_redirected(
        &err,
        "server_error",
        ResponseMode::Fragment,
        Some("st-af0ifjsldkj"),
    );
    let doc: Value = serde_json::from_str(&h.provider.discovery().to_json()).expect("JSON");
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    let doc: Value = serde_json::from_str(&harness().provider.discovery().to_json()).expect("JSON");
    assert_eq!(
        doc["subject_types_supported"],
        json!(["public", "pairwise"])
    );
}

#[test]
fn registration_rules_for_pairwise_clients() {
    let register = |metadata: Value| {
        let metadata: ClientMetadata = serde_json::from_value(metadata).expect("metadata");
        oidc_hybrid::Client::register(metadata)
    };
    let two_hosts = json!({
        "client_id": "x", "client_secret": SECRET, "subject_type": "pairwise",
        "redirect_uris": ["https://a.example/cb", "https://b.example/cb"],
    });
    assert_eq!(
        register(two_hosts.clone()).err(),
        Some(Reject::SectorIdentifierRequired)
    );
    let mut with_sector = two_hosts.clone();
    with_sector["sector_identifier_uri"] = "https://sector.example/uris.json".into();
    let registered = register(with_sector).expect("registers");
    assert_eq!(registered.sector_identifier(), Some("sector.example"));
    let mut insecure = two_hosts;
    insecure["sector_identifier_uri"] = "http://sector.example/uris.json".into();
    assert_eq!(
        register(insecure).err(),
        Some(Reject::SectorIdentifierUriInvalid)
    );
    assert_eq!(
        Reject::SectorIdentifierRequired.code().as_str(),
        "invalid_client_metadata"
    );
    let bogus = json!({
        "client_id": "x", "client_secret": SECRET, "subject_type": "anonymous",
        "redirect_uris": ["https://a.example/cb"],
    });
    assert!(serde_json::from_value::<ClientMetadata>(bogus).is_err());
    let public = client(json!({
        "client_id": "x", "client_secret": SECRET, "redirect_uris": ["https://a.example/cb"],
    }));
    assert_eq!(public.sector_identifier(), None);
}

/// A sector fetcher serving one fixed document, or failing.
struct Sectors(Option<Vec<String>>);

impl SectorFetcher for Sectors {
    fn fetch<'a>(&'a self, uri: &'a str) -> SectorFuture<'a> {
        let answer = match (&self.0, uri) {
            (Some(list), "https://sector.example/uris.json") => Ok(list.clone()),
            _ => Err(FetchError::Unavailable),
        };
        Box::pin(async move { answer })
    }
}

#[test]
fn sector_identifier_documents_must_list_every_redirect_uri() {
    let client = pairwise_client(
        "pw-b",
        REDIRECT_URI,
        Some("https://sector.example/uris.json"),
    );
    let h = harness();
    assert_eq!(
        block_on(h.provider.verify_sector(&client)),
        Err(Reject::SectorIdentifierUnavailable),
        "no fetcher"
    );
    let check = |fetcher: Sectors| {
        let h = harness();
        let provider = h.provider.with_sector_fetcher(fetcher);
        block_on(provider.verify_sector(&client))
    };
    let listed = vec![
        REDIRECT_URI.to_owned(),
        "https://rp.example/else".to_owned(),
    ];
    assert_eq!(check(Sectors(Some(listed))), Ok(()));
    let unlisted = vec!["https://rp.example/else".to_owned()];
    assert_eq!(
        check(Sectors(Some(unlisted))),
        Err(Reject::SectorRedirectUriUnlisted)
    );
    assert_eq!(
        check(Sectors(None)),
        Err(Reject::SectorIdentifierUnavailable)
    );
    // A client without a sector_identifier_uri has nothing to check.
    let plain = pairwise_client("pw-a", REDIRECT_URI, None);
    assert_eq!(block_on(harness().provider.verify_sector(&plain)), Ok(()));
}
