//! The rayon pool that parallel transforms and the gridder run on.

/// Run `f` on a rayon pool of `nthreads` threads (0 = all available cores).
///
/// Called from a rayon worker (the engine runs each channel block on its own pool), `f` runs right
/// there and its parallel loops share that pool, so nested calls never add threads. Otherwise one
/// pool per size is built once and reused: building a pool per call created ~1000 threads per
/// cube, whose shutdown spun on `sched_yield` (bench/README.md).
pub fn with_pool<R: Send>(
    nthreads: usize,
    f: impl FnOnce() -> R + Send,
) -> Result<R, rayon::ThreadPoolBuildError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    if rayon::current_thread_index().is_some() {
        return Ok(f());
    }
    let n = if nthreads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        nthreads
    };
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let pool = {
        let mut pools = POOLS
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match pools.get(&n) {
            Some(p) => Arc::clone(p),
            None => {
                let p = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(n).build()?);
                pools.insert(n, Arc::clone(&p));
                p
            }
        }
    };
    Ok(pool.install(f))
}
