//! Outbound HTTP for [`oidc_hybrid`] to URLs that clients supplied, behind one guard.
//!
//! A client that registers a `jwks_uri` chooses where the provider connects: without a guard
//! it could point the provider at `http://169.254.169.254/` or an admin port on `localhost`
//! (server-side request forgery). Every such request goes through a [`Guard`]:
//!
//! - **https only**, no credentials in the URL;
//! - **public addresses only**: the host is resolved by the guard's resolver, which drops
//!   loopback, private, shared, link-local, unique-local, multicast, unspecified,
//!   documentation and other special-purpose addresses (IPv4 and IPv6, IPv4-mapped too)
//!   *before* connecting, so the address connected to is the one checked (no DNS rebinding);
//!   IP literal hosts are checked the same way;
//! - **no redirects** and no proxy; a connect and a total **time limit**;
//! - a **size cap** on bodies ([`read_capped`]).
//!
//! [`GuardedFetcher`] is the provider's [`JwksFetcher`] on that guard, with a bounded cache
//! that follows `Cache-Control: max-age` within limits and fetches again when a wanted `kid`
//! is missing, at most once a minute per URI ([`CachePolicy`]):
//!
//! ```
//! use oidc_hybrid::{Clock, Provider, SecureRandom, Storage};
//! use oidc_hybrid_fetch::{Guard, GuardedFetcher};
//!
//! fn wire<S: Storage, C: Clock + Send + Sync, R: SecureRandom + Send + Sync>(
//!     provider: Provider<S, C, R>,
//! ) -> Result<Provider<S, C, R>, reqwest::Error> {
//!     Ok(provider.with_jwks_fetcher(GuardedFetcher::new(Guard::new())?))
//! }
//! ```
//!
//! The same [`Guard`] builds the client for other requests to client-supplied URLs
//! ([`Guard::check_url`], [`Guard::client`], [`read_capped`]), among them
//! [`GuardedLogoutSender`], the provider's [`LogoutSender`](oidc_hybrid::LogoutSender) for
//! back-channel logout tokens (bounded retries with backoff, in the background).

extern crate alloc;

mod cache;
mod guard;
mod logout;

use alloc::sync::Arc;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use oidc_hybrid::client_keys::{FetchFuture, MAX_CLIENT_JWKS_LEN};
use oidc_hybrid::{ClientJwks, FetchError, JwksFetcher};
use reqwest::header::{ACCEPT, CACHE_CONTROL};
use tracing::info;

pub use cache::{CachePolicy, max_age};
pub use guard::{BodyError, Guard, Refused, is_public, read_capped};
pub use logout::{GuardedLogoutSender, RetryPolicy};

use cache::{Cache, Lookup};

/// The provider's [`JwksFetcher`]: clients' `jwks_uri` fetched through a [`Guard`], at most
/// [`MAX_CLIENT_JWKS_LEN`] bytes, cached by [`CachePolicy`]. Cloning is cheap and shares the
/// cache.
#[derive(Clone, Debug)]
pub struct GuardedFetcher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    guard: Guard,
    client: reqwest::Client,
    cache: Mutex<Cache>,
}

impl GuardedFetcher {
    /// A fetcher with `guard`'s policy and the default [`CachePolicy`].
    ///
    /// # Errors
    ///
    /// [`reqwest::Error`] when the HTTP client cannot be built (TLS backend).
    pub fn new(guard: Guard) -> Result<Self, reqwest::Error> {
        Self::with_cache_policy(guard, CachePolicy::default())
    }

    /// A fetcher with `guard`'s policy and `policy` for its cache.
    ///
    /// # Errors
    ///
    /// [`reqwest::Error`] when the HTTP client cannot be built (TLS backend).
    pub fn with_cache_policy(guard: Guard, policy: CachePolicy) -> Result<Self, reqwest::Error> {
        let client = guard.client()?;
        Ok(Self {
            inner: Arc::new(Inner {
                guard,
                client,
                cache: Mutex::new(Cache::new(policy)),
            }),
        })
    }

    /// The guard.
    #[must_use]
    pub fn guard(&self) -> &Guard {
        &self.inner.guard
    }

    /// Fetches `uri` now, without the cache: the set and its `max-age`.
    async fn download(
        &self,
        uri: &str,
    ) -> Result<(ClientJwks, Option<core::time::Duration>), FetchError> {
        let url = self.inner.guard.check_url(uri).map_err(|refused| {
            info!(%refused, "jwks_uri refused");
            FetchError::Refused
        })?;
        let response = self
            .inner
            .client
            .get(url)
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .send()
            .await
            .map_err(|e| {
                if guard::refused_by_resolver(&e) {
                    FetchError::Refused
                } else {
                    info!(error = %e, "jwks_uri unavailable");
                    FetchError::Unavailable
                }
            })?;
        if response.status() != reqwest::StatusCode::OK {
            // Redirects included: they are not followed.
            info!(
                status = response.status().as_u16(),
                "jwks_uri answered an error"
            );
            return Err(FetchError::Unavailable);
        }
        let max_age = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        let body = read_capped(response, MAX_CLIENT_JWKS_LEN)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => FetchError::Invalid,
                _ => FetchError::Unavailable,
            })?;
        let jwks = ClientJwks::parse(&body).map_err(|_| FetchError::Invalid)?;
        Ok((jwks, max_age))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn fetch_cached(&self, uri: &str, kid: Option<&str>) -> Result<ClientJwks, FetchError> {
        let fallback = match self.cache().lookup(uri, kid, Instant::now()) {
            Lookup::Cached(jwks) => return Ok(jwks),
            Lookup::Fetch(fallback) => fallback,
        };
        match self.download(uri).await {
            Ok((jwks, max_age)) => {
                self.cache()
                    .store(uri, jwks.clone(), max_age, Instant::now());
                Ok(jwks)
            }
            Err(error) => fallback.ok_or(error),
        }
    }
}

impl JwksFetcher for GuardedFetcher {
    fn fetch<'a>(&'a self, uri: &'a str, kid: Option<&'a str>) -> FetchFuture<'a> {
        Box::pin(self.fetch_cached(uri, kid))
    }
}
