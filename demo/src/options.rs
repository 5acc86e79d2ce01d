//! The command line: the demo's options, their defaults and `--help`.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::path::PathBuf;

/// The default listening address.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// The default database: a SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://oidc-demo.sqlite";

/// The command-line help.
pub const USAGE: &str = "\
Usage: cargo run -p oidc-hybrid-demo -- [OPTIONS]

A demo OpenID Provider (hybrid flow) with login, consent and a relying-party playground.

Options:
  --addr ADDR            listen on ADDR (default 127.0.0.1:8080)
  --issuer URL           the issuer URL (default http://ADDR; https, or http on loopback)
  --database-url URL     sqlite://FILE (default sqlite://oidc-demo.sqlite, created if
                         missing; durable: each write acknowledged after its fsync;
                         sqlite://FILE?synchronous=normal trades that for speed: see
                         docs/storage.md), postgres://USER@HOST/DB, or memory: (nothing is kept
                         and no file is read or written: the keys are generated in
                         memory too, unless --keys-dir is given)
  --signer NAME          ring (default: fast, constant-time RSA) or rustcrypto
  --code-lifetime SECS   authorization code lifetime (default 60, at most 600)
  --access-token-lifetime SECS
                         access token lifetime (default 3600)
  --refresh-token-lifetime SECS
                         refresh token lifetime (default 2592000, 30 days)
  --sweep-every SECS     how often expired codes and tokens are removed (default 60)
  --keys-dir DIR         where the signing keys (and the playground client's key) are kept
                         (default: beside the SQLite file, or the working directory for
                         PostgreSQL; in memory for memory:); a keys.json there lists the
                         signing keys for a rollover (next, active, retired until) and is
                         re-read at every sweep
  --clients FILE         client registrations: a JSON array of RFC 7591 metadata, with
                         jwks / jwks_uri, token_endpoint_auth_signing_alg,
                         request_object_signing_alg, require_pushed_authorization_requests
                         (default: the built-in demo clients). The list is the source of
                         truth: clients the database holds from an earlier run that it
                         does not name are removed at start
  --users FILE           users: a JSON array of {username, password, sub?, standard claims}
                         (default: the built-in user alice / wonderland)
  --tls-cert FILE        serve HTTPS with this PEM certificate chain (server certificate
                         first); needs --tls-key; the issuer is then https://ADDR
  --tls-key FILE         the PEM private key of --tls-cert (PKCS #8, PKCS #1 or SEC 1)
  --client-ca FILE       ask TLS clients for a certificate (optional) and accept those
                         issued by a CA of this PEM file (RFC 8705 tls_client_auth)
  --accept-self-signed-client-certs
                         accept any client certificate, self-signed ones included (RFC
                         8705 self_signed_tls_client_auth); one not issued by a --client-ca
                         CA is known by its thumbprint only, never by its names
  --header-timeout SECS  time a client has to send a request's head (default 10)
  --request-timeout SECS time to receive and answer a request once its head arrived,
                         body included; 408 after it (default 30)
  --log-format FORMAT    text (default) or json (one JSON object per line)
  -h, --help             print this help

Logs go to standard error, each line of a request with its request id (the x-request-id
response header); set RUST_LOG (e.g. RUST_LOG=debug) to change the level.
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
    /// The authorization code lifetime in seconds; `None`: the default of
    /// [`Config`](oidc_hybrid::Config).
    pub code_lifetime: Option<u64>,
    /// The access token lifetime in seconds; `None`: the default of
    /// [`Config`](oidc_hybrid::Config).
    pub access_token_lifetime: Option<u64>,
    /// The refresh token lifetime in seconds; `None`: the default of
    /// [`Config`](oidc_hybrid::Config).
    pub refresh_token_lifetime: Option<u64>,
    /// How often expired codes, tokens and sessions are removed.
    pub sweep_every: Duration,
    /// How long a client may take to send a request's head.
    pub header_timeout: Duration,
    /// How long receiving and answering a request may take once its head arrived.
    pub request_timeout: Duration,
    /// How logs are written.
    pub log_format: LogFormat,
    /// The server's certificate chain (PEM): serve HTTPS. Set with [`tls_key`](Self::tls_key).
    pub tls_cert: Option<PathBuf>,
    /// The server's private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// The CAs of client certificates (PEM): ask TLS clients for a certificate.
    pub client_ca: Option<PathBuf>,
    /// Accept client certificates whose chain is not validated (self-signed).
    pub accept_self_signed_client_certs: bool,
}

/// How the demo writes its logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// JSON, one object per line (`tracing-subscriber`'s JSON format).
    Json,
    /// Human-readable lines.
    #[default]
    Text,
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
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            log_format: LogFormat::default(),
            tls_cert: None,
            tls_key: None,
            client_ca: None,
            accept_self_signed_client_certs: false,
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
    /// A message naming the unknown option, the missing value or the malformed address, or TLS
    /// options given without the certificate and key they need.
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
            if arg == "--accept-self-signed-client-certs" {
                options.accept_self_signed_client_certs = true;
                continue;
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
                "--header-timeout",
                "--request-timeout",
                "--log-format",
                "--tls-cert",
                "--tls-key",
                "--client-ca",
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
            options.set(&name, value)?;
        }
        match (&options.tls_cert, &options.tls_key) {
            (Some(_), None) => return Err("--tls-cert needs --tls-key (see --help)".into()),
            (None, Some(_)) => return Err("--tls-key needs --tls-cert (see --help)".into()),
            (None, None) if options.client_ca.is_some() => {
                return Err("--client-ca needs --tls-cert and --tls-key (see --help)".into());
            }
            (None, None) if options.accept_self_signed_client_certs => {
                return Err(
                    "--accept-self-signed-client-certs needs --tls-cert and --tls-key (see --help)"
                        .into(),
                );
            }
            _ => {}
        }
        Ok(Command::Run(options))
    }

    /// Sets the option `name` (one of the known options) to `value`.
    fn set(&mut self, name: &str, value: String) -> Result<(), String> {
        match name {
            "--addr" => {
                self.addr = value.parse().map_err(|_| {
                    format!("--addr {value:?} is not an address like 127.0.0.1:8080")
                })?;
            }
            "--issuer" => self.issuer = Some(value),
            "--database-url" => self.database_url = value,
            "--keys-dir" => self.keys_dir = Some(value.into()),
            "--clients" => self.clients = Some(value.into()),
            "--tls-cert" => self.tls_cert = Some(value.into()),
            "--tls-key" => self.tls_key = Some(value.into()),
            "--client-ca" => self.client_ca = Some(value.into()),
            "--signer" => {
                self.signer = match value.as_str() {
                    "ring" => SignerKind::Ring,
                    "rustcrypto" => SignerKind::RustCrypto,
                    _ => return Err(format!("--signer {value:?}: ring or rustcrypto")),
                };
            }
            "--code-lifetime" => {
                let secs = seconds(name, &value)?;
                if secs > oidc_hybrid::config::MAX_CODE_LIFETIME {
                    return Err(format!(
                        "--code-lifetime {secs}: at most {} seconds (RFC 6749 §4.1.2)",
                        oidc_hybrid::config::MAX_CODE_LIFETIME
                    ));
                }
                self.code_lifetime = Some(secs);
            }
            "--access-token-lifetime" => {
                self.access_token_lifetime = Some(seconds(name, &value)?);
            }
            "--refresh-token-lifetime" => {
                self.refresh_token_lifetime = Some(seconds(name, &value)?);
            }
            "--sweep-every" => {
                self.sweep_every = Duration::from_secs(seconds(name, &value)?);
            }
            "--header-timeout" => {
                self.header_timeout = Duration::from_secs(seconds(name, &value)?);
            }
            "--request-timeout" => {
                self.request_timeout = Duration::from_secs(seconds(name, &value)?);
            }
            "--log-format" => {
                self.log_format = match value.as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(format!("--log-format {value:?}: text or json")),
                };
            }
            _ => self.users = Some(value.into()),
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use std::path::Path;

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
            "--header-timeout",
            "2",
            "--request-timeout=3",
            "--log-format",
            "json",
        ]) else {
            panic!("parses")
        };
        assert_eq!(o.database_url, "memory:");
        assert_eq!(o.signer, SignerKind::RustCrypto);
        assert_eq!(o.access_token_lifetime, Some(10));
        assert_eq!(o.code_lifetime, Some(30));
        assert_eq!(o.refresh_token_lifetime, Some(20));
        assert_eq!(o.sweep_every, Duration::from_secs(5));
        assert_eq!(o.header_timeout, Duration::from_secs(2));
        assert_eq!(o.request_timeout, Duration::from_secs(3));
        assert_eq!(o.log_format, LogFormat::Json);
        assert_eq!(Options::default().log_format, LogFormat::Text);
        assert!(args(&["--log-format", "xml"]).is_err());
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
    fn tls_arguments() {
        let Ok(Command::Run(o)) = args(&[
            "--tls-cert",
            "cert.pem",
            "--tls-key=key.pem",
            "--client-ca",
            "ca.pem",
            "--accept-self-signed-client-certs",
        ]) else {
            panic!("parses")
        };
        assert_eq!(o.tls_cert.as_deref(), Some(Path::new("cert.pem")));
        assert_eq!(o.tls_key.as_deref(), Some(Path::new("key.pem")));
        assert_eq!(o.client_ca.as_deref(), Some(Path::new("ca.pem")));
        assert!(o.accept_self_signed_client_certs);
        assert!(!Options::default().accept_self_signed_client_certs);
        assert!(args(&["--tls-cert", "cert.pem"]).is_err());
        assert!(args(&["--tls-key", "key.pem"]).is_err());
        assert!(args(&["--client-ca", "ca.pem"]).is_err());
        assert!(args(&["--accept-self-signed-client-certs"]).is_err());
        assert!(args(&["--accept-self-signed-client-certs=yes"]).is_err());
    }
}
