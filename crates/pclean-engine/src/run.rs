//! `run_image`: the whole imaging run, from parameters to products and summary.

use crate::alloc_count;
use crate::block::{pbcor_plane, restore, run_block, BlockInputs, BlockResult};
use crate::checkpoint::{checkpoint_path, product_params, Checkpoint};
use crate::error::EngineError;
use crate::imaging::{make_gridder, ImagingContext, Source};
use crate::memory::{self, BlockShape, ScheduleRequest};
use crate::plan::{phase_centre, spectral_plan, FrameContext, SpectralPlan, SpwSelection};
use crate::products::{check_products_absent, fsync_tree, ProductLock};
use crate::progress::Progress;
use crate::resources::peak_rss_mib;
use crate::stages::{
    iteration_settings, product_list, read_start_model, OpenMode, Products, Reused,
};
use crate::summary::{ChannelSummary, RunSummary, TaskSummary};
use ndarray::Array2;
use pclean_core::params::{
    DataColumnChoice, ImagingParams, RawParams, RestoringBeam, SpecMode, UseMask, Weighting,
};
use pclean_core::{Beam, Direction};
use pclean_deconv::restore::{common_beam, convolve_to_beam};
use pclean_grid::gridder::{Gridder, Precision};
use pclean_grid::pb::pb_model_for;
use pclean_grid::weighting::UvTaper;
use pclean_imageio::{Beams, ImageCoords, SpectralAxis};
use pclean_ms::{DataColumn, MeasurementSet, Selection};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tracing::{info, warn};

const GIB: f64 = (1u64 << 30) as f64;
const MIB: f64 = (1u64 << 20) as f64;
/// Selected visibilities up to this size are kept in memory for all blocks; larger ones go to a
/// scratch file.
const MEMORY_CACHE_MAX: u64 = 64 << 20;
const ARCSEC_PER_RAD: f64 = 206_264.806_247_096_36;

