//! Mutual TLS for oidc-hybrid (RFC 8705): serves an axum [`Router`](axum::Router) over TLS with
//! rustls, asks clients for a certificate without requiring one, and hands the certificate of
//! each connection to the core as a [`ClientCertificate`] in every request's extensions, where
//! the axum adapter of oidc-hybrid reads it.
//!
//! The core does no TLS: it needs, for each request, the client certificate the TLS layer
//! verified the connection's proof of possession for (the handshake's `CertificateVerify`),
//! known by its SHA-256 thumbprint (what certificate-bound tokens carry as `cnf.x5t#S256`, RFC
//! 8705 §3.1) and its names (what `tls_client_auth` matches a client by, §2.1.2).
//!
//! - [`serve_tls`] is [`oidc_hybrid_axum::serve`] over TLS: the same time limits (with a
//!   handshake limit besides), the same graceful shutdown, the client's address as
//!   `ConnectInfo`, and the [`ClientCertificate`] of the connection, if any.
//! - [`TlsServer`] is its rustls configuration: the server's certificate chain and key, and a
//!   [`ClientCertificates`] policy: none asked for, certificates that chain to given CAs (the
//!   PKI method, §2.1), self-signed ones (§2.2), or both on one port.
//! - [`client_certificate`] reads a DER certificate for hosts with a TLS stack of their own.
//!
//! ```no_run
//! # async fn run(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//!
//! use oidc_hybrid_axum::Timeouts;
//! use oidc_hybrid_tls::{ClientCertificates, TlsServer, load_certificates, serve_tls};
//!
//! let clients = ClientCertificates::default()
//!     .with_roots(load_certificates(Path::new("client-ca.pem"))?)
//!     .with_self_signed(true);
//! let tls = TlsServer::from_pem_files(Path::new("cert.pem"), Path::new("key.pem"), clients)?;
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
//! serve_tls(listener, app, tls, Timeouts::default(), std::future::pending()).await;
//! # Ok(())
//! # }
//! ```
//!
//! ## One port or two
//!
//! A client certificate is asked for on every connection but not required, so that clients
//! authenticating otherwise (and browsers, at the authorization endpoint) use the same port;
//! RFC 8705 §5 allows this. A deployment that must not ask browsers for a certificate serves
//! the endpoints twice instead: once without client certificates and once with, at other
//! URLs, and announces the second set in discovery as `mtls_endpoint_aliases` (§5), where
//! clients using mutual TLS find them.

extern crate alloc;

mod certificate;
mod config;
mod serve;
mod verifier;

pub use certificate::{InvalidCertificate, client_certificate};
pub use config::{ClientCertificates, TlsError, TlsServer, load_certificates, load_private_key};
pub use oidc_hybrid::binding::ClientCertificate;
/// The rustls this crate is built on: its `pki_types` (`CertificateDer`, `PrivateKeyDer`) and
/// `ServerConfig` are those of [`TlsServer`].
pub use rustls;
pub use serve::serve_tls;
