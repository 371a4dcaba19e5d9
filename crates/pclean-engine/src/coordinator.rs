//! The run as a coordinator: open and plan, schedule blocks, own the products and the checkpoint,
//! accept finished blocks (from the local executor in [`run_image`](crate::run_image) or from
//! remote workers as bytes), and finish the products. Blocks are computed by
//! [`run_block`](crate::block::run_block) wherever they run; [`BlockWorker`](crate::worker::BlockWorker)
//! is the remote side.

use crate::alloc_count;
use crate::block::{pbcor_plane, restore, BlockInputs};
use crate::block_io::{block_meta, decode_block, BlockMeta};
use crate::checkpoint::{checkpoint_path, product_params, Checkpoint};
use crate::error::EngineError;
use crate::imaging::{make_gridder, ImagingContext, Source};
use crate::iteration::IterationSettings;
use crate::memory::{self, BlockShape, DeconvolverKind, Schedule, ScheduleRequest};
use crate::plan::{phase_centre, spectral_plan, FrameContext, SpectralPlan, SpwSelection};
use crate::products::{check_products_absent, fsync_tree, ProductLock};
use crate::progress::Progress;
use crate::resources::{current_rss_mib, peak_rss_mib};
use crate::stages::{
    iteration_settings, product_list, read_start_model, OpenMode, Products, Reused,
};
use crate::summary::{RunSummary, TaskSummary};
use ndarray::Array2;
use pclean_core::params::{
    DataColumnChoice, Deconvolver, ImagingParams, RawParams, RestoringBeam, SpecMode, UseMask,
    Weighting,
};
use pclean_core::{Beam, Direction};
use pclean_deconv::restore::{common_beam, convolve_to_beam};
use pclean_grid::gridder::{Gridder, Precision};
use pclean_grid::pb::{pb_model_for, PbModel};
use pclean_grid::weighting::{ImagingWeighter, UvTaper};
use pclean_imageio::{Beams, ImageCoords, SpectralAxis};
use pclean_ms::{DataColumn, MeasurementSet, Selection};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;
use tracing::{info, warn};

const MIB: f64 = (1u64 << 20) as f64;
/// Selected visibilities up to this size are kept in memory for all blocks; larger ones go to a
/// scratch file.
pub(crate) const MEMORY_CACHE_MAX: u64 = 64 << 20;

/// What every participant of a run opens and plans identically from the parameters: the
/// MeasurementSets and their selections, the phase centre, the spectral axis, the gridder, and
/// the inputs of the memory model. The coordinator and every worker build it the same way, so a
/// block computed anywhere is the same block.
pub struct Setup {
    pub sources: Vec<Source>,
    pub centre: Direction,
    pub first_field: usize,
    pub plan: SpectralPlan,
    pub taper: Option<UvTaper>,
    pub gridder: Gridder,
    /// Threads of the whole run (0 in the parameters = every core).
    pub nthreads: usize,
    pub chunk_rows: usize,
    /// Bytes one selected row takes in a visibility chunk (every selected channel).
    pub row_bytes: usize,
    /// Visibilities gridded into one image plane.
    pub nvis_per_chan: usize,
    pub shape: BlockShape,
    pub pb_model: PbModel,
    pub it: IterationSettings,
    /// Warnings found while opening (MS metadata, column fallback).
    pub warnings: Vec<String>,
}

