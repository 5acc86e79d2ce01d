//! Redirect URI registration and matching: `registered` `\n` `requested`.
//!
//! Invariants: `RedirectUri::parse` enforces its documented rules; `matches(req, false)` is
//! exact string equality; with the loopback rule, scheme, host and path (with query) are equal
//! and only the port may differ; `Client::match_redirect_uri` follows the same rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_hybrid::value::MAX_REDIRECT_URI_LEN;
use oidc_hybrid::{ApplicationType, Client, ClientMetadata, RedirectUri, TokenEndpointAuthMethod};

/// Splits an http(s) URI into (scheme, host, path-and-query), independently of the crate.
fn components(uri: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = uri.split_once("://")?;
    let (host, after_host) = if rest.starts_with('[') {
        let end = rest.find(']')? + 1;
        rest.split_at(end)
    } else {
        let end = rest.find([':', '/', '?']).unwrap_or(rest.len());
        rest.split_at(end)
    };
    let path_start = after_host.find(['/', '?']).unwrap_or(after_host.len());
    Some((scheme, host, &after_host[path_start..]))
}

fn check_match(registered: &RedirectUri, requested: &str, loopback: bool) {
    if !registered.matches(requested, loopback) {
        return;
    }
    if !loopback {
        assert_eq!(registered.as_str(), requested, "exact match only");
        return;
    }
    if registered.as_str() == requested {
        return;
    }
    let (a, b) = (
        components(registered.as_str()).expect("a loopback URI has components"),
        components(requested).expect("a loopback URI has components"),
    );
    assert_eq!(a.0, "http", "loopback matching is for http only");
    assert_eq!(a, b, "only the port may differ");
    assert!(
        ["127.0.0.1", "[::1]"].contains(&a.1),
        "loopback IP literal only"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (registered, requested) = input.split_once('\n').unwrap_or((input, input));
    let Ok(uri) = RedirectUri::parse(registered) else {
        return;
    };
    assert_eq!(uri.as_str(), registered);
    assert!(registered.len() <= MAX_REDIRECT_URI_LEN);
    assert!(!registered.contains('#'));
    assert!(registered.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if let Some((_, query)) = registered.split_once('?') {
        for pair in query.split('&') {
            let name = pair.split('=').next().unwrap_or_default();
            assert!(!["code", "state", "id_token", "access_token", "error", "iss"].contains(&name));
        }
    }
    assert!(uri.matches(registered, false) && uri.matches(registered, true));
    check_match(&uri, requested, false);
    check_match(&uri, requested, true);
    let serde_round: Option<RedirectUri> = serde_json::to_string(&uri)
        .ok()
        .and_then(|j| serde_json::from_str(&j).ok());
    assert_eq!(serde_round.as_ref(), Some(&uri));

    for application_type in [ApplicationType::Web, ApplicationType::Native] {
        let metadata = ClientMetadata {
            client_id: "c".into(),
            redirect_uris: vec![registered.into()],
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
            application_type,
            ..ClientMetadata::default()
        };
        let Ok(client) = Client::register(metadata) else {
            continue;
        };
        assert!(client.match_redirect_uri(registered).is_some());
        if let Some(matched) = client.match_redirect_uri(requested) {
            assert_eq!(matched, requested, "the response goes to the requested URI");
            check_match(&uri, requested, client.is_native());
        }
        if application_type == ApplicationType::Web {
            let lower = registered.to_ascii_lowercase();
            assert!(
                lower.starts_with("https://") || lower.starts_with("http://"),
                "web clients register http(s) only"
            );
        }
    }
});
