//! The remote side of a run: a worker (e.g. in a Dask process) opens the MeasurementSets and plans
//! exactly as the coordinator did, computes the blocks it is given and returns them serialised
//! ([`crate::block_io`]). The opened state (MSs, the shared weighting density) is cached per
//! process for the last configuration, so a worker running several blocks opens them once.
//!
//! A worker given a range of channels to run as several blocks ([`WorkerCache`]: the Dask
//! driver gives each worker a contiguous range) reads the visibilities of that range once, as the
//! local executor reads the whole selection once ([`crate::source::visstore`]): in memory when the
//! whole selection would fit the local executor's in-memory limit, else in a channel-major scratch
//! file in the worker's scratch directory. Each block then takes its channels from there (and its
//! weighting density too: no second read of the MS).

use super::block::run_block;
use super::block_io::{encode_block, PlaneCollector};
use super::direct::{DirectTarget, DirectWriters};
use super::thread_pool_in_slot;
use crate::alloc_count;
use crate::error::EngineError;
use crate::plan::memory::MIB;
use crate::plan::Setup;
use crate::products::TaskSummary;
use crate::source::{restrict_sources, Source};
use pclean_core::params::ImagingParams;
use pclean_grid::weighting::ImagingWeighter;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// The channel range a worker will run as several blocks, and where its scratch files go.
#[derive(Debug, Clone)]
pub struct WorkerCache {
    /// Image channels whose visibilities to read once (the block must lie inside).
    pub chans: Range<usize>,
    /// Directory of the scratch file when the visibilities do not stay in memory.
    pub scratch_dir: PathBuf,
    /// Ranges this process may hold at once: one per worker it hosts (1 for a worker process;
    /// the Dask workers of an in-process cluster share the driver's process, each with its range).
    pub ranges_per_process: usize,
}

/// A channel range of this process: its sources narrowed to the range, their visibilities read
/// once by the range's first block (a second block of the range waits for that read).
struct CachedRange {
    chans: Range<usize>,
    sources: Mutex<Option<Arc<Vec<Source>>>>,
    /// Channels of the range finished: at the range's end the cache is dropped (its memory or
    /// scratch file freed) rather than held by the idle worker.
    done: AtomicUsize,
}

/// What a worker keeps between blocks of one run.
pub struct BlockWorker {
    setup: Setup,
    /// The cube-wide weighting density (`perchanweightdensity=false`), made on first use.
    shared_weighter: OnceLock<Option<ImagingWeighter>>,
    /// The channel ranges given with blocks ([`WorkerCache`]), at most `ranges_per_process`.
    ranges: Mutex<Vec<Arc<CachedRange>>>,
}

impl BlockWorker {
    /// Open and plan as the coordinator does (no products, no lock).
    pub fn new(params: ImagingParams) -> Result<Self, EngineError> {
        Ok(BlockWorker {
            setup: Setup::open(params)?,
            shared_weighter: OnceLock::new(),
            ranges: Mutex::new(Vec::new()),
        })
    }

    /// Channels of the run's spectral axis.
    pub fn nchan(&self) -> usize {
        self.setup.plan.nchan()
    }

