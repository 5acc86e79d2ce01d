//! [`serve`]: HTTP/1.1 with the time limits a public endpoint needs, and the client's address
//! in every request.

use core::future::Future;
use core::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::Service as _;
use tower_http::timeout::TimeoutLayer;

/// The time limits of [`serve`] (set the fields of `Timeouts::default()`).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Receiving a request's head (or the next one on a keep-alive connection): 10 s.
    pub header_read: Duration,
    /// Answering a request once its head arrived, its body included (then 408): 30 s.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        let secs = Duration::from_secs;
        Self {
            header_read: secs(10),
            request: secs(30),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open connections finish
/// for up to 10 s. Unlike `axum::serve`, a client slow to send its request head is cut off
/// after [`Timeouts::header_read`], a request not answered within [`Timeouts::request`] (a
/// body sent too slowly, say) gets **408**, and every request carries its client's address as
/// `ConnectInfo<SocketAddr>` (failed client authentication is counted per address). A failed
/// `accept` (out of file descriptors, say) is retried after 100 ms.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send,
) {
    let timeout = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeouts.request);
    let app = app.layer(timeout);
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
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
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: Request<_>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().call(request)
        });
        let connection = http1.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(graceful.watch(connection));
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}
