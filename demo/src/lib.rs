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
//! - a login page (`username`, `password`; Argon2id hashes, compared in constant time, at most
//!   one check per core at a time, failed logins slowed down per account and per address with
//!   429 and `Retry-After`), a consent page listing the scopes (first button approves, second
//!   denies), a sign-in session cookie (`HttpOnly`, `SameSite=Lax`, set only at login) so
//!   `prompt=none` and `max_age` work, a separate short-lived interaction cookie for the
//!   requests waiting for a page, and a CSRF token on every form (docs/decisions/0010);
//! - served by `oidc_hybrid_axum::serve` with time limits on reading requests
//!   (`--header-timeout`, `--request-timeout`), a request id on every response and log line,
//!   and text or JSON logs (`--log-format`); over TLS by `oidc_hybrid_tls::serve_tls` with
//!   `--tls-cert` / `--tls-key`, asking for client certificates (RFC 8705) with `--client-ca`
//!   and `--accept-self-signed-client-certs`;
//! - built-in clients and a built-in user (`alice` / `wonderland`) unless `--clients` /
//!   `--users` name JSON files (RFC 7591 client metadata; standard claims);
//! - `/playground`, a relying party that runs a hybrid flow against the provider, checks both
//!   ID tokens (`c_hash`, `at_hash`, consistency), redeems the code and calls UserInfo — all in
//!   server-side Rust.
//!
//! Sessions live in memory (a restart logs everybody out); codes, tokens and clients live in
//! the database. The configured clients (the built-in ones or `--clients FILE`) are the only
//! ones registered: at start, clients the database holds from an earlier run and the list no
//! longer names are removed. With `--database-url memory:` nothing at all is written: the keys
//! are generated in memory too, unless `--keys-dir` names where to keep them.
//!
//! The modules: `options` (the command line), `keys`, `clients` and `users` (what is loaded at
//! start), `session` (browser sessions), `host` (the adapter's [`Host`](oidc_hybrid_axum::Host):
//! who is logged in, remembered consents, the login and consent pages), `login` and `consent`
//! (their form handlers), `limits` (the limits on password checks), `pages` and `form` (HTML
//! and submitted forms), and `playground` (the relying party: its flow logic, its checks and
//! its pages, each a module of its own).

extern crate alloc;

mod clients;
mod consent;
mod cross_site;
mod form;
mod host;
mod keys;
mod limits;
mod login;
mod options;
mod pages;
mod playground;
mod session;
mod users;

use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use axum::Router;
use axum::routing::{get, post};
use oidc_hybrid::logout::SendFuture;
use oidc_hybrid::{
    Client, ClientId, Config, KeySet, LogoutSender, Provider, SharedKeys, Signer, Storage,
    SystemClock,
};
use oidc_hybrid_axum::fetch::{Guard, GuardedFetcher, GuardedLogoutSender};
use oidc_hybrid_axum::{Endpoints, Timeouts, route_path};
use oidc_hybrid_memory::MemoryStore;
use oidc_hybrid_rustcrypto::OsRandom;
use oidc_hybrid_sql::{PostgresStore, SqlError, SqliteStore};
use oidc_hybrid_tls::{
    ClientCertificates, TlsError, TlsServer, load_certificates, load_private_key, serve_tls,
};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tracing::{error, info, warn};

use host::{DemoEndpoints, DemoHost, StoreSessions};
use playground::Playground;
use session::Sessions;

pub use clients::BUILTIN_CLIENT_SECRET;
pub use options::{
    Command, DEFAULT_ADDR, DEFAULT_DATABASE_URL, LogFormat, Options, SignerKind, USAGE,
};

/// The built-in user's name and password.
pub const BUILTIN_USER: (&str, &str) = ("alice", "wonderland");

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
    /// The TLS certificate, key or client CA file is bad (the message names the file).
    Tls(String),
    /// The listening socket could not be opened, or serving failed.
    Io(std::io::Error),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Issuer(m) => write!(f, "issuer: {m}"),
            Self::Database(m) => write!(f, "database: {m}"),
            Self::Keys(m) => write!(f, "signing keys: {m}"),
            Self::Tls(m) => write!(f, "TLS: {m}"),
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
    /// The time limits to serve with.
    pub timeouts: Timeouts,
    /// What the store's writer has done so far, for the line printed at shutdown (the SQLite
    /// store: write requests and commits, so fsyncs); `None` for the other stores.
    pub store_report: Option<StoreReport>,
}

