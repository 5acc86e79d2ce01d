//! What the example measures besides the heap: the stack high-water mark (a painted region) and
//! the instructions executed (SysTick under QEMU's `-icount shift=0`).

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

/// How much of the stack below `main` is painted, in bytes.
const PAINTED: usize = 32 * 1024;
const PATTERN: u32 = 0x5afe_57ac;

/// The painted stack region.
pub(crate) struct Stack {
    top: usize,
    bottom: usize,
}

/// Fills the [`PAINTED`] bytes below the current stack pointer with a pattern.
#[inline(never)]
pub(crate) fn paint_stack() -> Stack {
    let sp = cortex_m::register::msp::read() as usize;
    let top = (sp - 64) & !3;
    let bottom = top - PAINTED;
    for address in (bottom..top).step_by(4) {
        // SAFETY: below the stack pointer of a single-threaded program with no interrupt enabled
        // yet: memory nobody uses, inside the 4 MiB RAM that memory.x declares.
        unsafe { (address as *mut u32).write_volatile(PATTERN) };
    }
    Stack { top, bottom }
}

impl Stack {
    /// The deepest the stack has reached into the painted region, in bytes.
    pub(crate) fn used(&self) -> usize {
        let mut address = self.bottom;
        // SAFETY: reads of the region painted above.
        while address < self.top && unsafe { (address as *const u32).read_volatile() } == PATTERN {
            address += 4;
        }
        self.top - address
    }
}

/// Instructions executed, counted as SysTick ticks of the 25 MHz CPU clock of `mps2-an386`:
/// under `-icount shift=0` QEMU advances virtual time by 1 ns per instruction, so one tick is 40
/// instructions. [`calibrate`](Self::calibrate) checks the ratio on a loop of known length. The
/// 24-bit counter spans 2^24 ticks (671 M instructions) per measurement; a longer one fails.
pub(crate) struct Instructions(SYST);

/// Instructions per SysTick tick under `-icount shift=0` (25 MHz CPU clock, 1 ns per instruction).
const INSNS_PER_TICK: usize = 40;
const RELOAD: u32 = 0x00ff_ffff;

impl Instructions {
    pub(crate) fn new() -> Self {
        let Some(peripherals) = cortex_m::Peripherals::take() else {
            crate::out::fail("peripherals taken twice");
        };
        let mut syst = peripherals.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        Self(syst)
    }

    /// Runs `f` and returns its result and the instructions it executed.
    pub(crate) fn count<T>(&mut self, f: impl FnOnce() -> T) -> (T, usize) {
        self.0.disable_counter();
        self.0.clear_current();
        let _ = self.0.has_wrapped();
        self.0.enable_counter();
        // The counter reloads on the first tick after being cleared.
        while SYST::get_current() == 0 {}
        let _ = self.0.has_wrapped();
        let result = f();
        let current = SYST::get_current();
        if self.0.has_wrapped() {
            crate::out::fail("measurement longer than the 24-bit SysTick span");
        }
        self.0.disable_counter();
        (result, (RELOAD - current) as usize * INSNS_PER_TICK)
    }

    /// Counts a loop of exactly 2,000,000 instructions (1,000,000 × `subs` + `bne`); a result
    /// near 2,000,000 confirms the instructions-per-tick ratio.
    pub(crate) fn calibrate(&mut self) -> usize {
        let ((), instructions) = self.count(|| {
            let mut n: u32 = 1_000_000;
            // SAFETY: a register-only countdown loop.
            unsafe {
                core::arch::asm!(
                    "3:",
                    "subs {0}, {0}, #1",
                    "bne 3b",
                    inout(reg) n,
                    options(nomem, nostack)
                );
            }
            core::hint::black_box(n);
        });
        instructions
    }
}
