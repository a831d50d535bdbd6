//! Standard output for reports and summaries. A closed pipe (`orgwatch … | head`) ends the
//! writing quietly, as ripgrep does: what was to be printed is dropped, the work already done
//! stays done, and the run ends with the status it would have had. `println!` would panic.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout was found closed: nothing more is written to it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout; a closed pipe is not an error.
pub fn print(text: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_fmt(text).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        other => other,
    }
}

/// `print!` to stdout through [`print`]: a closed pipe ends the output quietly.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::print(format_args!($($arg)*)) };
}

/// `println!` to stdout through [`print`]: a closed pipe ends the output quietly.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => { $crate::output::print(format_args!("{}\n", format_args!($($arg)*))) };
}