    /// The sources narrowed to `cache.chans` with their visibilities read, when the run is a dirty
    /// cube, block `first..end` lies in that range and the range is more than this block: read on
    /// the range's first block and kept. A block of a range this process does not hold, when it
    /// already holds `ranges_per_process` ranges (a task moved here from a lost worker), reads the
    /// MS itself rather than reading a second range (memory its worker was not planned for).
    fn range_sources(
        &self,
        first: usize,
        end: usize,
        cache: Option<&WorkerCache>,
    ) -> Result<Option<Arc<Vec<Source>>>, EngineError> {
        let Some(wc) = cache else { return Ok(None) };
        let setup = &self.setup;
        let r = &wc.chans;
        // The coordinator counts a range's visibilities in a task's memory for a dirty cube only
        // (`Coordinator::new`, `remote_ranges`).
        let dirty_cube = !setup.plan.mfs && setup.plan.nchan() > 1 && !setup.deconvolves();
        let useful = dirty_cube && r.start <= first && end <= r.end && r.len() > end - first;
        if !useful || r.end > setup.plan.nchan() {
            return Ok(None);
        }
        let range = {
            let mut ranges = self.ranges.lock().unwrap_or_else(|p| p.into_inner());
            match ranges.iter().find(|c| c.chans == *r) {
                Some(c) => c.clone(),
                None if ranges.len() < wc.ranges_per_process.max(1) => {
                    let c = Arc::new(CachedRange {
                        chans: r.clone(),
                        sources: Mutex::new(None),
                        done: AtomicUsize::new(0),
                    });
                    ranges.push(c.clone());
                    c
                }
                None => return Ok(None),
            }
        };
        // Held while reading: the range's other blocks wait for its one read; other ranges
        // (in-process workers) read at the same time.
        let mut sources = range.sources.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = sources.as_ref() {
            return Ok(Some(s.clone()));
        }
        let t = Instant::now();
        let mut read = restrict_sources(&setup.sources, &setup.plan, r)?;
        let budget = setup
            .params
            .memory_limit_bytes
            .unwrap_or_else(crate::plan::memory::default_budget_bytes);
        let in_memory = worker_cache_in_memory(setup, budget);
        let load_rows = (((budget / 8) as usize) / setup.row_bytes.max(1))
            .clamp(256, setup.chunk_rows.max(256));
        let mut bytes = 0u64;
        for src in read.iter_mut() {
            let disk = (!in_memory).then(|| scratch_path(&wc.scratch_dir, src.index));
            bytes += src.load_cache(load_rows, disk.as_deref())?;
        }
        tracing::info!(
            channels = format!("{}..{}", r.start, r.end),
            mib = format!("{:.0}", bytes as f64 / MIB),
            in_memory,
            seconds = format!("{:.2}", t.elapsed().as_secs_f64()),
            "worker read its channel range's visibilities once"
        );
        let read = Arc::new(read);
        *sources = Some(read.clone());
        Ok(Some(read))
    }

    /// Block `first..end` of range `chans` is done: once the whole range is, free its cache.
    fn range_block_done(&self, chans: &Range<usize>, first: usize, end: usize) {
        let mut ranges = self.ranges.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = ranges.iter().position(|c| c.chans == *chans) {
            let c = &ranges[i];
            let done = c.done.fetch_add(end - first, Ordering::Relaxed) + (end - first);
            if done >= c.chans.len() {
                ranges.swap_remove(i);
            }
        }
    }

    /// Compute image channels `first..end` with `nthreads` threads; the serialised block.
    /// `cache`: the range of channels this worker will run (see [`WorkerCache`]). `direct`: the
    /// products whose planes this worker writes itself ([`super::direct`]; made durable before
    /// this returns); the other planes travel in the result.
    pub fn run(
        &self,
        first: usize,
        end: usize,
        nthreads: usize,
        cache: Option<&WorkerCache>,
        direct: &[DirectTarget],
    ) -> Result<Vec<u8>, EngineError> {
        let nchan = self.nchan();
        if first >= end || end > nchan {
            return Err(EngineError::protocol(format!(
                "channels {first}..{end} are not a block of this run's {nchan} channels"
            )));
        }
        let nthreads = nthreads.max(1);
        let params = &self.setup.params;
        let shared = match self.shared_weighter.get() {
            Some(w) => w,
            None => {
                let w = self.setup.shared_weighter(nthreads)?;
                self.shared_weighter.get_or_init(|| w)
            }
        };
        let ctx = self.setup.context(nthreads);
        let ranged = self.range_sources(first, end, cache)?;
        let mut inputs = self.setup.block_inputs(&ctx, shared.as_ref());
        if let Some(s) = ranged.as_deref() {
            inputs.sources = s;
        }
        // The heap this block adds is counted in a slot of its own: in-process Dask workers run
        // blocks in one process at the same time.
        let slot = TaskSlot::take();
        let pool = thread_pool_in_slot(nthreads, Some(slot.0))?;
        alloc_count::set_thread_slot(slot.0);
        let t = Instant::now();
        let base = alloc_count::slot_begin(slot.0);
        let planes = PlaneCollector::default();
        let writers = DirectWriters::open(direct)?;
        let put = |ext: &'static str, k: usize, st: usize, plane: ndarray::ArrayView2<f32>| {
            if writers.put(ext, k, st, plane)? {
                return Ok(());
            }
            planes.put(ext, k, st, plane)
        };
        let r = pool.install(|| run_block(&inputs, first..end, &put))?;
        let direct = writers.finish()?;
        if ranged.is_some() {
            drop(inputs);
            drop(ranged);
            if let Some(wc) = cache {
                self.range_block_done(&wc.chans, first, end);
            }
        }
        let task = TaskSummary {
            channels: [first, end],
            wall_time_s: t.elapsed().as_secs_f64(),
            peak_alloc_mib: alloc_count::slot_peak_since(slot.0, base).map(|v| v as f64 / MIB),
        };
        drop(slot);
        Ok(encode_block(
            params,
            &self.setup.plan.freqs_hz,
            r,
            planes,
            direct,
            task,
        ))
    }
}