impl Setup {
    /// Open every MS and resolve its selection (all user errors surface here, before heavy
    /// work), then plan the phase centre, the spectral axis and the block shape.
    pub fn open(params: &ImagingParams) -> Result<Self, EngineError> {
        let mut warnings = Vec::new();
        let mut note = |w: String| {
            warn!("{w}");
            warnings.push(w);
        };
        let selection = Selection {
            field: params.field.clone(),
            spw: params.spw.clone(),
            timerange: params.timerange.clone(),
            uvrange: params.uvrange.clone(),
            antenna: params.antenna.clone(),
            scan: params.scan.clone(),
            observation: params.observation.clone(),
            intent: params.intent.clone(),
        };
        let column = match params.datacolumn {
            DataColumnChoice::Data => DataColumn::Data,
            DataColumnChoice::Corrected => DataColumn::Corrected,
            DataColumnChoice::Model => DataColumn::Model,
        };
        let mut sources = Vec::new();
        for (index, path) in params.vis.iter().enumerate() {
            let ms = MeasurementSet::open(path)?;
            for w in &ms.meta().warnings {
                note(w.clone());
            }
            let resolved = ms.resolve_column(column)?;
            if let Some(w) = resolved.warning {
                note(w);
            }
            let selected = ms.select(&selection)?;
            sources.push(Source {
                index,
                ms: std::sync::Arc::new(ms),
                selected,
                column,
                cache: None,
                first_two_hz: Default::default(),
            });
        }

        // Phase centre and spectral axis.
        let ms0 = sources[0].ms.clone();
        let field_dirs: Vec<Direction> = ms0.meta().fields.iter().map(|f| f.phase_dir).collect();
        let first_field = sources[0].selected.field_ids.first().copied().unwrap_or(0);
        let centre = phase_centre(params, &field_dirs, first_field)?;
        let mut spw_sels = Vec::new();
        for src in &sources {
            for (spw_id, channels) in src.selected.spw_channels() {
                let spw = &src.ms.meta().spectral_windows[spw_id];
                spw_sels.push(SpwSelection {
                    ms_index: src.index,
                    spw_id,
                    channels,
                    chan_freq_hz: spw.chan_freq_hz.clone(),
                    chan_width_hz: spw.chan_width_hz.clone(),
                    frame: spw.frame.name().to_string(),
                });
            }
        }
        let frame_ctx = FrameContext {
            observatory_itrf_m: ms0.meta().observatory.position_itrf_m,
            direction: centre,
            first_time_mjd_s: sources
                .iter()
                .map(|s| s.ms.meta().time_range_mjd_s.0)
                .fold(f64::INFINITY, f64::min),
        };
        let plan = spectral_plan(params, &spw_sels, &frame_ctx)?;
        if plan.conversion.is_some() && params.deconv.savemodel_column {
            return Err(EngineError::param("savemodel", format!(
                "savemodel='modelcolumn' with outframe={}: writing a model made in another frame back \
                 into the data's channels is not supported yet; use savemodel='none' or the data's frame",
                plan.frame
            )));
        }
        let taper = UvTaper::parse(&params.uvtaper)?;

        let nthreads = if params.nthreads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            params.nthreads
        };
        let nchan = plan.nchan();
        let nst = params.stokes.0.len();
        let max_chans = spw_sels
            .iter()
            .map(|s| s.channels.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let ncorr = sources
            .iter()
            .flat_map(|s| s.selected.groups.iter().map(|g| g.corrs.len()))
            .max()
            .unwrap_or(1);
        let row_bytes = max_chans * (ncorr * 13 + nst * 12);
        let chunk_rows = ((64usize << 20) / row_bytes).clamp(256, 100_000);
        // Data channels the image channels draw on: the image bandwidth in data channels (mfs: all).
        let data_width = spw_sels
            .iter()
            .filter_map(|s| s.chan_width_hz.first().map(|w| w.abs()))
            .fold(f64::INFINITY, f64::min);
        let used_chans = if plan.mfs || !data_width.is_finite() || data_width <= 0.0 {
            max_chans
        } else {
            ((nchan as f64 * plan.cdelt_hz.abs() / data_width).ceil() as usize).clamp(1, max_chans)
        };
        // Visibilities gridded into one image plane: selected rows x data channels per image
        // channel (the kernel is chosen for it: the smallest grid for large images).
        let per_image = if plan.mfs {
            usize::MAX
        } else {
            used_chans.div_ceil(nchan).max(1)
        };
        let nvis_per_chan: usize = sources
            .iter()
            .flat_map(|s| s.selected.groups.iter())
            .map(|g| g.rows.len() * g.chan_ids.len().min(per_image))
            .sum::<usize>()
            .max(1);
        let gridder = make_gridder(params, nvis_per_chan)?;
        let mut shape = block_shape(
            params,
            &gridder,
            chunk_rows,
            used_chans,
            nchan,
            ncorr,
            nvis_per_chan,
        );
        shape.spw_chans = max_chans;
        let meta0 = ms0.meta();
        let dish = meta0
            .antennas
            .iter()
            .find(|a| !a.flag_row)
            .map_or(0.0, |a| a.dish_diameter_m);
        let pb_model = pb_model_for(&meta0.observatory.name, dish);
        Ok(Setup {
            sources,
            centre,
            first_field,
            plan,
            taper,
            gridder,
            nthreads,
            chunk_rows,
            row_bytes,
            nvis_per_chan,
            shape,
            pb_model,
            it: iteration_settings(params),
            warnings,
        })
    }

