//! [`TlsServer`]: the rustls configuration [`serve_tls`](crate::serve_tls) serves with, and the
//! policy for client certificates.

use alloc::sync::Arc;
use core::time::Duration;
use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use crate::verifier::AnyCertificate;

/// Which client certificates the server asks for and accepts (RFC 8705 §2). A certificate is
/// asked for but never required: clients without one connect as before. By default none is
/// asked for.
///
/// - With [`roots`](Self::with_roots) only: certificates whose chain leads to one of these CAs
///   (the PKI method, `tls_client_auth`, §2.1); any other is refused in the handshake.
/// - With [`self_signed`](Self::with_self_signed) only: any certificate, its chain unchecked
///   (`self_signed_tls_client_auth`, §2.2: the provider compares its thumbprint with one in
///   the client's registered JWKS). The handshake still proves the client holds its key.
/// - With both: any certificate; only those whose chain leads to one of the roots come with
///   their names (subject DN and SANs), the others with their thumbprint alone.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ClientCertificates {
    /// The CAs (trust anchors) client certificate chains may lead to.
    pub roots: Vec<CertificateDer<'static>>,
    /// Whether certificates that lead to none of them are accepted too.
    pub self_signed: bool,
}

impl ClientCertificates {
    /// Trusts `roots` as issuers of client certificates (added to those already given).
    #[must_use]
    pub fn with_roots(mut self, roots: impl IntoIterator<Item = CertificateDer<'static>>) -> Self {
        self.roots.extend(roots);
        self
    }

    /// Accepts (`true`) certificates whose chain is not validated, such as self-signed ones.
    #[must_use]
    pub fn with_self_signed(mut self, accept: bool) -> Self {
        self.self_signed = accept;
        self
    }
}

/// The TLS side of [`serve_tls`](crate::serve_tls): a rustls server configuration (the `ring`
/// crypto provider, TLS 1.2 and 1.3, ALPN `http/1.1`) with the server's certificate chain and
/// key, the client certificate policy, and the time a handshake may take (10 s by default).
#[derive(Clone, Debug)]
pub struct TlsServer {
    pub(crate) config: Arc<rustls::ServerConfig>,
    /// Checks, after a handshake that did not validate chains, whether a client certificate's
    /// chain leads to a trusted root (its names are given only then); `None` when the
    /// handshake validated it, or when no root is trusted.
    pub(crate) names_check: Option<Arc<dyn ClientCertVerifier>>,
    /// Whether client certificates carry their names: only when their chains were validated.
    pub(crate) names: bool,
    pub(crate) handshake_timeout: Duration,
}

impl TlsServer {
    /// A configuration serving `chain` (the server's certificate first, then its
    /// intermediates) with `key`, and asking for client certificates as `clients` says.
    ///
    /// # Errors
    ///
    /// [`TlsError::ClientRoots`] or [`TlsError::ClientVerifier`] if a root is not a usable CA
    /// certificate;
    /// [`TlsError::Config`] if the key does not suit the certificate or is of an unsupported
    /// kind.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        clients: ClientCertificates,
    ) -> Result<Self, TlsError> {
        // ring, as the rest of the workspace: no aws-lc-sys to build, but no post-quantum key
        // exchange either (docs/decisions/0035).
        #[expect(deprecated, reason = "ring's provider lacks post-quantum key exchange")]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let validating = if clients.roots.is_empty() {
            None
        } else {
            let mut roots = RootCertStore::empty();
            for root in clients.roots {
                roots.add(root).map_err(TlsError::ClientRoots)?;
            }
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                    .allow_unauthenticated()
                    .build()
                    .map_err(TlsError::ClientVerifier)?;
            Some(verifier)
        };
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?;
        let (builder, names_check, names) = match (clients.self_signed, validating) {
            (false, None) => (builder.with_no_client_auth(), None, false),
            (false, Some(validating)) => {
                (builder.with_client_cert_verifier(validating), None, true)
            }
            (true, validating) => {
                let any: Arc<dyn ClientCertVerifier> = Arc::new(AnyCertificate::new(&provider));
                let names = validating.is_some();
                (builder.with_client_cert_verifier(any), validating, names)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(TlsError::Config)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            names_check,
            names,
            handshake_timeout: Duration::from_secs(10),
        })
    }

    /// [`new`](Self::new) with the certificate chain and the private key read from PEM files.
    ///
    /// # Errors
    ///
    /// As [`load_certificates`], [`load_private_key`] and [`new`](Self::new).
    pub fn from_pem_files(
        chain: &Path,
        key: &Path,
        clients: ClientCertificates,
    ) -> Result<Self, TlsError> {
        Self::new(load_certificates(chain)?, load_private_key(key)?, clients)
    }

    /// Closes connections whose handshake has not completed within `timeout`.
    #[must_use]
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The rustls configuration, to serve with a stack of one's own.
    #[must_use]
    pub fn rustls_config(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(&self.config)
    }

    /// The crypto provider of the configuration.
    #[must_use]
    pub fn provider(&self) -> &Arc<CryptoProvider> {
        self.config.crypto_provider()
    }
}

/// Reads every certificate of a PEM file (`-----BEGIN CERTIFICATE-----` blocks, RFC 7468 §5).
///
/// # Errors
///
/// [`TlsError::Read`] if the file cannot be read; [`TlsError::Pem`] if a block is malformed;
/// [`TlsError::NoCertificate`] if it holds no certificate.
pub fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: path.to_owned(),
            source,
        })?;
    if certificates.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(certificates)
}

/// Reads the first private key of a PEM file: PKCS #8 (`PRIVATE KEY`, RFC 7468 §10), PKCS #1
/// (`RSA PRIVATE KEY`) or SEC 1 (`EC PRIVATE KEY`).
///
/// # Errors
///
/// [`TlsError::Read`] if the file cannot be read; [`TlsError::Pem`] if it holds no private key
/// or a malformed one.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|source| TlsError::Pem {
        path: path.to_owned(),
        source,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Why a [`TlsServer`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A client CA certificate is not usable as a trust anchor.
    #[error("client CA certificate: {0}")]
    ClientRoots(#[source] rustls::Error),
    /// The client CA certificates give no usable verifier.
    #[error("client CA certificates: {0}")]
    ClientVerifier(#[source] rustls::server::VerifierBuilderError),
    /// rustls refused the configuration (a key that does not suit the certificate, say).
    #[error("TLS configuration: {0}")]
    Config(#[source] rustls::Error),
    /// A PEM file holds no certificate.
    #[error("{}: no certificate (a PEM file with -----BEGIN CERTIFICATE----- blocks)", .0.display())]
    NoCertificate(PathBuf),
    /// A PEM file is malformed, or holds no private key.
    #[error("{}: {source}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
