//! The demo identity provider: the axum adapter behind real pages, on the SQL store.
//!
//! `cargo run -p oidc-hybrid-demo` starts it on `http://127.0.0.1:8080`:
//!
//! - the provider's endpoints ([`Endpoints`]) on a [`SqliteStore`] file (`oidc-demo.sqlite`,
//!   created and migrated at start), a [`PostgresStore`] (`--database-url postgres://…`) or a
//!   [`MemoryStore`] (`--database-url memory:`);
//! - an ES256 and an RS256 signing key, generated on first start and kept as PKCS#8 PEM files
//!   beside the database (`oidc-demo.es256.pem`, `oidc-demo.rs256.pem`), signing with ring
//!   (`--signer ring`, the default: fast, constant-time RSA) or RustCrypto
//!   (`--signer rustcrypto`);
//! - a login page (`username`, `password`; Argon2id hashes, compared in constant time), a
//!   consent page listing the scopes (first button approves, second denies), a session cookie
//!   (`HttpOnly`, `SameSite=Lax`) so `prompt=none` and `max_age` work, and a CSRF token on
//!   every form;
//! - built-in clients and a built-in user (`alice` / `wonderland`) unless `--clients` /
//!   `--users` name JSON files (RFC 7591 client metadata; standard claims);
//! - `/playground`, a relying party that runs a hybrid flow against the provider, checks both
//!   ID tokens (`c_hash`, `at_hash`, consistency), redeems the code and calls UserInfo — all in
//!   server-side Rust.
//!
//! Sessions live in memory (a restart logs everybody out); codes, tokens and clients live in
//! the database.

extern crate alloc;

mod clients;
mod files;
mod host;
mod pages;
mod playground;
mod session;
mod users;

use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::routing::{get, post};
use oidc_hybrid::{Client, Config, Provider, Signer, Storage, SystemClock};
use oidc_hybrid_axum::Endpoints;
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_sql::{PostgresStore, SqlError, SqliteStore};
use tracing::{error, info, warn};

pub use clients::BUILTIN_CLIENT_SECRET;

/// The default listening address.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// The default database: a SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://oidc-demo.sqlite";

/// The built-in user's name and password.
pub const BUILTIN_USER: (&str, &str) = ("alice", "wonderland");

/// The command-line help.
pub const USAGE: &str = "\
Usage: cargo run -p oidc-hybrid-demo -- [OPTIONS]

A demo OpenID Provider (hybrid flow) with login, consent and a relying-party playground.

Options:
  --addr ADDR            listen on ADDR (default 127.0.0.1:8080)
  --issuer URL           the issuer URL (default http://ADDR; https, or http on loopback)
  --database-url URL     sqlite://FILE (default sqlite://oidc-demo.sqlite, created if
                         missing), postgres://USER@HOST/DB, or memory: (nothing kept)
  --signer NAME          ring (default: fast, constant-time RSA) or rustcrypto
  --code-lifetime SECS   authorization code lifetime (default 60, at most 600)
  --access-token-lifetime SECS
                         access token lifetime (default 3600)
  --refresh-token-lifetime SECS
                         refresh token lifetime (default 2592000, 30 days)
  --sweep-every SECS     how often expired codes and tokens are removed (default 60)
  --keys-dir DIR         where the signing keys are kept (default: beside the SQLite file,
                         or the working directory)
  --clients FILE         client registrations: a JSON array of RFC 7591 metadata
                         (default: the built-in demo clients)
  --users FILE           users: a JSON array of {username, password, sub?, standard claims}
                         (default: the built-in user alice / wonderland)
  -h, --help             print this help

Logs go to standard error; set RUST_LOG (e.g. RUST_LOG=debug) to change the level.
";

