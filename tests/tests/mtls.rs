//! Mutual TLS (RFC 8705) through the provider: `tls_client_auth` by subject DN and by each SAN
//! kind, `self_signed_tls_client_auth` by the `x5c` certificates of the client's JWK set,
//! certificate-bound access tokens (`cnf.x5t#S256`) checked at UserInfo and shown by
//! introspection, and discovery. The host's TLS layer is represented by the
//! [`ClientCertificate`] it hands over (the TLS adapter's tests cover real handshakes).

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use oidc_hybrid::binding::{ClientCertificate, Presented};
use oidc_hybrid::{Client, Config, EndpointError, Params, Reject, TokenResponse};
use oidc_hybrid_tests::{
    Directory, Harness, ISSUER, REDIRECT_URI, SECRET, auth_pairs, basic, block_on, client, form,
    set_param,
};
use serde_json::{Value, json};
use sha2::Digest;

const DN: &str = "CN=rp.example,O=Example Bank,C=GB";

fn certificate(der: &[u8]) -> ClientCertificate {
    ClientCertificate::from_der(der)
}

fn pki_certificate() -> ClientCertificate {
    let mut cert = certificate(b"pki certificate DER");
    cert.subject_dn = Some("cn=rp.example, o=Example Bank, c=GB".into());
    cert.san_dns = vec!["RP.example".into()];
    cert.san_uri = vec!["https://rp.example/client".into()];
    cert.san_ip = vec!["::ffff:192.0.2.7".into(), "2001:db8::0:1".into()];
    cert.san_email = vec!["ops@rp.example".into()];
    cert
}

fn mtls_client(id: &str, extra: Value) -> Client {
    let mut metadata = json!({
        "client_id": id,
        "redirect_uris": [REDIRECT_URI],
        "response_types": ["code", "code id_token"],
        "grant_types": ["authorization_code", "implicit", "refresh_token"],
        "token_endpoint_auth_method": "tls_client_auth",
        "tls_client_certificate_bound_access_tokens": true,
    });
    for (name, value) in extra.as_object().expect("object") {
        metadata[name] = value.clone();
    }
    client(metadata)
}

fn self_signed_der() -> &'static [u8] {
    b"self-signed certificate DER"
}

fn clients() -> Vec<Client> {
    vec![
        mtls_client("dn", json!({"tls_client_auth_subject_dn": DN})),
        mtls_client("dns", json!({"tls_client_auth_san_dns": "rp.example"})),
        mtls_client(
            "uri",
            json!({"tls_client_auth_san_uri": "https://rp.example/client"}),
        ),
        mtls_client("ip", json!({"tls_client_auth_san_ip": "2001:db8::1"})),
        mtls_client(
            "email",
            json!({"tls_client_auth_san_email": "ops@rp.example"}),
        ),
        client(json!({
            "client_id": "self-signed",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "self_signed_tls_client_auth",
            "tls_client_certificate_bound_access_tokens": true,
            "jwks": {"keys": [{
                "kty": "EC", "crv": "P-256",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
                "x5c": [Base64::encode_string(self_signed_der())],
            }]},
        })),
    ]
}

fn harness() -> Harness {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.mutual_tls = true;
    Harness::with_clients(config, clients())
}

fn token(
    h: &Harness,
    body: &str,
    certificate: Option<&ClientCertificate>,
) -> Result<TokenResponse, EndpointError> {
    let params = Params::parse(body)?;
    let presented = Presented::new("POST").with_certificate(certificate);
    block_on(h.provider.token_with_claims(&Directory, &params, presented))
}

fn code(h: &Harness, client_id: &str) -> String {
    let mut pairs = auth_pairs("code", client_id);
    set_param(&mut pairs, "scope", Some("openid email"));
    h.issue(&pairs, "alice")["code"].clone()
}

fn redeem(
    h: &Harness,
    client_id: &str,
    certificate: Option<&ClientCertificate>,
) -> Result<TokenResponse, EndpointError> {
    let code = code(h, client_id);
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", client_id),
    ]);
    token(h, &body, certificate)
}

fn thumbprint(der: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&sha2::Sha256::digest(der))
}