/// Describes a store's write activity on demand (see [`Demo::store_report`]).
#[derive(Clone)]
pub struct StoreReport(Arc<dyn Fn() -> String + Send + Sync>);

impl StoreReport {
    /// The description, as of now.
    #[must_use]
    pub fn describe(&self) -> String {
        (self.0)()
    }
}

impl fmt::Debug for StoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreReport")
    }
}

/// The stores the demo runs on.
trait DemoStore: Storage + 'static {
    fn migrate_schema(&self) -> impl Future<Output = Result<(), SqlError>> + Send;
    fn put_client(&self, client: &Client) -> impl Future<Output = Result<(), SqlError>> + Send;
    /// The clients registered before this start.
    fn registered_clients(&self) -> impl Future<Output = Result<Vec<ClientId>, SqlError>> + Send;
    fn unregister(&self, id: &ClientId) -> impl Future<Output = Result<(), SqlError>> + Send;
    /// Reports the store's write activity (the SQL stores: how their writes were committed).
    fn report(&self) -> Option<StoreReport> {
        None
    }
}

/// The SQL stores: the same client administration; `$report` describes the store's writes.
macro_rules! sql_demo_store {
    ($store:ty, $report:expr) => {
        impl DemoStore for $store {
            async fn migrate_schema(&self) -> Result<(), SqlError> {
                self.migrate().await
            }
            async fn put_client(&self, client: &Client) -> Result<(), SqlError> {
                self.replace_client(client).await
            }
            async fn registered_clients(&self) -> Result<Vec<ClientId>, SqlError> {
                self.client_ids().await
            }
            async fn unregister(&self, id: &ClientId) -> Result<(), SqlError> {
                self.remove_client(id).await.map(drop)
            }
            fn report(&self) -> Option<StoreReport> {
                let store = self.clone();
                let report: fn(&$store) -> String = $report;
                Some(StoreReport(Arc::new(move || report(&store))))
            }
        }
    };
}

sql_demo_store!(SqliteStore, |store| {
    let stats = store.write_stats();
    format!(
        "sqlite writes: {} requests in {} commits",
        stats.requests, stats.commits
    )
});

sql_demo_store!(PostgresStore, |store| {
    let groups = store.write_groups();
    format!(
        "postgres writes: {} committed in {} groups ({} groups rolled back), {} statements",
        groups.writes,
        groups.committed,
        groups.rolled_back,
        store.round_trips()
    )
});

impl DemoStore for MemoryStore {
    async fn migrate_schema(&self) -> Result<(), SqlError> {
        Ok(())
    }
    async fn put_client(&self, client: &Client) -> Result<(), SqlError> {
        self.insert_client(client.clone());
        Ok(())
    }
    async fn registered_clients(&self) -> Result<Vec<ClientId>, SqlError> {
        Ok(Vec::new()) // a new memory store holds nothing from an earlier run
    }
    async fn unregister(&self, _id: &ClientId) -> Result<(), SqlError> {
        Ok(())
    }
}

