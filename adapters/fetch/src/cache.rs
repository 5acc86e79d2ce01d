//! The JWK set cache: what to answer from memory and when to fetch, as a pure function of the
//! time given.

use core::num::NonZeroUsize;
use core::time::Duration;
use std::time::Instant;

use lru::LruCache;
use oidc_hybrid::ClientJwks;

/// How long fetched sets are kept and how often a URI may be fetched again.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct CachePolicy {
    /// The shortest time a set is kept, whatever `Cache-Control` says (`no-store` included):
    /// a client cannot make the provider fetch on every request.
    pub min_ttl: Duration,
    /// The longest time a set is kept, whatever `Cache-Control` says.
    pub max_ttl: Duration,
    /// How long a set is kept when the answer has no `max-age`.
    pub default_ttl: Duration,
    /// A set that lacks the wanted `kid` is fetched again (the client may have rotated its
    /// keys), but at most once per this interval per URI.
    pub refetch_interval: Duration,
    /// Most URIs kept (the least recently used goes first).
    pub capacity: NonZeroUsize,
}

impl Default for CachePolicy {
    /// Kept 1 minute to 1 day (5 minutes without `max-age`), refetched for an unknown `kid`
    /// at most once a minute, 1,024 URIs.
    fn default() -> Self {
        Self {
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 60 * 60),
            default_ttl: Duration::from_secs(5 * 60),
            refetch_interval: Duration::from_secs(60),
            capacity: NonZeroUsize::new(1024).unwrap_or(NonZeroUsize::MIN),
        }
    }
}

impl CachePolicy {
    /// How long to keep a set whose answer had `max_age` (`Some(0)` for `no-store` or
    /// `no-cache`): within [`min_ttl`](Self::min_ttl) and [`max_ttl`](Self::max_ttl).
    #[must_use]
    pub fn ttl(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .unwrap_or(self.default_ttl)
            .clamp(self.min_ttl, self.max_ttl.max(self.min_ttl))
    }
}

/// The `max-age` of a `Cache-Control` value (RFC 9111 §5.2.2); `no-store` and `no-cache`
/// count as 0.
#[must_use]
pub fn max_age(cache_control: &str) -> Option<Duration> {
    let mut found = None;
    for directive in cache_control.split(',') {
        let directive = directive.trim();
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            let secs = value.trim().trim_matches('"').parse::<u64>().ok()?;
            found = Some(Duration::from_secs(secs));
        }
    }
    found
}

/// A cached set: until when it is fresh, and when it was fetched.
#[derive(Debug)]
struct Entry {
    jwks: ClientJwks,
    fetched: Instant,
    fresh_until: Instant,
}

/// What the cache says about a URI and a wanted `kid`.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// Answer with this set.
    Cached(ClientJwks),
    /// Fetch; if that fails, answer with the stale set when there is one and it is still
    /// fresh (only a refetch for an unknown `kid` has one).
    Fetch(Option<ClientJwks>),
}

/// The sets by URI, bounded.
#[derive(Debug)]
pub(crate) struct Cache {
    policy: CachePolicy,
    entries: LruCache<String, Entry>,
}

impl Cache {
    pub(crate) fn new(policy: CachePolicy) -> Self {
        Self {
            policy,
            entries: LruCache::new(policy.capacity),
        }
    }

    /// What to do for `uri` and `kid` at `now`: a fresh set that has the `kid` (or any fresh
    /// set when no `kid` is wanted) is answered; a fresh set without it is fetched again
    /// unless it was fetched within the refetch interval; anything else is fetched.
    pub(crate) fn lookup(&mut self, uri: &str, kid: Option<&str>, now: Instant) -> Lookup {
        let Some(entry) = self.entries.get(uri) else {
            return Lookup::Fetch(None);
        };
        if now >= entry.fresh_until {
            return Lookup::Fetch(None);
        }
        let has_kid = kid.is_none_or(|kid| entry.jwks.has_kid(kid));
        let recent = now.saturating_duration_since(entry.fetched) < self.policy.refetch_interval;
        if has_kid || recent {
            Lookup::Cached(entry.jwks.clone())
        } else {
            Lookup::Fetch(Some(entry.jwks.clone()))
        }
    }

    /// Keeps `jwks`, fetched from `uri` at `now` with `max_age`.
    pub(crate) fn store(
        &mut self,
        uri: &str,
        jwks: ClientJwks,
        max_age: Option<Duration>,
        now: Instant,
    ) {
        let fresh_until = now + self.policy.ttl(max_age);
        let entry = Entry {
            jwks,
            fetched: now,
            fresh_until,
        };
        self.entries.put(uri.to_owned(), entry);
    }

