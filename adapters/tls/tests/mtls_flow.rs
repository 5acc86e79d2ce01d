//! A certificate-bound `code id_token` flow over real mutual TLS (RFC 8705): the provider
//! behind the axum router served by `serve_tls`, a `tls_client_auth` client that authenticates
//! at the token endpoint by its CA-issued certificate's DNS name, an access token bound to
//! the certificate (`cnf.x5t#S256`) that UserInfo takes only over a connection with that
//! certificate; a `self_signed_tls_client_auth` client registered by its certificate in `x5c`.

extern crate alloc;

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::time::Duration;
use std::collections::HashMap;

use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use oidc_hybrid::{
    BoundRequest, Claims, ClaimsSource, Client, Config, Consent, Provider, Signer, Step, Subject,
    SystemClock,
};
use oidc_hybrid_axum::{Authentication, Endpoints, Host, Timeouts};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::{Es256Signer, OsRandom};
use oidc_hybrid_tls::{ClientCertificates, TlsServer, serve_tls};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;

const REDIRECT_URI: &str = "https://rp.example/cb";

/// A host whose user is always logged in and has consented.
#[derive(Clone, Default)]
struct AutoHost;

impl ClaimsSource for AutoHost {
    type Error = core::convert::Infallible;
    async fn claims(&self, subject: &Subject) -> Result<Option<Claims>, Self::Error> {
        let mut claims = Claims::new();
        claims.insert("name".into(), format!("User {subject}").into());
        Ok(Some(claims))
    }
}

impl Host for AutoHost {
    async fn authentication(&self, _: &Parts) -> Option<Authentication> {
        let now = oidc_hybrid::Clock::now(&SystemClock);
        Some(Authentication::new(
            Subject::new("carol").expect("subject"),
            now,
        ))
    }

    async fn consent(&self, _: &Authentication, _: &BoundRequest) -> Consent {
        Consent::Remembered
    }

    async fn interact(&self, _: BoundRequest, _: Step, _: &Parts) -> Response {
        (axum::http::StatusCode::FORBIDDEN, "no interaction here").into_response()
    }
}

fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

/// A client certificate (DER, identity for reqwest) for subject `cn`, signed by `ca` or
/// self-signed.
fn client_cert(
    cn: &str,
    ca: Option<&CertifiedIssuer<'static, KeyPair>>,
) -> (CertificateDer<'static>, reqwest::Identity) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Example Bank");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.subject_alt_names = vec![SanType::DnsName(cn.try_into().expect("dns"))];
    let key = KeyPair::generate().expect("key");
    let cert = match ca {
        Some(ca) => params.signed_by(&key, ca).expect("signed"),
        None => params.self_signed(&key).expect("self-signed"),
    };
    let pem = format!("{}{}", cert.pem(), key.serialize_pem());
    let identity = reqwest::Identity::from_pem(pem.as_bytes()).expect("identity");
    (cert.der().clone(), identity)
}

struct Op {
    base: String,
    root: reqwest::Certificate,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The provider over mutual TLS, accepting certificates of `client_ca` and self-signed ones.
async fn start(client_ca: &CertifiedIssuer<'static, KeyPair>, self_signed_der: &[u8]) -> Op {
    let server_ca = authority("Server CA");
    let params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let key = KeyPair::generate().expect("key");
    let leaf = params
        .signed_by(&key, &server_ca)
        .expect("server certificate");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    let base = format!("https://localhost:{}", addr.port());
    let mut config = Config::new(&base).expect("config");
    config.mutual_tls = true;
    let clients = [
        json!({
            "client_id": "pki", "redirect_uris": [REDIRECT_URI],
            "response_types": ["code id_token"],
            "grant_types": ["authorization_code", "implicit"],
            "id_token_signed_response_alg": "ES256",
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_san_dns": "pki.rp.example",
            "tls_client_certificate_bound_access_tokens": true,
        }),
        json!({
            "client_id": "self", "redirect_uris": [REDIRECT_URI],
            "response_types": ["code id_token"],
            "grant_types": ["authorization_code", "implicit"],
            "id_token_signed_response_alg": "ES256",
            "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "tls_client_certificate_bound_access_tokens": true,
            "jwks": {"keys": [{"kty": "EC", "crv": "P-256",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
                "x5c": [Base64::encode_string(self_signed_der)]}]},
        }),
    ]
    .map(|m| Client::register(serde_json::from_value(m).expect("metadata")).expect("client"));
    let signer = Es256Signer::generate(&OsRandom, Some("es")).expect("key");
    config.rs256 = oidc_hybrid::Rs256Policy::WaiveNonConforming;
    let keys: Vec<Box<dyn Signer>> = vec![Box::new(signer)];
    let store = MemoryStore::with_clients(clients);
    let provider = Provider::new(config, store, keys, SystemClock, OsRandom).expect("provider");
    let app = Endpoints::new(Arc::new(provider), AutoHost).router();
    let tls = TlsServer::new(
        vec![leaf.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        ClientCertificates::default()
            .with_roots([client_ca.der().clone()])
            .with_self_signed(true),
    )
    .expect("TLS");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_tls(listener, app, tls, Timeouts::default(), async {
        let _ = stopped.await;
    }));
    Op {
        base,
        root: reqwest::Certificate::from_der(server_ca.der()).expect("root"),
        _stop: stop,
    }
}

fn http(op: &Op, identity: Option<reqwest::Identity>) -> reqwest::Client {
    let mut client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(op.root.clone())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10));
    if let Some(identity) = identity {
        client = client.identity(identity);
    }
    client.build().expect("client")
}