/// The demo's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The issuer; `None`: `http://{addr}`.
    pub issuer: Option<String>,
    /// The database URL (`sqlite:…` or `postgres://…`).
    pub database_url: String,
    /// Where the signing keys are kept; `None`: beside the SQLite file, or the working directory.
    pub keys_dir: Option<PathBuf>,
    /// A clients file (JSON array of RFC 7591 metadata); `None`: the built-in clients.
    pub clients: Option<PathBuf>,
    /// A users file; `None`: the built-in user.
    pub users: Option<PathBuf>,
    /// Which implementation signs ID tokens.
    pub signer: SignerKind,
    /// The authorization code lifetime in seconds; `None`: [`Config`]'s default.
    pub code_lifetime: Option<u64>,
    /// The access token lifetime in seconds; `None`: [`Config`]'s default.
    pub access_token_lifetime: Option<u64>,
    /// The refresh token lifetime in seconds; `None`: [`Config`]'s default.
    pub refresh_token_lifetime: Option<u64>,
    /// How often expired codes, tokens and sessions are removed.
    pub sweep_every: Duration,
}

/// The signing implementation behind the demo's keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignerKind {
    /// `oidc-hybrid-ring`: the fast std signers (constant-time RSA).
    #[default]
    Ring,
    /// `oidc-hybrid-rustcrypto`: the portable no_std signers.
    RustCrypto,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR,
            issuer: None,
            database_url: DEFAULT_DATABASE_URL.into(),
            keys_dir: None,
            clients: None,
            users: None,
            signer: SignerKind::default(),
            code_lifetime: None,
            access_token_lifetime: None,
            refresh_token_lifetime: None,
            sweep_every: Duration::from_secs(60),
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // Built once per process, matched once.
pub enum Command {
    /// Run the demo.
    Run(Options),
    /// Print [`USAGE`].
    Help,
}

impl Options {
    /// Parses the command-line arguments (without the program name).
    ///
    /// # Errors
    ///
    /// A message naming the unknown option, the missing value or the malformed address.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
        let mut options = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
                _ => (arg.clone(), None),
            };
            if name == "-h" || name == "--help" {
                return Ok(Command::Help);
            }
            let known = [
                "--addr",
                "--issuer",
                "--database-url",
                "--keys-dir",
                "--clients",
                "--users",
                "--signer",
                "--code-lifetime",
                "--access-token-lifetime",
                "--refresh-token-lifetime",
                "--sweep-every",
            ];
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown argument {arg:?} (see --help)"));
            }
            let value = match inline {
                Some(value) => value.to_owned(),
                None => args
                    .next()
                    .ok_or_else(|| format!("{name} needs a value (see --help)"))?,
            };
            match name.as_str() {
                "--addr" => {
                    options.addr = value.parse().map_err(|_| {
                        format!("--addr {value:?} is not an address like 127.0.0.1:8080")
                    })?;
                }
                "--issuer" => options.issuer = Some(value),
                "--database-url" => options.database_url = value,
                "--keys-dir" => options.keys_dir = Some(value.into()),
                "--clients" => options.clients = Some(value.into()),
                "--signer" => {
                    options.signer = match value.as_str() {
                        "ring" => SignerKind::Ring,
                        "rustcrypto" => SignerKind::RustCrypto,
                        _ => return Err(format!("--signer {value:?}: ring or rustcrypto")),
                    };
                }
                "--code-lifetime" => {
                    let secs = seconds(&name, &value)?;
                    if secs > oidc_hybrid::config::MAX_CODE_LIFETIME {
                        return Err(format!(
                            "--code-lifetime {secs}: at most {} seconds (RFC 6749 §4.1.2)",
                            oidc_hybrid::config::MAX_CODE_LIFETIME
                        ));
                    }
                    options.code_lifetime = Some(secs);
                }
                "--access-token-lifetime" => {
                    options.access_token_lifetime = Some(seconds(&name, &value)?);
                }
                "--refresh-token-lifetime" => {
                    options.refresh_token_lifetime = Some(seconds(&name, &value)?);
                }
                "--sweep-every" => {
                    options.sweep_every = Duration::from_secs(seconds(&name, &value)?);
                }
                _ => options.users = Some(value.into()),
            }
        }
        Ok(Command::Run(options))
    }
}

/// A positive whole number of seconds.
fn seconds(name: &str, value: &str) -> Result<u64, String> {
    value
        .parse()
        .ok()
        .filter(|&secs: &u64| secs > 0)
        .ok_or_else(|| format!("{name} {value:?} is not a positive number of seconds"))
}

