//! Limits on password checks: at most one Argon2 check per core at a time (each takes 19 MiB
//! and a core for a while), and failed logins slowed down per account and per client address
//! ([`Backoff`]: a few free failures, then waits that double) — answered with 429 and
//! `Retry-After` while a wait lasts.

use alloc::sync::Arc;
use core::net::IpAddr;
use core::num::NonZeroUsize;
use core::time::Duration;
use std::time::Instant;

use oidc_hybrid_axum::throttle::Backoff;
use tokio::sync::Semaphore;

use crate::users;

/// Failed logins an account may have without waiting.
const FREE_PER_ACCOUNT: u32 = 5;
/// Failed logins a client address may have without waiting (several users may share one).
const FREE_PER_ADDRESS: u32 = 20;
/// The longest wait.
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Most accounts and addresses remembered, each.
const MAX_KEYS: NonZeroUsize = NonZeroUsize::new(65_536).expect("not zero");

/// The password-check limits.
#[derive(Debug)]
pub(crate) struct Limits {
    hashing: Arc<Semaphore>,
    accounts: Backoff<String>,
    addresses: Backoff<IpAddr>,
}

impl Limits {
    /// As many concurrent checks as the machine has cores.
    pub(crate) fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::with_permits(cores)
    }

    fn with_permits(permits: usize) -> Self {
        Self {
            hashing: Arc::new(Semaphore::new(permits)),
            accounts: Backoff::new(FREE_PER_ACCOUNT, MAX_DELAY, MAX_KEYS),
            addresses: Backoff::new(FREE_PER_ADDRESS, MAX_DELAY, MAX_KEYS),
        }
    }

    /// Whether a login as `username` from `addr` may be checked now; the longer of the two
    /// waits otherwise.
    pub(crate) fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let account = self.accounts.check(&username.to_owned(), now);
        let address = addr.map_or(Ok(()), |addr| self.addresses.check(&addr, now));
        match (account, address) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(a.max(b)),
            (Err(wait), _) | (_, Err(wait)) => Err(wait),
        }
    }

    /// Counts a failed login as `username` from `addr`.
    pub(crate) fn failed(&self, username: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        self.accounts.fail(username.to_owned(), now);
        if let Some(addr) = addr {
            self.addresses.fail(addr, now);
        }
    }

    /// Clears the account's count after a successful login (the address keeps its count, so
    /// that one good password does not buy more guesses at others).
    pub(crate) fn succeeded(&self, username: &str) {
        self.accounts.succeed(&username.to_owned());
    }

    /// Whether `password` matches `hash`, checked on a blocking thread once one of the
    /// permits is free.
    pub(crate) async fn verify(&self, hash: String, password: String) -> bool {
        let Ok(permit) = Arc::clone(&self.hashing).acquire_owned().await else {
            return false; // never closed
        };
        tokio::task::spawn_blocking(move || {
            let matches = users::check(&hash, &password);
            drop(permit);
            matches
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_wait_for_a_free_permit() {
        let limits = Limits::with_permits(1);
        let hash = users::load(None).expect("built-in").hash_for("alice").1;
        let held = Arc::clone(&limits.hashing)
            .acquire_owned()
            .await
            .expect("permit");
        let waiting = limits.verify(hash.clone(), "wonderland".into());
        let timed_out = tokio::time::timeout(Duration::from_millis(300), waiting).await;
        assert!(
            timed_out.is_err(),
            "no check runs while every permit is taken"
        );
        drop(held);
        assert!(limits.verify(hash, "wonderland".into()).await);
    }

    #[test]
    fn failures_count_per_account_and_per_address() {
        let limits = Limits::with_permits(1);
        let addr = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..=FREE_PER_ACCOUNT {
            assert!(limits.check("alice", addr).is_ok());
            limits.failed("alice", addr);
        }
        assert!(limits.check("alice", addr).is_err(), "the account waits");
        assert!(limits.check("alice", None).is_err(), "from any address");
        assert!(limits.check("bob", None).is_ok());
        // The address waits too after enough failures over many accounts.
        for i in 0..FREE_PER_ADDRESS {
            limits.failed(&format!("user{i}"), addr);
        }
        assert!(limits.check("carol", addr).is_err(), "the address waits");
        assert!(limits.check("carol", None).is_ok());
        limits.succeeded("alice");
        assert!(limits.check("alice", None).is_ok());
    }
}
