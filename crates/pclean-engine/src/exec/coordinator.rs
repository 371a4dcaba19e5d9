//! The run as a coordinator: open and plan ([`Setup`]), schedule blocks, own the products and the
//! checkpoint, accept finished blocks (from the local executor in [`run_image`](crate::run_image)
//! or from remote workers as bytes), and finish the products ([`super::finish`]). Blocks are
//! computed by [`run_block`](super::block::run_block) wherever they run;
//! [`BlockWorker`](super::worker::BlockWorker) is the remote side.

use super::block::BlockResult;
use super::checkpoint::{checkpoint_path, product_params, Checkpoint};
use super::progress::Progress;
use super::resources::current_rss_mib;
use super::sink::{commit_interval, DueCommit, Sink};
use crate::alloc_count;
use crate::error::EngineError;
use crate::plan::memory::{self, Schedule, ScheduleRequest, GIB, MIB};
use crate::plan::Setup;
use crate::products::{check_products_absent, OpenMode, ProductLock, Products, TaskSummary};
use pclean_core::params::{ImagingParams, RawParams};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;
use tracing::info;

mod remote;
pub use remote::Transfer;

/// Selected visibilities up to this size are kept in memory for all blocks; larger ones go to a
/// scratch file.
pub(crate) const MEMORY_CACHE_MAX: u64 = 64 << 20;

/// Blocks per worker of a Dask run's dirty cube when `cube_chunksize` is not given: each worker
/// reads its range's visibilities once, so blocks cost little more than one, and the last block's
/// planes, written by the coordinator after its task ends, are a quarter of a worker's share
/// (docs/distributed.md, "Where a dirty cube's Dask overhead goes").
pub const DASK_BLOCKS_PER_WORKER: usize = 4;

/// A block not yet complete, as the coordinator hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBlock {
    /// Index in the checkpoint's block list.
    pub block: usize,
    /// Image channels `[start, end)`.
    pub channels: [usize; 2],
    /// The memory model's peak for this block (process base included), bytes.
    pub memory_bytes: u64,
    /// Threads the block is planned for.
    pub threads: usize,
}

/// An imaging run's coordinator: products, checkpoint and lock, and the blocks still to do.
pub struct Coordinator {
    pub(super) effective: RawParams,
    pub(super) t0: Instant,
    pub(super) warnings: Vec<String>,
    pub(super) setup: Setup,
    pub(super) sched: Schedule,
    pub(super) budget: u64,
    pub(super) resumed_channels_at_start: usize,
    pub(super) cached_mib: f64,
    pub(super) scratch_mib: f64,
    pub(super) cache_in_memory: bool,
    /// Rows per chunk of the one read of the visibilities for all blocks.
    pub(super) cache_load_rows: usize,
    /// That read was made (the schedule's `cache_read` counts it).
    pub(super) cache_read: bool,
    /// Bytes a Dask worker keeps of its channel range's visibilities between its blocks (0: none,
    /// or in a scratch file): counted in each task's memory.
    pub(super) task_cache_bytes: u64,
    pub(super) sink: std::sync::Mutex<Sink>,
    /// MODEL_DATA was written by the row partitions (each its own rows): not again at the finish.
    pub(super) model_column_written: bool,
    /// Resident set and live heap, MiB, once set up and before any visibility is read.
    pub(super) idle_rss_mib: f64,
    pub(super) idle_alloc_mib: Option<f64>,
    /// A row-partitioned run's statistics (`exec::rows`), for the summary.
    pub(super) rows_summary: std::sync::Mutex<Option<super::rows::RowsSummary>>,
    /// The products were created by this run (not reopened to resume).
    products_fresh: bool,
    /// Products whose planes the workers write themselves ([`Coordinator::direct_targets`]).
    direct: Vec<&'static str>,
    /// What the accepted blocks brought: see [`Transfer`].
    transfer: Transfer,
    _lock: ProductLock,
}

impl Coordinator {
    /// Record a row-partitioned run's statistics for the summary.
    pub fn set_rows_summary(&self, s: super::rows::RowsSummary) {
        *self.rows_summary.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
    }