/// Makes the configured clients the only registered ones: removes what the database holds
/// from an earlier run that `clients` no longer names, then registers (or updates) each of
/// `clients`. Returns the removed ids.
async fn sync_clients<S: DemoStore>(
    store: &S,
    clients: &[Client],
) -> Result<Vec<ClientId>, DemoError> {
    let fail = |what: &str, id: &ClientId, e: SqlError| {
        DemoError::Database(format!("cannot {what} client {id}: {e}"))
    };
    let registered = store
        .registered_clients()
        .await
        .map_err(|e| DemoError::Database(format!("cannot list the registered clients: {e}")))?;
    let mut removed = Vec::new();
    for id in registered {
        if !clients.iter().any(|c| *c.id() == id) {
            store
                .unregister(&id)
                .await
                .map_err(|e| fail("remove", &id, e))?;
            removed.push(id);
        }
    }
    for client in clients {
        store
            .put_client(client)
            .await
            .map_err(|e| fail("register", client.id(), e))?;
    }
    Ok(removed)
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

/// The demo's back-channel logout sender: the playground's own `backchannel_logout_uri` over
/// the local listener (the guard refuses http and loopback, rightly), every other client's
/// through the guarded sender.
struct DemoSender {
    guarded: GuardedLogoutSender,
    own: String,
    local: String,
    http: reqwest::Client,
}

impl LogoutSender for DemoSender {
    fn send<'a>(&'a self, uri: &'a str, logout_token: String) -> SendFuture<'a> {
        if uri != self.own {
            return self.guarded.send(uri, logout_token);
        }
        let request = self
            .http
            .post(&self.local)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("logout_token={logout_token}"));
        tokio::spawn(async move {
            if let Err(e) = request.send().await {
                warn!(error = %e, "the playground's back-channel logout failed");
            }
        });
        Box::pin(async { Ok(()) })
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
        .unwrap_or_else(|| format!("{}://{local_addr}", scheme(options)));
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
    // Served over TLS with client certificates: they reach the core (RFC 8705), so discovery
    // offers mutual-TLS client authentication and certificate-bound tokens.
    config.mutual_tls = options.tls_cert.is_some()
        && (options.client_ca.is_some() || options.accept_self_signed_client_certs);
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
    mut clients: clients::Loaded,
    users: users::Users,
    local_addr: SocketAddr,
) -> Result<Demo, DemoError> {
    let keys_dir = match (&options.keys_dir, options.database_url.as_str()) {
        (None, "memory:") => None,
        (dir, url) => Some(dir.clone().unwrap_or_else(|| default_keys_location(url).0)),
    };
    let keys = match &keys_dir {
        None => keys::generate_in_memory()?,
        Some(dir) => {
            keys::load_or_create_keys(dir, &default_keys_location(&options.database_url).1)?
        }
    };
    let client_key = Arc::clone(&keys.client_es256);
    clients::add_jwt_clients(&mut clients, &config.issuer, client_key)?;
    store
        .migrate_schema()
        .await
        .map_err(|e| DemoError::Database(format!("migrations failed: {e}")))?;
    let removed = sync_clients(&store, &clients.clients).await?;
    for id in &removed {
        info!(client_id = %id, "client removed: the clients list no longer names it");
    }
    let manifest = match &keys_dir {
        Some(dir) => keys::load_manifest(dir, options.signer)?,
        None => None,
    };
    let (key_set, key_note) = match manifest {
        Some(set) => {
            let dir = keys_dir.as_deref().unwrap_or(Path::new("."));
            let note = format!(
                "{} (re-read at every sweep)",
                dir.join(keys::MANIFEST).display()
            );
            (set, note)
        }
        None => {
            let note = keys.note.clone();
            let signers = match options.signer {
                SignerKind::RustCrypto => {
                    vec![
                        Box::new(keys.rs256) as Box<dyn Signer>,
                        Box::new(keys.es256),
                    ]
                }
                SignerKind::Ring => keys::ring_signers(&keys)?,
            };
            (KeySet::new(signers), note)
        }
    };
    let key_note = format!("keys:        {key_note} ({:?} signers)", options.signer);
    let shared =
        SharedKeys::new(key_set, config.rs256).map_err(|e| DemoError::Keys(e.to_string()))?;
    let shared = Arc::new(shared);
    let issuer = config.issuer.clone();
    let source = options
        .clients
        .as_ref()
        .map_or_else(|| "the built-in list".into(), |f| f.display().to_string());
    let mut banner = banner(&issuer, key_note, &users, &clients);
    let removed: Vec<String> = removed.iter().map(ToString::to_string).collect();
    banner.push(format!(
        "registered:  exactly the {} client(s) of {source}{}",
        clients.clients.len(),
        if removed.is_empty() {
            String::new()
        } else {
            format!("; removed: {}", removed.join(", "))
        }
    ));

    let base = route_path(&issuer).trim_end_matches('/').to_owned();
    let sessions = Arc::new(Sessions::new(&base, issuer.starts_with("https://")));
    let back_channel = match local_addr.ip() {
        ip if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local_addr.port())
        }
        _ => local_addr,
    };
    let playground = Playground::new(
        &config,
        &base,
        clients.playground,
        format!("{}://{back_channel}", scheme(options)),
        Arc::clone(&sessions),
    );
    let store_report = store.report();
    let provider =
        Provider::from_key_source(config, store, Arc::clone(&shared), SystemClock, OsRandom)
            .map_err(|e| DemoError::Keys(e.to_string()))?
            .with_error_observer(|e| error!(error = %e, "internal failure"));
    // Clients' keys: verified with the chosen crypto; `jwks_uri` fetched through the guard
    // (https, public addresses only).
    let provider = match options.signer {
        SignerKind::RustCrypto => {
            provider.with_jws_verifier(oidc_hybrid_rustcrypto::ClientKeyVerifier)
        }
        SignerKind::Ring => provider.with_jws_verifier(oidc_hybrid_ring::ClientKeyVerifier),
    };
    let fetcher = GuardedFetcher::new(Guard::new())
        .map_err(|e| DemoError::Keys(format!("the jwks_uri fetcher cannot start: {e}")))?;
    // Back-channel logout tokens: the guard's client, retried in the background.
    let guarded = GuardedLogoutSender::new(Guard::new())
        .map_err(|e| DemoError::Keys(format!("the logout sender cannot start: {e}")))?;
    let sender = DemoSender {
        guarded,
        own: format!("{issuer}/playground/backchannel"),
        local: format!("http://{back_channel}{base}/playground/backchannel"),
        http: reqwest::Client::new(),
    };
    let provider = Arc::new(
        provider
            .with_jwks_fetcher(fetcher)
            .with_logout_sender(sender),
    );
    // Sign-in sessions are the store's OP sessions: shared by nodes, kept across restarts.
    sessions.share(Arc::new(StoreSessions {
        provider: Arc::clone(&provider),
        names: users.names(),
    }));
    let host = DemoHost::new(&base, users, sessions);
    let endpoints = Endpoints::new(provider, host);
    let router = routes(&endpoints, playground);
    let rollover = keys_dir.map(|dir| KeyReload {
        dir,
        kind: options.signer,
        keys: shared,
    });
    sweep(endpoints, options.sweep_every, rollover);
    let mut timeouts = Timeouts::default();
    timeouts.header_read = options.header_timeout;
    timeouts.request = options.request_timeout;
    Ok(Demo {
        router,
        issuer,
        banner,
        timeouts,
        store_report,
    })
}

