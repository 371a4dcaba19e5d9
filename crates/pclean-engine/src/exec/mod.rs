//! Running a planned run: one block start to finish ([`block`]), the coordinator that owns the
//! products and checkpoint ([`coordinator`], [`sink`], [`checkpoint`], [`finish`]), the local
//! executor ([`local`]), the remote worker and the byte form of a finished block ([`worker`],
//! [`block_io`]), progress and resources.

pub mod block;
pub mod block_io;
pub mod checkpoint;
pub mod coordinator;
pub mod finish;
pub mod local;
pub mod progress;
pub mod resources;
pub mod rows;
pub mod sink;
pub mod worker;

use crate::error::EngineError;

/// A rayon pool of `n` threads, each tagged with the accounting slot `slot` (when given).
pub(crate) fn thread_pool_in_slot(
    n: usize,
    slot: Option<usize>,
) -> Result<rayon::ThreadPool, EngineError> {
    let mut b = rayon::ThreadPoolBuilder::new().num_threads(n);
    if let Some(w) = slot {
        b = b.start_handler(move |_| crate::alloc_count::set_thread_slot(w));
    }
    b.build()
        .map_err(|source| EngineError::Threads { threads: n, source })
}

/// A rayon pool of `n` threads.
pub(crate) fn thread_pool(n: usize) -> Result<rayon::ThreadPool, EngineError> {
    thread_pool_in_slot(n, None)
}