    /// Open and plan, schedule the blocks (for the local pool, or with `parallel` one block per
    /// Dask worker of `threads_per_worker` threads within `memory_limit`), load or create the
    /// checkpoint, create or reopen the products and take their lock.
    pub fn new(params: ImagingParams, effective: RawParams) -> Result<Self, EngineError> {
        let t0 = Instant::now();
        let setup = Setup::open(params)?;
        let params = &setup.params;
        let mut warnings = setup.warnings.clone();
        let remote = params.parallel.parallel;
        let plan = &setup.plan;
        let nchan = plan.nchan();
        let nst = params.stokes.0.len();
        let exts = &setup.exts;
        let ckpt_path = checkpoint_path(&params.imagename);
        let wanted = product_params(&effective);
        let resumed = match Checkpoint::load(&ckpt_path)? {
            Some(c) => {
                let diff = c.differing_params(&wanted);
                if diff.is_empty() && c.nchan == nchan && c.nstokes == nst {
                    Some(c)
                } else if params.overwrite {
                    None
                } else {
                    return Err(EngineError::param("overwrite", format!(
                        "products '{}.*' belong to an interrupted run with different parameters \
                         (differing: {}); run that command again to resume it, or pass --overwrite to \
                         start again",
                        params.imagename,
                        diff.join(", ")
                    )));
                }
            }
            None => None,
        };
        let budget = params
            .memory_limit_bytes
            .unwrap_or_else(memory::default_budget_bytes);
        if params.memory_limit_bytes.is_some() && !params.parallel.parallel {
            // A limit the user set bounds the resident set: freed buffers go back at once. (A
            // Dask run's limit is what one worker task may use: the coordinator keeps glibc's
            // defaults, as mapping every received plane afresh cost system time.)
            crate::alloc_count::return_freed_memory_at_free();
        }
        // Reading a few channels per block re-reads (and decodes) whole tiles of the visibility
        // column, so with several blocks the local executor reads the selected visibilities once:
        // kept in memory when small, else in a channel-major scratch file (page cache, not
        // resident memory).
        let cache_bytes: u64 = setup
            .sources
            .iter()
            .map(|s| memory::vis_cache_bytes(&s.selected))
            .sum();
        let cache_in_memory = cache_bytes <= MEMORY_CACHE_MAX.min(budget / 4);
        let use_cache = !remote && !plan.mfs && nchan > 1;
        // That read holds a chunk of every selected channel: at most an eighth of the budget (a
        // 50 MB limit peaked at 76 MiB RSS with 64 MiB chunks).
        let cache_load_rows =
            (((budget / 8) as usize) / setup.row_bytes).clamp(256, setup.chunk_rows);
        // The schedule makes room for the read (its peak, and what it leaves held while the
        // blocks run: the in-memory cache, or the scratch file's row fields). A run that turns
        // out not to need it (one pending block of one channel) over-counts it in its schedule
        // only.
        let cache_read = if use_cache {
            let (rows, chans, ncorr) = cache_extent(&setup);
            memory::CacheRead::new(memory::cache_phase(
                rows,
                chans,
                ncorr,
                cache_load_rows,
                cache_in_memory,
            ))
        } else {
            memory::CacheRead::default()
        };
        // A Dask run's dirty cube: each worker is given a contiguous range of channels as a few
        // blocks and reads that range's visibilities once (`exec::worker::WorkerCache`), kept in
        // memory by the same rule (`worker_cache_in_memory`), so a task's memory counts it and
        // its blocks fit beside it.
        let remote_ranges = remote && !plan.mfs && nchan > 1 && !setup.deconvolves();
        let task_cache_bytes = if remote_ranges && cache_in_memory {
            cache_bytes
        } else {
            0
        };
        let budget_for_blocks = budget.saturating_sub(task_cache_bytes);
        // Start models, restart models, reused products and mask images are read per block and
        // counted in the block (its model, PSF, residual and mask planes).
        let tpw = params.parallel.threads_per_worker;
        let chans_per_block = match &resumed {
            // Resume with the interrupted run's blocks: cycle thresholds are per block.
            Some(c) => c.blocks.iter().map(|b| b[1] - b[0]).max().unwrap_or(1),
            None => params.cube_chunksize,
        };
        // Dask, dirty cube, blocks not given: `DASK_BLOCKS_PER_WORKER` blocks per worker, if they
        // fit a task's memory (else the memory model's blocks).
        let preferred = if remote_ranges && chans_per_block == 0 {
            let workers = params.parallel.nworkers.max(1);
            nchan.div_ceil(workers * DASK_BLOCKS_PER_WORKER)
        } else {
            chans_per_block
        };
        let request = |chans_per_block| ScheduleRequest {
            nchan,
            nthreads: if remote { tpw } else { setup.nthreads },
            chans_per_block,
            blocks_in_flight: if remote { 1 } else { params.blocks_in_flight },
            threads_per_block: if remote {
                tpw
            } else {
                params.threads_per_block
            },
            budget_bytes: budget_for_blocks,
            // Dask tasks clean one channel each (as tclean's parallel cube mode): a whole-cube
            // block would be a single task. Locally the cube-wide cycle threshold is kept.
            prefer_whole_cube: !remote && setup.deconvolves(),
            // Locally, a cube interpolated to another frame images blocks of several
            // channels, each preparing its data channels once (`source::prepare_block`).
            dirty_chans_per_block: if !remote && interpolates(plan) {
                memory::REGRID_BLOCK_CHANS
            } else {
                1
            },
            cache_read,
        };
        let sched = match memory::schedule(&setup.shape, request(preferred)) {
            Err(_) if preferred != chans_per_block => {
                memory::schedule(&setup.shape, request(chans_per_block))?
            }
            r => r?,
        };

        // Products: refuse to clobber, take the lock, create every product up front (or reopen
        // an interrupted run's). restart rewrites the products it continues from.
        let rewrite = params.overwrite || params.deconv.restart;
        if resumed.is_none() {
            check_products_absent(&params.imagename, params.format, rewrite, exts)?;
        }
        let lock = ProductLock::acquire(&params.imagename)?;
        let (coords, object) = setup.product_coords(params);
        let resumed_run = resumed.is_some();
        let (ckpt, mode) = match resumed {
            Some(mut c) if c.complete_blocks() > 0 => {
                c.forget_unfinished();
                info!(
                    channels_done = c.complete_channels(),
                    nchan, "resuming the interrupted run of '{}'", params.imagename
                );
                (c, OpenMode::Reopen)
            }
            // Nothing was complete: make the products again (they are the interrupted run's).
            Some(c) => (c, OpenMode::Create { overwrite: true }),
            None => {
                let blocks = (0..nchan)
                    .step_by(sched.chans_per_block)
                    .map(|a| [a, (a + sched.chans_per_block).min(nchan)])
                    .collect();
                let c = Checkpoint::new(wanted, nchan, nst, blocks);
                // Another run's major-cycle state is not this one's.
                crate::cycles::cycle_ckpt::remove_cycle_checkpoint(&params.imagename);
                // Written before the products exist, so a run killed while creating them resumes
                // (not fsynced: nothing is recorded complete yet, and an fsync here waited seconds
                // behind other files' writeback).
                c.save(&ckpt_path, false)?;
                (c, OpenMode::Create { overwrite: rewrite })
            }
        };
        // Products this run reuses are copied aside before they are rewritten; the blocks read
        // their planes from the copy. A resumed run reads the copy its first attempt made (its
        // products were rewritten then).
        for src in setup.reused_products() {
            if resumed_run {
                src.check_aside()?;
            } else {
                src.set_aside()?;
            }
        }
        let products_fresh = matches!(mode, OpenMode::Create { .. });
        let cube = setup.mvc_cube_coords(&coords);
        let mut out = Products::create(params, exts, &coords, cube.as_ref(), &object, mode)?;
        out.flush()?;
        let resumed_channels_at_start = ckpt.complete_channels();
        let progress = Progress::new(
            nchan,
            resumed_channels_at_start,
            if params.niter > 0 {
                "imaging + cleaning"
            } else {
                "dirty imaging"
            },
        );
        warnings.dedup();
        let sink = Sink {
            out,
            ckpt,
            progress,
            path: ckpt_path,
            freqs_hz: plan.freqs_hz.clone(),
            pending: Vec::new(),
            last_commit: Instant::now(),
            interval: commit_interval(),
            committing: false,
        };
        Ok(Coordinator {
            effective,
            t0,
            warnings,
            setup,
            sched,
            budget,
            resumed_channels_at_start,
            cached_mib: 0.0,
            scratch_mib: 0.0,
            cache_in_memory,
            cache_load_rows,
            cache_read: false,
            task_cache_bytes,
            sink: std::sync::Mutex::new(sink),
            model_column_written: false,
            // The process is idle here: the MS is open, the products made, no data read.
            idle_rss_mib: current_rss_mib(),
            idle_alloc_mib: alloc_count::current_bytes().map(|v| v as f64 / MIB),
            rows_summary: std::sync::Mutex::new(None),
            products_fresh,
            direct: Vec::new(),
            transfer: Transfer::default(),
            _lock: lock,
        })
    }