/// Lines for the start-up banner: where things are, the keys, the demo credentials.
fn banner(
    issuer: &str,
    key_note: String,
    users: &users::Users,
    clients: &clients::Loaded,
) -> Vec<String> {
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
    banner
}

/// Housekeeping every `every`: expired codes and tokens in the store, stale sessions in
/// memory.
/// Where the key manifest is re-read from, and the key set it updates.
struct KeyReload {
    dir: PathBuf,
    kind: SignerKind,
    keys: Arc<SharedKeys>,
}

impl KeyReload {
    /// Re-reads the manifest, if there is one, and makes its set current. A broken manifest
    /// changes nothing: the provider keeps signing with the keys it has.
    fn reload(&self) {
        let loaded = keys::load_manifest(&self.dir, self.kind).and_then(|set| match set {
            Some(set) => self
                .keys
                .replace(set)
                .map_err(|e| DemoError::Keys(e.to_string())),
            None => Ok(()),
        });
        if let Err(e) = loaded {
            warn!(error = %e, "the key manifest was not applied");
        }
    }
}

fn sweep<S: DemoStore>(
    endpoints: DemoEndpoints<S>,
    every: core::time::Duration,
    keys: Option<KeyReload>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Some(keys) = &keys {
                keys.reload();
            }
            let now = endpoints.now();
            match endpoints.provider().storage().sweep_expired(now).await {
                Ok(removed) if removed > 0 => info!(removed, "expired codes and tokens swept"),
                Ok(_) => {}
                Err(e) => warn!(error = %e, "sweeping the store failed"),
            }
            endpoints.host().prune(now);
        }
    });
}

