//! A request to stop the run (SIGINT/SIGTERM), set by the entry point's signal handler and polled
//! by the executors at block boundaries: a block in flight finishes and is recorded in the
//! checkpoint, no new block starts, and the run ends with [`crate::EngineError::Interrupted`]
//! (products stay marked incomplete; the same command resumes). The engine installs no handler
//! itself: the CLI does (the Python binding leaves Python's own KeyboardInterrupt alone).

use std::sync::atomic::{AtomicI32, Ordering};

static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Ask the run to stop at the next block boundary, recording `signal` (its number). Async-signal
/// safe: one atomic store.
pub fn request(signal: i32) {
    SIGNAL.store(signal, Ordering::SeqCst);
}

/// The signal that asked the run to stop, if any.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The conventional name of a signal number (`SIGINT`, `SIGTERM`, else `signal N`).
pub fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        1 => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(signal_name(2), "SIGINT");
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(9), "signal 9");
    }
}