    /// The final model that MODEL_DATA is predicted from (every block accepted).
    pub(super) fn saved_model(&self) -> Result<crate::imaging::savemodel::SavedModel, EngineError> {
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let (nchan, reffreq) = (self.setup.plan.nchan(), self.setup.plan.freqs_hz[0]);
        super::finish::saved_model(&self.setup.params, nchan, reffreq, &mut sink.out)
    }

    fn sink_mut(&mut self) -> &mut Sink {
        self.sink.get_mut().unwrap_or_else(|p| p.into_inner())
    }

    /// The blocks not yet complete, in schedule order.
    pub fn pending(&self) -> Vec<PendingBlock> {
        let sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let ckpt = &sink.ckpt;
        let threads = self.sched.threads_per_block;
        (0..ckpt.blocks.len())
            .filter(|b| !ckpt.done[*b] && !sink.pending.contains(b))
            .map(|b| {
                let [a, z] = ckpt.blocks[b];
                PendingBlock {
                    block: b,
                    channels: [a, z],
                    memory_bytes: memory::BASE_BYTES
                        + self.task_cache_bytes
                        + self.setup.shape.block_bytes(z - a, threads),
                    threads,
                }
            })
            .collect()
    }

    /// The run as opened and planned.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// How the run's channels are split and run.
    pub fn schedule(&self) -> Schedule {
        self.sched
    }

