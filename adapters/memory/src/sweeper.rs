//! The background sweeper thread.

use alloc::sync::Weak;
use core::time::Duration;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};

use oidc_hybrid::Clock;

use crate::MemoryStore;

/// Owns the background sweeper started by [`MemoryStore::spawn_sweeper`].
///
/// Dropping the handle stops the thread promptly (it is woken, not left to finish its wait) and
/// waits for it to end; a sweep already running completes first.
#[derive(Debug)]
#[must_use = "the sweeper stops when its handle is dropped"]
pub struct SweeperHandle {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SweeperHandle {
    pub(crate) fn spawn(
        store: Weak<MemoryStore>,
        every: Duration,
        clock: impl Clock + Send + 'static,
    ) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name("oidc-hybrid-memory-sweeper".into())
            .spawn(move || {
                // A message or a disconnected sender (the handle was dropped) both mean stop.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let Some(store) = store.upgrade() else {
                        break; // The store is gone: nothing left to sweep.
                    };
                    store.sweep(clock.now());
                }
            })
            .unwrap_or_else(|e| panic!("cannot start the sweeper thread: {e}"));
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the sweeper and waits for its thread to end (the same as dropping the handle).
    pub fn stop(self) {
        drop(self);
    }

    /// Whether the thread has ended: after the store was dropped, or if a sweep panicked.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for SweeperHandle {
    fn drop(&mut self) {
        // Disconnecting the channel wakes the thread out of `recv_timeout` at once.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The sweeper's own panic (if any) is not re-raised in the dropping thread.
            let _ = thread.join();
        }
    }
}
