//! Shared by the `http_*` tests: the demo IdP on an ephemeral loopback port (SQLite file in a
//! temporary directory, the committed test keys), a scripted user agent that parses the login
//! and consent forms, and the runner for the Node.js scripts under `tests/interop/node/`.
#![allow(dead_code, reason = "each test file uses a part of the support")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use oidc_hybrid::response::FORM_POST_CSP;
use oidc_hybrid_demo::{self as demo, Options};
use oidc_hybrid_testkit::html::{self, Form};
use oidc_hybrid_tests::{ES256_PEM, RS256_PEM};
use reqwest::header::HeaderMap;

/// The built-in user.
pub const USER: (&str, &str) = demo::BUILTIN_USER;

/// The built-in RS256 client (`client_secret_basic`) and ES256 client (`client_secret_post`).
pub const RS_CLIENT: &str = "demo-client";
pub const ES_CLIENT: &str = "demo-client-es256";
pub const SECRET: &str = demo::BUILTIN_CLIENT_SECRET;

/// A demo IdP serving on `127.0.0.1:<ephemeral>` until the test's runtime ends.
pub struct RunningDemo {
    pub issuer: String,
    pub dir: tempfile::TempDir,
    /// The start-up banner's lines.
    pub banner: Vec<String>,
}

impl RunningDemo {
    /// The playground's redirect URI, registered for the built-in clients.
    pub fn redirect_uri(&self) -> String {
        format!("{}/playground/callback", self.issuer)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// Starts the demo with its defaults (built-in clients and user).
pub async fn start() -> RunningDemo {
    start_with(|_, _| {}).await
}

/// Starts the demo after `edit` adjusted its options (the temporary directory is given for
/// files).
pub async fn start_with(edit: impl FnOnce(&mut Options, &Path)) -> RunningDemo {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("oidc-demo.rs256.pem"), RS256_PEM).expect("key");
    std::fs::write(dir.path().join("oidc-demo.es256.pem"), ES256_PEM).expect("key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut options = Options::default();
    options.addr = addr;
    options.database_url = format!("sqlite://{}", dir.path().join("oidc-demo.sqlite").display());
    edit(&mut options, dir.path());
    let built = demo::build(&options, addr).await.expect("the demo starts");
    let banner = built.banner.clone();
    // Served as `cargo run -p oidc-hybrid-demo` serves it: time limits, client addresses.
    tokio::spawn(demo::serve(listener, built, core::future::pending()));
    RunningDemo {
        issuer: format!("http://{addr}"),
        dir,
        banner,
    }
}

/// An HTTP response as the user agent saw it.
#[derive(Debug)]
pub struct Page {
    pub url: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn forms(&self) -> Vec<Form> {
        html::forms(&self.body)
    }

    /// Whether this is a form_post page (served with the core's CSP).
    pub fn is_form_post(&self) -> bool {
        self.status == 200 && self.header("content-security-policy") == Some(FORM_POST_CSP)
    }
}

/// Where an authorization ended for the user agent.
#[derive(Debug)]
pub enum Outcome {
    /// A 303 to this `Location`.
    Redirect(String),
    /// A form_post page posting these pairs to `action`.
    FormPost {
        action: String,
        pairs: Vec<(String, String)>,
    },
    /// Some other page (an error page, a login page shown again…).
    Page(Page),
}

impl Outcome {
    /// The response parameters, whichever way they were delivered (fragment, query or form).
    pub fn params(&self) -> HashMap<String, String> {
        let pairs: Vec<(String, String)> = match self {
            Self::Redirect(location) => {
                let encoded = location
                    .split_once('#')
                    .or_else(|| location.split_once('?'))
                    .map_or("", |(_, e)| e);
                form_urlencoded::parse(encoded.as_bytes())
                    .into_owned()
                    .collect()
            }
            Self::FormPost { pairs, .. } => pairs.clone(),
            Self::Page(page) => panic!("no authorization response: {} {}", page.status, page.body),
        };
        let mut map = HashMap::new();
        for (name, value) in pairs {
            assert!(map.insert(name.clone(), value).is_none(), "{name} twice");
        }
        map
    }
}

/// A scripted browser: a cookie jar, no redirect following.
pub struct Agent {
    pub http: reqwest::Client,
    origin: String,
}

impl Agent {
    pub fn new(demo: &RunningDemo) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Self {
            http,
            origin: demo.issuer.clone(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.origin)
        } else {
            url.to_owned()
        }
    }

    async fn page(url: String, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("body");
        Page {
            url,
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        let url = self.absolute(url);
        let response = self.http.get(&url).send().await.expect("GET");
        Self::page(url, response).await
    }

    pub async fn post_form(&self, url: &str, pairs: &[(String, String)]) -> Page {
        let url = self.absolute(url);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        Self::page(url, response).await
    }

    /// Submits `form` with `fill` replacing or adding fields, pressing submit button `button`.
    pub async fn submit(&self, form: &Form, fill: &[(&str, &str)], button: usize) -> Page {
        assert_eq!(form.method, "post", "the demo's forms post");
        let action = form
            .action
            .as_deref()
            .expect("the demo's forms have an action");
        self.post_form(action, &form.submit(fill, button)).await
    }

    /// Follows an authorization from its URL: logs in as `user` if the login page comes,
    /// approves with the consent page's first button if it comes, and stops at the response.
    pub async fn authorize(&self, url: &str, user: (&str, &str)) -> Outcome {
        let mut page = self.get(url).await;
        for _ in 0..4 {
            if page.status == 303 {
                return Outcome::Redirect(page.location().expect("Location").to_owned());
            }
            if page.is_form_post() {
                let form = page.forms().into_iter().next().expect("the form_post form");
                return Outcome::FormPost {
                    action: form.action.expect("the form_post form has an action"),
                    pairs: form.fields,
                };
            }
            if page.status != 200 {
                return Outcome::Page(page);
            }
            let Some(form) = page.forms().into_iter().next() else {
                return Outcome::Page(page);
            };
            if form.has_field("password") {
                page = self
                    .submit(&form, &[("username", user.0), ("password", user.1)], 0)
                    .await;
            } else if form.buttons.first().is_some_and(|(n, _)| n == "decision") {
                page = self.submit(&form, &[], 0).await;
            } else {
                return Outcome::Page(page);
            }
        }
        Outcome::Page(page)
    }
}

/// The directory of the Node.js interop scripts.
pub fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/node")
}

/// Whether the Node.js side can run: `node` on the PATH and `packages` installed
/// (`scripts/install-node-deps.sh`). Under CI (`CI=true`) a missing piece fails the test
/// instead of skipping it.
pub fn node_ready(packages: &[&str]) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !node_dir().join("node_modules").join(p).is_dir())
        .collect();
    let problem = if !node {
        Some("node is not installed".to_owned())
    } else if !missing.is_empty() {
        Some(format!(
            "npm packages {missing:?} are not installed: run scripts/install-node-deps.sh"
        ))
    } else {
        None
    };
    match problem {
        None => true,
        Some(problem) if ci => panic!("{problem} (required under CI=true)"),
        Some(problem) => {
            eprintln!("SKIPPED: {problem}");
            false
        }
    }
}

/// Runs `node <script>` from the interop directory with `env`, killing it after `timeout`;
/// returns its exit success, standard output and standard error.
pub async fn run_node(
    script: &str,
    env: &[(&str, String)],
    timeout: Duration,
) -> (bool, String, String) {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .current_dir(node_dir())
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(timeout, command.output())
        .await
        .unwrap_or_else(|_| panic!("node {script} did not finish within {timeout:?}"))
        .expect("node runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
