//! Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5) through the
//! [`Guard`]: [`GuardedLogoutSender`].

use alloc::sync::Arc;
use core::time::Duration;

use oidc_hybrid::logout::SendFuture;
use oidc_hybrid::{LogoutSender, SendError};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use tokio::sync::Semaphore;
use tracing::{info, warn};

use crate::Guard;

/// How a [`GuardedLogoutSender`] retries: `attempts` in all, waiting `backoff`, then twice as
/// long, … between them; at most `in_flight` deliveries at once (more are refused, and logged
/// by the provider's observer, rather than queued without bound).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per delivery, the first included (default 3).
    pub attempts: u32,
    /// The wait before the second attempt (default 1 s); it doubles after each.
    pub backoff: Duration,
    /// Deliveries under way at once (default 256).
    pub in_flight: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_secs(1),
            in_flight: 256,
        }
    }
}

impl RetryPolicy {
    /// A policy of `attempts` attempts, the first retry after `backoff`.
    #[must_use]
    pub fn new(attempts: u32, backoff: Duration) -> Self {
        Self {
            attempts: attempts.max(1),
            backoff,
            ..Self::default()
        }
    }
}

/// The provider's [`LogoutSender`]: POSTs `logout_token=…` to clients' `backchannel_logout_uri`
/// with the [`Guard`]'s client (https only, public addresses only, no redirects, time limits),
/// in a background task per delivery, so that `send` returns at once and the End-User's logout
/// never waits for a client. A 2xx answer ends the delivery; a network error, 5xx or 429 is
/// retried with doubling backoff up to the policy's attempts; any other answer (the client
/// refused the token) is not retried. Outcomes are logged without the token. Needs a tokio
/// runtime. Cloning is cheap.
#[derive(Clone, Debug)]
pub struct GuardedLogoutSender {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    guard: Guard,
    client: reqwest::Client,
    policy: RetryPolicy,
    permits: Arc<Semaphore>,
}

impl GuardedLogoutSender {
    /// A sender with `guard`'s policy and the default [`RetryPolicy`].
    ///
    /// # Errors
    ///
    /// [`reqwest::Error`] when the HTTP client cannot be built (TLS backend).
    pub fn new(guard: Guard) -> Result<Self, reqwest::Error> {
        Self::with_retry_policy(guard, RetryPolicy::default())
    }

    /// A sender with `guard`'s policy and `policy` for retries.
    ///
    /// # Errors
    ///
    /// [`reqwest::Error`] when the HTTP client cannot be built (TLS backend).
    pub fn with_retry_policy(guard: Guard, policy: RetryPolicy) -> Result<Self, reqwest::Error> {
        let client = guard.client()?;
        Ok(Self {
            inner: Arc::new(Inner {
                guard,
                client,
                policy,
                permits: Arc::new(Semaphore::new(policy.in_flight.max(1))),
            }),
        })
    }
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    Refused(StatusCode),
    Failed(String),
}

impl Inner {
    async fn attempt(&self, url: &reqwest::Url, token: &str) -> Attempt {
        let response = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(CACHE_CONTROL, "no-store")
            .body(format!("logout_token={token}"))
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => Attempt::Delivered,
            Ok(r)
                if r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS =>
            {
                Attempt::Failed(format!("status {}", r.status().as_u16()))
            }
            Ok(r) => Attempt::Refused(r.status()),
            Err(e) => Attempt::Failed(e.without_url().to_string()),
        }
    }

    async fn deliver(&self, url: reqwest::Url, token: String) {
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut wait = self.policy.backoff;
        for attempt in 1..=self.policy.attempts {
            match self.attempt(&url, &token).await {
                Attempt::Delivered => {
                    info!(host, attempt, "back-channel logout delivered");
                    return;
                }
                Attempt::Refused(status) => {
                    warn!(
                        host,
                        status = status.as_u16(),
                        "back-channel logout refused by the client"
                    );
                    return;
                }
                Attempt::Failed(reason) if attempt < self.policy.attempts => {
                    info!(
                        host,
                        attempt, reason, "back-channel logout failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
                Attempt::Failed(reason) => {
                    warn!(host, attempt, reason, "back-channel logout not delivered");
                }
            }
        }
    }
}

impl LogoutSender for GuardedLogoutSender {
    fn send<'a>(&'a self, uri: &'a str, logout_token: String) -> SendFuture<'a> {
        Box::pin(async move {
            let url = self.inner.guard.check_url(uri).map_err(|refused| {
                warn!(%refused, "back-channel logout URI refused");
                SendError::Refused
            })?;
            let permit = Arc::clone(&self.inner.permits)
                .try_acquire_owned()
                .map_err(|_| SendError::Unavailable)?;
            let inner = Arc::clone(&self.inner);
            tokio::spawn(async move {
                inner.deliver(url, logout_token).await;
                drop(permit);
            });
            Ok(())
        })
    }
}
