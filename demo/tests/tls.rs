//! The demo over TLS (`--tls-cert`, `--tls-key`, `--client-ca`): bad files are named at start,
//! the issuer becomes `https://`, and client certificates from the given CA are accepted while
//! others are refused in the handshake.

use core::time::Duration;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

const DEMO: &str = env!("CARGO_BIN_EXE_oidc-hybrid-demo");

/// The running binary; killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

/// A certificate for `names` signed by `ca`, and its key, both PEM.
fn leaf(names: &[&str], ca: &CertifiedIssuer<'static, KeyPair>) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let params = CertificateParams::new(names).expect("params");
    let key = KeyPair::generate().expect("key");
    let certificate = params.signed_by(&key, ca).expect("signed");
    (certificate.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write");
    path.display().to_string()
}

#[test]
fn bad_tls_files_are_named_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_pem = write(dir.path(), "not.pem", "hello");
    let run = |args: &[&str]| {
        let output = Command::new(DEMO)
            .args(["--database-url", "memory:", "--addr", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["--tls-cert", "missing.pem", "--tls-key", "missing.pem"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("TLS: cannot read missing.pem"), "{stderr}");
    let (code, stderr) = run(&["--tls-cert", &not_pem, "--tls-key", &not_pem]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no certificate"), "{stderr}");
    let (code, stderr) = run(&["--tls-cert", "cert.pem"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tls-cert needs --tls-key"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_and_accepts_client_certificates_of_the_client_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server_ca = authority("Server CA");
    let client_ca = authority("Client CA");
    let (cert, key) = leaf(&["127.0.0.1", "localhost"], &server_ca);
    let args = [
        "--database-url".to_owned(),
        "memory:".to_owned(),
        "--addr".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--tls-cert".to_owned(),
        write(dir.path(), "cert.pem", &cert),
        "--tls-key".to_owned(),
        write(dir.path(), "key.pem", &key),
        "--client-ca".to_owned(),
        write(dir.path(), "client-ca.pem", &client_ca.pem()),
    ];
    let mut child = Command::new(DEMO)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo starts");
    let stderr = child.stderr.take().expect("stderr");
    let _running = Running(child);
    let (lines, received) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let issuer = loop {
        let line = received
            .recv_timeout(Duration::from_secs(120))
            .expect("the banner within two minutes");
        if let Some(rest) = line.trim().strip_prefix("issuer:") {
            break rest.trim().to_owned();
        }
    };
    assert!(issuer.starts_with("https://127.0.0.1:"), "{issuer}");

    let client = |identity: Option<(String, String)>| {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(server_ca.pem().as_bytes()).expect("root"),
            )
            .timeout(Duration::from_secs(10));
        if let Some((cert, key)) = identity {
            let pem = format!("{cert}{key}");
            builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("id"));
        }
        builder.build().expect("client")
    };
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    for identity in [None, Some(leaf(&["client.example"], &client_ca))] {
        let response = client(identity)
            .get(&discovery)
            .send()
            .await
            .expect("served over TLS");
        assert_eq!(response.status(), 200);
        let body = response.text().await.expect("body");
        let metadata: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(metadata["issuer"], issuer.as_str());
        assert_eq!(metadata["tls_client_certificate_bound_access_tokens"], true);
        let methods = metadata["token_endpoint_auth_methods_supported"].to_string();
        assert!(methods.contains("\"tls_client_auth\""), "{methods}");
    }
    let stranger = leaf(&["client.example"], &authority("Other CA"));
    assert!(client(Some(stranger)).get(&discovery).send().await.is_err());
}
