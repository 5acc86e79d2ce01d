//! [`serve_tls`]: [`oidc_hybrid_axum::serve`] over TLS, with the client certificate of each
//! connection in its requests.

use alloc::sync::Arc;
use core::future::Future;
use core::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use oidc_hybrid::binding::ClientCertificate;
use oidc_hybrid_axum::Timeouts;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::Service as _;
use tower_http::timeout::TimeoutLayer;
use tracing::{debug, warn};

use crate::certificate::client_certificate;
use crate::config::TlsServer;

/// Serves `app` over TLS on `listener` until `shutdown` completes, then lets open connections
/// finish for up to 10 s, as [`oidc_hybrid_axum::serve`] does over TCP: HTTP/1.1, a client slow
/// to send a request head cut off after [`Timeouts::header_read`], **408** for a request not
/// answered within [`Timeouts::request`], the client's address in every request as
/// `ConnectInfo<SocketAddr>`. A handshake not completed within the [`TlsServer`]'s handshake
/// timeout (10 s by default) closes the connection; handshakes run beside the accept loop, so a
/// slow one delays no other client.
///
/// When the client presented a certificate that the [`TlsServer`]'s policy accepted (RFC 8705
/// §2), every request of the connection carries it as a [`ClientCertificate`] extension — its
/// thumbprint always, its subject DN and SANs when its chain leads to a trusted client CA —
/// which the axum adapter passes to the core.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    tls: TlsServer,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send,
) {
    let timeout = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeouts.request);
    let app = app.layer(timeout);
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    let acceptor = TlsAcceptor::from(Arc::clone(&tls.config));
    let tls = Arc::new(tls);
    let graceful = GracefulShutdown::new();
    let mut shutdown = core::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Ok((stream, remote)) = accepted else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (app, http1, acceptor, tls) = (
            app.clone(),
            http1.clone(),
            acceptor.clone(),
            Arc::clone(&tls),
        );
        // Counted from the start of the handshake, so that shutdown waits for it too.
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(tls.handshake_timeout, acceptor.accept(stream));
            let stream = match handshake.await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    debug!(%remote, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    debug!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| connection_certificate(chain, &tls));
            let service = hyper::service::service_fn(move |mut request: Request<_>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                if let Some(certificate) = &certificate {
                    request.extensions_mut().insert(certificate.clone());
                }
                app.clone().call(request)
            });
            let connection = http1.serve_connection(TokioIo::new(stream), service);
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}

/// The [`ClientCertificate`] of a connection whose client presented `chain` (end entity
/// first): with its names only when its chain was validated, in the handshake or by the
/// server's names check.
fn connection_certificate(
    chain: &[CertificateDer<'static>],
    tls: &TlsServer,
) -> Option<ClientCertificate> {
    let (end_entity, intermediates) = chain.split_first()?;
    let named = tls.names
        && tls
            .names_check
            .as_deref()
            .is_none_or(|check: &dyn ClientCertVerifier| {
                check
                    .verify_client_cert(end_entity, intermediates, UnixTime::now())
                    .is_ok()
            });
    if !named {
        return Some(ClientCertificate::from_der(end_entity));
    }
    match client_certificate(end_entity) {
        Ok(certificate) => Some(certificate),
        Err(error) => {
            // rustls accepted it, so it parsed there: keep the thumbprint, drop the names.
            warn!(%error, "client certificate names unreadable");
            Some(ClientCertificate::from_der(end_entity))
        }
    }
}