/// Why the demo could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum DemoError {
    /// The issuer is not acceptable.
    Issuer(String),
    /// The database could not be opened or migrated.
    Database(String),
    /// A signing key could not be read, generated or written.
    Keys(String),
    /// The clients file is bad (the message names the file, the entry and the reason).
    Clients(String),
    /// The users file is bad (the message names the file, the entry and the reason).
    Users(String),
    /// The listening socket could not be opened, or serving failed.
    Io(std::io::Error),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Issuer(m) => write!(f, "issuer: {m}"),
            Self::Database(m) => write!(f, "database: {m}"),
            Self::Keys(m) => write!(f, "signing keys: {m}"),
            Self::Clients(m) | Self::Users(m) => f.write_str(m),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for DemoError {}

/// A built demo: the router to serve and what to tell the person who started it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Demo {
    /// Everything: the provider's endpoints, the login and consent pages, the playground.
    pub router: Router,
    /// The issuer.
    pub issuer: String,
    /// Lines for the start-up banner (where things are, the demo credentials).
    pub banner: Vec<String>,
}

/// The stores the demo runs on.
trait DemoStore: Storage + 'static {
    fn migrate_schema(&self) -> impl Future<Output = Result<(), SqlError>> + Send;
    fn put_client(&self, client: &Client) -> impl Future<Output = Result<(), SqlError>> + Send;
}

impl DemoStore for SqliteStore {
    async fn migrate_schema(&self) -> Result<(), SqlError> {
        self.migrate().await
    }
    async fn put_client(&self, client: &Client) -> Result<(), SqlError> {
        self.replace_client(client).await
    }
}

impl DemoStore for MemoryStore {
    async fn migrate_schema(&self) -> Result<(), SqlError> {
        Ok(())
    }
    async fn put_client(&self, client: &Client) -> Result<(), SqlError> {
        self.insert_client(client.clone());
        Ok(())
    }
}

impl DemoStore for PostgresStore {
    async fn migrate_schema(&self) -> Result<(), SqlError> {
        self.migrate().await
    }
    async fn put_client(&self, client: &Client) -> Result<(), SqlError> {
        self.replace_client(client).await
    }
}

/// Where the keys go by default: beside a SQLite file, else the working directory; and the
/// key files' name stem.
fn default_keys_location(database_url: &str) -> (PathBuf, String) {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|path| !path.is_empty() && !path.contains(":memory:"));
    match file {
        Some(path) => {
            let path = Path::new(path);
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("oidc-demo")
                .to_owned();
            (dir, stem)
        }
        None => (PathBuf::from("."), "oidc-demo".into()),
    }
}