/// Make the dirty-image products described by `params`. `effective` (the merged raw parameters
/// with defaults) is saved next to the products for reproducibility.
pub fn run_image(params: &ImagingParams, effective: &RawParams) -> Result<RunSummary, EngineError> {
    let t0 = Instant::now();
    let mut warnings: Vec<String> = Vec::new();
    let mut note = |w: String| {
        warn!("{w}");
        warnings.push(w);
    };

    // 1. Open every MS and resolve its selection: all user errors surface here, before heavy work.
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
            ms: Arc::new(ms),
            selected,
            column,
            cache: None,
            first_two_hz: Default::default(),
        });
    }

    // 2. Phase centre and spectral axis.
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
        return Err(EngineError::Param(format!(
            "savemodel='modelcolumn' with outframe={}: writing a model made in another frame back \
             into the data's channels is not supported yet; use savemodel='none' or the data's frame",
            plan.frame
        )));
    }
    let taper = UvTaper::parse(&params.uvtaper)?;
    let gridder = make_gridder(params)?;

    // 3. Schedule blocks within the memory budget; resume an interrupted run's checkpoint.
    let exts = product_list(params);
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
    let chunk_rows = ((64usize << 20) / (max_chans * (ncorr * 13 + nst * 12))).clamp(256, 100_000);
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
    let shape = block_shape(params, &gridder, chunk_rows, used_chans, nchan, ncorr);
    let ckpt_path = checkpoint_path(&params.imagename);
    let wanted = product_params(effective);
    let resumed = match Checkpoint::load(&ckpt_path)? {
        Some(c) => {
            let diff = c.differing_params(&wanted);
            if diff.is_empty() && c.nchan == nchan && c.nstokes == nst {
                Some(c)
            } else if params.overwrite {
                None
            } else {
                return Err(EngineError::Param(format!(
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
    // column, so with several blocks the selected visibilities are read once: kept in memory when
    // small, else in a channel-major scratch file (page cache, not resident memory).
    let cache_bytes: u64 = sources
        .iter()
        .map(|s| memory::vis_cache_bytes(&s.selected))
        .sum();
    let cache_in_memory = cache_bytes <= MEMORY_CACHE_MAX.min(budget / 4);
    let use_cache = !plan.mfs && nchan > 1;
    let budget_for_blocks = if use_cache && cache_in_memory {
        budget.saturating_sub(cache_bytes)
    } else {
        budget
    };
    let sched = memory::schedule(
        &shape,
        ScheduleRequest {
            nchan,
            nthreads,
            chans_per_block: match &resumed {
                // Resume with the interrupted run's blocks: cycle thresholds are per block.
                Some(c) => c.blocks.iter().map(|b| b[1] - b[0]).max().unwrap_or(1),
                None => params.cube_chunksize,
            },
            blocks_in_flight: params.blocks_in_flight,
            threads_per_block: params.threads_per_block,
            budget_bytes: budget_for_blocks,
            prefer_whole_cube: params.niter > 0 || start_model_given(params),
        },
    )?;

    // 4. Products: refuse to clobber, take the lock, create every product up front (or reopen an
    // interrupted run's).
    // restart rewrites the products it continues from.
    let rewrite = params.overwrite || params.deconv.restart;
    if resumed.is_none() {
        check_products_absent(&params.imagename, params.format, rewrite, &exts)?;
    }
    let start_models = read_start_model(params, nchan)?;
    let reused = Reused::load(params, nchan)?;
    let _lock = ProductLock::acquire(&params.imagename)?;
    let coords = image_coords(params, &plan, &centre, ms0.meta());
    let object = ms0
        .meta()
        .fields
        .get(first_field)
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let (ckpt, mode) = match resumed {
        Some(c) if c.complete_blocks() > 0 => {
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
    let mut out = Products::create(params, &exts, &coords, &object, mode)?;
    out.flush()?;

    let nblocks_todo = ckpt.done.iter().filter(|d| !**d).count();
    let mut cached_mib = 0.0;
    let mut scratch_mib = 0.0;
    if use_cache && nblocks_todo > 1 {
        let t = Instant::now();
        for src in sources.iter_mut() {
            let disk = (!cache_in_memory)
                .then(|| PathBuf::from(format!("{}.visstore{}", params.imagename, src.index)));
            let bytes = src.load_cache(chunk_rows, disk.as_deref())? as f64 / MIB;
            if cache_in_memory {
                cached_mib += bytes;
            } else {
                scratch_mib += bytes;
            }
        }
        info!(
            memory_mib = format!("{cached_mib:.0}"),
            scratch_file_mib = format!("{scratch_mib:.0}"),
            seconds = format!("{:.2}", t.elapsed().as_secs_f64()),
            "read the selected visibilities once for all blocks"
        );
    }

    // 5. Image (and deconvolve) channel blocks, `blocks_in_flight` at a time; each block's planes
    // go straight into the products, then the block is recorded complete.
    info!(
        nchan,
        chans_per_block = sched.chans_per_block,
        blocks = ckpt.blocks.len(),
        blocks_in_flight = sched.blocks_in_flight,
        threads_per_block = sched.threads_per_block,
        memory_estimate_gib = format!("{:.2}", sched.estimate_bytes as f64 / GIB),
        memory_limit_gib = format!("{:.2}", sched.budget_bytes as f64 / GIB),
        kernel_support = gridder.kernel_support(),
        oversampling = gridder.oversampling(),
        "imaging {} MS(s) into {}x{} x {} channel(s) x {} Stokes",
        sources.len(),
        params.nx,
        params.ny,
        nchan,
        nst
    );
    let ctx = ImagingContext {
        params,
        plan: &plan,
        phase_centre: centre,
        gridder,
        taper,
        nthreads: sched.threads_per_block,
        chunk_rows,
    };
    let meta0 = ms0.meta();
    let dish = meta0
        .antennas
        .iter()
        .find(|a| !a.flag_row)
        .map_or(0.0, |a| a.dish_diameter_m);
    let pb_model = pb_model_for(&meta0.observatory.name, dish);
    let it = iteration_settings(params);
    // A cube with one weighting density for all channels: made once from every channel.
    let shared_weighter = if !plan.mfs
        && !params.perchanweightdensity
        && !matches!(params.weighting, Weighting::Natural)
    {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(nthreads)
            .build()
            .map_err(|e| EngineError::Grid(format!("cannot start {nthreads} threads: {e}")))?;
        pool.install(|| ctx.weighters(&sources, 0..nchan))?
            .into_iter()
            .next()
    } else {
        None
    };
    let inputs = BlockInputs {
        shared_weighter: shared_weighter.as_ref(),
        ctx: &ctx,
        sources: &sources,
        pb_model: &pb_model,
        reused: &reused,
        start_models: start_models.as_deref(),
        it: &it,
        centre: &centre,
        pbcor: out.has("image.pbcor"),
    };
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
    let todo: Vec<usize> = (0..ckpt.blocks.len()).filter(|b| !ckpt.done[*b]).collect();
    let blocks = ckpt.blocks.clone();
    let sink = Mutex::new(Sink {
        out,
        ckpt,
        progress,
        path: ckpt_path.clone(),
        freqs_hz: plan.freqs_hz.clone(),
        pending: Vec::new(),
        staged: Vec::new(),
        last_commit: Instant::now(),
        interval: commit_interval(),
        committing: false,
    });
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<EngineError>> = Mutex::new(None);
    let fail = |e: EngineError| {
        let mut f = failed.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(e);
        }
    };
    let (tx, rx) = std::sync::mpsc::channel::<DueCommit>();
    std::thread::scope(|scope| {
        {
            let (fail, sink) = (&fail, &sink);
            scope.spawn(move || {
                // fsync the products' data, then record the blocks (at most one at a time: the
                // sink starts no new record while one is pending).
                for (blocks, paths) in rx {
                    let res = paths.iter().try_for_each(|p| fsync_tree(p)).and_then(|_| {
                        sink.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .record(blocks)
                    });
                    if let Err(e) = res {
                        fail(e);
                    }
                }
            });
        }
        for w in 0..sched.blocks_in_flight.min(todo.len()) {
            let tx = tx.clone();
            let (fail, next, todo, blocks, sink, inputs, failed) =
                (&fail, &next, &todo, &blocks, &sink, &inputs, &failed);
            scope.spawn(move || {
                alloc_count::set_thread_slot(w);
                let pool = match rayon::ThreadPoolBuilder::new()
                    .num_threads(sched.threads_per_block)
                    .start_handler(move |_| alloc_count::set_thread_slot(w))
                    .build()
                {
                    Ok(p) => p,
                    Err(e) => {
                        return fail(EngineError::Grid(format!(
                            "cannot start {} threads: {e}",
                            sched.threads_per_block
                        )))
                    }
                };
                loop {
                    if failed.lock().map_or(true, |f| f.is_some()) {
                        return;
                    }
                    let j = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&b) = todo.get(j) else { return };
                    let [a, z] = blocks[b];
                    let t = Instant::now();
                    let base = alloc_count::slot_begin(w);
                    let res = pool.install(|| run_block(inputs, a..z)).and_then(|r| {
                        let task = TaskSummary {
                            channels: [a, z],
                            wall_time_s: t.elapsed().as_secs_f64(),
                            peak_alloc_mib: alloc_count::slot_peak_since(w, base)
                                .map(|v| v as f64 / MIB),
                        };
                        let due = sink
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .write_block(params, b, r, task)?;
                        // Durability on the committer thread: this worker goes on imaging.
                        if let Some(d) = due {
                            let _ = tx.send(d);
                        }
                        Ok(())
                    });
                    if let Err(e) = res {
                        return fail(e);
                    }
                }
            });
        }
        drop(tx);
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        // The products stay marked incomplete and the checkpoint names the finished blocks, so
        // running the same command again resumes.
        let mut s = sink.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Err(c) = s.commit() {
            warn!("cannot record the finished blocks: {c}");
        }
        return Err(e);
    }
    let mut sink = sink.into_inner().unwrap_or_else(|p| p.into_inner());
    // Every block is written: the summaries of those not yet recorded join the others.
    sink.unstage(|_| true);
    // A long final phase (restoring to the common beam, writing MODEL_DATA) first records every
    // block, so a run killed in it resumes there; otherwise the products are finished right away.
    if params.deconv.restoringbeam == RestoringBeam::Common || params.deconv.savemodel_column {
        sink.commit()?;
    }
    let Sink {
        mut out,
        ckpt,
        progress,
        ..
    } = sink;
    progress.finish();
    for w in &ckpt.warnings {
        note(w.clone());
    }
    let beams = ckpt.beams.clone();

    // 6. Restoring beams: per plane, a user beam, or the common beam (residuals convolved to it,
    // read back from the products).
    let image_beams = match params.deconv.restoringbeam {
        RestoringBeam::Fitted => beams.clone(),
        RestoringBeam::User(b) => vec![b; nchan * nst],
        RestoringBeam::Common => {
            let valid: Vec<Beam> = beams.iter().copied().filter(|b| b.is_valid()).collect();
            let common = common_beam(&valid)
                .map_err(|e| EngineError::Param(format!("restoringbeam='common': {e}")))?;
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
                        .map_err(|e| EngineError::Param(format!("restoringbeam='common': {e}")))?
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
    if let Some(models) = saved_models {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(nthreads)
            .build()
            .map_err(|e| EngineError::Grid(format!("cannot start {nthreads} threads: {e}")))?;
        let rows = pool.install(|| ctx.save_model_column(&sources, &models))?;
        info!(rows, "wrote the model visibilities to MODEL_DATA");
    }
    let resumed_channels = resumed_channels_at_start;
    let mut tasks = ckpt.tasks.clone();
    tasks.sort_by_key(|t| t.channels[0]);
    let mut channels = ckpt.channels.clone();
    channels.sort_by_key(|c| c.channel);

    let (support, sigma) = (ctx.gridder.kernel_support(), ctx.gridder.oversampling());
    let summary = RunSummary {
        pclean_version: env!("CARGO_PKG_VERSION").to_string(),
        imagename: params.imagename.clone(),
        products,
        specmode: format!("{:?}", params.specmode).to_lowercase(),
        nchan,
        stokes: params.stokes.label(),
        imsize: [params.nx, params.ny],
        phasecenter: centre.to_casa_string(),
        spectral_frame: plan.frame.clone(),
        gridder: "standard".into(),
        deconvolver: (params.niter > 0).then(|| params.deconv.deconvolver.clone()),
        kernel_support: support,
        oversampling: sigma,
        rows_read: sources.iter().map(|s| s.selected.n_rows() as u64).sum(),
        chans_per_block: sched.chans_per_block,
        blocks_in_flight: sched.blocks_in_flight,
        threads_per_block: sched.threads_per_block,
        memory_estimate_mib: (sched.estimate_bytes + if cached_mib > 0.0 { cache_bytes } else { 0 })
            as f64
            / MIB,
        vis_cache_mib: cached_mib,
        vis_scratch_mib: scratch_mib,
        memory_limit_mib: budget as f64 / MIB,
        resumed_channels,
        total_iterations: channels.iter().map(|c| c.iterations).sum(),
        channels,
        warnings,
        wall_time_s: t0.elapsed().as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
        peak_alloc_mib: alloc_count::peak_bytes().map(|v| v as f64 / MIB),
        tasks,
        nthreads,
    };
    write_side_files(params, effective, &summary)?;
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
) -> BlockShape {
    let (gu, gv) = gridder.grid_shape();
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
        deconvolver_planes: if d.deconvolver == "multiscale" {
            3 * d.scales.len()
        } else {
            0
        },
        automask: matches!(d.usemask, UseMask::AutoMultiThresh(_)),
        chunk_rows,
        data_chans,
        image_chans,
        ncorr,
    }
}

/// The writer side shared by the blocks in flight: products, checkpoint, progress.
struct Sink {
    out: Products,
    ckpt: Checkpoint,
    progress: Progress,
    path: PathBuf,
    freqs_hz: Vec<f64>,
    /// Blocks written but not yet recorded complete.
    pending: Vec<usize>,
    /// Summaries of written blocks, moved into the checkpoint when the block is recorded (a
    /// checkpoint must not list channels of a block that a resumed run images again).
    staged: Vec<(usize, StagedBlock)>,
    last_commit: Instant,
    interval: std::time::Duration,
    /// A worker is making planes durable for a record (outside the lock).
    committing: bool,
}

/// What a written block adds to the checkpoint once it is recorded complete.
struct StagedBlock {
    channels: Vec<ChannelSummary>,
    task: TaskSummary,
    warnings: Vec<String>,
}

/// Blocks to record once the product data at these paths is durable.
type DueCommit = (Vec<usize>, Vec<PathBuf>);

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
    /// Write block `b`'s planes into every product. When a record is due, flush the products and
    /// return the blocks to record and the paths to fsync first.
    fn write_block(
        &mut self,
        params: &ImagingParams,
        b: usize,
        r: BlockResult,
        task: TaskSummary,
    ) -> Result<Option<DueCommit>, EngineError> {
        let nst = params.stokes.0.len();
        let nchan = self.ckpt.nchan;
        let out = &mut self.out;
        let mut channels = Vec::new();
        for (idx, plane) in r.planes.iter().enumerate() {
            let (i, s) = (idx / nst, idx % nst);
            let k = r.chans.start + i;
            let pb = &r.pbs[i];
            out.put("psf", k, s, plane.psf.view())?;
            out.put("residual", k, s, plane.residual.view())?;
            out.put("model", k, s, plane.model.view())?;
            out.put(
                "sumwt",
                k,
                s,
                Array2::from_elem((1, 1), plane.sumwt as f32).view(),
            )?;
            out.put("pb", k, s, pb.view())?;
            let w = plane.sumwt as f32;
            out.put("weight", k, s, pb.mapv(|p| w * p * p).view())?;
            if out.has("mask") {
                let m = match &plane.mask {
                    Some(m) => m.mapv(|v| if v { 1.0f32 } else { 0.0 }),
                    None => Array2::<f32>::ones((params.ny, params.nx)),
                };
                out.put("mask", k, s, m.view())?;
            }
            if let Some(images) = &r.images {
                let (image, corrected) = &images[idx];
                out.put("image", k, s, image.view())?;
                if let Some(c) = corrected {
                    out.put("image.pbcor", k, s, c.view())?;
                }
            }
            let beam = r.beams[idx];
            self.ckpt.beams[k + nchan * s] = beam;
            if s == 0 {
                channels.push(ChannelSummary {
                    channel: k,
                    freq_hz: self.freqs_hz[k],
                    sumwt: plane.sumwt,
                    beam_arcsec_deg: beam.is_valid().then(|| {
                        [
                            beam.major_rad * ARCSEC_PER_RAD,
                            beam.minor_rad * ARCSEC_PER_RAD,
                            beam.pa_rad.to_degrees(),
                        ]
                    }),
                    peak_residual: plane
                        .residual
                        .iter()
                        .fold(0.0f64, |m, v| m.max(v.abs() as f64)),
                    iterations: plane.iterations,
                    major_cycles: plane.major_cycles,
                    model_flux_jy: plane.model.iter().map(|v| *v as f64).sum(),
                    stop_reason: plane.stop_reason.clone(),
                });
            }
        }
        self.staged.push((
            b,
            StagedBlock {
                channels,
                task,
                warnings: r.warnings,
            },
        ));
        self.pending.push(b);
        self.progress.advance(r.chans.len());
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
    fn record(&mut self, blocks: Vec<usize>) -> Result<(), EngineError> {
        for b in blocks {
            self.ckpt.done[b] = true;
        }
        let done = self.ckpt.done.clone();
        self.unstage(|b| done[b]);
        self.ckpt.save(&self.path, true)?;
        self.committing = false;
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Move the summaries of the staged blocks for which `done` holds into the checkpoint.
    fn unstage(&mut self, done: impl Fn(usize) -> bool) {
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.staged)
            .into_iter()
            .partition(|(b, _)| done(*b));
        self.staged = later;
        for (_, st) in now {
            self.ckpt.channels.extend(st.channels);
            self.ckpt.tasks.push(st.task);
            self.ckpt.warnings.extend(st.warnings);
        }
    }

    /// Make the written planes durable (fsync), then record their blocks complete.
    fn commit(&mut self) -> Result<(), EngineError> {
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