/// Every route: the provider's endpoints, the host's pages, the playground.
fn routes<S: DemoStore>(endpoints: &DemoEndpoints<S>, playground: Playground) -> Router {
    let base = endpoints.host().base_path().to_owned();
    let at = |path: &str| format!("{base}{path}");
    let pages = Router::new()
        .route(&at("/"), get(host::index::<S>))
        .route(&at("/demo.css"), get(pages::stylesheet))
        .route(&at("/favicon.ico"), get(pages::favicon))
        .route(&at("/login"), post(login::login::<S>))
        .route(&at("/consent"), post(consent::consent::<S>))
        .route(&at("/logout"), post(login::logout::<S>))
        .with_state(endpoints.clone());
    let config = endpoints.provider().config();
    let cookie_less_posts = [
        route_path(&config.authorization_endpoint),
        route_path(&config.end_session_endpoint),
    ];
    endpoints
        .router()
        .merge(pages)
        .merge(playground::routes(Arc::new(playground)))
        .layer(axum::middleware::map_response(
            oidc_hybrid_axum::respond::harden_html,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(cookie_less_posts),
            cross_site::post_to_get,
        ))
        // The request id: set (unless the request has one), in the span of every log line,
        // and copied to the response.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(oidc_hybrid_axum::trace_layer())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Serves a built demo on `listener` with its time limits (`oidc_hybrid_axum::serve`) until
/// `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    demo: Demo,
    shutdown: impl Future<Output = ()> + Send,
) {
    oidc_hybrid_axum::serve(listener, demo.router, demo.timeouts, shutdown).await;
}

/// `https` when the demo serves TLS, else `http`.
fn scheme(options: &Options) -> &'static str {
    if options.tls_cert.is_some() {
        "https"
    } else {
        "http"
    }
}

/// The TLS configuration the options ask for (`--tls-cert`, `--tls-key`, `--client-ca`,
/// `--accept-self-signed-client-certs`), or `None` to serve plain HTTP.
///
/// # Errors
///
/// [`DemoError::Tls`] naming the file that cannot be read or holds no usable certificate or
/// key, or the key that does not suit the certificate.
pub fn tls_server(options: &Options) -> Result<Option<TlsServer>, DemoError> {
    let (Some(cert), Some(key_file)) = (&options.tls_cert, &options.tls_key) else {
        return Ok(None);
    };
    let tls = |e: TlsError| DemoError::Tls(e.to_string());
    let mut clients =
        ClientCertificates::default().with_self_signed(options.accept_self_signed_client_certs);
    if let Some(ca) = &options.client_ca {
        clients = clients.with_roots(load_certificates(ca).map_err(tls)?);
    }
    let chain = load_certificates(cert).map_err(tls)?;
    let key = load_private_key(key_file).map_err(tls)?;
    TlsServer::new(chain, key, clients).map(Some).map_err(|e| {
        let (cert, key) = (cert.display(), key_file.display());
        DemoError::Tls(format!("{cert} and {key}: {e}"))
    })
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
        .unwrap_or_else(|| format!("{}://{}", scheme(&options), options.addr));
    clients::load(options.clients.as_deref(), &issuer)?;
    users::load(options.users.as_deref())?;
    let tls = tls_server(&options)?;
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
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        info!("shutting down");
    };
    let report = demo.store_report.clone();
    match tls {
        Some(tls) => serve_tls(listener, demo.router, tls, demo.timeouts, shutdown).await,
        None => serve(listener, demo, shutdown).await,
    }
    if let Some(report) = report {
        eprintln!("  {}", report.describe());
    }
    Ok(())
}

/// The README's code, compiled as doc tests (the demo crate has every dependency it uses).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

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