/// Builds the demo for a server listening at `local_addr` (the playground calls the provider's
/// back-channel endpoints there): opens and migrates the database, loads or creates the keys,
/// loads the clients and users, registers the clients.
///
/// # Errors
///
/// A [`DemoError`] naming what is wrong.
pub async fn build(options: &Options, local_addr: SocketAddr) -> Result<Demo, DemoError> {
    let issuer = options
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{local_addr}"));
    let mut config = Config::new(&issuer).map_err(|e| {
        DemoError::Issuer(format!(
            "{issuer:?}: {e}; pass --issuer (e.g. --issuer http://127.0.0.1:8080)"
        ))
    })?;
    if let Some(secs) = options.code_lifetime {
        config = config
            .with_code_lifetime(secs)
            .map_err(|e| DemoError::Issuer(format!("--code-lifetime {secs}: {e}")))?;
    }
    if let Some(secs) = options.access_token_lifetime {
        config.access_token_lifetime = secs;
    }
    if let Some(secs) = options.refresh_token_lifetime {
        config.refresh_token_lifetime = secs;
    }
    // Files first: a bad file is reported before anything is created.
    let clients = clients::load(options.clients.as_deref(), &issuer)?;
    let users = users::load(options.users.as_deref())?;
    let url = options.database_url.as_str();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect(url)
            .await
            .map_err(|e| DemoError::Database(format!("cannot connect to {}: {e}", redact(url))))?;
        assemble(store, options, config, clients, users, local_addr).await
    } else if url == "memory:" {
        assemble(
            MemoryStore::new(),
            options,
            config,
            clients,
            users,
            local_addr,
        )
        .await
    } else if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(url)
            .await
            .map_err(|e| DemoError::Database(format!("cannot open {url}: {e}")))?;
        assemble(store, options, config, clients, users, local_addr).await
    } else {
        Err(DemoError::Database(format!(
            "{:?} is neither a sqlite: nor a postgres:// URL, nor memory:",
            redact(url)
        )))
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => match rest.split_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

async fn assemble<S: DemoStore>(
    store: S,
    options: &Options,
    config: Config,
    clients: clients::Loaded,
    users: users::Users,
    local_addr: SocketAddr,
) -> Result<Demo, DemoError> {
    store
        .migrate_schema()
        .await
        .map_err(|e| DemoError::Database(format!("migrations failed: {e}")))?;
    for client in &clients.clients {
        store.put_client(client).await.map_err(|e| {
            DemoError::Database(format!("cannot register client {}: {e}", client.id()))
        })?;
    }
    let (default_dir, stem) = default_keys_location(&options.database_url);
    let dir = options.keys_dir.clone().unwrap_or(default_dir);
    let keys = files::load_or_create_keys(&dir, &stem)?;
    let key_note = format!("keys:        {} ({:?} signers)", keys.note, options.signer);
    let signers = match options.signer {
        SignerKind::RustCrypto => {
            vec![
                Box::new(keys.rs256) as Box<dyn Signer>,
                Box::new(keys.es256),
            ]
        }
        SignerKind::Ring => files::ring_signers(&keys)?,
    };
    let issuer = config.issuer.clone();
    let provider = Provider::new(config, store, signers, SystemClock, OsRandom)
        .map_err(|e| DemoError::Keys(e.to_string()))?
        .with_error_observer(|e| error!(error = %e, "internal failure"));
    let provider = Arc::new(provider);

    let mut banner = vec![
        format!("issuer:      {issuer}"),
        format!("discovery:   {issuer}/.well-known/openid-configuration"),
        format!("playground:  {issuer}/playground"),
        key_note,
    ];
    if users.builtin {
        banner.push(format!(
            "demo user:   {} / {}",
            BUILTIN_USER.0, BUILTIN_USER.1
        ));
    }
    for client in &clients.playground {
        banner.push(format!(
            "client:      {} ({}, {})",
            client.client_id,
            client.method.as_str(),
            client.alg.as_str()
        ));
    }
    if clients.builtin {
        banner.push(format!("             secret {BUILTIN_CLIENT_SECRET}"));
    }

    let back_channel = match local_addr.ip() {
        ip if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local_addr.port())
        }
        _ => local_addr,
    };
    let host = host::DemoHost::new(
        &issuer,
        users,
        clients.playground,
        format!("http://{back_channel}"),
    );
    let endpoints = Endpoints::new(Arc::clone(&provider), host);
    let router = routes(&endpoints);

    // Housekeeping: expired codes and tokens in the store, stale sessions in memory.
    let sweeper = endpoints.clone();
    let sweep_every = options.sweep_every;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sweep_every);
        loop {
            tick.tick().await;
            let now = sweeper.now();
            match sweeper.provider().storage().sweep_expired(now).await {
                Ok(removed) if removed > 0 => info!(removed, "expired codes and tokens swept"),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "sweeping the store failed"),
            }
            sweeper.host().prune(now);
        }
    });

    Ok(Demo {
        router,
        issuer,
        banner,
    })
}

fn routes<S: DemoStore>(endpoints: &host::DemoEndpoints<S>) -> Router {
    let base = endpoints.host().base_path().to_owned();
    let at = |path: &str| format!("{base}{path}");
    let pages = Router::new()
        .route(&at("/"), get(host::index::<S>))
        .route(&at("/demo.css"), get(pages::stylesheet))
        .route(&at("/favicon.ico"), get(pages::favicon))
        .route(&at("/login"), post(host::login::<S>))
        .route(&at("/consent"), post(host::consent::<S>))
        .route(&at("/logout"), post(host::logout::<S>))
        .route(&at("/playground"), get(playground::page::<S>))
        .route(&at("/playground/start"), post(playground::start::<S>))
        .route(
            &at("/playground/callback"),
            get(playground::callback_get::<S>).post(playground::callback_post::<S>),
        )
        .route(
            &at("/playground/callback/fragment"),
            post(playground::fragment::<S>),
        )
        .with_state(endpoints.clone());
    endpoints
        .router()
        .merge(pages)
        .layer(axum::middleware::map_response(
            oidc_hybrid_axum::respond::harden_html,
        ))
        .layer(oidc_hybrid_axum::trace_layer())
}

