//! Output over semihosting: `measure: name=value` lines, `OK`, or `FAIL: …` and a failing exit.

use core::panic::PanicInfo;

use cortex_m_semihosting::{debug, hio};

/// Writes `text` and a newline to the host's stdout.
pub(crate) fn line(text: &str) {
    if let Ok(mut stdout) = hio::hstdout() {
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.write_all(b"\n");
    }
}

/// Writes `measure: name=value` (decimal, without `core::fmt`).
pub(crate) fn measure(name: &str, value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        // `rest % 10` is a single digit.
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if let Ok(mut stdout) = hio::hstdout() {
        let _ = stdout.write_all(b"measure: ");
        let _ = stdout.write_all(name.as_bytes());
        let _ = stdout.write_all(b"=");
        let _ = stdout.write_all(&digits[at..]);
        let _ = stdout.write_all(b"\n");
    }
}

/// Fails unless `condition` holds.
pub(crate) fn check(condition: bool, what: &str) {
    if !condition {
        fail(what);
    }
}

/// Prints `FAIL: what` and ends the emulation with a failing status.
pub(crate) fn fail(what: &str) -> ! {
    if let Ok(mut stdout) = hio::hstdout() {
        let _ = stdout.write_all(b"FAIL: ");
        let _ = stdout.write_all(what.as_bytes());
        let _ = stdout.write_all(b"\n");
    }
    loop {
        debug::exit(debug::EXIT_FAILURE);
    }
}

/// Ends the emulation with a successful status.
pub(crate) fn exit_success() -> ! {
    loop {
        debug::exit(debug::EXIT_SUCCESS);
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    match info.location() {
        Some(location) => fail(location.file()),
        None => fail("panic"),
    }
}