/// `tls_client_auth` matches the registered subject DN or SAN (RFC 8705 §2.1.2): DNs compare
/// without case or spaces, DNS names without case, IP addresses as addresses.
#[test]
fn tls_client_auth_matches_each_kind_of_name() {
    let h = harness();
    let cert = pki_certificate();
    for id in ["dn", "dns", "uri", "ip", "email"] {
        let tokens = redeem(&h, id, Some(&cert)).unwrap_or_else(|e| panic!("{id}: {e:?}"));
        assert_eq!(tokens.token_type(), "Bearer", "{id}");
    }
    // Each name differing: refused.
    let mut other = pki_certificate();
    other.subject_dn = Some("CN=evil.example,O=Example Bank,C=GB".into());
    other.san_dns = vec!["rp.example.evil".into()];
    other.san_uri = vec!["https://rp.example/client/".into()];
    other.san_ip = vec!["2001:db8::2".into()];
    other.san_email = vec!["Ops@rp.example".into()];
    for id in ["dn", "dns", "uri", "ip", "email"] {
        let refused = redeem(&h, id, Some(&other)).expect_err(id);
        assert_eq!(
            refused.reject(),
            Reject::CertificateAuthenticationFailed,
            "{id}"
        );
        assert_eq!(refused.code().as_str(), "invalid_client", "{id}");
    }
    // No certificate at all.
    let refused = redeem(&h, "dn", None).expect_err("no certificate");
    assert_eq!(refused.reject(), Reject::CertificateAuthenticationFailed);
}

/// A certificate-bound access token (RFC 8705 §3): `cnf.x5t#S256` in the record, shown by
/// introspection; at UserInfo only with the same certificate.
#[test]
fn certificate_bound_tokens_need_their_certificate() {
    let h = harness();
    let cert = pki_certificate();
    let tokens = redeem(&h, "dn", Some(&cert)).expect("tokens");
    let at = tokens.access_token().to_owned();
    let userinfo = |certificate: Option<&ClientCertificate>| {
        let auth = format!("Bearer {at}");
        let presented = Presented::new("GET")
            .with_authorization(Some(&auth))
            .with_certificate(certificate);
        block_on(h.provider.userinfo(&Directory, presented, None))
    };
    assert_eq!(
        userinfo(Some(&cert)).expect("same certificate")["sub"],
        "alice"
    );
    let refused = userinfo(None).expect_err("no certificate");
    assert_eq!(refused.reject(), Reject::TokenBindingMismatch);
    assert_eq!(refused.status(), 401);
    let other = certificate(b"another certificate");
    let refused = userinfo(Some(&other)).expect_err("another certificate");
    assert_eq!(refused.reject(), Reject::TokenBindingMismatch);

    let resource_server = client(json!({
        "client_id": "api", "client_secret": SECRET,
        "redirect_uris": ["https://api.example/unused"],
        "resource_server_audiences": ["dn"],
    }));
    let mut config = Config::new(ISSUER).expect("issuer");
    config.mutual_tls = true;
    let mut clients = clients();
    clients.push(resource_server);
    let h2 = Harness::with_clients(config, clients);
    let tokens = redeem(&h2, "dn", Some(&cert)).expect("tokens");
    let answer = h2
        .introspect(
            &form(&[("token", tokens.access_token())]),
            Some(basic("api", SECRET).as_str()),
        )
        .expect("introspection");
    let answer: Value = serde_json::from_str(&answer.to_json()).expect("JSON");
    assert_eq!(
        answer["cnf"]["x5t#S256"],
        thumbprint(b"pki certificate DER")
    );
    assert_eq!(answer["token_type"], "Bearer");
}

/// `self_signed_tls_client_auth`: the certificate's thumbprint must be one of the `x5c`
/// certificates of the client's JWK set (RFC 8705 §2.2).
#[test]
fn self_signed_certificates_are_matched_by_the_jwk_set() {
    let h = harness();
    let own = certificate(self_signed_der());
    let tokens = redeem(&h, "self-signed", Some(&own)).expect("registered certificate");
    let at = tokens.access_token().to_owned();
    let auth = format!("Bearer {at}");
    let presented = Presented::new("GET")
        .with_authorization(Some(&auth))
        .with_certificate(Some(&own));
    block_on(h.provider.userinfo(&Directory, presented, None)).expect("bound to it");
    let refused = redeem(&h, "self-signed", Some(&pki_certificate())).expect_err("other");
    assert_eq!(refused.reject(), Reject::CertificateAuthenticationFailed);
}

