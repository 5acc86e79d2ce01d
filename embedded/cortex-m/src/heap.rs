//! The global allocator: `embedded-alloc`'s linked-list heap over a static 16 KiB array, wrapped
//! in a counter of the bytes requested (current and peak).

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};

use embedded_alloc::LlffHeap;

/// The whole heap of the example, in bytes: 16 KiB. The `rs256-flow` measurement variant gets
/// 32 KiB, since RSA-2048 signing and verification do not fit in 16 KiB (see docs/embedded.md).
#[cfg(not(feature = "rs256-flow"))]
pub(crate) const SIZE: usize = 16 * 1024;
/// The whole heap of the example, in bytes (the `rs256-flow` variant).
#[cfg(feature = "rs256-flow")]
pub(crate) const SIZE: usize = 32 * 1024;

struct Counting {
    heap: LlffHeap,
    current: AtomicUsize,
    /// Peak since the last [`reset_peak`].
    peak: AtomicUsize,
    /// Peak since start.
    peak_ever: AtomicUsize,
}

#[global_allocator]
static HEAP: Counting = Counting {
    heap: LlffHeap::empty(),
    current: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
    peak_ever: AtomicUsize::new(0),
};

// SAFETY: every call is forwarded to `LlffHeap`, a `GlobalAlloc`; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on unchanged.
        let ptr = unsafe { self.heap.alloc(layout) };
        if !ptr.is_null() {
            let now = self.current.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(now, Ordering::Relaxed);
            self.peak_ever.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract, passed on unchanged.
        unsafe { self.heap.dealloc(ptr, layout) };
        self.current.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

/// Hands the static array to the allocator. Called once, first thing in `main`.
pub(crate) fn init() {
    static mut MEMORY: [MaybeUninit<u8>; SIZE] = [MaybeUninit::uninit(); SIZE];
    // SAFETY: called once, before any allocation; `MEMORY` is used by nothing else.
    unsafe {
        HEAP.heap
            .init(core::ptr::addr_of_mut!(MEMORY) as usize, SIZE)
    }
}

/// Bytes allocated now.
pub(crate) fn current() -> usize {
    HEAP.current.load(Ordering::Relaxed)
}

/// Restarts the peak from the current level.
pub(crate) fn reset_peak() {
    HEAP.peak.store(current(), Ordering::Relaxed);
}

/// The peak since [`reset_peak`].
pub(crate) fn peak() -> usize {
    HEAP.peak.load(Ordering::Relaxed)
}

/// The peak since start.
pub(crate) fn peak_ever() -> usize {
    HEAP.peak_ever.load(Ordering::Relaxed)
}
