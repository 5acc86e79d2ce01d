//! Mutual TLS over loopback: a CA, a server certificate and client certificates made with
//! rcgen for each test, a server whose handler answers the `ClientCertificate` of the request
//! as JSON, and a reqwest client presenting (or not) a client certificate.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;

use axum::Extension;
use axum::Router;
use axum::routing::get;
use base64ct::{Base64UrlUnpadded, Encoding as _};
use oidc_hybrid_axum::Timeouts;
use oidc_hybrid_tls::{ClientCertificate, ClientCertificates, TlsServer, serve_tls};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpListener;

/// A CA that signs certificates for the test.
fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

/// A certificate and its key, signed by `ca` (self-signed without one).
struct Leaf {
    der: CertificateDer<'static>,
    pem: String,
    key: KeyPair,
}

impl Leaf {
    fn new(params: &CertificateParams, ca: Option<&CertifiedIssuer<'static, KeyPair>>) -> Self {
        let key = KeyPair::generate().expect("key");
        let certificate = match ca {
            Some(ca) => params.signed_by(&key, ca).expect("signed"),
            None => params.self_signed(&key).expect("self-signed"),
        };
        Self {
            der: certificate.der().clone(),
            pem: certificate.pem(),
            key,
        }
    }

    fn identity(&self) -> reqwest::Identity {
        let pem = format!("{}{}", self.pem, self.key.serialize_pem());
        reqwest::Identity::from_pem(pem.as_bytes()).expect("identity")
    }

    fn thumbprint(&self) -> String {
        Base64UrlUnpadded::encode_string(&Sha256::digest(self.der.as_ref()))
    }
}

/// A client certificate with a subject of three attributes (one needing escapes) and a SAN of
/// each kind.
fn client_params() -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    // In this order in the DER (rcgen's default subject has a CN of its own).
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "DE");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Example Bank");
    params
        .distinguished_name
        .push(DnType::CommonName, "client, one");
    params.subject_alt_names = vec![
        SanType::DnsName("client.example.com".try_into().expect("dns")),
        SanType::URI("https://client.example.com/app".try_into().expect("uri")),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))),
        SanType::Rfc822Name("ops@client.example.com".try_into().expect("email")),
    ];
    params
}

/// The subject DN of [`client_params`] in RFC 4514 form: last RDN first.
const CLIENT_DN: &str = "CN=client\\, one,O=Example Bank,C=DE";

/// The certificate the handler saw, as JSON (`null` for none).
async fn echo(certificate: Option<Extension<ClientCertificate>>) -> String {
    let Some(Extension(c)) = certificate else {
        return Value::Null.to_string();
    };
    json!({
        "x5t_s256": c.x5t_s256,
        "subject_dn": c.subject_dn,
        "san_dns": c.san_dns,
        "san_uri": c.san_uri,
        "san_ip": c.san_ip,
        "san_email": c.san_email,
    })
    .to_string()
}

/// A running server and what a client needs to trust it.
struct Server {
    addr: SocketAddr,
    root: reqwest::Certificate,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(clients: ClientCertificates) -> Server {
    start_with(clients, Duration::from_secs(10)).await
}

async fn start_with(clients: ClientCertificates, handshake: Duration) -> Server {
    let server_ca = authority("Server CA");
    let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("params");
    let leaf = Leaf::new(&params, Some(&server_ca));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.serialize_der()));
    let tls = TlsServer::new(vec![leaf.der.clone()], key, clients)
        .expect("TLS configuration")
        .with_handshake_timeout(handshake);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = Router::new().route("/", get(echo));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_tls(listener, app, tls, Timeouts::default(), async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        root: reqwest::Certificate::from_der(server_ca.der()).expect("root"),
        _stop: stop,
    }
}

/// What the handler saw for a request with `identity` (`Err` if the request failed).
async fn seen(
    server: &Server,
    identity: Option<reqwest::Identity>,
) -> Result<Value, reqwest::Error> {
    let mut client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(server.root.clone())
        .timeout(Duration::from_secs(10));
    if let Some(identity) = identity {
        client = client.identity(identity);
    }
    let client = client.build().expect("client");
    let url = format!("https://localhost:{}/", server.addr.port());
    let body = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    Ok(serde_json::from_str(&body).expect("JSON"))
}

fn client_roots(ca: &CertifiedIssuer<'static, KeyPair>) -> ClientCertificates {
    ClientCertificates::default().with_roots([ca.der().clone()])
}