/// A client whose tokens are certificate-bound cannot get tokens without its certificate, even
/// when it authenticates otherwise (RFC 8705 §3.4).
#[test]
fn bound_clients_without_a_certificate_are_refused() {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.mutual_tls = true;
    let secret_client = client(json!({
        "client_id": "secret-bound", "client_secret": SECRET,
        "redirect_uris": [REDIRECT_URI],
        "tls_client_certificate_bound_access_tokens": true,
    }));
    let h = Harness::with_clients(config, vec![secret_client]);
    let code = code(&h, "secret-bound");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT_URI),
    ]);
    let auth = basic("secret-bound", SECRET);
    let params = Params::parse(&body).expect("params");
    let refused = block_on(h.provider.token(&params, Some(auth.as_str()))).expect_err("refused");
    assert_eq!(refused.reject(), Reject::CertificateRequired);
    assert_eq!(refused.code().as_str(), "invalid_request");
}

/// Registration: `tls_client_auth` needs exactly one name (RFC 8705 §2.1.2); the self-signed
/// method needs a JWK set.
#[test]
fn registration_rules() {
    let register = |metadata: Value| {
        let metadata = serde_json::from_value(metadata).expect("metadata");
        Client::register(metadata).map(|_| ())
    };
    let base = json!({"client_id": "c", "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "tls_client_auth"});
    assert_eq!(
        register(base.clone()),
        Err(Reject::TlsClientAuthNameInvalid)
    );
    let mut two = base.clone();
    two["tls_client_auth_subject_dn"] = json!(DN);
    two["tls_client_auth_san_dns"] = json!("rp.example");
    assert_eq!(register(two), Err(Reject::TlsClientAuthNameInvalid));
    let mut secret = base;
    secret["tls_client_auth_subject_dn"] = json!(DN);
    secret["client_secret"] = json!(SECRET);
    assert_eq!(register(secret), Err(Reject::ClientSecretUnexpected));
    let self_signed = json!({"client_id": "c", "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "self_signed_tls_client_auth"});
    assert_eq!(register(self_signed), Err(Reject::JwksMissing));
    assert_eq!(
        Reject::TlsClientAuthNameInvalid.code().as_str(),
        "invalid_client_metadata"
    );
}

/// Discovery advertises mutual TLS only when the host passes certificates
/// ([`Config::mutual_tls`]), with the configured aliases (RFC 8705 §3.3, §5).
#[test]
fn discovery_advertises_mutual_tls_only_when_enabled() {
    let mut config = Config::new(ISSUER).expect("issuer");
    config.mutual_tls = true;
    config.mtls_endpoint_aliases = vec![(
        "token_endpoint".into(),
        "https://mtls.op.example/token".into(),
    )];
    let h = Harness::with_clients(config, Vec::new());
    let doc: Value = serde_json::from_str(&h.provider.discovery().to_json()).expect("JSON");
    assert_eq!(doc["tls_client_certificate_bound_access_tokens"], true);
    assert_eq!(
        doc["mtls_endpoint_aliases"]["token_endpoint"],
        "https://mtls.op.example/token"
    );
    let methods = doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .expect("methods");
    assert!(methods.contains(&json!("tls_client_auth")));
    assert!(methods.contains(&json!("self_signed_tls_client_auth")));
    let plain: Value =
        serde_json::from_str(&Harness::new().provider.discovery().to_json()).expect("JSON");
    assert!(
        plain
            .get("tls_client_certificate_bound_access_tokens")
            .is_none()
    );
    assert!(plain.get("mtls_endpoint_aliases").is_none());
    assert!(
        !plain["token_endpoint_auth_methods_supported"]
            .as_array()
            .expect("methods")
            .contains(&json!("tls_client_auth"))
    );
}