/// Authorizes `client_id` (`code id_token`) and returns the code.
async fn code(op: &Op, client_id: &str) -> String {
    let url = format!(
        "{}/authorize?response_type=code%20id_token&client_id={client_id}&redirect_uri={}\
         &scope=openid&nonce=n-1&state=s-1",
        op.base,
        form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    );
    let response = http(op, None).get(url).send().await.expect("authorize");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().expect("location");
    let fragment = location.split_once('#').expect("fragment").1;
    let params: HashMap<String, String> = form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect();
    params
        .get("code")
        .unwrap_or_else(|| panic!("{location}"))
        .clone()
}

async fn token(op: &Op, client: &reqwest::Client, client_id: &str, code: &str) -> (u16, Value) {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("client_id", client_id)
        .finish();
    let response = client
        .post(format!("{}/token", op.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

async fn userinfo(op: &Op, client: &reqwest::Client, access_token: &str) -> u16 {
    let response = client
        .get(format!("{}/userinfo", op.base))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo");
    response.status().as_u16()
}

fn thumbprint(der: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(der))
}

#[tokio::test]
async fn a_certificate_bound_flow_over_mutual_tls() {
    let client_ca = authority("Client CA");
    let (self_der, self_identity) = client_cert("self.rp.example", None);
    let op = start(&client_ca, &self_der).await;
    let (pki_der, pki_identity) = client_cert("pki.rp.example", Some(&client_ca));
    let (_, other_identity) = client_cert("other.rp.example", Some(&client_ca));
    let with_cert = http(&op, Some(pki_identity));

    // Discovery says what is offered (RFC 8705 §3.3).
    let doc: Value = http(&op, None)
        .get(format!("{}/.well-known/openid-configuration", op.base))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("JSON");
    assert_eq!(doc["tls_client_certificate_bound_access_tokens"], true);

    // tls_client_auth: no certificate, or another subject: invalid_client.
    let code1 = code(&op, "pki").await;
    let (status, error) = token(&op, &http(&op, None), "pki", &code1).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_client"))
    );
    let code2 = code(&op, "pki").await;
    let (status, _) = token(&op, &http(&op, Some(other_identity)), "pki", &code2).await;
    assert_eq!(status, 400);

    // With its certificate: tokens bound to it.
    let code3 = code(&op, "pki").await;
    let (status, tokens) = token(&op, &with_cert, "pki", &code3).await;
    assert_eq!(status, 200, "{tokens}");
    let at = tokens["access_token"].as_str().expect("access token");
    assert_eq!(userinfo(&op, &with_cert, at).await, 200);
    // The same token over a connection without the certificate, or with another one: 401.
    assert_eq!(userinfo(&op, &http(&op, None), at).await, 401);
    let (_, another) = client_cert("pki.rp.example", Some(&client_ca));
    assert_eq!(userinfo(&op, &http(&op, Some(another)), at).await, 401);
    assert!(!thumbprint(&pki_der).is_empty());

    // self_signed_tls_client_auth: the certificate registered in x5c.
    let code4 = code(&op, "self").await;
    let self_client = http(&op, Some(self_identity));
    let (status, tokens) = token(&op, &self_client, "self", &code4).await;
    assert_eq!(status, 200, "{tokens}");
    let at = tokens["access_token"].as_str().expect("access token");
    assert_eq!(userinfo(&op, &self_client, at).await, 200);
    assert_eq!(userinfo(&op, &with_cert, at).await, 401);
}