#[tokio::test]
async fn without_a_client_certificate_the_handler_sees_none() {
    let client_ca = authority("Client CA");
    let server = start(client_roots(&client_ca)).await;
    assert_eq!(seen(&server, None).await.expect("served"), Value::Null);
}

#[tokio::test]
async fn a_certificate_from_the_client_ca_comes_with_its_thumbprint_and_names() {
    let client_ca = authority("Client CA");
    let server = start(client_roots(&client_ca)).await;
    let leaf = Leaf::new(&client_params(), Some(&client_ca));
    let seen = seen(&server, Some(leaf.identity())).await.expect("served");
    assert_eq!(
        seen,
        json!({
            "x5t_s256": leaf.thumbprint(),
            "subject_dn": CLIENT_DN,
            "san_dns": ["client.example.com"],
            "san_uri": ["https://client.example.com/app"],
            "san_ip": ["192.0.2.7", "2001:db8::1"],
            "san_email": ["ops@client.example.com"],
        })
    );
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_in_the_handshake() {
    let client_ca = authority("Client CA");
    let server = start(client_roots(&client_ca)).await;
    let other = Leaf::new(&client_params(), Some(&authority("Other CA")));
    assert!(seen(&server, Some(other.identity())).await.is_err());
    let own = Leaf::new(&client_params(), None);
    assert!(seen(&server, Some(own.identity())).await.is_err());
    // The server goes on serving.
    assert_eq!(seen(&server, None).await.expect("served"), Value::Null);
}

#[tokio::test]
async fn self_signed_certificates_are_accepted_by_thumbprint_only_when_allowed() {
    let server = start(ClientCertificates::default().with_self_signed(true)).await;
    let own = Leaf::new(&client_params(), None);
    let seen_own = seen(&server, Some(own.identity())).await.expect("served");
    // No names: a self-made certificate could claim any (RFC 8705 §2.2 matches thumbprints).
    assert_eq!(
        seen_own,
        json!({
            "x5t_s256": own.thumbprint(),
            "subject_dn": null,
            "san_dns": [],
            "san_uri": [],
            "san_ip": [],
            "san_email": [],
        })
    );
    assert_eq!(seen(&server, None).await.expect("served"), Value::Null);
}

#[tokio::test]
async fn with_roots_and_self_signed_only_chained_certificates_carry_names() {
    let client_ca = authority("Client CA");
    let server = start(client_roots(&client_ca).with_self_signed(true)).await;
    let chained = Leaf::new(&client_params(), Some(&client_ca));
    let seen_chained = seen(&server, Some(chained.identity()))
        .await
        .expect("served");
    assert_eq!(seen_chained["x5t_s256"], chained.thumbprint());
    assert_eq!(seen_chained["subject_dn"], CLIENT_DN);
    assert_eq!(seen_chained["san_dns"], json!(["client.example.com"]));
    for leaf in [
        Leaf::new(&client_params(), None),
        Leaf::new(&client_params(), Some(&authority("Other CA"))),
    ] {
        let seen = seen(&server, Some(leaf.identity())).await.expect("served");
        assert_eq!(seen["x5t_s256"], leaf.thumbprint());
        assert_eq!(seen["subject_dn"], Value::Null);
        assert_eq!(seen["san_dns"], json!([]));
    }
}

#[tokio::test]
async fn without_a_policy_no_certificate_is_asked_for() {
    let server = start(ClientCertificates::default()).await;
    let leaf = Leaf::new(&client_params(), Some(&authority("Client CA")));
    assert_eq!(
        seen(&server, Some(leaf.identity())).await.expect("served"),
        Value::Null
    );
}

#[tokio::test]
async fn a_silent_client_is_cut_off_after_the_handshake_timeout() {
    let server = start_with(ClientCertificates::default(), Duration::from_millis(200)).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connects");
    let mut buffer = [0; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .expect("closed before 5 s");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}

#[test]
fn the_helper_reads_a_certificate_as_the_server_does() {
    let leaf = Leaf::new(&client_params(), Some(&authority("Client CA")));
    let certificate = oidc_hybrid_tls::client_certificate(&leaf.der).expect("parses");
    assert_eq!(certificate.x5t_s256, leaf.thumbprint());
    assert_eq!(certificate.subject_dn.as_deref(), Some(CLIENT_DN));
    assert_eq!(certificate.san_ip, ["192.0.2.7", "2001:db8::1"]);
    assert_eq!(certificate.san_email, ["ops@client.example.com"]);
    let mut trailing = leaf.der.to_vec();
    trailing.push(0);
    assert!(oidc_hybrid_tls::client_certificate(&trailing).is_err());
}