    /// Read the selected visibilities once for all of `pending` blocks, when they are a cube's
    /// several blocks (or blocks of several channels): reading a few channels per block re-reads
    /// (and decodes) whole tiles of the visibility column. Kept in memory when small, else in a
    /// channel-major scratch file (page cache, not resident memory).
    pub fn cache_visibilities(&mut self, pending: &[PendingBlock]) -> Result<(), EngineError> {
        let plan = &self.setup.plan;
        let use_cache = !plan.mfs && plan.nchan() > 1;
        // A block of several channels images them one by one: without the cache each plane would
        // read the MS again.
        let multi_chan_block = pending.iter().any(|p| p.channels[1] - p.channels[0] > 1);
        if !(use_cache && (pending.len() > 1 || multi_chan_block)) {
            return Ok(());
        }
        let load_rows = self.cache_load_rows;
        let t = Instant::now();
        self.cache_read = true;
        let imagename = self.setup.params.imagename.clone();
        for src in self.setup.sources.iter_mut() {
            let disk = (!self.cache_in_memory)
                .then(|| PathBuf::from(format!("{imagename}.visstore{}", src.index)));
            let bytes = src.load_cache(load_rows, disk.as_deref())? as f64 / MIB;
            if self.cache_in_memory {
                self.cached_mib += bytes;
            } else {
                self.scratch_mib += bytes;
            }
        }
        info!(
            memory_mib = format!("{:.0}", self.cached_mib),
            scratch_file_mib = format!("{:.0}", self.scratch_mib),
            seconds = format!("{:.2}", t.elapsed().as_secs_f64()),
            "read the selected visibilities once for all blocks"
        );
        Ok(())
    }