    /// The imaging context of blocks run with `nthreads` threads each.
    /// The inputs of one block, wherever it runs: this run's sources, beams and iteration
    /// settings with the given context, weighting density and start models; `exts` (the run's
    /// products) says whether the block makes `image.pbcor` and `mask` planes.
    pub(crate) fn block_inputs<'a>(
        &'a self,
        ctx: &'a ImagingContext<'a>,
        shared_weighter: Option<&'a ImagingWeighter>,
        reused: &'a Reused,
        start_models: Option<&'a [Array2<f32>]>,
        exts: &[&str],
    ) -> BlockInputs<'a> {
        BlockInputs {
            shared_weighter,
            ctx,
            sources: &self.sources,
            pb_model: &self.pb_model,
            reused,
            start_models,
            it: &self.it,
            centre: &self.centre,
            pbcor: exts.contains(&"image.pbcor"),
            mask_product: exts.contains(&"mask"),
        }
    }

    pub fn context<'a>(&'a self, params: &'a ImagingParams, nthreads: usize) -> ImagingContext<'a> {
        ImagingContext {
            params,
            plan: &self.plan,
            phase_centre: self.centre,
            gridder: self.gridder.clone(),
            taper: self.taper,
            nthreads,
            chunk_rows: self.chunk_rows,
        }
    }

    /// The one weighting density of a cube with `perchanweightdensity=false` (made from every
    /// channel), or `None` when each block makes its own (or there is none).
    pub fn shared_weighter(
        &self,
        params: &ImagingParams,
        nthreads: usize,
    ) -> Result<Option<ImagingWeighter>, EngineError> {
        if self.plan.mfs
            || params.perchanweightdensity
            || matches!(params.weighting, Weighting::Natural)
        {
            return Ok(None);
        }
        let ctx = self.context(params, nthreads);
        let pool = thread_pool(nthreads)?;
        Ok(pool
            .install(|| ctx.weighters(&self.sources, 0..self.plan.nchan()))?
            .into_iter()
            .next())
    }
}

/// A rayon pool of `n` threads.
pub(crate) fn thread_pool(n: usize) -> Result<rayon::ThreadPool, EngineError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|source| EngineError::Threads { threads: n, source })
}

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
    pub params: ImagingParams,
    effective: RawParams,
    t0: Instant,
    warnings: Vec<String>,
    pub setup: Setup,
    pub sched: Schedule,
    pub(crate) budget: u64,
    pub(crate) start_models: Option<Vec<Array2<f32>>>,
    pub(crate) reused: Reused,
    pub(crate) exts: Vec<&'static str>,
    resumed_channels_at_start: usize,
    pub(crate) cached_mib: f64,
    pub(crate) scratch_mib: f64,
    pub(crate) cache_bytes: u64,
    pub(crate) cache_in_memory: bool,
    pub(crate) sink: std::sync::Mutex<Sink>,
    /// Resident set and live heap, MiB, once set up and before any visibility is read.
    idle_rss_mib: f64,
    idle_alloc_mib: Option<f64>,
    _lock: ProductLock,
}