/// The allocation-count slot of a block running in this process: the lowest one free, given
/// back when dropped (a worker process runs one block at a time: slot 0). With every slot taken
/// the block gets [`alloc_count::SLOTS`]: counted in the process totals only (no task peak).
struct TaskSlot(usize);

/// Bit `i`: slot `i` is taken.
static SLOTS_IN_USE: Mutex<u64> = Mutex::new(0);

impl TaskSlot {
    fn take() -> TaskSlot {
        let mut used = SLOTS_IN_USE.lock().unwrap_or_else(|p| p.into_inner());
        let n = alloc_count::SLOTS.min(64);
        let slot = (0..n)
            .find(|&i| *used & (1u64 << i) == 0)
            .unwrap_or(alloc_count::SLOTS);
        if slot < n {
            *used |= 1u64 << slot;
        }
        TaskSlot(slot)
    }
}

impl Drop for TaskSlot {
    fn drop(&mut self) {
        if self.0 < alloc_count::SLOTS.min(64) {
            let mut used = SLOTS_IN_USE.lock().unwrap_or_else(|p| p.into_inner());
            *used &= !(1u64 << self.0);
        }
    }
}

static CACHE: super::Cache<BlockWorker> = Mutex::new(None);

/// [`BlockWorker::run`] with the worker of configuration `key` (e.g. the config's JSON) kept for
/// the next call; a new key replaces the cached worker.
pub fn run_block_cached(
    key: &str,
    params: &ImagingParams,
    first: usize,
    end: usize,
    nthreads: usize,
    cache: Option<&WorkerCache>,
    direct: &[DirectTarget],
) -> Result<Vec<u8>, EngineError> {
    let worker = super::cached(&CACHE, key, || BlockWorker::new(params.clone()))?;
    worker.run(first, end, nthreads, cache, direct)
}

/// Whether a worker keeps its range's visibilities in memory: when the whole selection would
/// (the local executor's rule, [`super::coordinator::MEMORY_CACHE_MAX`] and a quarter of the
/// budget), so that the coordinator, which plans the tasks' memory, decides the same.
pub(crate) fn worker_cache_in_memory(setup: &Setup, budget: u64) -> bool {
    let bytes: u64 = setup
        .sources
        .iter()
        .map(|s| crate::plan::memory::vis_cache_bytes(&s.selected))
        .sum();
    bytes <= super::coordinator::MEMORY_CACHE_MAX.min(budget / 4)
}

/// A scratch file name unique to this process and call (removed when its store is dropped).
fn scratch_path(dir: &Path, index: usize) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        "pclean-visstore-{}-{n}-{index}",
        std::process::id()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks running at once in one process (in-process Dask workers) get distinct allocation
    /// slots, and a slot given back is taken again: a worker process, one block at a time, keeps
    /// slot 0 (what its task peaks were counted in before).
    #[test]
    fn concurrent_blocks_take_distinct_slots() {
        let a = TaskSlot::take();
        let b = TaskSlot::take();
        assert_ne!(a.0, b.0);
        let first = a.0;
        drop(a);
        let c = TaskSlot::take();
        assert_eq!(c.0, first);
        drop((b, c));
        // All taken: the next block is counted in the process totals only.
        let all: Vec<TaskSlot> = (0..alloc_count::SLOTS.min(64))
            .map(|_| TaskSlot::take())
            .collect();
        let extra = TaskSlot::take();
        assert_eq!(extra.0, alloc_count::SLOTS);
        assert!(alloc_count::slot_peak_since(extra.0, 0).is_none());
        drop(extra);
        drop(all);
    }
}
