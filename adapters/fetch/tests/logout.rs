//! Back-channel logout delivery over real HTTPS: a TLS server on 127.0.0.1 with a certificate
//! made for the test, recording each POST (path, content type, body) and answering by path
//! (`/ok` 200, `/flaky` 503 then 200, `/refuse` 400, `/down` 503 always). Back-Channel Logout
//! 1.0 §2.5: `logout_token` in a form body; the sender retries with backoff, never blocks.
#![allow(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "a std test crate"
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oidc_hybrid::{LogoutSender, SendError};
use oidc_hybrid_fetch::{Guard, GuardedLogoutSender, RetryPolicy};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// One received POST: path, `Content-Type`, body.
type Post = (String, String, String);

struct Receiver {
    addr: SocketAddr,
    certificate: Vec<u8>,
    posts: Arc<Mutex<Vec<Post>>>,
}

impl Receiver {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    fn posts(&self, path: &str) -> Vec<Post> {
        let posts = self.posts.lock().expect("lock");
        posts.iter().filter(|p| p.0 == path).cloned().collect()
    }

    async fn wait_for(&self, path: &str, n: usize) -> Vec<Post> {
        let start = Instant::now();
        while self.posts(path).len() < n && start.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.posts(path)
    }

    fn sender(&self, policy: RetryPolicy) -> GuardedLogoutSender {
        let guard = Guard::new()
            .dangerously_allow_loopback()
            .with_root_certificate(&self.certificate)
            .expect("a DER certificate");
        GuardedLogoutSender::with_retry_policy(guard, policy).expect("client")
    }
}

fn status_for(path: &str, earlier: usize) -> &'static str {
    match path {
        "/ok" => "200 OK",
        "/flaky" if earlier > 0 => "200 OK",
        "/refuse" => "400 Bad Request",
        _ => "503 Service Unavailable",
    }
}

async fn start() -> Receiver {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("a certificate");
    let certificate = certified.cert.der().to_vec();
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
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
    let posts = Arc::new(Mutex::new(Vec::new()));
    let receiver = Receiver {
        addr,
        certificate,
        posts: Arc::clone(&posts),
    };
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, posts) = (acceptor.clone(), Arc::clone(&posts));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                // The head, then the body of its Content-Length.
                loop {
                    let text = String::from_utf8_lossy(&data).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&data).into_owned();
                let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let content_type = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-type:")
                            .map(|v| v.trim().to_owned())
                    })
                    .unwrap_or_default();
                let earlier = {
                    let mut posts = posts.lock().expect("lock");
                    let earlier = posts.iter().filter(|p: &&Post| p.0 == path).count();
                    posts.push((path.clone(), content_type, body.to_owned()));
                    earlier
                };
                let status = status_for(&path, earlier);
                let response =
                    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    receiver
}

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzaWQiOiJzIn0.c2lnbmF0dXJl";

#[tokio::test]
async fn delivers_the_logout_token_as_a_form_post() {
    let receiver = start().await;
    let sender = receiver.sender(RetryPolicy::default());
    sender
        .send(&receiver.url("/ok"), TOKEN.into())
        .await
        .expect("queued");
    let posts = receiver.wait_for("/ok", 1).await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].1, "application/x-www-form-urlencoded");
    assert_eq!(posts[0].2, format!("logout_token={TOKEN}"));
}

#[tokio::test]
async fn retries_failures_with_backoff_and_never_a_refusal() {
    let receiver = start().await;
    let sender = receiver.sender(RetryPolicy::new(3, Duration::from_millis(100)));
    let started = Instant::now();
    for path in ["/flaky", "/refuse", "/down"] {
        sender
            .send(&receiver.url(path), TOKEN.into())
            .await
            .expect("queued");
    }
    // `send` only queues: it returned before any retry could have waited.
    assert!(started.elapsed() < Duration::from_millis(100));
    assert_eq!(
        receiver.wait_for("/flaky", 2).await.len(),
        2,
        "503, then delivered"
    );
    // 503 three times: three attempts in all (after 100 ms, then 200 ms), then given up.
    assert_eq!(receiver.wait_for("/down", 3).await.len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "backoff doubled"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.posts("/down").len(), 3, "bounded");
    assert_eq!(
        receiver.posts("/refuse").len(),
        1,
        "a refusal is not retried"
    );
    assert_eq!(receiver.posts("/flaky").len(), 2);
}

#[tokio::test]
async fn refuses_what_the_guard_refuses() {
    let receiver = start().await;
    let sender = receiver.sender(RetryPolicy::default());
    for uri in [
        "http://127.0.0.1/bc".to_owned(),
        "https://10.0.0.1/bc".to_owned(),
        "https://169.254.169.254/latest".to_owned(),
        "https://user:pw@rp.example/bc".to_owned(),
        "not a url".to_owned(),
    ] {
        assert_eq!(
            sender.send(&uri, TOKEN.into()).await,
            Err(SendError::Refused),
            "{uri}"
        );
    }
    // Loopback only where the guard opts in to it.
    let strict = GuardedLogoutSender::new(Guard::new()).expect("client");
    let result = strict.send(&receiver.url("/ok"), TOKEN.into()).await;
    assert_eq!(result, Err(SendError::Refused));
}