/// Binds `options.addr`, builds the demo, prints the banner to standard error and serves until
/// Ctrl-C.
///
/// # Errors
///
/// A [`DemoError`] if the demo cannot start or serving fails.
pub async fn run(options: Options) -> Result<(), DemoError> {
    // Bad files are reported before anything else happens.
    let issuer = options
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{}", options.addr));
    clients::load(options.clients.as_deref(), &issuer)?;
    users::load(options.users.as_deref())?;
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| {
            DemoError::Io(std::io::Error::new(
                e.kind(),
                format!(
                    "cannot listen on {}: {e} (is another demo running? choose --addr)",
                    options.addr
                ),
            ))
        })?;
    let local_addr = listener.local_addr().map_err(DemoError::Io)?;
    let demo = build(&options, local_addr).await?;
    info!(addr = %local_addr, issuer = %demo.issuer, "demo OpenID Provider listening");
    eprintln!("\n  oidc-hybrid demo OpenID Provider\n");
    for line in &demo.banner {
        eprintln!("  {line}");
    }
    eprintln!(
        "\n  open {}/playground in a browser; Ctrl-C stops\n",
        demo.issuer
    );
    axum::serve(listener, demo.router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            info!("shutting down");
        })
        .await
        .map_err(DemoError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Command, String> {
        Options::from_args(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn arguments() {
        assert_eq!(args(&[]), Ok(Command::Run(Options::default())));
        assert_eq!(args(&["--help"]), Ok(Command::Help));
        let Ok(Command::Run(o)) = args(&[
            "--addr",
            "127.0.0.1:9000",
            "--issuer=http://localhost:9000",
            "--database-url",
            "postgres://op@db/op",
            "--clients",
            "c.json",
        ]) else {
            panic!("parses")
        };
        assert_eq!(o.addr.port(), 9000);
        assert_eq!(o.issuer.as_deref(), Some("http://localhost:9000"));
        assert_eq!(o.database_url, "postgres://op@db/op");
        assert_eq!(o.clients.as_deref(), Some(Path::new("c.json")));
        let Ok(Command::Run(o)) = args(&[
            "--database-url=memory:",
            "--signer",
            "rustcrypto",
            "--access-token-lifetime",
            "10",
            "--refresh-token-lifetime=20",
            "--code-lifetime",
            "30",
            "--sweep-every",
            "5",
        ]) else {
            panic!("parses")
        };
        assert_eq!(o.database_url, "memory:");
        assert_eq!(o.signer, SignerKind::RustCrypto);
        assert_eq!(o.access_token_lifetime, Some(10));
        assert_eq!(o.code_lifetime, Some(30));
        assert_eq!(o.refresh_token_lifetime, Some(20));
        assert_eq!(o.sweep_every, Duration::from_secs(5));
        assert_eq!(Options::default().signer, SignerKind::Ring);
        assert!(args(&["--signer", "openssl"]).is_err());
        assert!(args(&["--sweep-every", "0"]).is_err());
        assert!(args(&["--code-lifetime", "601"]).is_err());
        assert!(args(&["--access-token-lifetime", "soon"]).is_err());
        assert!(args(&["--addr", "nope"]).is_err());
        assert!(args(&["--frobnicate"]).is_err());
        assert!(args(&["--users"]).is_err());
    }

    #[test]
    fn key_location_and_redaction() {
        assert_eq!(
            default_keys_location("sqlite://oidc-demo.sqlite"),
            (PathBuf::from("."), "oidc-demo".into())
        );
        assert_eq!(
            default_keys_location("sqlite:///var/lib/op/op.db?mode=rwc"),
            (PathBuf::from("/var/lib/op"), "op".into())
        );
        assert_eq!(
            default_keys_location("sqlite::memory:"),
            (PathBuf::from("."), "oidc-demo".into())
        );
        assert_eq!(redact("postgres://op:hunter2@db/op"), "postgres://op@db/op");
        assert_eq!(redact("postgres://db/op"), "postgres://db/op");
    }
}
