//! The fetcher over real HTTPS: a TLS server on 127.0.0.1 with a certificate made for the test
//! (the fetcher trusts it through `Guard::with_root_certificate`), answering by path, counting
//! the requests each path received.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "a std test crate"
)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oidc_hybrid::{FetchError, JwksFetcher};
use oidc_hybrid_fetch::{CachePolicy, Guard, GuardedFetcher};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const EC_KEY: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0""#;

/// The test server: its address, its certificate, the requests by path, the `kid` it serves
/// at `/rotating`.
struct Server {
    addr: SocketAddr,
    certificate: Vec<u8>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    kid: Arc<Mutex<String>>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// A fetcher that may reach loopback and trusts the server's certificate.
    fn dev_guard(&self) -> Guard {
        Guard::new()
            .dangerously_allow_loopback()
            .with_root_certificate(&self.certificate)
            .expect("a DER certificate")
    }
}

fn jwks(kid: &str) -> String {
    format!(r#"{{"keys":[{EC_KEY},"kid":"{kid}"}}]}}"#)
}

/// The answer for `path`: status line, extra headers, body.
fn answer(path: &str, kid: &str, port: u16) -> (String, String, String) {
    let ok = "200 OK".to_owned();
    match path {
        "/jwks" => (ok, "Cache-Control: max-age=600\r\n".into(), jwks("k1")),
        "/rotating" => (ok, String::new(), jwks(kid)),
        "/redirect" => (
            "302 Found".into(),
            format!("Location: https://127.0.0.1:{port}/jwks\r\n"),
            String::new(),
        ),
        "/big" => (ok, String::new(), jwks("k1") + &" ".repeat(70_000)),
        "/private" => (
            ok,
            String::new(),
            format!(r#"{{"keys":[{EC_KEY},"d":"c2VjcmV0"}}]}}"#),
        ),
        "/not-jwks" => (ok, String::new(), "{}".into()),
        _ => ("404 Not Found".into(), String::new(), String::new()),
    }
}

async fn start() -> Server {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("a certificate");
    let certificate = certified.cert.der().to_vec();
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    // ring is the only crypto provider built in: it is the process default.
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(certificate.clone())],
            PrivateKeyDer::Pkcs8(key),
        )
        .expect("TLS config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(Mutex::new(HashMap::new()));
    let kid = Arc::new(Mutex::new("k1".to_owned()));
    let server = Server {
        addr,
        certificate,
        hits: Arc::clone(&hits),
        kid: Arc::clone(&kid),
    };
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, hits, kid) = (acceptor.clone(), Arc::clone(&hits), Arc::clone(&kid));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                *hits.lock().expect("lock").entry(path.clone()).or_default() += 1;
                if path == "/slow" {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                let kid = kid.lock().expect("lock").clone();
                let (status, headers, body) = answer(&path, &kid, addr.port());
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    server
}

#[tokio::test]
async fn fetches_caches_and_fetches_again_for_a_new_kid_at_most_once_per_interval() {
    let server = start().await;
    let mut policy = CachePolicy::default();
    policy.refetch_interval = Duration::from_millis(300);
    let fetcher = GuardedFetcher::with_cache_policy(server.dev_guard(), policy).expect("client");
    let uri = server.url("/rotating");
    let set = fetcher.fetch(&uri, None).await.expect("fetched");
    assert!(set.has_kid("k1"));
    assert_eq!(server.hits("/rotating"), 1);
    // Cached: the same kid, or no kid, costs no request.
    fetcher.fetch(&uri, Some("k1")).await.expect("cached");
    fetcher.fetch(&uri, None).await.expect("cached");
    assert_eq!(server.hits("/rotating"), 1);
    // The client rotates its key. Within the interval the cached set is answered.
    *server.kid.lock().expect("lock") = "k2".into();
    let set = fetcher.fetch(&uri, Some("k2")).await.expect("cached");
    assert!(!set.has_kid("k2"));
    assert_eq!(server.hits("/rotating"), 1);
    // After it, one request finds the new key, which is then cached.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let set = fetcher
        .fetch(&uri, Some("k2"))
        .await
        .expect("fetched again");
    assert!(set.has_kid("k2"));
    fetcher.fetch(&uri, Some("k2")).await.expect("cached");
    assert_eq!(server.hits("/rotating"), 2);
    // A kid nobody has: at most one request per interval, however many lookups.
    tokio::time::sleep(Duration::from_millis(350)).await;
    for _ in 0..5 {
        let set = fetcher.fetch(&uri, Some("k9")).await.expect("a set");
        assert!(!set.has_kid("k9"));
    }
    assert_eq!(server.hits("/rotating"), 3);
}

#[tokio::test]
async fn the_strict_guard_never_connects_to_loopback() {
    let server = start().await;
    let strict = Guard::new()
        .with_root_certificate(&server.certificate)
        .expect("a DER certificate");
    let fetcher = GuardedFetcher::new(strict).expect("client");
    for uri in [
        server.url("/jwks"),
        format!("https://localhost:{}/jwks", server.addr.port()),
        format!("https://[::ffff:127.0.0.1]:{}/jwks", server.addr.port()),
    ] {
        assert_eq!(
            fetcher.fetch(&uri, None).await.err(),
            Some(FetchError::Refused),
            "{uri}"
        );
    }
    assert_eq!(server.hits("/jwks"), 0);
    // The same server is reachable once loopback is (dangerously) allowed.
    let dev = GuardedFetcher::new(server.dev_guard()).expect("client");
    let via_name = format!("https://localhost:{}/jwks", server.addr.port());
    dev.fetch(&via_name, None).await.expect("fetched");
    assert_eq!(server.hits("/jwks"), 1);
}

#[tokio::test]
async fn only_https() {
    let server = start().await;
    let fetcher = GuardedFetcher::new(server.dev_guard()).expect("client");
    let http = format!("http://127.0.0.1:{}/jwks", server.addr.port());
    assert_eq!(
        fetcher.fetch(&http, None).await.err(),
        Some(FetchError::Refused)
    );
    assert_eq!(server.hits("/jwks"), 0);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = start().await;
    let fetcher = GuardedFetcher::new(server.dev_guard()).expect("client");
    assert_eq!(
        fetcher.fetch(&server.url("/redirect"), None).await.err(),
        Some(FetchError::Unavailable)
    );
    assert_eq!(server.hits("/redirect"), 1);
    assert_eq!(server.hits("/jwks"), 0);
}

#[tokio::test]
async fn bodies_over_the_cap_and_bad_sets_are_invalid() {
    let server = start().await;
    let fetcher = GuardedFetcher::new(server.dev_guard()).expect("client");
    for path in ["/big", "/private", "/not-jwks"] {
        assert_eq!(
            fetcher.fetch(&server.url(path), None).await.err(),
            Some(FetchError::Invalid),
            "{path}"
        );
    }
    assert_eq!(
        fetcher.fetch(&server.url("/missing"), None).await.err(),
        Some(FetchError::Unavailable)
    );
}

#[tokio::test]
async fn slow_servers_time_out() {
    let server = start().await;
    let guard = server
        .dev_guard()
        .with_timeouts(Duration::from_millis(500), Duration::from_millis(500));
    let fetcher = GuardedFetcher::new(guard).expect("client");
    let started = Instant::now();
    assert_eq!(
        fetcher.fetch(&server.url("/slow"), None).await.err(),
        Some(FetchError::Unavailable)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn an_untrusted_certificate_is_unavailable() {
    let server = start().await;
    let guard = Guard::new().dangerously_allow_loopback();
    let fetcher = GuardedFetcher::new(guard).expect("client");
    assert_eq!(
        fetcher.fetch(&server.url("/jwks"), None).await.err(),
        Some(FetchError::Unavailable)
    );
}
