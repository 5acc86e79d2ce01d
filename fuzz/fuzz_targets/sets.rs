//! The set-valued and enumerated parameters: `response_type`, `scope`, `prompt`,
//! `response_mode`, `code_challenge`, and raw `Params` themselves.
//!
//! Invariants: sets parse order-insensitively and round-trip (parse(render(x)) == x, also
//! through serde); enumerations render to what was parsed; `Params` survive re-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_hybrid::params::{MAX_PARAMS, MAX_VALUE_LEN};
use oidc_hybrid::pkce;
use oidc_hybrid::{CodeChallenge, CodeVerifier, Params, Prompt, ResponseMode, ResponseType, Scope};

const RFC7636_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC7636_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn render_prompt(p: Prompt) -> String {
    let mut words = Vec::new();
    for (on, word) in [
        (p.none, "none"),
        (p.login, "login"),
        (p.consent, "consent"),
        (p.select_account, "select_account"),
    ] {
        if on {
            words.push(word);
        }
    }
    words.join(" ")
}

fn reversed(s: &str) -> String {
    s.split(' ').rev().collect::<Vec<_>>().join(" ")
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(rt) = ResponseType::parse(s) {
        assert_eq!(ResponseType::parse(rt.as_str()), Ok(rt));
        assert_eq!(
            ResponseType::parse(&reversed(s)),
            Ok(rt),
            "order-insensitive"
        );
        let mut members: Vec<&str> = s.split(' ').collect();
        members.sort_unstable();
        let mut canonical: Vec<&str> = rt.as_str().split(' ').collect();
        canonical.sort_unstable();
        assert_eq!(members, canonical, "exactly the canonical members");
        let json = serde_json::to_string(&rt).expect("serialises");
        assert_eq!(serde_json::from_str::<ResponseType>(&json).ok(), Some(rt));
    }

    if let Ok(scope) = Scope::parse(s) {
        let rendered = scope.to_string();
        assert_eq!(Scope::parse(&rendered).as_ref(), Ok(&scope), "round trip");
        assert_eq!(
            Scope::parse(&reversed(s)).as_ref(),
            Ok(&scope),
            "order-insensitive"
        );
        let tokens: Vec<&str> = scope.iter().collect();
        assert!(
            tokens.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        assert!(s.split(' ').all(|t| scope.contains(t)), "every token kept");
        assert!(
            tokens.iter().all(|t| s.split(' ').any(|u| u == *t)),
            "no token invented"
        );
        let json = serde_json::to_string(&scope).expect("serialises");
        assert_eq!(
            serde_json::from_str::<Scope>(&json).ok().as_ref(),
            Some(&scope)
        );
        assert!(scope.is_subset_of(&scope));
        assert_eq!(scope.intersection(&scope), scope);
    }

    match Prompt::parse(s) {
        Ok(prompt) => {
            assert!(!(prompt.none && (prompt.login || prompt.consent || prompt.select_account)));
            assert_eq!(Prompt::parse(&render_prompt(prompt)), Ok(prompt));
            assert_eq!(Prompt::parse(&reversed(s)), Ok(prompt));
        }
        Err(_) => assert!(Prompt::parse(&reversed(s)).is_err()),
    }

    if let Ok(mode) = ResponseMode::parse(s) {
        assert_eq!(mode.as_str(), s);
    }

    if let Ok(challenge) = CodeChallenge::parse(s, Some("S256"), false) {
        assert_eq!(challenge.value().len(), 43);
    }
    if let Ok(challenge) = CodeChallenge::parse(s, Some("plain"), true) {
        assert!((43..=128).contains(&challenge.value().len()));
    }
    assert!(
        CodeChallenge::parse(s, None, false).is_err(),
        "no implicit plain"
    );

    // A `code_verifier` against a fixed challenge (RFC 7636 Appendix B): only the one verifier.
    let challenge = CodeChallenge::parse(RFC7636_CHALLENGE, Some("S256"), false)
        .expect("the RFC 7636 challenge");
    let verifier = CodeVerifier::parse(s);
    if pkce::verify(Some(&challenge), Some(verifier.as_ref().map_err(|r| *r))).is_ok() {
        assert_eq!(s, RFC7636_VERIFIER);
    }
    assert_eq!(verifier.is_ok(), pkce::is_verifier_syntax(s));
    if pkce::is_verifier_syntax(s) {
        assert!((43..=128).contains(&s.len()));
    }

    if let Ok(params) = Params::parse(s) {
        assert!(params.len() <= MAX_PARAMS);
        let pairs: Vec<(String, String)> = params
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        for (name, value) in &pairs {
            assert!(!name.is_empty() && !value.is_empty());
            assert!(value.len() <= MAX_VALUE_LEN);
        }
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &pairs {
            serializer.append_pair(name, value);
        }
        let encoded = serializer.finish();
        if let Ok(again) = Params::parse(&encoded) {
            let again: Vec<(String, String)> = again
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            assert_eq!(again, pairs, "re-encoded parameters parse back");
        }
        let from_pairs = Params::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        if let Ok(from_pairs) = from_pairs {
            assert_eq!(from_pairs.len(), params.len());
        }
    }
});
