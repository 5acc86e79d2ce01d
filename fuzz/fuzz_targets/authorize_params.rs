//! Authorization request parameters (query string or form body) → `Params::parse` →
//! `AuthorizeRequest::parse` → `bind` against the fixture clients → (if bound) `next_step`,
//! `approve` and `deny`; and the same parameters through `Provider::authorize` over a memory
//! store (client lookup, `id_token_hint` verification).
//!
//! Invariants: every error before binding is shown to the user; every redirected response goes
//! to a URI the client registered, never in the query for hybrid response types, with a safe
//! `error_description` and a form_post page whose only script is the submit script.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oidc_hybrid::{
    Approval, AuthorizeError, AuthorizeRequest, Client, Config, Consent, Disposition, KeySet, Mint,
    Params, ResponseMode, ResponseType, Session, Subject, UnixTime,
};
use oidc_hybrid_fuzz::{
    DeterministicRng, FuzzProvider, ISSUER, START, TestClock, block_on, check_response, clients,
    hash_signers, provider, safe_description,
};

struct Fixture {
    config: Config,
    clients: Vec<Client>,
    signers: KeySet,
    provider: FuzzProvider,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        config: Config::new(ISSUER).expect("valid issuer"),
        clients: clients(),
        signers: KeySet::new(
            hash_signers()
                .into_iter()
                .map(|s| Box::new(s) as Box<dyn oidc_hybrid::Signer>)
                .collect(),
        ),
        provider: provider(TestClock::at(START), 3),
    })
}

/// Whether the raw `response_type` names a hybrid type (then no response may use the query).
fn raw_is_hybrid(params: &Params<'_>) -> bool {
    matches!(params.get("response_type"), Ok(Some(rt)) if ResponseType::parse(rt).is_ok_and(ResponseType::is_hybrid))
}

fn check_error(error: &AuthorizeError, client: &Client, hybrid: bool) {
    assert!(safe_description(error.reject().description()));
    if let Disposition::RedirectToClient(response) = error.disposition() {
        assert!(response.is_error(), "a redirected error carries error");
        assert_eq!(
            response.param("error"),
            Some(error.reject().code().as_str()),
            "wire code"
        );
        assert_eq!(response.param("iss"), Some(ISSUER));
        assert!(!(hybrid && response.mode() == ResponseMode::Query));
        check_response(response, client);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let fx = fixture();
    let now = UnixTime::from_secs(START);
    let params = match Params::parse(input) {
        Ok(params) => params,
        Err(reject) => {
            // What the driver does with a parse failure: show it, never redirect.
            let error = AuthorizeError::from(reject);
            assert_eq!(error.disposition(), &Disposition::ShowToUser);
            return;
        }
    };
    let hybrid = raw_is_hybrid(&params);
    // The driver: the same rules, with the client looked up in the store and any
    // `id_token_hint` verified against our keys.
    let named = params
        .get("client_id")
        .ok()
        .flatten()
        .and_then(|id| fx.clients.iter().find(|c| c.id().as_str() == id));
    match block_on(fx.provider.authorize(&params)) {
        Ok(bound) => {
            let client = named.expect("bound to a registered client");
            assert!(
                client
                    .match_redirect_uri(bound.redirect_uri().as_str())
                    .is_some()
            );
            if let Some(hint) = bound.hint_subject() {
                assert!(bound.id_token_hint().is_some());
                assert!(!hint.as_str().is_empty());
            }
        }
        Err(error) => match named {
            Some(client) => check_error(&error, client, hybrid),
            None => assert_eq!(error.disposition(), &Disposition::ShowToUser),
        },
    }
    let request = match AuthorizeRequest::parse(&params, &fx.config) {
        Ok(request) => request,
        Err(error) => {
            assert_eq!(
                error.disposition(),
                &Disposition::ShowToUser,
                "{:?} before binding must be shown, not redirected",
                error.reject()
            );
            assert!(error.into_response().is_none());
            return;
        }
    };
    let Some(client) = fx.clients.iter().find(|c| c.id() == request.client_id()) else {
        return;
    };
    let requested_uri = params.get("redirect_uri").ok().flatten().map(String::from);
    let bound = match request.bind(client, &fx.config, now) {
        Ok(bound) => bound,
        Err(error) => {
            if client
                .match_redirect_uri(requested_uri.as_deref().unwrap_or_default())
                .is_none()
            {
                assert_eq!(error.disposition(), &Disposition::ShowToUser);
            }
            check_error(&error, client, hybrid);
            return;
        }
    };
    assert_eq!(
        Some(bound.redirect_uri().as_str()),
        requested_uri.as_deref()
    );
    assert!(
        client
            .match_redirect_uri(bound.redirect_uri().as_str())
            .is_some()
    );
    assert!(!(bound.response_type().is_hybrid() && bound.response_mode() == ResponseMode::Query));
    assert!(bound.scope().contains("openid"));
    assert!(client.allows_response_type(bound.response_type()));

    let subject = Subject::new("alice").expect("valid subject");
    let session = Session::new(subject.clone(), now);
    for consent in [Consent::Missing, Consent::Remembered, Consent::GivenNow] {
        for session in [None, Some(&session)] {
            if let Err(error) = bound.next_step(session, consent, ISSUER) {
                check_error(&error, client, hybrid);
            }
        }
    }
    check_response(&bound.clone().deny(ISSUER), client);

    assert!(
        fx.signers.signer(bound.id_token_alg()).is_some(),
        "a signer for every fixture algorithm"
    );
    let rng = DeterministicRng::new(7);
    let mint = Mint {
        config: &fx.config,
        keys: &fx.signers,
        rng: &rng,
        now,
    };
    match bound.approve(Approval::new(subject, now), mint) {
        Ok(approved) => {
            let response = &approved.response;
            assert!(!response.is_error());
            assert!(response.param("code").is_some());
            assert_eq!(response.param("iss"), Some(ISSUER));
            assert!(!(hybrid && response.mode() == ResponseMode::Query));
            check_response(response, client);
        }
        Err(error) => check_error(&error, client, hybrid),
    }
});
