//! Time as an input: the [`Clock`] trait and the [`UnixTime`] value.
//!
//! The protocol code never reads a clock. The [`Provider`](crate::Provider) driver reads
//! [`Clock::now`] once per request and passes the value down, so every decision is a pure
//! function of its inputs (tests and fuzzers need no mock clock below the driver).

use core::fmt;
use core::ops::Add;
use core::time::Duration;

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch, the unit of every JWT time claim (OIDC Core §2: "NumericDate").
#[derive(
    Clone, Copy, Debug, Default, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize,
)]
#[serde(transparent)]
pub struct UnixTime(u64);

impl UnixTime {
    /// The epoch itself.
    pub const EPOCH: Self = Self(0);

    /// A time `secs` seconds after the epoch.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch.
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// `self + secs`, saturating at `u64::MAX` instead of overflowing.
    #[must_use]
    pub const fn saturating_add_secs(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// Seconds from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub const fn secs_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for UnixTime {
    type Output = Self;

    fn add(self, rhs: Duration) -> Self {
        self.saturating_add_secs(rhs.as_secs())
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A source of the current time, read once per request by the driver.
///
/// # Example
///
/// ```
/// use oidc_hybrid::{Clock, UnixTime};
///
/// /// A clock stopped at a fixed instant, as tests use.
/// struct Fixed(UnixTime);
///
/// impl Clock for Fixed {
///     fn now(&self) -> UnixTime {
///         self.0
///     }
/// }
///
/// assert_eq!(Fixed(UnixTime::from_secs(7)).now().as_secs(), 7);
/// ```
pub trait Clock {
    /// The current time.
    fn now(&self) -> UnixTime;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> UnixTime {
        (**self).now()
    }
}

/// The operating system's wall clock (`std` feature).
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(feature = "std")]
impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        // A clock set before 1970 is treated as the epoch: every token then looks expired,
        // which fails closed.
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        UnixTime(secs)
    }
}