    /// Log what the run is about to image and how.
    pub fn log_plan(&self) {
        let (setup, sched) = (&self.setup, &self.sched);
        let params = &setup.params;
        let nblocks = self.sink.lock().map_or(0, |s| s.ckpt.blocks.len());
        info!(
            nchan = setup.plan.nchan(),
            chans_per_block = sched.chans_per_block,
            blocks = nblocks,
            blocks_in_flight = sched.blocks_in_flight,
            threads_per_block = sched.threads_per_block,
            memory_estimate_gib = format!("{:.2}", sched.estimate_bytes as f64 / GIB),
            memory_limit_gib = format!("{:.2}", sched.budget_bytes as f64 / GIB),
            kernel_support = setup.gridder.kernel_support(),
            oversampling = setup.gridder.oversampling(),
            "imaging {} MS(s) into {}x{} x {} channel(s) x {} Stokes",
            setup.sources.len(),
            params.nx,
            params.ny,
            setup.plan.nchan(),
            params.stokes.0.len()
        );
    }

    fn sink(&self) -> std::sync::MutexGuard<'_, Sink> {
        self.sink.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Write one final plane of a block run here into product `ext`.
    pub fn put_plane(
        &self,
        ext: &'static str,
        chan: usize,
        stokes: usize,
        plane: ndarray::ArrayView2<f32>,
    ) -> Result<(), EngineError> {
        self.sink().out.put(ext, chan, stokes, plane)
    }

    /// Note that block `block` run here is written; when a record is due, the blocks to record
    /// and the paths to make durable first (then [`record`](Self::record)).
    pub fn block_done(
        &self,
        block: usize,
        result: BlockResult,
        task: TaskSummary,
    ) -> Result<Option<DueCommit>, EngineError> {
        let params = &self.setup.params;
        self.sink().write_block(params, block, result, task)
    }

    /// Record `blocks` complete (their planes are durable).
    pub fn record(&self, blocks: Vec<usize>) -> Result<(), EngineError> {
        self.sink().record(blocks)
    }

    /// An error naming the blocks not yet accepted, if any ([`finish`](Self::finish) needs all).
    pub fn ready_to_finish(&self) -> Result<(), EngineError> {
        let missing: Vec<usize> = self.pending().iter().map(|p| p.block).collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(EngineError::protocol(format!(
            "cannot finish: blocks {missing:?} have not been accepted"
        )))
    }

    /// Record the finished blocks (their planes made durable) and release the lock; a later run
    /// with the same parameters resumes with the rest.
    pub fn abort(mut self) -> Result<(), EngineError> {
        self.sink_mut().commit()
    }
}

/// Whether a cube's channels are interpolated from the data's in another frame (`linear` or
/// `cubic`; `nearest` bins each data channel into one image channel).
fn interpolates(plan: &crate::plan::SpectralPlan) -> bool {
    plan.conversion.as_ref().is_some_and(|c| {
        !plan.mfs
            && c.interpolation != crate::source::regrid_rules::Method::Nearest
            && plan.nchan() > 1
    })
}

/// (selected rows, channels, correlations) of the one read of the visibilities for all blocks:
/// every source's rows; the most channels and correlations of any data description (what
/// `memory::cache_phase` takes).
fn cache_extent(setup: &Setup) -> (u64, usize, usize) {
    let rows = setup
        .sources
        .iter()
        .map(|s| s.selected.n_rows() as u64)
        .sum();
    let (chans, ncorr) = setup
        .sources
        .iter()
        .flat_map(|s| s.selected.groups.iter())
        .map(|g| (g.chan_ids.len(), g.corrs.len()))
        .fold((0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
    (rows, chans, ncorr)
}