impl Coordinator {
    /// Open and plan, schedule the blocks (for the local pool, or with `parallel` one block per
    /// Dask worker of `threads_per_worker` threads within `memory_limit`), load or create the
    /// checkpoint, create or reopen the products and take their lock.
    pub fn new(params: ImagingParams, effective: RawParams) -> Result<Self, EngineError> {
        let t0 = Instant::now();
        let setup = Setup::open(&params)?;
        let mut warnings = setup.warnings.clone();
        let remote = params.parallel.parallel;
        if remote && (params.deconv.restart || !params.deconv.calcres || !params.deconv.calcpsf) {
            return Err(EngineError::param(
                "restart",
                "restart/calcres/calcpsf: continuing from existing products is not supported with \
                 parallel=true yet (the workers would read products the run rewrites); run it \
                 with parallel=false",
            ));
        }
        let plan = &setup.plan;
        let nchan = plan.nchan();
        let nst = params.stokes.0.len();
        let exts = product_list(&params);
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
        let budget_for_blocks = if use_cache && cache_in_memory {
            budget.saturating_sub(cache_bytes)
        } else {
            budget
        };
        let tpw = params.parallel.threads_per_worker;
        let chans_per_block = match &resumed {
            // Resume with the interrupted run's blocks: cycle thresholds are per block.
            Some(c) => c.blocks.iter().map(|b| b[1] - b[0]).max().unwrap_or(1),
            None => params.cube_chunksize,
        };
        let sched = memory::schedule(
            &setup.shape,
            ScheduleRequest {
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
                prefer_whole_cube: !remote && (params.niter > 0 || start_model_given(&params)),
            },
        )?;

        // Products: refuse to clobber, take the lock, create every product up front (or reopen
        // an interrupted run's). restart rewrites the products it continues from.
        let rewrite = params.overwrite || params.deconv.restart;
        if resumed.is_none() {
            check_products_absent(&params.imagename, params.format, rewrite, &exts)?;
        }
        let start_models = read_start_model(&params, nchan)?;
        let reused = Reused::load(&params, nchan)?;
        let lock = ProductLock::acquire(&params.imagename)?;
        let ms0 = setup.sources[0].ms.clone();
        let coords = image_coords(&params, plan, &setup.centre, ms0.meta());
        let object = ms0
            .meta()
            .fields
            .get(setup.first_field)
            .map(|f| f.name.clone())
            .unwrap_or_default();
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
                // Written before the products exist, so a run killed while creating them resumes
                // (not fsynced: nothing is recorded complete yet, and an fsync here waited seconds
                // behind other files' writeback).
                c.save(&ckpt_path, false)?;
                (c, OpenMode::Create { overwrite: rewrite })
            }
        };
        let mut out = Products::create(&params, &exts, &coords, &object, mode)?;
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
            params,
            effective,
            t0,
            warnings,
            setup,
            sched,
            budget,
            start_models,
            reused,
            exts,
            resumed_channels_at_start,
            cached_mib: 0.0,
            scratch_mib: 0.0,
            cache_bytes,
            cache_in_memory,
            sink: std::sync::Mutex::new(sink),
            // The process is idle here: the MS is open, the products made, no data read.
            idle_rss_mib: current_rss_mib(),
            idle_alloc_mib: alloc_count::current_bytes().map(|v| v as f64 / MIB),
            _lock: lock,
        })
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
                    memory_bytes: memory::BASE_BYTES + self.setup.shape.block_bytes(z - a, threads),
                    threads,
                }
            })
            .collect()
    }

    /// The inputs of a block run here (the local executor).
    pub(crate) fn block_inputs<'a>(
        &'a self,
        ctx: &'a ImagingContext<'a>,
        shared_weighter: Option<&'a ImagingWeighter>,
    ) -> BlockInputs<'a> {
        self.setup.block_inputs(
            ctx,
            shared_weighter,
            &self.reused,
            self.start_models.as_deref(),
            &self.exts,
        )
    }

    /// Write block `block`'s serialised result (from [`BlockWorker`](crate::worker::BlockWorker))
    /// into the products and record it in the checkpoint, with the local engine's durability
    /// rules (planes fsynced before a block is recorded; records at most every commit interval).
    pub fn accept(&mut self, block: usize, result: &[u8]) -> Result<(), EngineError> {
        let nblocks = self.sink_mut().ckpt.blocks.len();
        let Some(&[a, z]) = self.sink_mut().ckpt.blocks.get(block) else {
            return Err(EngineError::protocol(format!(
                "block {block} does not exist (the run has {nblocks} blocks)"
            )));
        };
        let sink = self.sink_mut();
        if sink.ckpt.done[block] || sink.pending.contains(&block) {
            return Err(EngineError::protocol(format!(
                "block {block} (channels {a}..{z}) was already accepted"
            )));
        }
        let nst = self.params.stokes.0.len();
        let exts = self.exts.clone();
        let sink = self.sink.get_mut().unwrap_or_else(|p| p.into_inner());
        let header = decode_block(result, &mut |w, plane| {
            if w.chan < a || w.chan >= z || w.stokes >= nst {
                return Err(EngineError::protocol(format!(
                    "block result for channel {} stokes {} does not belong to block {block} \
                     (channels {a}..{z})",
                    w.chan, w.stokes
                )));
            }
            let Some(ext) = exts.iter().find(|e| **e == w.product) else {
                return Err(EngineError::protocol(format!(
                    "block result has product '{}' this run does not make",
                    w.product
                )));
            };
            sink.out.put(ext, w.chan, w.stokes, plane)
        })?;
        if header.channels != [a, z] {
            return Err(EngineError::protocol(format!(
                "block result covers channels {:?}, block {block} is {a}..{z}",
                header.channels
            )));
        }
        if let Some(due) = sink.record_block(block, header.meta, header.task)? {
            // No committer thread here: make the planes durable, then record.
            for p in &due.1 {
                fsync_tree(p)?;
            }
            sink.record(due.0)?;
        }
        Ok(())
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

    /// Restoration finishing steps (common beam), beams, MODEL_DATA, side files and the summary;
    /// removes the checkpoint. Every block must have been accepted.
    pub fn finish(self) -> Result<RunSummary, EngineError> {
        self.ready_to_finish()?;
        let params = &self.params;
        let nchan = self.setup.plan.nchan();
        let nst = params.stokes.0.len();
        let nthreads = self.setup.nthreads;
        // A long final phase (restoring to the common beam, writing MODEL_DATA) first records
        // every block, so a run killed in it resumes there; otherwise the products are finished
        // right away.
        let sink = self.sink.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut sink = sink;
        if params.deconv.restoringbeam == RestoringBeam::Common || params.deconv.savemodel_column {
            sink.commit()?;
        }
        let Sink {
            mut out,
            ckpt,
            progress,
            path: ckpt_path,
            ..
        } = sink;
        progress.finish();
        let mut warnings = self.warnings;
        for w in &ckpt.warnings {
            warn!("{w}");
            warnings.push(w.clone());
        }
        let beams = ckpt.beams.clone();

        // Restoring beams: per plane, a user beam, or the common beam (residuals convolved to
        // it, read back from the products).
        let image_beams = match params.deconv.restoringbeam {
            RestoringBeam::Fitted => beams.clone(),
            RestoringBeam::User(b) => vec![b; nchan * nst],
            RestoringBeam::Common => {
                let valid: Vec<Beam> = beams.iter().copied().filter(|b| b.is_valid()).collect();
                let common = common_beam(&valid).map_err(|e| {
                    EngineError::param_source("restoringbeam", "restoringbeam='common'", e)
                })?;
                for k in 0..nchan {
                    for s in 0..nst {
                        let model = out.get("model", k, s)?;
                        let residual = out.get("residual", k, s)?;
                        let from = beams[k + nchan * s];
                        let residual = if from.is_valid() {
                            convolve_to_beam(
                                residual.view(),
                                &from,
                                &common,
                                params.cell_x_rad,
                                params.cell_y_rad,
                            )
                            .map_err(|e| {
                                EngineError::param_source(
                                    "restoringbeam",
                                    "restoringbeam='common'",
                                    e,
                                )
                            })?
                        } else {
                            residual
                        };
                        let image = restore(&model, &residual, &common, params)?;
                        out.put("image", k, s, image.view())?;
                        if out.has("image.pbcor") {
                            let pb = out.get("pb", k, s)?;
                            out.put(
                                "image.pbcor",
                                k,
                                s,
                                pbcor_plane(&image, &pb, params.pblimit)?.view(),
                            )?;
                        }
                    }
                }
                vec![common; nchan * nst]
            }
        };
        let plan = &self.setup.plan;
        let to_set = |b: &[Beam]| {
            if plan.mfs && nst == 1 {
                Beams::Single(b[0])
            } else {
                Beams::PerPlane {
                    nchan,
                    nstokes: nst,
                    beams: b.to_vec(),
                }
            }
        };
        let saved_models = if params.deconv.savemodel_column {
            let mut v = Vec::with_capacity(nchan);
            for k in 0..nchan {
                v.push(
                    (0..nst)
                        .map(|s| out.get("model", k, s))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            Some(v)
        } else {
            None
        };
        let products = out.finish(&to_set(&beams), &to_set(&image_beams))?;
        let ctx = self.setup.context(params, self.sched.threads_per_block);
        if let Some(models) = saved_models {
            let pool = thread_pool(nthreads)?;
            let rows = pool.install(|| ctx.save_model_column(&self.setup.sources, &models))?;
            info!(rows, "wrote the model visibilities to MODEL_DATA");
        }
        let mut tasks = ckpt.tasks.clone();
        tasks.sort_by_key(|t| t.channels[0]);
        let mut channels = ckpt.channels.clone();
        channels.sort_by_key(|c| c.channel);
        let sched = &self.sched;
        let (support, sigma) = (ctx.gridder.kernel_support(), ctx.gridder.oversampling());
        let summary = RunSummary {
            pclean_version: env!("CARGO_PKG_VERSION").to_string(),
            imagename: params.imagename.clone(),
            products,
            specmode: format!("{:?}", params.specmode).to_lowercase(),
            nchan,
            stokes: params.stokes.label(),
            imsize: [params.nx, params.ny],
            phasecenter: self.setup.centre.to_casa_string(),
            spectral_frame: plan.frame.clone(),
            gridder: "standard".into(),
            deconvolver: (params.niter > 0).then_some(params.deconv.deconvolver),
            kernel_support: support,
            oversampling: sigma,
            rows_read: self
                .setup
                .sources
                .iter()
                .map(|s| s.selected.n_rows() as u64)
                .sum(),
            nvis_per_channel: self.setup.nvis_per_chan as u64,
            chans_per_block: sched.chans_per_block,
            blocks_in_flight: sched.blocks_in_flight,
            threads_per_block: sched.threads_per_block,
            memory_estimate_mib: (sched.estimate_bytes
                + if self.cached_mib > 0.0 {
                    self.cache_bytes
                } else {
                    0
                }) as f64
                / MIB,
            vis_cache_mib: self.cached_mib,
            vis_scratch_mib: self.scratch_mib,
            memory_limit_mib: self.budget as f64 / MIB,
            resumed_channels: self.resumed_channels_at_start,
            total_iterations: channels.iter().map(|c| c.iterations).sum(),
            channels,
            warnings,
            wall_time_s: self.t0.elapsed().as_secs_f64(),
            peak_rss_mib: peak_rss_mib(),
            idle_rss_mib: self.idle_rss_mib,
            idle_alloc_mib: self.idle_alloc_mib,
            peak_alloc_mib: alloc_count::peak_bytes().map(|v| v as f64 / MIB),
            tasks,
            nthreads,
        };
        write_side_files(params, &self.effective, &summary)?;
        // Every product is complete: the checkpoint has done its job.
        if let Err(e) = std::fs::remove_file(&ckpt_path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                warn!("cannot remove checkpoint '{}': {e}", ckpt_path.display());
            }
        }
        info!(
            wall_time_s = format!("{:.2}", summary.wall_time_s),
            peak_rss_mib = format!("{:.0}", summary.peak_rss_mib),
            "wrote {} products with prefix {}",
            summary.products.len(),
            params.imagename
        );
        Ok(summary)
    }
}

fn write_side_files(
    params: &ImagingParams,
    effective: &RawParams,
    summary: &RunSummary,
) -> Result<(), EngineError> {
    let io = |context: String| move |source| EngineError::Io { context, source };
    let path = format!("{}.summary.json", params.imagename);
    let text = serde_json::to_string_pretty(summary).expect("summary serialises");
    std::fs::write(&path, text).map_err(io(format!("cannot write '{path}'")))?;
    let path = format!("{}.config.json", params.imagename);
    let text = serde_json::to_string_pretty(effective).expect("config serialises");
    std::fs::write(&path, text).map_err(io(format!("cannot write '{path}'")))?;
    Ok(())
}

fn image_coords(
    params: &ImagingParams,
    plan: &SpectralPlan,
    centre: &Direction,
    meta: &pclean_ms::MsMeta,
) -> ImageCoords {
    let crval = plan.freqs_hz[0];
    let restfreq = params
        .restfreq_hz
        .unwrap_or(plan.freqs_hz[plan.nchan() / 2]);
    ImageCoords {
        nx: params.nx,
        ny: params.ny,
        reference: *centre,
        crpix: [(params.nx / 2) as f64, (params.ny / 2) as f64],
        cdelt_rad: [-params.cell_x_rad, params.cell_y_rad],
        projection: "SIN".into(),
        stokes: params.stokes.0.clone(),
        spectral: SpectralAxis {
            frame: plan.frame.clone(),
            crval_hz: crval,
            cdelt_hz: plan.cdelt_hz,
            crpix: 0.0,
            restfreq_hz: restfreq,
            nchan: plan.nchan(),
            chan_freqs_hz: (!plan.is_linear()).then(|| plan.freqs_hz.clone()),
        },
        telescope: meta.observatory.name.clone(),
        observer: meta
            .observations
            .first()
            .map(|o| o.observer.clone())
            .unwrap_or_default(),
        obsdate_mjd_utc_days: meta.time_range_mjd_s.0 / 86400.0,
        telescope_position_itrf_m: Some(meta.observatory.position_itrf_m),
    }
}

/// Whether a start model is given (the first imaging pass is then followed by deconvolution-like
/// major cycles even with niter = 0).
fn start_model_given(p: &ImagingParams) -> bool {
    p.deconv.startmodel.is_some() || p.deconv.restart
}

/// The memory-model inputs of this run.
fn block_shape(
    p: &ImagingParams,
    gridder: &Gridder,
    chunk_rows: usize,
    data_chans: usize,
    image_chans: usize,
    ncorr: usize,
    nvis_per_chan: usize,
) -> BlockShape {
    let (gv, gu) = gridder.grid_shape();
    let d = &p.deconv;
    BlockShape {
        nx: p.nx,
        ny: p.ny,
        nstokes: p.stokes.0.len(),
        grid_u: gu,
        grid_v: gv,
        grid_elem_bytes: match gridder.precision() {
            Precision::Single => 8,
            Precision::Double => 16,
        },
        density: !matches!(p.weighting, Weighting::Natural),
        density_per_channel: p.specmode != SpecMode::Mfs && p.perchanweightdensity,
        deconvolve: p.niter > 0 || start_model_given(p),
        deconvolver: match d.deconvolver {
            Deconvolver::Multiscale => DeconvolverKind::Multiscale {
                nscales: d.scales.len().max(1),
            },
            Deconvolver::Clark => DeconvolverKind::Clark,
            Deconvolver::Hogbom => DeconvolverKind::Hogbom,
        },
        automask: matches!(d.usemask, UseMask::AutoMultiThresh(_)),
        fixed_mask: match &d.usemask {
            UseMask::Pb { .. } => true,
            UseMask::User { mask } => !mask.trim().is_empty(),
            UseMask::AutoMultiThresh(_) => false,
        },
        stats_region: p.pblimit.abs() > 0.0,
        chunk_rows,
        data_chans,
        image_chans,
        spw_chans: data_chans,
        ncorr,
        nvis_per_chan,
    }
}

/// The writer side shared by the blocks in flight: products, checkpoint, progress.
pub(crate) struct Sink {
    pub(crate) out: Products,
    pub(crate) ckpt: Checkpoint,
    progress: Progress,
    path: PathBuf,
    pub(crate) freqs_hz: Vec<f64>,
    /// Blocks written but not yet recorded complete.
    pub(crate) pending: Vec<usize>,
    last_commit: Instant,
    interval: std::time::Duration,
    /// A worker is making planes durable for a record (outside the lock).
    committing: bool,
}

/// Blocks to record once the product data at these paths is durable.
pub(crate) type DueCommit = (Vec<usize>, Vec<PathBuf>);

/// Blocks are recorded complete at most this often (each record fsyncs every product), so a
/// killed run loses at most this much finished work: 5 s, or `PCLEAN_COMMIT_INTERVAL_S` seconds.
fn commit_interval() -> std::time::Duration {
    let s = std::env::var("PCLEAN_COMMIT_INTERVAL_S")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(5.0);
    std::time::Duration::from_secs_f64(s)
}

impl Sink {
    /// Record block `b` computed here (its planes are already in the products). When a record
    /// is due, flush the products and return the blocks to record and the paths to fsync first.
    pub(crate) fn write_block(
        &mut self,
        params: &ImagingParams,
        b: usize,
        r: crate::block::BlockResult,
        task: TaskSummary,
    ) -> Result<Option<DueCommit>, EngineError> {
        let meta = block_meta(params, &self.freqs_hz, r);
        self.record_block(b, meta, task)
    }

    /// Note block `b`'s metadata (its planes are written); when a record is due, flush the
    /// products and return the blocks to record and the paths to fsync first.
    pub(crate) fn record_block(
        &mut self,
        b: usize,
        meta: BlockMeta,
        task: TaskSummary,
    ) -> Result<Option<DueCommit>, EngineError> {
        let nchan = self.ckpt.nchan;
        let mut nchans = 0;
        for (k, s, beam) in meta.beams {
            self.ckpt.beams[k + nchan * s] = beam;
        }
        for c in meta.channels {
            nchans += 1;
            self.ckpt.channels.push(c);
        }
        self.ckpt.warnings.extend(meta.warnings);
        self.ckpt.tasks.push(task);
        self.pending.push(b);
        self.progress.advance(nchans);
        if self.committing || self.last_commit.elapsed() < self.interval {
            return Ok(None);
        }
        // Due: hand the planes to the OS now; the caller fsyncs them and then records the blocks.
        self.out.flush()?;
        self.committing = true;
        Ok(Some((
            std::mem::take(&mut self.pending),
            self.out.data_paths(),
        )))
    }

    /// Record `blocks` complete (their planes are durable).
    pub(crate) fn record(&mut self, blocks: Vec<usize>) -> Result<(), EngineError> {
        for b in blocks {
            self.ckpt.done[b] = true;
        }
        self.ckpt.save(&self.path, true)?;
        self.committing = false;
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Make the written planes durable (fsync), then record their blocks complete.
    pub(crate) fn commit(&mut self) -> Result<(), EngineError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.out.flush()?;
        for p in self.out.data_paths() {
            fsync_tree(&p)?;
        }
        let blocks = std::mem::take(&mut self.pending);
        self.record(blocks)
    }
}