    /// How many URIs are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwks(kid: &str) -> ClientJwks {
        let json =
            format!(r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"AA","y":"AA"}}]}}"#);
        ClientJwks::parse(json.as_bytes()).expect("a JWK set")
    }

    fn kid_of(lookup: &Lookup) -> Option<&str> {
        match lookup {
            Lookup::Cached(set) | Lookup::Fetch(Some(set)) => set.keys()[0].kid.as_deref(),
            Lookup::Fetch(None) => None,
        }
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("max-age=600"), Some(Duration::from_secs(600)));
        assert_eq!(
            max_age("public, Max-Age = \"30\""),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            max_age("public, max-age=60, no-store"),
            Some(Duration::ZERO)
        );
        assert_eq!(max_age("no-cache"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }

    #[test]
    fn lifetimes_are_bounded() {
        let policy = CachePolicy::default();
        assert_eq!(policy.ttl(None), Duration::from_secs(300));
        assert_eq!(policy.ttl(Some(Duration::ZERO)), Duration::from_secs(60));
        assert_eq!(
            policy.ttl(Some(Duration::from_secs(600))),
            Duration::from_secs(600)
        );
        assert_eq!(
            policy.ttl(Some(Duration::from_secs(1 << 40))),
            Duration::from_secs(86_400)
        );
    }

    #[test]
    fn fresh_sets_are_answered_until_they_expire() {
        let mut cache = Cache::new(CachePolicy::default());
        let t0 = Instant::now();
        assert!(matches!(cache.lookup("u", None, t0), Lookup::Fetch(None)));
        cache.store("u", jwks("k1"), Some(Duration::from_secs(120)), t0);
        let soon = t0 + Duration::from_secs(119);
        assert!(matches!(cache.lookup("u", None, soon), Lookup::Cached(_)));
        assert!(matches!(
            cache.lookup("u", Some("k1"), soon),
            Lookup::Cached(_)
        ));
        let expired = t0 + Duration::from_secs(120);
        assert!(matches!(
            cache.lookup("u", Some("k1"), expired),
            Lookup::Fetch(None)
        ));
        assert!(matches!(
            cache.lookup("other", None, soon),
            Lookup::Fetch(None)
        ));
    }

    #[test]
    fn an_unknown_kid_refetches_at_most_once_per_interval() {
        let mut cache = Cache::new(CachePolicy::default());
        let t0 = Instant::now();
        cache.store("u", jwks("k1"), Some(Duration::from_secs(3600)), t0);
        // Within the interval: the cached set, without a fetch.
        let early = t0 + Duration::from_secs(59);
        let lookup = cache.lookup("u", Some("k2"), early);
        assert!(matches!(lookup, Lookup::Cached(_)));
        // After it: one fetch, with the cached set to fall back on.
        let later = t0 + Duration::from_secs(60);
        let lookup = cache.lookup("u", Some("k2"), later);
        assert!(matches!(lookup, Lookup::Fetch(Some(_))));
        assert_eq!(kid_of(&lookup), Some("k1"));
        // The refetch found the rotated key; the next lookup for k2 is answered from memory.
        cache.store("u", jwks("k2"), None, later);
        let lookup = cache.lookup("u", Some("k2"), later + Duration::from_secs(1));
        assert_eq!(kid_of(&lookup), Some("k2"));
        assert!(matches!(lookup, Lookup::Cached(_)));
        // A refetch that still lacks the kid is not repeated within the interval either.
        let lookup = cache.lookup("u", Some("k3"), later + Duration::from_secs(30));
        assert!(matches!(lookup, Lookup::Cached(_)));
    }

    #[test]
    fn the_cache_is_bounded() {
        let policy = CachePolicy {
            capacity: NonZeroUsize::new(2).expect("2"),
            ..CachePolicy::default()
        };
        let mut cache = Cache::new(policy);
        let t0 = Instant::now();
        for uri in ["a", "b", "c"] {
            cache.store(uri, jwks(uri), None, t0);
        }
        assert_eq!(cache.len(), 2);
        assert!(matches!(cache.lookup("a", None, t0), Lookup::Fetch(None)));
        assert!(matches!(cache.lookup("c", None, t0), Lookup::Cached(_)));
    }
}
