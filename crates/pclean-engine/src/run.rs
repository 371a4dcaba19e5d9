//! `run_image`: the whole dirty-imaging run, from parameters to products and summary.

use crate::deconvolve::deconvolve_block;
use crate::error::EngineError;
use crate::imaging::{make_gridder, BlockImages, ImagingContext, Source};
use crate::plan::{phase_centre, spectral_plan, FrameContext, SpectralPlan, SpwSelection};
use crate::products::{check_products_absent, ProductLock};
use crate::progress::Progress;
use crate::resources::{peak_rss_mib, total_memory_bytes};
use crate::stages::{
    block_setup, fit_beam, iteration_settings, product_list, read_start_model, PlaneOut, Products,
    Reused,
};
use crate::summary::{ChannelSummary, RunSummary};
use ndarray::Array2;
use pclean_core::params::{DataColumnChoice, ImagingParams, RawParams, RestoringBeam};
use pclean_core::{Beam, Direction};
use pclean_deconv::restore::{common_beam, convolve_to_beam, pbcor, restore_plane};
use pclean_grid::pb::{pb_image, pb_limit_in_place, pb_model_for};
use pclean_grid::weighting::UvTaper;
use pclean_imageio::{Beams, ImageCoords, SpectralAxis};
use pclean_ms::{DataColumn, MeasurementSet, Selection};
use std::time::Instant;
use tracing::{info, warn};

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
            ms,
            selected,
            column,
        });
    }

    // 2. Phase centre and spectral axis.
    let ms0 = &sources[0];
    let field_dirs: Vec<Direction> = ms0.ms.meta().fields.iter().map(|f| f.phase_dir).collect();
    let first_field = ms0.selected.field_ids.first().copied().unwrap_or(0);
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
        observatory_itrf_m: ms0.ms.meta().observatory.position_itrf_m,
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

    // 3. Products: refuse to clobber, take the lock, create every product up front.
    let exts = product_list(params);
    // restart rewrites the products it continues from.
    let rewrite = params.overwrite || params.deconv.restart;
    check_products_absent(&params.imagename, params.format, rewrite, &exts)?;
    let start_models = read_start_model(params, plan.nchan())?;
    let reused = Reused::load(params, plan.nchan())?;
    let _lock = ProductLock::acquire(&params.imagename)?;
    let coords = image_coords(params, &plan, &centre, ms0.ms.meta());
    let nthreads = if params.nthreads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        params.nthreads
    };
    let nchan = plan.nchan();
    let nst = params.stokes.0.len();
    let object = ms0
        .ms
        .meta()
        .fields
        .get(first_field)
        .map(|f| f.name.clone())
        .unwrap_or_default();
    let mut out = Products::create(params, &exts, &coords, &object)?;

    // 4. Image (and deconvolve) channel blocks; each block's planes go straight into the products.
    let (gu, gv) = gridder.grid_shape();
    let planes_per_chan = if params.niter > 0 { 8 } else { 4 };
    let per_chan_bytes = (2 * nst * gu * gv * std::mem::size_of::<num_complex::Complex64>()
        + planes_per_chan * nst * params.nx * params.ny * 4) as u64;
    let budget = total_memory_bytes().map_or(4 << 30, |t| (t / 4).min(16 << 30));
    let block = ((budget / per_chan_bytes.max(1)) as usize).clamp(1, nchan);
    let max_chans = spw_sels
        .iter()
        .map(|s| s.channels.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let chunk_rows = ((64usize << 20) / (max_chans * (4 * 13 + nst * 12))).clamp(256, 100_000);
    info!(
        nchan,
        block,
        nthreads,
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
        nthreads,
        chunk_rows,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(nthreads)
        .build()
        .map_err(|e| EngineError::Grid(format!("cannot start {nthreads} threads: {e}")))?;
    let meta0 = ms0.ms.meta();
    let dish = meta0
        .antennas
        .iter()
        .find(|a| !a.flag_row)
        .map_or(0.0, |a| a.dish_diameter_m);
    let pb_model = pb_model_for(&meta0.observatory.name, dish);
    let it = iteration_settings(params);
    let mut progress = Progress::new(
        nchan,
        if params.niter > 0 {
            "imaging + cleaning"
        } else {
            "dirty imaging"
        },
    );
    let mut beams = vec![
        Beam {
            major_rad: 0.0,
            minor_rad: 0.0,
            pa_rad: 0.0
        };
        nchan * nst
    ];
    let mut channels = Vec::with_capacity(nchan);
    // With restoringbeam='common' the image is restored once every plane's beam is known.
    let mut deferred: Vec<(usize, usize, Array2<f32>, Array2<f32>)> = Vec::new();
    // Final models per channel and Stokes, kept for savemodel='modelcolumn'.
    let mut saved_models: Vec<Vec<Array2<f32>>> = Vec::new();
    let mut start = 0;
    while start < nchan {
        let chans = start..(start + block).min(nchan);
        let pbs: Vec<Array2<f32>> = chans
            .clone()
            .map(|k| {
                let mut pb = pb_image(
                    &pb_model,
                    params.nx,
                    params.ny,
                    params.cell_x_rad,
                    params.cell_y_rad,
                    plan.freqs_hz[k],
                );
                // tclean zeroes the primary beam at and below |pblimit| (whatever pblimit's sign).
                pb_limit_in_place(pb.view_mut(), params.pblimit);
                pb
            })
            .collect();
        let planes = pool.install(|| -> Result<Vec<PlaneOut>, EngineError> {
            let weighters = ctx.weighters(&sources, chans.clone())?;
            let mut first = if params.deconv.calcres || params.deconv.calcpsf {
                ctx.image_pass(
                    &sources,
                    chans.clone(),
                    &weighters,
                    None,
                    None,
                    params.deconv.calcpsf,
                )?
            } else {
                BlockImages::empty(chans.len(), nst)
            };
            reused.apply(&mut first, &chans, nst);
            let mut block_beams = Vec::with_capacity(chans.len() * nst);
            for (i, k) in chans.clone().enumerate() {
                for s in 0..nst {
                    let b = fit_beam(
                        params,
                        &first.psf[i][s],
                        first.sumwt[i][s],
                        k,
                        s,
                        &mut note,
                        &beams,
                        nchan,
                    );
                    beams[k + nchan * s] = b;
                    block_beams.push(b);
                }
            }
            if params.niter == 0 && start_models.is_none() {
                // (With calcres=false and no model this simply re-writes the reused planes.)
                return Ok(PlaneOut::from_dirty(first));
            }
            let setup = block_setup(
                params,
                &chans,
                &pbs,
                &block_beams,
                start_models.as_deref(),
                &centre,
            )?;
            let planes =
                deconvolve_block(&ctx, &sources, chans.clone(), &weighters, first, setup, &it)?;
            Ok(planes.into_iter().map(PlaneOut::from_plane).collect())
        })?;
        for (idx, plane) in planes.into_iter().enumerate() {
            let (i, s) = (idx / nst, idx % nst);
            let k = chans.start + i;
            let pb = &pbs[i];
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
            if let Some(m) = plane.mask.as_ref().filter(|_| out.has("mask")) {
                out.put(
                    "mask",
                    k,
                    s,
                    m.mapv(|v| if v { 1.0f32 } else { 0.0 }).view(),
                )?;
            } else if out.has("mask") {
                out.put(
                    "mask",
                    k,
                    s,
                    Array2::<f32>::ones((params.ny, params.nx)).view(),
                )?;
            }
            if s == 0 {
                let b0 = beams[k];
                channels.push(ChannelSummary {
                    channel: k,
                    freq_hz: plan.freqs_hz[k],
                    sumwt: plane.sumwt,
                    beam_arcsec_deg: (b0.major_rad > 0.0).then(|| {
                        [
                            b0.major_rad * ARCSEC_PER_RAD,
                            b0.minor_rad * ARCSEC_PER_RAD,
                            b0.pa_rad.to_degrees(),
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
            if params.deconv.savemodel_column {
                if s == 0 {
                    saved_models.push(Vec::with_capacity(nst));
                }
                saved_models[k].push(plane.model.clone());
            }
            if params.deconv.restoringbeam == RestoringBeam::Common {
                deferred.push((k, s, plane.model, plane.residual));
            } else {
                let beam = match params.deconv.restoringbeam {
                    RestoringBeam::User(b) => b,
                    _ => beams[k + nchan * s],
                };
                let image = restore(&plane.model, &plane.residual, &beam, params)?;
                out.put("image", k, s, image.view())?;
                if out.has("image.pbcor") {
                    out.put(
                        "image.pbcor",
                        k,
                        s,
                        pbcor_plane(&image, pb, params.pblimit)?.view(),
                    )?;
                }
            }
        }
        progress.advance(chans.len());
        start = chans.end;
    }
    progress.finish();

    // 5. Restoring beams: per plane, a user beam, or the common beam (residuals convolved to it).
    let image_beams = match params.deconv.restoringbeam {
        RestoringBeam::Fitted => beams.clone(),
        RestoringBeam::User(b) => vec![b; nchan * nst],
        RestoringBeam::Common => {
            let valid: Vec<Beam> = beams
                .iter()
                .copied()
                .filter(|b| b.major_rad > 0.0)
                .collect();
            let common = common_beam(&valid)
                .map_err(|e| EngineError::Param(format!("restoringbeam='common': {e}")))?;
            for (k, s, model, residual) in deferred {
                let from = beams[k + nchan * s];
                let residual = if from.major_rad > 0.0 {
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
                    let pb = pb_image(
                        &pb_model,
                        params.nx,
                        params.ny,
                        params.cell_x_rad,
                        params.cell_y_rad,
                        plan.freqs_hz[k],
                    );
                    out.put(
                        "image.pbcor",
                        k,
                        s,
                        pbcor_plane(&image, &pb, params.pblimit)?.view(),
                    )?;
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
    let products = out.finish(&to_set(&beams), &to_set(&image_beams))?;
    if params.deconv.savemodel_column {
        let rows = pool.install(|| ctx.save_model_column(&sources, &saved_models))?;
        info!(rows, "wrote the model visibilities to MODEL_DATA");
    }

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
        total_iterations: channels.iter().map(|c| c.iterations).sum(),
        channels,
        warnings,
        wall_time_s: t0.elapsed().as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
        nthreads,
    };
    write_side_files(params, effective, &summary)?;
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

/// `.image` = model convolved with the restoring beam + residual (the residual itself when the
/// model is empty, so niter=0 gives image == residual exactly).
fn restore(
    model: &Array2<f32>,
    residual: &Array2<f32>,
    beam: &Beam,
    p: &ImagingParams,
) -> Result<Array2<f32>, EngineError> {
    if model.iter().all(|v| *v == 0.0) {
        return Ok(residual.clone());
    }
    restore_plane(
        model.view(),
        residual.view(),
        beam,
        p.cell_x_rad,
        p.cell_y_rad,
    )
    .map_err(|e| EngineError::Param(format!("restoration: {e}")))
}

/// `.image.pbcor`: image / pb inside the primary-beam limit, NaN (blanked) outside.
fn pbcor_plane(
    image: &Array2<f32>,
    pb: &Array2<f32>,
    pblimit: f64,
) -> Result<Array2<f32>, EngineError> {
    pbcor(image.view(), pb.view(), pblimit as f32)
        .map_err(|e| EngineError::Param(format!("pbcor: {e}")))
}
