//! The one lock over all tables: `critical-section` or, with that feature off, a spin lock.

#[cfg(feature = "critical-section")]
use core::cell::RefCell;

/// A value only reachable inside [`Lock::with`].
#[cfg(feature = "critical-section")]
pub(crate) struct Lock<T>(critical_section::Mutex<RefCell<T>>);

#[cfg(feature = "critical-section")]
impl<T> Lock<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(critical_section::Mutex::new(RefCell::new(value)))
    }

    /// Runs `f` on the value inside a critical section. `f` never calls back into the store, so
    /// the `RefCell` is never borrowed twice.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        critical_section::with(|cs| f(&mut self.0.borrow_ref_mut(cs)))
    }
}

/// A value only reachable inside [`Lock::with`].
#[cfg(all(feature = "spin", not(feature = "critical-section")))]
pub(crate) struct Lock<T>(spin::Mutex<T>);

#[cfg(all(feature = "spin", not(feature = "critical-section")))]
impl<T> Lock<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(spin::Mutex::new(value))
    }

    /// Runs `f` on the value with the spin lock held.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.lock())
    }
}
