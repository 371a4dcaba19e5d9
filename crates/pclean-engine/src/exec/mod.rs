//! Running a planned run: one block start to finish ([`block`]), the coordinator that owns the
//! products and checkpoint ([`coordinator`], [`sink`], [`checkpoint`], [`finish`]), the local
//! executor ([`local`]), the remote worker and the byte form of a finished block ([`worker`],
//! [`block_io`]), progress and resources.

pub mod block;
pub mod block_io;
pub mod block_paged;
pub mod checkpoint;
pub mod coordinator;
pub mod direct;
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

/// A worker process's opened run, kept for the next task of the same configuration `key`.
pub(crate) type Cache<T> = std::sync::Mutex<Option<(String, std::sync::Arc<T>)>>;

/// The run cached in `cache` under `key`, or (another key, or none yet) the old one dropped
/// first (its MSs closed) and `open()` cached in its place.
pub(crate) fn cached<T>(
    cache: &Cache<T>,
    key: &str,
    open: impl FnOnce() -> Result<T, EngineError>,
) -> Result<std::sync::Arc<T>, EngineError> {
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((k, w)) = c.as_ref() {
        if k == key {
            return Ok(w.clone());
        }
    }
    *c = None;
    let w = std::sync::Arc::new(open()?);
    *c = Some((key.to_string(), w.clone()));
    Ok(w)
}
