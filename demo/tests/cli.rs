//! The demo binary as a user starts it: `--database-url memory:` leaves no file behind, and
//! `--log-format json` writes one JSON object per line with the request's id, and the client
//! address and username (never the password) on a failed login.

use core::time::Duration;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use serde_json::Value;

const DEMO: &str = env!("CARGO_BIN_EXE_oidc-hybrid-demo");

/// The running binary; killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_says_what_memory_mode_and_the_clients_file_do() {
    let output = Command::new(DEMO).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("no file is read or written"), "{help}");
    assert!(help.contains("source of"), "{help}");
    assert!(help.contains("--log-format"), "{help}");
    assert!(help.contains("--header-timeout"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_mode_writes_nothing_and_json_logs_carry_the_request() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(DEMO)
        .args([
            "--database-url",
            "memory:",
            "--addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .current_dir(cwd.path())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo starts");
    let stderr = child.stderr.take().expect("stderr");
    let running = Running(child);
    // Standard error, line by line, from a thread.
    let (lines, received) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let issuer = loop {
        let line = received
            .recv_timeout(Duration::from_secs(120))
            .expect("the banner within two minutes");
        if let Some(rest) = line.trim().strip_prefix("issuer:") {
            break rest.trim().to_owned();
        }
        log.push(line);
    };
    // The banner says where the keys are.
    let banner: Vec<String> = (0..4)
        .filter_map(|_| received.recv_timeout(Duration::from_secs(5)).ok())
        .collect();
    assert!(
        banner.iter().any(|l| l.contains("generated in memory")),
        "{banner:?}"
    );

    // A login page, then a wrong password, under request ids of our own.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let redirect = format!("{issuer}/playground/callback");
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code id_token"),
            ("client_id", "demo-client"),
            ("redirect_uri", redirect.as_str()),
            ("scope", "openid"),
            ("nonce", "n"),
        ])
        .finish();
    let page = http
        .get(format!("{issuer}/authorize?{query}"))
        .header("x-request-id", "req-page")
        .send()
        .await
        .expect("GET");
    assert_eq!(page.headers()["x-request-id"], "req-page");
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let html = page.text().await.expect("page");
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html.find(&marker).expect("field") + marker.len();
        html[start..start + html[start..].find('"').expect("end")].to_owned()
    };
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("interaction", field("interaction").as_str()),
            ("csrf", field("csrf").as_str()),
            ("username", "alice"),
            ("password", "not-the-password-xyzzy"),
        ])
        .finish();
    let refused = http
        .post(format!("{issuer}/login"))
        .header("x-request-id", "req-login")
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), 200);
    assert!(
        refused
            .text()
            .await
            .expect("page")
            .contains("Wrong username")
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(running);
    log.extend(received.try_iter());

    // Nothing was written in the working directory.
    let left: Vec<_> = std::fs::read_dir(cwd.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "memory: left {left:?}");

    // Every log line is JSON; the failed login names the address and the user, not the
    // password, and carries its request's id.
    let entries: Vec<Value> = log
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    let failed = entries
        .iter()
        .find(|e| {
            e["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("login failed"))
        })
        .unwrap_or_else(|| panic!("a failed-login line in {log:#?}"));
    assert_eq!(failed["span"]["request_id"], "req-login", "{failed}");
    assert!(
        failed["fields"]["client_addr"]
            .as_str()
            .is_some_and(|a| a.contains("127.0.0.1")),
        "{failed}"
    );
    assert!(
        failed["fields"]["username"]
            .as_str()
            .is_some_and(|u| u.contains("alice")),
        "{failed}"
    );
    assert!(
        !log.iter().any(|l| l.contains("xyzzy")),
        "no password in the logs"
    );
    // The page's request logged its outcome under its own id.
    assert!(
        entries.iter().any(|e| e["span"]["request_id"] == "req-page"
            && e["fields"]["message"] == "interaction handed to the host"),
        "{log:#?}"
    );
}
