//! The remote side of a run: a worker (e.g. in a Dask process) opens the MeasurementSets and plans
//! exactly as the coordinator did, computes the blocks it is given and returns them serialised
//! ([`crate::block_io`]). The opened state (MSs, the shared weighting density) is cached per
//! process for the last configuration, so a worker running several blocks opens them once.

use super::block::run_block;
use super::block_io::{encode_block, PlaneCollector};
use super::thread_pool_in_slot;
use crate::alloc_count;
use crate::error::EngineError;
use crate::plan::memory::MIB;
use crate::plan::Setup;
use crate::products::TaskSummary;
use pclean_core::params::ImagingParams;
use pclean_grid::weighting::ImagingWeighter;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// What a worker keeps between blocks of one run.
pub struct BlockWorker {
    setup: Setup,
    /// The cube-wide weighting density (`perchanweightdensity=false`), made on first use.
    shared_weighter: OnceLock<Option<ImagingWeighter>>,
}

impl BlockWorker {
    /// Open and plan as the coordinator does (no products, no lock).
    pub fn new(params: ImagingParams) -> Result<Self, EngineError> {
        Ok(BlockWorker {
            setup: Setup::open(params)?,
            shared_weighter: OnceLock::new(),
        })
    }

    /// Channels of the run's spectral axis.
    pub fn nchan(&self) -> usize {
        self.setup.plan.nchan()
    }

    /// Compute image channels `first..end` with `nthreads` threads; the serialised block.
    pub fn run(&self, first: usize, end: usize, nthreads: usize) -> Result<Vec<u8>, EngineError> {
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
        let inputs = self.setup.block_inputs(&ctx, shared.as_ref());
        let pool = thread_pool_in_slot(nthreads, Some(0))?;
        alloc_count::set_thread_slot(0);
        let t = Instant::now();
        let base = alloc_count::slot_begin(0);
        let planes = PlaneCollector::default();
        let put = |ext: &'static str, k: usize, st: usize, plane: ndarray::ArrayView2<f32>| {
            planes.put(ext, k, st, plane)
        };
        let r = pool.install(|| run_block(&inputs, first..end, &put))?;
        let task = TaskSummary {
            channels: [first, end],
            wall_time_s: t.elapsed().as_secs_f64(),
            peak_alloc_mib: alloc_count::slot_peak_since(0, base).map(|v| v as f64 / MIB),
        };
        Ok(encode_block(
            params,
            &self.setup.plan.freqs_hz,
            r,
            planes,
            task,
        ))
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
) -> Result<Vec<u8>, EngineError> {
    let worker = super::cached(&CACHE, key, || BlockWorker::new(params.clone()))?;
    worker.run(first, end, nthreads)
}
